"""Why does a 2-thread epoch sometimes scale less than 2x? Interleave, many
times, (1) two threads each multiplying their own matrix (no shared data:
the machine's raw 2-core capacity) and (2) one nnc epoch of the 784-512-512-10
net (batch 256) on 1 and on 2 threads, and print both ratios side by side.
When (1) stays near 2x while (2) drops, the cost is in what the two threads
share, not in the second core's speed. (3) The core-to-core latency of a
cache line (core_to_core.c), which shows where the host put the vCPUs.

Run: python bench/thread_scaling.py [--rounds 16] [--rows 20000]
"""

import argparse
import os
import sys
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's nnc when run from it

from core_latency import core_to_core_ns  # noqa: E402

import nnc  # noqa: E402


def independent_matmuls(matrices, repeats=150) -> float:
    def work(a):
        for _ in range(repeats):
            a @ a

    threads = [threading.Thread(target=work, args=(a,)) for a in matrices]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.rows)
    mats = [rng.random((512, 512), dtype=np.float32) for _ in range(2)]
    model = nnc.Sequential([nnc.Dense(512, activation="relu", input_dim=784),
                            nnc.Dense(512, activation="relu"),
                            nnc.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def epoch(threads: int) -> float:
        nnc.set_num_threads(threads)
        start = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=256, verbose=0)
        return time.perf_counter() - start

    print("round  unshared 2-thread matmuls  nnc epoch 2 threads / 1 thread"
          "  core-to-core ns")
    with threadpool_limits(1):
        for r in range(args.rounds):
            one, two = independent_matmuls(mats[:1]), independent_matmuls(mats)
            e1, e2 = epoch(1), epoch(2)
            latency = core_to_core_ns(runs=1)
            shown = "n/a" if latency is None else f"{latency:.0f}"
            print(f"{r + 1:5d}  {2 * one / two:25.2f}x  {e1 / e2:30.2f}x  {shown:>15}")


if __name__ == "__main__":
    main()
