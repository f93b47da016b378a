"""Training callbacks (Keras names and behaviour) and the ``History`` that
``fit`` returns.

An epoch runs entirely in the engine, so callbacks act between epochs:
``on_train_begin/end`` and ``on_epoch_begin/end``. A learning rate changed
by a callback takes effect from the next epoch that starts.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
import warnings

import numpy as np

from ._validation import check_float, check_int
from ._weak import WeakAttribute


class Callback:
    """Base class: override any hook. ``self.model`` is set by ``fit``, and
    ``self.training_run`` (the running ``fit``, with its engine-ready
    training arrays ``x``, ``y``, ``sample_weight``) while it runs.

    ``logs`` given to ``on_epoch_end`` holds ``loss``, the compiled metrics,
    their ``val_`` twins and ``learning_rate`` for that epoch.
    """

    training_run = None

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass


class History(Callback):
    """Per-epoch logs: ``history.history["loss"]``, ``["val_loss"]``, ...;
    ``history.epoch`` lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def _mark(self):
        """Where the record stands now, for _rewind."""
        return len(self.epoch), {key: len(values) for key, values in self.history.items()}

    def _rewind(self, mark) -> None:
        """Forget what was recorded since `mark` (fit redoes a record that
        Ctrl-C cut short, nnc/_training.py)."""
        epochs, lengths = mark
        del self.epoch[epochs:]
        for key in list(self.history):
            if key in lengths:
                del self.history[key][lengths[key]:]
            else:
                del self.history[key]

    # The model keeps its last History (model.history): held weakly (see _weak.py).
    model = WeakAttribute("_model_ref")

    def plot(self, keys=None, ax=None):
        """Draw the curves with matplotlib and return the Figure: losses,
        metrics and the learning rate on separate axes (``nnc.plot.history``;
        ``keys`` restricts the curves, ``ax`` draws them all into one Axes)."""
        from . import plot

        if not self.history:
            raise ValueError("History.plot(): nothing recorded to plot")
        return plot.history(self, keys=keys, ax=ax)

    def __repr__(self) -> str:
        if not self.epoch:
            return "<History: no epochs>"
        last = ", ".join(f"{key} {values[-1]:.4g}" for key, values in self.history.items())
        return f"<History: {len(self.epoch)} epochs; last: {last}>"

    def _repr_html_(self) -> str:
        """The last epoch's values and a small curve of the losses (notebooks)."""
        from . import _html

        return _html.history(self.history, self.epoch)


class CallbackList:
    """Dispatches each hook to every callback in order."""

    def __init__(self, callbacks, model, params: dict, training_run=None):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected nnc.callbacks.Callback objects, got {cb!r}")
            cb.set_model(model)
            cb.set_params(params)
            cb.training_run = training_run

    def detach_run(self) -> None:
        """Forget the training run (its arrays) once it has ended."""
        for cb in self.callbacks:
            cb.training_run = None

    # The four hooks as plain methods: a fit of one epoch calls each once,
    # and the generic dispatch below costs a closure per call.
    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)

        return call


def _improvement_test(monitor: str, mode: str, min_delta: float):
    """(is_better(current, best), initial best) for a monitored quantity."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        maximise = any(word in monitor for word in ("acc", "r2"))
        mode = "max" if maximise else "min"
    min_delta = abs(min_delta)
    if mode == "max":
        return (lambda cur, best: cur > best + min_delta), -math.inf
    return (lambda cur, best: cur < best - min_delta), math.inf


def _monitored(logs, monitor: str, owner: str):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner}: '{monitor}' is not in the logs (available: "
                      f"{', '.join(sorted(logs or {}))}); skipping", stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs (Keras's rules).

    Parameters
    ----------
    monitor : str, default "val_loss"
        The log key to watch.
    min_delta : float, default 0.0
        The smallest change that counts as an improvement.
    patience : int, default 0
        Epochs without improvement before training stops.
    verbose : int, default 0
        1 prints a line when training stops.
    mode : {"auto", "min", "max"}, default "auto"
        Whether smaller or larger is better; ``"auto"`` is ``"max"`` for a
        key containing "acc" or "r2", else ``"min"``.
    baseline : float, optional
        Stop unless ``monitor`` beats this within ``patience`` epochs.
    restore_best_weights : bool, default False
        End with the weights of the best epoch (the optimizer state stays
        that of the last epoch, as in Keras).
    start_from_epoch : int, default 0
        Epochs to wait before monitoring starts.

    Raises
    ------
    ValueError
        For an unknown ``mode`` or a negative count.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = check_float(min_delta, "min_delta")
        self.patience = check_int(patience, "patience", minimum=0)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", minimum=0)
        self._better, self._initial = _improvement_test(monitor, mode, self.min_delta)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial if self.baseline is None else self.baseline
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self._better(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_flat_params()
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:  # Keras' rule
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring weights from the end of the best epoch ({self.best_epoch + 1})")
            self.model.set_flat_params(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) after each epoch.

    Parameters
    ----------
    filepath : str or os.PathLike
        May contain ``{epoch}`` and log keys, e.g.
        ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``; ``.nncb`` selects the
        binary format. Each save replaces its file atomically.
    monitor : str, default "val_loss"
        The log key ``save_best_only`` watches.
    verbose : int, default 0
        1 prints a line per save.
    save_best_only : bool, default False
        Save only when ``monitor`` improved.
    save_weights_only : bool, default False
        ``save_weights`` instead of ``save``.
    mode : {"auto", "min", "max"}, default "auto"
        As for EarlyStopping.
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto"):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self._better, self.best = _improvement_test(monitor, mode, 0.0)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None or not self._better(current, self.best):
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved model to {path}")


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, current_lr) -> lr``, or ``schedule(epoch) -> lr``
        for a function of one argument (Keras accepts both; the signature
        decides).
    verbose : int, default 0
        1 prints the rate each epoch.

    Raises
    ------
    TypeError
        When ``schedule`` is not callable; at the first epoch when the
        optimizer runs a learning-rate schedule (its rate cannot be set).
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("schedule: expected a function (epoch, lr) -> lr or epoch -> lr")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_rate = _takes_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = (self.schedule(epoch, self.model.learning_rate) if self._takes_rate
              else self.schedule(epoch))
        self.model.learning_rate = check_float(lr, "learning rate from schedule", minimum=0.0)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:g}")


def _takes_two_arguments(function) -> bool:
    """Whether `function` can be called as f(epoch, lr) (else f(epoch))."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: Keras's new form
        return True
    try:
        signature.bind(0, 0.0)
    except TypeError:
        try:
            signature.bind(0)
        except TypeError:
            raise TypeError("schedule: expected a function (epoch, lr) -> lr or epoch -> lr, "
                            f"got {function!r} with signature {signature}") from None
        return False
    return True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not
    improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The log key to watch.
    factor : float, default 0.1
        The multiplier, in [0, 1).
    patience : int, default 10
        Epochs without improvement before a reduction.
    verbose : int, default 0
        1 prints each reduction.
    mode : {"auto", "min", "max"}, default "auto"
        As for EarlyStopping.
    min_delta : float, default 1e-4
        The smallest change that counts as an improvement.
    cooldown : int, default 0
        Epochs to wait after a reduction before counting again.
    min_lr : float, default 0.0
        The rate is never reduced below this.

    Raises
    ------
    TypeError
        At ``fit`` when the optimizer runs a learning-rate schedule.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        self.factor = check_float(factor, "factor", minimum=0.0, maximum=1.0, exclusive_max=True)
        self.monitor = monitor
        self.patience = check_int(patience, "patience", minimum=0)
        self.verbose = verbose
        self.cooldown = check_int(cooldown, "cooldown", minimum=0)
        self.min_lr = check_float(min_lr, "min_lr", minimum=0.0)
        self._better, self._initial = _improvement_test(monitor, mode, min_delta)

    def on_train_begin(self, logs=None):
        # Keras refuses too (its optimizer's rate cannot be set under a schedule).
        schedule = self.model.optimizer.schedule if self.model.optimizer is not None else None
        if schedule is not None:
            raise TypeError(f"ReduceLROnPlateau: the optimizer follows the schedule {schedule!r}; "
                            "it changes the rate itself, so there is no rate to reduce")
        self.best, self.wait, self.cooldown_counter = self._initial, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best, self.wait = current, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = self.model.learning_rate
            new = max(old * self.factor, self.min_lr)
            if new < old:
                self.model.learning_rate = new
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:g}")
                self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training after an epoch whose loss is NaN or infinite. (nnc never
    applies a non-finite step: the engine stops the epoch before it.)"""

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Epoch {epoch + 1}: invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Append one CSV row per epoch (``epoch`` then the log keys).

    Parameters
    ----------
    filename : str or os.PathLike
        The CSV file.
    separator : str, default ","
        The field separator.
    append : bool, default False
        Add to an existing file instead of starting a new one.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._keys = None
        self._has_header = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys],
                                          delimiter=self.separator)
            if not self._has_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``. (There are no batch hooks: epochs run in C.)"""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None):
        super().__init__()
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"{name}: expected a function")
                setattr(self, name, fn)


class GradientStats(Callback):
    """Record per-layer gradient and weight norms at the end of each epoch:
    ``grad_norm/<layer name>`` and ``weight_norm/<layer name>`` appear in
    the epoch logs and so in ``History.history`` (plot them with
    ``nnc.plot.gradient_norms``).

    The gradient is dJ/dtheta over the training data (dropout off, the L2
    term included) at the weights reached at the end of the epoch, from one
    engine call per epoch; nothing runs in Python per batch. A norm is the
    Euclidean norm over all of the layer's parameters (W, b and PReLU
    slopes). ``max_samples`` bounds the cost on big data sets: the gradient
    is then taken on that many rows spread evenly over the training set
    (no randomness, so the model's RNG is untouched).
    """

    def __init__(self, max_samples: int | None = None):
        super().__init__()
        self.max_samples = check_int(max_samples, "max_samples", minimum=1, allow_none=True)

    def on_epoch_end(self, epoch, logs=None):
        run = self.training_run
        if run is None or logs is None:
            return
        x, y, sw = run.x, run.y, run.sample_weight
        if x is None:
            raise TypeError("GradientStats: needs the training data as in-memory arrays; "
                            "fit was given a batch source (see nnc.batch_sources)")
        if self.max_samples is not None and x.shape[0] > self.max_samples:
            rows = np.linspace(0, x.shape[0] - 1, self.max_samples).astype(np.int64)
            x, y = np.ascontiguousarray(x[rows]), np.ascontiguousarray(y[rows])
            sw = None if sw is None else np.ascontiguousarray(sw[rows])
        model = self.model
        _, grad = model.engine.gradients(x, y, sw)
        logs.update(layer_norms(model, grad, "grad_norm/"))
        logs.update(layer_norms(model, model.get_flat_params(), "weight_norm/"))


def layer_norms(model, flat, prefix: str) -> dict:
    """{prefix + layer name: Euclidean norm of that layer's slice of `flat`}
    for a vector in the model's flat parameter layout."""
    layout = model.parameter_layout
    return {prefix + name: norm for name, norm in zip(layout.names, layout.layer_norms(flat))}
