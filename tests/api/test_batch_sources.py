"""fit, evaluate and predict on batch sources (docs/design.md, Streaming
data): generators, re-iterables, PyDataset-like objects and memory-mapped
arrays, trained a chunk at a time; with shuffle=False the same steps as on
arrays, bit for bit."""

import os
import tracemalloc
import warnings

import numpy as np
import pytest
from helpers.optional import require

import nnc
from nnc import _training
from nnc import batch_sources as bs
from nnc import callbacks as cb

N, D, BATCH = 203, 5, 16  # 12 full batches and one of 11 rows


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of a few batches, so that every run crosses chunk boundaries."""
    monkeypatch.setattr(bs, "CHUNK_BYTES", 3 * BATCH * D * 8 + 8)


def data(loss, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D))
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, 3, size=N)
    else:
        y = (x[:, :1] + 0.3 * x[:, 1:2] > 0).astype(np.float64)
    return x, y, rng.uniform(0.5, 2.0, size=N)


def model(dtype, loss="binary_crossentropy", metrics=("accuracy",), dropout=True, l2=0.0):
    out = (nnc.Dense(3, activation="softmax") if loss == "sparse_categorical_crossentropy"
           else nnc.Dense(1, activation="sigmoid"))
    layers = [nnc.Dense(8, activation="tanh", input_dim=D)]
    if dropout:
        layers.append(nnc.Dropout(0.2))  # the RNG's sequence must continue across chunks
    m = nnc.Sequential([*layers, out], dtype=dtype, seed=7)
    m.compile(optimizer="adam", loss=loss, metrics=list(metrics), l2=l2)
    return m


def batches(x, y, sw=None, size=BATCH):
    for i in range(0, len(x), size):
        yield (x[i:i + size], y[i:i + size]) + (() if sw is None else (sw[i:i + size],))


class Reiterable:
    def __init__(self, *arrays):
        self.arrays = arrays

    def __iter__(self):
        return batches(*self.arrays)


class Dataset:
    """The PyDataset protocol: __len__, __getitem__, epoch hooks."""

    def __init__(self, *arrays):
        self.arrays = arrays
        self.calls = []

    def __len__(self):
        return -(-len(self.arrays[0]) // BATCH)

    def __getitem__(self, i):
        self.calls.append(i)
        return tuple(a[i * BATCH:(i + 1) * BATCH] for a in self.arrays)

    def on_epoch_begin(self):
        self.calls.append("begin")

    def on_epoch_end(self):
        self.calls.append("end")


def forever(*arrays):
    while True:
        yield from batches(*arrays)


def memmap_of(tmp_path, arr, name="x.npy"):
    path = tmp_path / name
    np.save(path, arr)
    return np.load(path, mmap_mode="r")


def sources(kind, tmp_path, x, y, sw):
    """(x argument, extra fit arguments) of a source of the rows (x, y, sw)."""
    parts = (x, y) if sw is None else (x, y, sw)
    if kind == "iterable":
        return Reiterable(*parts), {}
    if kind == "pydataset":
        return Dataset(*parts), {}
    if kind == "generator":
        return forever(*parts), {"steps_per_epoch": -(-N // BATCH)}
    if kind == "memmap":
        return memmap_of(tmp_path, x), {"y": y, "sample_weight": sw, "batch_size": BATCH}
    if kind == "mapped_view":  # a plain ndarray over a map: copied from the map, not read
        return (np.asarray(memmap_of(tmp_path, x)),
                {"y": y, "sample_weight": sw, "batch_size": BATCH})
    if kind == "raw_memmap":  # np.memmap itself, of another dtype than the model
        mm = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=x.shape)
        mm[:] = x
        mm.flush()
        return (np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="r", shape=x.shape),
                {"y": y, "sample_weight": sw, "batch_size": BATCH})
    raise AssertionError(kind)


KINDS = ["iterable", "pydataset", "generator", "memmap", "mapped_view", "raw_memmap"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss,weighted", [("binary_crossentropy", True),
                                           ("sparse_categorical_crossentropy", False)])
def test_shuffle_false_trains_as_on_arrays_bit_for_bit(tmp_path, dtype, kind, loss, weighted):
    x, y, sw = data(loss)
    sw = sw if weighted else None
    if kind == "raw_memmap":
        x = x.astype(np.float32)  # the array fit sees the same float32 values
    ref = model(dtype, loss)
    ref_hist = ref.fit(x, y, sample_weight=sw, epochs=3, batch_size=BATCH, shuffle=False,
                       verbose=0)
    src, extra = sources(kind, tmp_path, x, y, sw)
    got = model(dtype, loss)
    hist = got.fit(src, epochs=3, shuffle=False, verbose=0, **extra)
    for a, b in zip(ref.get_weights(), got.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert np.array_equal(ref.get_training_state()["optimizer_state"],
                          got.get_training_state()["optimizer_state"])
    assert hist.history.keys() == ref_hist.history.keys()
    assert hist.epoch == ref_hist.epoch == [0, 1, 2]
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-12)


def test_batches_of_varying_sizes_are_the_steps_of_train_on_batch():
    x, y, _ = data("binary_crossentropy")
    cuts = [0, 5, 12, 19, 26, 29, 45, 61, 62, N]
    parts = [(x[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:])]
    ref = model("float64", dropout=False)
    for bx, by in parts:
        ref.train_on_batch(bx, by)
    got = model("float64", dropout=False)
    got.fit(iter(parts), epochs=1, verbose=0)
    assert np.array_equal(ref.get_flat_params(), got.get_flat_params())


def test_a_chunk_is_one_engine_call_per_run_of_equal_batches(monkeypatch):
    monkeypatch.setattr(bs, "CHUNK_BYTES", 2**20)
    x, y, _ = data("binary_crossentropy")
    calls = []
    real = _training.EpochRunner.run

    def counted(self, engine, cx, *args, **kwargs):
        calls.append(cx.shape[0])
        return real(self, engine, cx, *args, **kwargs)

    monkeypatch.setattr(_training.EpochRunner, "run", counted)
    model("float64").fit(Reiterable(x, y), epochs=2, verbose=0)
    assert calls == [N, N]  # 13 batches, one call per epoch
    calls.clear()
    cuts = [0, 16, 32, 40, 56, 72, 88, N]  # runs: 16 16 8 | 16 16 16 115
    model("float64").fit(iter([(x[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:])]),
                         epochs=1, verbose=0)
    assert calls == [40, 48, 115]


def test_evaluate_and_predict_on_sources_equal_arrays(tmp_path):
    x, y, sw = data("binary_crossentropy")
    m = model("float64", metrics=("accuracy", "mse", "r2"), l2=0.01)
    m.fit(x, y, epochs=2, verbose=0)
    ref = m.evaluate(x, y, sample_weight=sw, return_dict=True)
    for got in (m.evaluate(Reiterable(x, y, sw), return_dict=True),
                m.evaluate(Dataset(x, y, sw), return_dict=True),
                m.evaluate(memmap_of(tmp_path, x), y, sample_weight=sw, batch_size=BATCH,
                           return_dict=True)):
        assert got.keys() == ref.keys()
        for key in ref:
            assert got[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15)
    pred = m.predict(x)
    assert np.array_equal(m.predict(memmap_of(tmp_path, x, "p.npy")), pred)
    assert np.array_equal(m.predict(Reiterable(x, y)), pred)
    assert np.array_equal(m.predict(x[i:i + 7] for i in range(0, N, 7)), pred)
    assert np.array_equal(m.predict(forever(x, y), steps=2), pred[:2 * BATCH])


def test_validation_callbacks_and_history_work_as_with_arrays(tmp_path):
    x, y, sw = data("binary_crossentropy")
    xv, yv, _ = data("binary_crossentropy", seed=1)
    ref = model("float64")
    ref_hist = ref.fit(x, y, epochs=4, batch_size=BATCH, shuffle=False, verbose=0,
                       validation_data=(xv, yv))
    for validation in ((xv, yv), Reiterable(xv, yv), (memmap_of(tmp_path, xv), yv)):
        got = model("float64")
        hist = got.fit(Dataset(x, y), epochs=4, shuffle=False, verbose=0,
                       validation_data=validation)
        assert hist.history.keys() == ref_hist.history.keys()
        np.testing.assert_allclose(hist.history["val_loss"], ref_hist.history["val_loss"],
                                   rtol=1e-12)
        np.testing.assert_allclose(hist.history["val_accuracy"],
                                   ref_hist.history["val_accuracy"], rtol=1e-12)
    # validation_split on a memory-mapped array holds out the same last rows.
    ref = model("float64")
    ref_hist = ref.fit(x, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0,
                       validation_split=0.25)
    got = model("float64")
    hist = got.fit(memmap_of(tmp_path, x, "s.npy"), y, epochs=2, batch_size=BATCH,
                   shuffle=False, verbose=0, validation_split=0.25)
    assert np.array_equal(ref.get_flat_params(), got.get_flat_params())
    np.testing.assert_allclose(hist.history["val_loss"], ref_hist.history["val_loss"],
                               rtol=1e-12)
    # Early stopping, the epochs seen by callbacks and their params.
    seen = []

    class Record(cb.Callback):
        def on_train_begin(self, logs=None):
            seen.append(dict(self.params))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    stop = cb.EarlyStopping(monitor="val_loss", patience=0, min_delta=10.0)
    hist = model("float64").fit(forever(x, y), steps_per_epoch=5, epochs=10, verbose=0,
                                validation_data=Reiterable(xv, yv), callbacks=[stop, Record()])
    assert hist.epoch == [0, 1] and seen[1:] == [0, 1]
    assert seen[0]["steps"] == 5 and seen[0]["epochs"] == 10


def test_progress_bar_counts_the_batches_of_every_chunk(capsys):
    x, y, _ = data("binary_crossentropy")
    model("float64").fit(Dataset(x, y), epochs=1, verbose=2)
    assert "loss:" in capsys.readouterr().out
    bar_lines = []

    class Bar:
        def update(self, done, total, loss):
            bar_lines.append((done, total))

    # The chunk view continues the count of the chunks before it.
    view = _training._ChunkBar(Bar(), 6, 13, 0.5 * 96, 96, BATCH)
    view.update(2, 3, 0.25)
    assert bar_lines == [(8, 13)]


def test_pydataset_hooks_and_shuffled_batch_order():
    x, y, _ = data("binary_crossentropy")
    ds = Dataset(x, y)
    model("float64").fit(ds, epochs=2, shuffle=False, verbose=0)
    n = len(ds)
    assert ds.calls == ["begin", *range(n), "end"] * 2
    ds = Dataset(x, y)
    model("float64").fit(ds, epochs=2, shuffle=True, verbose=0)
    epochs = [ds.calls[1:n + 1], ds.calls[n + 3:2 * n + 3]]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert epochs[0] != list(range(n)) or epochs[1] != list(range(n))


def test_memmap_shuffle_is_reproducible_and_uses_every_row(tmp_path):
    x, y, _ = data("binary_crossentropy")
    mm = memmap_of(tmp_path, x)
    a, b = model("float64"), model("float64")
    a.fit(mm, y, epochs=2, batch_size=BATCH, verbose=0)
    b.fit(mm, y, epochs=2, batch_size=BATCH, verbose=0)
    assert np.array_equal(a.get_flat_params(), b.get_flat_params())
    c = model("float64")
    c.fit(mm, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0)
    assert not np.array_equal(a.get_flat_params(), c.get_flat_params())
    # Every row once per epoch, in chunks, in another order than the file's.
    rows = []
    real = _training.EpochRunner.run

    def spy(self, engine, cx, cy, *args, **kwargs):
        rows.append(np.array(cx))
        return real(self, engine, cx, cy, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_training.EpochRunner, "run", spy)
        model("float64").fit(mm, y, epochs=1, batch_size=BATCH, verbose=0)
    seen = np.concatenate(rows)
    assert len(rows) > 1
    assert np.array_equal(np.sort(seen, axis=0), np.sort(x, axis=0))
    assert not np.array_equal(seen, x)


def test_fit_on_a_memmap_does_not_materialise_it(tmp_path, monkeypatch):
    """NumPy's allocations (traced by tracemalloc) stay at a few chunks while
    fit reads a 24 MB memmap, with and without a dtype conversion, from a
    plain ndarray view of the map and shuffled, and the file's pages are
    handed back (RssFile does not grow by the file)."""
    monkeypatch.setattr(bs, "CHUNK_BYTES", 2**20)
    rows, width = 100_000, 30
    path = tmp_path / "big.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, width))
    for i in range(0, rows, 10_000):
        out[i:i + 10_000] = np.random.default_rng(i).normal(size=(10_000, width))
    out.flush()
    del out
    y = np.zeros((rows, 1))
    for dtype, view, shuffle in (("float64", False, False), ("float32", False, False),
                                 ("float64", True, False), ("float64", False, True)):
        mm = np.load(path, mmap_mode="r")
        if view:  # not an np.memmap: copied from the map, its pages released
            mm = np.asarray(mm)
            assert type(mm) is np.ndarray and bs.is_mapped(mm)
        m = nnc.Sequential([nnc.Dense(4, activation="relu", input_dim=width),
                            nnc.Dense(1)], dtype=dtype, seed=0)
        m.compile(optimizer="sgd", loss="mse")
        before = _rss_file()
        tracemalloc.start()
        try:
            m.fit(mm, y, epochs=1, batch_size=256, shuffle=shuffle, verbose=0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * 2**20, peak  # the copy would be 24 MB (12 MB in float32)
        if before is not None:
            assert _rss_file() - before < 8 * 2**20


def _rss_file():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- errors


def test_bad_batches_raise_naming_the_argument_and_the_batch():
    x, y, sw = data("binary_crossentropy")
    m = model("float64")
    with pytest.raises(ValueError, match=r"^x: batch 1: x: expected 5 features per sample"):
        m.fit(iter([(x[:4], y[:4]), (x[4:8, :4], y[4:8])]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: batch 0: y: has 3 samples but x has 4"):
        m.fit(iter([(x[:4], y[:3])]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: batch 0 is ndarray; expected a tuple"):
        m.fit(iter([x[:4]]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: batch 1: sample_weight: every batch"):
        m.fit(iter([(x[:4], y[:4], sw[:4]), (x[4:8], y[4:8])]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: batch 0: x: expected at least one sample"):
        m.fit(iter([(x[:0], y[:0])]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: the generator yielded no batches"):
        m.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: the iterable yielded no batches"):
        m.fit(Reiterable(x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"^x: has no batches \(len\(\) is 0\)"):
        m.fit(Dataset(x[:0], y[:0]), verbose=0)
    with pytest.raises(ValueError, match=r"^validation_steps: required"):
        m.fit(Reiterable(x, y), validation_data=forever(x, y), verbose=0)
    with pytest.raises(ValueError, match=r"^validation_split: only for arrays"):
        m.fit(Reiterable(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"^steps_per_epoch: only for generators"):
        m.fit(x, y, steps_per_epoch=3, verbose=0)
    with pytest.raises(ValueError, match=r"^y: required when x is an array"):
        m.fit(x, verbose=0)
    with pytest.raises(TypeError, match=r"^x: expected numbers"):
        m.fit(object(), y, verbose=0)
    with pytest.raises(ValueError, match=r"^When providing `x` as a generator, "
                                         r"`sample_weight` should not be passed"):
        m.fit(forever(x, y), sample_weight=sw, verbose=0)
    lbfgs = model("float64", dropout=False)
    lbfgs.compile(optimizer="lbfgs", loss="binary_crossentropy")
    with pytest.raises(ValueError, match=r"^optimizer: L-BFGS is a full-batch method"):
        lbfgs.fit(Reiterable(x, y), verbose=0)


def test_a_memmap_with_bad_rows_names_them(tmp_path):
    x, y, _ = data("binary_crossentropy")
    x = x.copy()
    x[100, 2] = np.nan
    mm = memmap_of(tmp_path, x)
    with pytest.raises(ValueError, match=r"^x: batch 6 \(rows 96\.\.\.111\): x: contains NaN"):
        model("float64").fit(mm, y, batch_size=BATCH, verbose=0)
    with pytest.raises(ValueError, match=r"^y: has 10 samples but x has 203"):
        model("float64").fit(mm, y[:10], batch_size=BATCH, verbose=0)
    with pytest.raises(ValueError, match=r"^batch_size: None \(one full batch\)"):
        model("float64").fit(mm, y, batch_size=None, verbose=0)


def test_a_non_finite_batch_stops_after_the_good_batches_before_it():
    """The weights are those after the last good batch (as after Ctrl-C):
    the batches of the bad one's chunk before it are trained first."""
    x, y, _ = data("binary_crossentropy")
    bad = x[:BATCH].copy()
    bad[3, 0] = np.inf
    good = list(batches(x[:5 * BATCH], y[:5 * BATCH]))
    m = model("float64", dropout=False)
    with pytest.raises(ValueError, match=r"^x: batch 5: x: contains NaN or infinity"):
        m.fit(iter([*good, (bad, y[:BATCH])]), shuffle=False, verbose=0)
    ref = model("float64", dropout=False)
    ref.fit(x[:5 * BATCH], y[:5 * BATCH], batch_size=BATCH, shuffle=False, verbose=0)
    assert np.array_equal(m.get_flat_params(), ref.get_flat_params())


def test_gradient_stats_asks_for_arrays():
    x, y, _ = data("binary_crossentropy")
    with pytest.raises(TypeError, match="GradientStats: needs"):
        model("float64").fit(Reiterable(x, y), callbacks=[cb.GradientStats()], verbose=0)


# ------------------------------------------------------- Keras, side by side


def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return require("keras")


def keras_model(k):
    m = k.Sequential([k.Input((D,)), k.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy")
    return m


def test_y_with_a_generator_is_refused_as_keras_refuses_it():
    k = keras()
    x, y, _ = data("binary_crossentropy")
    with pytest.raises(ValueError) as theirs:
        keras_model(k).fit(forever(x, y), y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError) as ours:
        model("float64").fit(forever(x, y), y, steps_per_epoch=2, verbose=0)
    assert str(ours.value) == str(theirs.value)


def _drawn(gen_batches, log):
    for i, batch in enumerate(gen_batches):
        log.append(i)
        yield batch


def test_a_generator_that_runs_dry_warns_as_keras_and_stops():
    """7 batches, steps_per_epoch=3, 4 epochs: both draw all 7 batches (3,
    3, 1) and give Keras's warning when it runs out. Keras then goes on
    with an empty epoch; nnc stops (nothing more can come)."""
    k = keras()
    x, y, _ = data("binary_crossentropy")
    runs = {}
    for who, fit in (("keras", keras_model(k).fit), ("nnc", model("float64").fit)):
        log = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hist = fit(_drawn(batches(x[:7 * BATCH], y[:7 * BATCH]), log), steps_per_epoch=3,
                       epochs=4, verbose=0)
        dry = [str(w.message) for w in caught if "ran out of data" in str(w.message)]
        runs[who] = (log, dry, len(hist.epoch))
    assert runs["nnc"][0] == runs["keras"][0] == list(range(7))
    assert runs["nnc"][1][0] == runs["keras"][1][0] == bs.RAN_DRY
    assert runs["keras"][2] == 4 and runs["nnc"][2] == 3


def test_pydataset_steps_and_hooks_follow_keras():
    """A keras.utils.PyDataset of 5 batches with steps_per_epoch=3 over 4
    epochs: the same __getitem__ calls, epoch hooks and warnings in both
    (each epoch continues where the last stopped; the one that reaches the
    end stops there with the warning, and the next starts over)."""
    k = keras()
    x, y, _ = data("binary_crossentropy")

    class Batches(k.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            self.calls.append(i)
            return x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]

        def on_epoch_end(self):
            self.calls.append("end")

    runs = {}
    for who, fit in (("keras", keras_model(k).fit), ("nnc", model("float64").fit)):
        ds = Batches()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit(ds, steps_per_epoch=3, epochs=4, shuffle=False, verbose=0)
        runs[who] = (ds.calls, sum("ran out of data" in str(w.message) for w in caught))
    (ours, our_warnings), (theirs, their_warnings) = runs["nnc"], runs["keras"]
    # Keras first reads batch 0 to build its model and resets the dataset
    # (on_epoch_end); the epochs' calls follow.
    assert theirs[:2] == [0, "end"]
    assert ours == theirs[2:] == [0, 1, 2, "end", 3, 4, "end"] * 2
    assert our_warnings == their_warnings == 2
