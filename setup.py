"""Build of nnc's C extension nnc._core (engine sources in csrc/).

No -march=native: the wheel must run on any x86-64. Instruction-set
specific kernels get their flags per file (see SIMD_FLAGS) and are picked
at run time by csrc/nnc_cpu.c.
"""

import glob
import os
import shutil
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Extra compiler flags for the files that hold SIMD kernels, by file name.
SIMD_FLAGS = {
    "nnc_kernels_avx2.c": ["-mavx2", "-mfma"],
    "nnc_kernels_avx512.c": ["-mavx512f", "-mavx512dq", "-mavx2", "-mfma"],
}


class BuildExt(build_ext):
    """build_ext that adds SIMD_FLAGS to the files that need them."""

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            original = self.compiler._compile

            def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
                flags = SIMD_FLAGS.get(os.path.basename(src), [])
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
        here = os.path.dirname(os.path.abspath(__file__))
        for ext in self.extensions:
            built = self.get_ext_fullpath(ext.name)
            package_dir = os.path.join(here, *ext.name.split(".")[:-1])
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
    # -fno-math-errno lets sqrt/exp vectorise without -ffast-math's licence.
    return ["-O3", "-std=c11", "-fno-math-errno", "-Wall", "-Wextra", "-fvisibility=hidden",
            "-pthread"]


def extra_link_args():
    # The engine's thread pool (csrc/nnc_threads.c) uses POSIX threads.
    return [] if sys.platform == "win32" else ["-pthread"]


sources = sorted(glob.glob(os.path.join("csrc", "*.c")))

setup(
    ext_modules=[
        Extension(
            "nnc._core",
            sources=sources,
            include_dirs=["csrc", numpy.get_include()],
            extra_compile_args=extra_compile_args(),
            extra_link_args=extra_link_args(),
            libraries=[] if sys.platform == "win32" else ["m"],
        )
    ],
    cmdclass={"build_ext": BuildExt},
)
