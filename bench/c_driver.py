"""Building the bench's C drivers (gemm_products.c, elementwise_ops.c):
each is linked with the static library of csrc/Makefile, which keeps the
engine's internal functions (nnc__gemm, nnc__map) visible, in a temporary
directory. Exits with a message where there is no C compiler or make."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(os.path.dirname(HERE), "csrc")


def build(source: str) -> str:
    """bench/`source` built against the engine; returns the executable."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("make"):
        sys.exit(f"{source} needs a C compiler and make")
    out = tempfile.mkdtemp(prefix="nnc-bench-")
    subprocess.run(["make", "-C", CSRC, "-s", f"BUILD={out}", "static"], check=True)
    flags = subprocess.run(["make", "-C", CSRC, "-s", "print-cppflags"], check=True,
                           capture_output=True, text=True).stdout.split()
    exe = os.path.join(out, os.path.splitext(source)[0])
    subprocess.run([cc, "-O2", *flags, os.path.join(HERE, source),
                    os.path.join(out, "libnnc.a"), "-lm", "-lpthread", "-o", exe], check=True)
    return exe
