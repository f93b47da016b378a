"""The one training loop: epochs run by the engine, callbacks between them.

``Sequential.fit`` and the scikit-learn estimators both train through
``TrainingRun``; callbacks see the run (its engine-ready training arrays)
as ``callback.training_run``.

Each epoch runs on a worker thread inside ``_core.Model.train_epoch`` with
the GIL released; the calling thread waits in short slices so that it can
draw the progress bar and react to Ctrl-C (the engine then stops before its
next batch, leaving the weights of the last completed step). One worker
serves a whole run: handing it an epoch costs ~20 microseconds.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from . import _core, losses
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
            while True:
                try:
                    return future.result(POLL_SECONDS)
                except FutureTimeout:
                    waited += POLL_SECONDS
                if bar is not None and waited >= DRAW_SECONDS:
                    waited = 0.0
                    done = progress.samples_done
                    bar.update(progress.batches_done, progress.batches_total,
                               progress.loss_sum / done if done else None)
        except KeyboardInterrupt:
            progress.request_stop()
            try:
                future.result()
            except _core.TrainingInterrupted:
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
                 callbacks=(), nonfinite: str = "warn"):
        self.model = model
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.validation = validation
        self.epochs, self.initial_epoch = epochs, initial_epoch
        self.batch_size, self.shuffle, self.verbose = batch_size, shuffle, verbose
        self.callbacks = list(callbacks)
        self.nonfinite = nonfinite
        self.steps = 1 if batch_size is None else -(-x.shape[0] // batch_size)

    def run(self) -> History:
        """Train; returns the History (also left in ``model.history``)."""
        model = self.model
        with model.training_lock("fit"):
            history = model.history = History()
            # History comes last, as in Keras, so it records what other
            # callbacks add to the logs (e.g. GradientStats' grad_norm/<layer>).
            cbs = CallbackList([*self.callbacks, history], model,
                               {"epochs": self.epochs, "samples": self.x.shape[0],
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
            try:
                loss = runner.run(engine, self.x, self.y, self.sample_weight,
                                  self.batch_size or 0, self.shuffle, bar)
            except _core.NonFiniteError as exc:
                if self.nonfinite == "raise":
                    raise
                warnings.warn(f"fit: epoch {epoch + 1}: {exc}; training stopped with the "
                              "weights from before that step", RuntimeWarning, stacklevel=4)
                break
            logs = {"loss": loss, **metric_values(model, self.x, self.y, self.sample_weight)}
            if self.validation is not None:
                logs["val_loss"] = engine.loss(*self.validation)
                logs.update({f"val_{k}": m
                             for k, m in metric_values(model, *self.validation).items()})
            logs["learning_rate"] = engine.get_learning_rate()
            if bar is not None:
                bar.finish(self.steps, logs)
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        return logs


def metric_values(model, x, y, sample_weight) -> dict:
    """{metric: value} of the model's compiled metrics on engine-ready data
    (one prediction of the whole set, no dropout)."""
    names = model.compiled_metrics
    if not names:
        return {}
    pred = model.engine.predict(x)
    labels = losses.takes_labels(model.compiled_loss)
    return {m: metric_fns.compute(m, y, pred, labels, sample_weight) for m in names}
