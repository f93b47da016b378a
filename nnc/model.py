"""``Sequential``: the user-facing model (ARCHITECTURE section 4).

The model object validates and converts input, then hands whole arrays to
the engine (``nnc._core``); no Python runs per sample, per weight or per
batch. Weights live in the engine's single parameter buffer.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
import warnings

import numpy as np

from . import _core, io, losses, optimizers
from . import _validation as v
from . import metrics as metric_fns
from ._epoch import EpochRunner
from .callbacks import Callback, CallbackList, History
from .layers import Dense, Dropout, Input, Layer
from .progress import ProgressBar


class Sequential:
    """A stack of Dense layers, optionally with Dropout between them.

    >>> model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=2),
    ...                         nnc.Dense(1, activation="sigmoid")], seed=0)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")

    ``dtype`` is "float32" or "float64"; ``seed`` fixes initialisation,
    shuffling and dropout (the same seed gives bit-identical training).
    """

    def __init__(self, layers=None, dtype="float32", seed: int | None = None,
                 name: str | None = None):
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
        self._loss: str | None = None
        self._l2 = 0.0
        self._optimizer: optimizers.Optimizer | None = None
        self._metrics: list[str] = []
        self.stop_training = False
        self.history: History | None = None
        self._fit_lock = threading.Lock()
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

    def _engine_specs(self) -> list[tuple]:
        if not self._dense:
            raise ValueError("layers: the model has no Dense layer")
        specs, keep = [], 1.0
        for layer in self._layers:
            if isinstance(layer, Dropout):
                keep *= 1.0 - layer.rate  # consecutive Dropouts compose
                continue
            kinit, binit = layer.kernel_initializer, layer.bias_initializer
            specs.append((layer.units, layer.activation, layer.use_bias, 1.0 - keep,
                          kinit[0], kinit[1], binit[0], binit[1]))
            keep = 1.0
        if keep != 1.0:
            raise ValueError("layers: a Dropout layer must be followed by a Dense layer")
        return specs

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
        self._core = _core.Model(self.dtype, self._input_dim, self._engine_specs(), self.seed)
        if self._loss is not None:
            self._compile_core()

    def _require_built(self, x_dim: int | None = None):
        if not self.built:
            self.build(x_dim)
        return self._core

    @property
    def input_dim(self) -> int | None:
        return self._input_dim

    @property
    def output_dim(self) -> int:
        return self._dense[-1].units

    # -------------------------------------------------------------- compile

    def compile(self, optimizer="adam", loss="mse", l2: float = 0.0, metrics=None) -> None:
        """Choose the optimizer, the loss and the L2 coefficient lambda
        (J += lambda/(2m) sum W^2, biases excluded), and metrics to report.

        Compiling again resets the optimizer state.
        """
        self._refuse_while_training("compile")
        opt = optimizers.get(optimizer)
        loss_name = losses.get(loss)
        l2 = v.check_float(l2, "l2", minimum=0.0)
        if metrics is None:
            metric_names = []
        elif isinstance(metrics, str):
            metric_names = [metrics]
        else:
            metric_names = list(metrics)
        metric_names = [metric_fns.get(m) for m in metric_names]
        if self._dense:
            losses.check_pairing(loss_name, self._dense[-1].activation)
        if opt.name == "lbfgs" and any(isinstance(lyr, Dropout) for lyr in self._layers):
            raise ValueError("optimizer: L-BFGS needs a deterministic objective for its line "
                             "search; remove Dropout or pick another optimizer")
        previous = (self._optimizer, self._loss, self._l2, self._metrics)
        self._optimizer, self._loss, self._l2, self._metrics = opt, loss_name, l2, metric_names
        if self.built:
            try:
                self._compile_core()
            except Exception:
                self._optimizer, self._loss, self._l2, self._metrics = previous
                raise

    def _compile_core(self) -> None:
        self._core.compile(self._loss, self._l2, self._optimizer.name,
                           self._optimizer.engine_options())

    @property
    def optimizer(self) -> optimizers.Optimizer | None:
        return self._optimizer

    @property
    def compiled_loss(self) -> str | None:
        return self._loss

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
        value = v.check_float(value, "learning_rate", minimum=0.0)
        if self.built:
            self._core.set_learning_rate(value)
        self._optimizer._options["learning_rate"] = value

    # ----------------------------------------------------------------- data

    @property
    def _sparse(self) -> bool:
        return self._loss == "sparse_categorical_crossentropy"

    def _features(self, x, name="x", allow_empty=False) -> np.ndarray:
        arr = v.features(x, self.dtype, self._input_dim, name, allow_empty=allow_empty)
        self._require_built(arr.shape[1])
        return arr

    def _data(self, x, y, sample_weight=None, class_weight=None, prefix=""):
        """Engine-ready (x, y, sample_weight) for the compiled loss."""
        self._require_compiled()
        x = self._features(x, prefix + "x")
        y = v.targets(y, self.dtype, self.output_dim, self._loss, x.shape[0], prefix + "y")
        sw = v.sample_weights(sample_weight, self.dtype, x.shape[0], prefix + "sample_weight")
        if class_weight is not None:
            cw = self._class_weights(y, class_weight)
            sw = cw if sw is None else np.ascontiguousarray(sw * cw)
        return x, y, sw

    def _class_labels(self, y: np.ndarray) -> np.ndarray:
        if self._sparse:
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

    def fit(self, x, y, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
            validation_split: float = 0.0, validation_data=None, verbose="auto",
            callbacks=None, sample_weight=None, class_weight=None,
            initial_epoch: int = 0) -> History:
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
        x, y, sw = self._data(x, y, sample_weight, class_weight)
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
        with self._training("fit"):
            return self._fit_epochs(x, y, sw, val, epochs, initial_epoch, batch_size, shuffle,
                                    verbose, callbacks)

    @contextlib.contextmanager
    def _training(self, what: str):
        """Hold the model for one training run: a second one from another
        thread raises instead of interleaving its updates."""
        if not self._fit_lock.acquire(blocking=False):
            raise RuntimeError(f"{what}: this model is already training in another thread")
        self._fit_thread = threading.get_ident()
        try:
            yield
        finally:
            self._fit_thread = None
            self._fit_lock.release()

    def _refuse_while_training(self, what: str) -> None:
        """RuntimeError when another thread is inside fit: its epochs must
        not interleave with updates from here (callbacks of that fit run in
        its own thread and may change the model)."""
        owner = getattr(self, "_fit_thread", None)
        if owner is not None and owner != threading.get_ident():
            raise RuntimeError(f"{what}: this model is training in another thread")

    def _fit_epochs(self, x, y, sw, val, epochs, initial_epoch, batch_size, shuffle, verbose,
                    callbacks) -> History:
        history = self.history = History()
        n_batches = 1 if batch_size is None else -(-x.shape[0] // batch_size)
        # History comes last, as in Keras, so it records what other callbacks
        # add to the logs (e.g. GradientStats' grad_norm/<layer>).
        cbs = CallbackList([*_callback_list(callbacks), history], self,
                           {"epochs": epochs, "samples": x.shape[0], "batch_size": batch_size,
                            "steps": n_batches, "verbose": verbose})
        self.stop_training = False
        self._fit_data = (x, y, sw)  # engine-ready training arrays, for callbacks
        try:
            cbs.on_train_begin({})
            with EpochRunner() as runner:
                last_logs = self._epoch_loop(runner, cbs, x, y, sw, val, epochs, initial_epoch,
                                             batch_size, shuffle, verbose, n_batches)
            cbs.on_train_end(last_logs)
        finally:
            self._fit_data = None
        return history

    def _epoch_loop(self, runner, cbs, x, y, sw, val, epochs, initial_epoch, batch_size,
                    shuffle, verbose, n_batches) -> dict:
        """Run the epochs; return the logs of the last one that finished."""
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch, {})
            bar = ProgressBar(epoch, epochs, verbose) if verbose else None
            try:
                loss = runner.run(self._core, x, y, sw, batch_size or 0, shuffle, self._sparse,
                                  bar)
            except _core.NonFiniteError as exc:
                warnings.warn(f"fit: epoch {epoch + 1}: {exc}; training stopped with the "
                              "weights from before that step", RuntimeWarning, stacklevel=3)
                break
            logs = {"loss": loss}
            if self._metrics:
                logs.update(self._metric_values(x, y, sw))
            if val is not None:
                logs["val_loss"] = self._core.loss(val[0], val[1], val[2], self._sparse)
                logs.update({f"val_{k}": m for k, m in self._metric_values(*val).items()})
            logs["learning_rate"] = self._core.get_learning_rate()
            if bar is not None:
                bar.finish(n_batches, logs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    def _validation_tuple(self, data):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data: expected (x_val, y_val) or "
                             "(x_val, y_val, sample_weight_val)")
        sw = data[2] if len(data) == 3 else None
        return self._data(data[0], data[1], sw, prefix="validation_data ")

    def _metric_values(self, x, y, sw) -> dict:
        if not self._metrics:
            return {}
        pred = self._core.predict(x)
        return {m: metric_fns.compute(m, y, pred, self._sparse, sw) for m in self._metrics}

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None) -> float:
        """One optimizer step on this batch; returns the loss before the step."""
        self._refuse_while_training("train_on_batch")
        x, y, sw = self._data(x, y, sample_weight, class_weight)
        return self._core.train_batch(x, y, sw, self._sparse)

    # ------------------------------------------------------------ inference

    def predict(self, x, batch_size: int | None = None, verbose=0) -> np.ndarray:
        """Forward pass (no dropout): an (n_samples, n_outputs) array."""
        core = self._core
        # Fast path for the common, already engine-ready input (one row in a
        # serving loop): skip the general conversion, keep the finite check.
        if (batch_size is None and core is not None and type(x) is np.ndarray
                and x.ndim == 2 and x.dtype == self.dtype and x.flags.c_contiguous
                and x.flags.aligned and x.shape[1] == self._input_dim and x.shape[0] >= 1
                and _core.all_finite(x)):
            return core.predict(x)
        v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        x = self._features(x, allow_empty=True)
        return self._core.predict(x)

    def evaluate(self, x, y, batch_size: int | None = None, sample_weight=None,
                 verbose=0) -> dict:
        """{"loss": J, <metric>: value, ...} on the given data (no dropout)."""
        v.check_int(batch_size, "batch_size", minimum=1, allow_none=True)
        x, y, sw = self._data(x, y, sample_weight)
        result = {"loss": self._core.loss(x, y, sw, self._sparse)}
        result.update(self._metric_values(x, y, sw))
        return result

    def loss(self, x, y, sample_weight=None) -> float:
        """J(theta) on (x, y), L2 term included, dropout off."""
        x, y, sw = self._data(x, y, sample_weight)
        return self._core.loss(x, y, sw, self._sparse)

    def gradients(self, x, y, sample_weight=None) -> list[np.ndarray]:
        """dJ/dtheta on (x, y), in get_weights() layout (dropout off)."""
        x, y, sw = self._data(x, y, sample_weight)
        _, flat = self._core.gradients(x, y, sw, self._sparse)
        return self._split(flat)

    # ----------------------------------------------------------- inspection

    def trace(self, x) -> list:
        """Per Dense layer, ``LayerTrace(name, activation, z, a)`` with the
        pre-activations and activations of the batch ``x`` (no dropout),
        computed by the engine in one call. Changes no weights, optimizer
        state or RNG state. See ``nnc.inspect``."""
        from . import inspect

        return inspect.trace(self, x)

    def activation_stats(self, x, bins: int = 30) -> list[dict]:
        """Per Dense layer: mean, std, fraction saturated (sigmoid/tanh),
        fraction of dead ReLU units and histogram counts of the activations
        on ``x``. See ``nnc.inspect.activation_stats``."""
        from . import inspect

        return inspect.activation_stats(self, x, bins)

    # -------------------------------------------------------------- weights

    def _layer_slices(self, index: int) -> list[tuple[int, tuple]]:
        layer = self._dense[index]
        fan_in = self._input_dim if index == 0 else self._dense[index - 1].units
        w_off, b_off, s_off = self._core.layer_offsets(index)
        out = [(w_off, (fan_in, layer.units))]
        if b_off >= 0:
            out.append((b_off, (layer.units,)))
        if s_off >= 0:
            out.append((s_off, (layer.units,)))
        return out

    def _weight_slices(self) -> list[tuple[int, tuple]]:
        self._require_core()
        return [s for i in range(len(self._dense)) for s in self._layer_slices(i)]

    def _split(self, flat: np.ndarray, slices=None) -> list[np.ndarray]:
        slices = self._weight_slices() if slices is None else slices
        return [flat[off:off + int(np.prod(shape))].reshape(shape).copy()
                for off, shape in slices]

    def _require_core(self):
        if not self.built:
            if self._input_dim is None:
                raise RuntimeError(
                    "the model is not built yet: give it an input_dim or call fit/predict")
            self.build()
        return self._core

    def get_weights(self) -> list[np.ndarray]:
        """Per Dense layer: W (fan_in, fan_out), then b, then PReLU slopes."""
        return self._split(self._require_core().get_params())

    def set_weights(self, weights) -> None:
        """Replace every weight at once (same shapes as get_weights())."""
        self._refuse_while_training("set_weights")
        flat = self._require_core().get_params()
        self._fill(flat, self._weight_slices(), weights, "weights")
        self._core.set_params(flat)

    def _layer_weights(self, index: int) -> list[np.ndarray]:
        return self._split(self._require_core().get_params(), self._layer_slices(index))

    def _set_layer_weights(self, index: int, weights) -> None:
        self._refuse_while_training("set_weights")
        flat = self._require_core().get_params()
        self._fill(flat, self._layer_slices(index), weights, "weights")
        self._core.set_params(flat)

    def _fill(self, flat, slices, weights, name) -> None:
        if isinstance(weights, np.ndarray) or not hasattr(weights, "__len__"):
            raise TypeError(f"{name}: expected a list of arrays")
        if len(weights) != len(slices):
            raise ValueError(f"{name}: expected {len(slices)} arrays, got {len(weights)}")
        for i, ((off, shape), w) in enumerate(zip(slices, weights)):
            arr = v._as_array(w, f"{name}[{i}]")
            if arr.shape != shape:
                raise ValueError(f"{name}[{i}]: expected shape {shape}, got {arr.shape}")
            arr = v.to_engine(arr, self.dtype)
            v.check_finite(arr, f"{name}[{i}]")
            flat[off:off + arr.size] = arr.ravel()

    def get_flat_params(self) -> np.ndarray:
        """The notes' unrolled parameter vector (a copy)."""
        return self._require_core().get_params()

    def set_flat_params(self, params) -> None:
        """Set every parameter from an unrolled vector."""
        self._refuse_while_training("set_flat_params")
        core = self._require_core()
        arr = v._as_array(params, "params")
        if arr.ndim != 1 or arr.shape[0] != core.num_params:
            raise ValueError(f"params: expected shape ({core.num_params},), got {arr.shape}")
        arr = v.to_engine(arr, self.dtype)
        v.check_finite(arr, "params")
        core.set_params(arr)

    def count_params(self) -> int:
        return self._require_core().num_params

    def summary(self, print_fn=print) -> None:
        """Print layers, output shapes and parameter counts."""
        core = self._require_core()
        rows, index = [], 0
        for layer in self._layers:
            if isinstance(layer, Dense):
                count = sum(int(np.prod(s)) for _, s in self._layer_slices(index))
                rows.append((f"{layer.name} (Dense, {layer.activation})",
                             f"(None, {layer.units})", str(count)))
                index += 1
            else:
                rows.append((f"{layer.name} (Dropout {layer.rate:g})", "(same)", "0"))
        widths = [max(len(r[i]) for r in rows + [("Layer (type)", "Output Shape", "Param #")])
                  for i in range(3)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        rule = "-" * (sum(widths) + 4)
        print_fn(f'Model: "{self.name}" ({self.dtype}, input_dim={self._input_dim})')
        print_fn(rule)
        print_fn(line.format("Layer (type)", "Output Shape", "Param #"))
        print_fn(rule)
        for row in rows:
            print_fn(line.format(*row))
        print_fn(rule)
        print_fn(f"Total params: {core.num_params}")

    # ---------------------------------------------------------- persistence

    def save(self, path) -> None:
        """Write the whole model (architecture, weights, compile settings,
        optimizer and RNG state) to one .npz file, atomically. Reload with
        ``nnc.load_model(path)``; training then continues exactly as if it
        had never stopped. A path ending in ``.nncb`` writes the binary
        format the C library reads instead (see ``nnc.save_binary``)."""
        if os.fsdecode(path).endswith(".nncb"):
            from .nncb import save_binary

            save_binary(self, path)
            return
        io.save_model(self, path)

    def save_weights(self, path) -> None:
        """Write only the weights (with the architecture, for checking)."""
        io.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Set the weights from a file written by save_weights or save."""
        io.load_weights(self, path)

    def __getstate__(self) -> dict:
        # Pickle and deepcopy go through the same state as save().
        arch, arrays = io.model_state(self)
        return {"architecture": arch, "arrays": arrays}

    def __setstate__(self, state: dict) -> None:
        arrays = state["arrays"]

        def read(name, dtype, shape, max_bytes):
            arr = np.asarray(arrays[name])
            if arr.dtype != dtype or (shape is not None and arr.shape != tuple(shape)):
                raise ValueError(f"pickled model: entry {name!r} has the wrong type or shape")
            return arr

        model = io.restore(state["architecture"], read)
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
        return f"<nnc.Sequential {self.name!r} layers={len(self._layers)} dtype={self.dtype}>"


def _check_verbose(verbose) -> int:
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1, 2 or 'auto', got {verbose!r}")
    return verbose


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
