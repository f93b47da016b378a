"""Property-based fuzzing of the public API with hypothesis.

Every public entry point gets hostile input: wrong shapes, wrong dtypes
(int, bool, complex, object, str, float16, big-endian), NaN and inf, empty,
0-d and 3-d arrays, Fortran-ordered, strided, unaligned, read-only and
memory-mapped arrays, lists, huge or negative sizes, wrong types and
unknown names. Each call either works, with a result equal to the one from
the plainly converted input, or raises ValueError/TypeError/MemoryError
with a message. A call that raises leaves the model exactly as it was, and
no call ever changes the caller's arrays.

The runs are derandomized (the same examples every run) and the number of
examples is counted: the last test checks that at least 10,000 ran.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import warnings

import numpy as np
import pytest
from helpers.measures import measured
from helpers.models import dense_layers
from helpers.optional import require

require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import nnc  # noqa: E402
from nnc import _core  # noqa: E402

ALLOWED = (ValueError, TypeError, MemoryError)
SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck))
MIN_TOTAL_EXAMPLES = 10_000

EXAMPLES: dict[str, int] = {}


def count(test: str) -> None:
    EXAMPLES[test] = EXAMPLES.get(test, 0) + 1


# ------------------------------------------------------------------ models

IN_DIM, OUT_DIM = 3, 2
CONFIGS = [("float64", "mse"), ("float32", "sparse_categorical_crossentropy"),
           ("float64", "categorical_crossentropy"), ("float32", "binary_crossentropy")]
_MODELS: dict = {}


def model_for(config: int):
    """A small compiled, built model per config, reset to its initial state."""
    if config not in _MODELS:
        dtype, loss = CONFIGS[config]
        out = {"mse": "linear", "binary_crossentropy": "sigmoid"}.get(loss, "softmax")
        model = nnc.Sequential([nnc.Dense(4, activation="tanh", input_dim=IN_DIM),
                                nnc.Dense(OUT_DIM, activation=out)], dtype=dtype, seed=config)
        model.compile(optimizer="adam", loss=loss)
        model.build()
        _MODELS[config] = (model, state(model))
    model, initial = _MODELS[config]
    restore(model, initial)
    return model


def state(model) -> tuple:
    """Everything a failed call must leave untouched."""
    core = model.engine
    return (model.get_flat_params(), core.get_optimizer_state(), core.get_rng_state(),
            model.compiled_loss, model.get_compile_config(), model.learning_rate,
            model.compiled_metrics, model.input_dim, len(model.layers))


def restore(model, saved) -> None:
    model.engine.set_params(saved[0])
    model.engine.set_optimizer_state(saved[1])
    model.engine.set_rng_state(saved[2])


def assert_state(model, before) -> None:
    after = state(model)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


# ------------------------------------------------------------------ arrays

_TMP = tempfile.mkdtemp(prefix="nnc-fuzz-")
DTYPES = ["float64", "float32", "float16", ">f8", "int8", "int64", "uint8", "uint64", "bool",
          "complex128", "object", "U3", "datetime64[s]"]
LAYOUTS = ["C", "C", "F", "strided", "readonly", "unaligned", "memmap", "list", "scalar"]
SPECIALS = [np.nan, np.inf, -np.inf, 1e39, -1e300, 0.0, -0.0, 5e-324]


_MEMMAP_FILES = itertools.count()


def _layout(arr: np.ndarray, layout: str, serial: int):
    if layout == "F":
        return np.asfortranarray(arr)
    if layout == "strided" and arr.ndim >= 1:
        big = np.repeat(arr, 2, axis=0)
        return big[::2]
    if layout == "readonly":
        arr = arr.copy()
        arr.flags.writeable = False
        return arr
    if layout == "unaligned" and arr.dtype.itemsize > 1 and arr.dtype.kind != "O":
        raw = np.empty(arr.nbytes + 1, dtype=np.uint8)[1:]
        out = raw.view(arr.dtype).reshape(arr.shape)
        out[...] = arr
        return out
    if layout == "memmap" and arr.size and arr.dtype.kind not in "OU":
        # A file of its own: rewriting another array's file under its live
        # map would change that array (or cut it short) behind its back.
        path = os.path.join(_TMP, f"m{next(_MEMMAP_FILES) % 1024}.dat")
        mm = np.memmap(path, dtype=arr.dtype, mode="w+", shape=arr.shape)
        mm[...] = arr
        mm.flush()
        return np.memmap(path, dtype=arr.dtype, mode="r", shape=arr.shape)
    if layout == "list":
        return arr.tolist()
    if layout == "scalar":
        return arr.flat[0] if arr.size else 0.0
    return arr


GOOD_DTYPES = ["float64", "float32", "float16", ">f8", "int8", "int64", "uint8", "bool"]
GOOD_LAYOUTS = ["C", "F", "strided", "readonly", "unaligned", "memmap", "list"]


@st.composite
def hostile_arrays(draw, rows: int, cols: int | None, kind: str = "x", good: bool = False):
    """Mostly plausible arrays (right shape) with one or more things wrong;
    with `good`, a valid array in any dtype and memory layout that converts."""
    shape_choice = "right" if good else draw(st.sampled_from(
        ["right"] * 5 + ["0d", "1d", "3d", "rows", "cols", "empty"]))
    right = (rows,) if cols is None else (rows, cols)
    shapes = {"right": right, "0d": (), "1d": (rows,), "3d": (rows, cols or 1, 2),
              "rows": (draw(st.integers(0, 7)),) + right[1:],
              "cols": (rows, draw(st.integers(0, 5))),
              "empty": (0,) + right[1:]}
    shape = shapes[shape_choice]
    dtype = draw(st.sampled_from(GOOD_DTYPES if good else
                                 ["float64"] * 4 + ["float32"] * 2 + DTYPES))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if kind == "labels":
        values = rng.integers(-1, OUT_DIM + 1, size=shape).astype(np.float64)
        if draw(st.booleans()):
            values = np.clip(values, 0, OUT_DIM - 1)
    elif kind == "weights":
        values = rng.uniform(-0.2, 2.0, size=shape)
    else:
        values = rng.normal(size=shape)
    values = np.array(values, dtype=np.float64)  # 0-d stays an array
    if values.size and not good and draw(st.integers(0, 3)) == 0:
        flat = values.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from(SPECIALS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype == "object":
            arr = np.empty(shape, dtype=object)
            junk = draw(st.sampled_from([None, "a", 1.5, 2, [1]]))
            for idx in np.ndindex(shape):
                arr[idx] = values[idx] if draw(st.booleans()) else junk
        elif dtype == "U3":
            arr = values.astype("U3")
        elif dtype.startswith("datetime"):
            arr = np.zeros(shape, dtype=dtype)
        elif dtype == "bool":
            arr = values > 0
        else:
            arr = np.array(values, dtype=dtype)
    arr = np.asarray(arr)  # operators on 0-d arrays give scalars
    return _layout(arr, draw(st.sampled_from(GOOD_LAYOUTS if good else LAYOUTS)), seed)


def snapshot_input(obj):
    """A deep copy of what the caller passed, to prove it is never changed."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    return obj if not isinstance(obj, list) else [snapshot_input(o) for o in obj]


def assert_input_unchanged(obj, saved) -> None:
    if isinstance(obj, np.ndarray):
        assert obj.dtype == saved.dtype and obj.shape == saved.shape
        if obj.dtype.kind == "O":
            assert all(a is b for a, b in zip(obj.ravel(), saved.ravel()))
        elif obj.dtype.kind in "fc":
            np.testing.assert_array_equal(obj, saved)  # NaN equals NaN here
        else:
            assert np.array_equal(obj, saved)
    elif isinstance(obj, list):
        assert obj == saved or str(obj) == str(saved)


def plain(obj, dtype):
    """The input converted the obvious way (what a working call must equal)."""
    return np.ascontiguousarray(np.array(obj), dtype=dtype)


def call_checked(model, fn, inputs):
    """Run fn(); on an exception check its type, its message and that the
    model did not change; always check that inputs were not modified."""
    saved_inputs = [snapshot_input(a) for a in inputs]
    before = state(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn()
    except ALLOWED as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        assert_state(model, before)
        result = exc
    for obj, saved in zip(inputs, saved_inputs):
        assert_input_unchanged(obj, saved)
    return result


# ------------------------------------------------------------ entry points

@settings(max_examples=2000, **SETTINGS)
@given(config=st.integers(0, 3), rows=st.integers(1, 6), data=st.data())
def test_fuzz_predict(config, rows, data):
    count("predict")
    model = model_for(config)
    x = data.draw(hostile_arrays(rows, IN_DIM))
    out = call_checked(model, lambda: model.predict(x), [x])
    if isinstance(out, Exception):
        return
    # It worked: the input was numeric and convertible; same bits as plain.
    assert out.shape == (np.shape(x)[0], OUT_DIM) and out.dtype == model.dtype
    np.testing.assert_array_equal(out, model.predict(plain(x, model.dtype)))


@settings(max_examples=600, **SETTINGS)
@given(config=st.integers(0, 3), rows=st.integers(1, 6), stats=st.booleans(), data=st.data())
def test_fuzz_trace_and_activation_stats(config, rows, stats, data):
    count("trace/activation_stats")
    model = model_for(config)
    x = data.draw(hostile_arrays(rows, IN_DIM))
    fn = (lambda: model.activation_stats(x)) if stats else (lambda: model.trace(x))
    out = call_checked(model, fn, [x])
    if isinstance(out, Exception) or stats:
        return
    # It worked: the last layer's activations are predict's, same bits.
    np.testing.assert_array_equal(out[-1].a, model.predict(plain(x, model.dtype)))


@settings(max_examples=3000, **SETTINGS)
@given(config=st.integers(0, 3), rows=st.integers(1, 6), call=st.sampled_from(
    ["fit", "evaluate", "loss", "gradients", "train_on_batch"]), with_sw=st.booleans(),
    hostile=st.sampled_from(["none", "x", "y", "sample_weight", "all"]), data=st.data())
def test_fuzz_training_calls(config, rows, call, with_sw, hostile, data):
    count("training calls")
    model = model_for(config)
    loss = model.compiled_loss
    x = data.draw(hostile_arrays(rows, IN_DIM, good=hostile not in ("x", "all")))
    good_y = hostile not in ("y", "all")
    if loss == "sparse_categorical_crossentropy":
        y = data.draw(hostile_arrays(rows, None, "labels", good=good_y))
        if good_y and isinstance(y, np.ndarray):
            y = np.clip(y, 0, OUT_DIM - 1)
    else:
        y = data.draw(hostile_arrays(rows, OUT_DIM, "labels" if "cross" in loss else "x",
                                     good=good_y))
    sw = data.draw(hostile_arrays(rows, None, "weights", good=hostile not in (
        "sample_weight", "all"))) if with_sw else None
    calls = {
        "fit": lambda: model.fit(x, y, sample_weight=sw, epochs=1, batch_size=2, verbose=0),
        "evaluate": lambda: model.evaluate(x, y, sample_weight=sw, return_dict=True),
        "loss": lambda: model.loss(x, y, sample_weight=sw),
        "gradients": lambda: model.gradients(x, y, sample_weight=sw),
        "train_on_batch": lambda: model.train_on_batch(x, y, sample_weight=sw),
    }
    out = call_checked(model, calls[call], [x, y, sw])
    if isinstance(out, Exception):
        return
    # It worked: the answer equals the one for plainly converted input, on
    # the model as it was before the call.
    got = out
    model_for(config)
    ydt = np.int64 if loss == "sparse_categorical_crossentropy" else model.dtype
    yp = plain(y, ydt)
    if yp.ndim == 1 and loss != "sparse_categorical_crossentropy":
        yp = yp.reshape(-1, 1)
    if yp.ndim == 2 and yp.shape[1] == 1 and loss == "sparse_categorical_crossentropy":
        yp = yp[:, 0]
    args = (plain(x, model.dtype), yp)
    kw = {"sample_weight": None if sw is None else plain(sw, model.dtype)}
    if call == "fit":
        again = model.fit(*args, **kw, epochs=1, batch_size=2, verbose=0)
        # (A diverging first epoch is not recorded: both histories are empty.)
        got_loss, again_loss = got.history.get("loss", []), again.history.get("loss", [])
        assert got_loss == again_loss or all(
            math.isnan(a) and math.isnan(b) for a, b in zip(got_loss, again_loss))
    elif call == "gradients":
        for a, b in zip(got, model.gradients(*args, **kw)):
            np.testing.assert_array_equal(a, b)
    elif call == "evaluate":
        assert got == model.evaluate(*args, **kw, return_dict=True) or math.isnan(got["loss"])
    else:
        again = getattr(model, call)(*args, **kw)
        assert got == again or (math.isnan(got) and math.isnan(again))


_LISTS = st.lists(st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=True)),
                  max_size=4)


@settings(max_examples=1200, **SETTINGS)
@given(config=st.integers(0, 3), which=st.integers(0, 3), data=st.data())
def test_fuzz_set_weights(config, which, data):
    count("set_weights")
    model = model_for(config)
    good = model.get_weights()
    weights = [w.copy() for w in good]
    kind = data.draw(st.sampled_from(["array", "drop", "extra", "not-list", "flat", "layer"]))
    if kind == "array":
        shape = good[which].shape
        rows, cols = (shape + (None,))[:2]
        weights[which] = data.draw(hostile_arrays(rows, cols, "x"))
    elif kind == "drop":
        weights.pop(which)
    elif kind == "extra":
        weights.append(np.zeros(3))
    elif kind == "not-list":
        weights = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=3),
                                      st.just(np.zeros(4))))
    if kind == "flat":
        flat = data.draw(hostile_arrays(model.count_params(), None, "x"))
        out = call_checked(model, lambda: model.set_flat_params(flat), [flat])
        if not isinstance(out, Exception):
            np.testing.assert_array_equal(model.get_flat_params(), plain(flat, model.dtype))
        return
    if kind == "layer":
        layer = dense_layers(model)[which % 2]
        lw = layer.get_weights()
        lw[0] = data.draw(hostile_arrays(lw[0].shape[0], lw[0].shape[1], "x"))
        out = call_checked(model, lambda: layer.set_weights(lw), [lw[0]])
        return
    inputs = weights if isinstance(weights, list) else [weights]
    out = call_checked(model, lambda: model.set_weights(weights), inputs)
    if not isinstance(out, Exception):
        for got, w in zip(model.get_weights(), weights):
            np.testing.assert_array_equal(got, plain(w, model.dtype))


_NAMES = st.sampled_from(["relu", "tanh", "softmax", "sigmoid", "linear", "prelu", "step",
                          "gelu", "RELU", "relux", "", "\x00", "softmax ", None, 3, 2.5, True,
                          ["relu"], "é"])
_SIZES = st.one_of(st.integers(1, 6), st.sampled_from(
    [0, -1, -(2**63), 2**36, 10**12, 2**40, 2**62, 2**63, 2**64, 10**100, 2.0, 3.5, True,
     None, "4", float("nan"), np.int64(3), np.uint8(2)]))
_HUGE_OK = (MemoryError, ValueError, TypeError)


@settings(max_examples=2000, **SETTINGS)
@given(units=st.lists(_SIZES, min_size=1, max_size=3), acts=st.lists(_NAMES, min_size=3,
       max_size=3), input_dim=_SIZES, dtype=st.sampled_from(
       ["float32", "float64", "float16", "int32", None, 32, "f8", np.float64, "FLOAT32"]),
       seed=st.one_of(st.none(), st.integers(-5, 2**65)), dropout=st.one_of(
       st.none(), st.floats(-1, 2), st.just(float("nan"))))
def test_fuzz_construction(units, acts, input_dim, dtype, seed, dropout):
    """Sequential/Dense/Dropout/build with any sizes, names and types:
    either a working model or ValueError/TypeError/MemoryError; absurd sizes
    fail at once (before any allocation: the engine refuses > 2^40
    parameters)."""
    count("construction")
    try:
        layers = []
        for i, u in enumerate(units):
            layers.append(nnc.Dense(u, activation=acts[i], input_dim=input_dim if i == 0
                                    else None))
            if dropout is not None and i + 1 < len(units):
                layers.append(nnc.Dropout(dropout))
        model = nnc.Sequential(layers, dtype=dtype, seed=seed)
        model.build()
    except _HUGE_OK as exc:
        assert str(exc)
        return
    assert model.count_params() <= 2**40
    x = np.ones((2, model.input_dim), dtype=model.dtype)
    out = model.predict(x)
    assert out.shape == (2, model.output_dim)


_OPTIMIZERS = st.one_of(
    st.sampled_from(["adam", "sgd", "rmsprop", "adagrad", "adamw", "lbfgs", "ADAM", "adamax", "",
                     None, 3, {"name": "sgd"}, {"name": "adam", "betas": [0.9, 1.5]},
                     {"name": "sgd", "momentum": "a"}, {"name": "nope"}, {}]),
    st.builds(lambda lr, m: nnc.optimizers.SGD(learning_rate=lr, momentum=m),
              st.floats(0, 10), st.floats(0, 0.99)))
_OPT_ARGS = st.fixed_dictionaries({}, optional={
    "learning_rate": st.one_of(st.floats(allow_nan=True), st.integers(-2, 2), st.text(max_size=2)),
    "momentum": st.one_of(st.floats(-1, 2), st.none()),
    "weight_decay": st.one_of(st.floats(-1, 1), st.just(float("inf"))),
    "betas": st.one_of(st.tuples(st.floats(-1, 2), st.floats(-1, 2)), st.just((0.9,)),
                       st.just("ab")),
    "eps": st.one_of(st.floats(-1, 1), st.just(float("nan"))),
    "nesterov": st.one_of(st.booleans(), st.just(1)),
    "max_iter": st.one_of(st.integers(-2, 3), st.just(2.5)),
    "history_size": st.sampled_from([0, 1, 5, 10**12]),
    "bogus": st.just(1),
})


@settings(max_examples=1500, **SETTINGS)
@given(config=st.integers(0, 3), optimizer=_OPTIMIZERS, loss=st.sampled_from(
    ["mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
     "sparse_categorical_crossentropy", "hinge", "MSE", None, 1, ""]), l2=st.one_of(
    st.floats(allow_nan=True), st.integers(-1, 2), st.none()), metrics=st.one_of(
    st.none(), st.just("accuracy"), st.lists(st.sampled_from(["accuracy", "mae", "f1", 3]),
                                             max_size=2)),
    kind=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"]),
    opt_args=_OPT_ARGS)
def test_fuzz_compile_and_optimizers(config, optimizer, loss, l2, metrics, kind, opt_args):
    count("compile/optimizers")
    model = model_for(config)
    try:
        opt = getattr(nnc.optimizers, kind)(**opt_args)
    except ALLOWED as exc:
        assert str(exc)
    else:
        optimizer = opt if len(opt_args) % 2 else optimizer
    before = state(model)
    try:
        model.compile(optimizer=optimizer, loss=loss, l2=l2, metrics=metrics)
    except ALLOWED as exc:
        assert str(exc)
        assert_state(model, before)
        return
    # A successful compile: the model trains and predicts, finite or with a
    # clear warning (a huge learning rate may diverge).
    x = np.linspace(-1, 1, 3 * IN_DIM).reshape(3, IN_DIM)
    y = (np.arange(3) % OUT_DIM if nnc.losses.takes_labels(model.compiled_loss) else
         nnc.datasets.one_hot(np.arange(3) % OUT_DIM, OUT_DIM))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(model.get_flat_params()).all()
    model.compile(optimizer="adam", loss=CONFIGS[config][1])  # back to the shared config


@settings(max_examples=1000, **SETTINGS)
@given(config=st.integers(0, 3), kwargs=st.fixed_dictionaries({}, optional={
    "epochs": st.sampled_from([0, 1, 2, -1, 1.5, True, None, "2", np.int32(1)]),
    "batch_size": st.sampled_from([None, 1, 2, 10**12, 0, -3, 2.5, "32", False]),
    "shuffle": st.sampled_from([True, False, 1, "yes", None]),
    "validation_split": st.sampled_from([0.0, 0.25, 0.5, 1.0, -0.1, float("nan"), "0.1", 0.99]),
    "verbose": st.sampled_from([0, 2, "auto", 5, -1, None, True, "loud"]),
    "initial_epoch": st.sampled_from([0, 1, 5, -1, 0.5]),
    "class_weight": st.sampled_from([None, {0: 1.0}, {0: -1.0}, {9: 1.0}, {"a": 1}, [1, 2],
                                     {0: float("nan")}]),
    "callbacks": st.sampled_from([None, [], [object()], "cb", [nnc.callbacks.History()]]),
    "validation_data": st.sampled_from([None, (), (1, 2), "data",
                                        (np.zeros((2, IN_DIM)), np.zeros((2, 5)))]),
}))
def test_fuzz_fit_options(config, kwargs, capsys):
    count("fit options")
    model = model_for(config)
    rows = 4
    x = np.linspace(-1, 1, rows * IN_DIM).reshape(rows, IN_DIM)
    labels = np.arange(rows) % OUT_DIM
    takes_labels = nnc.losses.takes_labels(model.compiled_loss)
    y = labels if takes_labels else nnc.datasets.one_hot(labels, OUT_DIM)
    if kwargs.get("validation_data") is not None and len(kwargs["validation_data"]) == 2 \
            and isinstance(kwargs["validation_data"][0], np.ndarray) and takes_labels:
        kwargs["validation_data"] = (np.zeros((2, IN_DIM)), np.zeros((2, 2)))
    before_history = model.history
    out = call_checked(model, lambda: model.fit(x, y, **kwargs), [x, y])
    if isinstance(out, Exception):
        assert model.history is before_history  # a refused fit records nothing
    else:
        assert isinstance(out, nnc.History)
        assert np.isfinite(model.get_flat_params()).all()
    capsys.readouterr()


# ------------------------------------------------------------------- files

#: Byte edits of a file: (where, as a fraction of its length; byte; operation).
EDITS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255),
                           st.sampled_from(["set", "insert", "delete", "cut"])),
                 min_size=1, max_size=4)


def damaged(good: bytes, edits, data) -> bytearray:
    """`good` with the edits applied: bytes set, runs inserted or deleted,
    or the tail cut off."""
    blob = bytearray(good)
    for where, value, op in edits:
        pos = int(where * len(blob)) if blob else 0
        if op == "set" and blob:
            blob[pos] = value
        elif op == "insert":
            blob[pos:pos] = bytes([value]) * data.draw(st.integers(1, 64))
        elif op == "delete":
            del blob[pos:pos + data.draw(st.integers(1, 64))]
        else:
            del blob[pos:]
    return blob


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    model = nnc.Sequential([nnc.Dense(3, activation="relu", input_dim=2),
                            nnc.Dense(2, activation="softmax")], seed=1)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.fit(np.ones((4, 2)), nnc.datasets.one_hot(np.array([0, 1, 0, 1]), 2), verbose=0)
    path = tmp_path_factory.mktemp("fuzzfile") / "m.npz"
    model.save(path)
    return model, path.read_bytes(), tmp_path_factory.mktemp("fuzzed")


@settings(max_examples=1200, **SETTINGS)
@given(edits=EDITS, data=st.data())
def test_fuzz_load_model(saved_bytes, edits, data):
    count("load_model")
    model, good, directory = saved_bytes
    blob = damaged(good, edits, data)
    path = directory / "fuzzed.npz"
    path.write_bytes(bytes(blob))
    try:
        loaded = nnc.load_model(path)
    except ValueError as exc:
        assert "load_model" in str(exc)
        return
    # A file that still loads holds exactly the saved model (CRC-checked).
    np.testing.assert_array_equal(loaded.get_flat_params(), model.get_flat_params())
    assert loaded.engine.get_optimizer_state() == model.engine.get_optimizer_state()


@pytest.fixture(scope="module")
def saved_nncb(tmp_path_factory):
    from helpers import nncb_oracle as nncb

    model = nnc.Sequential([nnc.Dense(3, activation="prelu", input_dim=2), nnc.Dropout(0.2),
                            nnc.Dense(2, activation="sigmoid")], dtype="float64", seed=2)
    model.compile(optimizer="adam", loss="binary_crossentropy", l2=0.01)
    model.fit(np.ones((4, 2)), np.ones((4, 2)), verbose=0)
    return model, nncb.to_bytes(model), tmp_path_factory.mktemp("fuzzed_nncb")


@settings(max_examples=800, **SETTINGS)
@given(edits=EDITS, reseal=st.booleans(), data=st.data())
def test_fuzz_load_binary(saved_nncb, edits, reseal, data):
    """The C library's binary format (nncb) through load_binary and
    load_model: refused with ValueError, or read as exactly the saved model
    (resealing the CRC makes the deeper checks do the work)."""
    import struct
    import zlib

    count("load_binary")
    model, good, directory = saved_nncb
    blob = damaged(good, edits, data)
    if reseal and len(blob) >= 4:
        blob[-4:] = struct.pack("<I", zlib.crc32(bytes(blob[:-4])))
    path = directory / "fuzzed.nncb"
    path.write_bytes(bytes(blob))
    for load in (nnc.load_binary, nnc.load_model):
        try:
            loaded = load(path)
        except ValueError as exc:
            assert str(exc)
            continue
        # What still loads is a working model; with an intact payload, the saved one.
        x = np.ones((2, loaded.input_dim or 1))
        if loaded.input_dim:
            assert loaded.predict(x).shape == (2, loaded.output_dim)
        if bytes(blob) == good:
            np.testing.assert_array_equal(loaded.get_flat_params(), model.get_flat_params())


# -------------------------------------------------------------- estimators

@settings(max_examples=500, **SETTINGS)
@given(kind=st.sampled_from(["MLPClassifier", "MLPRegressor"]), rows=st.integers(2, 6),
       params=st.fixed_dictionaries({}, optional={
           "hidden_layer_sizes": st.sampled_from([(3,), (), (2, 2), (0,), (-1,), (10**12,),
                                                  "3", (2.5,)]),
           "activation": st.sampled_from(["relu", "logistic", "tanh", "identity", "softmax",
                                          "nope"]),
           "solver": st.sampled_from(["adam", "sgd", "lbfgs", "newton"]),
           "alpha": st.sampled_from([0.0, 1e-4, -1.0, float("nan")]),
           "batch_size": st.sampled_from(["auto", 1, 0, 2.5]),
           "learning_rate_init": st.sampled_from([1e-3, 0.0, -1.0, float("inf")]),
           "dtype": st.sampled_from(["float64", "float32", "float16"]),
       }), data=st.data())
def test_fuzz_estimators(kind, rows, params, data):
    require("sklearn")  # nnc.MLPClassifier and MLPRegressor are scikit-learn estimators
    count("estimators")
    est = getattr(nnc, kind)(max_iter=2, random_state=0, **params)
    x = data.draw(hostile_arrays(rows, 3))
    if kind == "MLPClassifier":
        y = data.draw(st.sampled_from([np.arange(rows) % 2, np.array(["a", "b"] * rows)[:rows],
                                       np.zeros(rows), np.arange(rows) % 2 + 0.5,
                                       np.full(rows, np.nan), np.zeros((rows, 2, 2)), None]))
    else:
        y = data.draw(hostile_arrays(rows, None))
    inputs = [x] + ([y] if isinstance(y, np.ndarray) else [])
    saved = [snapshot_input(a) for a in inputs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(x, y)
            pred = est.predict(x)
    except ALLOWED as exc:
        assert str(exc)
    else:
        assert len(pred) == np.shape(x)[0]
    for obj, s in zip(inputs, saved):
        assert_input_unchanged(obj, s)


def test_engine_wrapper_is_strict_about_arrays():
    """The C wrapper refuses anything not already converted, whatever it is."""
    model = model_for(0)
    core = model.engine
    for bad in (np.zeros((2, IN_DIM), np.float32), np.zeros((2, IN_DIM, 1)), [[0.0] * IN_DIM],
                np.asfortranarray(np.zeros((3, IN_DIM))), None, np.zeros((2, IN_DIM + 1))):
        with pytest.raises(ALLOWED):
            core.predict(bad)
    with pytest.raises(ALLOWED):
        core.train_epoch(np.zeros((2, IN_DIM)), np.zeros((2, OUT_DIM)), None, 0, True, "progress")
    assert _core.all_finite(np.zeros(3))


# -------------------------------------------------------------------- count

def test_example_count_reaches_ten_thousand():
    """Runs last in this module: at least 10,000 examples ran in total
    (only checked when the whole module ran)."""
    total = sum(EXAMPLES.values())
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(EXAMPLES.items()))
    measured("hypothesis examples (test_fuzz_public_api)", f"{total} ({summary})")
    if len(EXAMPLES) < 9:
        pytest.skip(f"only part of the fuzz module ran ({summary})")
    assert total >= MIN_TOTAL_EXAMPLES, summary
