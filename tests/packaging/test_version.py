"""The version is defined once, by the NNC_VERSION_* macros of nnc.h, and
everything reports that one: the C library (nnc_version()), the extension
(nnc._core.version()), nnc.__version__ and setup.py's metadata."""

import ctypes
import re
import subprocess
import sys

from helpers.paths import REPO

import nnc

HEADER = REPO / "csrc" / "include" / "nnc.h"


def header_version() -> str:
    text = HEADER.read_text()
    return ".".join(re.search(rf"^#define NNC_VERSION_{part} (\d+)$", text, re.M)[1]
                    for part in ("MAJOR", "MINOR", "PATCH"))


def test_python_and_extension_report_the_header_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", header_version())
    assert nnc.__version__ == nnc._core.version() == header_version()


def test_the_c_library_reports_the_header_version(c_build):
    library = c_build("release").dir / "libnnc.so"
    nnc_version = ctypes.CDLL(str(library)).nnc_version
    nnc_version.restype = ctypes.c_char_p
    assert nnc_version().decode() == header_version()


def test_setup_py_reads_the_same_version():
    out = subprocess.run([sys.executable, "setup.py", "--version"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == header_version()


def test_the_version_is_written_nowhere_else():
    # No other file of the package or the build spells a version number.
    for path in ("pyproject.toml", "setup.py", "nnc/_version.py", "nnc/__init__.py"):
        text = (REPO / path).read_text()
        assert not re.search(r"""(version\s*=\s*["']\d+\.\d+)|__version__\s*=\s*["']""", text), \
            path
