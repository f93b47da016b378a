"""Assertions for users' test suites (pytest, unittest, plain asserts).

Examples
--------
>>> from nnc.testing import assert_gradients_close, assert_models_equal
>>> model = nnc.Sequential([nnc.Dense(3, activation="tanh", input_dim=2),
...                         nnc.Dense(1)], dtype="float64", seed=0)
>>> model.compile(optimizer="sgd", loss="mse")
>>> x, y = np.ones((4, 2)), np.zeros((4, 1))
>>> result = assert_gradients_close(model, x, y)   # backprop == finite differences
>>> assert_models_equal(model, nnc.Sequential.from_config(model.get_config()))

The pytest plugin (``nnc.pytest_plugin``, registered through the
``pytest11`` entry point) hands these out as fixtures.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_float
from .gradcheck import gradcheck as _run_gradcheck
from .gradcheck import relative_error
from .model import Sequential

__all__ = ["assert_gradients_close", "assert_models_equal"]


def assert_gradients_close(model, x, y, rtol: float = 1e-7, atol: float = 1e-9,
                           eps: float = 1e-6, sample_weight=None) -> dict:
    """Assert that backpropagation matches central finite differences,
    layer by layer.

    The numeric gradient is ``(J(θ + eps e_i) - J(θ - eps e_i)) / (2 eps)``
    for every parameter ``i``. The check always runs in float64: a float32
    model is checked through a float64 copy of its weights (float32
    differences cannot resolve 1e-7). A layer passes when its norm-based
    relative error ``‖g_a - g_n‖ / (‖g_a‖ + ‖g_n‖)`` is at most ``rtol``, or
    its largest absolute difference is at most ``atol`` (a floor for layers
    whose gradient is almost zero, where the differences' round-off,
    about ``1e-10 |J|``, dominates). The model is not modified.

    Parameters
    ----------
    model : nnc.Sequential
        A compiled model (its loss and L2 term define J).
    x, y : array_like
        Inputs and targets, as for ``model.fit``.
    rtol : float, default 1e-7
        Largest relative error a layer may have.
    atol : float, default 1e-9
        Absolute floor: a layer whose largest difference is below it passes.
    eps : float, default 1e-6
        Step of the central differences.
    sample_weight : array_like, optional
        Per-sample weights of the cost.

    Returns
    -------
    dict
        :func:`nnc.gradcheck`'s result (``analytic``, ``numeric``,
        ``relative_error``, ``max_abs_diff``, ``per_layer``, ``passed``).

    Raises
    ------
    AssertionError
        When a layer fails, with one line per layer: its relative error, the
        parameter with the largest difference (e.g. ``W[3, 1]`` and its flat
        index), the analytic and numeric values there and their relative
        error.
    ValueError
        For a negative ``rtol`` or ``atol``, or input the model refuses.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(4, activation="sigmoid", input_dim=3),
    ...                         nnc.Dense(2, activation="softmax")], seed=1)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", l2=1e-3)
    >>> x = np.random.default_rng(0).normal(size=(10, 3))
    >>> y = np.arange(10) % 2
    >>> result = nnc.testing.assert_gradients_close(model, x, y)
    >>> result["passed"], len(result["per_layer"])
    (True, 2)
    """
    rtol = check_float(rtol, "rtol", minimum=0.0)
    atol = check_float(atol, "atol", minimum=0.0)
    result = _run_gradcheck(model, x, y, eps=eps, sample_weight=sample_weight, tol=rtol)
    analytic, numeric = result["analytic"], result["numeric"]
    layout = model.parameter_layout
    rows, failed = [], []
    for i, name in enumerate(layout.names):
        idx = layout.layer_indices(i)
        ga, gn = analytic[idx], numeric[idx]
        rel = relative_error(ga, gn)
        diff = np.abs(ga - gn)
        worst = int(np.argmax(diff)) if diff.size else 0
        max_abs = float(diff[worst]) if diff.size else 0.0
        ok = rel <= rtol or max_abs <= atol
        if not ok:
            failed.append(name)
        flat = int(idx[worst])
        a_w, n_w = float(analytic[flat]), float(numeric[flat])
        denom = abs(a_w) + abs(n_w)
        rows.append((name, rel, f"{layout.label(flat)[1]} (#{flat})", a_w, n_w,
                     abs(a_w - n_w) / denom if denom > 0 else 0.0, "ok" if ok else "FAIL"))
    if failed:
        lines = [f"analytic gradients differ from finite differences in layer(s) "
                 f"{', '.join(failed)} (rtol={rtol:g}, atol={atol:g}, eps={eps:g}, checked in "
                 f"float64; overall relative error {result['relative_error']:.3e})",
                 f"  {'layer':<12}{'rel.error':>11}  {'worst parameter':<22}{'analytic':>14}"
                 f"{'numeric':>14}{'rel.err':>10}"]
        for name, rel, where, a_w, n_w, r_w, verdict in rows:
            lines.append(f"  {name:<12}{rel:>11.3e}  {where:<22}{a_w:>14.6e}{n_w:>14.6e}"
                         f"{r_w:>10.2e}  {verdict}")
        raise AssertionError("\n".join(lines))
    return result


def _architecture(model) -> dict:
    """What determines the function a model computes (names and
    initializers excluded)."""
    layers = []
    for layer in model.layers:
        cfg = layer.get_config()
        for key in ("name", "kernel_initializer", "bias_initializer", "input_dim"):
            cfg.pop(key, None)
        layers.append(cfg)
    return {"input_dim": model.input_dim, "layers": layers}


def assert_models_equal(a, b, rtol: float = 0.0, atol: float = 0.0,
                        check_dtype: bool = True) -> None:
    """Assert that two models compute the same function with the same weights.

    Compared: the architecture (input size, layer classes, units,
    activations, biases, dropout rates; layer names and initializers are
    not), the dtype (unless ``check_dtype=False``) and the weights, exactly
    by default or within ``|a - b| <= atol + rtol |b|`` elementwise.

    Parameters
    ----------
    a, b : nnc.Sequential
        The models.
    rtol, atol : float, default 0
        Tolerances on the weights.
    check_dtype : bool, default True
        Whether a float32 and a float64 model differ.

    Raises
    ------
    AssertionError
        At the first difference, naming it (layer, array and index).
    TypeError
        When ``a`` or ``b`` is not an ``nnc.Sequential``.

    Examples
    --------
    >>> a = nnc.Sequential([nnc.Dense(2, input_dim=3)], seed=0)
    >>> b = nnc.Sequential([nnc.Dense(2, input_dim=3)], seed=0)
    >>> nnc.testing.assert_models_equal(a, b)       # same seed, same weights
    >>> c = nnc.Sequential([nnc.Dense(2, input_dim=3)], seed=1)
    >>> nnc.testing.assert_models_equal(a, c)       # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: models differ ...
    """
    for name, m in (("a", a), ("b", b)):
        if not isinstance(m, Sequential):
            raise TypeError(f"{name}: expected an nnc.Sequential, got {type(m).__name__}")
    rtol = check_float(rtol, "rtol", minimum=0.0)
    atol = check_float(atol, "atol", minimum=0.0)
    if check_dtype and a.dtype != b.dtype:
        raise AssertionError(f"models differ in dtype: {a.dtype} vs {b.dtype}")
    arch_a, arch_b = _architecture(a), _architecture(b)
    if arch_a["input_dim"] != arch_b["input_dim"]:
        raise AssertionError(
            f"models differ in input_dim: {arch_a['input_dim']} vs {arch_b['input_dim']}")
    if len(arch_a["layers"]) != len(arch_b["layers"]):
        raise AssertionError(f"models differ in number of layers: {len(arch_a['layers'])} vs "
                             f"{len(arch_b['layers'])}")
    for i, (la, lb) in enumerate(zip(arch_a["layers"], arch_b["layers"])):
        if la != lb:
            keys = sorted(k for k in set(la) | set(lb) if la.get(k) != lb.get(k))
            detail = ", ".join(f"{k}: {la.get(k)!r} vs {lb.get(k)!r}" for k in keys)
            raise AssertionError(f"models differ at layer {i} ({a.layers[i].name}): {detail}")
    if a.input_dim is None:
        return  # neither model is built: there are no weights yet
    wa, wb = a.get_weights(), b.get_weights()
    layout = a.parameter_layout
    kinds = [(layout.names[s.layer], s.kind) for s in layout.slices]
    for (lname, kind), xa, xb in zip(kinds, wa, wb):
        xa64, xb64 = xa.astype(np.float64), xb.astype(np.float64)
        bad = np.abs(xa64 - xb64) > atol + rtol * np.abs(xb64)
        if np.any(bad):
            pos = tuple(int(p) for p in np.argwhere(bad)[0])
            raise AssertionError(
                f"models differ in {lname}.{kind}{list(pos)}: {float(xa[pos])!r} vs "
                f"{float(xb[pos])!r} "
                f"({int(bad.sum())} of {bad.size} values differ; rtol={rtol:g}, atol={atol:g})")
