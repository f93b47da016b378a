"""The exceptions of nnc's engine, one class per engine status.

Each is a subclass of ``EngineError`` and of the built-in exception nnc
raised for that status before (``except ValueError`` keeps working), and
carries the C status code as ``status`` (see ``nnc_status`` in
csrc/include/nnc.h):

=======================  ================  =================================
class                    also a            raised when
=======================  ================  =================================
InvalidArgumentError     ValueError        the engine refuses an argument
ShapeError               ValueError        array sizes do not fit the model
UnsupportedError         ValueError        a valid request it cannot honour
NonFiniteError           ValueError        a loss or gradient became NaN/inf
FormatError              ValueError        a model file or blob is malformed
OutOfMemoryError         MemoryError       an allocation failed
SizeOverflowError        MemoryError       a size beyond the engine's limits
StateError               RuntimeError      calls in the wrong order
TrainingInterrupted      RuntimeError      an epoch was stopped on request
=======================  ================  =================================

An engine I/O failure is an ``OSError`` of the errno's class
(``FileNotFoundError``, ``PermissionError``, ...) with ``status`` set.
``ModelFileError`` is the ``FormatError`` of nnc's file loaders.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "broken.nncb")
>>> with open(path, "wb") as f:
...     _ = f.write(b"not a model")
>>> try:
...     nnc.load_binary(path)
... except nnc.errors.FormatError as error:
...     print(isinstance(error, (nnc.EngineError, ValueError)), error.status)
True 9
"""

from __future__ import annotations

from ._core import (
    EngineError,
    FormatError,
    InvalidArgumentError,
    NonFiniteError,
    OutOfMemoryError,
    ShapeError,
    SizeOverflowError,
    StateError,
    TrainingInterrupted,
    UnsupportedError,
)

__all__ = ["EngineError", "FormatError", "InvalidArgumentError", "ModelFileError",
           "NonFiniteError", "OutOfMemoryError", "ShapeError", "SizeOverflowError",
           "StateError", "TrainingInterrupted", "UnsupportedError"]


class ModelFileError(FormatError):
    """A file that is not a valid nnc model (or weights file)."""
