"""Snapshots are atomic with respect to training and compiling (README
"What nnc guarantees"): save, pickle, deepcopy, get_weights and
get_flat_params taken while other threads compile and train always return
one consistent state, and every file saved meanwhile loads. A bounded
stress run with 6 threads."""

from __future__ import annotations

import copy
import pickle
import sys
import threading
import time

import numpy as np

import nnc

RNG = np.random.default_rng(0)
X = RNG.normal(size=(600, 6))
Y = RNG.normal(size=(600, 2))
OPTIMIZERS = [nnc.optimizers.SGD(learning_rate=0.01, momentum=0.9),
              nnc.optimizers.Adam(learning_rate=1e-3),
              nnc.optimizers.RMSprop(learning_rate=1e-3),
              nnc.optimizers.Adagrad(learning_rate=0.01)]
SECONDS = 4.0


def test_snapshots_under_concurrent_compile_and_fit(tmp_path):
    model = nnc.Sequential([nnc.Dense(16, activation="tanh"), nnc.Dense(2)], seed=1,
                           dtype="float64")
    model.compile(optimizer=OPTIMIZERS[0], loss="mse")
    model.build(6)
    stop = threading.Event()
    errors: list[BaseException] = []
    files: list = []
    snapshots: list = []

    def forever(work):
        def loop():
            i = 0
            while not stop.is_set():
                try:
                    work(i)
                except RuntimeError as exc:  # "already training": a refusal, not a defect
                    if "training" not in str(exc):
                        errors.append(exc)
                except BaseException as exc:
                    errors.append(exc)
                i += 1
        return loop

    def compile_(i):
        model.compile(optimizer=OPTIMIZERS[i % len(OPTIMIZERS)], loss="mse")

    def fit(i):
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)

    def save(i):
        for ext in ("npz", "nncb"):
            path = tmp_path / f"t{threading.get_ident()}-{i % 3}.{ext}"
            model.save(path)
            files.append(path)
            nnc.load_model(path)  # raises if the file is inconsistent

    def pickle_(i):
        twin = pickle.loads(pickle.dumps(model))
        snapshots.append(twin.get_training_state())

    def deepcopy_(i):
        twin = copy.deepcopy(model)
        twin.predict(X[:3])

    def weights(i):
        w = model.get_weights()
        flat = model.get_flat_params()
        assert sum(a.size for a in w) == flat.size

    threads = [threading.Thread(target=forever(work)) for work in
               (compile_, fit, save, pickle_, deepcopy_, weights)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: many more interleavings
    try:
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads)
    assert errors == [], errors[:3]
    assert len(files) > 10 and len(snapshots) > 5
    for path in set(files):  # every file left behind loads
        nnc.load_model(path)


def test_a_snapshot_during_fit_is_from_one_completed_step():
    """Every state taken while fit runs (get_training_state, and through
    pickle) is exactly the state after some epoch k of an uninterrupted
    run: parameters, RNG and optimizer state all from the same k."""
    def fresh():
        m = nnc.Sequential([nnc.Dense(32, activation="tanh"), nnc.Dense(2)], seed=2,
                           dtype="float64")
        m.compile(optimizer="adam", loss="mse")
        m.build(6)
        return m

    # Epochs of some milliseconds (20x the data): the engine runs several
    # per call when they are shorter (docs/design.md, Step and fit
    # overhead), and the snapshots must have time to land between them.
    x_long, y_long = np.tile(X, (20, 1)), np.tile(Y, (20, 1))

    def key(state):
        return (state["params"].tobytes(), state["rng_state"].tobytes(),
                state["optimizer_state"].tobytes())

    reference, after_epoch = fresh(), {}
    after_epoch[key(reference.get_training_state())] = 0
    for k in range(1, 31):
        reference.fit(x_long, y_long, epochs=1, batch_size=8, verbose=0)
        after_epoch[key(reference.get_training_state())] = k

    model, grabbed = fresh(), []
    trainer = threading.Thread(target=lambda: model.fit(x_long, y_long, epochs=30, batch_size=8,
                                                        verbose=0))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        trainer.start()
        while trainer.is_alive():
            grabbed.append(model.get_training_state())
            grabbed.append(pickle.loads(pickle.dumps(model)).get_training_state())
        trainer.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(grabbed) > 20
    epochs = [after_epoch.get(key(state)) for state in grabbed]
    assert None not in epochs, f"{epochs.count(None)} of {len(epochs)} snapshots were torn"
    assert len(set(epochs)) > 3  # taken at many different epochs
