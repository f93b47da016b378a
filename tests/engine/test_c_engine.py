"""Build the plain C test program tests/c/test_engine.c against csrc/
(no Python, no NumPy) with the system C compiler, and run it."""

import pathlib
import shutil
import subprocess
import sys

import pytest
from helpers.paths import REPO

ROOT = REPO
ENGINE_SOURCES = sorted((ROOT / "csrc" / "engine").rglob("*.c"))


def compiler() -> str:
    for cc in ("cc", "gcc", "clang"):
        if shutil.which(cc):
            return cc
    pytest.fail("no C compiler found (cc, gcc or clang): the engine's C tests need one")


@pytest.fixture(scope="module")
def engine_test_binary(tmp_path_factory):
    if sys.platform == "win32":
        pytest.skip("the C test program is built with a Unix C compiler")
    exe = tmp_path_factory.mktemp("ctest") / "test_engine"
    cmd = [compiler(), "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", *(f"-I{ROOT / 'csrc' / d}" for d in ("include", "engine", "engine/optim", "engine/kernels")),
           str(ROOT / "tests" / "c" / "test_engine.c"), *map(str, ENGINE_SOURCES),
           "-o", str(exe), "-lm", "-pthread"]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return exe


def test_c_engine_program_passes(engine_test_binary):
    run = subprocess.run([str(engine_test_binary)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED: 0 failure(s)" in run.stdout
    assert run.stdout.count("ok   ") >= 30  # every check printed its line
