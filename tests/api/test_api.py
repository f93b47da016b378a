"""The public Python contract (docs/architecture.md and README): weights and their
layout, zero-copy input, conversions, evaluate/summary, dtypes."""

import tracemalloc

import numpy as np
import pytest
from helpers.optional import require

import nnc


def small_model(dtype="float64", **compile_args):
    model = nnc.Sequential([nnc.Dense(5, activation="relu", input_dim=3),
                            nnc.Dense(4, activation="prelu", use_bias=False),
                            nnc.Dense(2, activation="softmax")], dtype=dtype, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", **compile_args)
    return model


def test_get_weights_layout_and_order():
    shapes = [w.shape for w in small_model().get_weights()]
    # Dense 1: W, b; Dense 2: W, slopes (no bias); Dense 3: W, b.
    assert shapes == [(3, 5), (5,), (5, 4), (4,), (4, 2), (2,)]
    slopes = small_model().get_weights()[3]
    np.testing.assert_array_equal(slopes, 0.25)  # PReLU's initial slope


def test_flat_params_are_the_weights_unrolled_in_order():
    model = small_model()
    flat = model.get_flat_params()
    np.testing.assert_array_equal(flat, np.concatenate([w.ravel() for w in model.get_weights()]))
    assert flat.shape == (model.count_params(),) == (15 + 5 + 20 + 4 + 8 + 2,)


def test_set_weights_and_flat_params_round_trip():
    model = small_model()
    rng = np.random.default_rng(0)
    new = [rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    flat = rng.normal(size=model.count_params())
    model.set_flat_params(flat)
    np.testing.assert_array_equal(model.get_flat_params(), flat)
    model.set_flat_params(list(flat))  # any array-like


def test_weights_are_copies():
    model = small_model()
    weights = model.get_weights()
    weights[0][:] = 123.0
    assert not np.any(model.get_weights()[0] == 123.0)


def test_layer_level_weights():
    model = small_model()
    assert len(model.layers) == 3
    w, b = model.layers[0].get_weights()
    assert w.shape == (3, 5) and b.shape == (5,)
    model.layers[2].set_weights([np.ones((4, 2)), np.zeros(2)])
    np.testing.assert_array_equal(model.get_weights()[4], 1.0)
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2", "dense_3"]


def test_gradients_have_the_layout_of_get_weights():
    model = small_model()
    x = np.random.default_rng(1).normal(size=(6, 3))
    y = nnc.datasets.one_hot(np.array([0, 1, 1, 0, 1, 0]), 2, dtype="float64")
    grads = model.gradients(x, y)
    assert [g.shape for g in grads] == [w.shape for w in model.get_weights()]


def test_train_on_batch_returns_the_loss_before_the_step():
    model = small_model()
    x = np.random.default_rng(1).normal(size=(6, 3))
    y = nnc.datasets.one_hot(np.array([0, 1, 1, 0, 1, 0]), 2, dtype="float64")
    before = model.loss(x, y)
    assert model.train_on_batch(x, y) == before
    assert model.loss(x, y) != before


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matching_arrays_reach_the_engine_without_a_copy(dtype):
    """NumPy reports its allocations to tracemalloc: predicting on 8 MB of
    input must not allocate anything near that size."""
    model = nnc.Sequential([nnc.Dense(2, input_dim=100)], dtype=dtype, seed=0)
    x = np.ones((20000, 100), dtype=dtype)
    model.predict(x[:10])  # build and size the workspace
    tracemalloc.start()
    model.predict(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < x.nbytes / 10
    # A mismatched dtype is converted (a copy of the input is made).
    other = x.astype("float64" if dtype == "float32" else "float32")
    tracemalloc.start()
    out = model.predict(other)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak >= x.nbytes // 2
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-5)


def test_other_layouts_and_dtypes_are_converted():
    model = small_model()
    x = np.random.default_rng(2).normal(size=(8, 3))
    expected = model.predict(x)
    np.testing.assert_array_equal(model.predict(np.asfortranarray(x)), expected)
    np.testing.assert_array_equal(model.predict(np.repeat(x, 2, axis=0)[::2]), expected)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(model.predict(ro), expected)
    np.testing.assert_array_equal(model.predict(x.tolist()), expected)
    ints = np.arange(24).reshape(8, 3)
    np.testing.assert_array_equal(model.predict(ints), model.predict(ints.astype(float)))
    np.testing.assert_allclose(model.predict(x.astype(np.float16)),
                               model.predict(x.astype(np.float16).astype(float)))


def test_caller_arrays_are_not_modified():
    model = small_model()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(10, 3))
    y = nnc.datasets.one_hot(rng.integers(0, 2, size=10), 2, dtype="float64")
    x0, y0 = x.copy(), y.copy()
    model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    model.evaluate(x, y)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_predict_on_zero_rows():
    model = small_model()
    out = model.predict(np.zeros((0, 3)))
    assert out.shape == (0, 2)


def test_evaluate_returns_loss_and_metrics():
    model = small_model(metrics=["accuracy"])
    x = np.random.default_rng(4).normal(size=(20, 3))
    labels = (x[:, 0] > 0).astype(int)
    result = model.evaluate(x, nnc.datasets.one_hot(labels, 2, dtype="float64"), return_dict=True)
    assert set(result) == {"loss", "accuracy"}
    pred = np.argmax(model.predict(x), axis=1)
    assert result["accuracy"] == pytest.approx(np.mean(pred == labels))


def test_regression_metrics():
    model = nnc.Sequential([nnc.Dense(1, input_dim=2)], dtype="float64", seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "rmse", "r2"])
    x = np.random.default_rng(5).normal(size=(30, 2))
    y = x @ np.array([1.0, 2.0])
    res = model.evaluate(x, y, return_dict=True)
    pred = model.predict(x)[:, 0]
    assert res["mae"] == pytest.approx(np.mean(np.abs(pred - y)))
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)))
    assert res["r2"] == pytest.approx(1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
    assert res["loss"] == pytest.approx(0.5 * np.mean((pred - y) ** 2))


def test_summary_lists_layers_and_parameter_counts(capsys):
    model = nnc.Sequential([nnc.Dense(8, activation="relu", input_dim=4), nnc.Dropout(0.5),
                            nnc.Dense(3, activation="softmax")], seed=0)
    model.summary()
    out = capsys.readouterr().out
    assert "dense_1 (Dense, relu)" in out and "40" in out
    assert "dropout_1" in out and "27" in out
    assert "Total params: 67" in out
    assert model.count_params() == 67


def test_float32_and_float64_models_agree():
    m32, m64 = small_model("float32"), small_model("float64")
    m32.set_weights(m64.get_weights())
    x = np.random.default_rng(6).normal(size=(10, 3))
    assert m32.predict(x).dtype == np.float32
    np.testing.assert_allclose(m32.predict(x), m64.predict(x), rtol=1e-5, atol=1e-6)


def test_lazy_build_from_the_first_data():
    model = nnc.Sequential([nnc.Dense(3, activation="tanh"), nnc.Dense(1)], seed=0)
    assert not model.built
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 7)), np.zeros(4), epochs=1, verbose=0)
    assert model.built and model.get_weights()[0].shape == (7, 3)


def test_learning_rate_can_be_changed_between_epochs():
    model = small_model()
    assert model.learning_rate == pytest.approx(1e-3)
    model.learning_rate = 0.5
    assert model.learning_rate == 0.5


def test_optimizer_names_and_defaults_follow_torch():
    torch = require("torch")

    params = [torch.zeros(1, requires_grad=True)]
    for name, cls in (("sgd", "SGD"), ("adagrad", "Adagrad"), ("rmsprop", "RMSprop"),
                      ("adam", "Adam"), ("adamw", "AdamW"), ("lbfgs", "LBFGS")):
        mine = nnc.optimizers.get(name).get_config()
        theirs = getattr(torch.optim, cls)(params).defaults
        assert mine["learning_rate"] == theirs["lr"], name
        if name == "lbfgs":  # None means torch's max_iter * 5 // 4
            assert mine["max_eval"] is None and theirs["max_eval"] == mine["max_iter"] * 5 // 4
            del mine["max_eval"]
        for key, value in mine.items():
            if key in theirs and key != "lr":
                assert theirs[key] == value, (name, key)


def test_seeded_initialisation_is_reproducible_and_seed_dependent():
    a = nnc.Sequential([nnc.Dense(4, input_dim=3)], seed=5).get_flat_params()
    b = nnc.Sequential([nnc.Dense(4, input_dim=3)], seed=5).get_flat_params()
    c = nnc.Sequential([nnc.Dense(4, input_dim=3)], seed=6).get_flat_params()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("init, check", [
    ("zeros", lambda w, fi, fo: np.all(w == 0)),
    ("ones", lambda w, fi, fo: np.all(w == 1)),
    ("glorot_uniform", lambda w, fi, fo: np.abs(w).max() <= np.sqrt(6 / (fi + fo))),
    ("he_uniform", lambda w, fi, fo: np.abs(w).max() <= np.sqrt(6 / fi)),
    ("lecun_uniform", lambda w, fi, fo: np.abs(w).max() <= np.sqrt(3 / fi)),
    ("glorot_normal", lambda w, fi, fo: abs(w.std() / np.sqrt(2 / (fi + fo)) - 1) < 0.05),
    ("he_normal", lambda w, fi, fo: abs(w.std() / np.sqrt(2 / fi) - 1) < 0.05),
    ("lecun_normal", lambda w, fi, fo: abs(w.std() / np.sqrt(1 / fi) - 1) < 0.05),
])
def test_initializers_follow_their_formulas(init, check):
    fi, fo = 200, 100
    model = nnc.Sequential([nnc.Dense(fo, kernel_initializer=init, input_dim=fi)],
                           dtype="float64", seed=0)
    w = model.get_weights()[0]
    assert check(w, fi, fo)


@pytest.mark.parametrize("act, limit", [
    ("tanh", np.sqrt(6 / 300)), ("sigmoid", 4 * np.sqrt(6 / 300)), ("relu", np.sqrt(12 / 300)),
    ("linear", np.sqrt(6 / 300)),
])
def test_auto_initializer_is_the_notes_table(act, limit):
    # No longer the default (docs/design.md, Default initialisation), still there by name.
    model = nnc.Sequential([nnc.Dense(100, activation=act, input_dim=200,
                                      kernel_initializer="auto")], dtype="float64", seed=0)
    w = model.get_weights()[0]
    assert w.max() <= limit and w.max() > 0.99 * limit and w.min() >= -limit
    # Uniform: variance limit^2 / 3.
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.03)


def test_parametrised_and_bias_initializers():
    model = nnc.Sequential([nnc.Dense(50, kernel_initializer=nnc.initializers.RandomUniform(0.2),
                                      bias_initializer=nnc.initializers.Constant(0.01),
                                      input_dim=40)], dtype="float64", seed=0)
    w, b = model.get_weights()
    assert np.abs(w).max() <= 0.2 and np.abs(w).max() > 0.19
    np.testing.assert_array_equal(b, 0.01)
