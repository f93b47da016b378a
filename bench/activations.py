"""The cost of tanh and sigmoid against relu, and nnc against PyTorch with
them, in one run (issue 20; docs/design.md, "Vectorised activations").

    python bench/activations.py                 # both scenarios
    python bench/activations.py --repeats 7 --scenario small
    valgrind --tool=callgrind python bench/activations.py --workload small tanh

--workload SCENARIO ACT trains once, untimed, for a profiler: small is 20
fit epochs of the small net, big one epoch of the big net on 512 rows
(2 steps).

Scenarios (float32, 1 thread, Adam lr 1e-3, softmax + sparse categorical
cross-entropy, shuffled epochs):

  small  2-64-64-2, 200 rows, batch 32: epoch time through model.fit
         (fit(epochs=200) timed, divided by 200), hidden relu / tanh / sigmoid
  big    784-512-512-10, 20000 rows, batch 256: one epoch per measurement,
         nnc with relu / tanh / sigmoid and PyTorch with the same three

Every figure is the median of --repeats rounds after a warm-up; within a
round the configurations take turns, so drifts of a shared machine hit
them alike. Printed: seconds (or microseconds) per epoch, each activation
against relu of the same library, and nnc's speed-up over PyTorch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's nnc when run from it

from compare import train_flops_per_sample  # noqa: E402
from fma_peak import fma_peak  # noqa: E402

import nnc  # noqa: E402

ACTS = ("relu", "tanh", "sigmoid")


def nnc_model(sizes, act, seed=0):
    layers = [nnc.Input(sizes[0])]
    for i, units in enumerate(sizes[1:]):
        layers.append(nnc.Dense(units, activation="softmax" if i == len(sizes) - 2 else act))
    model = nnc.Sequential(layers, dtype="float32", seed=seed)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    return model


class TorchRun:
    def __init__(self, sizes, act, x, y, batch):
        import torch

        self.torch, self.batch = torch, batch
        torch.manual_seed(0)
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh,
                             "sigmoid": torch.nn.Sigmoid}[act]())
        self.net = torch.nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(self):
        perm = self.torch.randperm(self.x.shape[0])
        for start in range(0, self.x.shape[0], self.batch):
            idx = perm[start:start + self.batch]
            self.opt.zero_grad(set_to_none=True)
            self.loss(self.net(self.x[idx]), self.y[idx]).backward()
            self.opt.step()


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def rounds(runs, repeats):
    """runs: {name: (callable, divisor)} -> {name: median seconds per epoch}."""
    for fn, _ in runs.values():
        fn()  # warm-up
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (fn, div) in runs.items():
            times[name].append(timed(fn) / div)
    return {name: statistics.median(v) for name, v in times.items()}


def small(repeats):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    epochs = 200
    runs = {}
    for act in ACTS:
        m = nnc_model([2, 64, 64, 2], act)
        runs[f"nnc {act}"] = (lambda m=m: m.fit(x, y, epochs=epochs, batch_size=32, verbose=0),
                              epochs)
    med = rounds(runs, repeats)
    print("small: 2-64-64-2, 200 rows, batch 32, Adam, fit(epochs=200), 1 thread")
    for act in ACTS:
        t = med[f"nnc {act}"]
        print(f"  nnc {act:8s} {t * 1e6:8.1f} us/epoch   x{t / med['nnc relu']:.2f} of relu")


def big(repeats):
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.random((20000, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=20000).astype(np.int64)
    sizes = [784, 512, 512, 10]
    runs = {}
    for act in ACTS:
        m = nnc_model(sizes, act)
        runs[f"nnc {act}"] = (lambda m=m: m.fit(x, y, epochs=1, batch_size=256, verbose=0), 1)
        t = TorchRun(sizes, act, x, y, 256)
        runs[f"torch {act}"] = (t.epoch, 1)
    med = rounds(runs, repeats)
    gflop = train_flops_per_sample(sizes) * x.shape[0] / 1e9  # per epoch
    peak = (fma_peak() or {}).get("fp32_gflops")
    print("big: 784-512-512-10, 20000 rows, batch 256, Adam, one epoch, 1 thread")
    for act in ACTS:
        n, t = med[f"nnc {act}"], med[f"torch {act}"]
        print(f"  {act:8s} nnc {n:6.3f} s (x{n / med['nnc relu']:.2f} of relu)   "
              f"torch {t:6.3f} s (x{t / med['torch relu']:.2f})   nnc speed-up x{t / n:.2f}")
    if peak:
        # What a speed-up over torch costs in arithmetic: the products alone
        # at 2.3x torch's speed (issue 20's target) against the FMA peak.
        print(f"  products per epoch {gflop:.1f} GFLOP; fp32 FMA peak {peak:.1f} GFLOP/s")
        for act in ACTS:
            n, t = med[f"nnc {act}"], med[f"torch {act}"]
            print(f"  {act:8s} nnc {gflop / n:6.1f} GFLOP/s ({gflop / n / peak:4.0%} of peak), "
                  f"torch {gflop / t:6.1f} ({gflop / t / peak:4.0%}); 2.3x torch needs "
                  f"{2.3 * gflop / t:6.1f} ({2.3 * gflop / t / peak:4.0%} of peak)")


def workload(scenario, act):
    rng = np.random.default_rng(0)
    if scenario == "small":
        x = rng.normal(size=(200, 2)).astype(np.float32)
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
        nnc_model([2, 64, 64, 2], act).fit(x, y, epochs=20, batch_size=32, verbose=0)
    else:
        x = rng.random((512, 784), dtype=np.float32)
        y = rng.integers(0, 10, size=512).astype(np.int64)
        nnc_model([784, 512, 512, 10], act).fit(x, y, epochs=1, batch_size=256, verbose=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenario", default="small,big")
    parser.add_argument("--workload", nargs=2, metavar=("SCENARIO", "ACT"))
    args = parser.parse_args()
    nnc.set_num_threads(1)
    if args.workload:
        workload(*args.workload)
        return
    print(f"nnc {nnc.__file__}, kernels {nnc._core.get_kernel_arch()}")
    for name in args.scenario.split(","):
        {"small": small, "big": big}[name](args.repeats)


if __name__ == "__main__":
    main()
