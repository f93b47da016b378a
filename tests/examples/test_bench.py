"""The benchmark scripts run end to end on a tiny problem and report what
they promise: the FMA peak probe, every scenario and library of
compare.py's quick mode (the whole set as a slow extra), the JSON fields,
and weights that are bit-identical after one epoch on 1 and on 2 threads
(scenario d). No speed is asserted here: bench/README.md records the
figures."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from helpers.optional import need, require
from helpers.paths import REPO
from helpers.processes import run_python

BENCH = REPO / "bench"


TRAINING_LIBS = ["jax_scan", "jax_step", "keras", "nnc", "sklearn", "torch"]
PREDICT_LIBS = {"nnc", "onnxruntime", "onnxruntime_iobinding", "torch", "jax", "sklearn"}


def require_peers():
    """The libraries compare.py measures nnc against (in CI: all installed).
    Looked up, not imported: importing keras here would fix its backend for
    the whole test session (compare.py runs it on JAX in its own process)."""
    for module in ("torch", "sklearn", "jax", "optax", "keras", "onnxruntime", "onnx"):
        if importlib.util.find_spec(module) is None:
            need(module, "bench/compare.py measures nnc against it")


def run_quick(tmp_path, scenarios, *extra):
    r = run_python([str(BENCH / "compare.py"), "--quick", "--json", "--scenario", scenarios,
                    *extra], cwd=tmp_path, timeout=900)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_fma_peak_probe_reports_both_precisions():
    import sys

    sys.path.insert(0, str(BENCH))
    try:
        from fma_peak import fma_peak
    finally:
        sys.path.remove(str(BENCH))
    peak = fma_peak(0.02)
    if peak is None:  # no C compiler, or no AVX2+FMA: compare.py then prints no fractions
        return
    assert peak["isa"] in ("avx512", "avx2")
    assert peak["fp32_gflops"] > 0 and peak["fp64_gflops"] > 0 and peak["ghz"] > 0
    # FLOP per cycle: at least one 256-bit FMA unit (16 fp32 FLOP), at most
    # two 512-bit ones (64), with room for a noisy clock estimate.
    assert 4 < peak["fp32_flop_per_cycle"] < 128
    assert 2 < peak["fp64_flop_per_cycle"] < 64


def check_training(res, samples, threads, libs):
    assert res["samples"] == samples and res["threads"] == threads
    assert sorted(res["libs"]) == libs
    for figures in res["libs"].values():
        assert figures["samples_per_s"] > 0 and len(figures["times"]) == 1
        assert figures["cpu_per_wall"] > 0
        assert figures["peak_fraction"] is None or figures["peak_fraction"] > 0
    assert res["limit_gflops"] > 0
    assert set(res["ratios"]) >= {f"nnc/{k}" for k in libs if k != "nnc"} | {"nnc/limit",
                                                                              "nnc/peak"}


def check_small_and_predict(results):
    s = results["s"]
    assert sorted(s["libs"]) == sorted(TRAINING_LIBS + ["nnc_fit_per_epoch"])
    assert s["steps_per_epoch"] == 7 and s["epochs_per_call"] == 3
    for figures in s["libs"].values():
        assert figures["us_per_epoch"] > 0
        assert figures["us_per_step"] * 7 == pytest.approx(figures["us_per_epoch"])
    c = results["c"]
    assert sorted(c["nets"]) == ["784-128-10", "784-512-512-10"]
    for spec, net in c["nets"].items():
        assert set(net["rows_per_s"]) == PREDICT_LIBS
        assert all(v > 0 for v in net["rows_per_s"].values()) and net["limit_gflops"] > 0
        assert ("latency_us" in net) == (spec == "784-128-10")
    assert set(c["nets"]["784-128-10"]["latency_us"]) == PREDICT_LIBS


def test_compare_quick_reports_every_peer(tmp_path):
    require_peers()
    report = run_quick(tmp_path, "a,s,c")
    assert report["notes"] == []  # every peer installed: none skipped
    assert report["pinned_cpu"] is not None  # 1-thread scenarios only: pinned
    assert "--xla_cpu_multi_thread_eigen=false" in report["xla_flags"]
    assert len(report["fma_peak_runs"]) == 2  # start and end of the run
    results = report["results"]
    assert sorted(results) == ["a", "c", "s"]
    check_training(results["a"], 1024, 1, TRAINING_LIBS)
    check_small_and_predict(results)


@pytest.mark.slow_extra
def test_compare_quick_runs_every_scenario(tmp_path):
    require_peers()
    results = run_quick(tmp_path, "a,b,a64,b64,s,c,m,d")["results"]
    for key in ("a", "b", "a64", "b64"):
        check_training(results[key], 1024, 1, TRAINING_LIBS)
        assert results[key]["dtype"] == ("float64" if key.endswith("64") else "float32")
    check_small_and_predict(results)
    m = results["m"]
    assert sorted(m["libs"]) == TRAINING_LIBS
    for figures in m["libs"].values():
        # the data (3 MiB) is resident during the epoch: at least 1x the input
        assert figures["peak_over_input"] >= 0.9, figures
        # the median of --repeats processes (1 in --quick), inside its range
        assert figures["processes"] == m["repeats"] == 1, figures
        assert figures["range"][0] <= figures["peak_over_input"] <= figures["range"][1]
    d = results["d"]
    check_training(d, 1024, 2, ["nnc", "sklearn", "torch"])  # XLA's threads are fixed
    assert d["weights_bit_identical"] is True
    assert d["nnc_1thread_samples_per_s"] > 0
    assert set(d["core_to_core_ns"]) == {"before", "after"}
    assert all(v is None or v > 0 for v in d["core_to_core_ns"].values())


def test_compare_prints_a_table_and_skips_libraries(tmp_path):
    r = run_python([str(BENCH / "compare.py"), "--quick", "--scenario", "d",
                    "--skip", "torch,sklearn,jax,keras,onnxruntime"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for lib in ("torch", "sklearn", "jax", "keras", "onnxruntime"):
        assert f"note: {lib}: left out (--skip)" in r.stdout
    table = r.stdout.split("(d) train", 1)[1]
    assert "torch " not in table and "sklearn " not in table
    assert "weights after one epoch, 1 vs 2 threads: bit-identical" in r.stdout
    assert "core-to-core latency before/after:" in r.stdout
    assert "FMA peak" in r.stdout


def test_thread_scaling_prints_one_row_per_round(tmp_path):
    require("threadpoolctl")  # bench/thread_scaling.py imports it (scikit-learn installs it)
    r = run_python([str(BENCH / "thread_scaling.py"), "--rounds", "2", "--rows", "1024"],
                   cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["round", "unshared"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == ["1", "2"]
    for row in rows:
        assert float(row[1].rstrip("x")) > 0 and float(row[2].rstrip("x")) > 0
        assert row[3] == "n/a" or float(row[3]) > 0


def test_subnormals_bench_times_nnc_and_both_torch_modes(tmp_path):
    require("torch")
    r = run_python([str(BENCH / "subnormals.py"), "--rows", "640", "--epochs", "2"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = {line[:30].strip(): line[30:].split() for line in r.stdout.splitlines()
            if line.startswith("  ")}
    assert set(rows) == {"nnc (flushes)", "torch, IEEE (default)", "torch, set_flush_denormal"}
    assert all(len(times) == 2 and all(float(t) > 0 for t in times) for times in rows.values())
    assert "torch flushed / torch default speed" in r.stdout


def test_streaming_trains_on_a_memmap_larger_than_its_memory_limit(tmp_path):
    r = run_python([str(BENCH / "streaming.py"), "--budget-mb", "48", "--factor", "3",
                    "--epochs", "1", "--chunk-mb", "4", "--memory-rows", "2048",
                    "--dir", str(tmp_path)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "file / budget = 3.00" in r.stdout
    assert "copying the array under the limit: MemoryError (refused)" in r.stdout
    assert "growth / (model + chunk) =" in r.stdout
    assert "median ratio memmap / in memory:" in r.stdout


def test_gemm_bench_times_every_product_on_each_kernel_set_and_numpy(tmp_path):
    import shutil

    from nnc import _core

    if not (shutil.which("cc") or shutil.which("gcc")) or not shutil.which("make"):
        need("a C compiler and make", "bench/gemm.py builds the engine's static library")
    sets = [s for s in _core.supported_kernel_archs() if s != "ref"] or ["ref"]
    r = run_python([str(BENCH / "gemm.py"), "--quick"], cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = next(line for line in lines if line.strip().startswith("product")).split()
    assert header[header.index("K") + 1:] == [
        *sorted(sets, key=lambda s: s != _core.get_kernel_arch()), "numpy", "nnc/numpy"]
    rows = [line.split() for line in lines if line.startswith(("  (b)", "  small"))]
    assert len(rows) == 3
    for row in rows:
        # label words, the shape (M x N x K), then GFLOP/s cells, each with
        # an optional "(NN%)" of the peak, and nnc/numpy last.
        after_shape = row[next(i for i, t in enumerate(row) if re.fullmatch(r"\d+x\d+x\d+", t))
                          + 1:]
        gflops = [float(t) for t in after_shape[:-1] if not t.startswith("(") and "%" not in t]
        assert len(gflops) == len(sets) + 1 and all(g > 0 for g in gflops), row
        assert float(after_shape[-1]) == pytest.approx(gflops[0] / gflops[-1], rel=0.02), row


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_interrupt_latency_times_every_case(tmp_path):
    r = run_python([str(BENCH / "interrupt_latency.py"), "--quick"], cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()
            if line.startswith(("  small", "  large", "  lbfgs"))]
    assert [row[0] for row in rows] == ["small-batches", "large-batches", "lbfgs-full-batch"]
    for row in rows:  # ... one step, median, max: each "<value> ms", all positive
        values = [float(t) for t in row[3:] if t != "ms"]
        assert len(values) == 3 and all(v > 0 for v in values), row
        assert values[1] <= values[2], row  # the median is not above the max


def test_elementwise_bench_times_each_op_on_each_kernel_set(tmp_path):
    import shutil

    from nnc import _core

    if not (shutil.which("cc") or shutil.which("gcc")) or not shutil.which("make"):
        need("a C compiler and make", "bench/elementwise.py builds the engine's static library")
    sets = sorted(_core.supported_kernel_archs(),
                  key=lambda s: (s != _core.get_kernel_arch(), s == "ref"))
    r = run_python([str(BENCH / "elementwise.py"), "--quick"], cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = next(line for line in lines if line.strip().startswith("op ")).split()
    assert header[1:1 + len(sets)] == sets and header[-2:] == ["nnc/best", "peer"]
    assert "numpy" in header
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")
            and line.split()[0] in ("tanh", "sigmoid", "d_tanh")}
    assert list(rows) == ["tanh", "sigmoid", "d_tanh"]
    for line in rows.values():
        # one "ns (cycles)" cell per kernel set, each positive
        times = [float(t) for t in re.findall(r"(\d+\.\d+) \(\s*\d+\.\d+\)", line)]
        assert len(times) >= len(sets) and all(t > 0 for t in times), line
    # np.tanh exists: tanh compares nnc with a peer; d_tanh has none
    assert rows["tanh"].split()[-1] != "-" and rows["d_tanh"].split()[-1] == "-"


def test_fit_call_ab_gives_each_checkout_its_rounds_and_ratio(tmp_path):
    import nnc

    installed = str(Path(nnc.__file__).parents[1])  # the nnc this suite tests, twice
    r = run_python([str(BENCH / "fit_call_ab.py"), installed, installed, "--rounds", "2",
                    "--calls", "20", "--repeats", "1"], cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.strip() for line in lines if not line.startswith("    ")][1:] == [installed] * 2
    ratios = [line for line in lines if line.strip().startswith("ratio")]
    assert len(ratios) == 2
    for line in ratios:  # two rounds and the median, each a positive ratio
        values = [float(v) for v in re.findall(r"\d+\.\d+", line)]
        assert len(values) == 3 and all(v > 0 for v in values), line
        assert min(values[:2]) <= values[2] <= max(values[:2]), line
