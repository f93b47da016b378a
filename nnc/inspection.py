"""Looking inside a network: every layer's z and a for a batch, and
per-layer summaries of them (saturation, dead units, activation histograms
under different initializations: docs/architecture.md, The lecture notes in
the code). ``nnc.inspect`` is this module under its former name.

``Sequential.trace`` and ``Sequential.activation_stats`` call these. The
forward pass runs in the engine in one call, in inference mode (no
dropout); weights, optimizer state and the RNG are left untouched.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import Dense

#: Activations whose outputs are bounded, with their (low, high) bounds.
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
#: An output within this distance of a bound counts as saturated.
SATURATION_MARGIN = 0.01


class LayerTrace(NamedTuple):
    """One Dense layer of a trace: z = a_prev . W + b and a = g(z), both
    (n_samples, units) arrays of the model's dtype."""

    name: str
    activation: str
    z: np.ndarray
    a: np.ndarray


def trace(model, x) -> list[LayerTrace]:
    """Every Dense layer's pre-activations and activations on a batch.

    One engine call runs the network in inference mode (Dropout is the
    identity) and hands back ``z = a_prev @ W + b`` and ``a = g(z)`` of each
    Dense layer; no weight, optimizer state or RNG state changes. The last
    layer's ``a`` equals ``model.predict(x)`` bit for bit.

    Parameters
    ----------
    model : nnc.Sequential
        A built model.
    x : array_like
        The batch, ``(n_samples, input_dim)``.

    Returns
    -------
    list of LayerTrace
        One ``(name, activation, z, a)`` per Dense layer, ``z`` and ``a`` of
        shape ``(n_samples, units)``.

    Raises
    ------
    ValueError
        For input of the wrong width or with NaN or infinity.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(3, activation="relu", input_dim=2),
    ...                         nnc.Dense(1, activation="sigmoid")], seed=0)
    >>> x = np.array([[0.5, -1.0], [2.0, 1.0]])
    >>> layers = nnc.inspection.trace(model, x)
    >>> [(t.name, t.activation, t.a.shape) for t in layers]
    [('dense_1', 'relu', (2, 3)), ('dense_2', 'sigmoid', (2, 1))]
    >>> bool((layers[-1].a == model.predict(x)).all())
    True
    """
    xs = model.engine_features(x, allow_empty=True)
    pairs = model.engine.trace(xs)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    return [LayerTrace(layer.name, layer.activation, z, a) for layer, (z, a) in zip(dense, pairs)]


def _histogram_range(activation: str, a: np.ndarray) -> tuple[float, float]:
    if activation in SATURATING:
        return SATURATING[activation]
    if activation in ("softmax", "step"):
        return 0.0, 1.0
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:  # a constant layer (e.g. zero weights): one visible bin
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def layer_stats(layer: LayerTrace, bins: int = 30) -> dict:
    """Summary of one traced layer (see ``activation_stats``)."""
    a = layer.a.astype(np.float64, copy=False)
    stats = {
        "name": layer.name,
        "activation": layer.activation,
        "units": int(a.shape[1]),
        "mean": float(a.mean()),
        "std": float(a.std()),
        "z_mean": float(layer.z.mean()),
        "z_std": float(layer.z.astype(np.float64, copy=False).std()),
        "saturated": float("nan"),
        "dead": float("nan"),
    }
    if layer.activation in SATURATING:
        lo, hi = SATURATING[layer.activation]
        near = (a <= lo + SATURATION_MARGIN) | (a >= hi - SATURATION_MARGIN)
        stats["saturated"] = float(near.mean())
    if layer.activation == "relu":
        # A dead unit outputs 0 for every sample of the batch: no gradient
        # reaches its weights.
        stats["dead"] = float(np.all(a <= 0.0, axis=0).mean())
    counts, edges = np.histogram(a, bins=bins, range=_histogram_range(layer.activation, a))
    stats["hist_counts"] = counts
    stats["hist_edges"] = edges
    return stats


def activation_stats(model, x, bins: int = 30) -> list[dict]:
    """Per Dense layer, a dict summarising its activations on ``x``:

    - ``mean``, ``std`` of a (over samples and units); ``z_mean``, ``z_std``
      of the pre-activations;
    - ``saturated``: fraction of sigmoid/tanh outputs within 0.01 of their
      bounds (0 or 1; -1 or 1); NaN for other activations;
    - ``dead``: fraction of ReLU units whose output is 0 for every sample;
      NaN for other activations;
    - ``hist_counts``, ``hist_edges``: ``np.histogram`` of a with ``bins``
      bins over the activation's range ([0, 1] sigmoid/softmax, [-1, 1]
      tanh, else the data's min..max).

    ``pandas.DataFrame(model.activation_stats(x))`` gives a table.
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins: expected an integer >= 1, got {bins!r}")
    layers = trace(model, x)
    if layers and layers[0].a.shape[0] == 0:
        raise ValueError("x: expected at least one sample to summarise, got 0 rows")
    return [layer_stats(layer, int(bins)) for layer in layers]


def format_stats(stats: list[dict]) -> str:
    """A fixed-width text table of ``activation_stats`` output."""
    header = f"{'layer':<12}{'activation':<12}{'units':>6}{'mean':>10}{'std':>10}" \
             f"{'saturated':>11}{'dead':>8}"
    lines = [header, "-" * len(header)]
    for s in stats:
        sat = "-" if np.isnan(s["saturated"]) else f"{s['saturated']:.3f}"
        dead = "-" if np.isnan(s["dead"]) else f"{s['dead']:.3f}"
        lines.append(f"{s['name']:<12}{s['activation']:<12}{s['units']:>6}{s['mean']:>10.4f}"
                     f"{s['std']:>10.4f}{sat:>11}{dead:>8}")
    return "\n".join(lines)
