"""The one training loop: epochs run by the engine, callbacks between them.

``Sequential.fit`` and the scikit-learn estimators both train through
``TrainingRun``; callbacks see the run (its engine-ready training arrays)
as ``callback.training_run``.

Each engine call runs on a worker thread with the GIL released; the
calling thread waits in short slices so that it can draw the progress bar
and react to Ctrl-C or any exception a signal handler raises (the engine
then stops before its next batch, leaving the weights of the last
completed step, and the exception propagates). The workers live as long
as the process (docs/design.md, Step and fit overhead). A call measured
to take less than INLINE_SECONDS runs on the calling thread instead: an
interruption then lands when it returns, a few milliseconds later. When
nothing needs the epoch boundary (no callback, validation, metric or
progress output) several epochs go to the engine in one call.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _chunks, _core, batch_sources, losses
from . import metrics as metric_fns
from .callbacks import CallbackList, History
from .progress import LIVE, NotebookLine, ProgressBar

POLL_SECONDS = 0.05  # Ctrl-C and progress latency
DRAW_SECONDS = 0.25  # progress bar refresh period
INLINE_SECONDS = 0.02  # engine calls expected to be shorter run on the calling thread
MAX_RUNS = 64  # runs in flight at once (one worker each, started on demand)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# Seconds per epoch last measured, by (engine id, rows, batch size): only
# decides where and how many epochs go per call, never the results.
_epoch_seconds: dict = {}


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_RUNS, thread_name_prefix="nnc-epoch")
        return _pool


def _forget_workers_in_child() -> None:
    """A fork() child has none of the parent's threads: start afresh, and
    measure anew (the parent's timings may name engine ids that a new
    model in the child reuses)."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()
    _epoch_seconds.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers_in_child)


def _nan_outputs(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(losses, learning rates) of `count` epochs, NaN until each epoch
    ends: one allocation (np.full costs twice as much, once per fit call)."""
    both = np.empty((2, count))
    both.fill(np.nan)
    return both[0], both[1]


class EpochRunner:
    """Engine calls of one run, each on a worker or inline, with one
    stop flag (``_core.Progress``) for the whole run."""

    def __init__(self):
        self.progress = _core.Progress()

    def run(self, engine, x, y, sample_weight, batch_size: int, shuffle: bool,
            bar=None) -> float:
        """Mean loss of one epoch of `engine` (a ``_core.Model``) on a worker."""
        return self._on_worker(engine.train_epoch, (x, y, sample_weight, batch_size, shuffle,
                                                    self.progress), bar)

    def epochs(self, engine, x, y, sample_weight, batch_size: int, shuffle: bool,
               losses_out: np.ndarray, rates_out: np.ndarray, bar=None,
               inline: bool = False) -> None:
        """len(losses_out) epochs in one engine call; the mean loss and the
        learning rate after each epoch are written as it ends (the entries
        of unfinished epochs keep their NaN)."""
        args = (x, y, sample_weight, batch_size, shuffle, self.progress, losses_out, rates_out)
        if inline:
            engine.train_epochs(*args)
        else:
            self._on_worker(engine.train_epochs, args, bar)

    def _on_worker(self, fn, args, bar):
        """fn(*args) on a worker; re-raises its exception, or KeyboardInterrupt
        (any exception raised while waiting) once the engine has stopped."""
        progress = self.progress
        # Waited on as a bare lock, released when the call ends: its timed
        # acquire runs in C, so a signal handler's exception (Ctrl-C) leaves
        # it cleanly. concurrent.futures.wait() waits on a threading.Condition
        # in Python code, where the exception can land between the lock's
        # release and its re-acquisition and turn into "RuntimeError: release
        # unlocked lock" (seen in CI). A timeout returns False, so a
        # TimeoutError from a signal handler is never taken for a slice's end.
        ended = threading.Lock()
        ended.acquire()
        future = _workers().submit(fn, *args)
        future.add_done_callback(lambda _: ended.release())
        waited = 0.0
        try:
            while not ended.acquire(timeout=POLL_SECONDS):
                waited += POLL_SECONDS
                if bar is not None and waited >= DRAW_SECONDS:
                    waited = 0.0
                    done = progress.samples_done
                    bar.update(progress.batches_done, progress.batches_total,
                               progress.loss_sum / done if done else None)
            return future.result()
        except BaseException:
            # Ctrl-C, SystemExit, a signal handler's exception: the engine
            # stops before its next batch (milliseconds), then it propagates.
            progress.request_stop()
            try:
                future.result()
            except _core.TrainingInterrupted:
                pass
            except Exception:  # the engine's own error loses to the interruption
                pass
            raise


class TrainingRun:
    """Epochs ``initial_epoch .. epochs - 1`` of a compiled model on
    engine-ready arrays (``model.engine_data``).

    After each epoch the logs hold ``loss``, every compiled metric on the
    whole training set, ``val_loss`` and ``val_<metric>`` when `validation`
    (engine-ready (x, y, sample_weight)) is given, and ``learning_rate``.
    A step that makes the loss or gradient non-finite is never applied; it
    stops the run with a RuntimeWarning (``nonfinite="warn"``, Keras-like)
    or raises ``NonFiniteError`` (``"raise"``, scikit-learn-like).
    """

    def __init__(self, model, x, y, sample_weight=None, *, epochs: int, batch_size: int | None,
                 shuffle: bool, initial_epoch: int = 0, validation=None, verbose: int = 0,
                 callbacks=(), nonfinite: str = "warn", source=None):
        self.model = model
        self.x, self.y, self.sample_weight = x, y, sample_weight
        # A batch source (nnc.batch_sources) instead of arrays: x, y are None.
        self.source = source
        self.validation = validation
        self.epochs, self.initial_epoch = epochs, initial_epoch
        self.batch_size, self.shuffle, self.verbose = batch_size, shuffle, verbose
        self.callbacks = list(callbacks)
        self.nonfinite = nonfinite
        if source is not None:
            self.steps = source.steps_per_epoch
        else:
            self.steps = 1 if batch_size is None else -(-x.shape[0] // batch_size)

    def run(self) -> History:
        """Train; returns the History (also left in ``model.history``)."""
        model = self.model
        with model.training_lock("fit"):
            history = model.history = History()
            # History comes last, as in Keras, so it records what other
            # callbacks add to the logs (e.g. GradientStats' grad_norm/<layer>).
            cbs = CallbackList([*self.callbacks, history], model,
                               {"epochs": self.epochs,
                                "samples": self.source.rows if self.x is None
                                else self.x.shape[0],
                                "batch_size": self.batch_size, "steps": self.steps,
                                "verbose": self.verbose}, self)
            model.stop_training = False
            try:
                cbs.on_train_begin({})
                logs = self._epochs(EpochRunner(), cbs)
                cbs.on_train_end(logs)
            finally:
                cbs.detach_run()  # the training arrays are not kept after the run
        return history

    def _epochs(self, runner: EpochRunner, cbs: CallbackList) -> dict:
        """Run the epochs; return the logs of the last one that finished."""
        model, engine = self.model, self.model.engine
        logs: dict = {}
        live = NotebookLine() if self.verbose == LIVE else None  # one line for the run
        quiet = self.source is None and not (self.callbacks or self.validation is not None
                                             or self.verbose or model.compiled_metrics)
        epoch = self.initial_epoch
        while epoch < self.epochs:
            if quiet:  # only History sees the epochs: several per engine call
                finished, chunk_logs, stopped = self._quiet_epochs(runner, cbs, epoch)
                epoch += finished
                logs = chunk_logs or logs
                if stopped:
                    break
                continue
            cbs.on_epoch_begin(epoch, {})
            bar = (ProgressBar(epoch, self.epochs, self.verbose, display=live)
                   if self.verbose else None)
            steps = self.steps
            try:
                if self.source is None:
                    loss_out, rate_out = self._engine_epochs(runner, 1, bar)
                    loss = float(loss_out[0])
                    metrics = metric_values(model, self.x, self.y, self.sample_weight)
                else:
                    loss, metrics, steps = self._streamed_epoch(runner, bar)
            except _core.NonFiniteError as exc:
                if self.nonfinite == "raise":
                    raise
                warnings.warn(f"fit: epoch {epoch + 1}: {exc}; training stopped with the "
                              "weights from before that step", RuntimeWarning, stacklevel=4)
                break
            if steps == 0:  # a generator used up in an earlier epoch (Keras's warning given)
                break
            logs = {"loss": loss, **metrics}
            if isinstance(self.validation, tuple):
                logs["val_loss"] = _chunks.loss(model, *self.validation)
                logs.update({f"val_{k}": m
                             for k, m in metric_values(model, *self.validation).items()})
            elif self.validation is not None:
                logs.update({f"val_{k}": m for k, m in
                             batch_sources.evaluate(model, self.validation).items()})
            logs["learning_rate"] = (float(rate_out[0]) if self.source is None
                                     else engine.get_learning_rate())
            if bar is not None:
                bar.finish(steps, logs)
            cbs.on_epoch_end(epoch, logs)
            epoch += 1
            if model.stop_training:
                break
        return logs

    def _engine_batch(self) -> int:
        """The batch size the engine takes: at most the rows, 0 for full batch."""
        return min(self.batch_size or 0, self.x.shape[0])

    def _timing_key(self) -> tuple:
        """This run's entry in _epoch_seconds: (engine id, rows, batch size)."""
        return (id(self.model.engine), self.x.shape[0], self._engine_batch())

    def _engine_epochs(self, runner: EpochRunner, count: int, bar=None,
                       outputs=None) -> tuple[np.ndarray, np.ndarray]:
        """`count` epochs of the arrays in one engine call: (mean losses,
        learning rates after each epoch); inline when the last measured
        epoch says the call is short. `outputs` (two NaN-filled float64
        vectors) are the ones to fill, so that a caller catching an
        exception can read the epochs that finished."""
        engine = self.model.engine
        key = self._timing_key()
        seconds = _epoch_seconds.get(key)
        loss_out, rate_out = outputs or _nan_outputs(count)
        start = time.perf_counter()
        runner.epochs(engine, self.x, self.y, self.sample_weight, self._engine_batch(),
                      self.shuffle, loss_out, rate_out, bar,
                      inline=seconds is not None and seconds * count <= INLINE_SECONDS)
        if len(_epoch_seconds) > 256:
            _epoch_seconds.clear()
        _epoch_seconds[key] = (time.perf_counter() - start) / count
        return loss_out, rate_out

    def _quiet_epochs(self, runner: EpochRunner, cbs: CallbackList, epoch: int):
        """Epochs from `epoch` on in one engine call, as many as fit in
        INLINE_SECONDS by the last measurement (one when none yet), each
        recorded as if it had run alone. Returns (epochs finished, logs of
        the last one or None, whether the run stops)."""
        seconds = _epoch_seconds.get(self._timing_key())
        count = 1
        if seconds is not None:
            count = max(1, min(self.epochs - epoch, int(INLINE_SECONDS / max(seconds, 1e-9))))
        outputs = _nan_outputs(count)
        try:
            self._engine_epochs(runner, count, outputs=outputs)
        except BaseException as exc:
            # The epochs that finished before the error or interruption
            # are recorded as they would have been one call per epoch.
            finished, logs = self._record_all(cbs, epoch, *outputs)[0]
            if not isinstance(exc, _core.NonFiniteError) or self.nonfinite == "raise":
                raise
            warnings.warn(f"fit: epoch {epoch + finished + 1}: {exc}; training stopped with "
                          "the weights from before that step", RuntimeWarning, stacklevel=5)
            return finished, logs, True
        (finished, logs), late = self._record_all(cbs, epoch, *outputs)
        if late is not None:
            raise late
        return finished, logs, False

    def _record_all(self, cbs: CallbackList, epoch: int, loss_out: np.ndarray,
                    rate_out: np.ndarray):
        """_record, made whole even when Ctrl-C (or another exception from
        a signal handler) lands in the middle of it: the engine ran those
        epochs, so History must show every one of them. Only History sees
        quiet epochs; an interrupted attempt is undone and the recording
        done again. Returns ((count, last logs), the exception or None)."""
        history = self.model.history
        mark = history._mark()
        try:
            return self._record(cbs, epoch, loss_out, rate_out), None
        except BaseException as exc:
            history._rewind(mark)
            return self._record(cbs, epoch, loss_out, rate_out), exc

    @staticmethod
    def _record(cbs: CallbackList, epoch: int, loss_out: np.ndarray, rate_out: np.ndarray):
        """on_epoch_begin/on_epoch_end for each finished epoch of a call
        (its learning rate is written, never NaN): (count, last logs)."""
        logs = None
        rates = rate_out.tolist()
        finished = 0
        for loss, rate in zip(loss_out.tolist(), rates):
            if rate != rate:  # NaN: this epoch did not finish
                break
            logs = {"loss": loss, "learning_rate": rate}
            cbs.on_epoch_begin(epoch + finished, {})
            cbs.on_epoch_end(epoch + finished, logs)
            finished += 1
        return finished, logs

    def _streamed_epoch(self, runner: EpochRunner, bar):
        """One epoch of the batch source, a chunk at a time: one engine epoch
        per run of equal-sized batches in the chunk (docs/design.md,
        Streaming data). Returns the mean loss, the metrics measured on
        each chunk right after its steps, and the number of steps."""
        model, engine, source = self.model, self.model.engine, self.source
        accumulators = batch_sources.metric_accumulators(model)
        loss_sum, rows, steps = 0.0, 0, 0
        source.begin_epoch()
        try:
            for chunk in source.chunks():
                for start, stop, size, count in chunk.runs():
                    sw = chunk.sample_weight
                    shown = _ChunkBar(bar, steps, source.steps_per_epoch, loss_sum, rows, size)
                    loss = runner.run(engine, chunk.x[start:stop], chunk.y[start:stop],
                                      None if sw is None else sw[start:stop], size,
                                      chunk.shuffle, shown if bar is not None else None)
                    loss_sum += loss * (stop - start)
                    rows, steps = rows + stop - start, steps + count
                batch_sources.add_metrics(model, accumulators, chunk)
        finally:
            source.end_epoch()
        mean = loss_sum / rows if rows else float("nan")
        return mean, {m: a.result() for m, a in accumulators.items()}, steps


class _ChunkBar:
    """The epoch's progress bar seen through one engine call on a chunk:
    batch counts and the running loss continue from the chunks before."""

    def __init__(self, bar, steps_before, steps_total, loss_sum, rows, batch_size):
        self.bar, self.before, self.total = bar, steps_before, steps_total
        self.loss_sum, self.rows, self.batch_size = loss_sum, rows, batch_size

    def update(self, done: int, total: int, running_loss) -> None:
        seen = self.before + done
        if running_loss is not None:
            samples = done * self.batch_size
            running_loss = (self.loss_sum + running_loss * samples) / (self.rows + samples)
        self.bar.update(seen, max(self.total or 0, seen), running_loss)


def metric_values(model, x, y, sample_weight) -> dict:
    """{metric: value} of the model's compiled metrics on engine-ready data
    (one prediction of the whole set, no dropout)."""
    names = model.compiled_metrics
    if not names:
        return {}
    pred = _chunks.predict(model.engine, x)
    labels = losses.takes_labels(model.compiled_loss)
    return {m: metric_fns.compute(m, y, pred, labels, sample_weight) for m in names}
