"""Figures for training curves, activations, gradient norms and decision
boundaries. matplotlib is optional: importing ``nnc.plot`` works without
it, and each function then raises an ImportError that says how to get it.

Every function returns a ``matplotlib.figure.Figure`` made without pyplot,
so that a notebook shows it exactly once (as the cell's value) instead of a
second time from pyplot's list of open figures (docs/design.md, Figures in
notebooks); save it with ``fig.savefig("name.png")``; nothing needs
closing. For a pyplot window, draw into your own axes where a function
takes ``ax=`` (``history``, ``decision_boundary``).
"""

from __future__ import annotations

import io
import sys

import numpy as np

from ._docs import with_sections

#: What every plot returns and raises (``{{figure}}``).
_FIGURE = """
Returns
-------
matplotlib.figure.Figure
    Made outside pyplot's state (shown once in a notebook).

Raises
------
ImportError
    When matplotlib is not installed (``pip install 'nnc[plot]'``).
"""

#: Log keys that are not training curves (plotted by gradient_norms).
_NORM_PREFIXES = ("grad_norm/", "weight_norm/")


def new_figure(ncols: int = 1, figsize=(5.0, 4.0), **subplots):
    """(Figure, 1 x ncols array of Axes) outside pyplot's state."""
    try:
        import matplotlib  # noqa: F401 - fails first when matplotlib is absent
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("nnc.plot needs matplotlib, which is not installed: "
                          "pip install matplotlib") from exc
    _register_notebook_display()
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(1, ncols, squeeze=False, **subplots)


def _register_notebook_display() -> None:
    """In a Jupyter kernel, show a returned Figure as a PNG image. The
    kernel's inline backend registers that formatter only once pyplot has
    loaded it, and these figures never touch pyplot."""
    from .progress import in_notebook

    if not in_notebook():
        return
    from matplotlib.figure import Figure

    shell = sys.modules["IPython"].get_ipython()
    png = shell.display_formatter.formatters["image/png"]
    if Figure not in png.type_printers:
        png.for_type(Figure, _figure_png)


def _figure_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _history_dict(h) -> tuple[dict, list]:
    """(history dict, epoch numbers starting at 1) of a History or a dict."""
    if hasattr(h, "history") and hasattr(h, "epoch"):  # a History (not imported: it plots)
        logs, epochs = h.history, list(h.epoch)
    elif isinstance(h, dict):
        logs, epochs = h, []
    else:
        raise TypeError(f"h: expected an nnc History (what fit returns) or its .history dict, "
                        f"got {type(h).__name__}")
    length = max((len(v) for v in logs.values()), default=0)
    if len(epochs) != length:
        epochs = list(range(length))
    return logs, [e + 1 for e in epochs]


@with_sections(figure=_FIGURE)
def history(h, keys=None, ax=None):
    """Training curves per epoch: losses (``loss``, ``val_loss``, ...) on one
    axis, the other metrics on a second one and the learning rate on a third.

    Parameters
    ----------
    h : nnc.callbacks.History or dict
        ``model.fit``'s result, or its ``.history`` dict.
    keys : str or list of str, optional
        Restricts the curves.
    ax : matplotlib.axes.Axes, optional
        Draw every curve into this Axes instead.

    {{figure}}
    """
    logs, epochs = _history_dict(h)
    if keys is None:
        keys = [k for k in logs if not k.startswith(_NORM_PREFIXES)]
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        missing = [k for k in keys if k not in logs]
        if missing:
            raise ValueError(f"keys: {missing} not recorded (available: {sorted(logs)})")
    if not keys:
        raise ValueError("h: nothing recorded to plot")
    loss_keys = [k for k in keys if k.endswith("loss")]
    rate_keys = [k for k in keys if k == "learning_rate"]
    metric_keys = [k for k in keys if k not in loss_keys and k not in rate_keys]
    groups = [(g, label) for g, label in ((loss_keys, "loss"), (metric_keys, "metric"),
                                           (rate_keys, "learning rate")) if g]
    if ax is not None:
        fig, targets = ax.figure, [ax] * len(groups)
    else:
        fig, axes = new_figure(len(groups), figsize=(5.5 * len(groups), 4))
        targets = list(axes[0])
    for axis, (group, label) in zip(targets, groups):
        for key in group:
            values = logs[key]
            axis.plot(epochs[len(epochs) - len(values):], values, label=key)
        axis.set_xlabel("epoch")
        if ax is None:
            axis.set_ylabel(label)
        axis.legend()
    if ax is None:
        fig.tight_layout()
    return fig


@with_sections(figure=_FIGURE)
def activation_histograms(model, x, bins: int = 30, title: str | None = None):
    """One histogram per Dense layer of its activations on ``x`` (the
    figures 6.15-6.17 of lecture note 000), with mean, std and the fraction of
    saturated outputs (sigmoid/tanh) or dead units (ReLU) in each title.

    Parameters
    ----------
    model : nnc.Sequential
        A built model (inference mode: nothing changes).
    x : array-like of shape (n_samples, n_features)
        The inputs.
    bins : int, default 30
        Histogram bins.
    title : str, optional
        A title for the whole figure.

    {{figure}}
    """
    stats = model.activation_stats(x, bins=bins)
    fig, axes = new_figure(len(stats), figsize=(2.6 * len(stats) + 0.6, 2.8), sharey=True)
    for axis, s in zip(axes[0], stats):
        edges, counts = s["hist_edges"], s["hist_counts"]
        axis.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:blue")
        extra = ""
        if not np.isnan(s["saturated"]):
            extra = f"\nsaturated {s['saturated']:.0%}"
        elif not np.isnan(s["dead"]):
            extra = f"\ndead {s['dead']:.0%}"
        axis.set_title(f"{s['name']} ({s['activation']})\nstd {s['std']:.3g}{extra}",
                       fontsize=8)
        axis.set_xlabel("activation", fontsize=8)
        axis.tick_params(labelsize=7)
    axes[0][0].set_ylabel("count", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@with_sections(figure=_FIGURE)
def gradient_norms(h, log_scale: bool = True, weights: bool = False):
    """Per-layer gradient norms per epoch, as recorded by
    ``nnc.callbacks.GradientStats`` (``grad_norm/<layer>``).

    Parameters
    ----------
    h : nnc.callbacks.History or dict
        A history recorded with ``callbacks=[nnc.callbacks.GradientStats()]``.
    log_scale : bool, default True
        A logarithmic y axis.
    weights : bool, default False
        Also the weight norms, on a second axis.

    {{figure}}
    ValueError
        When the history has no ``grad_norm/`` entries.
    """
    logs, epochs = _history_dict(h)
    grad_keys = [k for k in logs if k.startswith("grad_norm/")]
    if not grad_keys:
        raise ValueError("h: no grad_norm/<layer> entries; train with "
                         "callbacks=[nnc.callbacks.GradientStats()]")
    panels = [("grad_norm/", "gradient norm")]
    if weights:
        panels.append(("weight_norm/", "weight norm"))
    fig, axes = new_figure(len(panels), figsize=(5.5 * len(panels), 4))
    for axis, (prefix, label) in zip(axes[0], panels):
        for key in (k for k in logs if k.startswith(prefix)):
            values = np.asarray(logs[key], dtype=np.float64)
            axis.plot(epochs[len(epochs) - len(values):], values, label=key[len(prefix):])
        if log_scale:
            axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.legend(fontsize=8)
    fig.tight_layout()
    return fig


@with_sections(figure=_FIGURE)
def decision_boundary(model, x, y, resolution: int = 200, ax=None):
    """Predicted class over the plane of a model with 2 inputs, with the
    samples coloured by their label. One sigmoid output is thresholded at
    0.5; a wider output takes the argmax; a regression output is shown as
    is.

    Parameters
    ----------
    model : nnc.Sequential
        A built model with ``input_dim == 2``.
    x : array-like of shape (n_samples, 2)
        The samples.
    y : array-like
        Their labels: class indices, one-hot rows or 0/1 targets.
    resolution : int, default 200
        Grid points per axis.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes.

    {{figure}}
    ValueError
        For a model without 2 inputs.
    """
    if model.input_dim != 2:
        raise ValueError(f"model: decision_boundary needs a model with 2 inputs, "
                         f"got input_dim={model.input_dim}")
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != 2 or xs.shape[0] == 0:
        raise ValueError(f"x: expected an (n_samples, 2) array, got shape {xs.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or resolution < 2:
        raise ValueError(f"resolution: expected an integer >= 2, got {resolution!r}")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=1)
    labels = labels.reshape(-1)
    if labels.shape[0] != xs.shape[0]:
        raise ValueError(f"y: expected {xs.shape[0]} labels, got {labels.shape[0]}")
    pad = 0.1 * (xs.max(axis=0) - xs.min(axis=0)) + 1e-9
    lo, hi = xs.min(axis=0) - pad, xs.max(axis=0) + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    out = model.predict(np.column_stack([g0.ravel(), g1.ravel()]))
    if out.shape[1] > 1:
        surface = np.argmax(out, axis=1)
    elif model.layers[-1].activation in ("sigmoid", "step"):
        surface = (out[:, 0] >= 0.5).astype(np.int64)
    else:
        surface = out[:, 0]
    if ax is None:
        fig, axes = new_figure(1, figsize=(5, 4.5))
        ax = axes[0][0]
    else:
        fig = ax.figure
    ax.contourf(g0, g1, surface.reshape(g0.shape), alpha=0.35, cmap="coolwarm")
    ax.scatter(xs[:, 0], xs[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=18)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return fig
