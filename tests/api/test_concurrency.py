"""Threads and determinism: predict from many threads equals serial calls;
a second fit (or any update) while another thread trains raises
RuntimeError and changes nothing; the same seed gives the same bits, in
this process and in a fresh one."""

from __future__ import annotations

import hashlib
import pathlib
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from helpers.paths import TESTS
from helpers.processes import PACKAGE_PARENT

import nnc

HERE = pathlib.Path(__file__).resolve().parent


def trained_model(dtype="float32", seed=5, dropout=0.2, epochs=3):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(600, 20)).astype(dtype)
    y = rng.integers(0, 4, size=600)
    model = nnc.Sequential([nnc.Dense(64, activation="relu", input_dim=20), nnc.Dropout(dropout),
                            nnc.Dense(32, activation="gelu"),
                            nnc.Dense(4, activation="softmax")], dtype=dtype, seed=seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, x, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_from_many_threads_equals_serial(dtype):
    model, x, _ = trained_model(dtype)
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=(int(rng.integers(1, 900)), 20)).astype(dtype) for _ in range(24)]
    serial = [model.predict(a) for a in inputs]
    results: list = [None] * len(inputs)
    barrier = threading.Barrier(8)

    def work(worker):
        barrier.wait()
        for _ in range(3):
            for i in range(worker, len(inputs), 8):
                results[i] = model.predict(inputs[i])

    run_in_threads(work, range(8))
    for got, want in zip(results, serial):
        np.testing.assert_array_equal(got, want)


def run_in_threads(work, args) -> None:
    """work(a) for every a, each in its own thread, all joined."""
    threads = [threading.Thread(target=work, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class _Gate(nnc.callbacks.Callback):
    """Signals when training is under way; stops it when released."""

    def __init__(self):
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def on_epoch_end(self, epoch, logs=None):
        self.started.set()
        if self.release.is_set():
            self.model.stop_training = True


def test_a_second_fit_or_update_from_another_thread_raises():
    model, x, y = trained_model(epochs=1)
    gate = _Gate()
    errors = []

    def train():
        try:
            model.fit(x, y, epochs=10_000, batch_size=64, verbose=0, callbacks=[gate])
        except Exception as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=train)
    worker.start()
    try:
        assert gate.started.wait(30)
        layer = model.layers[0]
        attempts = {
            "fit": lambda: model.fit(x, y, epochs=1, verbose=0),
            "train_on_batch": lambda: model.train_on_batch(x[:8], y[:8]),
            "compile": lambda: model.compile(optimizer="sgd",
                                             loss="sparse_categorical_crossentropy"),
            "set_weights": lambda: model.set_weights(model.get_weights()),
            "set_flat_params": lambda: model.set_flat_params(model.get_flat_params()),
            "layer set_weights": lambda: layer.set_weights(layer.get_weights()),
        }
        for what, call in attempts.items():
            with pytest.raises(RuntimeError, match=f"{what.split()[-1]}: .*another thread"):
                call()
        # Reading is fine while it trains: shapes right, values finite.
        pred = model.predict(x[:50])
        assert pred.shape == (50, 4) and np.isfinite(pred).all()
        assert model.optimizer.name == "adam"  # the refused compile changed nothing
    finally:
        gate.release.set()
        worker.join(60)
    assert not worker.is_alive() and not errors, errors
    model.fit(x, y, epochs=1, verbose=0)  # free again once the other fit returned


def test_fit_in_many_models_at_once_matches_one_at_a_time():
    """Separate models train in parallel threads without disturbing each
    other (shared engine thread pool, per-model state)."""
    serial = [trained_model(seed=s)[0].get_flat_params() for s in range(4)]
    out: list = [None] * 4

    def work(s):
        out[s] = trained_model(seed=s)[0].get_flat_params()

    run_in_threads(work, range(4))
    for got, want in zip(out, serial):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_bits(dtype):
    a = trained_model(dtype, seed=9)[0].get_flat_params()
    b = trained_model(dtype, seed=9)[0].get_flat_params()
    c = trained_model(dtype, seed=10)[0].get_flat_params()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _digest_in_fresh_process(threads: int) -> str:
    script = textwrap.dedent(f"""
        import hashlib, sys
        sys.path.insert(0, {str(TESTS)!r})
        sys.path.insert(0, {str(HERE)!r})
        sys.path.insert(0, {str(PACKAGE_PARENT)!r})
        import nnc
        nnc.set_num_threads({threads})
        from test_concurrency import trained_model
        params = trained_model("float32", seed=9)[0].get_flat_params()
        print(hashlib.sha256(params.tobytes()).hexdigest())
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_same_seed_same_bits_run_to_run():
    here = hashlib.sha256(trained_model("float32", seed=9)[0].get_flat_params()
                          .tobytes()).hexdigest()
    assert _digest_in_fresh_process(1) == here
    assert _digest_in_fresh_process(2) == here
