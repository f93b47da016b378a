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

import contextlib
import os
import secrets
import threading
from collections.abc import Iterable
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from . import _core, _html, inspection, losses, optimizers, progress, saving
from . import _validation as v
from . import metrics as metric_fns
from ._training import TrainingRun, metric_values
from .callbacks import Callback, History
from .layers import Dense, Dropout, Input, Layer, engine_specs
from .layers import from_config as layer_from_config
from .layout import ParameterLayout

#: Rows per engine call when predict shows progress.
PREDICT_CHUNK = 4096


@saving.register_model_class
class Sequential:
    """A stack of Dense layers, optionally with Dropout between them.

    >>> model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=2),
    ...                         nnc.Dense(1, activation="sigmoid")], seed=0)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")

    ``dtype`` is "float32" or "float64"; ``seed`` fixes initialisation,
    shuffling and dropout (the same seed gives bit-identical training).
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
        if isinstance(layer, Dense) and layer.input_dim is not None:
            if self._dense:
                raise ValueError("input_dim: only the first Dense layer may set input_dim")
            if self._input_dim is not None and self._input_dim != layer.input_dim:
                raise ValueError(
                    f"input_dim: {layer.input_dim} contradicts Input({self._input_dim})")
            self._input_dim = layer.input_dim
        kind = "dense" if isinstance(layer, Dense) else "dropout"
        if layer.name is None:
            count = sum(1 for other in self._layers if type(other) is type(layer))
            layer.name = f"{kind}_{count + 1}"
        if any(other.name == layer.name for other in self._layers):
            raise ValueError(f"layers: duplicate layer name {layer.name!r}")
        self._layers.append(layer)
        layer._model = self
        if isinstance(layer, Dense):
            layer._index = len(self._dense) - 1

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
        return self._dense[-1].units

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

    def engine_features(self, x, name: str = "x", allow_empty: bool = False) -> np.ndarray:
        """`x` as the engine takes it (a finite C-contiguous matrix of the
        model's dtype), building the model from its width if needed."""
        arr = v.features(x, self.dtype, self._input_dim, name, allow_empty=allow_empty)
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

    @contextlib.contextmanager
    def training_lock(self, what: str):
        """Hold the model for one training run: a second one from another
        thread raises RuntimeError instead of interleaving its updates, and
        so do updates from other threads (compile, set_weights, ...) while
        it runs; callbacks run in the training thread and may still change
        the model."""
        if not self._fit_lock.acquire(blocking=False):
            raise RuntimeError(f"{what}: this model is already training in another thread")
        self._fit_thread = threading.get_ident()
        try:
            yield
        finally:
            self._fit_thread = None
            self._fit_lock.release()

    def _refuse_while_training(self, what: str) -> None:
        owner = self._fit_thread
        if owner is not None and owner != threading.get_ident():
            raise RuntimeError(f"{what}: this model is training in another thread")

    # -------------------------------------------------------------- compile

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
        except Exception:
            self._optimizer, self._loss, self._l2, self._metrics = previous
            raise

    def _compile_engine(self, core) -> None:
        core.compile(self._loss, self._l2, self._optimizer.name, self._optimizer.engine_options())

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
        value = v.check_float(value, "learning_rate")
        if self.built:
            self._core.set_learning_rate(value)
        self._optimizer._with_learning_rate(value)

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

    def fit(self, x: ArrayLike, y: ArrayLike, epochs: int = 1, batch_size: int | None = 32,
            shuffle: bool = True, validation_split: float = 0.0,
            validation_data: tuple | None = None, verbose: int | str = "auto",
            callbacks: Iterable[Callback] | Callback | None = None,
            sample_weight: ArrayLike | None = None,
            class_weight: dict[int, float] | None = None, initial_epoch: int = 0) -> History:
        """Train for ``epochs`` epochs; each epoch runs entirely in the engine.

        ``batch_size=None`` is full-batch gradient descent, ``1`` stochastic,
        anything else mini-batch. ``validation_split`` holds out the last
        fraction of the rows (before shuffling), as Keras does. Returns a
        History whose ``.history`` has ``loss``, ``val_loss`` and every
        compiled metric per epoch (metrics are measured on the whole training
        set with the weights at the end of the epoch).
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
        x, y, sw = self.engine_data(x, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            val = self._validation_tuple(validation_data)
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

    def _validation_tuple(self, data):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data: expected (x_val, y_val) or "
                             "(x_val, y_val, sample_weight_val)")
        sw = data[2] if len(data) == 3 else None
        return self.engine_data(data[0], data[1], sw, prefix="validation_data ")

    def train_on_batch(self, x: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
                       class_weight: dict[int, float] | None = None) -> float:
        """One optimizer step on this batch; returns the loss before the step."""
        self._refuse_while_training("train_on_batch")
        x, y, sw = self.engine_data(x, y, sample_weight, class_weight)
        return self._core.train_batch(x, y, sw)

    # ------------------------------------------------------------ inference

    def predict(self, x: ArrayLike, batch_size: int | None = None,
                verbose: int | str = 0) -> np.ndarray:
        """Forward pass (no dropout): an (n_samples, n_outputs) array.

        ``verbose=1`` shows a progress bar over chunks of ``batch_size``
        rows (default PREDICT_CHUNK); the result is the same either way."""
        core = self._core
        # Fast path for the common, already engine-ready input (one row in a
        # serving loop): skip the general conversion, keep the finite check.
        if (batch_size is None and core is not None and type(x) is np.ndarray
                and type(verbose) is int and verbose == 0
                and x.ndim == 2 and x.dtype == self.dtype and x.flags.c_contiguous
                and x.flags.aligned and x.shape[1] == self._input_dim and x.shape[0] >= 1
                and _core.all_finite(x)):
            return core.predict(x)
        batch_size = v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        verbose = progress.resolve_verbose(verbose)
        x = self.engine_features(x, allow_empty=True)
        if not verbose:
            return self._core.predict(x)
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
    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int | None = ...,
                 sample_weight: ArrayLike | None = ..., verbose: int | str = ..., *,
                 return_dict: Literal[True]) -> dict[str, float]: ...

    @overload
    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int | None = ...,
                 sample_weight: ArrayLike | None = ..., verbose: int | str = ...,
                 return_dict: Literal[False] = ...) -> Any: ...

    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int | None = None,
                 sample_weight: ArrayLike | None = None, verbose: int | str = 0,
                 return_dict: bool = False) -> Any:
        """The loss on the given data (no dropout), as Keras returns it: the
        loss alone when no metric is compiled, else ``[loss, *metrics]`` in
        ``metrics_names`` order; ``return_dict=True`` gives
        ``{"loss": J, <metric>: value, ...}``."""
        if not isinstance(return_dict, bool):
            raise TypeError(f"return_dict: expected True or False, got {return_dict!r}")
        v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        x, y, sw = self.engine_data(x, y, sample_weight)
        result = {"loss": self._core.loss(x, y, sw), **metric_values(self, x, y, sw)}
        if return_dict:
            return result
        values = [result[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def loss(self, x: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """J(theta) on (x, y), L2 term included, dropout off."""
        x, y, sw = self.engine_data(x, y, sample_weight)
        return self._core.loss(x, y, sw)

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
            arr = v.to_engine(arr, self.dtype)
            v.check_finite(arr, f"weights[{i}]")
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
        arr = v.to_engine(arr, self.dtype)
        v.check_finite(arr, "params")
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
        optimizer = self._optimizer.get_config()
        optimizer["learning_rate"] = self.learning_rate
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
        compiled, the ``optimizer_state`` blob (uint8), as arrays."""
        core = self.engine
        state = {"params": core.get_params(),
                 "rng_state": np.array(core.get_rng_state(), dtype=np.uint64)}
        if self._optimizer is not None:
            state["optimizer_state"] = np.frombuffer(core.get_optimizer_state(), dtype=np.uint8)
        return state

    def set_training_state(self, state: dict) -> None:
        """Restore ``get_training_state()``'s arrays (all or nothing: on any
        error the model keeps its state)."""
        self._refuse_while_training("set_training_state")
        core = self.engine
        before = self.get_training_state()
        try:
            core.set_params(np.ascontiguousarray(state["params"]))
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
