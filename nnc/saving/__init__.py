"""Saving and loading models: one place for both file formats.

- ``.npz`` (``npz.py``): the Python format, everything a model is (names,
  metrics, initializer configs included).
- ``.nncb`` (``nncb.py``): the binary format the C library reads, written
  and read by the engine's own codec.

``save_model`` picks the format from the path's extension and
``load_model`` from the file's content, as Keras does. Pickling a model
goes through the same document and arrays as an ``.npz`` file.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelFileError
from . import nncb, npz
from .files import write_atomic
from .state import model_from_config, register_model_class, restore, snapshot

__all__ = ["ModelFileError", "load_binary", "load_model", "load_weights", "model_from_config",
           "model_from_state", "model_state", "register_model_class", "save_binary",
           "save_model", "save_weights", "write_atomic"]


def save_model(model, path: str | os.PathLike[str]) -> None:
    """Write the whole model to a file, atomically.

    What ``Sequential.save`` calls: the architecture, weights, compile
    settings, optimizer and RNG state, written to a new temporary file that
    is fsynced and renamed over ``path`` (docs/design.md "Replacing files").

    Parameters
    ----------
    model : nnc.Sequential
        The model.
    path : str or os.PathLike
        The file: nncb when the name ends in ``.nncb``, else ``.npz``.

    Raises
    ------
    OSError
        When the file cannot be written.
    """
    if os.fsdecode(path).endswith(".nncb"):
        nncb.save(model, path)
        return
    npz.write(path, *snapshot(model))


def save_weights(model, path) -> None:
    """Write only the weights (with the architecture, for checking)."""
    document, data = snapshot(model, weights_only=True)
    if not data:
        raise RuntimeError("save_weights: the model is not built yet")
    npz.write(path, document, data)


def save_binary(model, path) -> None:
    """Write a model in the nncb binary format (docs/nncb-format.md), atomically.

    Parameters
    ----------
    model : nnc.Sequential
        A built model.
    path : str or os.PathLike
        The file, whatever its extension.

    Raises
    ------
    OSError
        When the file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> model = nnc.Sequential([nnc.Dense(2, input_dim=3)], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.bin")
    >>> nnc.save_binary(model, path)
    >>> bool((nnc.load_binary(path).get_flat_params() == model.get_flat_params()).all())
    True
    """
    nncb.save(model, path)


def load_binary(path: str | os.PathLike[str]):
    """Load an nncb file.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_binary`, ``model.save("x.nncb")`` or
        the C library's ``nnc_model_save``.

    Returns
    -------
    nnc.Sequential
        The model, with its compile settings and optimizer state when the
        file has them.

    Raises
    ------
    nnc.errors.ModelFileError
        (a ``ValueError``) for a file that is not valid nncb.
    OSError
        When the file cannot be read.
    """
    return nncb.load(path)


def load_model(path: str | os.PathLike[str]):
    """Load a model written by ``Sequential.save``.

    The format is recognised by the file's content (the nncb magic bytes,
    else an ``.npz`` archive), never by its name. Nothing in the file is
    unpickled or executed: only the expected entries are read, with their
    sizes checked against the file's before anything is allocated.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    nnc.Sequential
        The model as it was saved: predictions are bit-identical and a
        continued ``fit`` gives the weights of an uninterrupted one.

    Raises
    ------
    nnc.errors.ModelFileError
        (a ``ValueError``) for a truncated, corrupted or hand-crafted file.
    OSError
        When the file cannot be opened.

    Examples
    --------
    >>> import os, tempfile
    >>> model = nnc.Sequential([nnc.Dense(3, activation="relu", input_dim=2),
    ...                         nnc.Dense(1)], seed=0)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> model.save(path)
    >>> again = nnc.load_model(path)
    >>> x = np.ones((2, 2))
    >>> bool((again.predict(x) == model.predict(x)).all())
    True
    """
    path = os.fspath(path)
    if nncb.is_nncb(path):
        return nncb.load(path)
    return _from_archive(path, "load_model", "model",
                         lambda archive: restore(archive.architecture, archive.read))


def load_weights(model, path) -> None:
    """Set `model`'s weights from a file written by save_weights or save."""
    path = os.fspath(path)
    n = model.count_params()

    def read(archive):
        stored = np.dtype(_dtype_of(archive.architecture))
        return archive.read("params", stored, (n,), n * stored.itemsize)

    params = _from_archive(path, "load_weights", "weights", read)
    model.set_flat_params(params.astype(model.dtype))


def model_state(model) -> dict:
    """What pickle and deepcopy keep of a model: the document and arrays
    of its ``.npz`` file."""
    document, data = snapshot(model)
    return {"architecture": document, "arrays": data}


def model_from_state(state: dict):
    """The model of ``model_state``'s dict (its arrays' types and shapes
    checked as a file's are)."""
    stored = state["arrays"]

    def read(name, dtype, shape, max_bytes):
        arr = np.asarray(stored[name])
        if arr.dtype != dtype or (shape is not None and arr.shape != tuple(shape)):
            raise ValueError(f"pickled model: entry {name!r} has the wrong type or shape")
        return arr

    return restore(state["architecture"], read)


def _dtype_of(document: dict) -> str:
    dtype = document.get("dtype")
    if dtype not in ("float32", "float64"):
        raise ModelFileError(f"unsupported dtype {dtype!r}")
    return dtype


def _from_archive(path: str, caller: str, what: str, use):
    """use(archive) on the npz archive at `path`, with every error a broken
    file can cause reported as ModelFileError naming `caller` and the path
    (a file that cannot be opened keeps its OSError)."""
    try:
        with npz.Archive(path) as archive:
            return use(archive)
    except npz.OpenError as exc:
        raise exc.__cause__ from None
    except ModelFileError as exc:
        raise ModelFileError(f"{caller}: {path}: {exc}") from None
    except npz.FILE_ERRORS as exc:
        raise ModelFileError(f"{caller}: {path}: not a valid nnc {what} file "
                             f"({type(exc).__name__}: {exc})") from None
