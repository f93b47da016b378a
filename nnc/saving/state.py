"""Models to and from their saved form: the architecture document (the
model's ``get_config()``, whether it is built, its ``get_compile_config()``)
and its training-state arrays; and models from the engine's own
description (what an nncb file holds).

Models are rebuilt through their public config (``from_config``,
``compile_from_config``, ``set_training_state``) of the class registered
under the document's ``class_name`` (``register_model_class``), so this
package never imports the model module: the model module imports it.
"""

from __future__ import annotations

import numpy as np

from .. import _core, optimizers
from ..errors import ModelFileError
from ..layers import engine_specs, from_engine_specs
from . import npz

_MODEL_CLASSES: dict[str, type] = {}


def register_model_class(cls: type) -> type:
    """Let files and configs name `cls` (a class decorator)."""
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_from_config(config: dict, class_name: str = "Sequential"):
    """An unbuilt, uncompiled model of the registered class from its
    ``get_config()`` dict."""
    return _MODEL_CLASSES[class_name].from_config(config)


def snapshot(model, weights_only: bool = False) -> tuple[dict, dict]:
    """(the document describing `model`, JSON-ready as an .npz file's
    ``architecture`` entry holds it, and its training-state arrays), taken
    as one consistent snapshot (``model.snapshot()``) even while other
    threads compile or train it. The model is built first if its input size
    is known: the document then says built and the arrays hold the weights."""
    with model.state_lock:
        if not model.built and model.input_dim is not None:
            model.build()
        compile_config, state = model.snapshot()
        document = {"format": npz.FORMAT, "version": npz.VERSION,
                    "class_name": type(model).__name__, **model.get_config(),
                    "built": model.built, "compile": None if weights_only else compile_config}
    if weights_only and state:
        state = {"params": state["params"]}
    return document, state


def _expect(value, kind, what: str):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelFileError(f"architecture field '{what}' has the wrong type")
    return value


def restore(document: dict, read):
    """The model a document describes, with its arrays from
    ``read(name, dtype, shape, max_bytes)`` (sizes checked before the model
    is built, so a document cannot make build() allocate more than the
    arrays hold)."""
    class_name = document.get("class_name", "Sequential")
    if class_name not in _MODEL_CLASSES:
        raise ModelFileError(f"unknown model class {class_name!r}")
    config = {"name": _expect(document.get("name"), str, "name"),
              "dtype": _expect(document.get("dtype"), str, "dtype"),
              "seed": _expect(document.get("seed"), int, "seed"),
              "input_dim": document.get("input_dim"),
              "layers": [_expect(c, dict, "layers[]")
                         for c in _expect(document.get("layers"), list, "layers")]}
    if config["input_dim"] is not None:
        _expect(config["input_dim"], int, "input_dim")
    model = model_from_config(config, class_name)
    compile_config = document.get("compile")
    if compile_config is not None:
        _expect(compile_config, dict, "compile")
        _expect(compile_config.get("optimizer"), dict, "optimizer")
        model.compile_from_config(compile_config)
    if model.input_dim is None or not _expect(document.get("built", True), bool, "built"):
        return model
    n = _core.count_params(model.input_dim, engine_specs(model.layers))
    dtype = np.dtype(model.dtype)
    state = {"params": read("params", dtype, (n,), n * dtype.itemsize),
             "rng_state": read("rng_state", np.dtype(np.uint64), (2,), 16)}
    if model.optimizer is not None:
        blob = read("optimizer_state", np.dtype(np.uint8), None, 1 << 62)
        if blob.ndim != 1:
            raise ModelFileError("entry 'optimizer_state' must be 1-D bytes")
        state["optimizer_state"] = blob
    model.build()
    model.set_training_state(state)
    return model


def model_from_engine(core):
    """A model (default names, no metrics) holding the state of the engine
    model `core` (a ``_core.Model``, e.g. read from an nncb file)."""
    config = {"name": "sequential", "dtype": core.dtype, "seed": core.seed,
              "input_dim": core.input_dim,
              "layers": [layer.get_config() for layer in from_engine_specs(core.layer_specs())]}
    model = model_from_config(config)
    settings = core.compile_settings()
    state = {"params": core.get_params(), "rng_state": core.get_rng_state()}
    if settings is not None:
        loss, l2, name, fields = settings
        model.compile(optimizer=optimizers.from_engine(name, fields), loss=loss, l2=l2)
        state["optimizer_state"] = np.frombuffer(core.get_optimizer_state(), dtype=np.uint8)
    model.build()
    model.set_training_state(state)
    return model
