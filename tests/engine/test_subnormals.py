"""Subnormal numbers are flushed to zero while the engine computes, and only
then (docs/design.md, Subnormal numbers): a subnormal operand reads as zero,
a subnormal result becomes zero, and the caller's thread is back to IEEE
arithmetic when each call returns."""

import threading

import numpy as np
import pytest

import nnc

TINY = {"float32": np.float32(1e-40), "float64": np.float64(1e-310)}  # both subnormal


def linear_model(dtype, weight):
    model = nnc.Sequential([nnc.Input(1), nnc.Dense(1, activation="linear")], dtype=dtype, seed=0)
    model.set_weights([np.array([[weight]], dtype=dtype), np.zeros(1, dtype=dtype)])
    return model


def ieee_subnormals_work(dtype):
    """True when this thread's arithmetic keeps subnormals (NumPy, vectorised)."""
    x = np.full(64, np.finfo(dtype).tiny, dtype=dtype)
    halved = x * dtype(0.5)
    return bool(np.all(halved > 0) and np.all(halved + halved == x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormal_input_reads_as_zero(dtype):
    tiny = TINY[np.dtype(dtype).name]
    assert tiny > 0 and tiny < np.finfo(dtype).tiny
    model = linear_model(dtype, 1.0)
    out = model.predict(np.array([[tiny], [1.0]], dtype=dtype), verbose=0)
    assert out[0, 0] == 0.0  # IEEE would give tiny * 1 = tiny
    assert out[1, 0] == 1.0
    assert ieee_subnormals_work(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormal_result_is_zero(dtype):
    small = dtype(1e-20 if dtype is np.float32 else 1e-160)  # normal; its square is not
    assert small >= np.finfo(dtype).tiny and small * small < np.finfo(dtype).tiny
    model = linear_model(dtype, small)
    out = model.predict(np.array([[small]], dtype=dtype), verbose=0)
    assert out[0, 0] == 0.0  # IEEE: small * small, a subnormal
    assert np.array([small], dtype=dtype)[0] * small > 0  # the caller's own product is kept


def test_caller_threads_stay_ieee_through_fit_and_predict():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = nnc.Sequential([nnc.Input(2), nnc.Dense(16, activation="relu"),
                            nnc.Dense(2, activation="softmax")], seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    results = []

    def user_thread():
        model.fit(x, y, epochs=30, batch_size=32, verbose=0)
        model.predict(x, verbose=0)
        results.append(ieee_subnormals_work(np.float32) and ieee_subnormals_work(np.float64))

    worker = threading.Thread(target=user_thread)
    worker.start()
    worker.join()
    assert results == [True]
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)  # on this thread (short calls run inline)
    assert ieee_subnormals_work(np.float32) and ieee_subnormals_work(np.float64)
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    assert np.all((weights == 0) | (np.abs(weights) >= np.finfo(np.float32).tiny))
