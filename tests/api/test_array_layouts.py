"""Any float array converts, whatever its alignment or layout (README "What
nnc guarantees"): unaligned buffers (``np.frombuffer(buf, offset=1)``), a
memmap at an odd offset, Fortran order and strided views give the same
results as the aligned C-contiguous copy, in every entry point."""

from __future__ import annotations

import numpy as np
import pytest

import nnc

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = RNG.normal(size=(40, 2))


def unaligned(a, dtype):
    """A copy of `a` whose data starts one byte past an aligned address."""
    a = np.ascontiguousarray(a, dtype=dtype)
    buf = bytearray(a.nbytes + 1)
    out = np.frombuffer(buf, dtype=dtype, offset=1, count=a.size).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def odd_memmap(a, dtype, tmp_path):
    a = np.ascontiguousarray(a, dtype=dtype)
    path = tmp_path / f"m-{a.shape}-{np.dtype(dtype).name}.bin"
    path.write_bytes(b"\0" + a.tobytes())
    out = np.memmap(path, dtype=dtype, mode="r", offset=1, shape=a.shape)
    assert not out.flags.aligned
    return out


def layouts(a, dtype, tmp_path):
    return {"unaligned": unaligned(a, dtype), "memmap": odd_memmap(a, dtype, tmp_path),
            "fortran": np.asfortranarray(a.astype(dtype)),
            "strided": np.repeat(a.astype(dtype), 2, axis=0)[::2]}


def model(dtype):
    m = nnc.Sequential([nnc.Dense(5, activation="tanh"), nnc.Dense(2)], seed=3, dtype=dtype)
    m.compile(optimizer="adam", loss="mse")
    m.build(3)
    return m


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_entry_point_accepts_any_layout(dtype, tmp_path):
    reference = model(dtype)
    x_ref, y_ref = X.astype(dtype), Y.astype(dtype)
    expected = {
        "predict": reference.predict(x_ref),
        "loss": reference.loss(x_ref, y_ref),
        "gradients": reference.gradients(x_ref, y_ref),
        "trace": [t.activation for t in nnc.inspect.trace(reference, x_ref)],
    }
    fitted = model(dtype)
    fitted.fit(x_ref, y_ref, epochs=2, batch_size=8, shuffle=False, verbose=0)
    stepped = model(dtype)
    stepped.train_on_batch(x_ref, y_ref)
    for kind, x in layouts(X, dtype, tmp_path).items():
        y = layouts(Y, dtype, tmp_path)[kind]
        m = model(dtype)
        np.testing.assert_array_equal(m.predict(x), expected["predict"], err_msg=kind)
        assert m.loss(x, y) == expected["loss"], kind
        for got, want in zip(m.gradients(x, y), expected["gradients"]):
            np.testing.assert_array_equal(got, want, err_msg=kind)
        for got, want in zip([t.activation for t in nnc.inspect.trace(m, x)],
                             expected["trace"]):
            np.testing.assert_array_equal(got, want, err_msg=kind)
        assert m.evaluate(x, y) == reference.evaluate(x_ref, y_ref), kind
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        np.testing.assert_array_equal(m.get_flat_params(), fitted.get_flat_params(),
                                      err_msg=kind)
        m = model(dtype)
        m.train_on_batch(x, y)
        np.testing.assert_array_equal(m.get_flat_params(), stepped.get_flat_params(),
                                      err_msg=kind)
        params = layouts(reference.get_flat_params()[None, :], dtype, tmp_path)[kind][0]
        m.set_flat_params(params)
        np.testing.assert_array_equal(m.get_flat_params(), reference.get_flat_params())
        weights = [layouts(w if w.ndim == 2 else w[None, :], dtype, tmp_path)[kind]
                   for w in reference.get_weights()]
        m.set_weights([w if w.shape[0] > 1 or r.ndim == 2 else w[0]
                       for w, r in zip(weights, reference.get_weights())])
        for got, want in zip(m.get_weights(), reference.get_weights()):
            np.testing.assert_array_equal(got, want)


def test_unaligned_class_labels_and_sample_weights():
    m = nnc.Sequential([nnc.Dense(3, activation="softmax")], seed=1)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    labels = np.arange(40) % 3
    weights = np.linspace(0.5, 1.5, 40)
    twin = nnc.Sequential([nnc.Dense(3, activation="softmax")], seed=1)
    twin.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    m.fit(unaligned(X, "float32"), unaligned(labels, "int64"),
          sample_weight=unaligned(weights, "float64"), epochs=1, shuffle=False, verbose=0)
    twin.fit(X, labels, sample_weight=weights, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(m.get_flat_params(), twin.get_flat_params())
