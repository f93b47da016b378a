"""nnc: multilayer perceptrons with a C engine.

>>> import nnc
>>> model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
...                         nnc.Dense(1, activation="sigmoid")], seed=0)
>>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

The layers of the package are described in docs/architecture.md.
"""

import os as _os
import sys as _sys
from typing import Any as _Any

from . import (
    callbacks,
    datasets,
    errors,
    initializers,
    inspection,
    losses,
    metrics,
    optimizers,
    plot,
    saving,
    testing,
)
from ._core import get_kernel_arch as _get_kernel_arch
from ._core import get_num_threads as _get_num_threads
from ._core import set_num_threads as _set_num_threads
from ._version import __version__
from .callbacks import History
from .errors import EngineError, NonFiniteError, TrainingInterrupted
from .gradcheck import gradcheck
from .layers import Dense, Dropout, Input
from .layout import ParameterLayout
from .model import Sequential
from .saving import save_binary
from .torch_interop import from_torch

# The modules' former names, which shadowed the standard library's io and
# inspect: `nnc.io` and `nnc.inspect` (attribute and import) still work.
io = saving
inspect = inspection
_sys.modules[__name__ + ".io"] = saving
_sys.modules[__name__ + ".inspect"] = inspection

__all__ = [
    "Dense", "Dropout", "EngineError", "History", "Input", "MLPClassifier", "MLPRegressor",
    "NonFiniteError", "ParameterLayout", "Sequential", "TrainingInterrupted", "__version__",
    "callbacks", "datasets", "errors", "from_torch", "get_num_threads", "gradcheck",
    "initializers", "inspection", "load_binary", "load_model", "losses", "metrics",
    "optimizers", "plot", "save_binary", "saving", "set_num_threads", "testing",
]


def __getattr__(name: str) -> _Any:
    # The scikit-learn estimators import scikit-learn, so only on demand.
    if name in ("MLPClassifier", "MLPRegressor"):
        try:
            from . import sklearn as _sklearn
        except ImportError as exc:
            raise ImportError(f"nnc.{name} needs scikit-learn: pip install scikit-learn") \
                from exc
        return getattr(_sklearn, name)
    raise AttributeError(f"module 'nnc' has no attribute {name!r}")


def load_model(path: "str | _os.PathLike[str]") -> Sequential:
    """Load a model written by ``Sequential.save`` (an .npz file, or an
    nncb file, recognised by its magic bytes); ModelFileError (a ValueError)
    for anything that is not one. (Typed here: nnc.saving cannot import
    the model class, which imports it.)"""
    return saving.load_model(path)


def load_binary(path: "str | _os.PathLike[str]") -> Sequential:
    """Load a model written by ``save_binary``, ``model.save("x.nncb")`` or
    the C library's ``nnc_model_save``."""
    return saving.load_binary(path)


def kernel_arch() -> str:
    """The SIMD kernel set the engine uses ("ref", "avx2", "avx512"): the best
    one this CPU runs, or the one the environment variable NNC_ARCH asks for."""
    return _get_kernel_arch()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (1..256) in the engine's own thread pool.

    The default is the number of CPU cores available to the process. Results
    are bit-identical for any ``n``: work is split over independent outputs,
    never over a sum. NumPy's and PyTorch's thread settings are left alone.
    """
    _set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads the engine uses (see set_num_threads)."""
    return _get_num_threads()
