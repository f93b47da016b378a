"""The engine's half of data-parallel training, in one process: the shards'
gradients of a global batch (nnc_shard_gradients), summed and applied
(nnc_apply_gradients), make the same step as nnc_train_batch on the whole
batch, dropout masks and L2 included; bad calls raise clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.processes import run_python

import nnc
from nnc.errors import NonFiniteError, StateError, UnsupportedError


def _model(dtype="float64", optimizer="adam", dropout=0.3, l2=0.05):
    layers = [nnc.Input(5), nnc.Dense(7, activation="tanh")]
    if dropout:
        layers.append(nnc.Dropout(dropout))
    layers.append(nnc.Dense(3, activation="softmax"))
    model = nnc.Sequential(layers, dtype=dtype, seed=3)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", l2=l2)
    return model


def _batch(dtype="float64", rows=23):
    rng = np.random.default_rng(5)
    return (rng.normal(size=(rows, 5)).astype(dtype), rng.integers(0, 3, size=rows),
            rng.uniform(0.5, 1.5, size=rows).astype(dtype))


def _sharded_step(model, x, y, sw, cuts):
    """One step as processes holding x[lo:hi] for consecutive cuts would
    take it: each starts from the same RNG state (its own copy)."""
    core = model.engine
    total, parts = None, 0.0
    bounds = [0, *cuts, len(x)]
    rng = core.get_rng_state()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        core.set_rng_state(rng)
        part, grad = core.shard_gradients(x[lo:hi], y[lo:hi], sw[lo:hi], lo, len(x))
        total = grad if total is None else total + grad
        parts += part
    return parts + core.apply_gradients(total, len(x))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_sharded_steps_equal_whole_batch_steps(optimizer):
    x, y, sw = _batch()
    whole, sharded = _model(optimizer=optimizer), _model(optimizer=optimizer)
    start = whole.get_flat_params()
    for _ in range(3):
        loss = whole.train_on_batch(x, y, sw)
        assert _sharded_step(sharded, x, y, sw, [4, 15]) == pytest.approx(loss, rel=1e-13)
    assert np.max(np.abs(whole.get_flat_params() - start)) > 1e-4
    np.testing.assert_allclose(sharded.get_flat_params(), whole.get_flat_params(),
                               rtol=0, atol=1e-13)
    assert sharded.engine.get_rng_state() == whole.engine.get_rng_state()


def test_one_shard_is_the_whole_batch_bit_for_bit():
    x, y, sw = _batch("float32")
    whole, sharded = _model("float32"), _model("float32")
    whole.train_on_batch(x, y, sw)
    _sharded_step(sharded, x, y, sw, [])
    assert sharded.get_flat_params().tobytes() == whole.get_flat_params().tobytes()


def test_shard_gradients_change_no_parameters():
    x, y, sw = _batch()
    model = _model(dropout=0)
    before = model.get_flat_params()
    _, grad = model.engine.shard_gradients(x, y, sw, 0, len(x))
    assert model.get_flat_params().tobytes() == before.tobytes()
    # Without L2 and dropout, one shard of the whole batch is nnc_gradients.
    plain = _model(dropout=0, l2=0.0)
    _, expected = plain.engine.gradients(x, y, sw)
    _, got = plain.engine.shard_gradients(x, y, sw, 0, len(x))
    np.testing.assert_array_equal(got, expected)


def test_bad_calls_raise_clear_errors():
    x, y, sw = _batch()
    core = _model().engine
    with pytest.raises(ValueError, match=r"rows \[20, 43\) must lie in a global batch of 30"):
        core.shard_gradients(x, y, sw, 20, 30)
    with pytest.raises(ValueError, match="grad: expected 66 values"):
        core.apply_gradients(np.zeros(5), 23)
    with pytest.raises(TypeError, match="grad must have dtype float64"):
        core.apply_gradients(np.zeros(66, np.float32), 23)
    with pytest.raises(ValueError, match="global_rows must be >= 1"):
        core.apply_gradients(np.zeros(66), 0)
    before = core.get_params()
    with pytest.raises(NonFiniteError, match="summed gradient is not finite"):
        core.apply_gradients(np.full(66, np.nan), 23)
    assert core.get_params().tobytes() == before.tobytes()
    lbfgs = _model(optimizer="lbfgs", dropout=0).engine
    with pytest.raises(UnsupportedError, match="L-BFGS"):
        lbfgs.shard_gradients(x, y, sw, 0, len(x))
    with pytest.raises(UnsupportedError, match="L-BFGS"):
        lbfgs.apply_gradients(np.zeros(66), 23)
    uncompiled = nnc.Sequential([nnc.Input(5), nnc.Dense(3)], dtype="float64").engine
    with pytest.raises(StateError):
        uncompiled.apply_gradients(np.zeros(uncompiled.num_params), 23)


def test_import_nnc_distributed_does_not_import_torch(tmp_path):
    proc = run_python(["-c", "import sys, nnc, nnc.distributed; print('torch' in sys.modules)"],
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
