"""model.trace / model.activation_stats (nnc.inspect, engine nnc_trace) and
the GradientStats callback: values against the NumPy reference, both
dtypes, and proof that inspection changes no training state. nnc_trace
called from C is tested by engine/test_c_engine.py (tests/c/test_trace.c)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import reference as ref
from helpers.models import dense_layers
from helpers.optional import require

import nnc

DTYPES = ["float32", "float64"]
TOL = {"float32": 2e-5, "float64": 1e-12}


def mixed_model(dtype, seed=0):
    """Every layer kind trace must handle: dropout, prelu, no bias, softmax."""
    model = nnc.Sequential([
        nnc.Dense(7, activation="tanh", input_dim=5),
        nnc.Dropout(0.3),
        nnc.Dense(6, activation="prelu", use_bias=False),
        nnc.Dense(9, activation="relu"),
        nnc.Dense(4, activation="sigmoid"),
        nnc.Dense(3, activation="softmax"),
    ], dtype=dtype, seed=seed)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def ref_specs(model):
    return [{"units": d.units, "activation": d.activation, "use_bias": d.use_bias}
            for d in dense_layers(model)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 37, 1300])  # 1300 > the engine's 512-row chunk
def test_trace_matches_reference_forward(dtype, rows):
    model = mixed_model(dtype)
    x = np.random.default_rng(rows).normal(size=(rows, 5))
    layers = model.trace(x)
    zs, acts = ref.forward([w.astype(np.float64) for w in model.get_weights()],
                           ref_specs(model), x.astype(dtype).astype(np.float64))
    assert [t.name for t in layers] == ["dense_1", "dense_2", "dense_3", "dense_4", "dense_5"]
    assert [t.activation for t in layers] == ["tanh", "prelu", "relu", "sigmoid", "softmax"]
    for t, z, a in zip(layers, zs, acts):
        assert t.z.dtype == np.dtype(dtype) and t.a.dtype == np.dtype(dtype)
        assert t.z.shape == z.shape == t.a.shape
        scale = max(1.0, float(np.max(np.abs(z))))
        np.testing.assert_allclose(t.z, z, rtol=0, atol=TOL[dtype] * scale)
        np.testing.assert_allclose(t.a, a, rtol=0, atol=TOL[dtype] * scale)
    # The output layer's activations are exactly what predict returns.
    np.testing.assert_array_equal(layers[-1].a, model.predict(x))


def test_trace_relu_z_keeps_negative_values():
    # relu's fused epilogue writes z and a together: z must stay the raw product.
    model = nnc.Sequential([nnc.Dense(16, activation="relu", input_dim=3)], seed=2)
    x = np.random.default_rng(0).normal(size=(50, 3))
    t = model.trace(x)[0]
    assert np.any(t.z < 0)
    np.testing.assert_array_equal(t.a, np.maximum(t.z, 0))


def test_trace_empty_and_bad_input():
    model = mixed_model("float32")
    empty = model.trace(np.zeros((0, 5)))
    assert [t.z.shape for t in empty] == [(0, 7), (0, 6), (0, 9), (0, 4), (0, 3)]
    with pytest.raises(ValueError, match="x: expected 5 features"):
        model.trace(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="x"):
        model.trace(np.array([[0.0, 1.0, np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="x: expected at least one sample"):
        model.activation_stats(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="bins"):
        model.activation_stats(np.zeros((2, 5)), bins=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_stats_values(dtype):
    model = nnc.Sequential([
        nnc.Dense(20, activation="sigmoid", input_dim=4,
                  kernel_initializer=nnc.initializers.RandomNormal(3.0)),
        nnc.Dense(10, activation="relu"),
        nnc.Dense(8, activation="tanh", kernel_initializer=nnc.initializers.RandomNormal(2.0)),
        nnc.Dense(2),
    ], dtype=dtype, seed=3)
    # Kill relu units 0, 3 and 7 for any input: weights 0, bias -1.
    w = model.get_weights()
    for unit in (0, 3, 7):
        w[2][:, unit] = 0.0
        w[3][unit] = -1.0
    model.set_weights(w)
    x = np.random.default_rng(1).normal(size=(400, 4))
    stats = model.activation_stats(x, bins=12)
    layers = model.trace(x)
    for s, t in zip(stats, layers):
        a = t.a.astype(np.float64)
        assert s["name"] == t.name and s["units"] == a.shape[1]
        assert s["mean"] == pytest.approx(a.mean(), rel=1e-12)
        assert s["std"] == pytest.approx(a.std(), rel=1e-12)
        assert s["hist_counts"].sum() == a.size and len(s["hist_edges"]) == 13
    sig, relu, tanh, lin = stats
    expected_sat = np.mean((layers[0].a <= 0.01) | (layers[0].a >= 0.99))
    assert sig["saturated"] == pytest.approx(expected_sat) and 0.2 < sig["saturated"] < 1.0
    assert sig["hist_edges"][0] == 0.0 and sig["hist_edges"][-1] == 1.0
    assert tanh["hist_edges"][0] == -1.0 and tanh["hist_edges"][-1] == 1.0
    assert tanh["saturated"] == pytest.approx(np.mean(np.abs(layers[2].a) >= 0.99))
    dead_units = np.all(layers[1].a <= 0, axis=0)
    assert dead_units[[0, 3, 7]].all()
    assert relu["dead"] == pytest.approx(dead_units.mean()) and relu["dead"] >= 0.3
    assert math.isnan(relu["saturated"]) and math.isnan(sig["dead"])
    assert math.isnan(lin["saturated"]) and math.isnan(lin["dead"])
    table = nnc.inspect.format_stats(stats)
    assert "dense_2" in table and f"{relu['dead']:.3f}" in table


def training_state(model):
    core = model.engine
    return (core.get_params().tobytes(), core.get_optimizer_state(), core.get_rng_state())


@pytest.mark.parametrize("dtype", DTYPES)
def test_inspection_changes_no_training_state(dtype, tmp_path):
    """trace, activation_stats, the plots and the gradient check leave
    weights, optimizer state and RNG state bit for bit as they were, so
    training afterwards is identical to training without them."""
    require("matplotlib").use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    y = nnc.datasets.one_hot(rng.integers(0, 3, 64), 3, dtype=dtype)
    inspected, plain = mixed_model(dtype, seed=5), mixed_model(dtype, seed=5)
    for m in (inspected, plain):
        m.fit(x, y, epochs=2, batch_size=16, verbose=0)  # non-trivial Adam state and RNG
    before = training_state(inspected)
    assert before == training_state(plain)
    inspected.trace(x)
    inspected.activation_stats(x)
    plt.close(nnc.plot.activation_histograms(inspected, x))
    nnc.testing.assert_gradients_close(inspected, x[:8], y[:8], rtol=1e-5)
    assert training_state(inspected) == before
    for m in (inspected, plain):
        m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert training_state(inspected) == training_state(plain)


# ------------------------------------------------------------- GradientStats


def layer_norms_by_hand(model, flat):
    out, start = {}, 0
    for layer in dense_layers(model):
        n = sum(w.size for w in layer.get_weights())
        out[layer.name] = float(np.linalg.norm(flat[start:start + n].astype(np.float64)))
        start += n
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_stats_records_norms_each_epoch(dtype):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 3))
    y = rng.integers(0, 2, 90)
    model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=3),
                            nnc.Dense(6, activation="prelu"),
                            nnc.Dense(2, activation="softmax")], dtype=dtype, seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", l2=0.01)
    hist = model.fit(x, y, epochs=3, batch_size=32, verbose=0,
                     callbacks=[nnc.callbacks.GradientStats()])
    keys = [k for k in hist.history if "/" in k]
    assert keys == ["grad_norm/dense_1", "grad_norm/dense_2", "grad_norm/dense_3",
                    "weight_norm/dense_1", "weight_norm/dense_2", "weight_norm/dense_3"]
    assert all(len(hist.history[k]) == 3 for k in keys)
    # The last epoch's entries are the norms at the final weights.
    grad = np.concatenate([g.ravel() for g in model.gradients(x, y)])
    want_g = layer_norms_by_hand(model, grad)
    want_w = layer_norms_by_hand(model, model.get_flat_params())
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for name in want_g:
        assert hist.history[f"grad_norm/{name}"][-1] == pytest.approx(want_g[name], rel=rtol)
        assert hist.history[f"weight_norm/{name}"][-1] == pytest.approx(want_w[name], rel=rtol)
    assert hist.history["grad_norm/dense_1"][0] != hist.history["grad_norm/dense_1"][-1]


def test_gradient_stats_max_samples_and_training_unchanged():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(200, 4)), rng.normal(size=(200, 1))

    def run(callbacks):
        model = nnc.Sequential([nnc.Dense(5, activation="relu", input_dim=4), nnc.Dense(1)],
                               dtype="float64", seed=1)
        model.compile(optimizer="adam", loss="mse")
        hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=callbacks)
        return model, hist

    stats = nnc.callbacks.GradientStats(max_samples=50)
    with_stats, hist = run([stats])
    without, _ = run(None)
    # The callback does not perturb training (same shuffles, same steps).
    assert training_state(with_stats) == training_state(without)
    rows = np.linspace(0, 199, 50).astype(np.int64)
    grad = np.concatenate([g.ravel() for g in with_stats.gradients(x[rows], y[rows])])
    want = layer_norms_by_hand(with_stats, grad)
    assert hist.history["grad_norm/dense_1"][-1] == pytest.approx(want["dense_1"], rel=1e-12)
    assert stats.training_run is None  # the training arrays are not kept after fit
    with pytest.raises(ValueError, match="max_samples"):
        nnc.callbacks.GradientStats(max_samples=0)


def test_history_records_keys_added_by_callbacks():
    class AddKey(nnc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["custom"] = epoch * 10

    model = nnc.Sequential([nnc.Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
                     callbacks=[AddKey()])
    assert hist.history["custom"] == [0, 10, 20]
