"""The cost of a fit call, for two nnc checkouts side by side.

A change to fit's Python moves ``fit(epochs=1)`` called many times by a
few percent, below the spread of one run on a shared machine. Here the two
checkouts take turns, each round in a fresh process pinned to one CPU, and
each round gives one ratio: the median of ``--repeats`` x (``--calls``
calls of ``model.fit(x, y, epochs=1, batch_size=32, verbose=0)``), per
call, over the median of as many ``fit(epochs=--calls)``, per epoch
(issue 18's case: 2-64-64-2 tanh, 200 rows, integer labels, Adam, float32,
1 thread). Printed per checkout: the per-call and per-epoch times of every
round, and the ratios with their median.

Run: python bench/fit_call_ab.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 6]
     (each checkout with its extension built in place:
      python setup.py build_ext --inplace)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

# One round in the child: argv = checkout, calls, repeats, cpu.
ROUND = r"""
import os, sys, time
checkout, calls, repeats, cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
sys.path.insert(0, checkout)
import numpy as np
import nnc
nnc.set_num_threads(1)
x = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32)
y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
model = nnc.Sequential([nnc.Input(2), nnc.Dense(64, activation="tanh"),
                        nnc.Dense(64, activation="tanh"), nnc.Dense(2, activation="softmax")],
                       dtype="float32", seed=0)
model.compile(optimizer=nnc.optimizers.Adam(learning_rate=1e-3),
              loss="sparse_categorical_crossentropy")
for _ in range(max(calls // 3, 1)):  # warm-up: caches, the inline decision
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
per_call, per_epoch = [], []
for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(calls):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    per_call.append((time.perf_counter() - start) / calls * 1e6)
    start = time.perf_counter()
    model.fit(x, y, epochs=calls, batch_size=32, verbose=0)
    per_epoch.append((time.perf_counter() - start) / calls * 1e6)
per_call.sort()
per_epoch.sort()
print(nnc.__file__, per_call[repeats // 2], per_epoch[repeats // 2])
"""


def one_round(checkout: str, calls: int, repeats: int, cpu: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", ROUND, checkout, str(calls), str(repeats),
                          str(cpu)], capture_output=True, text=True, check=True).stdout.split()
    loaded = os.path.realpath(out[0])
    if not loaded.startswith(os.path.realpath(checkout) + os.sep):
        raise SystemExit(f"{checkout}: nnc was imported from {loaded}; build the checkout's "
                         "extension in place (python setup.py build_ext --inplace)")
    return float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs=2, metavar="CHECKOUT")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    cpu = cpus[-1]
    results = [(checkout, []) for checkout in args.checkouts]  # the same one twice: an A/A run
    for _ in range(args.rounds):
        for checkout, rounds in results:
            rounds.append(one_round(checkout, args.calls, args.repeats, cpu))
    print(f"fit(epochs=1) x{args.calls} against fit(epochs={args.calls}): 2-64-64-2 tanh, "
          f"200 rows, batch 32, Adam, float32, 1 thread on CPU {cpu}, {args.rounds} "
          f"alternating rounds, each the median of {args.repeats}")
    for checkout, rounds in results:
        ratios = [call / epoch for call, epoch in rounds]
        print(f"  {checkout}")
        print("    fit(epochs=1) us/call  " + " ".join(f"{c:6.1f}" for c, _ in rounds))
        print("    fit(epochs=N) us/epoch " + " ".join(f"{e:6.1f}" for _, e in rounds))
        print("    ratio                  " + " ".join(f"{r:6.2f}" for r in ratios)
              + f"   median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
