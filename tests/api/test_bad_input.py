"""Bad input raises ValueError/TypeError (MemoryError for absurd sizes)
naming the argument, and never changes the model."""

import warnings

import numpy as np
import pytest

import nnc


def model_and_data(loss="mse"):
    out = "softmax" if "categorical" in loss else "sigmoid" if "binary" in loss else "linear"
    model = nnc.Sequential([nnc.Dense(4, activation="tanh", input_dim=3),
                            nnc.Dense(2, activation=out)], dtype="float64", seed=0)
    model.compile(optimizer="adam", loss=loss)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, size=10) if loss.startswith("sparse") else rng.uniform(size=(10, 2))
    return model, x, y


def snapshot(model):
    return (model.get_flat_params(), model.engine.get_optimizer_state(),
            model.engine.get_rng_state(), model.compiled_loss)


def assert_unchanged(model, before):
    after = snapshot(model)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


@pytest.mark.parametrize("make, error, words", [
    (lambda: nnc.Dense(4, activation="relux"), ValueError, "activation"),
    (lambda: nnc.Dense(0), ValueError, "units"),
    (lambda: nnc.Dense(-3), ValueError, "units"),
    (lambda: nnc.Dense(2.5), TypeError, "units"),
    (lambda: nnc.Dense(True), TypeError, "units"),
    (lambda: nnc.Dense(3, use_bias="yes"), TypeError, "use_bias"),
    (lambda: nnc.Dense(3, kernel_initializer="glorious"), ValueError, "kernel_initializer"),
    (lambda: nnc.Dense(3, bias_initializer="he_normal"), ValueError, "bias_initializer"),
    (lambda: nnc.Dropout(1.0), ValueError, "rate"),
    (lambda: nnc.Dropout(-0.1), ValueError, "rate"),
    (lambda: nnc.Dropout(float("nan")), ValueError, "rate"),
    (lambda: nnc.Input((3, 4)), ValueError, "shape"),
    (lambda: nnc.Sequential(dtype="float16"), ValueError, "dtype"),
    (lambda: nnc.Sequential(dtype="int32"), ValueError, "dtype"),
    (lambda: nnc.Sequential(seed=-1), ValueError, "seed"),
    (lambda: nnc.Sequential(["dense"]), TypeError, "layers"),
    (lambda: nnc.optimizers.Adam(learning_rate=-1), ValueError, "learning_rate"),
    (lambda: nnc.optimizers.Adam(betas=(0.9, 1.0)), ValueError, "beta2"),
    (lambda: nnc.optimizers.Adam(betas=0.9), ValueError, "betas"),
    (lambda: nnc.optimizers.SGD(nesterov=True), ValueError, "nesterov"),
    (lambda: nnc.optimizers.LBFGS(line_search_fn="armijo"), ValueError, "line_search_fn"),
    (lambda: nnc.optimizers.get("adamax"), ValueError, "optimizer"),
])
def test_constructors_name_the_bad_argument(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_compile_rejects_unknown_names_and_bad_pairings():
    model, *_ = model_and_data()
    with pytest.raises(ValueError, match="loss"):
        model.compile(loss="hinge")
    with pytest.raises(ValueError, match="sigmoid"):
        model.compile(loss="binary_crossentropy")  # linear output
    with pytest.raises(ValueError, match="softmax"):
        model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="l2"):
        model.compile(loss="mse", l2=-0.1)
    with pytest.raises(ValueError, match="metrics"):
        model.compile(loss="mse", metrics=["f1"])
    assert model.compiled_loss == "mse"  # the failed compiles changed nothing


@pytest.mark.parametrize("x, error, words", [
    (np.zeros(3), ValueError, "x: expected a 2-D"),
    (np.zeros((2, 3, 1)), ValueError, "x: expected a 2-D"),
    (np.float64(1.0), ValueError, "x: expected a 2-D"),
    (np.zeros((10, 4)), ValueError, "x: expected 3 features"),
    (np.zeros((0, 3)), ValueError, "x: expected at least one sample"),
    (np.full((10, 3), np.nan), ValueError, "x: contains NaN"),
    (np.full((10, 3), np.inf), ValueError, "x: contains NaN"),
    (np.zeros((10, 3), dtype=complex), TypeError, "x: complex"),
    (np.array([["a", "b", "c"]] * 10), TypeError, "x: expected numbers"),
    (np.array([[object()] * 3] * 10), TypeError, "x: expected numbers"),
    ("not an array", TypeError, "x"),
])
def test_fit_rejects_bad_x_and_leaves_the_model_alone(x, error, words):
    model, _, y = model_and_data()
    before = snapshot(model)
    with pytest.raises(error, match=words):
        model.fit(x, y, epochs=1, verbose=0)
    assert_unchanged(model, before)


@pytest.mark.parametrize("loss, y, words", [
    ("mse", np.zeros((10, 3)), "y: expected shape"),
    ("mse", np.zeros((9, 2)), "y: has 9 samples"),
    ("mse", np.zeros(10), "y: expected shape"),
    ("mse", np.full((10, 2), np.nan), "y: contains NaN"),
    ("sparse_categorical_crossentropy", np.array([0, 1, 2] * 3 + [0]), r"y: class labels must"),
    ("sparse_categorical_crossentropy", np.array([-1] + [0] * 9), r"y: class labels must"),
    ("sparse_categorical_crossentropy", np.array([0.5] * 10), "whole numbers"),
    ("categorical_crossentropy", np.zeros(10, dtype=int), "one-hot"),
])
def test_fit_rejects_bad_y(loss, y, words):
    model, x, _ = model_and_data(loss)
    before = snapshot(model)
    with pytest.raises(ValueError, match=words):
        model.fit(x, y, epochs=1, verbose=0)
    assert_unchanged(model, before)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"epochs": -1}, ValueError, "epochs"),
    ({"epochs": 1.5}, TypeError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"shuffle": "yes"}, TypeError, "shuffle"),
    ({"validation_split": 1.0}, ValueError, "validation_split"),
    ({"verbose": 5}, ValueError, "verbose"),
    ({"sample_weight": -np.ones(10)}, ValueError, "sample_weight"),
    ({"sample_weight": np.ones(9)}, ValueError, "sample_weight"),
    ({"sample_weight": np.full(10, np.nan)}, ValueError, "sample_weight"),
    ({"class_weight": {7: 1.0}}, ValueError, "class_weight"),
    ({"validation_data": (np.zeros((2, 5)), np.zeros((2, 2)))}, ValueError, "validation_data x"),
    ({"callbacks": [object()]}, TypeError, "callbacks"),
])
def test_fit_rejects_bad_options(kwargs, error, words):
    model, x, y = model_and_data()
    before = snapshot(model)
    with pytest.raises(error, match=words):
        model.fit(x, y, **{"epochs": 1, "verbose": 0, **kwargs})
    assert_unchanged(model, before)


def test_calls_before_compile_or_build_raise_runtime_error():
    model = nnc.Sequential([nnc.Dense(2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="not built"):
        model.get_weights()


def test_set_weights_is_all_or_nothing():
    model, *_ = model_and_data()
    before = snapshot(model)
    good = model.get_weights()
    for bad, words in (
        (good[:-1], "expected 4 arrays"),
        ([np.zeros((2, 2))] + good[1:], r"weights\[0\]: expected shape"),
        (good[:3] + [np.array([np.nan, 0.0])], r"weights\[3\]: contains NaN"),
        (np.zeros(4), "list of arrays"),
    ):
        with pytest.raises((ValueError, TypeError), match=words):
            model.set_weights(bad)
        assert_unchanged(model, before)
    with pytest.raises(ValueError, match="params"):
        model.set_flat_params(np.zeros(5))
    with pytest.raises(ValueError, match="params: contains NaN"):
        model.set_flat_params(np.full(model.count_params(), np.nan))
    assert_unchanged(model, before)


def test_step_activation_is_forward_only():
    model = nnc.Sequential([nnc.Dense(2, activation="step", input_dim=2), nnc.Dense(1)],
                           dtype="float64", seed=0)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((3, 2)), np.ones((3, 1))
    assert model.predict(x).shape == (3, 1)
    assert np.isfinite(model.loss(x, y))
    before = snapshot(model)
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.gradients(x, y),
                 lambda: model.train_on_batch(x, y), lambda: nnc.gradcheck(model, x, y)):
        with pytest.raises(ValueError, match="step"):
            call()
    assert_unchanged(model, before)


def test_absurd_sizes_fail_fast_without_allocating():
    with pytest.raises(MemoryError):
        nnc.Sequential([nnc.Dense(10**12, input_dim=10)]).build()
    with pytest.raises(MemoryError):
        nnc.Sequential([nnc.Dense(10**7, input_dim=10**7)]).build()
    with pytest.raises((ValueError, MemoryError)):
        nnc.Sequential([nnc.Dense(2**63 + 5, input_dim=2)]).build()


def test_lbfgs_refuses_dropout():
    model = nnc.Sequential([nnc.Dense(4, input_dim=2), nnc.Dropout(0.5), nnc.Dense(1)], seed=0)
    with pytest.raises(ValueError, match="L-BFGS"):
        model.compile(optimizer="lbfgs", loss="mse")


def test_dropout_must_precede_a_dense_layer():
    with pytest.raises(ValueError, match="Dropout"):
        nnc.Sequential([nnc.Dense(4, input_dim=2), nnc.Dropout(0.5)]).build()


def test_layers_cannot_be_shared_or_added_after_build():
    layer = nnc.Dense(3, input_dim=2)
    model = nnc.Sequential([layer])
    with pytest.raises(ValueError, match="already belongs"):
        nnc.Sequential([layer])
    model.build()
    with pytest.raises(RuntimeError, match="built"):
        model.add(nnc.Dense(1))


def test_gradcheck_rejects_bad_eps():
    model, x, y = model_and_data()
    with pytest.raises(ValueError, match="eps"):
        nnc.gradcheck(model, x, y, eps=0.0)
    with pytest.raises(TypeError, match="eps"):
        nnc.gradcheck(model, x, y, eps="small")


def test_engine_refuses_misshapen_arrays_directly():
    """The wrapper itself is strict (the facade converts before calling it)."""
    model, x, y = model_and_data()
    model.build()
    core = model.engine
    with pytest.raises(TypeError, match="x must have dtype float64"):
        core.predict(x.astype(np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        core.predict(np.asfortranarray(np.ones((4, 3))))
    with pytest.raises(ValueError, match="columns"):
        core.predict(np.ones((4, 5)))
    with pytest.raises(ValueError, match="y has 3 rows"):
        core.loss(x, y[:3])
    with pytest.raises(TypeError, match="numpy array"):
        core.set_params([1.0, 2.0])
    with pytest.raises(ValueError, match="unknown optimizer option"):
        core.compile("mse", 0.0, "adam", {"momentum_typo": 1.0})


def test_a_batch_size_beyond_the_data_is_one_batch_and_keeps_history():
    """Keras takes batch_size > n as one batch; 2**63 once raised
    OverflowError after model.history had been replaced."""
    x = np.random.default_rng(0).normal(size=(12, 2))
    y = np.arange(12) % 3
    big, whole = _softmax_model(), _softmax_model()
    big.fit(x, y, epochs=2, batch_size=2**63, shuffle=False, verbose=0)
    whole.fit(x, y, epochs=2, batch_size=12, shuffle=False, verbose=0)
    np.testing.assert_array_equal(big.get_flat_params(), whole.get_flat_params())
    assert len(big.history.history["loss"]) == 2
    np.testing.assert_array_equal(big.predict(x, batch_size=2**63), big.predict(x))


def _softmax_model():
    m = nnc.Sequential([nnc.Dense(3, activation="softmax")], seed=1)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return m


def test_values_beyond_float32_are_reported_as_such_without_numpy_warnings():
    m = _softmax_model()
    m.build(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered in cast"
        for call in (lambda: m.predict(np.full((2, 2), 1e300)),
                     lambda: m.set_flat_params(np.full(m.count_params(), -1e39))):
            with pytest.raises(ValueError, match="beyond the float32 range"):
                call()
        with pytest.raises(ValueError, match="NaN or infinity"):
            m.predict(np.full((2, 2), np.inf))


def test_uint64_labels_are_reported_with_their_real_values():
    m = _softmax_model()
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"got values in \[0, 9223372036854775808\]"):
        m.fit(x, np.array([0, 1, 2**63], dtype=np.uint64), verbose=0)


LABEL_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float32", "float64", ">i8", ">u4", ">f8"]  # and big-endian ones


@pytest.mark.parametrize(("dtype", "bad"), [(d, b) for d in LABEL_DTYPES for b in (-1, 3, 127)
                                            if b >= 0 or np.dtype(d).kind != "u"])
def test_labels_outside_the_classes_are_refused_in_every_dtype(dtype, bad):
    m = _softmax_model()
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match=rf"y: class labels must be in \[0, 3\), got values "
                                         rf"in \[{min(bad, 0)}, {max(bad, 2)}\]"):
        m.fit(x, np.array([0, 1, bad, 2], dtype=dtype), verbose=0)
    m.fit(x, np.array([0, 1, 2, 2], dtype=dtype), verbose=0)  # in range: accepted
    assert len(m.history.history["loss"]) == 1


def test_negative_narrow_labels_are_refused_with_many_classes():
    # int8 -1 read as uint8 is 255, inside 300 classes: that case takes two passes.
    m = nnc.Sequential([nnc.Dense(300, activation="softmax")], seed=1)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"got values in \[-1, 1\]"):
        m.fit(np.zeros((3, 2)), np.array([0, 1, -1], dtype=np.int8), verbose=0)
