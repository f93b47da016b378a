"""Metrics reported by ``evaluate`` and ``fit``, computed with NumPy on
whole prediction arrays (no per-sample Python loops)."""

from __future__ import annotations

import numpy as np

_ALIASES = {"acc": "accuracy", "mean_absolute_error": "mae",
            "root_mean_squared_error": "rmse", "mean_squared_error": "mse"}
NAMES = ("accuracy", "binary_accuracy", "mae", "mse", "rmse", "r2")


def get(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"metrics: expected metric names, got {name!r}")
    canonical = _ALIASES.get(name.lower(), name.lower())
    if canonical not in NAMES:
        raise ValueError(f"metrics: unknown metric {name!r}; expected one of {', '.join(NAMES)}")
    return canonical


def _weighted_mean(values: np.ndarray, sample_weight) -> float:
    if sample_weight is None:
        return float(np.mean(values))
    total = float(np.sum(sample_weight))
    return float(np.sum(values * sample_weight) / total) if total > 0 else float("nan")


#: The metrics defined on integer class labels (the others need one value per output).
LABEL_METRICS = ("accuracy", "binary_accuracy")


def check_targets(name: str, labels: bool) -> None:
    """ValueError if metric `name` cannot be computed on the targets a loss
    takes (class labels when `labels`): at compile, not after an epoch."""
    if labels and name not in LABEL_METRICS:
        raise ValueError(f"metrics: '{name}' needs dense targets, not class labels")


def compute(name: str, y_true: np.ndarray, y_pred: np.ndarray, sparse: bool,
            sample_weight=None) -> float:
    """Metric `name` of predictions (n, K) against engine-shaped targets:
    integer labels (n,) when `sparse`, else (n, K)."""
    if name in LABEL_METRICS:
        if sparse:
            hits = np.argmax(y_pred, axis=1) == y_true
        elif y_pred.shape[1] == 1 or name == "binary_accuracy":
            hits = np.mean((y_pred > 0.5) == (y_true > 0.5), axis=1)
        else:
            hits = np.argmax(y_pred, axis=1) == np.argmax(y_true, axis=1)
        return _weighted_mean(hits.astype(np.float64), sample_weight)
    check_targets(name, sparse)
    err = y_pred.astype(np.float64) - y_true
    if name == "mae":
        return _weighted_mean(np.mean(np.abs(err), axis=1), sample_weight)
    if name == "mse":
        return _weighted_mean(np.mean(err**2, axis=1), sample_weight)
    if name == "rmse":
        return float(np.sqrt(_weighted_mean(np.mean(err**2, axis=1), sample_weight)))
    # r2: 1 - SS_res/SS_tot over all outputs (uniform average, as scikit-learn).
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    mean = np.average(y_true, axis=0, weights=w)
    ss_res = np.sum(w[:, None] * err**2, axis=0)
    ss_tot = np.sum(w[:, None] * (y_true - mean) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.where(ss_res > 0, 0.0, 1.0))
    return float(np.mean(scores))
