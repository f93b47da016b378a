"""nnc against JAX, Keras, onnxruntime, PyTorch, scikit-learn, NumPy and the
machine's FMA peak, in one run.

    python bench/compare.py --scenario a,b,a64,b64,s,c,m   # 1 thread, pinned to one CPU
    python bench/compare.py --scenario d          # 2 threads
    python bench/compare.py --scenario a,s,c --repeats 7 --json
    python bench/compare.py --quick               # tiny sizes: a smoke test
    python bench/compare.py --save results.json   # the table, and the JSON in a file

Scenarios (synthetic MNIST-shaped data: 60000 x 784 uniform pixels, 10
classes; softmax + categorical cross-entropy; Adam, lr 1e-3):

  a    train 784-128-10 (relu), batch 64, float32, one epoch
  b    train 784-512-512-10 (relu), batch 256, float32, one epoch
  a64  a in float64          b64  b in float64
  s    small data: 2-64-64-2 tanh, 200 rows, batch 32, --small-epochs epochs
       per call (nnc: model.fit(x, y, epochs=...), and fit(epochs=1) called
       that many times), microseconds per epoch
  c    predict 10000 rows with 784-128-10 and 784-512-512-10; batch-1
       latency with 784-128-10 (onnxruntime on nnc's own ONNX export)
  m    peak RSS of one epoch of b, each library in its own process, as a
       multiple of the input's size (median of --repeats processes each)
  d    b on --threads-d threads: nnc against itself on 1 thread in the same
       rounds, weights after one epoch compared bit for bit, core-to-core
       latency before and after (core_to_core.c; bench/README.md says why)

Every library runs on --threads threads (1 by default): nnc.set_num_threads,
torch.set_num_threads, threadpoolctl for NumPy's and scikit-learn's BLAS,
onnxruntime's intra_op_num_threads, and for JAX and Keras XLA_FLAGS
(--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1), set
before JAX is imported; as XLA still runs work on threads of its own, the
process is pinned to one CPU (sched_setaffinity) when d is not requested
(run d separately). The process CPU time per wall second of every run is
recorded. Each figure is the median of --repeats timed rounds after a
warm-up; the libraries take turns within each round so that drifts of the
machine hit them alike. Every GFLOP/s is also given as a fraction of
the FMA peak of the cores used, measured by fma_peak.c at the start and the
end of the run (the larger of the two). A peer that is not installed is
skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# Before anything imports JAX: one thread for XLA's CPU backend.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false"
                           " intra_op_parallelism_threads=1").strip()
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_ENABLE_X64", "1")  # float64 scenarios; float32 arrays stay float32

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout's nnc when run from it
sys.path.insert(0, HERE)

import peers  # noqa: E402
from core_latency import core_to_core_ns  # noqa: E402
from fma_peak import fma_peak  # noqa: E402

import nnc  # noqa: E402

N_SAMPLES, N_FEATURES, N_CLASSES = 60000, 784, 10
NET_A, NET_B, NET_S = [784, 128, 10], [784, 512, 512, 10], [2, 64, 64, 2]
TRAINING = {
    "a": (NET_A, 64, np.float32), "b": (NET_B, 256, np.float32),
    "a64": (NET_A, 64, np.float64), "b64": (NET_B, 256, np.float64),
}
ORDER = ["a", "b", "a64", "b64", "s", "c", "m", "d"]
PEERS = ["torch", "sklearn", "jax", "keras", "onnxruntime"]
SMALL_ROWS, SMALL_BATCH = 200, 32


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


def settle(threads):
    """Let other libraries' spinning worker threads go idle before a timing."""
    if threads > 1:
        time.sleep(0.3)


def median(values):
    return statistics.median(values)


class Peak:
    """The FMA peak of one core, as GFLOP/s per dtype (None if unmeasured)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.measured = [fma_peak(seconds)]

    def remeasure(self):
        fma_peak.cache_clear()
        self.measured.append(fma_peak(self.seconds))

    @property
    def best(self):
        got = [m for m in self.measured if m]
        return max(got, key=lambda m: m["fp32_gflops"]) if got else None

    def fraction(self, gflops, dtype, threads=1):
        best = self.best
        if best is None or gflops is None:
            return None
        key = "fp64_gflops" if np.dtype(dtype) == np.float64 else "fp32_gflops"
        return gflops / (best[key] * threads)


def time_round_robin(runners, repeats, threads):
    """Warm up each runner, then time `repeats` rounds, runners taking turns.
    Returns {name: (wall seconds list, CPU seconds per wall second list)}."""
    out = {r.name: ([], []) for r in runners}
    for r in runners:
        settle(threads)
        r.epoch()
    for _ in range(repeats):
        for r in runners:
            settle(threads)
            c0, t0 = time.process_time(), time.perf_counter()
            r.epoch()
            wall = time.perf_counter() - t0
            out[r.name][0].append(wall)
            out[r.name][1].append((time.process_time() - c0) / wall)
    return out


def time_calls_round_robin(fns, calls, repeats):
    """Seconds per call of each fn (a dict), median of `repeats` rounds, the
    fns taking turns. The fastest fn makes `calls` calls per round, the
    others as many as fill the same time (at least 20), so that a slow peer
    does not stretch the run."""
    per_warm = {}
    for k, fn in fns.items():  # warm-up: calls // 10 calls, or 0.3 s if that is less
        n, t0 = 0, time.perf_counter()
        while n < max(3, calls // 10) and (n < 3 or time.perf_counter() - t0 < 0.3):
            fn()
            n += 1
        per_warm[k] = (time.perf_counter() - t0) / n
    fastest = min(per_warm.values())
    counts = {k: max(20, min(calls, round(calls * fastest / t))) for k, t in per_warm.items()}
    per_call = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(counts[k]):
                fn()
            per_call[k].append((time.perf_counter() - t0) / counts[k])
    return {k: median(v) for k, v in per_call.items()}


def make_trainers(libs, sizes, batch, threads, x, y, act="relu", epochs=1, seed=0):
    """nnc first, then each installed peer in `libs` (JAX twice: the step
    loop and the scan)."""
    runners = [peers.NncTrainer(sizes, batch, threads, x, y, seed, act, epochs)]
    for lib in PEERS:
        if lib not in libs or lib == "onnxruntime":
            continue
        kinds = peers.TRAINERS[lib]
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            runners.append(kind(sizes, batch, threads, x, y, seed, act, epochs))
    return runners


def peer_ratios(figures, key, higher_is_better=True):
    """nnc's figure over (or under) each peer's: > 1 means nnc is faster."""
    mine = figures["nnc"][key]
    return {f"nnc/{k}": (mine / v[key] if higher_is_better else v[key] / mine)
            for k, v in figures.items() if k != "nnc"}


# --------------------------------------------------------------- scenarios


def run_training(key, args, data, libs, peak, threads=None, nnc_baseline_threads=None):
    sizes, batch, dtype = TRAINING["b" if key == "d" else key]
    threads = threads or args.threads
    x, y = data[np.dtype(dtype).name], data["y"]
    n = x.shape[0]
    runners = make_trainers(libs, sizes, batch, threads, x, y)
    if nnc_baseline_threads is not None:
        base = peers.NncTrainer(sizes, batch, nnc_baseline_threads, x, y)
        base.name = "nnc_baseline"
        runners.insert(1, base)
    limit = peers.NumpyLimit(sizes, batch, threads, x)
    runners.append(limit)
    timed = time_round_robin(runners, args.repeats, threads)
    fps = train_flops_per_sample(sizes)
    res = {"scenario": key, "sizes": sizes, "batch": batch, "dtype": np.dtype(dtype).name,
           "threads": threads, "samples": n, "repeats": args.repeats, "libs": {}}
    for r in runners:
        ts, cpu = timed[r.name]
        t = median(ts)
        if r is limit:
            res["limit_gflops"] = fps * n / t / 1e9
            res["limit_times"] = ts
            continue
        gflops = fps * r.samples / t / 1e9
        res["libs"][r.name] = {"seconds": t, "samples_per_s": r.samples / t,
                               "gflops": gflops, "cpu_per_wall": median(cpu), "times": ts}
    base = res["libs"].pop("nnc_baseline", None)
    res["ratios"] = peer_ratios(res["libs"], "samples_per_s")
    nnc_g = res["libs"]["nnc"]["gflops"]
    res["ratios"]["nnc/limit"] = nnc_g / res["limit_gflops"]
    if base is not None:
        res["nnc_1thread"] = base
        res["nnc_1thread_samples_per_s"] = base["samples_per_s"]
        res["ratios"]["nnc/nnc_1thread"] = res["libs"]["nnc"]["samples_per_s"] / base[
            "samples_per_s"]
    return res


def add_peak_fractions(key, res, peak):
    """Every GFLOP/s of a result as a fraction of the peak of the cores it
    ran on (after the run, when the peak has been measured twice)."""
    threads = res.get("threads", 1)
    if key == "m":
        return
    if key == "c":
        for net in res["nets"].values():
            net["peak_fraction"] = {k: peak.fraction(g, np.float32, threads)
                                    for k, g in net["gflops"].items()}
            net["limit_peak_fraction"] = peak.fraction(net["limit_gflops"], np.float32, threads)
        return
    dtype = res.get("dtype", "float32")
    for v in res["libs"].values():
        v["peak_fraction"] = peak.fraction(v["gflops"], dtype, threads)
    if "nnc_1thread" in res:
        res["nnc_1thread"]["peak_fraction"] = peak.fraction(res["nnc_1thread"]["gflops"], dtype)
    if "limit_gflops" in res:
        res["limit_peak_fraction"] = peak.fraction(res["limit_gflops"], dtype, threads)
    res["ratios"]["nnc/peak"] = res["libs"]["nnc"]["peak_fraction"]


def run_scaling(args, data, libs, peak):
    """Scenario d: b on args.threads_d threads against nnc on 1 thread in
    the same rounds, and the weights after one epoch compared bit for bit.
    JAX and Keras are left out: XLA's thread count is fixed at import."""
    threads = args.threads_d
    before = core_to_core_ns()
    res = run_training("d", args, data, libs - {"jax", "keras"}, peak, threads=threads,
                       nnc_baseline_threads=1)
    res["core_to_core_ns"] = {"before": before, "after": core_to_core_ns()}
    sizes, batch, _ = TRAINING["b"]
    params = []
    for t in (1, threads):  # same seed, same data: the weights must agree bit for bit
        trainer = peers.NncTrainer(sizes, batch, t, data["float32"], data["y"], seed=7)
        trainer.epoch()
        params.append(trainer.model.get_flat_params())
    res["weights_bit_identical"] = bool(params[0].tobytes() == params[1].tobytes())
    return res


def small_data():
    """200 normal 2-D points labelled by quadrant (XOR-like), 2 classes."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(SMALL_ROWS, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x, y


def run_small(args, libs, peak):
    x, y = small_data()
    epochs = args.small_epochs
    runners = make_trainers(libs, NET_S, SMALL_BATCH, args.threads, x, y, act="tanh",
                            epochs=epochs)
    runners.insert(1, peers.NncOneEpochCalls(NET_S, SMALL_BATCH, args.threads, x, y, 0,
                                             "tanh", epochs))
    timed = time_round_robin(runners, args.repeats, args.threads)
    steps = -(-SMALL_ROWS // SMALL_BATCH)
    fps = train_flops_per_sample(NET_S)
    res = {"scenario": "s", "sizes": NET_S, "batch": SMALL_BATCH, "rows": SMALL_ROWS,
           "epochs_per_call": epochs, "steps_per_epoch": steps, "threads": args.threads,
           "repeats": args.repeats, "libs": {}}
    for r in runners:
        ts, cpu = timed[r.name]
        per_epoch = median(ts) / epochs
        gflops = fps * SMALL_ROWS / per_epoch / 1e9
        res["libs"][r.name] = {"us_per_epoch": per_epoch * 1e6,
                               "us_per_step": per_epoch * 1e6 / steps, "gflops": gflops,
                               "cpu_per_wall": median(cpu), "times": ts}
    res["ratios"] = peer_ratios(res["libs"], "us_per_epoch", higher_is_better=False)
    return res


def run_predict(args, data, libs, peak):
    threads, x = args.threads, data["float32"]
    rows = np.ascontiguousarray(x[:args.predict_rows])
    x1 = np.ascontiguousarray(x[:1])
    res = {"scenario": "c", "threads": threads, "repeats": args.repeats,
           "rows": rows.shape[0], "nets": {}}
    for sizes in (NET_A, NET_B):
        fns, model = {}, None
        fns["nnc"], model = peers.nnc_predictor(sizes, x, threads)
        if "onnxruntime" in libs:
            fns["onnxruntime"], fns["onnxruntime_iobinding"] = peers.onnxruntime_predictors(
                model, threads, [rows, x1])
        if "torch" in libs:
            fns["torch"] = peers.torch_predictor(sizes, threads)
        if "jax" in libs:
            fns["jax"] = peers.jax_predictor(sizes, x)
        if "sklearn" in libs:
            fns["sklearn"] = peers.sklearn_predictor(sizes, x, threads)
        bulk = {k: (lambda f=f: f(rows)) for k, f in fns.items()}
        bulk["limit"] = peers.NumpyForward(sizes, rows, threads)
        t = time_calls_round_robin(bulk, args.bulk_calls, args.repeats)
        ff = forward_flops_per_sample(sizes) * rows.shape[0]
        net = {"rows_per_s": {k: rows.shape[0] / v for k, v in t.items() if k != "limit"},
               "limit_gflops": ff / t["limit"] / 1e9}
        net["gflops"] = {k: ff / v / 1e9 for k, v in t.items() if k != "limit"}
        net["ratios"] = peer_ratios({k: {"v": v} for k, v in net["rows_per_s"].items()}, "v")
        net["ratios"]["nnc/limit"] = net["gflops"]["nnc"] / net["limit_gflops"]
        if sizes == NET_A:
            single = {k: (lambda f=f: f(x1)) for k, f in fns.items()}
            lat = time_calls_round_robin(single, args.calls, args.repeats)
            net["latency_us"] = {k: v * 1e6 for k, v in lat.items()}
            net["latency_ratios"] = {f"nnc/{k}": net["latency_us"]["nnc"] / v
                                     for k, v in net["latency_us"].items() if k != "nnc"}
        res["nets"]["-".join(map(str, sizes))] = net
    return res


# ---------------------------------------------------------------- memory


def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_worker(lib, samples):
    """In a fresh process: peak RSS of one epoch of b on `samples` rows,
    above the RSS before the data existed (libraries imported and warmed up
    on a few rows), as a multiple of the input's size. Prints JSON."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sizes, batch, _ = TRAINING["b"]
    kind = {"nnc": peers.NncTrainer, "torch": peers.TorchTrainer,
            "sklearn": peers.SklearnTrainer, "jax_step": peers.JaxStepTrainer,
            "jax_scan": peers.JaxScanTrainer, "keras": peers.KerasTrainer}[lib]
    rng = np.random.default_rng(0)
    warm_x = rng.random((2 * batch, N_FEATURES), dtype=np.float32)
    kind(sizes, batch, 1, warm_x, np.arange(2 * batch) % N_CLASSES).epoch()
    del warm_x
    before = _rss_kib("VmRSS")
    try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    x = rng.random((samples, N_FEATURES), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, size=samples)
    trainer = kind(sizes, batch, 1, x, y)
    trainer.epoch()
    peak = _rss_kib("VmHWM")
    input_kib = (x.nbytes + y.nbytes) / 1024
    print(json.dumps({"lib": lib, "rss_before_mib": before / 1024, "peak_mib": peak / 1024,
                      "input_mib": input_kib / 1024,
                      "peak_over_input": (peak - before) / input_kib}))


def run_memory(args, libs):
    names = ["nnc"] + [n for lib in PEERS if lib in libs and lib != "onnxruntime"
                       for n in ({"jax": ["jax_step", "jax_scan"]}.get(lib, [lib]))]
    res = {"scenario": "m", "sizes": TRAINING["b"][0], "batch": TRAINING["b"][1],
           "samples": args.samples, "repeats": args.repeats, "libs": {}}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(nnc.__file__)), os.environ.get("PYTHONPATH", "")])}
    runs = {name: [] for name in names}
    errors = {}
    # One fresh process per library and round, the libraries taking turns:
    # an allocator's peak varies from process to process (torch's by
    # +-6 MiB here), so each figure is the median process.
    for _ in range(args.repeats):
        for name in names:
            if name in errors:
                continue
            r = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-worker",
                                name, "--samples", str(args.samples)], capture_output=True,
                               text=True, env=env, timeout=1800)
            if r.returncode != 0:
                errors[name] = {"error": r.stderr.strip().splitlines()[-1:]}
                continue
            runs[name].append(json.loads(r.stdout.strip().splitlines()[-1]))
    for name in names:
        if name in errors:
            res["libs"][name] = errors[name]
            continue
        ranked = sorted(runs[name], key=lambda v: v["peak_over_input"])
        res["libs"][name] = {**ranked[(len(ranked) - 1) // 2], "processes": len(ranked),
                             "range": [ranked[0]["peak_over_input"],
                                       ranked[-1]["peak_over_input"]]}
    ok = {k: v for k, v in res["libs"].items() if "peak_over_input" in v}
    if "nnc" in ok:
        res["ratios"] = {f"{k}/nnc": v["peak_over_input"] / ok["nnc"]["peak_over_input"]
                         for k, v in ok.items() if k != "nnc"}
    return res


# ------------------------------------------------------------------ output


def pct(v):
    return "   -" if v is None else f"{100 * v:4.0f}%"


def print_training(key, res):
    spec = "-".join(map(str, res["sizes"]))
    print(f"({key}) train {spec} relu, batch {res['batch']}, Adam 1e-3, {res['dtype']}, one "
          f"epoch of {res['samples']} rows, {res['threads']} thread(s), median of "
          f"{res['repeats']}")
    print(f"    {'':<12}{'samples/s':>12}{'GFLOP/s':>10}{'of peak':>9}{'s/epoch':>10}"
          f"{'CPU/wall':>10}")
    for name, v in res["libs"].items():
        print(f"    {name:<12}{v['samples_per_s']:>12,.0f}{v['gflops']:>10.1f}"
              f"{pct(v['peak_fraction']):>9}{v['seconds']:>10.3f}{v['cpu_per_wall']:>10.2f}")
    print(f"    {'limit':<12}{'':>12}{res['limit_gflops']:>10.1f}"
          f"{pct(res['limit_peak_fraction']):>9}   NumPy {res['dtype']} matmul, same products")
    if "nnc_1thread_samples_per_s" in res:
        print(f"    nnc on 1 thread, same rounds: {res['nnc_1thread_samples_per_s']:,.0f} "
              f"samples/s; weights after one epoch, 1 vs {res['threads']} threads: "
              f"{'bit-identical' if res['weights_bit_identical'] else 'DIFFERENT'}")
    if "core_to_core_ns" in res:
        lat = res["core_to_core_ns"]
        shown = "/".join("n/a" if v is None else f"{v:.0f}" for v in lat.values())
        print(f"    core-to-core latency before/after: {shown} ns "
              "(about 30 near, 165 far on the 2-vCPU EPYC VMs: bench/README.md)")
    print("    " + "   ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items() if v is not None))


def print_small(res):
    print(f"(s) small data: train {'-'.join(map(str, res['sizes']))} tanh, {res['rows']} rows, "
          f"batch {res['batch']} ({res['steps_per_epoch']} steps/epoch), Adam 1e-3, "
          f"{res['epochs_per_call']} epochs per call, {res['threads']} thread(s), median of "
          f"{res['repeats']}")
    print(f"    {'':<18}{'us/epoch':>10}{'us/step':>10}{'GFLOP/s':>10}{'of peak':>9}"
          f"{'CPU/wall':>10}")
    for name, v in res["libs"].items():
        print(f"    {name:<18}{v['us_per_epoch']:>10.1f}{v['us_per_step']:>10.2f}"
              f"{v['gflops']:>10.2f}{pct(v['peak_fraction']):>9}{v['cpu_per_wall']:>10.2f}")
    print("    speed ratios (> 1: nnc faster): " +
          "   ".join(f"{k} {v:.2f}" for k, v in res["ratios"].items() if v is not None))


def print_predict(res):
    print(f"(c) predict, float32, {res['threads']} thread(s), median of {res['repeats']}")
    for spec, net in res["nets"].items():
        print(f"    {spec}, {res['rows']} rows per call:")
        for k, v in net["rows_per_s"].items():
            print(f"      {k:<24}{v:>12,.0f} rows/s{net['gflops'][k]:>8.1f} GFLOP/s"
                  f"{pct(net['peak_fraction'][k]):>6} of peak")
        print(f"      {'limit':<24}{'':>19}{net['limit_gflops']:>8.1f} GFLOP/s"
              f"{pct(net['limit_peak_fraction']):>6} of peak   NumPy matmul, same products")
        print("      " + "   ".join(f"{k} {v:.2f}" for k, v in net["ratios"].items()))
        if "latency_us" in net:
            print(f"    {spec}, batch-1 latency (us/call): " +
                  "   ".join(f"{k} {v:.2f}" for k, v in net["latency_us"].items()))
            print("      nnc's latency / peer's: " +
                  "   ".join(f"{k} {v:.2f}" for k, v in net["latency_ratios"].items()))


def print_memory(res):
    print(f"(m) peak RSS of one epoch of {'-'.join(map(str, res['sizes']))}, batch "
          f"{res['batch']}, float32, {res['samples']} rows, median of {res['repeats']} fresh "
          "processes per library")
    for name, v in res["libs"].items():
        if "error" in v:
            print(f"    {name:<12}failed: {' '.join(v['error'])}")
            continue
        above = v["peak_mib"] - v["rss_before_mib"]
        print(f"    {name:<12}peak {v['peak_mib']:8.1f} MiB, {above:7.1f}"
              f" MiB above the RSS before the data = {v['peak_over_input']:.2f}x the input "
              f"({v['input_mib']:.1f} MiB; {v['range'][0]:.2f}-{v['range'][1]:.2f}x over "
              f"{v['processes']} processes)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", default=",".join(ORDER),
                   help=f"comma-separated subset of {','.join(ORDER)}")
    p.add_argument("--threads", type=int, default=1, help="threads except in d (default 1)")
    p.add_argument("--threads-d", type=int, default=2, help="threads for d (default 2)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5)")
    p.add_argument("--samples", type=int, default=None, help="rows of training data")
    p.add_argument("--calls", type=int, default=None, help="predict calls per latency round")
    p.add_argument("--bulk-calls", type=int, default=None,
                   help="10000-row predict calls per round (default 20)")
    p.add_argument("--predict-rows", type=int, default=None, help="rows per predict call")
    p.add_argument("--small-epochs", type=int, default=None,
                   help="epochs per call in scenario s (default 1000)")
    p.add_argument("--skip", default="", help=f"libraries to leave out: {','.join(PEERS)}")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, one round: checks that everything runs (a smoke test)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--save", metavar="FILE", help="also write the JSON results to FILE")
    p.add_argument("--memory-worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = {"repeats": 1, "samples": 1024, "calls": 200, "bulk_calls": 3,
             "predict_rows": 256, "small_epochs": 3}
    full = {"repeats": 5, "samples": N_SAMPLES, "calls": 20000, "bulk_calls": 20,
            "predict_rows": 10000, "small_epochs": 1000}
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.memory_worker:
        nnc.set_num_threads(1)
        return memory_worker(args.memory_worker, args.samples)
    keys = [k.strip() for k in args.scenario.split(",") if k.strip()]
    bad = [k for k in keys if k not in ORDER]
    if bad:
        p.error(f"unknown scenario(s) {bad}; choose from {', '.join(ORDER)}")
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    notes = [f"{lib}: left out (--skip)" for lib in PEERS if lib in skipped]
    missing = [lib for lib in PEERS if lib not in skipped and not peers.available(lib)]
    notes += [f"{lib}: not installed, skipped" for lib in missing]
    libs = set(PEERS) - skipped - set(missing)

    rng = np.random.default_rng(0)
    x = rng.random((args.samples, N_FEATURES), dtype=np.float32)  # pixel-like, in [0, 1)
    data = {"float32": x, "y": rng.integers(0, N_CLASSES, size=args.samples)}
    if any(k in keys for k in ("a64", "b64")):
        data["float64"] = x.astype(np.float64)

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "nnc": nnc.__version__, "nnc_kernels": nnc.kernel_arch()}
    for lib, mod in (("torch", "torch"), ("sklearn", "sklearn"), ("jax", "jax"),
                     ("jax", "optax"), ("keras", "keras"), ("onnxruntime", "onnxruntime")):
        if lib in libs:
            versions[mod] = __import__(mod).__version__
    peak = Peak(0.05 if args.quick else 0.3)
    header = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
              "cpu": cpu_model(), "cores": os.cpu_count(), "versions": versions,
              "xla_flags": os.environ["XLA_FLAGS"], "notes": notes}
    # XLA runs a computation on threads of its own besides the caller's even
    # with the flags above: pin the process to one CPU when every scenario
    # is a 1-thread one. (Widening the mask again for d left nnc on one
    # core: run d in a separate invocation for pinned JAX figures.)
    header["pinned_cpu"] = None
    if hasattr(os, "sched_setaffinity") and args.threads == 1 and "d" not in keys:
        header["pinned_cpu"] = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {header["pinned_cpu"]})
    elif "jax" in libs or "keras" in libs:
        notes.append("process not pinned to one CPU (d or --threads > 1 requested): XLA may "
                     "use a second core for JAX and Keras; run d separately for 1-core figures")
    results = {}
    for key in keys:
        print(f"running scenario {key} ...", file=sys.stderr, flush=True)
        if key in TRAINING:
            results[key] = run_training(key, args, data, libs, peak)
        elif key == "s":
            results[key] = run_small(args, libs, peak)
        elif key == "c":
            results[key] = run_predict(args, data, libs, peak)
        elif key == "m":
            results[key] = run_memory(args, libs)
        else:
            results[key] = run_scaling(args, data, libs, peak)
    peak.remeasure()
    for key, res in results.items():
        add_peak_fractions(key, res, peak)
    header["fma_peak"] = peak.best
    header["fma_peak_runs"] = peak.measured
    nnc.set_num_threads(os.cpu_count() or 1)
    report = json.dumps({**header, "results": results}, indent=2)
    if args.save:
        with open(args.save, "w") as f:
            f.write(report + "\n")
    if args.json:
        print(report)
        return
    print(f"nnc benchmark, {header['date']}")
    print(f"CPU: {header['cpu']} ({header['cores']} logical CPUs); " +
          ", ".join(f"{k} {v}" for k, v in versions.items()))
    print_peak(peak)
    print(f"XLA_FLAGS={header['xla_flags']}; process pinned to CPU {header['pinned_cpu']}")
    for note in notes:
        print(f"note: {note}")
    print()
    for key, res in results.items():
        printer = {"s": print_small, "c": print_predict, "m": print_memory}.get(key)
        printer(res) if printer else print_training(key, res)
        print()


def print_peak(peak):
    best = peak.best
    if best is None:
        print("FMA peak: not measured (no C compiler or no AVX2+FMA); no peak fractions")
        return
    print(f"FMA peak of one core ({best['isa']}, fma_peak.c): fp32 {best['fp32_gflops']:.1f} "
          f"GFLOP/s, fp64 {best['fp64_gflops']:.1f} GFLOP/s; clock ~{best['ghz']:.2f} GHz "
          f"(dependent integer adds) -> {best['fp32_flop_per_cycle']:.1f} fp32 / "
          f"{best['fp64_flop_per_cycle']:.1f} fp64 FLOP/cycle; fp32 GFLOP/s at the start and "
          "end of the run: " + ", ".join("n/a" if m is None else f"{m['fp32_gflops']:.1f}"
                                         for m in peak.measured))


if __name__ == "__main__":
    main()
