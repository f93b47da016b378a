"""What the progress bar costs: one epoch of the 784-128-10 MNIST-shaped
net (scenario a of compare.py) with verbose=0 and verbose=1, alternating,
median of the repeats. The bar is drawn to a StringIO so the terminal's
speed is not measured.

Run: python bench/progress_overhead.py [--repeats 7]
"""

import argparse
import contextlib
import io
import statistics
import time

import numpy as np

import nnc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    nnc.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=60000)
    model = nnc.Sequential([nnc.Dense(128, activation="relu", input_dim=784),
                            nnc.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    times = {0: [], 1: []}
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # warm-up
    for _ in range(args.repeats):
        for verbose in (0, 1):
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink):
                start = time.perf_counter()
                model.fit(x, y, epochs=1, batch_size=64, verbose=verbose)
                times[verbose].append(time.perf_counter() - start)
            if verbose:
                redraws = sink.getvalue().count("\r") + sink.getvalue().count("\n")
    quiet, bar = statistics.median(times[0]), statistics.median(times[1])
    print(f"one epoch, 60000 rows, batch 64, {args.threads} thread(s), median of {args.repeats}")
    print(f"  verbose=0: {quiet:.3f} s   verbose=1: {bar:.3f} s   "
          f"ratio {bar / quiet:.3f}   ({redraws} bar redraws in the last epoch)")


if __name__ == "__main__":
    main()
