"""The one training loop: epochs run by the engine, callbacks between them.

``Sequential.fit`` and the scikit-learn estimators both train through
``TrainingRun``; callbacks see the run (its engine-ready training arrays)
as ``callback.training_run``.

Each epoch runs on a worker thread inside ``_core.Model.train_epoch`` with
the GIL released; the calling thread waits in short slices so that it can
draw the progress bar and react to Ctrl-C or any exception a signal handler
raises (the engine then stops before its next batch, leaving the weights of
the last completed step, and the exception propagates). One worker
serves a whole run: handing it an epoch costs ~20 microseconds.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor, wait

from . import _chunks, _core, batch_sources, losses
from . import metrics as metric_fns
from .callbacks import CallbackList, History
from .progress import LIVE, NotebookLine, ProgressBar

POLL_SECONDS = 0.05  # Ctrl-C and progress latency
DRAW_SECONDS = 0.25  # progress bar refresh period


class EpochRunner:
    """A worker thread for the epochs of one run (a context manager)."""

    def __enter__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnc-epoch")
        return self

    def __exit__(self, *exc_info):
        self._pool.shutdown(wait=True)

    def run(self, engine, x, y, sample_weight, batch_size: int, shuffle: bool,
            bar=None) -> float:
        """Mean loss of one epoch of `engine` (a ``_core.Model``); re-raises
        the engine's exception, or KeyboardInterrupt once the engine has
        stopped."""
        progress = _core.Progress()
        future = self._pool.submit(engine.train_epoch, x, y, sample_weight, batch_size, shuffle,
                                   progress)
        waited = 0.0
        try:
            # wait() returns on timeout instead of raising: a TimeoutError
            # from a signal handler (the built-in since Python 3.11, the
            # class future.result() raises on timeout) is never mistaken
            # for the end of a slice.
            while not wait((future,), POLL_SECONDS).done:
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
                with EpochRunner() as runner:
                    logs = self._epochs(runner, cbs)
                cbs.on_train_end(logs)
            finally:
                cbs.detach_run()  # the training arrays are not kept after the run
        return history

    def _epochs(self, runner: EpochRunner, cbs: CallbackList) -> dict:
        """Run the epochs; return the logs of the last one that finished."""
        model, engine = self.model, self.model.engine
        logs: dict = {}
        live = NotebookLine() if self.verbose == LIVE else None  # one line for the run
        for epoch in range(self.initial_epoch, self.epochs):
            cbs.on_epoch_begin(epoch, {})
            bar = (ProgressBar(epoch, self.epochs, self.verbose, display=live)
                   if self.verbose else None)
            steps = self.steps
            try:
                if self.source is None:
                    loss = runner.run(engine, self.x, self.y, self.sample_weight,
                                      min(self.batch_size or 0, self.x.shape[0]), self.shuffle,
                                      bar)
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
            logs["learning_rate"] = engine.get_learning_rate()
            if bar is not None:
                bar.finish(steps, logs)
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        return logs

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
