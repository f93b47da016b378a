"""nnc against PyTorch, scikit-learn and the machine's GEMM limit, in one run.

    python bench/compare.py                       # all scenarios
    python bench/compare.py --scenario a,c --repeats 7 --json

Scenarios (float32, synthetic MNIST-shaped data: 60000 x 784 uniform pixels,
10 classes; softmax + categorical cross-entropy; Adam, lr 1e-3; one shuffled
epoch per measurement):

  a  train 784-128-10 (relu), batch 64, 1 thread
  b  train 784-512-512-10 (relu), batch 256, 1 thread
  c  predict with the 784-128-10 net: batch-1 latency, and 10000-row throughput
  d  scenario b on 2 threads (nnc also against itself on 1 thread, timed in the
     same rounds, and the weights after one epoch compared bit for bit), with
     the core-to-core latency measured before and after (core_to_core.c):
     on a 2-vCPU VM it says whether the host placed the vCPUs near each
     other, which decides the 2-thread speed-up (bench/README.md)

Every library gets the same data and thread count (nnc.set_num_threads,
torch.set_num_threads, threadpoolctl for NumPy's and scikit-learn's BLAS).
Each figure is the median of --repeats timed runs after a warm-up run; the
libraries take turns so that drifts of the machine hit them alike.

The practical limit is NumPy's float32 matmul (its BLAS) timed on exactly
the products one training step needs (forward a.W, weight gradient a^T.d,
delta d.W^T for every layer but the first), as GFLOP/s. The GFLOP/s of a
training run counts the same products per sample.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's nnc when run from it

from core_latency import core_to_core_ns  # noqa: E402

import nnc  # noqa: E402

N_SAMPLES, N_FEATURES, N_CLASSES = 60000, 784, 10
SCENARIOS = {
    "a": {"sizes": [784, 128, 10], "batch": 64, "what": "train"},
    "b": {"sizes": [784, 512, 512, 10], "batch": 256, "what": "train"},
    "c": {"sizes": [784, 128, 10], "batch": None, "what": "predict"},
    "d": {"sizes": [784, 512, 512, 10], "batch": 256, "what": "train"},
}
TARGETS = {
    "a": "nnc/torch >= 2.0 and nnc/sklearn >= 2.0",
    "b": "nnc/torch >= 1.15 and nnc/limit >= 0.85",
    "c": "batch-1 latency nnc/torch <= 0.25",
    "d": "nnc 2 threads / nnc 1 thread >= 1.7, weights bit-identical",
}


# ------------------------------------------------------------------ helpers


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def train_flops_per_sample(sizes) -> int:
    """Multiply-adds x 2 of one sample's forward and backward products."""
    total = 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        total += 2 * fan_in * fan_out * (3 if i > 0 else 2)  # a.W, a^T.d, d.W^T
    return total


def forward_flops_per_sample(sizes) -> int:
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


@contextlib.contextmanager
def blas_threads(n):
    """Limit NumPy's BLAS (used by NumPy and scikit-learn) to n threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=n):
        yield


def settle(threads):
    """Let other libraries' spinning worker threads go idle before a timing."""
    if threads > 1:
        time.sleep(0.3)


def median(values):
    return statistics.median(values)


# ---------------------------------------------------------------- trainers


class NncTrainer:
    name = "nnc"

    def __init__(self, sizes, batch, threads, x, y, seed=0):
        self.x, self.y, self.batch, self.threads = x, y, batch, threads
        layers = [nnc.Input(sizes[0])]
        for i, units in enumerate(sizes[1:]):
            last = i == len(sizes) - 2
            layers.append(nnc.Dense(units, activation="softmax" if last else "relu"))
        self.model = nnc.Sequential(layers, dtype="float32", seed=seed)
        self.model.compile(optimizer=nnc.optimizers.Adam(learning_rate=1e-3),
                           loss="sparse_categorical_crossentropy")

    def epoch(self):
        nnc.set_num_threads(self.threads)
        self.model.fit(self.x, self.y, epochs=1, batch_size=self.batch, shuffle=True, verbose=0)


class TorchTrainer:
    name = "torch"

    def __init__(self, sizes, batch, threads, x, y, seed=0):
        import torch

        self.torch, self.batch, self.threads = torch, batch, threads
        torch.manual_seed(seed)
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(torch.nn.ReLU())
        self.net = torch.nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()  # log-softmax + NLL, fused
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(self):
        torch = self.torch
        torch.set_num_threads(self.threads)
        n = self.x.shape[0]
        perm = torch.randperm(n)
        for start in range(0, n, self.batch):
            idx = perm[start:start + self.batch]
            xb, yb = self.x[idx], self.y[idx]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.net(xb), yb)
            loss.backward()
            self.opt.step()


class SklearnTrainer:
    name = "sklearn"

    def __init__(self, sizes, batch, threads, x, y, seed=0):
        from sklearn.neural_network import MLPClassifier

        self.x, self.y, self.threads = x, y, threads
        self.clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                                 solver="adam", learning_rate_init=1e-3, batch_size=batch,
                                 alpha=0.0, shuffle=True, random_state=seed)
        with blas_threads(threads):  # initialise (weights, label binarizer)
            self.clf.partial_fit(x[:batch], y[:batch], classes=np.arange(N_CLASSES))

    def epoch(self):
        with blas_threads(self.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(self.x, self.y)  # one epoch over all rows


class NumpyLimit:
    """NumPy float32 matmul on one training step's products, repeated for as
    many steps as an epoch has."""

    name = "numpy"

    def __init__(self, sizes, batch, threads, n_rows, seed=0):
        rng = np.random.default_rng(seed)
        self.threads = threads
        self.steps = max(1, n_rows // batch)
        self.products = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            act = rng.random((batch, a), dtype=np.float32)
            w = rng.random((a, b), dtype=np.float32)
            d = rng.random((batch, b), dtype=np.float32)
            self.products.append((act, w, np.empty((batch, b), np.float32)))      # a.W
            self.products.append((act.T, d, np.empty((a, b), np.float32)))        # a^T.d
            if i > 0:
                self.products.append((d, w.T, np.empty((batch, a), np.float32)))  # d.W^T
        self.flops = sum(2 * p[0].shape[0] * p[0].shape[1] * p[1].shape[1]
                         for p in self.products) * self.steps

    def epoch(self):
        with blas_threads(self.threads):
            for _ in range(self.steps):
                for a, b, out in self.products:
                    np.matmul(a, b, out=out)


def time_round_robin(runners, repeats, threads):
    """Warm up each runner, then time `repeats` rounds, runners taking turns."""
    times = {r.name: [] for r in runners}
    for r in runners:
        settle(threads)
        r.epoch()
    for _ in range(repeats):
        for r in runners:
            settle(threads)
            t0 = time.perf_counter()
            r.epoch()
            times[r.name].append(time.perf_counter() - t0)
    return times


# --------------------------------------------------------------- scenarios


def run_training(key, args, x, y, threads, libs, nnc_baseline_threads=None):
    """Time one scenario. With `nnc_baseline_threads`, nnc on that many
    threads takes its turn in the same rounds (as "nnc_baseline")."""
    spec = SCENARIOS[key]
    sizes, batch = spec["sizes"], spec["batch"]
    n = x.shape[0]
    runners = [NncTrainer(sizes, batch, threads, x, y)]
    if nnc_baseline_threads is not None:
        base = NncTrainer(sizes, batch, nnc_baseline_threads, x, y)
        base.name = "nnc_baseline"
        runners.append(base)
    if "torch" in libs:
        runners.append(TorchTrainer(sizes, batch, threads, x, y))
    if "sklearn" in libs:
        runners.append(SklearnTrainer(sizes, batch, threads, x, y))
    limit = NumpyLimit(sizes, batch, threads, n)
    runners.append(limit)
    times = time_round_robin(runners, args.repeats, threads)
    fps = train_flops_per_sample(sizes)
    res = {"scenario": key, "sizes": sizes, "batch": batch, "threads": threads,
           "samples": n, "repeats": args.repeats, "libs": {}}
    for name, ts in times.items():
        t = median(ts)
        if name == "numpy":
            res["limit_gflops"] = limit.flops / t / 1e9
            res["limit_times"] = ts
            continue
        res["libs"][name] = {"seconds": t, "samples_per_s": n / t,
                             "gflops": fps * n / t / 1e9, "times": ts}
    nnc_sps = res["libs"]["nnc"]["samples_per_s"]
    ratios = {}
    for other in ("torch", "sklearn"):
        if other in res["libs"]:
            ratios[f"nnc/{other}"] = nnc_sps / res["libs"][other]["samples_per_s"]
    ratios["nnc/limit"] = res["libs"]["nnc"]["gflops"] / res["limit_gflops"]
    res["ratios"] = ratios
    return res


def run_scaling(args, x, y, libs):
    """Scenario d: b on args.threads_d threads, against nnc on 1 thread timed
    in the same rounds, with a bit-for-bit comparison of the weights after
    one epoch."""
    threads = args.threads_d
    before = core_to_core_ns()
    res = run_training("d", args, x, y, threads, libs, nnc_baseline_threads=1)
    res["core_to_core_ns"] = {"before": before, "after": core_to_core_ns()}
    base = res["libs"].pop("nnc_baseline")
    res["nnc_1thread"] = base
    res["nnc_1thread_samples_per_s"] = base["samples_per_s"]
    res["ratios"]["nnc/nnc_1thread"] = res["libs"]["nnc"]["samples_per_s"] / base["samples_per_s"]
    sizes, batch = SCENARIOS["d"]["sizes"], SCENARIOS["d"]["batch"]
    # Same seed, same data, one epoch each: the weights must agree bit for bit.
    params = []
    for t in (1, threads):
        trainer = NncTrainer(sizes, batch, t, x, y, seed=7)
        trainer.epoch()
        params.append(trainer.model.get_flat_params())
    res["weights_bit_identical"] = bool(params[0].tobytes() == params[1].tobytes())
    return res


def latency(fn, calls, repeats):
    for _ in range(max(100, calls // 10)):
        fn()
    per_call = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter() - t0) / calls)
    return median(per_call), per_call


def run_predict(args, x, libs):
    sizes = SCENARIOS["c"]["sizes"]
    threads = args.threads
    nnc.set_num_threads(threads)
    trainer = NncTrainer(sizes, 64, threads, x[:64], np.zeros(64, np.int64))
    model = trainer.model
    x1 = np.ascontiguousarray(x[:1])
    rows = np.ascontiguousarray(x[:10000])
    res = {"scenario": "c", "sizes": sizes, "threads": threads, "repeats": args.repeats,
           "rows": rows.shape[0], "latency_us": {}, "rows_per_s": {}}
    model.predict(x1)
    t, ts = latency(lambda: model.predict(x1), args.calls, args.repeats)
    res["latency_us"]["nnc"] = t * 1e6
    res["latency_samples_us"] = {"nnc": [v * 1e6 for v in ts]}
    t, ts = latency(lambda: model.predict(rows), 20, args.repeats)
    res["rows_per_s"]["nnc"] = rows.shape[0] / t
    if "torch" in libs:
        import torch

        torch.set_num_threads(threads)
        net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))
        x1t, rowst = torch.from_numpy(x1), torch.from_numpy(rows)

        def torch_one():
            with torch.inference_mode():
                return net(x1t)

        t, ts = latency(torch_one, args.calls, args.repeats)
        res["latency_us"]["torch"] = t * 1e6
        res["latency_samples_us"]["torch"] = [v * 1e6 for v in ts]
        with torch.inference_mode():  # one context around all calls: torch's best case
            t, _ = latency(lambda: net(x1t), args.calls, args.repeats)
            res["latency_us"]["torch_in_one_context"] = t * 1e6
            t, _ = latency(lambda: net(rowst), 20, args.repeats)
            res["rows_per_s"]["torch"] = rows.shape[0] / t
    if "sklearn" in libs:
        clf = SklearnTrainer(sizes, 64, threads, x[:640], np.arange(640) % 10).clf
        with blas_threads(threads):
            t, _ = latency(lambda: clf.predict_proba(x1), max(1000, args.calls // 5),
                           args.repeats)
            res["latency_us"]["sklearn"] = t * 1e6
            t, _ = latency(lambda: clf.predict_proba(rows), 20, args.repeats)
            res["rows_per_s"]["sklearn"] = rows.shape[0] / t
    # NumPy's matmul on the forward products of the 10000 rows.
    rng = np.random.default_rng(0)
    ws = [rng.random((a, b), dtype=np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    outs = [np.empty((rows.shape[0], b), np.float32) for b in sizes[1:]]

    def forward_products():
        a = rows
        for w, out in zip(ws, outs):
            np.matmul(a, w, out=out)
            a = out

    with blas_threads(threads):
        t, _ = latency(forward_products, 20, args.repeats)
    ff = forward_flops_per_sample(sizes) * rows.shape[0]
    res["limit_gflops"] = ff / t / 1e9
    res["gflops"] = {k: v * forward_flops_per_sample(sizes) / 1e9
                     for k, v in res["rows_per_s"].items()}
    res["ratios"] = {"nnc/limit (10000 rows)": res["gflops"]["nnc"] / res["limit_gflops"]}
    if "torch" in res["latency_us"]:
        res["ratios"]["latency nnc/torch"] = res["latency_us"]["nnc"] / res["latency_us"]["torch"]
        res["ratios"]["latency nnc/torch_in_one_context"] = (
            res["latency_us"]["nnc"] / res["latency_us"]["torch_in_one_context"])
        res["ratios"]["throughput nnc/torch"] = (res["rows_per_s"]["nnc"] /
                                                 res["rows_per_s"]["torch"])
    if "sklearn" in res["latency_us"]:
        res["ratios"]["latency nnc/sklearn"] = (res["latency_us"]["nnc"] /
                                                res["latency_us"]["sklearn"])
    return res


# ------------------------------------------------------------------ output


def verdict(key, res) -> str:
    r = res["ratios"]
    try:
        if key == "a":
            ok = r["nnc/torch"] >= 2.0 and r["nnc/sklearn"] >= 2.0
        elif key == "b":
            ok = r["nnc/torch"] >= 1.15 and r["nnc/limit"] >= 0.85
        elif key == "c":
            ok = r["latency nnc/torch"] <= 0.25
        else:
            ok = r["nnc/nnc_1thread"] >= 1.7 and res["weights_bit_identical"]
    except KeyError:
        return "n/a (a library was skipped)"
    return "MET" if ok else "NOT MET"


def print_training(key, res):
    spec = "-".join(map(str, res["sizes"]))
    print(f"({key}) train {spec} relu, batch {res['batch']}, Adam 1e-3, one epoch of "
          f"{res['samples']} rows, {res['threads']} thread(s), median of {res['repeats']}")
    print(f"    {'':<10}{'samples/s':>12}{'GFLOP/s':>10}{'s/epoch':>10}")
    for name, v in res["libs"].items():
        print(f"    {name:<10}{v['samples_per_s']:>12,.0f}{v['gflops']:>10.1f}"
              f"{v['seconds']:>10.3f}")
    print(f"    {'limit':<10}{'':>12}{res['limit_gflops']:>10.1f}   NumPy float32 matmul, "
          "same products")
    if "nnc_1thread_samples_per_s" in res:
        print(f"    nnc on 1 thread, same rounds: {res['nnc_1thread_samples_per_s']:,.0f} "
              f"samples/s; weights after one epoch, 1 vs {res['threads']} threads: "
              f"{'bit-identical' if res['weights_bit_identical'] else 'DIFFERENT'}")
    if "core_to_core_ns" in res:
        lat = res["core_to_core_ns"]
        shown = "/".join("n/a" if v is None else f"{v:.0f}" for v in lat.values())
        print(f"    core-to-core latency before/after: {shown} ns "
              "(about 30 near, 165 far on the 2-vCPU EPYC VMs: bench/README.md)")
    ratios = "   ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items())
    print(f"    {ratios}")
    print(f"    target: {TARGETS[key]}: {verdict(key, res)}")


def print_predict(res):
    spec = "-".join(map(str, res["sizes"]))
    print(f"(c) predict {spec}, {res['threads']} thread(s), median of {res['repeats']}")
    lat = res["latency_us"]
    print("    batch-1 latency (us/call): " + "   ".join(f"{k} {v:.2f}" for k, v in lat.items()))
    thr = res["rows_per_s"]
    print(f"    {res['rows']}-row predict (rows/s): " +
          "   ".join(f"{k} {v:,.0f} ({res['gflops'][k]:.1f} GFLOP/s)" for k, v in thr.items()) +
          f"   limit {res['limit_gflops']:.1f} GFLOP/s")
    print("    " + "   ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items()))
    print(f"    target: {TARGETS['c']}: {verdict('c', res)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", default="a,b,c,d", help="comma-separated subset of a,b,c,d")
    p.add_argument("--threads", type=int, default=1, help="threads for a, b, c (default 1)")
    p.add_argument("--threads-d", type=int, default=2, help="threads for d (default 2)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per figure (default 5)")
    p.add_argument("--samples", type=int, default=N_SAMPLES, help="rows of training data")
    p.add_argument("--calls", type=int, default=20000, help="predict calls per latency run")
    p.add_argument("--skip", default="", help="libraries to leave out: torch,sklearn")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.scenario.split(",") if k.strip()]
    bad = [k for k in keys if k not in SCENARIOS]
    if bad:
        p.error(f"unknown scenario(s) {bad}; choose from a, b, c, d")
    libs = {"torch", "sklearn"} - {s.strip() for s in args.skip.split(",")}

    rng = np.random.default_rng(0)
    x = rng.random((args.samples, N_FEATURES), dtype=np.float32)  # pixel-like, in [0, 1)
    y = rng.integers(0, N_CLASSES, size=args.samples)

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "nnc": nnc.__version__, "nnc_kernels": nnc.kernel_arch()}
    if "torch" in libs:
        import torch

        versions["torch"] = torch.__version__
    if "sklearn" in libs:
        import sklearn

        versions["sklearn"] = sklearn.__version__
    header = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
              "cpu": cpu_model(), "cores": os.cpu_count(), "versions": versions}
    if not args.json:
        print(f"nnc benchmark, {header['date']}")
        print(f"CPU: {header['cpu']} ({header['cores']} logical CPUs); " +
              ", ".join(f"{k} {v}" for k, v in versions.items()))
        print()

    results = {}
    for key in keys:
        if key in ("a", "b"):
            res = run_training(key, args, x, y, args.threads, libs)
        elif key == "c":
            res = run_predict(args, x, libs)
        else:
            res = run_scaling(args, x, y, libs)
        res["target"] = TARGETS[key]
        res["verdict"] = verdict(key, res)
        results[key] = res
        if not args.json:
            if key == "c":
                print_predict(res)
            else:
                print_training(key, res)
            print()
    nnc.set_num_threads(os.cpu_count() or 1)
    if args.json:
        print(json.dumps({**header, "results": results}, indent=2))


if __name__ == "__main__":
    main()
