"""predict refuses NaN and infinity in x from the first layer's output,
without a pass of its own over x (docs/design.md, "Prediction checks its
input in the first layer's output"): the same ValueError and message as
the facade's own check, for a bad value at any row or column, in either
dtype, under every kernel set and thread count, and nothing is returned."""

from __future__ import annotations

import numpy as np
import pytest

import nnc
from nnc import _chunks, _core
from nnc import _validation as v

MESSAGE = "x: contains NaN or infinity"
N_FEATURES = 7


def _model(dtype, first_activation="relu", zero_first_weights=False, first_units=5):
    # first_units < N_FEATURES: the engine checks z of the first layer;
    # wider: it checks the chunk of x itself.
    m = nnc.Sequential([nnc.Dense(first_units, activation=first_activation),
                        nnc.Dense(3, activation="softmax")], seed=2, dtype=dtype)
    m.build(N_FEATURES)
    if zero_first_weights:  # inf * 0 is NaN: still caught
        w, b = m.layers[0].get_weights()
        m.layers[0].set_weights([np.zeros_like(w), np.zeros_like(b)])
    return m


def _positions(rows):
    """First/last row x first/last column, and one inside."""
    return sorted({(0, 0), (0, N_FEATURES - 1), (rows - 1, 0), (rows - 1, N_FEATURES - 1),
                   (rows // 2, N_FEATURES // 2)})


def _assert_refused(call):
    with pytest.raises(ValueError) as info:
        call()
    assert type(info.value) is ValueError  # not an engine subclass: as before
    assert str(info.value) == MESSAGE


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [1, 2, 600, 2 * _chunks.MIN_ROWS + 5])
def test_every_position_of_a_bad_value_is_refused_with_the_facade_message(dtype, rows):
    m = _model(dtype)
    x = np.random.default_rng(0).normal(size=(rows, N_FEATURES)).astype(dtype)
    good = m.predict(x)
    for bad in (np.nan, np.inf, -np.inf):
        for i, j in _positions(rows):
            xb = x.copy()
            xb[i, j] = bad
            # The facade's own finite check says exactly this.
            with pytest.raises(ValueError, match=f"^{MESSAGE}$"):
                v.features(xb, dtype, N_FEATURES)
            _assert_refused(lambda xb=xb: m.predict(xb))
            _assert_refused(lambda xb=xb: m(xb))
            _assert_refused(lambda xb=xb: m.predict(xb, batch_size=3))
    # The refusals left the model as it was.
    np.testing.assert_array_equal(m.predict(x), good)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_engine_refuses_on_every_kernel_set_and_thread_count(dtype):
    previous_arch, previous_threads = _core.get_kernel_arch(), nnc.get_num_threads()
    x = np.random.default_rng(1).normal(size=(1500, N_FEATURES)).astype(dtype)
    try:
        for arch in _core.supported_kernel_archs():
            for threads in (1, 2):
                _core.set_kernel_arch(arch)
                nnc.set_num_threads(threads)
                for activation, zero, units in (("relu", False, 5), ("tanh", False, 5),
                                                ("relu", True, 5), ("relu", False, 16)):
                    m = _model(dtype, activation, zero, units)
                    for i, j in _positions(x.shape[0]):
                        xb = x.copy()
                        xb[i, j] = np.inf if (i + j) % 2 else np.nan
                        with pytest.raises(_core.NonFiniteError, match=f"^{MESSAGE}$"):
                            m.engine.predict(xb)
                        _assert_refused(lambda m=m, xb=xb: m.predict(xb))
    finally:
        _core.set_kernel_arch(previous_arch)
        nnc.set_num_threads(previous_threads)


def test_converted_input_keeps_the_range_message_and_verbose_predict_refuses():
    m = _model("float32")
    with pytest.raises(ValueError, match="beyond the float32 range"):
        m.predict(np.full((2, N_FEATURES), 1e300))  # finite float64, inf as float32
    x64 = np.zeros((4, N_FEATURES))  # float64 into a float32 model: converted
    x64[3, 6] = np.nan
    _assert_refused(lambda: m.predict(x64))
    x = np.zeros((4, N_FEATURES), np.float32)
    x[2, 0] = -np.inf
    _assert_refused(lambda: m.predict(x, verbose=2))


def test_an_overflow_from_finite_input_is_not_an_input_error():
    # z = x . W + b overflows to inf: x is finite, so predict answers (as
    # it always did) with what the arithmetic gives.
    m = _model("float32", zero_first_weights=True)
    w, b = m.layers[0].get_weights()
    m.layers[0].set_weights([np.full_like(w, 1e30), b])
    x = np.full((3, N_FEATURES), 1e30, np.float32)
    out = m.predict(x)
    assert out.shape == (3, 3) and not np.isfinite(out).all()
    assert np.isfinite(m.predict(np.zeros((3, N_FEATURES), np.float32))).all()
