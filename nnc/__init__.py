"""nnc: multilayer perceptrons with a C engine.

>>> import nnc
>>> model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
...                         nnc.Dense(1, activation="sigmoid")], seed=0)
>>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
"""

from . import callbacks, datasets, initializers, io, losses, metrics, optimizers
from ._core import NonFiniteError, TrainingInterrupted
from ._core import get_kernel_arch as _get_kernel_arch
from ._core import get_num_threads as _get_num_threads
from ._core import set_num_threads as _set_num_threads
from .callbacks import History
from .gradcheck import gradcheck
from .io import load_model
from .layers import Dense, Dropout, Input
from .model import Sequential
from .nncb import load_binary, save_binary
from .torch_interop import from_torch

__version__ = "0.1.0"

# Inspection, figures (matplotlib is imported only when a plot is drawn) and
# test helpers.
from . import inspect, plot, testing  # noqa: E402, F401

__all__ = [
    "Dense", "Dropout", "History", "Input", "MLPClassifier", "MLPRegressor", "NonFiniteError",
    "Sequential",
    "TrainingInterrupted", "callbacks", "datasets", "gradcheck", "initializers", "io",
    "load_model", "losses", "metrics", "optimizers", "get_num_threads", "set_num_threads",
    "from_torch", "load_binary", "save_binary",
    "plot", "testing",  # not "inspect": a star-import must not shadow the stdlib module
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
