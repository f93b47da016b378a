"""Core-to-core cache-line latency, for the benchmarks to report next to
their thread-scaling figures (see core_to_core.c for what it tells)."""

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _probe():
    """Build core_to_core.c once per process; None where that cannot work."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="nnc-bench-"), "core_to_core")
    build = subprocess.run([cc, "-O2", "-pthread", os.path.join(HERE, "core_to_core.c"),
                            "-o", out], capture_output=True)
    return out if build.returncode == 0 else None


def core_to_core_ns(runs=3):
    """Median one-way latency in ns between the first two allowed CPUs, or
    None when it cannot be measured here."""
    probe = _probe()
    if probe is None:
        return None
    values = []
    for _ in range(runs):
        r = subprocess.run([probe], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return None
        values.append(float(r.stdout))
    return statistics.median(values)
