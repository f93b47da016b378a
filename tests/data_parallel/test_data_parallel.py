"""Synchronous data-parallel training (nnc.distributed) with 2 local
processes over loopback, launched by torch's own launcher: in float64 the
weights after the epochs equal single-process training on the same global
batches to 1e-12, and every rank holds bit-identical weights (float64 and
float32); bad set-ups raise the same clear exception on every rank."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import data_parallel as dp
from helpers.optional import require
from helpers.processes import PACKAGE_PARENT

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of the two ranks saw (dp_worker.py)."""
    require("torch")
    import subprocess
    out = tmp_path_factory.mktemp("data_parallel")
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([PACKAGE_PARENT, str(HERE.parent)])}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         f"--nproc_per_node={dp.WORLD}", str(HERE / "dp_worker.py"), str(out)],
        capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(dp.WORLD)]


@pytest.mark.parametrize("name", list(dp.SCENARIOS))
def test_ranks_hold_bit_identical_weights(ranks, name):
    a, b = ranks[0][f"{name}_params"], ranks[1][f"{name}_params"]
    assert a.dtype == np.dtype(dp.SCENARIOS[name][0])
    assert a.tobytes() == b.tobytes()
    assert ranks[0][f"{name}_loss"].tobytes() == ranks[1][f"{name}_loss"].tobytes()


@pytest.mark.parametrize("name", ["adam64", "sgd_momentum64"])
def test_float64_equals_single_process_on_the_global_batches(ranks, name):
    expected, losses = dp.reference(name)
    start = dp.build(name).get_flat_params()
    got = ranks[0][f"{name}_params"]
    assert np.max(np.abs(got - start)) > 1e-2  # the epochs did train
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ranks[0][f"{name}_loss"], losses, rtol=1e-12)


def test_float32_is_close_to_single_process(ranks):
    expected, losses = dp.reference("adam32")
    np.testing.assert_allclose(ranks[0]["adam32_params"], expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ranks[0]["adam32_loss"], losses, rtol=1e-5)


def test_exchange_time_is_measured(ranks):
    for r in ranks:
        assert np.all(r["adam64_exchange"] > 0)


@pytest.mark.parametrize("case, expected", [
    ("mismatched_rows", "ValueError: nnc.distributed.fit: mismatched x across ranks: "
                        "rank 0 has ((62, 6), 'float64'), rank 1 has ((50, 6), 'float64')"),
    ("mismatched_width", "ValueError: nnc.distributed.fit: mismatched x across ranks"),
    ("mismatched_optimizer", "ValueError: nnc.distributed.fit: mismatched the optimizer across "
                             "ranks: rank 0 has {'name': 'adam'"),
])
def test_mismatched_shards_raise_on_every_rank(ranks, case, expected):
    for r in ranks:
        assert str(r[f"{case}_error"]).startswith(expected)


def test_lbfgs_is_refused_on_every_rank(ranks):
    assert str(ranks[1]["lbfgs_error"]).startswith(
        "UnsupportedError: nnc.distributed.fit: L-BFGS is not supported")
    assert str(ranks[0]["lbfgs_error"]).startswith(
        "UnsupportedError: nnc.distributed.fit: rank 1: L-BFGS is not supported")
