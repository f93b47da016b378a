"""The plain C test programs of the engine's public API, tests/c/test_engine.c
and tests/c/test_trace.c, built against the C library (no Python, no
NumPy) and run."""

import subprocess

from helpers.paths import TESTS


def test_c_engine_program_passes(c_build):
    exe = c_build("release").program(TESTS / "c" / "test_engine.c")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED: 0 failure(s)" in run.stdout
    assert run.stdout.count("ok   ") >= 30  # every check printed its line


def test_c_trace_program_passes(c_build):
    """tests/c/test_trace.c: nnc_trace used from plain C (statuses, NULL
    buffers, chunking, RNG and parameters untouched)."""
    # The debug build: this checks behaviour, not speed.
    exe = c_build("debug").program(TESTS / "c" / "test_trace.c")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED: 0 failure(s)" in run.stdout and run.stdout.count("ok   ") == 52
