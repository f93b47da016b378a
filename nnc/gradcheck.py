"""Gradient checking (note 002): compare backpropagation with central
finite differences of J, parameter by parameter, in the engine.

The check always runs in float64: a float32 model is checked through a
float64 twin holding the same (exactly widened) weights, since float32
finite differences cannot resolve 1e-7 relative errors.
"""

from __future__ import annotations

import numpy as np

from . import _core


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """|a - b| / (|a| + |b|) with Euclidean norms; 0 when both are 0."""
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0


def _float64_core(model):
    core = model._core
    if core.dtype == "float64":
        return core
    twin = _core.Model("float64", model.input_dim, model._engine_specs(), model.seed)
    twin.set_params(core.get_params().astype(np.float64))
    twin.compile(model._loss, model._l2, "sgd", {})
    return twin


def gradcheck(model, x, y, eps: float = 1e-6, sample_weight=None, tol: float = 1e-7) -> dict:
    """Check dJ/dtheta of `model` on (x, y) against central differences
    (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps).

    Returns a dict with ``analytic`` and ``numeric`` (flat float64 vectors),
    ``relative_error`` (norm-based, as in the notes), ``max_abs_diff``,
    ``per_layer`` (relative error per Dense layer) and ``passed``
    (relative_error <= tol). Dropout is off; the model is not modified.
    """
    from ._validation import check_float

    eps = check_float(eps, "eps", minimum=0.0)
    if eps == 0:
        raise ValueError("eps: expected a number > 0")
    model._require_compiled()
    xs, ys, sw = model._data(x, y, sample_weight)
    core = _float64_core(model)
    xs, sw = xs.astype(np.float64), None if sw is None else sw.astype(np.float64)
    if not model._sparse:
        ys = ys.astype(np.float64)
    _, analytic = core.gradients(xs, ys, sw, model._sparse)
    numeric = core.numeric_gradients(xs, ys, sw, eps, model._sparse)
    per_layer = []
    for i in range(len(model._dense)):
        slices = model._layer_slices(i)
        idx = np.concatenate([np.arange(off, off + int(np.prod(s))) for off, s in slices])
        per_layer.append(relative_error(analytic[idx], numeric[idx]))
    rel = relative_error(analytic, numeric)
    return {
        "analytic": analytic,
        "numeric": numeric,
        "relative_error": rel,
        "max_abs_diff": float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0,
        "per_layer": per_layer,
        "passed": rel <= tol,
    }
