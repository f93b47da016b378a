"""HTML for notebooks: the ``_repr_html_`` of ``Sequential`` (its summary
table) and ``History`` (the last epoch's values and a small SVG curve of
the losses). Plain strings, no dependency."""

from __future__ import annotations

import math
from html import escape

_CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def table(caption: str, header, rows, footer: str = "") -> str:
    """An HTML table with a caption, a header row and text cells."""
    head = "".join(f"<th style='text-align:left'>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>"
                                    for c in row) + "</tr>" for row in rows)
    foot = f"<p>{escape(footer)}</p>" if footer else ""
    return (f"<div><b>{escape(caption)}</b><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{foot}</div>")


def curve_svg(series: dict, width: int = 260, height: int = 90) -> str:
    """An SVG with one polyline per {label: values} on shared axes (finite
    values only), with a legend; "" when nothing is drawable."""
    finite = {k: [(i, float(v)) for i, v in enumerate(vals) if math.isfinite(float(v))]
              for k, vals in series.items()}
    finite = {k: pts for k, pts in finite.items() if pts}
    if not finite:
        return ""
    n = max(len(v) for v in series.values())
    ys = [y for pts in finite.values() for _, y in pts]
    lo, hi = min(ys), max(ys)
    span, pad = (hi - lo) or 1.0, 6

    def point(i: int, y: float) -> str:
        px = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)
        py = pad + (height - 2 * pad) * (1 - (y - lo) / span)
        return f"{px:.1f},{py:.1f}"

    lines, legend = [], []
    for (label, pts), colour in zip(finite.items(), _CURVE_COLOURS * 8):
        lines.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' "
                     f"points='{' '.join(point(i, y) for i, y in pts)}'/>")
        legend.append(f"<span style='color:{colour}'>&#9644; {escape(label)}</span>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"style='border:1px solid #ccc'>{''.join(lines)}</svg>"
            f"<div style='font-size:small'>{' '.join(legend)} "
            f"(epochs 1-{n}, {lo:.4g} to {hi:.4g})</div>")


def history(logs: dict, epochs: list) -> str:
    """A History: its last epoch's values and the curves of its losses."""
    if not epochs:
        return "<div>History: no epochs</div>"
    rows = [(key, f"{values[-1]:.6g}") for key, values in logs.items() if values]
    losses = {k: v for k, v in logs.items() if k.endswith("loss")}
    return (table(f"History: {len(epochs)} epochs (last: epoch {epochs[-1] + 1})",
                  ("", "last value"), rows) + curve_svg(losses))
