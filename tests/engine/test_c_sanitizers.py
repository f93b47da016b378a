"""The plain-C test programs (tests/c/*.c) built with AddressSanitizer and
UndefinedBehaviorSanitizer, and run again under valgrind memcheck: zero
errors and zero leaks.

Each program must print its own "PASSED: 0 failure(s)" line, so a run that
the tool stops early cannot pass. A tiny program that leaks on purpose
shows that each tool really reports leaks here (the test can fail).

valgrind is required in CI (CI=true): there a missing valgrind fails the
test; elsewhere it is skipped with the reason. Under valgrind the kernel
test runs with NNC_TEST_QUICK=1 (fewer, smaller cases) to stay within the
suite's time budget; the sanitizer build runs the full program. The
builds are the "sanitize" and "debug" flavours of helpers/cbuild.py (the
conftest fixture c_build), both -O0: the AVX-512 kernels take 4x longer to
compile at -O1 and the tools check the same code.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from helpers import cbuild
from helpers.measures import measured
from helpers.optional import need, require
from helpers.paths import TESTS

C_TESTS = sorted((TESTS / "c").glob("test_*.c"))  # self-checking programs
#: Programs of tests/c that take arguments (driven below with hostile input).
C_TOOLS = [TESTS / "c" / "nncb_tool.c"]

SAN_ENV = {"ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=23:"
                            "allocator_may_return_null=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=24",
           "LSAN_OPTIONS": "exitcode=25"}
VALGRIND = ["valgrind", "-q", "--error-exitcode=1", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible", "--track-origins=no"]

LEAKY_PROGRAM = """
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    char *volatile p = malloc(77);
    p[0] = 1;
    printf("%d\\n", p[0]);
    p = NULL;
    return 0;
}
"""


def _programs(engine: cbuild.Engine) -> dict[str, pathlib.Path]:
    """Every C test program (and tool) of tests/c linked against `engine`."""
    return {src.stem: engine.program(src, internal_headers=True)
            for src in C_TESTS + [t for t in C_TOOLS if t.exists()]}


@pytest.fixture(scope="module")
def sanitized_programs(c_build):
    return _programs(c_build("sanitize"))


def _need_valgrind() -> None:
    if sys.platform == "win32":
        pytest.skip("valgrind runs on Unix only")
    if shutil.which("valgrind") is None:
        need("valgrind", "install it (apt-get install valgrind) to run the memcheck tests")


@pytest.fixture(scope="module")
def plain_programs(c_build):
    _need_valgrind()
    return _programs(c_build("debug"))


def _run(cmd, env_extra, timeout=300):
    env = {**os.environ, **env_extra}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _assert_clean(run, name: str, tool: str) -> None:
    report = f"{tool} run of {name}:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    assert run.returncode == 0, report
    assert "PASSED: 0 failure(s)" in run.stdout, report
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "definitely lost", "indirectly lost", "possibly lost", "Invalid read",
                   "Invalid write", "uninitialised"):
        assert marker not in run.stderr, report


@pytest.mark.parametrize("program", [t.stem for t in C_TESTS])
def test_c_program_is_clean_under_address_and_ub_sanitizers(sanitized_programs, program):
    run = _run([str(sanitized_programs[program])], SAN_ENV)
    _assert_clean(run, program, "ASan+UBSan")
    measured(f"ASan+UBSan {program}", f"0 errors, 0 leaks, {run.stdout.count('ok   ')} checks")


@pytest.mark.parametrize("program", [t.stem for t in C_TESTS])
def test_c_program_is_clean_under_valgrind_memcheck(plain_programs, program):
    run = _run(VALGRIND + [str(plain_programs[program])], {"NNC_TEST_QUICK": "1"}, timeout=600)
    _assert_clean(run, program, "valgrind memcheck")
    measured(f"valgrind memcheck {program} (NNC_TEST_QUICK=1)",
             f"0 errors, 0 leaks, {run.stdout.count('ok   ')} checks")


def test_the_leak_checkers_do_report_a_leak(tmp_path):
    """The tools as configured above (the "sanitize" and "debug" flavours of
    helpers/cbuild.py) catch a deliberate leak: a clean run above means
    something."""
    src = tmp_path / "leaky.c"
    src.write_text(LEAKY_PROGRAM)
    exe = cbuild.link(cbuild.FLAVOURS["sanitize"], src, tmp_path / "leaky")
    run = _run([str(exe)], SAN_ENV)
    assert run.returncode != 0 and "LeakSanitizer: detected memory leaks" in run.stderr
    _need_valgrind()
    plain = cbuild.link(cbuild.FLAVOURS["debug"], src, tmp_path / "leaky_plain")
    run = _run(VALGRIND + [str(plain)], {})
    assert run.returncode == 1 and "definitely lost" in run.stderr


def _nncb_inputs(directory: pathlib.Path, n_random: int) -> list[pathlib.Path]:
    """A good nncb model file, the hand-made hostile ones of test_c_library
    (helpers.nncb_files) and seeded random corruptions (CRC resealed so deeper checks run)."""
    import numpy as np
    from helpers import nncb_oracle as nncb
    from helpers.nncb_files import doctored_files, python_model, reseal

    import nnc

    model = python_model("float32", "adam")
    model.fit(np.zeros((4, 5)), np.eye(3)[[0, 1, 2, 0]], epochs=1, verbose=0)
    good = nncb.to_bytes(model)
    files = {"good": good, **doctored_files(good)}
    rng = np.random.default_rng(6)
    for trial in range(n_random):
        data = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, len(data) - 4))] = int(rng.integers(0, 256))
        files[f"random{trial}"] = reseal(bytes(data))
    paths = []
    for i, data in enumerate(files.values()):
        path = directory / f"f{i}.nncb"
        path.write_bytes(data)
        paths.append(path)
    assert nnc.load_binary(paths[0]).count_params() == model.count_params()
    return paths


def _check_tool_runs(runs, tool: str) -> None:
    for path, run in runs:
        report = f"{tool} on {path.name}: rc={run.returncode}\n{run.stdout}\n{run.stderr[-4000:]}"
        assert run.returncode in (0, 2), report  # 0 read, 2 refused with a status
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "definitely lost", "indirectly lost", "possibly lost", "Invalid read",
                       "Invalid write", "uninitialised"):
            assert marker not in run.stderr, report


def test_nncb_reader_on_hostile_files_under_sanitizers(sanitized_programs, tmp_path):
    """The C model-file reader (nncb_tool check) on damaged and hostile
    files: it reads or refuses each with a status, with no memory error,
    undefined behaviour or leak."""
    if "nncb_tool" not in sanitized_programs:
        pytest.skip("no nncb reader in this tree")
    paths = _nncb_inputs(tmp_path, 60)
    runs = [(p, _run([str(sanitized_programs["nncb_tool"]), "check", str(p)], SAN_ENV))
            for p in paths]
    _check_tool_runs(runs, "ASan+UBSan nncb_tool")
    refused = sum(run.returncode == 2 for _, run in runs)
    bad = len(paths) - 1
    assert runs[0][1].returncode == 0 and refused >= 0.8 * bad, refused
    measured("ASan+UBSan nncb_tool check on hostile files",
             f"0 errors, 0 leaks; {len(paths)} files, {refused} of {bad} damaged refused")


def test_nncb_reader_on_hostile_files_under_valgrind(plain_programs, tmp_path):
    if "nncb_tool" not in plain_programs:
        pytest.skip("no nncb reader in this tree")
    paths = _nncb_inputs(tmp_path, 0)
    paths = paths[:1] + paths[1::4]  # valgrind is slow to start: a sample
    runs = [(p, _run(VALGRIND + [str(plain_programs["nncb_tool"]), "check", str(p)], {}))
            for p in paths]
    _check_tool_runs(runs, "valgrind nncb_tool")
    measured("valgrind memcheck nncb_tool check on hostile files",
             f"0 errors, 0 leaks; {len(paths)} files")


def test_a_missing_tool_fails_in_ci_and_skips_elsewhere(monkeypatch):
    """CI (CI=true) must not pass by skipping the memory checks, nor any
    check that needs an optional Python package (helpers.optional)."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        need("valgrind", "not on PATH")
    with pytest.raises(pytest.fail.Exception, match="CI installs every optional dependency"):
        require("nnc_test_no_such_module")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="valgrind is not available"):
        need("valgrind", "not on PATH")
    with pytest.raises(pytest.skip.Exception, match="nnc_test_no_such_module"):
        require("nnc_test_no_such_module")
