"""Memory and references: 1000 cycles of build -> fit -> predict -> save ->
load -> delete grow the process's resident memory by less than 2 MB, and
no public call (working or raising) changes the reference count of the
arrays it was given."""

from __future__ import annotations

import gc
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.measures import measured
from helpers.processes import PACKAGE_PARENT

import nnc

CYCLES = 1000
LIMIT_BYTES = 2 * 2**20

CYCLE_SCRIPT = textwrap.dedent(r"""
    import gc, os, sys, tempfile, warnings
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import nnc

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8))
    labels = rng.integers(0, 3, size=64)
    directory = tempfile.mkdtemp(prefix="nnc-rss-")
    path = os.path.join(directory, "m.npz")

    def cycle(i):
        model = nnc.Sequential([nnc.Dense(16, activation="relu", input_dim=8),
                                nnc.Dropout(0.1), nnc.Dense(3, activation="softmax")],
                               dtype="float32" if i % 2 else "float64", seed=i)
        model.compile(optimizer=["adam", "sgd", "rmsprop", "lbfgs"][i % 4] if i % 4 != 3
                      else "adagrad", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, labels, epochs=2, batch_size=16, verbose=0, validation_split=0.25)
        model.predict(x)
        model.evaluate(x, labels)
        model.gradients(x[:8], labels[:8])
        model.save(path)
        loaded = nnc.load_model(path)
        loaded.predict(x)
        try:  # an error path too
            loaded.fit(x, labels[:5], verbose=0)
        except ValueError:
            pass
        del model, loaded

    for i in range(int(sys.argv[3])):  # warm-up: caches, arenas, thread pool
        cycle(i)
    gc.collect()
    before = rss()
    for i in range(int(sys.argv[2])):
        cycle(i)
    gc.collect()
    after = rss()
    os.remove(path)
    os.rmdir(directory)
    print(before, after)
""")


@pytest.mark.skipif(not pathlib.Path("/proc/self/statm").exists(),
                    reason="resident memory is read from /proc (Linux)")
def test_thousand_cycles_do_not_grow_resident_memory():
    run = subprocess.run([sys.executable, "-c", CYCLE_SCRIPT, str(PACKAGE_PARENT), str(CYCLES),
                          "100"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    before, after = map(int, run.stdout.split())
    grown = after - before
    measured(f"RSS growth over {CYCLES} build/fit/predict/save/load/delete cycles",
             f"{grown / 1024:.0f} KiB ({before / 2**20:.1f} -> {after / 2**20:.1f} MiB)")
    print(f"\nRSS {before / 2**20:.2f} MiB -> {after / 2**20:.2f} MiB after {CYCLES} cycles "
          f"(grew {grown / 1024:.0f} KiB)")
    assert grown < LIMIT_BYTES


# ------------------------------------------------------------- references

def _model(loss="mse", dtype="float64"):
    out = "softmax" if "categorical" in loss else "linear"
    model = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=3),
                            nnc.Dense(2, activation=out)], dtype=dtype, seed=0)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"] if out == "softmax" else [])
    model.build()
    return model


def _inputs(dtype):
    rng = np.random.default_rng(0)
    return {
        "x": rng.normal(size=(12, 3)).astype(dtype),
        "x_other_dtype": rng.normal(size=(12, 3)).astype(np.float32 if dtype == "float64"
                                                        else np.float64),
        "x_fortran": np.asfortranarray(rng.normal(size=(12, 3))),
        "x_bad": rng.normal(size=(12, 4)),
        "x_nan": np.full((12, 3), np.nan),
        "y": rng.normal(size=(12, 2)).astype(dtype),
        "y_bad": rng.normal(size=(11, 2)),
        "labels": rng.integers(0, 2, size=12),
        "labels_bad": np.full(12, 7),
        "sw": rng.uniform(size=12).astype(dtype),
        "sw_bad": -np.ones(12),
        "flat": None,
    }


def _calls(model, a):
    sparse = nnc.losses.takes_labels(model.compiled_loss)
    y = a["labels"] if sparse else a["y"]
    y_bad = a["labels_bad"] if sparse else a["y_bad"]
    weights = model.get_weights()
    a["weights"] = weights
    a["flat"] = model.get_flat_params()
    return [
        ("predict", lambda: model.predict(a["x"])),
        ("predict other dtype", lambda: model.predict(a["x_other_dtype"])),
        ("predict fortran", lambda: model.predict(a["x_fortran"])),
        ("predict bad", lambda: model.predict(a["x_bad"])),
        ("predict nan", lambda: model.predict(a["x_nan"])),
        ("fit", lambda: model.fit(a["x"], y, sample_weight=a["sw"], epochs=1, verbose=0,
                                  validation_data=(a["x"], y))),
        ("fit bad y", lambda: model.fit(a["x"], y_bad, verbose=0)),
        ("fit bad sw", lambda: model.fit(a["x"], y, sample_weight=a["sw_bad"], verbose=0)),
        ("evaluate", lambda: model.evaluate(a["x"], y, sample_weight=a["sw"])),
        ("loss", lambda: model.loss(a["x"], y)),
        ("gradients", lambda: model.gradients(a["x"], y, sample_weight=a["sw"])),
        ("gradients bad", lambda: model.gradients(a["x_bad"], y)),
        ("train_on_batch", lambda: model.train_on_batch(a["x"], y)),
        ("train_on_batch bad", lambda: model.train_on_batch(a["x"], y_bad)),
        ("set_weights", lambda: model.set_weights(weights)),
        ("set_weights bad", lambda: model.set_weights(weights[:-1])),
        ("set_flat_params", lambda: model.set_flat_params(a["flat"])),
        ("set_flat_params bad", lambda: model.set_flat_params(a["x"])),
        ("core predict", lambda: model.engine.predict(a["x"])),
        ("core predict bad", lambda: model.engine.predict(a["x_fortran"])),
        ("core loss bad", lambda: model.engine.loss(a["x"], a["y_bad"])),
        ("core set_params", lambda: model.engine.set_params(a["flat"])),
        ("core set_params bad", lambda: model.engine.set_params(a["x"])),
        ("gradcheck", lambda: nnc.gradcheck(model, a["x"][:3], y[:3])),
    ]


def _refcounts(a) -> dict:
    out = {k: sys.getrefcount(v) for k, v in a.items() if isinstance(v, np.ndarray)}
    out.update({f"weights[{i}]": sys.getrefcount(w) for i, w in enumerate(a.get("weights", []))})
    return out


@pytest.mark.parametrize("loss, dtype", [("mse", "float64"), ("mse", "float32"),
                                         ("sparse_categorical_crossentropy", "float32"),
                                         ("categorical_crossentropy", "float64")])
def test_public_calls_leave_reference_counts_of_inputs_unchanged(loss, dtype):
    model = _model(loss, dtype)
    a = _inputs(dtype)
    if loss == "categorical_crossentropy":
        a["y"] = nnc.datasets.one_hot(a["labels"], 2, dtype=dtype)
    calls = _calls(model, a)
    # No gc.collect(): a reference held by a cycle would be a leak too.
    for name, call in calls:
        before = _refcounts(a)
        for _ in range(3):
            try:
                call()
            except (ValueError, TypeError, RuntimeError):
                pass  # the exception (and its traceback) is gone after this block
        assert _refcounts(a) == before, name


def test_a_deleted_model_is_freed_at_once_without_the_garbage_collector():
    """No reference cycle (layers, History) keeps a model and its engine
    memory alive after the last user reference goes."""
    import weakref

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 2))
    gc.disable()
    try:
        model = _model()
        history = model.fit(x, y, epochs=2, verbose=0)
        layer = model.layers[0]
        alive = weakref.ref(model)
        del model
        assert alive() is None
        assert history.model is None and layer._model is None
        assert len(history.history["loss"]) == 2  # the History itself is intact
        nnc.Sequential([layer, nnc.Dense(1)])  # a freed model's layer can be reused
    finally:
        gc.enable()


def test_a_model_saved_before_it_was_built_loads(tmp_path):
    model = nnc.Sequential([nnc.Dense(3, input_dim=2)], seed=4)
    model.compile(loss="mse")
    model.save(tmp_path / "m.npz")
    loaded = nnc.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.get_flat_params(), model.get_flat_params())


@pytest.mark.parametrize("make", [
    lambda: nnc.Sequential([nnc.Dense(10**12)]).build(3),
    lambda: nnc.Sequential([nnc.Dense(10**12, use_bias=False, input_dim=1)]).build(),
    lambda: nnc.Sequential([nnc.Dense(2**20, input_dim=2**20)]).build(),
    lambda: nnc.Sequential([nnc.Dense(2**34, use_bias=False, input_dim=4)]).build(),
    lambda: nnc.Sequential([nnc.Dense(2**62 - 1, input_dim=1)]).build(),
], ids=["1e12-units", "1e12-no-bias", "2^40-weights", "more-than-RAM", "2^62"])
def test_absurd_models_raise_at_once_without_touching_memory(make):
    """Sizes past the engine's 2^40 limit or past the machine's memory raise
    MemoryError before anything is allocated: the peak resident memory of
    the process does not move (a tried allocation would be written by the
    initializer, or kill the process under overcommit)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises((MemoryError, ValueError), match="parameters|2\\^40|memory"):
        make()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 16 * 1024  # KiB
