"""Softmax and the cross-entropy's log-sum-exp hand many short rows to the
exp kernel in one call, each value with its row's max (op "exp_sub",
docs/design.md "Small-data step"): the same bits as e^(x - shift) row by
row, in every kernel set, and softmax rows as the float64 formula."""

import numpy as np
import pytest

import nnc
from nnc import _core

ARCHS = _core.supported_kernel_archs()


def kernel(op, x, a, arch):
    previous = _core.get_kernel_arch()
    _core.set_kernel_arch(arch)
    try:
        out = np.empty_like(x)
        _core.elementwise(op, x, a, out)
    finally:
        _core.set_kernel_arch(previous)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("arch", ARCHS)
def test_exp_sub_is_exp_of_the_difference(dtype, arch):
    # x on a 1/1024 grid and integer shifts: x - a is exact in the dtype,
    # so e^(x - a) must be the "exp" op's value at x - a, bit for bit.
    rng = np.random.default_rng(5)
    x = (rng.integers(-80 * 1024, 80 * 1024, 10_001) / 1024).astype(dtype)
    a = rng.integers(-8, 9, x.size).astype(dtype)
    a[::7] = x[::7]  # the row max itself: e^0 = 1
    got = kernel("exp_sub", x, a, arch)
    np.testing.assert_array_equal(got, kernel("exp", (x - a).astype(dtype), None, arch))
    assert np.all(got[::7] == 1)
    np.testing.assert_array_equal(got, kernel("exp_sub", x, a, ARCHS[0]))


def test_exp_sub_needs_its_shifts():
    x = np.zeros(4)
    with pytest.raises(_core.InvalidArgumentError, match="^a: op 'exp_sub' needs a second input$"):
        _core.elementwise("exp_sub", x, None, np.empty_like(x))
    unknown = "^op: unknown element-wise operation 'nope'$"
    with pytest.raises(_core.InvalidArgumentError, match=unknown):
        _core.elementwise("nope", x, None, np.empty_like(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("classes", [2, 3, 300])  # 300: wider than one call's buffer
def test_softmax_output_matches_the_formula(dtype, classes):
    rng = np.random.default_rng(classes)
    x = rng.normal(size=(97, 4)).astype(dtype)
    model = nnc.Sequential([nnc.Input(4), nnc.Dense(classes, activation="softmax")],
                           dtype=dtype, seed=0)
    w, b = model.get_weights()
    z = x.astype(np.float64) @ w.astype(np.float64) + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    expected = e / e.sum(axis=1, keepdims=True)
    rtol = 1e-6 if dtype == "float32" else 1e-13
    atol = 1e-7 if dtype == "float32" else 1e-15
    np.testing.assert_allclose(model.predict(x), expected, rtol=rtol, atol=atol)
    # The loss uses the same rows: its log-sum-exp against the formula.
    labels = rng.integers(0, classes, x.shape[0])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    lse = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1)
    exact = np.mean(lse - z[np.arange(x.shape[0]), labels])
    assert model.evaluate(x, labels, verbose=0) == pytest.approx(exact, rel=rtol)
