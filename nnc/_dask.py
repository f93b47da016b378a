"""Dask collections as inputs (docs/design.md, "Dask inputs").

``dask.array`` arrays and ``dask.dataframe`` frames/series are recognised
by their type's module, so nnc never imports Dask itself: this module
imports it only once the caller has handed it a Dask collection.

- Training and evaluation stream the partitions through the engine: one
  partition at a time is computed (where the data lives) and sent to the
  caller, the next one is computed meanwhile on a distributed cluster.
  With ``shuffle=False`` the batches are exactly those of ``fit`` on the
  computed array (rows short of a batch at a partition's end are carried
  into the next one), so the weights are the same bit for bit.
- With ``shuffle=True`` each epoch draws a permutation of the partitions
  from a NumPy generator seeded with the engine's RNG state (so from the
  model's seed); consecutive partitions of that order are joined in windows
  of ``SHUFFLE_PARTITIONS`` and the engine shuffles the rows of each window.
- Prediction maps the model over the partitions (``map_blocks``) on the
  workers and returns a Dask array; the model is pickled once, when
  ``predict`` is called, so later training does not change the result.
- The scikit-learn estimators' ``partial_fit`` on a Dask collection is
  ``partial_fit`` on each partition in order (what ``dask_ml``'s
  ``Incremental`` does on the workers); ``fit`` is passes of that.
"""

from __future__ import annotations

import pickle
import sys
import warnings

import numpy as np

from . import batch_sources

#: Partitions joined into one shuffled window per step of an epoch.
SHUFFLE_PARTITIONS = 2


def is_collection(x) -> bool:
    """Whether `x` is a Dask array, DataFrame or Series (without importing Dask)."""
    if "dask" not in sys.modules:
        return False
    module = type(x).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(x, "__dask_graph__")


def as_array(x, argument: str, ndim: tuple = (2,)):
    """`x` as a Dask array of one block across the columns (a frame's or
    series' partitions become its row blocks, their lengths maybe unknown)."""
    if hasattr(x, "to_dask_array"):
        x = x.to_dask_array()
    if x.ndim not in ndim:
        expected = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{argument}: expected a {expected} Dask collection, got {x.ndim}-D "
                         f"(shape {x.shape})")
    if x.ndim == 2 and x.numblocks[1] > 1:
        x = x.rechunk({1: -1})
    return x


def _known(chunks) -> bool:
    return all(not np.isnan(c) for c in chunks)


def aligned(other, x, argument: str):
    """`other` (y or sample weights: a Dask collection or an array) as a Dask
    array with the row blocks of `x`."""
    import dask.array as da

    if other is None:
        return None
    if not is_collection(other):
        if not _known(x.chunks[0]):
            raise ValueError(f"{argument}: must be a Dask collection partitioned like x "
                             "when x's partition lengths are unknown (a DataFrame)")
        other = np.asarray(other)
        if other.shape[0] != x.shape[0]:
            raise ValueError(f"{argument}: has {other.shape[0]} samples but x has {x.shape[0]}")
        return da.from_array(other, chunks=(x.chunks[0], *other.shape[1:]))
    other = as_array(other, argument, ndim=(1, 2))
    if other.numblocks[0] != x.numblocks[0] or (
            _known(x.chunks[0]) and _known(other.chunks[0]) and other.chunks[0] != x.chunks[0]):
        if not (_known(x.chunks[0]) and _known(other.chunks[0])):
            raise ValueError(f"{argument}: has {other.numblocks[0]} partitions but x has "
                             f"{x.numblocks[0]}; partition them alike")
        if other.shape[0] != x.shape[0]:
            raise ValueError(f"{argument}: has {other.shape[0]} samples but x has {x.shape[0]}")
        other = other.rechunk({0: x.chunks[0]})
    return other


def _client():
    """The distributed client in use, or None (then Dask's configured scheduler)."""
    if "distributed" not in sys.modules:
        return None
    try:
        return sys.modules["distributed"].default_client()
    except ValueError:
        return None


def partitions(arrays, order):
    """(index, [NumPy block of each array, None for None]) per partition in
    `order`; on a distributed cluster the next partition is computed while
    the caller works on the current one."""
    import dask

    def blocks(i):
        return [None if a is None else a.blocks[int(i)] for a in arrays]

    client = _client()
    if client is None:
        for i in order:
            yield int(i), list(dask.compute(*blocks(i)))
        return
    order = [int(i) for i in order]
    pending = client.compute(blocks(order[0])) if order else None
    for k, i in enumerate(order):
        current = pending
        pending = client.compute(blocks(order[k + 1])) if k + 1 < len(order) else None
        yield i, client.gather(current)
        del current


class DaskSource:
    """The partitions of Dask x (and y, sample weights) as chunks of whole
    batches for the training loop, ``evaluate`` and validation (the
    interface of nnc.batch_sources' sources)."""

    kind = "Dask collection"

    def __init__(self, model, argument: str, x, y=None, sample_weight=None, *,
                 batch_size: int | None, shuffle: bool = False, class_weight=None,
                 targets: bool = True):
        if batch_size is None:
            raise ValueError("batch_size: None (one full batch) needs the data in memory; "
                             f"a {self.kind} is streamed in batches")
        if targets and y is None:
            raise ValueError(f"y: required when {argument} is a {self.kind}")
        self.model, self.argument = model, argument
        self.x = as_array(x, argument)
        self.y = aligned(y, self.x, "y") if targets else None
        self.sample_weight = aligned(sample_weight, self.x, "sample_weight") if targets else None
        self.batch_size, self.shuffle, self.class_weight = batch_size, shuffle, class_weight
        self.targets = targets
        self.partitions = self.x.numblocks[0]
        if self.partitions == 0 or (_known(self.x.chunks[0]) and self.x.shape[0] == 0):
            raise ValueError(f"{argument}: expected at least one sample, got none")
        # Checks the width and builds the model up front (the shuffle's seed needs it).
        model.engine_features(np.zeros((0, self.x.shape[1])), f"{argument}", allow_empty=True)
        self.rows = int(self.x.shape[0]) if _known(self.x.chunks[0]) else None
        # Shuffled windows each end in their own smaller batch: no fixed count.
        self.steps = (-(-self.rows // batch_size)
                      if self.rows is not None and not shuffle else None)
        self._rng = None

    @property
    def steps_per_epoch(self):
        return self.steps

    def begin_epoch(self) -> None:
        pass

    def end_epoch(self) -> None:
        pass

    def _convert(self, i: int, x, y, sw):
        prefix = f"{self.argument}: partition {i}: "
        if not self.targets:
            return self.model.engine_features(x, prefix + "x"), None, None
        return self.model.engine_data(x, y, sw, self.class_weight, prefix=prefix)

    def chunks(self):
        if self.shuffle:
            yield from self._shuffled()
            return
        bs, carry = self.batch_size, None
        arrays = (self.x, self.y, self.sample_weight)
        for k, (i, parts) in enumerate(partitions(arrays, range(self.partitions))):
            x, y, sw = self._convert(i, *parts)
            if carry is not None:  # the previous partition's rows short of a batch
                x, y, sw = (None if a is None else np.concatenate([c, a])
                            for c, a in zip(carry, (x, y, sw)))
            keep = x.shape[0] if k == self.partitions - 1 else x.shape[0] - x.shape[0] % bs
            carry = (x[keep:], None if y is None else y[keep:],
                     None if sw is None else sw[keep:])
            if keep:
                yield batch_sources.Chunk(x[:keep], None if y is None else y[:keep],
                                          None if sw is None else sw[:keep],
                                          batch_sources._sizes(keep, bs))

    def _shuffled(self):
        if self._rng is None:
            self._rng = batch_sources.random_generator(self.model)
        order = self._rng.permutation(self.partitions)
        arrays = (self.x, self.y, self.sample_weight)
        window = []
        for k, (i, parts) in enumerate(partitions(arrays, order)):
            window.append(self._convert(i, *parts))
            if len(window) == SHUFFLE_PARTITIONS or k == self.partitions - 1:
                x, y, sw = (None if column[0] is None else np.concatenate(column)
                            for column in zip(*window))
                window = []
                if x.shape[0]:
                    yield batch_sources.Chunk(x, y, sw, batch_sources._sizes(x.shape[0],
                                                                             self.batch_size),
                                              shuffle=True)


# ------------------------------------------------------------------ predict


def _predict_block(block, predictor, method: str):
    return getattr(predictor, method)(block)


def map_predict(predictor, x, method: str, n_outputs: int | None, dtype):
    """``predictor.<method>`` over every partition of Dask `x`, run on the
    workers: a Dask array of the rows' outputs (1-D when `n_outputs` is
    None). `predictor` is pickled now, once, and unpickled by one task."""
    import dask

    arr = as_array(x, "x")
    snapshot = dask.delayed(pickle.loads, pure=True)(pickle.dumps(predictor))
    dtype = np.dtype(dtype)
    if n_outputs is None:
        return arr.map_blocks(_predict_block, snapshot, method, drop_axis=1,
                              chunks=(arr.chunks[0],), meta=np.empty((0,), dtype))
    return arr.map_blocks(_predict_block, snapshot, method, chunks=(arr.chunks[0], (n_outputs,)),
                          meta=np.empty((0, n_outputs), dtype))


def predict(model, x):
    """``Sequential.predict`` of a Dask collection: a lazy Dask array."""
    arr = as_array(x, "x")
    model.engine_features(np.zeros((0, arr.shape[1])), "x", allow_empty=True)
    return map_predict(model, arr, "predict", model.output_dim, model.dtype)


# --------------------------------------------------------------- estimators


def estimator_partial_fit(estimator, X, y, sample_weight=None, **fit_params):
    """``partial_fit`` on each partition in order (one client-side pass)."""
    x = as_array(X, "X")
    arrays = (x, aligned(y, x, "y"), aligned(sample_weight, x, "sample_weight"))
    for _, (xb, yb, swb) in partitions(arrays, range(x.numblocks[0])):
        estimator.partial_fit(xb, yb, sample_weight=swb, **fit_params)
    return estimator


def estimator_fit(estimator, X, y, sample_weight=None):
    """``fit`` of a Dask collection: from fresh weights (unless warm_start),
    up to ``max_iter`` passes of partial_fit over the partitions, their order
    permuted per pass from ``random_state`` when ``shuffle``; stops after
    more than ``n_iter_no_change`` passes whose mean loss did not improve by
    ``tol`` (scikit-learn's rule, per pass).
    ``n_iter_`` counts passes, ``loss_curve_`` holds each pass's mean loss."""
    from sklearn.base import ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state

    if estimator.early_stopping:
        raise ValueError("early_stopping: not available with Dask inputs (it needs the "
                         "whole data set in memory to hold out a validation split)")
    if estimator.solver == "lbfgs" and estimator.optimizer is None:
        raise ValueError("solver: 'lbfgs' is a full-batch method; Dask inputs train with "
                         "'adam' or 'sgd'")
    x = as_array(X, "X")
    y = aligned(y, x, "y")
    sw = aligned(sample_weight, x, "sample_weight")
    fit_params = {}
    if isinstance(estimator, ClassifierMixin):
        import dask

        classes = (np.arange(y.shape[1]) if y.ndim == 2
                   else dask.compute(_unique(y))[0])
        fit_params["classes"] = classes
    if not estimator.warm_start:
        for name in ("coefs_", "classes_"):
            if hasattr(estimator, name):
                delattr(estimator, name)
    rng = check_random_state(estimator.random_state)
    best, stale, curve = np.inf, 0, []
    for _ in range(estimator.max_iter):
        order = (rng.permutation(x.numblocks[0]) if estimator.shuffle
                 else range(x.numblocks[0]))
        total, rows = 0.0, 0
        for _, (xb, yb, swb) in partitions((x, y, sw), order):
            estimator.partial_fit(xb, yb, sample_weight=swb, **fit_params)
            total, rows = total + estimator.loss_ * len(xb), rows + len(xb)
        curve.append(total / rows)
        stale = stale + 1 if curve[-1] > best - estimator.tol else 0
        best = min(best, curve[-1])
        if stale > estimator.n_iter_no_change:  # scikit-learn's comparison
            break
    else:
        if estimator.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) "
                          "reached and the optimization hasn't converged yet.",
                          ConvergenceWarning, stacklevel=3)
    estimator.n_iter_, estimator.loss_curve_ = len(curve), curve
    estimator.loss_ = curve[-1] if curve else estimator.loss_
    return estimator


def _unique(y):
    import dask.array as da

    return da.unique(y)


def estimator_predict(estimator, X, method: str):
    """``estimator.<method>(X)`` on the workers, a Dask array. The output's
    dtype and columns are those of the method on one row of zeros."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    x = as_array(X, "X")
    if x.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {x.shape[1]} features, but {type(estimator).__name__} is "
                         f"expecting {estimator.n_features_in_} features as input.")
    probe = getattr(estimator, method)(np.zeros((1, x.shape[1]), estimator.model_.dtype))
    return map_predict(estimator, x, method, probe.shape[1] if probe.ndim == 2 else None,
                       probe.dtype)


def estimator_score(estimator, X, y, sample_weight=None):
    """``score`` of Dask inputs: accuracy (classifier) or R^2 (regressor),
    reduced on the workers; the same value as scikit-learn's up to the
    order of the floating-point sums."""
    import dask
    from sklearn.base import ClassifierMixin

    x = as_array(X, "X")
    y = aligned(y, x, "y")
    sw = aligned(sample_weight, x, "sample_weight")
    pred = estimator_predict(estimator, x, "predict")
    w = 1.0 if sw is None else sw
    if isinstance(estimator, ClassifierMixin):
        right = pred == y if y.ndim == 1 else (pred == y).all(axis=1)
        total = (w * right).sum() if sw is not None else right.sum()
        count = sw.sum() if sw is not None else right.shape[0]
        correct, count = dask.compute(total, count)
        return float(correct / count)
    y2 = y.reshape(-1, 1) if y.ndim == 1 else y
    p2 = pred.reshape(-1, 1) if pred.ndim == 1 else pred
    w2 = 1.0 if sw is None else sw[:, None]
    weight_sum = sw.sum() if sw is not None else y2.shape[0]
    # Two passes, as r2_score: the mean first, then squares about it (no cancellation).
    s1, weight_sum = dask.compute((w2 * y2).sum(axis=0), weight_sum)
    mean = s1 / weight_sum
    res, tot = dask.compute((w2 * (y2 - p2) ** 2).sum(axis=0),
                            (w2 * (y2 - mean) ** 2).sum(axis=0))
    # r2_score's conventions for a constant target: 1 when predicted exactly, else 0.
    r2 = np.where(tot > 0, 1.0 - res / np.where(tot > 0, tot, 1.0),
                  np.where(res == 0, 1.0, 0.0))
    return float(np.mean(r2))
