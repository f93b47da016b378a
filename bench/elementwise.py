"""nnc's element-wise kernels (activations, their derivatives, exp) one at
a time on every kernel set, against NumPy's and PyTorch's functions on the
same values: what an activation costs per element outside a training
step (bench/README.md, "Element-wise kernels").

    python bench/elementwise.py
    python bench/elementwise.py --dtype float64 --n 65536
    python bench/elementwise.py --quick                  # a smoke test

The engine's kernel (nnc__map, as a layer calls it) runs through a small C
driver (elementwise_ops.c, built against csrc/Makefile's static library)
on one thread, best of 7 rounds, on --n values spread over [-4, 4) (both
branches of tanh and sigmoid); the default 2048 is one hidden layer of the
small-data case (2-64-64-2, batch 32). NumPy (np.tanh, np.exp) and PyTorch
(torch.tanh, torch.sigmoid, torch.exp; 1 thread) write into a preallocated
output, best of 7 rounds too. Printed: nanoseconds per element, CPU cycles
per element at the clock fma_peak.c measures, and nnc's speed over the
fastest peer that has the function.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's nnc when run from it

import c_driver  # noqa: E402
from fma_peak import fma_peak  # noqa: E402

OPS = ["tanh", "sigmoid", "d_tanh", "d_sigmoid", "exp", "gelu", "swish", "softplus", "elu"]
QUICK_OPS = ["tanh", "sigmoid", "d_tanh"]


def nnc_seconds(exe, kernel_set, dtype, n, seconds, ops) -> dict:
    r = subprocess.run([exe, kernel_set, dtype, str(n), str(seconds), *ops],
                       capture_output=True, text=True, check=True)
    return {op: float(t) for op, t in (line.split() for line in r.stdout.splitlines())}


def best_seconds(fn, seconds) -> float:
    fn()
    t0 = time.perf_counter()
    fn()
    reps = int(seconds / 7 / max(time.perf_counter() - t0, 1e-9)) + 1
    best = float("inf")
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def peer_functions(dtype, n):
    """{peer: {op: a call writing into a preallocated output}} for the
    peers installed here, on the values elementwise_ops.c uses."""
    i = np.arange(n, dtype=np.uint64)
    x = (-4.0 + 8.0 * ((i * 2654435761) % 4096) / 4096.0).astype(dtype)
    out = np.empty_like(x)
    peers = {"numpy": {"tanh": lambda: np.tanh(x, out=out), "exp": lambda: np.exp(x, out=out)}}
    try:
        import torch
    except ImportError:
        return peers
    torch.set_num_threads(1)
    tx, tout = torch.from_numpy(x), torch.from_numpy(out)
    peers["torch"] = {"tanh": lambda: torch.tanh(tx, out=tout),
                      "sigmoid": lambda: torch.sigmoid(tx, out=tout),
                      "exp": lambda: torch.exp(tx, out=tout)}
    return peers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--n", type=int, default=2048, help="values per call")
    parser.add_argument("--sets", default=None,
                        help="kernel sets, comma-separated (default: every set this CPU runs)")
    parser.add_argument("--seconds", type=float, default=0.5, help="timing budget per op")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from nnc import _core

    ops = QUICK_OPS if args.quick else OPS
    seconds = 0.02 if args.quick else args.seconds
    sets = (args.sets.split(",") if args.sets else  # the set in use first, ref last
            sorted(_core.supported_kernel_archs(),
                   key=lambda s: (s != _core.get_kernel_arch(), s == "ref")))
    exe = c_driver.build("elementwise_ops.c")
    peak = fma_peak()
    ghz = peak["ghz"] if peak else None
    print(f"nnc element-wise kernels, {args.dtype}, {args.n} values per call, 1 thread; clock "
          + (f"~{ghz:.2f} GHz (fma_peak.c)" if ghz else "not measured"))
    results = {s: nnc_seconds(exe, s, args.dtype, args.n, seconds, ops) for s in sets}
    peers = peer_functions(args.dtype, args.n)
    names = [*sets, *peers]
    print(f"  {'op':10s} " + " ".join(f"{s:>16s}" for s in names) + "  nnc/best peer")
    for op in ops:
        times = {s: results[s][op] for s in sets}
        times.update({p: best_seconds(fns[op], seconds) for p, fns in peers.items() if op in fns})
        cells = []
        for s in names:
            if s not in times:
                cells.append(f"{'-':>16s}")
                continue
            ns = 1e9 * times[s] / args.n
            cells.append(f"{ns:7.3f}" + (f" ({ns * ghz:6.2f})" if ghz else " " * 9))
        peer_times = [times[p] for p in peers if p in times]
        ratio = f"{min(peer_times) / times[sets[0]]:13.2f}" if peer_times else f"{'-':>13s}"
        print(f"  {op:10s} " + " ".join(cells) + "  " + ratio)
    print("  ns per element (cycles per element); nnc/best peer compares the first kernel set")


if __name__ == "__main__":
    main()
