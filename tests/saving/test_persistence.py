"""Saving, loading, pickling and copying models: the state survives whole.

A round trip must give bit-identical predictions, and continuing ``fit``
after it must give the same weights as never having stopped (optimizer
state and the shuffling RNG travel with the model)."""

import copy
import os
import pickle
import zipfile

import numpy as np
import pytest

import nnc

RNG = np.random.default_rng(7)
X = RNG.normal(size=(96, 5))
LABELS = (X[:, 0] * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)


def trained_model(dtype="float64", optimizer=None, dropout=True):
    layers = [nnc.Dense(16, activation="tanh", input_dim=5)]
    if dropout:
        layers.append(nnc.Dropout(0.2))
    layers += [nnc.Dense(8, activation="relu"), nnc.Dense(3, activation="softmax")]
    model = nnc.Sequential(layers, dtype=dtype, seed=11, name="saved")
    model.compile(optimizer=optimizer or nnc.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", l2=0.01, metrics=["accuracy"])
    model.fit(X, LABELS, epochs=3, batch_size=16, verbose=0)
    return model


OPTIMIZERS = {
    "adam": lambda: nnc.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "sgd-nesterov": lambda: nnc.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: nnc.optimizers.RMSprop(learning_rate=0.005, centered=True, momentum=0.5),
    "adagrad": lambda: nnc.optimizers.Adagrad(learning_rate=0.05),
    "adamw": lambda: nnc.optimizers.AdamW(learning_rate=0.01),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_predicts_bit_identically(tmp_path, dtype):
    model = trained_model(dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = nnc.load_model(path)
    assert loaded.dtype == dtype and loaded.name == "saved" and loaded.seed == 11
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.compiled_loss == "sparse_categorical_crossentropy"
    assert loaded.learning_rate == model.learning_rate
    assert loaded.evaluate(X, LABELS) == model.evaluate(X, LABELS)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_continuing_fit_after_a_round_trip_matches_never_stopping(tmp_path, name):
    model = trained_model(optimizer=OPTIMIZERS[name]())
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = nnc.load_model(path)
    # Both continue with shuffling and dropout: the RNG state must match too.
    model.fit(X, LABELS, epochs=2, batch_size=16, verbose=0)
    loaded.fit(X, LABELS, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(loaded.get_flat_params(), model.get_flat_params())


def test_lbfgs_state_survives_a_round_trip(tmp_path):
    model = nnc.Sequential([nnc.Dense(6, activation="tanh", input_dim=5), nnc.Dense(1)],
                           dtype="float64", seed=3)
    model.compile(optimizer=nnc.optimizers.LBFGS(learning_rate=1.0, history_size=5), loss="mse")
    y = X[:, :1] * 2 - X[:, 1:2]
    model.fit(X, y, epochs=2, batch_size=None, verbose=0)
    model.save(tmp_path / "lbfgs.npz")
    loaded = nnc.load_model(tmp_path / "lbfgs.npz")
    model.fit(X, y, epochs=2, batch_size=None, verbose=0)
    loaded.fit(X, y, epochs=2, batch_size=None, verbose=0)
    np.testing.assert_array_equal(loaded.get_flat_params(), model.get_flat_params())


def test_uncompiled_and_unbuilt_models_round_trip(tmp_path):
    unbuilt = nnc.Sequential([nnc.Dense(4), nnc.Dense(2, activation="sigmoid")], seed=1)
    unbuilt.save(tmp_path / "unbuilt.npz")
    restored = nnc.load_model(tmp_path / "unbuilt.npz")
    assert not restored.built and len(restored.layers) == 2
    built = nnc.Sequential([nnc.Dense(4, input_dim=3)], dtype="float64", seed=2)
    built.save(tmp_path / "built.npz")
    restored = nnc.load_model(tmp_path / "built.npz")
    assert restored.optimizer is None
    np.testing.assert_array_equal(restored.get_flat_params(), built.get_flat_params())


def test_save_weights_and_load_weights(tmp_path):
    model = trained_model()
    model.save_weights(tmp_path / "w.npz")
    fresh = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=5), nnc.Dropout(0.2),
                            nnc.Dense(8, activation="relu"), nnc.Dense(3, activation="softmax")],
                           dtype="float64", seed=99)
    assert not np.array_equal(fresh.get_flat_params(), model.get_flat_params())
    fresh.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh.get_flat_params(), model.get_flat_params())
    other = nnc.Sequential([nnc.Dense(3, input_dim=5)], dtype="float64")
    before = other.get_flat_params()
    with pytest.raises(ValueError, match="params"):
        other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.get_flat_params(), before)


@pytest.mark.parametrize("clone", [
    pytest.param(lambda m: pickle.loads(pickle.dumps(m)), id="pickle"),
    pytest.param(copy.deepcopy, id="deepcopy"),
    pytest.param(copy.copy, id="copy"),
])
def test_pickle_and_copies_carry_the_whole_state(clone):
    model = trained_model()
    twin = clone(model)
    assert twin is not model and twin.engine is not model.engine
    np.testing.assert_array_equal(twin.predict(X), model.predict(X))
    model.fit(X, LABELS, epochs=2, batch_size=16, verbose=0)
    twin.fit(X, LABELS, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(twin.get_flat_params(), model.get_flat_params())
    # Independent afterwards: training one leaves the other alone.
    frozen = twin.get_flat_params()
    model.fit(X, LABELS, epochs=1, verbose=0)
    np.testing.assert_array_equal(twin.get_flat_params(), frozen)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    model = trained_model()
    path = tmp_path / "model.npz"
    model.save(path)
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    model.fit(X, LABELS, epochs=1, verbose=0)
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary left behind


def corrupt(src, dst, mutate):
    data = bytearray(src.read_bytes())
    mutate(data)
    dst.write_bytes(bytes(data))
    return dst


def test_truncated_and_corrupted_files_raise_value_error(tmp_path):
    model = trained_model()
    good = tmp_path / "good.npz"
    model.save(good)
    size = good.stat().st_size
    for cut in (0, 10, size // 3, size // 2, size - 30):
        bad = corrupt(good, tmp_path / f"cut{cut}.npz", lambda d, c=cut: d.__delitem__(
            slice(c, None)))
        with pytest.raises(ValueError, match="load_model"):
            nnc.load_model(bad)
    (tmp_path / "text.npz").write_text("not a model")
    with pytest.raises(ValueError, match="load_model"):
        nnc.load_model(tmp_path / "text.npz")


def rewrite(path, dst, **replace):
    """Copy the zip at `path` to `dst` with some entries' bytes replaced."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(dst, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, replace.get(info.filename, src.read(info)))
    return dst


def npy_bytes(arr):
    import io
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def test_hand_crafted_entries_are_refused(tmp_path):
    model = trained_model()
    good = tmp_path / "good.npz"
    model.save(good)
    n = model.count_params()
    cases = {
        "wrong params shape": {"params.npy": npy_bytes(np.zeros(n + 1))},
        "wrong params dtype": {"params.npy": npy_bytes(np.zeros(n, dtype=np.float32))},
        "pickled object": {"params.npy": npy_bytes(np.array([{"x": 1}], dtype=object))},
        "bad json": {"architecture.npy": npy_bytes(np.array("{not json"))},
        "unknown activation": {"architecture.npy": npy_bytes(np.array(
            str(np.load(good)["architecture"]).replace('"tanh"', '"sorcery"')))},
        "billions of units": {"architecture.npy": npy_bytes(np.array(
            str(np.load(good)["architecture"]).replace('"units": 16', '"units": 4000000000')))},
    }
    for label, replace in cases.items():
        bad = rewrite(good, tmp_path / f"{label.replace(' ', '_')}.npz", **replace)
        with pytest.raises(ValueError):
            nnc.load_model(bad)


def test_load_model_reports_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        nnc.load_model(tmp_path / "absent.npz")
