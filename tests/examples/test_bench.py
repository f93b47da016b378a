"""The benchmark scripts run end to end on a tiny problem and report what
they promise: every scenario and library, the JSON fields, and weights that
are bit-identical after one epoch on 1 and on 2 threads (scenario d). No
speed is asserted here: bench/README.md records the figures."""

from __future__ import annotations

import json

from helpers.optional import require
from helpers.paths import REPO
from helpers.processes import run_python

BENCH = REPO / "bench"


def test_compare_reports_every_scenario(tmp_path):
    require("torch")  # the libraries compare.py measures nnc against
    require("sklearn")
    r = run_python([str(BENCH / "compare.py"), "--json", "--repeats", "1", "--samples", "1024",
                    "--calls", "200"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    results = report["results"]
    assert sorted(results) == ["a", "b", "c", "d"]
    for key, threads in (("a", 1), ("b", 1), ("d", 2)):
        res = results[key]
        assert res["samples"] == 1024 and res["threads"] == threads
        assert sorted(res["libs"]) == ["nnc", "sklearn", "torch"]
        for figures in res["libs"].values():
            assert figures["samples_per_s"] > 0 and len(figures["times"]) == 1
        assert res["limit_gflops"] > 0
        assert set(res["ratios"]) >= {"nnc/torch", "nnc/sklearn", "nnc/limit"}
        assert res["verdict"] in ("MET", "NOT MET")
    d = results["d"]
    assert d["weights_bit_identical"] is True
    assert d["nnc_1thread_samples_per_s"] > 0
    assert set(d["core_to_core_ns"]) == {"before", "after"}
    assert all(v is None or v > 0 for v in d["core_to_core_ns"].values())
    c = results["c"]
    assert set(c["latency_us"]) >= {"nnc", "torch", "sklearn"}
    assert all(v > 0 for v in c["latency_us"].values())
    assert c["verdict"] in ("MET", "NOT MET")


def test_compare_prints_a_table_and_skips_libraries(tmp_path):
    r = run_python([str(BENCH / "compare.py"), "--scenario", "d", "--repeats", "1",
                    "--samples", "512", "--skip", "torch,sklearn"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "torch " not in r.stdout and "sklearn " not in r.stdout
    assert "weights after one epoch, 1 vs 2 threads: bit-identical" in r.stdout
    assert "core-to-core latency before/after:" in r.stdout
    assert "target: nnc 2 threads / nnc 1 thread >= 1.7" in r.stdout


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


def test_streaming_trains_on_a_memmap_larger_than_its_memory_limit(tmp_path):
    r = run_python([str(BENCH / "streaming.py"), "--budget-mb", "48", "--factor", "3",
                    "--epochs", "1", "--chunk-mb", "4", "--memory-rows", "2048",
                    "--dir", str(tmp_path)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "file / budget = 3.00" in r.stdout
    assert "copying the array under the limit: MemoryError (refused)" in r.stdout
    assert "growth / (model + chunk) =" in r.stdout
    assert "median ratio memmap / in memory:" in r.stdout
