"""Several epochs per engine call (docs/design.md, Step and fit overhead):
when nothing but History needs the epoch boundary, fit hands the engine
many epochs at once (inline when short). The results must be those of one
call per epoch, bit for bit: weights, optimizer and RNG state, and History;
an error or interruption inside a call records exactly the epochs that
finished; the persistent workers survive fork()."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import nnc
from nnc import _training

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 2))
Y = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
SW = RNG.uniform(0.5, 2.0, size=200)


class Boundary(nnc.callbacks.Callback):
    """Does nothing, but its presence makes fit run one epoch per call."""


def small(optimizer="adam", seed=0, dtype="float32"):
    m = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
                        nnc.Dense(2, activation="softmax")], seed=seed, dtype=dtype)
    m.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return m


def state(m):
    return (m.get_flat_params(), m.engine.get_optimizer_state(), m.engine.get_rng_state())


@pytest.fixture
def call_sizes(monkeypatch):
    """The number of epochs of each engine call fit makes."""
    sizes = []
    original = _training.EpochRunner.epochs

    def counting(self, engine, x, y, sw, bs, shuffle, losses_out, rates_out, bar=None,
                 inline=False):
        sizes.append(len(losses_out))
        return original(self, engine, x, y, sw, bs, shuffle, losses_out, rates_out, bar, inline)

    monkeypatch.setattr(_training.EpochRunner, "epochs", counting)
    return sizes


@pytest.mark.parametrize("kwargs", [
    {"optimizer": "adam"},
    {"optimizer": nnc.optimizers.SGD(learning_rate=nnc.optimizers.schedules.ExponentialDecay(
        0.1, decay_steps=5, decay_rate=0.9), momentum=0.9), "shuffle": False},
    {"optimizer": "adam", "dtype": "float64", "sample_weight": True},
], ids=["adam", "sgd-schedule-no-shuffle", "adam-f64-weights"])
def test_many_epochs_per_call_match_one_epoch_per_call(kwargs, call_sizes):
    kwargs = dict(kwargs)
    shuffle = kwargs.pop("shuffle", True)
    sw = SW if kwargs.pop("sample_weight", False) else None
    quiet, boundary = small(**kwargs), small(**kwargs)
    h_quiet = quiet.fit(X, Y, epochs=300, batch_size=32, shuffle=shuffle, sample_weight=sw,
                        verbose=0)
    assert max(call_sizes) > 1 and sum(call_sizes) == 300  # epochs did share calls
    call_sizes.clear()
    h_boundary = boundary.fit(X, Y, epochs=300, batch_size=32, shuffle=shuffle,
                              sample_weight=sw, verbose=0, callbacks=[Boundary()])
    assert set(call_sizes) == {1}
    a, b = state(quiet), state(boundary)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]
    assert h_quiet.history == h_boundary.history
    assert h_quiet.epoch == h_boundary.epoch == list(range(300))
    assert len(set(h_quiet.history["learning_rate"])) > 1 or "schedule" not in str(kwargs)
    # Continuing with initial_epoch keeps the numbering.
    h = quiet.fit(X, Y, epochs=310, initial_epoch=300, batch_size=32, verbose=0)
    assert h.epoch == list(range(300, 310))


def test_interruption_after_a_call_records_its_epochs(monkeypatch):
    """A KeyboardInterrupt landing as an inline call returns (where Ctrl-C
    arrives then) still records the epochs that call finished."""
    original = _training.EpochRunner.epochs
    calls = []

    def interrupted(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls.append(len(args[6]))
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(_training.EpochRunner, "epochs", interrupted)
    m = small()
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, Y, epochs=100_000, batch_size=32, verbose=0)
    done = sum(calls)
    assert len(m.history.history["loss"]) == len(m.history.history["learning_rate"]) == done
    assert m.history.epoch == list(range(done))
    monkeypatch.undo()
    twin = small()
    h = twin.fit(X, Y, epochs=done, batch_size=32, verbose=0, callbacks=[Boundary()])
    np.testing.assert_array_equal(twin.get_flat_params(), m.get_flat_params())
    assert h.history == m.history.history


def diverging(seed=0):
    m = nnc.Sequential([nnc.Dense(1, input_dim=2)], seed=seed)
    m.compile(optimizer=nnc.optimizers.SGD(learning_rate=3.0), loss="mse")
    return m


@pytest.mark.parametrize("nonfinite", ["warn", "raise"])
def test_nonfinite_inside_a_call_matches_one_epoch_per_call(nonfinite):
    y = X[:, :1] * 3.0
    results = []
    for callbacks in ([], [Boundary()]):
        m = diverging()
        run = _training.TrainingRun(m, *m.engine_data(X, y), epochs=5000, batch_size=32,
                                    shuffle=True, callbacks=callbacks, nonfinite=nonfinite)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run.run()
                error = None
            except nnc.NonFiniteError as exc:
                error = str(exc)
        results.append(([str(w.message) for w in caught], error, m.history.history,
                         m.get_flat_params()))
    (w_quiet, e_quiet, h_quiet, p_quiet), (w_bound, e_bound, h_bound, p_bound) = results
    assert (w_quiet, e_quiet) == (w_bound, e_bound)
    warned = nonfinite == "warn"
    assert (len(w_quiet) == 1) == warned and (e_quiet is None) == warned
    assert 1 < len(h_quiet["loss"]) < 5000
    assert h_quiet == h_bound
    np.testing.assert_array_equal(p_quiet, p_bound)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_workers_after_fork():
    """The parent's epoch workers do not exist in a fork() child: fit there
    starts new ones (a fresh model: its first call goes to a worker)."""
    small().fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=[Boundary()])
    assert _training._pool is not None
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            m = small(seed=1)
            h = m.fit(X, Y, epochs=3, batch_size=32, verbose=0, callbacks=[Boundary()])
            code = 0 if len(h.history["loss"]) == 3 and _training._pool is not None else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
