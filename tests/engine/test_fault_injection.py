"""Allocation, I/O and thread failure injection (tests/c/fault_injection.c):
every call of malloc, calloc, realloc, fopen, fdopen, fread, open, write,
fsync, rename and pthread_create the engine makes along create -> compile
-> train on 2 threads -> save -> load -> predict fails in turn. Each run
returns a status or, when the engine can do without (a thread that did not
start), the exact reference results; nothing crashes, leaks or changes a
result. Run on the release build and under ASan+UBSan+LSan."""

from __future__ import annotations

import re
import subprocess

import pytest
from helpers.measures import measured
from helpers.paths import TESTS

WRAPPED = ("malloc", "calloc", "realloc", "free", "fopen", "fdopen", "fread", "open", "write",
           "fsync", "rename", "pthread_create")
LINK = tuple(f"-Wl,--wrap={name}" for name in WRAPPED)


@pytest.mark.parametrize("flavour", ["release", "sanitize"])
def test_every_injected_failure_is_a_status_never_a_crash_leak_or_changed_result(
        c_build, flavour, tmp_path):
    exe = c_build(flavour).program(TESTS / "c" / "fault_injection.c", link_flags=LINK)
    run = subprocess.run([str(exe), str(tmp_path)], capture_output=True, text=True,
                         timeout=600, env={"ASAN_OPTIONS": "detect_leaks=1",
                                           "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "PASSED: 0 failure(s)" in run.stdout
    summary = re.search(r"(\d+) injected failures \((\d+) returned a status, (\d+) gave "
                        r"the reference's exact results\)", run.stdout)
    assert summary, run.stdout
    measured(f"fault injection ({flavour})", summary[0])
    assert int(summary[1]) > 20 and int(summary[2]) > 0
