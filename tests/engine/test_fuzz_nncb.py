"""A bounded libFuzzer run of the nncb reader (tests/c/fuzz_nncb.c) under
ASan+UBSan, from the committed corpus tests/c/nncb_corpus/ (a float32 and a
float64 model each with Adam, SGD with Nesterov and Dropout, L-BFGS with
the strong-Wolfe search, RMSprop with PReLU, and an uncompiled one). Any
crash, leak, sanitizer report or re-serialization that does not read back
fails the test. Needs clang with libFuzzer (CI installs clang and
libclang-rt-14-dev)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from helpers.measures import measured
from helpers.optional import need
from helpers.paths import REPO, TESTS

#: A slow extra (.ci/run's second step): building the engine with clang and
#: the sanitizers takes minutes.
pytestmark = pytest.mark.slow_extra

RUNS = 30_000
FLAGS = "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    clang = shutil.which("clang")
    if not clang:
        need("clang", "the nncb reader is fuzzed with libFuzzer")
    build = tmp_path_factory.mktemp("fuzz")
    make = subprocess.run(["make", "-C", str(REPO / "csrc"), f"BUILD={build}", f"CC={clang}",
                           f"CFLAGS={FLAGS} -fsanitize=fuzzer-no-link", f"LDFLAGS={FLAGS}",
                           "-j2", "static"], capture_output=True, text=True, timeout=900)
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    exe = build / "fuzz_nncb"
    link = subprocess.run([clang, *FLAGS.split(), "-fsanitize=fuzzer", f"-I{build / 'include'}",
                           str(TESTS / "c" / "fuzz_nncb.c"), str(build / "libnnc.a"), "-lm",
                           "-pthread", "-o", str(exe)], capture_output=True, text=True,
                          timeout=300)
    if link.returncode != 0 and "fuzzer" in link.stderr:
        need("libFuzzer (libclang-rt-14-dev)", link.stderr[-300:])
    assert link.returncode == 0, link.stderr[-3000:]
    return exe


def test_the_nncb_reader_survives_a_bounded_fuzzing_run(fuzzer, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(TESTS / "c" / "nncb_corpus", corpus)
    seeds = len(os.listdir(corpus))
    assert seeds >= 5
    run = subprocess.run([str(fuzzer), f"-runs={RUNS}", "-max_len=4096", "-seed=1",
                          f"-artifact_prefix={tmp_path}/", str(corpus)],
                         capture_output=True, text=True, timeout=900,
                         env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1"})
    assert run.returncode == 0, run.stderr[-5000:]
    done = [line for line in run.stderr.splitlines() if line.startswith("Done ")]
    assert done, run.stderr[-2000:]
    measured("libFuzzer on the nncb reader", f"{done[-1]} from {seeds} seeds")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("crash-", "leak-"))]
