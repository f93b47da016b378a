"""The measured FMA peak of one core (fma_peak.c), for the benchmarks to
give every figure as a fraction of the physical limit."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _probe():
    """Build fma_peak.c once per process (its vector targets are set per
    function inside the file, so no -march flag); None where no compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="nnc-bench-"), "fma_peak")
    build = subprocess.run([cc, "-O2", os.path.join(HERE, "fma_peak.c"), "-o", out],
                           capture_output=True)
    return out if build.returncode == 0 else None


@functools.cache
def fma_peak(seconds: float = 0.3):
    """{"isa", "fp32_gflops", "fp64_gflops", "ghz", "fp32_flop_per_cycle",
    "fp64_flop_per_cycle"} for one core, or None when it cannot be measured
    here (no compiler, or a CPU without AVX2+FMA)."""
    probe = _probe()
    if probe is None:
        return None
    r = subprocess.run([probe, str(seconds)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None
    fields = dict(line.split(None, 1) for line in r.stdout.strip().splitlines())
    peak = {"isa": fields["isa"]}
    for key in ("fp32_gflops", "fp64_gflops", "ghz"):
        peak[key] = float(fields[key])
    for bits in ("32", "64"):
        peak[f"fp{bits}_flop_per_cycle"] = peak[f"fp{bits}_gflops"] / peak["ghz"]
    return peak
