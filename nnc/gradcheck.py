"""Gradient checking (docs/architecture.md, Gradient checking): compare
backpropagation with central finite differences of J, parameter by
parameter, in the engine.

The check always runs in float64: a float32 model is checked through a
float64 twin holding the same (exactly widened) weights, since float32
finite differences cannot resolve 1e-7 relative errors.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_float


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """|a - b| / (|a| + |b|) with Euclidean norms; 0 when both are 0."""
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0


def float64_twin(model):
    """`model` itself when it is float64, else a float64 copy of it with the
    same (exactly widened) weights, loss and l2 (its optimizer does not
    matter: it only evaluates J and dJ/dtheta)."""
    if model.dtype == "float64":
        return model
    twin = type(model).from_config({**model.get_config(), "dtype": "float64"})
    settings = model.get_compile_config()
    twin.compile(optimizer="sgd", loss=settings["loss"], l2=settings["l2"])
    twin.set_flat_params(model.get_flat_params().astype(np.float64))
    return twin


def gradcheck(model, x, y, eps: float = 1e-6, sample_weight=None, tol: float = 1e-7) -> dict:
    """Compare backpropagation's gradient with central finite differences.

    For every parameter ``θ_i`` the numeric derivative is
    ``(J(θ + eps e_i) - J(θ - eps e_i)) / (2 eps)``, computed by the engine
    in float64 (a float32 model is checked through a float64 copy of its
    weights). The verdict uses the norm-based relative error of the notes,
    ``‖g - g_num‖ / (‖g‖ + ‖g_num‖)``. Dropout is off; the model is not
    modified. :func:`nnc.testing.assert_gradients_close` is the same check
    as an assertion with a per-layer report.

    Parameters
    ----------
    model : nnc.Sequential
        A compiled model; its loss, L2 coefficient and sample weights define J.
    x, y : array_like
        Inputs and targets, as for ``fit``.
    eps : float, default 1e-6
        Step of the central differences, > 0.
    sample_weight : array_like, optional
        One weight per row.
    tol : float, default 1e-7
        ``passed`` is ``relative_error <= tol``.

    Returns
    -------
    dict
        ``analytic`` and ``numeric`` (flat float64 vectors in the layout of
        ``get_flat_params``), ``relative_error``, ``max_abs_diff``,
        ``per_layer`` (the relative error of each Dense layer) and ``passed``.

    Raises
    ------
    ValueError
        For ``eps <= 0`` or data the model refuses.
    nnc.errors.StateError
        When the model is not compiled.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=2),
    ...                         nnc.Dense(1)], dtype="float32", seed=0)
    >>> model.compile(optimizer="sgd", loss="mse", l2=0.01)
    >>> x = np.linspace(-1, 1, 16).reshape(8, 2)
    >>> report = nnc.gradcheck(model, x, x[:, :1] ** 2)
    >>> report["passed"], report["analytic"].shape
    (True, (21,))
    """
    eps = check_float(eps, "eps", minimum=0.0)
    if eps == 0:
        raise ValueError("eps: expected a number > 0")
    xs, ys, sw = model.engine_data(x, y, sample_weight)  # as the model sees them
    twin = float64_twin(model)
    xs, sw = xs.astype(np.float64), None if sw is None else sw.astype(np.float64)
    if ys.dtype.kind == "f":
        ys = ys.astype(np.float64)
    _, analytic = twin.engine.gradients(xs, ys, sw)
    numeric = twin.engine.numeric_gradients(xs, ys, sw, eps)
    layout = twin.parameter_layout
    per_layer = [relative_error(analytic[idx], numeric[idx])
                 for idx in map(layout.layer_indices, range(len(layout.layers)))]
    rel = relative_error(analytic, numeric)
    return {
        "analytic": analytic,
        "numeric": numeric,
        "relative_error": rel,
        "max_abs_diff": float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0,
        "per_layer": per_layer,
        "passed": rel <= tol,
    }
