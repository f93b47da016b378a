"""Build of nnc's C extension nnc._core: the engine (csrc/engine/) and its
CPython wrapper (csrc/python/).

The folders and flags come from csrc/sources.mk, which csrc/Makefile reads
too. No -march=native: the wheel must run on any x86-64. Instruction-set
specific kernels get their flags per file (SIMD_FLAGS) and are picked at
run time by csrc/engine/kernels/nnc_cpu.c.
"""

import glob
import os
import platform
import re
import shutil
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = "csrc"


def read_sources_mk() -> dict[str, str]:
    """The `NAME := value` lines of csrc/sources.mk, the one description of
    the engine's folders and flags that csrc/Makefile includes too."""
    values = {}
    with open(os.path.join(HERE, CSRC, "sources.mk")) as f:
        for line in f:
            match = re.match(r"^([A-Za-z0-9_.]+)\s*:=\s*(.*?)\s*$", line)
            if match:
                values[match.group(1)] = match.group(2)
    return values


def read_version() -> str:
    """MAJOR.MINOR.PATCH from the NNC_VERSION_* macros of csrc/include/nnc.h,
    the one place the version is defined (nnc_version() returns the same,
    and nnc.__version__ is that)."""
    with open(os.path.join(HERE, CSRC, "include", "nnc.h")) as f:
        header = f.read()
    parts = [re.search(rf"^#define NNC_VERSION_{part} (\d+)$", header, re.M)
             for part in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise RuntimeError("csrc/include/nnc.h lost its NNC_VERSION_* macros")
    return ".".join(match.group(1) for match in parts)


SOURCES_MK = read_sources_mk()
ENGINE_DIRS = [os.path.join(CSRC, d) for d in SOURCES_MK["ENGINE_DIRS"].split()]
INCLUDE_DIRS = [os.path.join(CSRC, SOURCES_MK["PUBLIC_INCLUDE_DIR"]), *ENGINE_DIRS]
#: Extra compiler flags for the SIMD kernel files, by file name (x86 only).
SIMD_FLAGS = {name[len("SIMD_FLAGS_"):]: value.split() for name, value in SOURCES_MK.items()
              if name.startswith("SIMD_FLAGS_")}
IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


class BuildExt(build_ext):
    """build_ext that adds SIMD_FLAGS to the files that need them."""

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            original = self.compiler._compile

            def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
                flags = SIMD_FLAGS.get(os.path.basename(src), []) if IS_X86 else []
                return original(obj, src, ext, cc_args, list(extra_postargs) + flags, pp_opts)

            self.compiler._compile = compile_one
        super().build_extensions()

    def run(self):
        super().run()
        if not self.inplace:
            self.copy_into_checkout()

    def copy_into_checkout(self):
        """Also put the built extension beside the sources, as --inplace
        does: `pip install . && python -m nnc` run in the checkout imports
        the checkout's nnc/ (the current directory comes first on sys.path),
        which must then have its _core too."""
        for ext in self.extensions:
            built = self.get_ext_fullpath(ext.name)
            package_dir = os.path.join(HERE, *ext.name.split(".")[:-1])
            target = os.path.join(package_dir, os.path.basename(built))
            try:
                # A new file renamed into place: a process that has the old
                # one loaded keeps its mapping intact.
                shutil.copyfile(built, target + ".tmp")
                os.replace(target + ".tmp", target)
            except OSError:
                pass  # a read-only checkout: the installed package still works


def extra_compile_args():
    if sys.platform == "win32":
        return ["/O2"]
    return ["-O3", *SOURCES_MK["ENGINE_CFLAGS"].split(), "-fvisibility=hidden"]


def extra_link_args():
    # The engine's thread pool (csrc/nnc_threads.c) uses POSIX threads.
    return [] if sys.platform == "win32" else ["-pthread"]


sources = sorted(glob.glob(os.path.join(CSRC, SOURCES_MK["WRAPPER_DIR"], "*.c")) +
                 [src for d in ENGINE_DIRS for src in glob.glob(os.path.join(d, "*.c"))])

setup(
    version=read_version(),
    ext_modules=[
        Extension(
            "nnc._core",
            sources=sources,
            include_dirs=[*INCLUDE_DIRS, numpy.get_include()],
            extra_compile_args=extra_compile_args(),
            extra_link_args=extra_link_args(),
            libraries=[] if sys.platform == "win32" else ["m"],
        )
    ],
    cmdclass={"build_ext": BuildExt},
)
