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
    return Accumulator(name, sparse).add(y_true, y_pred, sample_weight).result()


class Accumulator:
    """Metric `name` over data seen in parts (streamed chunks): ``add`` each
    part's targets and predictions, ``result`` the value over all of them.
    One part gives exactly ``compute``'s value (it is ``compute``); several
    give it to rounding (r2 merges its sums of squares as Chan et al.'s
    pairwise variance does, docs/design.md, Streaming data)."""

    def __init__(self, name: str, sparse: bool):
        check_targets(name, sparse)
        self.name, self.sparse = name, sparse
        self.weight = 0.0   # sum of sample weights (or the count)
        self.total = 0.0    # sum of weight * per-sample value
        self.r2 = None      # r2: (sum of weights, weighted mean, ss_tot, ss_res) per output

    def add(self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight=None) -> Accumulator:
        name = self.name
        if name in LABEL_METRICS:
            if self.sparse:
                hits = np.argmax(y_pred, axis=1) == y_true
            elif y_pred.shape[1] == 1 or name == "binary_accuracy":
                hits = np.mean((y_pred > 0.5) == (y_true > 0.5), axis=1)
            else:
                hits = np.argmax(y_pred, axis=1) == np.argmax(y_true, axis=1)
            self._add_values(hits.astype(np.float64), sample_weight)
            return self
        err = y_pred.astype(np.float64) - y_true
        if name == "mae":
            self._add_values(np.mean(np.abs(err), axis=1), sample_weight)
        elif name in ("mse", "rmse"):
            self._add_values(np.mean(err**2, axis=1), sample_weight)
        else:
            self._add_r2(y_true, err, sample_weight)
        return self

    def _add_values(self, values: np.ndarray, sample_weight) -> None:
        if sample_weight is None:
            self.total += float(np.sum(values))
            self.weight += float(values.shape[0])
        else:
            self.total += float(np.sum(values * sample_weight))
            self.weight += float(np.sum(sample_weight))

    def _add_r2(self, y_true: np.ndarray, err: np.ndarray, sample_weight) -> None:
        w = (np.ones(len(y_true)) if sample_weight is None
             else np.asarray(sample_weight, np.float64))
        w_sum = float(np.sum(w))
        if w_sum > 0:
            mean = np.average(y_true, axis=0, weights=w)
        else:
            mean = np.zeros(y_true.shape[1])
        ss_tot = np.sum(w[:, None] * (y_true - mean) ** 2, axis=0)
        ss_res = np.sum(w[:, None] * err**2, axis=0)
        if self.r2 is None:
            self.r2 = (w_sum, mean, ss_tot, ss_res)
            return
        w_a, mean_a, tot_a, res_a = self.r2
        both = w_a + w_sum
        if both <= 0:
            return
        delta = mean - mean_a
        self.r2 = (both, mean_a + delta * (w_sum / both),
                   tot_a + ss_tot + delta**2 * (w_a * w_sum / both), res_a + ss_res)

    def result(self) -> float:
        if self.name == "r2":
            if self.r2 is None:
                return float("nan")
            _, _, ss_tot, ss_res = self.r2
            # 1 - SS_res/SS_tot over all outputs (uniform average, as scikit-learn).
            with np.errstate(divide="ignore", invalid="ignore"):
                scores = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot,
                                  np.where(ss_res > 0, 0.0, 1.0))
            return float(np.mean(scores))
        if self.weight <= 0:
            return float("nan")
        mean = self.total / self.weight
        return float(np.sqrt(mean)) if self.name == "rmse" else float(mean)
