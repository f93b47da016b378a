"""What an epoch costs through ``model.fit`` in the small-data regime
(issue 18's case: 2-64-64-2, 200 rows, batch 32, Adam), and where the
Python part of it goes.

Measured per activation (relu and tanh), one thread, interleaved rounds,
median of the rounds:

  fit            model.fit(x, y, epochs=E, batch_size=32, verbose=0), per epoch
  fit(epochs=1)  model.fit(..., epochs=1) called E times, per call
  engine         the bare engine epoch (_core.Model.train_epoch on the
                 calling thread), per epoch
  and, separately, the Python per-epoch costs fit pays when a run needs the
  epoch boundary: a callback (an empty one), History, a compiled metric
  on the training set (accuracy), the progress machinery (verbose=2 into
  a StringIO), each as the extra per-epoch time over plain fit.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/fit_overhead.py
     [--epochs 1000] [--rounds 5]
"""

import argparse
import contextlib
import io
import statistics
import time

import numpy as np

import nnc
from nnc import _core
from nnc.callbacks import Callback, History


class Empty(Callback):
    """A callback that does nothing: its cost is the epoch boundary's."""


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = np.eye(2)[(x[:, 0] * x[:, 1] > 0).astype(int)]
    return x, y


def net(activation, metrics=None):
    model = nnc.Sequential([nnc.Dense(64, activation=activation, input_dim=2),
                            nnc.Dense(64, activation=activation),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=metrics)
    return model


def per_epoch(fn, epochs):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / epochs * 1e6


def cases(activation, x, y, epochs):
    """{name: () -> microseconds per epoch}."""
    plain = net(activation)
    metric = net(activation, metrics=["accuracy"])
    xe, ye, _ = plain.engine_data(x, y)
    engine = plain.engine

    def bare():
        for _ in range(epochs):
            engine.train_epoch(xe, ye, None, 32, True)

    def singles():
        for _ in range(epochs):
            plain.fit(x, y, epochs=1, batch_size=32, verbose=0)

    def with_progress():
        with contextlib.redirect_stdout(io.StringIO()):
            plain.fit(x, y, epochs=epochs, batch_size=32, verbose=2)

    return {
        "engine": lambda: per_epoch(bare, epochs),
        "fit": lambda: per_epoch(lambda: plain.fit(x, y, epochs=epochs, batch_size=32,
                                                   verbose=0), epochs),
        "fit(epochs=1)": lambda: per_epoch(singles, epochs),
        "+callback": lambda: per_epoch(lambda: plain.fit(x, y, epochs=epochs, batch_size=32,
                                                         verbose=0, callbacks=[Empty()]),
                                       epochs),
        "+History": lambda: per_epoch(lambda: plain.fit(x, y, epochs=epochs, batch_size=32,
                                                        verbose=0, callbacks=[History()]),
                                      epochs),
        "+metric": lambda: per_epoch(lambda: metric.fit(x, y, epochs=epochs, batch_size=32,
                                                        verbose=0), epochs),
        "+progress": lambda: per_epoch(with_progress, epochs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    nnc.set_num_threads(1)
    x, y = data()
    print(f"2-64-64-2, 200 rows, batch 32, Adam, {net('relu').dtype}, 1 thread, kernels "
          f"{nnc.kernel_arch() if hasattr(nnc, 'kernel_arch') else _core.kernel_arch()}, "
          f"{args.epochs} epochs, median of {args.rounds} interleaved rounds "
          f"(microseconds per epoch)")
    for activation in ("relu", "tanh"):
        timers = cases(activation, x, y, args.epochs)
        for fn in timers.values():  # warm-up
            fn()
        times = {name: [] for name in timers}
        for _ in range(args.rounds):
            for name, fn in timers.items():
                times[name].append(fn())
        med = {name: statistics.median(t) for name, t in times.items()}
        line = "  ".join(f"{name} {med[name]:7.1f}" for name in
                         ("engine", "fit", "fit(epochs=1)"))
        print(f"{activation:5s} {line}   fit(epochs=1)/fit {med['fit(epochs=1)'] / med['fit']:.2f}"
              f"   fit/engine {med['fit'] / med['engine']:.2f}")
        extras = "  ".join(f"{name} {med[name] - med['fit']:+6.1f}" for name in
                           ("+callback", "+History", "+metric", "+progress"))
        print(f"      per-epoch Python costs over plain fit: {extras}")


if __name__ == "__main__":
    main()
