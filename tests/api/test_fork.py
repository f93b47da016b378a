"""fork() while another thread trains (docs/design.md "fork"): in the child
every model is usable or refuses with a clear StateError, nothing hangs,
and the engine's thread pool works. Each child reports through its exit
status; a hang shows as a timeout, never as a hung suite."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

import nnc
from nnc.errors import StateError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20000, 20))
Y = RNG.normal(size=(20000, 1))


def model(seed):
    m = nnc.Sequential([nnc.Dense(64, activation="tanh"), nnc.Dense(1)], seed=seed)
    m.compile(optimizer="adam", loss="mse")
    m.build(20)
    return m


def wait_child(pid, timeout=60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the child hung")


def child_checks(busy, idle, path) -> int:
    """Run in the child; returns the exit code (0: every check held)."""
    try:
        for call in (lambda: busy.predict(X[:2]), busy.get_weights,
                     lambda: busy.set_weights(idle.get_weights()), lambda: busy.save(path)):
            try:
                call()
                return 10  # the half-trained model must refuse
            except StateError as exc:
                if "forked" not in str(exc):
                    return 11
        before = idle.predict(X[:5])
        idle.set_weights(idle.get_weights())
        idle.save(path)
        if not np.array_equal(nnc.load_model(path).predict(X[:5]), before):
            return 12
        nnc.set_num_threads(2)  # the pool works in the child
        idle.fit(X[:2000], Y[:2000], epochs=1, batch_size=256, verbose=0)
        fresh = model(3)
        fresh.fit(X[:2000], Y[:2000], epochs=1, batch_size=256, verbose=0)
        return 0
    except BaseException:
        return 13


def fork_while(busy, idle, tmp_path, started, release=None) -> int:
    assert started.wait(30)
    pid = os.fork()
    if pid == 0:  # the child
        os._exit(child_checks(busy, idle, str(tmp_path / "child.npz")))
    if release is not None:
        release.set()
    return wait_child(pid)


def test_fork_while_another_thread_is_inside_an_engine_call(tmp_path):
    busy, idle = model(1), model(2)
    started = threading.Event()

    class Signal(nnc.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                started.set()

    # Epochs long enough (10x the data) that the sleep below ends well
    # inside epoch 1 however fast the engine gets.
    x_long, y_long = np.tile(X, (10, 1)), np.tile(Y, (10, 1))
    trainer = threading.Thread(target=lambda: busy.fit(
        x_long, y_long, epochs=2, batch_size=8, verbose=0, callbacks=[Signal()]))
    trainer.start()
    time.sleep(0.05)  # well inside epoch 1's engine call
    code = fork_while(busy, idle, tmp_path, started)
    trainer.join()
    assert code == 0
    busy.predict(X[:2])  # the parent's model is unaffected


def test_fork_while_another_thread_is_between_epochs(tmp_path):
    busy, idle = model(1), model(2)
    started, release = threading.Event(), threading.Event()

    class Pause(nnc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            started.set()
            release.wait(60)

    trainer = threading.Thread(target=lambda: busy.fit(
        X[:1000], Y[:1000], epochs=2, verbose=0, callbacks=[Pause()]))
    trainer.start()
    code = fork_while(busy, idle, tmp_path, started, release)
    trainer.join()
    assert code == 0


def test_fork_with_no_training_keeps_every_model_usable(tmp_path):
    m = model(1)
    m.fit(X[:500], Y[:500], epochs=1, verbose=0)
    pid = os.fork()
    if pid == 0:
        try:
            m.fit(X[:500], Y[:500], epochs=1, verbose=0)
            m.save(str(tmp_path / "c.npz"))
            os._exit(0)
        except BaseException:
            os._exit(1)
    assert wait_child(pid) == 0
