"""Input checking and conversion for the facade.

The engine wrapper is strict (exact dtype, C-contiguous, aligned); these
helpers turn what users pass into that, or raise ValueError/TypeError naming
the argument. Arrays that already fit are passed through without a copy.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core

DTYPES = ("float32", "float64")


def check_dtype(dtype) -> str:
    """Normalise a dtype spec to 'float32' or 'float64'."""
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise TypeError(f"dtype: expected 'float32' or 'float64', got {dtype!r}") from exc
    if name not in DTYPES:
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
    return name


def check_int(value, name: str, minimum: int | None = None, allow_none: bool = False):
    """An integer (not bool) >= minimum, or None when allowed."""
    if value is None and allow_none:
        return None
    if type(value) is int:  # the common case, without the ABC check (fit's per-call cost)
        if minimum is not None and value < minimum:
            raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return value


def check_float(value, name: str, minimum: float | None = None, maximum: float | None = None,
                exclusive_max: bool = False) -> float:
    """A finite real number within [minimum, maximum] (or [minimum, maximum))."""
    if type(value) is not float and (isinstance(value, bool)
                                     or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected a number >= {minimum}, got {value}")
    if maximum is not None and (value >= maximum if exclusive_max else value > maximum):
        bound = "<" if exclusive_max else "<="
        raise ValueError(f"{name}: expected a number {bound} {maximum}, got {value}")
    return value


def _as_array(data, name: str) -> np.ndarray:
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: cannot be read as a numeric array ({exc})") from exc
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name}: complex values are not supported (dtype {arr.dtype})")
    if kind not in "biuf":
        raise TypeError(f"{name}: expected numbers, got an array of dtype {arr.dtype}")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """ValueError if a float array holds NaN or infinity."""
    native = arr.dtype.newbyteorder("=")  # '>f8' data must be read as what it is
    if arr.dtype.kind == "f" and arr.size and not _core.all_finite(to_engine(arr, native)):
        raise ValueError(f"{name}: contains NaN or infinity")


def finite_floats(arr: np.ndarray, dtype: str, name: str,
                  engine_checks: bool = False) -> np.ndarray:
    """`arr` as an engine-ready array of `dtype` with no NaN or infinity.
    A finite value too large for float32 (1e300 into a float32 model) is
    reported as out of range, without NumPy's overflow warning.
    `engine_checks`: the caller hands the result to an engine call that
    refuses NaN and infinity itself (predict), so an array used as it is
    skips the check here; a converted one is still checked, to tell an
    out-of-range value from a non-finite one."""
    if _engine_ready(arr, dtype):  # nothing to cast: no NumPy call (fit's per-call cost)
        out = arr
    else:
        with np.errstate(over="ignore"):
            out = to_engine(arr, dtype)
    if engine_checks and out is arr:
        return out
    if out.size and not _core.all_finite(out):
        check_finite(arr, name)  # NaN or infinity in the input itself
        limit = np.finfo(dtype).max
        raise ValueError(f"{name}: values beyond the {dtype} range (|value| > {limit:.4g})")
    return out


def _engine_ready(arr: np.ndarray, dtype) -> bool:
    """Whether to_engine(arr, dtype) would return arr itself."""
    flags = arr.flags
    return (type(arr) is np.ndarray and arr.dtype == dtype and flags.c_contiguous
            and flags.aligned)


def to_engine(arr: np.ndarray, dtype) -> np.ndarray:
    """Cast/copy only when needed to get a C-contiguous, aligned array of
    `dtype` (any layout and alignment converts: ``np.frombuffer(buf,
    offset=1)``, a memmap at an odd offset, a strided view)."""
    if _engine_ready(arr, dtype):
        return arr
    return np.require(arr, dtype=dtype, requirements=("C_CONTIGUOUS", "ALIGNED"))


def features(x, dtype: str, n_features: int | None, name: str = "x",
             allow_empty: bool = False, engine_checks: bool = False) -> np.ndarray:
    """A (n_samples, n_features) matrix of the model's dtype, finite (or,
    with `engine_checks`, left to the engine to refuse: finite_floats)."""
    arr = _as_array(x, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features per sample, got {arr.shape[1]}")
    return finite_floats(arr, dtype, name, engine_checks)


def targets(y, dtype: str, n_outputs: int, loss: str, n_samples: int,
            name: str = "y") -> np.ndarray:
    """Targets shaped for the loss: int64 class labels for the sparse
    cross-entropy, a finite (n_samples, n_outputs) matrix otherwise."""
    arr = _as_array(y, name)
    if loss == "sparse_categorical_crossentropy":
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{name}: expected 1-D integer class labels, got shape {arr.shape}")
        if arr.dtype.kind == "f":
            check_finite(arr, name)
            if not np.all(arr == np.round(arr)):
                raise ValueError(f"{name}: class labels must be whole numbers")
        if arr.size and _labels_outside(arr, n_outputs):  # before any cast wraps
            low, high = (int(v) for v in (arr.min(), arr.max()))
            raise ValueError(
                f"{name}: class labels must be in [0, {n_outputs}), "
                f"got values in [{low}, {high}]")
        out = to_engine(arr, np.int64)
    else:
        if arr.ndim == 1 and n_outputs == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim == 1 and loss == "categorical_crossentropy":
            raise ValueError(
                f"{name}: categorical_crossentropy needs one-hot targets of shape "
                f"(n_samples, {n_outputs}); for integer labels use "
                "loss='sparse_categorical_crossentropy' or nnc.datasets.one_hot(y)")
        if arr.ndim != 2 or arr.shape[1] != n_outputs:
            raise ValueError(
                f"{name}: expected shape (n_samples, {n_outputs}) for a model with "
                f"{n_outputs} outputs, got {arr.shape}")
        out = finite_floats(arr, dtype, name)
    if out.shape[0] != n_samples:
        raise ValueError(f"{name}: has {out.shape[0]} samples but x has {n_samples}")
    return out


_UNSIGNED = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}  # by itemsize


def _labels_outside(arr: np.ndarray, n_classes: int) -> bool:
    """Whether a label is outside [0, n_classes). Native-order integers take
    one pass: a negative label read as unsigned is at least 2**(bits-1),
    beyond the class count (fit checks labels on every call)."""
    kind, bits = arr.dtype.kind, 8 * arr.itemsize
    if arr.dtype.isnative and (kind == "u" or (kind == "i" and n_classes <= 1 << (bits - 1))):
        return int(np.maximum.reduce(arr.view(_UNSIGNED[arr.itemsize]), axis=None)) >= n_classes
    return bool(arr.min() < 0 or arr.max() >= n_classes)


def sample_weights(sw, dtype: str, n_samples: int,
                   name: str = "sample_weight") -> np.ndarray | None:
    """None, or a finite, non-negative weight per sample."""
    if sw is None:
        return None
    arr = _as_array(sw, name)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"{name}: expected shape ({n_samples},), got {arr.shape}")
    arr = finite_floats(arr, dtype, name)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: weights must be >= 0")
    return arr


def name_of(kind: str, value, argument: str) -> str:
    """Canonical engine name for an activation/loss/initializer/optimizer."""
    if not isinstance(value, str):
        raise TypeError(f"{argument}: expected a name (str), got {value!r}")
    try:
        return _core.canonical_name(kind, value.lower())
    except ValueError:
        choices = ", ".join(_core.names(kind))
        raise ValueError(f"{argument}: unknown {kind} {value!r}; expected one of: {choices}") \
            from None
