"""Ctrl-C (SIGINT) during a long fit: KeyboardInterrupt with no batch
begun after the stop request, the weights of the last completed step
(finite, bit-identical to a replay of exactly those steps), History holding
the finished epochs, and fit usable again. Runs in a subprocess that the
test interrupts like a terminal does. How long the stop takes is measured
by bench/interrupt_latency.py, not asserted here.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from helpers.processes import PACKAGE_PARENT

import nnc

ROUNDS = 4
STEP_TIMEOUT = 120  # seconds the child may stay silent before the test fails

CHILD = textwrap.dedent(r"""
    import json, signal, struct, sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import nnc

    # Every stop flag fit creates, so that the Ctrl-C handler can see how
    # far the running epoch got.
    flags, new_flag = [], nnc._core.Progress
    nnc._core.Progress = lambda: flags.append(new_flag()) or flags[-1]
    marks = []

    def on_ctrl_c(signum, frame):
        # Python's Ctrl-C (KeyboardInterrupt), first requesting the stop
        # itself and noting the batches finished by then: at most the batch
        # in flight may finish after it. Installed explicitly: a job started
        # in the background by a non-interactive shell (CI scripts, `cmd &`)
        # inherits SIGINT ignored, and Python then leaves it ignored.
        if flags:
            flags[-1].request_stop()
            marks.append(flags[-1].batches_done)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_ctrl_c)

    config = json.loads(sys.argv[2])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(config["rows"], 32)).astype(np.float32)
    y = rng.integers(0, 10, size=config["rows"])

    lbfgs = config.get("optimizer") == "lbfgs"

    def make():
        m = nnc.Sequential([nnc.Dense(config["width"], activation="relu", input_dim=32),
                            nnc.Dense(config["width"], activation="tanh"),
                            nnc.Dense(10, activation="softmax")], seed=3)
        m.compile(optimizer=nnc.optimizers.LBFGS() if lbfgs else "adam",
                  loss="sparse_categorical_crossentropy")
        m.build()
        return m

    class Announce(nnc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print("epoch", epoch, flush=True)

    def adam_steps(m):
        if lbfgs:
            return 0
        blob = m.engine.get_optimizer_state()
        return struct.unpack_from("<Q", blob, 56)[0]  # header word 7: step count

    model = make()
    bs = config["batch_size"]  # None: full batch (L-BFGS), one step per epoch
    per_epoch = 1 if bs is None else -(-config["rows"] // bs)
    results = []
    for round_ in range(config["rounds"]):
        steps_before = adam_steps(model)
        del marks[:]
        # "quiet": no callback, so many epochs share an engine call (inline
        # when short); the parent is told just before fit starts.
        if config.get("quiet"):
            print("epoch", -1, flush=True)
        try:
            model.fit(x, y, epochs=10_000, batch_size=bs, shuffle=False, verbose=0,
                      callbacks=[] if config.get("quiet") else [Announce()])
            results.append({"error": "fit finished without an interrupt"})
            break
        except KeyboardInterrupt:
            pass
        weights = model.get_flat_params()
        epochs_done = len(model.history.history.get("loss", []))
        # L-BFGS: an interrupted step is rolled back, so whole epochs only.
        steps = epochs_done if lbfgs else adam_steps(model) - steps_before
        # Replay exactly those steps on a fresh model: whole epochs with fit,
        # the interrupted epoch's finished batches with train_on_batch.
        twin = make()
        if round_:  # continue from where the previous round's model stood
            twin.set_flat_params(start_weights)
            twin.engine.set_optimizer_state(start_state)
        if epochs_done:
            twin.fit(x, y, epochs=epochs_done, batch_size=bs, shuffle=False, verbose=0)
        for b in range(steps - epochs_done * per_epoch):
            twin.train_on_batch(x[b * bs:(b + 1) * bs], y[b * bs:(b + 1) * bs])
        results.append({
            # batches of the interrupted epoch; the stop request was made
            # with marks[0] of them done (if it came while an epoch ran)
            "partial_steps": int(steps - epochs_done * per_epoch), "marks": marks[:],
            "finite": bool(np.isfinite(weights).all()),
            "epochs_done": epochs_done, "steps": int(steps),
            "history_len_ok": all(len(v) == epochs_done
                                  for v in model.history.history.values()),
            "replay_identical": bool(np.array_equal(twin.get_flat_params(), weights)),
            "losses_finite": bool(np.isfinite(model.history.history.get("loss", [0.0])).all()),
        })
        start_weights, start_state = weights.copy(), model.engine.get_optimizer_state()
        print("caught", round_, flush=True)
    # fit is callable again and trains.
    before = model.get_flat_params()
    hist = model.fit(x[:256], y[:256], epochs=2, batch_size=64, verbose=0)
    after = model.get_flat_params()
    print("RESULT " + json.dumps({
        "rounds": results, "refit_epochs": len(hist.history["loss"]),
        "refit_changed": bool(not np.array_equal(before, after)),
        "refit_finite": bool(np.isfinite(after).all())}), flush=True)
""")


def _lines(proc) -> queue.Queue:
    """The child's stdout lines as they come (None at its end), read on a
    thread so that the test can wait for one with a timeout."""
    lines: queue.Queue = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(proc, lines: queue.Queue, prefix: str) -> str:
    """The child's next line starting with `prefix`; fails (never hangs)
    if it ends or stays silent for STEP_TIMEOUT seconds."""
    last = None
    while True:
        try:
            line = lines.get(timeout=STEP_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no {prefix!r} line from the child in {STEP_TIMEOUT} s")
        if line is None:
            pytest.fail(f"the child ended before {prefix!r} (exit {proc.wait()}); its last "
                        f"line: {last!r}; stderr: " + proc.stderr.read())
        last = line
        if line.startswith(prefix):
            return line


def run_interrupted(config: dict, rounds: int = ROUNDS) -> dict:
    """Start the child, send SIGINT `rounds` times (each after an epoch
    ended plus a varying delay); return its report."""
    config = {**config, "rounds": rounds}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(PACKAGE_PARENT),
                             json.dumps(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _lines(proc)
        for round_ in range(rounds):
            _wait_for(proc, lines, "epoch")
            time.sleep(0.01 + 0.037 * round_)  # land anywhere inside an epoch
            proc.send_signal(signal.SIGINT)
            _wait_for(proc, lines, "caught")
        result = _wait_for(proc, lines, "RESULT ")
        proc.wait(timeout=STEP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    return json.loads(result[len("RESULT "):])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("config", [
    {"rows": 4096, "width": 128, "batch_size": 32},     # many short steps
    {"rows": 16384, "width": 512, "batch_size": 4096},  # few long steps
    {"rows": 4096, "width": 256, "batch_size": None, "optimizer": "lbfgs", "rounds": 2},
    {"rows": 256, "width": 16, "batch_size": 32, "quiet": True},  # many epochs per call
], ids=["small-batches", "large-batches", "lbfgs-full-batch", "small-data-no-callbacks"])
def test_ctrl_c_stops_fit_before_its_next_batch_and_cleanly(config):
    rounds = config.get("rounds", ROUNDS)
    report = run_interrupted(config, rounds)
    assert len(report["rounds"]) == rounds, report
    for r in report["rounds"]:
        assert "error" not in r, r
        assert len(r["marks"]) == 1, r  # one Ctrl-C, handled once
        # No batch begins after the stop request: of the interrupted
        # epoch, only the batch in flight may finish after it.
        assert 0 <= r["partial_steps"] <= r["marks"][0] + 1, r
        assert r["finite"] and r["losses_finite"], r
        assert r["history_len_ok"], r
        assert r["replay_identical"], r  # exactly the last completed step's weights
    assert report["refit_epochs"] == 2 and report["refit_changed"] and report["refit_finite"]


def test_interrupted_epoch_is_not_recorded_and_weights_are_finite_in_process():
    """The same in-process through the engine's stop flag: a stop request
    before the first batch leaves everything exactly as it was."""
    from nnc import _core

    model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=4), nnc.Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).normal(size=(64, 4))
    y = x[:, :1] ** 2
    model.fit(x, y, epochs=1, verbose=0)
    before = (model.get_flat_params(), model.engine.get_optimizer_state(),
              model.engine.get_rng_state())
    progress = _core.Progress()
    progress.request_stop()
    with pytest.raises(nnc.TrainingInterrupted):
        model.engine.train_epoch(np.ascontiguousarray(x, np.float32),
                                np.ascontiguousarray(y, np.float32), None, 16, False,
                                  progress)
    after = (model.get_flat_params(), model.engine.get_optimizer_state(),
             model.engine.get_rng_state())
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


def test_an_interruption_while_quiet_epochs_are_recorded_leaves_history_whole(monkeypatch):
    """Ctrl-C landing while fit records a chunk of quiet epochs (several
    per engine call, only History sees them) half-way through an epoch's
    record: KeyboardInterrupt still propagates, and History holds every
    epoch the engine ran, each key once (a regression: the rest of the
    chunk used to be lost, so History said fewer epochs than were trained)."""
    import struct

    from nnc import callbacks

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=64)
    model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=4),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)  # measured: later calls take many epochs
    steps_before = struct.unpack_from("<Q", model.engine.get_optimizer_state(), 56)[0]
    original = callbacks.History.on_epoch_end
    calls = {"n": 0}

    def interrupted_once(self, epoch, logs=None):
        calls["n"] += 1
        if calls["n"] == 3:  # the third epoch's record, after its epoch index went in
            self.epoch.append(epoch)
            raise KeyboardInterrupt
        original(self, epoch, logs)

    monkeypatch.setattr(callbacks.History, "on_epoch_end", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=200, batch_size=16, verbose=0)
    history = model.history
    steps = struct.unpack_from("<Q", model.engine.get_optimizer_state(), 56)[0] - steps_before
    assert steps % 4 == 0 and steps >= 3 * 4  # whole epochs of 4 steps, at least the chunk
    assert len(history.epoch) == steps // 4 == len(history.history["loss"])
    assert len(history.history["learning_rate"]) == len(history.epoch)
    assert history.epoch == list(range(len(history.epoch)))
