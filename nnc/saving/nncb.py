"""The nncb binary model file: what the C library reads and writes
(``nnc_model_save`` / ``nnc_model_load``), specified in docs/nncb-format.md.
The codec is the engine's (``_core.Model.serialize`` / ``load``); this module
only writes its bytes atomically and turns what it reads into a model.

A file holds what the engine knows: dtype, seed, RNG state, layer sizes,
activations, bias flags, dropout rates and initializers, the compile
settings (loss, l2, optimizer hyper-parameters) and the optimizer state.
Python-only details (model and layer names, metrics) are not stored; use
``model.save("x.npz")`` to keep those.
"""

from __future__ import annotations

import os

from .. import _core
from ..errors import FormatError, ModelFileError
from .files import open_regular, write_atomic
from .state import model_from_engine

MAGIC = _core.NNCB_MAGIC


def save(model, path) -> None:
    """Write `model` (built first if needed) to `path` in the nncb format."""
    data = model.engine.serialize()
    write_atomic(path, lambda f: f.write(data))


def load(path):
    """The model in the nncb file at `path`; ModelFileError (a ValueError)
    for anything malformed, OSError when it cannot be read."""
    try:
        core = _core.Model.load(path)
    except FormatError as exc:
        raise ModelFileError(f"load_binary: {os.fsdecode(path)}: {exc}") from None
    return model_from_engine(core)


def is_nncb(path) -> bool:
    """Whether the file starts with the nncb magic bytes."""
    try:
        with open_regular(path) as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False
