"""nnc: multilayer perceptrons with a C engine.

>>> import nnc
>>> model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
...                         nnc.Dense(1, activation="sigmoid")], seed=0)
>>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
"""

from . import callbacks, datasets, initializers, io, losses, metrics, optimizers
from ._core import NonFiniteError, TrainingInterrupted
from ._core import kernel_arch as _kernel_arch
from .callbacks import History
from .gradcheck import gradcheck
from .io import load_model
from .layers import Dense, Dropout, Input
from .model import Sequential

__version__ = "0.1.0"

__all__ = [
    "Dense", "Dropout", "History", "Input", "MLPClassifier", "MLPRegressor", "NonFiniteError",
    "Sequential",
    "TrainingInterrupted", "callbacks", "datasets", "gradcheck", "initializers", "io",
    "load_model", "losses", "metrics", "optimizers",
]


def __getattr__(name: str):
    # The scikit-learn estimators import scikit-learn, so only on demand.
    if name in ("MLPClassifier", "MLPRegressor"):
        try:
            from . import sklearn as _sklearn
        except ImportError as exc:
            raise ImportError(f"nnc.{name} needs scikit-learn: pip install scikit-learn") \
                from exc
        return getattr(_sklearn, name)
    raise AttributeError(f"module 'nnc' has no attribute {name!r}")


def kernel_arch() -> str:
    """The SIMD kernel set the engine picked for this CPU ("ref", "avx2", "avx512")."""
    return _kernel_arch
