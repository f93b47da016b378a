"""The plain-C test programs (tests/c/*.c) built with AddressSanitizer and
UndefinedBehaviorSanitizer, and run again under valgrind memcheck: zero
errors and zero leaks.

Each program must print its own "PASSED: 0 failure(s)" line, so a run that
the tool stops early cannot pass. A tiny program that leaks on purpose
shows that each tool really reports leaks here (the test can fail).

valgrind is required in CI (CI=true): there a missing valgrind fails the
test; elsewhere it is skipped with the reason. Under valgrind the kernel
test runs with NNC_TEST_QUICK=1 (fewer, smaller cases) to stay within the
suite's time budget; the sanitizer build runs the full program. Both
builds use -O0: the AVX-512 kernels take 4x longer to compile at -O1 and
the tools check the same code.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.paths import REPO
from helpers.measures import measured

ROOT = REPO
ENGINE_SOURCES = sorted((ROOT / "csrc" / "engine").rglob("*.c"))
C_TESTS = sorted((ROOT / "tests" / "c").glob("test_*.c"))  # self-checking programs
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all"]
COMMON = ["-std=c11", "-O0", "-g", "-Wall", "-Wextra", "-Werror", "-pthread",
          *(f"-I{ROOT / 'csrc' / d}" for d in ("include", "engine", "engine/optim", "engine/kernels"))]
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


def _need(tool: str, why: str) -> None:
    """Fail in CI, skip elsewhere, when a required tool is missing."""
    message = f"{tool} is not available: {why}"
    if IN_CI:
        pytest.fail(message + " (CI must install it)")
    pytest.skip(message)


def _compiler() -> str:
    for cc in ("cc", "gcc", "clang"):
        if shutil.which(cc):
            return cc
    pytest.fail("no C compiler found (cc, gcc or clang): the engine's C tests need one")


#: Programs of tests/c that take arguments (driven below with hostile input).
C_TOOLS = [ROOT / "tests" / "c" / "nncb_tool.c"]


def _build(out_dir: pathlib.Path, flags: list[str]) -> dict[str, pathlib.Path]:
    """Compile the engine once (in parallel), then link every C test program."""
    cc = _compiler()
    objects = [out_dir / (src.stem + ".o") for src in ENGINE_SOURCES]

    def compile_one(pair):
        src, obj = pair
        return subprocess.run([cc, *COMMON, *flags, "-c", str(src), "-o", str(obj)],
                              capture_output=True, text=True)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(compile_one, zip(ENGINE_SOURCES, objects)))
    for src, res in zip(ENGINE_SOURCES, results):
        if res.returncode != 0:
            if "sanitize" in res.stderr or "asan" in res.stderr:
                _need("the sanitizer runtime", res.stderr[-500:])
            pytest.fail(f"compiling {src.name} failed:\n{res.stderr}")
    programs = {}
    for test in C_TESTS + [t for t in C_TOOLS if t.exists()]:
        exe = out_dir / test.stem
        link = subprocess.run([cc, *COMMON, *flags, str(test), *map(str, objects), "-o", str(exe),
                               "-lm"], capture_output=True, text=True)
        if link.returncode != 0:
            if "asan" in link.stderr or "ubsan" in link.stderr:
                _need("the sanitizer runtime (libasan/libubsan)", link.stderr[-500:])
            pytest.fail(f"linking {test.name} failed:\n{link.stderr}")
        programs[test.stem] = exe
    return programs


@pytest.fixture(scope="module")
def sanitized_programs(tmp_path_factory):
    if sys.platform == "win32":
        pytest.skip("the sanitizer build uses a Unix C compiler")
    return _build(tmp_path_factory.mktemp("asan"), SANITIZE)


@pytest.fixture(scope="module")
def plain_programs(tmp_path_factory):
    if sys.platform == "win32":
        pytest.skip("valgrind runs on Unix only")
    if shutil.which("valgrind") is None:
        _need("valgrind", "install it (apt-get install valgrind) to run the memcheck tests")
    return _build(tmp_path_factory.mktemp("memcheck"), [])


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
    """The tools as configured above catch a deliberate leak: a clean run
    above means something."""
    if sys.platform == "win32":
        pytest.skip("the sanitizer build uses a Unix C compiler")
    src = tmp_path / "leaky.c"
    src.write_text(LEAKY_PROGRAM)
    exe = tmp_path / "leaky"
    build = subprocess.run([_compiler(), "-O1", "-g", *SANITIZE, str(src), "-o", str(exe)],
                           capture_output=True, text=True)
    if build.returncode != 0:
        _need("the sanitizer runtime (libasan/libubsan)", build.stderr[-500:])
    run = _run([str(exe)], SAN_ENV)
    assert run.returncode != 0 and "LeakSanitizer: detected memory leaks" in run.stderr
    if shutil.which("valgrind") is None:
        _need("valgrind", "install it (apt-get install valgrind) to run the memcheck tests")
    plain = tmp_path / "leaky_plain"
    subprocess.run([_compiler(), "-O0", "-g", str(src), "-o", str(plain)], check=True)
    run = _run(VALGRIND + [str(plain)], {})
    assert run.returncode == 1 and "definitely lost" in run.stderr


def _nncb_inputs(directory: pathlib.Path, n_random: int) -> list[pathlib.Path]:
    """A good nncb model file, the hand-made hostile ones of test_c_library
    and seeded random corruptions (CRC resealed so deeper checks run)."""
    import numpy as np
    from helpers.nncb_files import doctored_files, python_model, reseal

    import nnc
    from nnc import nncb

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
    """CI (CI=true) must not pass by skipping the memory checks."""
    import test_c_sanitizers as me

    monkeypatch.setattr(me, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        me._need("valgrind", "not on PATH")
    monkeypatch.setattr(me, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="valgrind is not available"):
        me._need("valgrind", "not on PATH")
