"""``Sequential``: the user-facing model (docs/architecture.md, The Python
facade).

The model object validates and converts input, then hands whole arrays to
the engine (``nnc._core``); no Python runs per sample, per weight or per
batch. Weights live in the engine's single parameter buffer.

Besides the Keras-style API, a model offers the few services nnc's other
modules (saving, gradient checks, callbacks, estimators, inspection) build
on, so that none of them reaches into its private state: ``engine`` (the
C engine model), ``parameter_layout``, ``engine_features``/``engine_data``
(input conversion), ``training_lock``, ``get_config``/``from_config``,
``get_compile_config``/``compile_from_config`` and
``get_training_state``/``set_training_state``.
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
import weakref
from collections.abc import Iterable
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from . import (
    _chunks,
    _core,
    _dask,
    _html,
    batch_sources,
    inspection,
    losses,
    optimizers,
    progress,
    saving,
)
from . import _validation as v
from . import metrics as metric_fns
from ._training import TrainingRun, metric_values
from .callbacks import Callback, History
from .layers import Dense, Dropout, Input, Layer, engine_specs
from .layers import from_config as layer_from_config
from .layout import ParameterLayout

#: Rows per chunk batch when evaluate/predict stream a memory-mapped array
#: without a batch_size (the value does not change the results).
EVALUATION_BATCH = 512

#: Every live model, for the fork handler below.
_LIVE_MODELS: weakref.WeakSet = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """In a fork() child (docs/design.md "fork"): the threads that held
    locks are gone. Every model gets working locks; one that another thread
    was training refuses later calls with StateError rather than handing out
    a half-updated state (or waiting forever for a lock nobody will free)."""
    _core.after_fork_in_child()
    for model in list(_LIVE_MODELS):
        if model._fit_lock.locked():
            model._fit_lock = threading.Lock()
            model._fit_thread = None
            if model._core is not None:
                model._core.refuse_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)



def _batch_source(model, argument: str, x, y=None, sample_weight=None, *, batch_size=None,
                  steps=None, shuffle=False, class_weight=None, targets=True):
    """``batch_sources.source``, with Dask collections streamed by
    ``_dask.DaskSource`` (which builds on batch_sources, so the choice is
    made here, above both)."""
    if not _dask.is_collection(x):
        return batch_sources.source(model, argument, x, y, sample_weight, batch_size=batch_size,
                                    steps=steps, shuffle=shuffle, class_weight=class_weight,
                                    targets=targets)
    if steps is not None:
        raise ValueError(f"{batch_sources._steps_name(argument)}: only for generators, "
                         f"iterables and PyDatasets; a {_dask.DaskSource.kind} runs its "
                         "partitions")
    return _dask.DaskSource(model, argument, x, y, sample_weight, batch_size=batch_size,
                            shuffle=shuffle, class_weight=class_weight, targets=targets)


class _TrainingLock:
    """``Sequential.training_lock``'s context manager (a class: fit takes
    it once per call, and a generator-based one costs several times more)."""

    __slots__ = ("model", "what")

    def __init__(self, model, what: str):
        self.model, self.what = model, what

    def __enter__(self) -> None:
        model = self.model
        if not model._fit_lock.acquire(blocking=False):
            raise RuntimeError(f"{self.what}: this model is already training in another thread")
        model._fit_thread = threading.get_ident()

    def __exit__(self, *exc) -> None:
        model = self.model
        model._fit_thread = None
        model._fit_lock.release()


def _holding_state_lock(method):
    """Run a model method with the model's state lock held."""
    @functools.wraps(method)
    def holding(self, *args, **kwargs):
        with self._state_lock:
            return method(self, *args, **kwargs)
    return holding

#: The NumPy dtype of each engine dtype (predict's fast path compares by identity).
_NP_DTYPES = {"float32": np.dtype("float32"), "float64": np.dtype("float64")}

#: Rows per engine call when predict shows progress.
PREDICT_CHUNK = 4096


@saving.register_model_class
class Sequential:
    """A stack of Dense layers, optionally with Dropout between them.

    The Keras-style model: ``compile`` chooses the loss, optimizer and
    metrics, ``fit`` trains (each epoch runs entirely in the C engine),
    ``predict``/``evaluate``/``model(x)`` run inference, ``save`` writes
    ``.npz`` or ``.nncb`` files.

    Parameters
    ----------
    layers : list of Layer, or Layer, optional
        ``nnc.Input``, ``nnc.Dense`` and ``nnc.Dropout`` layers in order;
        more can be added with ``add`` until the model is built.
    dtype : {"float32", "float64"}, default "float32"
        The precision of every parameter and computation.
    seed : int, optional
        Fixes initialisation, shuffling and dropout: the same seed gives
        bit-identical training, for any thread count. Drawn at random when
        omitted (see ``seed`` after construction).
    name : str, optional
        The model's name (default ``"sequential"``).

    Raises
    ------
    ValueError
        For a seed outside [0, 2**64), duplicate layer names or a
        contradictory ``input_dim``.
    TypeError
        For something that is not a layer.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=2),
    ...                         nnc.Dense(1, activation="sigmoid")], seed=0)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> model.count_params()
    33
    >>> model
    <Sequential 'sequential': Input(2) -> Dense(8, tanh) -> Dense(1, sigmoid); float32, 33 params>
    """

    def __init__(self, layers: Iterable[Layer] | Layer | None = None, dtype: str = "float32",
                 seed: int | None = None, name: str | None = None) -> None:
        self.dtype = v.check_dtype(dtype)
        if seed is None:
            seed = secrets.randbits(63)
        self.seed = v.check_int(seed, "seed", minimum=0)
        if self.seed >= 2**64:
            raise ValueError(f"seed: expected an integer < 2**64, got {seed}")
        self.name = name if name is not None else "sequential"
        self._layers: list[Layer] = []
        self._layer_names: set[str] = set()
        self._kind_counts: dict[type, int] = {}
        self._input_dim: int | None = None
        self._core = None
        self._layout: ParameterLayout | None = None
        self._loss: str | None = None
        self._l2 = 0.0
        self._optimizer: optimizers.Optimizer | None = None
        self._metrics: list[str] = []
        self.stop_training = False
        self.history: History | None = None
        self._fit_lock = threading.Lock()
        self._fit_thread = None
        # Held by compile and by snapshots: a save never pairs one compile's
        # settings with another's optimizer state (docs/design.md "Snapshots").
        self._state_lock = threading.RLock()
        _LIVE_MODELS.add(self)
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------ structure

    @property
    def layers(self) -> list[Layer]:
        """Dense and Dropout layers in order (Input is not a layer here)."""
        return list(self._layers)

    @property
    def built(self) -> bool:
        """Whether the engine model exists. A model whose input size is known
        is built on first use of its weights (or by ``build()``)."""
        return self._core is not None

    @property
    def _dense(self) -> list[Dense]:
        return [layer for layer in self._layers if isinstance(layer, Dense)]

    def add(self, layer: Layer) -> None:
        """Append a layer (before the model is built)."""
        if self.built:
            raise RuntimeError("cannot add layers to a model that is already built")
        if isinstance(layer, Input):
            if self._layers or self._input_dim is not None:
                raise ValueError("layers: Input must come first")
            self._input_dim = layer.dim
            return
        if not isinstance(layer, (Dense, Dropout)):
            raise TypeError(f"layers: expected nnc.Dense, nnc.Dropout or nnc.Input, got {layer!r}")
        if layer._model is not None:
            raise ValueError(f"layers: {layer!r} already belongs to a model")
        # Counts and names kept as they grow: adding n layers costs O(n), so
        # a file of 100,000 layers loads in linear time (docs/design.md).
        n_of_kind = self._kind_counts.get(type(layer), 0)
        if isinstance(layer, Dense) and layer.input_dim is not None:
            if self._kind_counts.get(Dense, 0):
                raise ValueError("input_dim: only the first Dense layer may set input_dim")
            if self._input_dim is not None and self._input_dim != layer.input_dim:
                raise ValueError(
                    f"input_dim: {layer.input_dim} contradicts Input({self._input_dim})")
            self._input_dim = layer.input_dim
        kind = "dense" if isinstance(layer, Dense) else "dropout"
        if layer.name is None:
            layer.name = f"{kind}_{n_of_kind + 1}"
        if layer.name in self._layer_names:
            raise ValueError(f"layers: duplicate layer name {layer.name!r}")
        self._layers.append(layer)
        self._layer_names.add(layer.name)
        self._kind_counts[type(layer)] = n_of_kind + 1
        layer._model = self
        if isinstance(layer, Dense):
            layer._index = n_of_kind

    def build(self, input_dim: int | None = None) -> None:
        """Create the engine model and draw the initial weights from the seed."""
        if self.built:
            return
        if input_dim is not None:
            input_dim = v.check_int(input_dim, "input_dim", minimum=1)
            if self._input_dim is not None and self._input_dim != input_dim:
                raise ValueError(
                    f"x: expected {self._input_dim} features per sample, got {input_dim}")
            self._input_dim = input_dim
        if self._input_dim is None:
            raise ValueError("input_dim: unknown; give Dense(..., input_dim=d), nnc.Input(d), "
                             "or call fit/predict with data")
        core = _core.Model(self.dtype, self._input_dim, engine_specs(self._layers), self.seed)
        if self._loss is not None:
            self._compile_engine(core)
        self._core = core
        self._layout = ParameterLayout(core.layout(), [layer.name for layer in self._dense])

    @property
    def input_dim(self) -> int | None:
        return self._input_dim

    @property
    def output_dim(self) -> int:
        for layer in reversed(self._layers):  # the last Dense, without a list per call
            if isinstance(layer, Dense):
                return layer.units
        raise IndexError("the model has no Dense layer")

    # ------------------------------------------------- services to nnc's modules

    @property
    def engine(self):
        """The C engine's model (``nnc._core.Model``) behind this one, built
        on first use; its methods take engine-ready arrays (``engine_data``)."""
        if not self.built:
            if self._input_dim is None:
                raise RuntimeError(
                    "the model is not built yet: give it an input_dim or call fit/predict")
            self.build()
        return self._core

    @property
    def parameter_layout(self) -> ParameterLayout:
        """Where each Dense layer's W, b and slopes sit in the flat parameter
        vector (``get_flat_params``), as the engine lays them out."""
        self.engine  # noqa: B018 - builds the model
        return self._layout

    def engine_features(self, x, name: str = "x", allow_empty: bool = False,
                        engine_checks: bool = False) -> np.ndarray:
        """`x` as the engine takes it (a finite C-contiguous matrix of the
        model's dtype), building the model from its width if needed;
        `engine_checks` as for ``v.features`` (predict)."""
        arr = v.features(x, self.dtype, self._input_dim, name, allow_empty=allow_empty,
                         engine_checks=engine_checks)
        if not self.built:
            self.build(arr.shape[1])
        return arr

    def engine_data(self, x, y, sample_weight=None, class_weight=None, prefix: str = ""):
        """Engine-ready (x, y, sample_weight) for the compiled loss; class
        weights are folded into the sample weights."""
        self._require_compiled()
        x = self.engine_features(x, prefix + "x")
        y = v.targets(y, self.dtype, self.output_dim, self._loss, x.shape[0], prefix + "y")
        sw = v.sample_weights(sample_weight, self.dtype, x.shape[0], prefix + "sample_weight")
        if class_weight is not None:
            cw = self._class_weights(y, class_weight)
            sw = cw if sw is None else np.ascontiguousarray(sw * cw)
        return x, y, sw

    def training_lock(self, what: str) -> _TrainingLock:
        """Hold the model for one training run (``with model.training_lock(
        "fit"):``): a second one from another thread raises RuntimeError
        instead of interleaving its updates, and so do updates from other
        threads (compile, set_weights, ...) while it runs; callbacks run in
        the training thread and may still change the model."""
        return _TrainingLock(self, what)

    def _refuse_while_training(self, what: str) -> None:
        owner = self._fit_thread
        if owner is not None and owner != threading.get_ident():
            raise RuntimeError(f"{what}: this model is training in another thread")

    # -------------------------------------------------------------- compile

    @_holding_state_lock
    def compile(self, optimizer: str | optimizers.Optimizer | dict = "adam", loss: str = "mse",
                l2: float = 0.0, metrics: str | Iterable[str] | None = None) -> None:
        """Choose the optimizer, the loss and the L2 coefficient lambda
        (J += lambda/(2m) sum W^2, biases excluded), and metrics to report.

        Compiling again resets the optimizer state.
        """
        self._refuse_while_training("compile")
        opt = optimizers.get(optimizer)
        loss_name = losses.get(loss)
        l2 = v.check_float(l2, "l2")
        if metrics is None:
            metric_names = []
        elif isinstance(metrics, str):
            metric_names = [metrics]
        else:
            metric_names = list(metrics)
        metric_names = [metric_fns.get(m) for m in metric_names]
        for name in metric_names:
            metric_fns.check_targets(name, losses.takes_labels(loss_name))
        previous = (self._optimizer, self._loss, self._l2, self._metrics)
        self._optimizer, self._loss, self._l2, self._metrics = opt, loss_name, l2, metric_names
        try:
            if self.built:
                self._compile_engine(self._core)
            elif self._dense:  # the engine's checks, before the engine model exists
                _core.check_compile(self._dense[-1].activation,
                                    any(isinstance(layer, Dropout) for layer in self._layers),
                                    loss_name, l2, opt.name, opt.engine_options())
                opt._attach(None)  # bound at build, not to another model's engine
        except Exception:
            self._optimizer, self._loss, self._l2, self._metrics = previous
            raise
        if previous[0] is not None and previous[0] is not opt:
            previous[0]._attach(None)  # it no longer drives this model's engine

    def _compile_engine(self, core) -> None:
        core.compile(self._loss, self._l2, self._optimizer.name, self._optimizer.engine_options())
        self._optimizer._attach(core)  # optimizer.learning_rate now reads and sets core's

    @property
    def optimizer(self) -> optimizers.Optimizer | None:
        return self._optimizer

    @property
    def compiled_loss(self) -> str | None:
        return self._loss

    @property
    def compiled_metrics(self) -> list[str]:
        """The metric names given to compile (canonical spelling)."""
        return list(self._metrics)

    def _require_compiled(self):
        if self._loss is None:
            raise RuntimeError("the model is not compiled; call model.compile(...) first")

    @property
    def learning_rate(self) -> float:
        """The optimizer's current learning rate."""
        self._require_compiled()
        if self.built:
            return self._core.get_learning_rate()
        return self._optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._require_compiled()
        self._optimizer.learning_rate = value

    # ----------------------------------------------------------------- data

    def _class_labels(self, y: np.ndarray) -> np.ndarray:
        if losses.takes_labels(self._loss):
            return y
        if y.shape[1] == 1:
            return (y[:, 0] > 0.5).astype(np.int64)
        return np.argmax(y, axis=1)

    def _class_weights(self, y: np.ndarray, class_weight) -> np.ndarray:
        if not isinstance(class_weight, dict):
            raise TypeError(
                f"class_weight: expected a dict {{class: weight}}, got {class_weight!r}")
        n_classes = 2 if self.output_dim == 1 else self.output_dim
        table = np.ones(n_classes, dtype=np.float64)
        for cls, weight in class_weight.items():
            cls = v.check_int(cls, "class_weight key", minimum=0)
            if cls >= n_classes:
                raise ValueError(f"class_weight: class {cls} is outside [0, {n_classes})")
            table[cls] = v.check_float(weight, f"class_weight[{cls}]", minimum=0.0)
        return np.ascontiguousarray(table[self._class_labels(y)], dtype=self.dtype)

    # ------------------------------------------------------------- training

    def fit(self, x: ArrayLike | Iterable[Any], y: ArrayLike | None = None, epochs: int = 1,
            batch_size: int | None = 32, shuffle: bool = True, validation_split: float = 0.0,
            validation_data: Any = None, verbose: int | str = "auto",
            callbacks: Iterable[Callback] | Callback | None = None,
            sample_weight: ArrayLike | None = None,
            class_weight: dict[int, float] | None = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None,
            validation_steps: int | None = None) -> History:
        """Train for ``epochs`` epochs; each epoch runs entirely in the engine.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features), or a batch source
            The inputs; or a memory-mapped array (streamed in chunks), a
            Dask array or DataFrame (streamed by partition, ``y`` a Dask
            collection too), a generator, iterable or PyDataset-like object
            of ``(x, y[, sample_weight])`` batches (then without ``y``).
        y : array-like, optional
            Targets: class labels for ``sparse_categorical_crossentropy``,
            else ``(n_samples, n_outputs)`` (1-D for one output).
        epochs : int, default 1
            The last epoch index + 1 (with ``initial_epoch``, as Keras).
        batch_size : int or None, default 32
            Rows per step: ``None`` is full-batch gradient descent, ``1``
            stochastic, anything else mini-batch (a size beyond the data is
            one batch).
        shuffle : bool, default True
            Reshuffle the rows every epoch (from the model's seed).
        validation_split : float, default 0.0
            Hold out the last fraction of the rows (before shuffling), as
            Keras does.
        validation_data : tuple or batch source, optional
            ``(x_val, y_val[, sample_weight])``; reported as ``val_*``.
        verbose : {"auto", 0, 1, 2}, default "auto"
            0 silent, 1 a progress bar, 2 a line per epoch; ``"auto"`` is 1
            on a terminal, one live line in a notebook, else 2.
        callbacks : list of nnc.callbacks.Callback, optional
            Called between epochs (EarlyStopping, ModelCheckpoint, ...).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight per row: J = (1/m) sum_i s_i l_i + L2 term.
        class_weight : dict, optional
            Weight per class label, folded into the sample weights.
        initial_epoch : int, default 0
            The epoch to start from (to resume a run).
        steps_per_epoch, validation_steps : int, optional
            Batches per epoch drawn from a generator (Keras's semantics).

        Returns
        -------
        nnc.callbacks.History
            Also ``model.history``: ``history.history`` holds ``loss``,
            ``val_loss``, every compiled metric (measured on the whole
            training set with the weights at the end of the epoch) and
            ``learning_rate``, per epoch.

        Raises
        ------
        RuntimeError
            Before ``compile``, or while another thread trains the model.
        ValueError, TypeError
            For bad data or arguments (the message names the argument); the
            model is left as it was.

        Examples
        --------
        >>> x, y = nnc.datasets.make_moons(n_samples=200, noise=0.1, seed=0)
        >>> model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
        ...                         nnc.Dense(2, activation="softmax")], seed=0)
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        >>> history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
        >>> len(history.history["loss"]), sorted(history.history)
        (5, ['accuracy', 'learning_rate', 'loss'])
        """
        self._require_compiled()
        epochs = v.check_int(epochs, "epochs", minimum=0)
        initial_epoch = v.check_int(initial_epoch, "initial_epoch", minimum=0)
        batch_size = v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle: expected True or False, got {shuffle!r}")
        validation_split = v.check_float(validation_split, "validation_split", minimum=0.0,
                                         maximum=1.0, exclusive_max=True)
        verbose = _check_verbose(verbose)
        callbacks = _callback_list(callbacks)  # checked before anything changes
        steps_per_epoch = v.check_int(steps_per_epoch, "steps_per_epoch", minimum=1,
                                      allow_none=True)
        validation_steps = v.check_int(validation_steps, "validation_steps", minimum=1,
                                       allow_none=True)
        source = _batch_source(self, "x", x, y, sample_weight, batch_size=batch_size,
                                      steps=steps_per_epoch, shuffle=shuffle,
                                      class_weight=class_weight)
        if source is not None:
            if self._optimizer.name == "lbfgs":
                raise ValueError("optimizer: L-BFGS is a full-batch method; it needs x as an "
                                 f"in-memory array, not a {source.kind}")
            val = None
            if validation_data is not None:
                val = self._validation_source(validation_data, validation_steps, batch_size)
            elif validation_split > 0:
                if not isinstance(source, batch_sources.ArraySource):
                    raise ValueError("validation_split: only for arrays (memory-mapped ones "
                                     f"included); give validation_data with a {source.kind}")
                n_train = int(round(source.rows * (1.0 - validation_split)))
                if n_train < 1 or n_train >= source.rows:
                    raise ValueError(f"validation_split: {validation_split} leaves no training "
                                     f"or no validation rows out of {source.rows}")
                source, val = source.split(n_train)
            return TrainingRun(self, None, None, None, epochs=epochs,
                               initial_epoch=initial_epoch, batch_size=batch_size,
                               shuffle=shuffle, validation=val, verbose=verbose,
                               callbacks=callbacks, source=source).run()
        if y is None:
            raise ValueError("y: required when x is an array (batch sources such as "
                             "generators carry their targets)")
        x, y, sw = self.engine_data(x, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            val = self._validation_source(validation_data, validation_steps, batch_size)
        elif validation_split > 0:
            n_train = int(round(x.shape[0] * (1.0 - validation_split)))
            if n_train < 1 or n_train >= x.shape[0]:
                raise ValueError(f"validation_split: {validation_split} leaves no training or "
                                 f"no validation rows out of {x.shape[0]}")
            val = (x[n_train:], y[n_train:], None if sw is None else sw[n_train:])
            x, y = x[:n_train], y[:n_train]
            sw = None if sw is None else sw[:n_train]
        return TrainingRun(self, x, y, sw, epochs=epochs, initial_epoch=initial_epoch,
                           batch_size=batch_size, shuffle=shuffle, validation=val,
                           verbose=verbose, callbacks=callbacks).run()

    def _validation_source(self, data, steps, batch_size):
        """Engine-ready (x, y, sample_weight) arrays, or a batch source."""
        if not isinstance(data, (tuple, list)):
            source = _batch_source(self, "validation_data", data, steps=steps)
            if source is None:
                raise ValueError("validation_data: expected (x_val, y_val), "
                                 "(x_val, y_val, sample_weight_val) or a batch source")
            if source.kind == "generator" and steps is None:
                raise ValueError("validation_steps: required when validation_data is a "
                                 "generator (it can be read only once; each epoch's "
                                 "validation draws validation_steps batches from it)")
            return source
        if len(data) not in (2, 3):
            raise ValueError("validation_data: expected (x_val, y_val) or "
                             "(x_val, y_val, sample_weight_val)")
        sw = data[2] if len(data) == 3 else None
        if batch_sources.is_mapped(data[0]) or _dask.is_collection(data[0]):
            return _batch_source(self, "validation_data", data[0], data[1], sw,
                                        batch_size=batch_size or EVALUATION_BATCH)
        if steps is not None:
            raise ValueError("validation_steps: only for validation_data given as a "
                             "generator, iterable or PyDataset")
        return self.engine_data(data[0], data[1], sw, prefix="validation_data ")

    def train_on_batch(self, x: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
                       class_weight: dict[int, float] | None = None) -> float:
        """One optimizer step on this batch; returns the loss before the step."""
        self._refuse_while_training("train_on_batch")
        x, y, sw = self.engine_data(x, y, sample_weight, class_weight)
        return self._core.train_batch(x, y, sw)

    # ------------------------------------------------------------ inference

    def predict(self, x: ArrayLike | Iterable[Any], batch_size: int | None = None,
                verbose: int | str = 0, steps: int | None = None) -> np.ndarray:
        """Forward pass without dropout.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features), or a batch source
            Any numeric dtype, layout or alignment converts; a batch source
            is read as for ``fit`` (batches of x alone or of tuples whose
            first item is x).
        batch_size : int, optional
            Rows per engine call. By default calls of a few milliseconds of
            work each (Ctrl-C lands between them); the result is the same.
        verbose : {0, 1, 2, "auto"}, default 0
            1 shows a progress bar over chunks of ``batch_size`` rows
            (default PREDICT_CHUNK).
        steps : int, optional
            Batches to draw from a generator.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_outputs)
            In the model's dtype; bit-identical for any batch size or
            thread count. For a Dask ``x``, a lazy Dask array computed
            partition by partition where the partitions live.

        Raises
        ------
        ValueError
            For a wrong number of features, NaN or infinity.

        Examples
        --------
        >>> model = nnc.Sequential([nnc.Dense(3, activation="softmax", input_dim=2)], seed=0)
        >>> p = model.predict(np.zeros((4, 2)))
        >>> p.shape, bool(np.allclose(p.sum(axis=1), 1))
        ((4, 3), True)
        >>> bool((model(np.zeros((4, 2))) == p).all())
        True
        """
        core = self._core
        try:
            # Fast path for the common, already engine-ready input (one row
            # in a serving loop): skip the general conversion; the engine
            # checks that x is finite. The cheapest tests come first.
            if (type(x) is np.ndarray and core is not None and batch_size is None
                    and type(verbose) is int and not verbose
                    and x.dtype is _NP_DTYPES.get(self.dtype) and x.ndim == 2
                    and x.shape[1] == self._input_dim and 1 <= x.shape[0] <= _chunks.MIN_ROWS):
                flags = x.flags
                if flags.c_contiguous and flags.aligned:
                    return core.predict(x)
            return self._predict(x, batch_size, verbose, steps)
        except _core.NonFiniteError as exc:
            # The engine's refusal of NaN or infinity in x (docs/design.md,
            # "Prediction checks its input in the first layer's output"):
            # the same ValueError as every other argument check.
            raise ValueError(str(exc)) from None

    def _predict(self, x, batch_size, verbose, steps) -> np.ndarray:
        batch_size = v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        verbose = progress.resolve_verbose(verbose)
        steps = v.check_int(steps, "steps", minimum=1, allow_none=True)
        if _dask.is_collection(x):  # a lazy Dask array, computed on the workers
            return _dask.predict(self, x)
        source = _batch_source(self, "x", x, batch_size=batch_size or EVALUATION_BATCH,
                                      steps=steps, targets=False)
        if source is not None:
            return batch_sources.predict(self, source)
        x = self.engine_features(x, allow_empty=True, engine_checks=True)
        if not verbose:
            return _chunks.predict(self._core, x, batch_size)
        chunk = batch_size or PREDICT_CHUNK
        steps = max(1, -(-x.shape[0] // chunk))
        bar = progress.ProgressBar(0, 1, verbose, title="")
        parts = []
        for step in range(steps):
            parts.append(self._core.predict(x[step * chunk:(step + 1) * chunk]))
            bar.update(step + 1, steps, None)
        bar.finish(steps, {})
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def __call__(self, x: ArrayLike, training: bool = False) -> np.ndarray:
        """``model(x)`` is ``model.predict(x)`` (inference: dropout off)."""
        if training is not False:
            raise ValueError("training: nnc runs training only inside fit/train_on_batch; "
                             "model(x) is inference (training=False)")
        return self.predict(x)

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *compiled metrics]``: the order of evaluate's list."""
        return ["loss", *self._metrics]

    @overload
    def evaluate(self, x: ArrayLike | Iterable[Any], y: ArrayLike | None = ...,
                 batch_size: int | None = ..., sample_weight: ArrayLike | None = ...,
                 verbose: int | str = ..., steps: int | None = ..., *,
                 return_dict: Literal[True]) -> dict[str, float]: ...

    @overload
    def evaluate(self, x: ArrayLike | Iterable[Any], y: ArrayLike | None = ...,
                 batch_size: int | None = ..., sample_weight: ArrayLike | None = ...,
                 verbose: int | str = ..., steps: int | None = ...,
                 return_dict: Literal[False] = ...) -> Any: ...

    def evaluate(self, x: ArrayLike | Iterable[Any], y: ArrayLike | None = None,
                 batch_size: int | None = None, sample_weight: ArrayLike | None = None,
                 verbose: int | str = 0, steps: int | None = None,
                 return_dict: bool = False) -> Any:
        """The loss (and metrics) on the given data, dropout off, as Keras
        returns them.

        Parameters
        ----------
        x, y : array-like, or a batch source for ``x`` (then no ``y``)
            As for ``fit``.
        batch_size : int, optional
            Rows per engine call (the cost is the rows' mean either way).
        sample_weight : array-like of shape (n_samples,), optional
            Weight per row.
        verbose : int or str, default 0
            Accepted for Keras compatibility.
        steps : int, optional
            Batches to draw from a generator.
        return_dict : bool, default False
            Return ``{"loss": J, <metric>: value, ...}`` instead.

        Returns
        -------
        float or list of float or dict
            The loss alone when no metric is compiled, else
            ``[loss, *metrics]`` in ``metrics_names`` order; the dict with
            ``return_dict=True``. The loss is J with its L2 term.

        Raises
        ------
        RuntimeError
            Before ``compile``.
        ValueError
            For bad data.

        Examples
        --------
        >>> model = nnc.Sequential([nnc.Dense(2, activation="softmax", input_dim=2)], seed=0)
        >>> model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> x, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1])
        >>> loss, accuracy = model.evaluate(x, y)
        >>> model.metrics_names, sorted(model.evaluate(x, y, return_dict=True))
        (['loss', 'accuracy'], ['accuracy', 'loss'])
        """
        if not isinstance(return_dict, bool):
            raise TypeError(f"return_dict: expected True or False, got {return_dict!r}")
        v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        logs = self._evaluation_logs(x, y, sample_weight, batch_size, steps)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _evaluation_logs(self, x, y, sample_weight, batch_size, steps) -> dict:
        """{"loss": J, <metric>: value, ...} of arrays or a batch source."""
        self._require_compiled()
        steps = v.check_int(steps, "steps", minimum=1, allow_none=True)
        source = _batch_source(self, "x", x, y, sample_weight,
                                      batch_size=batch_size or EVALUATION_BATCH, steps=steps)
        if source is not None:
            return batch_sources.evaluate(self, source)
        if y is None:
            raise ValueError("y: required when x is an array (batch sources such as "
                             "generators carry their targets)")
        x, y, sw = self.engine_data(x, y, sample_weight)
        return {"loss": _chunks.loss(self, x, y, sw, batch_size), **metric_values(self, x, y, sw)}

    def loss(self, x: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """J(theta) on (x, y), L2 term included, dropout off."""
        x, y, sw = self.engine_data(x, y, sample_weight)
        return _chunks.loss(self, x, y, sw)

    def gradients(self, x: ArrayLike, y: ArrayLike,
                  sample_weight: ArrayLike | None = None) -> list[np.ndarray]:
        """dJ/dtheta on (x, y), in get_weights() layout (dropout off)."""
        x, y, sw = self.engine_data(x, y, sample_weight)
        _, flat = self._core.gradients(x, y, sw)
        return self._layout.split(flat)

    # ----------------------------------------------------------- inspection

    def trace(self, x: ArrayLike) -> list:
        """Per Dense layer, ``LayerTrace(name, activation, z, a)`` with the
        pre-activations and activations of the batch ``x`` (no dropout),
        computed by the engine in one call. Changes no weights, optimizer
        state or RNG state. See ``nnc.inspection``."""
        return inspection.trace(self, x)

    def activation_stats(self, x: ArrayLike, bins: int = 30) -> list[dict]:
        """Per Dense layer: mean, std, fraction saturated (sigmoid/tanh),
        fraction of dead ReLU units and histogram counts of the activations
        on ``x``. See ``nnc.inspection.activation_stats``."""
        return inspection.activation_stats(self, x, bins)

    # -------------------------------------------------------------- weights

    def get_weights(self) -> list[np.ndarray]:
        """Per Dense layer: W (fan_in, fan_out), then b, then PReLU slopes."""
        return self.parameter_layout.split(self.engine.get_params())

    def set_weights(self, weights: list[ArrayLike], layer: int | None = None) -> None:
        """Replace every weight at once (same shapes as get_weights()), or
        only those of the Dense layer with index `layer`."""
        self._refuse_while_training("set_weights")
        layout = self.parameter_layout
        slices = layout.slices if layer is None else layout.layers[layer]
        if isinstance(weights, np.ndarray) or not hasattr(weights, "__len__"):
            raise TypeError("weights: expected a list of arrays")
        if len(weights) != len(slices):
            raise ValueError(f"weights: expected {len(slices)} arrays, got {len(weights)}")
        flat = self._core.get_params()
        for i, (s, w) in enumerate(zip(slices, weights)):
            arr = v._as_array(w, f"weights[{i}]")
            if arr.shape != s.shape:
                raise ValueError(f"weights[{i}]: expected shape {s.shape}, got {arr.shape}")
            arr = v.finite_floats(arr, self.dtype, f"weights[{i}]")
            flat[s.offset:s.stop] = arr.ravel()
        self._core.set_params(flat)

    def get_flat_params(self) -> np.ndarray:
        """The notes' unrolled parameter vector (a copy)."""
        return self.engine.get_params()

    def set_flat_params(self, params: ArrayLike) -> None:
        """Set every parameter from an unrolled vector."""
        self._refuse_while_training("set_flat_params")
        core = self.engine
        arr = v._as_array(params, "params")
        if arr.ndim != 1 or arr.shape[0] != core.num_params:
            raise ValueError(f"params: expected shape ({core.num_params},), got {arr.shape}")
        arr = v.finite_floats(arr, self.dtype, "params")
        core.set_params(arr)

    def count_params(self) -> int:
        return int(self.engine.num_params)

    def _summary_rows(self) -> list[tuple[str, str, str]]:
        layout = self.parameter_layout
        rows = []
        for layer in self._layers:
            if isinstance(layer, Dense):
                rows.append((f"{layer.name} (Dense, {layer.activation})",
                             f"(None, {layer.units})", str(layout.layer_count(layer._index))))
            else:
                rows.append((f"{layer.name} (Dropout {layer.rate:g})", "(same)", "0"))
        return rows

    _SUMMARY_HEADER = ("Layer (type)", "Output Shape", "Param #")

    def summary(self, print_fn: Any = print) -> None:
        """Print layers, output shapes and parameter counts."""
        rows = self._summary_rows()
        widths = [max(len(r[i]) for r in rows + [self._SUMMARY_HEADER]) for i in range(3)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        rule = "-" * (sum(widths) + 4)
        print_fn(f'Model: "{self.name}" ({self.dtype}, input_dim={self._input_dim})')
        print_fn(rule)
        print_fn(line.format(*self._SUMMARY_HEADER))
        print_fn(rule)
        for row in rows:
            print_fn(line.format(*row))
        print_fn(rule)
        print_fn(f"Total params: {self.parameter_layout.total}")

    def _repr_html_(self) -> str:
        """The summary as an HTML table (notebooks); the plain repr while
        the input size is unknown."""
        if self._input_dim is None or not self._dense:
            return f"<pre>{_html.escape(repr(self))}</pre>"
        return _html.table(f'Model: "{self.name}" ({self.dtype}, input_dim={self._input_dim})',
                           self._SUMMARY_HEADER, self._summary_rows(),
                           f"Total params: {self.parameter_layout.total}")

    # --------------------------------------------------- configuration, state

    def get_config(self) -> dict:
        """The architecture: name, dtype, seed, input_dim and the layers'
        configs (JSON-ready). ``from_config`` rebuilds an unbuilt,
        uncompiled model from it."""
        return {"name": self.name, "dtype": self.dtype, "seed": self.seed,
                "input_dim": self._input_dim,
                "layers": [layer.get_config() for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """A model with the architecture of ``get_config()``'s dict (a missing
        seed or name is drawn or defaulted as by the constructor)."""
        model = cls([layer_from_config(c) for c in config["layers"]],
                    dtype=config.get("dtype", "float32"), seed=config.get("seed"),
                    name=config.get("name"))
        input_dim = config.get("input_dim")
        if input_dim is not None:
            input_dim = v.check_int(input_dim, "input_dim", minimum=1)
            if model._input_dim is None:
                model._input_dim = input_dim
            elif model._input_dim != input_dim:
                raise ValueError(f"input_dim: {input_dim} contradicts the layers' "
                                 f"{model._input_dim}")
        return model

    def get_compile_config(self) -> dict | None:
        """loss, l2, the optimizer's config (with the current learning rate)
        and the metrics; None before compile."""
        if self._optimizer is None:
            return None
        optimizer = self._optimizer.get_config()  # the current rate, or the schedule
        if "betas" in optimizer:
            optimizer["betas"] = list(optimizer["betas"])
        return {"loss": self._loss, "l2": self._l2, "optimizer": optimizer,
                "metrics": list(self._metrics)}

    def compile_from_config(self, config: dict) -> None:
        """Compile with the settings of ``get_compile_config()``'s dict."""
        self.compile(optimizer=config["optimizer"], loss=config["loss"],
                     l2=config.get("l2", 0.0), metrics=config.get("metrics") or None)

    def get_training_state(self) -> dict:
        """What a continued ``fit`` depends on besides the configs: the flat
        ``params``, the engine RNG's ``rng_state`` (two uint64) and, once
        compiled, the ``optimizer_state`` blob (uint8), as arrays, all from
        one completed step even while another thread trains."""
        return self.snapshot()[1]

    @property
    def state_lock(self):
        """The lock compile and snapshots hold (re-entrant): code that reads
        several of the model's settings and states as one holds it too."""
        return self._state_lock

    def snapshot(self) -> tuple[dict | None, dict]:
        """``(get_compile_config(), get_training_state())`` taken as one: the
        arrays come from a single engine call (one step), the learning rate
        in the config is the one those arrays were trained with, and no
        compile can come in between. The model is built first if it can be."""
        with self._state_lock:
            config = self.get_compile_config()
            if not self.built:
                return config, {}
            params, rng_state, optimizer_state, rate = self.engine.training_state()
            state = {"params": params, "rng_state": np.array(rng_state, dtype=np.uint64)}
            if self._optimizer is not None:
                state["optimizer_state"] = np.frombuffer(optimizer_state, dtype=np.uint8)
                if isinstance(config["optimizer"].get("learning_rate"), float):
                    config["optimizer"]["learning_rate"] = rate
        return config, state

    @_holding_state_lock
    def set_training_state(self, state: dict) -> None:
        """Restore ``get_training_state()``'s arrays (all or nothing: on any
        error the model keeps its state)."""
        self._refuse_while_training("set_training_state")
        core = self.engine
        before = self.get_training_state()
        try:
            core.set_params(v.to_engine(np.asarray(state["params"]), None))
            core.set_rng_state(tuple(int(word) for word in state["rng_state"]))
            if "optimizer_state" in state:
                core.set_optimizer_state(np.asarray(state["optimizer_state"]).tobytes())
        except BaseException:
            core.set_params(before["params"])
            core.set_rng_state(tuple(int(word) for word in before["rng_state"]))
            if "optimizer_state" in before:
                core.set_optimizer_state(before["optimizer_state"].tobytes())
            raise

    # ---------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole model (architecture, weights, compile settings,
        optimizer and RNG state) to one .npz file, atomically. Reload with
        ``nnc.load_model(path)``; training then continues exactly as if it
        had never stopped. A path ending in ``.nncb`` writes the binary
        format the C library reads instead (see ``nnc.save_binary``)."""
        saving.save_model(self, path)

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write only the weights (with the architecture, for checking)."""
        saving.save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Set the weights from a file written by save_weights or save."""
        saving.load_weights(self, path)

    def __getstate__(self) -> dict:
        # Pickle and deepcopy go through the same state as save().
        return saving.model_state(self)

    def __setstate__(self, state: dict) -> None:
        model = saving.model_from_state(state)
        self.__dict__.update(model.__dict__)
        _LIVE_MODELS.add(self)
        for layer in self._layers:
            layer._model = self

    # -------------------------------------------------------- interoperability

    def to_onnx(self, path=None):
        """Export the inference graph to ONNX (needs ``pip install 'nnc[onnx]'``);
        writes ``path`` when given and returns the ``onnx.ModelProto``.
        See ``nnc.onnx``."""
        from . import onnx as nnc_onnx

        proto = nnc_onnx.to_onnx_model(self)
        if path is not None:
            nnc_onnx.save_onnx_proto(proto, path)
        return proto

    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` with copies of the weights
        (imports torch). See ``nnc.torch_interop``."""
        from .torch_interop import to_torch

        return to_torch(self)

    def __repr__(self) -> str:
        parts = [] if self._input_dim is None else [f"Input({self._input_dim})"]
        for layer in self._layers:
            if isinstance(layer, Dense):
                parts.append(f"Dense({layer.units}, {layer.activation})")
            else:
                parts.append(f"Dropout({layer.rate:g})")
        size = f", {self.count_params()} params" if self.built else ""
        return (f"<Sequential {self.name!r}: {' -> '.join(parts) or 'no layers'}; "
                f"{self.dtype}{size}>")


def _check_verbose(verbose) -> int:
    # "auto": the bar on a terminal, one live line in a notebook, else a
    # line per epoch (docs/design.md, Progress in notebooks).
    return progress.resolve_verbose(verbose)


def _callback_list(callbacks) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    try:
        out = list(callbacks)
    except TypeError:
        raise TypeError(f"callbacks: expected a list of nnc.callbacks.Callback objects, got "
                        f"{callbacks!r}") from None
    for cb in out:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected nnc.callbacks.Callback objects, got {cb!r}")
    return out
