"""The gradient's finite check, now made where the backward pass forms each
part of the gradient (in the weight product's registers, in the L2 term's
sum; docs/design.md, "The gradient's finite check"): a gradient that
overflows from finite data, weights and loss is refused on every route of
the product (register tile, narrow transposed product, threads) and in the L2
term and in PReLU's slopes, every kernel set and thread count, in both dtypes (the bias's ones row
cannot overflow alone: with a mean loss it sums to a finite mean delta), and the refused
step leaves the weights and the optimizer as they were."""

import warnings

import numpy as np
import pytest

import nnc
from nnc import _core

MESSAGE = "the gradient became non-finite at batch 0"


def _model(dtype, fan_in, units, weight, l2=0.0):
    m = nnc.Sequential([nnc.Input(fan_in), nnc.Dense(units)], dtype=dtype, seed=0)
    w, b = m.get_weights()
    m.set_weights([np.full_like(w, weight), b])
    m.compile(optimizer="adam", loss="mse", l2=l2)
    return m


def _refused(m, x, y):
    """fit's one step on (x, y) is refused with MESSAGE; the weights and
    Adam's state (seen through a second, healthy step) are unchanged."""
    before = [a.copy() for a in m.get_weights()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.fit(x, y, epochs=1, batch_size=x.shape[0], shuffle=False, verbose=0)
    messages = [str(w.message) for w in caught]
    assert any(MESSAGE in s for s in messages), messages
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


# (fan_in, units): 16 x 8 runs the register tiles, 16 x 1 the narrow
# transposed product (and its ones row), 64 x 64 on 64 rows is split over
# threads.
SHAPES = [(16, 8), (16, 1), (64, 64)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fan_in, units", SHAPES)
def test_an_overflowing_weight_gradient_is_refused(dtype, fan_in, units):
    big = np.finfo(dtype).max / 4
    rows = 64 if fan_in == 64 else 8
    # z = 100 on every row: a finite loss, but x^T . delta = big x 100 per entry.
    x = np.full((rows, fan_in), big, dtype)
    y = np.zeros((rows, units), dtype)
    previous = (_core.get_kernel_arch(), nnc.get_num_threads())
    try:
        for arch in _core.supported_kernel_archs():
            for threads in (1, 2):
                _core.set_kernel_arch(arch)
                nnc.set_num_threads(threads)
                _refused(_model(dtype, fan_in, units, 100.0 / big / fan_in), x, y)
    finally:
        _core.set_kernel_arch(previous[0])
        nnc.set_num_threads(previous[1])


def test_an_overflowing_l2_term_is_refused():
    """The data gradient is zero (x = 0); the L2 term (l2 / rows) W
    overflows float32 while the loss (in double) stays finite."""
    top = np.finfo(np.float32).max
    m = _model("float32", 16, 8, top / 2, l2=100.0)
    _refused(m, np.zeros((8, 16), np.float32), np.zeros((8, 8), np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_finite_gradient_is_applied(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 64)).astype(dtype)
    y = rng.normal(size=(64, 8)).astype(dtype)
    m = _model(dtype, 64, 8, 0.01)
    before = m.get_weights()[0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(h.history["loss"]) == 3 and not np.array_equal(before, m.get_weights()[0])


# PReLU's slope gradient sum_r delta z is formed outside the products; the
# numbers make it the only part of the gradient that overflows: z = b1
# (x = 0, so dW1 = 0), delta = d_out w2 stays finite, dW2 = a d_out = 0.25 z
# d_out stays finite, and delta z = 4 w2 times that does not; the loss
# (float32's summed in double) stays finite.
PRELU_CASES = {"float32": dict(z=-1e10, w2=100.0, d_out=-1e27),
               "float64": dict(z=-1e152, w2=1000.0, d_out=-1.8e154)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_overflowing_prelu_slope_gradient_is_refused(dtype):
    c = PRELU_CASES[dtype]
    m = nnc.Sequential([nnc.Input(1), nnc.Dense(1, activation="prelu"), nnc.Dense(1)],
                       dtype=dtype, seed=0)
    w1, b1, slope, w2, b2 = m.get_weights()
    m.set_weights([np.zeros_like(w1), np.full_like(b1, c["z"]), slope,
                   np.full_like(w2, c["w2"]), np.zeros_like(b2)])
    m.compile(optimizer="adam", loss="mse")
    out = c["w2"] * 0.25 * c["z"]
    y = np.array([[out - c["d_out"] / 2]], dtype)  # d_out = 2 (out - y) on one row
    _refused(m, np.zeros((1, 1), dtype), y)
