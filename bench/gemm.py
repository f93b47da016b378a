"""nnc's own matrix products, one at a time, against NumPy's matmul on the
same shapes and the core's FMA peak: what the GEMM kernels reach outside
a training step (bench/README.md, "GEMM products").

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/gemm.py
    python bench/gemm.py --dtype float64 --sets avx2 --seconds 0.5
    python bench/gemm.py --threads 2             # nnc's thread split, NumPy on 2 threads
    python bench/gemm.py --quick                  # a smoke test

The products are those of one training step of compare.py's scenarios
(b) 784-512-512-10, batch 256 and (a) 784-128-10, batch 64, and of the
small-data case 2-64-64-2, batch 32: the forward products X W, the weight
gradients X^T delta (tA) and the input gradients delta W^T (tB), plus one
register tile whose operands stay in L1 (the micro-kernel alone). The
engine's product (nnc__gemm, as training calls it) runs through a small C
driver (gemm_products.c, built against csrc/Makefile's static library) on
--threads threads, best of 7 rounds; NumPy on as many (threadpoolctl),
with transposed operands passed as views, as BLAS takes them. Printed:
GFLOP/s, the fraction of the FMA peak of the cores used (fma_peak.c) and
nnc's speed over NumPy's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)  # the checkout's nnc when run from it

import c_driver  # noqa: E402
from fma_peak import fma_peak  # noqa: E402

# (label, M, N, K, trans_a, trans_b)
PRODUCTS = [
    ("(b) X W1", 256, 512, 784, 0, 0),
    ("(b) A1 W2", 256, 512, 512, 0, 0),
    ("(b) X^T d1", 784, 512, 256, 1, 0),
    ("(b) A1^T d2", 512, 512, 256, 1, 0),
    ("(b) d2 W2^T", 256, 512, 512, 0, 1),
    ("(a) X W1", 64, 128, 784, 0, 0),
    ("(a) X^T d1", 784, 128, 64, 1, 0),
    ("small A1 W2", 32, 64, 64, 0, 0),
    ("small A1^T d2", 64, 64, 32, 1, 0),
    ("small d2 W2^T", 32, 64, 64, 0, 1),
    ("tile in L1", 6, 64, 128, 0, 0),
]
QUICK = [("(b) X W1 /8", 32, 64, 98, 0, 0), ("(b) X^T d1 /8", 98, 64, 32, 1, 0),
         ("small d2 W2^T", 32, 64, 64, 0, 1)]


def nnc_seconds(exe, kernel_set, threads, dtype, seconds, products) -> dict:
    args = [f"{m},{n},{k},{ta},{tb}" for _, m, n, k, ta, tb in products]
    r = subprocess.run([exe, kernel_set, str(threads), dtype, str(seconds), *args],
                       capture_output=True, text=True, check=True)
    return dict(line.split() for line in r.stdout.splitlines())


def numpy_seconds(dtype, seconds, m, n, k, ta, tb) -> float:
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if ta else (m, k)).astype(dtype) - 0.5
    b = rng.random((n, k) if tb else (k, n)).astype(dtype) - 0.5
    a, b = (a.T if ta else a), (b.T if tb else b)
    out = np.empty((m, n), dtype)
    np.matmul(a, b, out=out)
    t0 = time.perf_counter()
    np.matmul(a, b, out=out)
    once = time.perf_counter() - t0
    reps = int(seconds / 7 / max(once, 1e-9)) + 1
    best = float("inf")
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--sets", default=None,
                        help="kernel sets, comma-separated (default: the SIMD sets this CPU runs)")
    parser.add_argument("--seconds", type=float, default=0.7, help="timing budget per product")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from nnc import _core

    products = QUICK if args.quick else PRODUCTS
    seconds = 0.02 if args.quick else args.seconds
    sets = (args.sets.split(",") if args.sets else  # the set in use first
            sorted((s for s in _core.supported_kernel_archs() if s != "ref"),
                   key=lambda s: s != _core.get_kernel_arch()) or ["ref"])
    exe = c_driver.build("gemm_products.c")
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(args.threads)  # noqa: F841  (held until the end)
        blas = f"NumPy on {args.threads} thread(s) (threadpoolctl)"
    except ImportError:
        blas = "NumPy on its default threads (threadpoolctl not installed)"
    peak = fma_peak()
    peak_gflops = peak and args.threads * peak["fp32_gflops" if args.dtype == "float32"
                                               else "fp64_gflops"]
    print(f"nnc GEMM products, {args.dtype}, {args.threads} thread(s); {blas}; FMA peak of the "
          "cores used "
          + (f"{peak_gflops:.1f} GFLOP/s ({peak['isa']}, fma_peak.c)" if peak else "not measured"))
    results = {s: nnc_seconds(exe, s, args.threads, args.dtype, seconds, products) for s in sets}
    print(f"  {'product':16s} {'M x N x K':>16s} " + " ".join(f"{s:>15s}" for s in sets)
          + f" {'numpy':>15s}  nnc/numpy")
    for label, m, n, k, ta, tb in products:
        flop = 2.0 * m * n * k
        cells, first = [], None
        for s in sets:
            g = flop / float(results[s][f"{m},{n},{k},{ta},{tb}"]) / 1e9
            first = first or g
            cells.append(f"{g:6.1f}" + (f" ({g / peak_gflops:4.0%})" if peak else "       "))
        g_np = flop / numpy_seconds(args.dtype, seconds, m, n, k, ta, tb) / 1e9
        cells.append(f"{g_np:6.1f}" + (f" ({g_np / peak_gflops:4.0%})" if peak else "       "))
        print(f"  {label:16s} {f'{m}x{n}x{k}':>16s} " + " ".join(f"{c:>15s}" for c in cells)
              + f"  {first / g_np:5.2f}")
    print("  GFLOP/s (fraction of the FMA peak); nnc/numpy compares the first kernel set")


if __name__ == "__main__":
    main()
