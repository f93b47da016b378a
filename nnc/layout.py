"""Where each layer's parameters sit in the engine's flat parameter vector.

The engine keeps every parameter in one buffer (docs/architecture.md,
Notation and parameter layout): per Dense layer W (fan_in, units) row-major,
then b, then the PReLU slopes. ``model.parameter_layout`` describes that
buffer as the engine reports it, so that gradient checks, norms, labels and
``get_weights`` read slices instead of re-deriving offsets.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class ParameterSlice(NamedTuple):
    """One array of one Dense layer inside the flat parameter vector."""

    layer: int      # index among the model's Dense layers
    kind: str       # "W", "b" or "slope"
    offset: int     # first element in the flat vector
    shape: tuple    # (fan_in, units) for W, (units,) otherwise

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def stop(self) -> int:
        return self.offset + self.size


class ParameterLayout:
    """The slices of a built model's flat parameters, layer by layer.

    The flat vector is the notes' unrolled θ in nnc's order: per Dense
    layer, ``W`` row-major, then ``b``, then the PReLU slopes (the maths page,
    "Notation and parameter layout"). ``Sequential.parameter_layout`` is the
    model's instance.

    Parameters
    ----------
    engine_layout : sequence of tuple
        The engine's ``(fan_in, units, w_offset, b_offset, slope_offset)``
        per Dense layer (``_core.Model.layout()``; -1 marks an array the
        layer does not have).
    names : sequence of str
        The Dense layers' names.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(3, activation="prelu", input_dim=2),
    ...                         nnc.Dense(1, use_bias=False)], seed=0)
    >>> layout = model.parameter_layout
    >>> [(s.kind, s.offset, s.shape) for s in layout.slices]
    [('W', 0, (2, 3)), ('b', 6, (3,)), ('slope', 9, (3,)), ('W', 12, (3, 1))]
    >>> layout.total == model.count_params(), layout.label(7)
    (True, (0, 'b[1]'))
    """

    def __init__(self, engine_layout, names):
        self.names = list(names)
        self.layers: list[list[ParameterSlice]] = []
        for index, (fan_in, units, w_off, b_off, s_off) in enumerate(engine_layout):
            slices = [ParameterSlice(index, "W", w_off, (fan_in, units))]
            if b_off >= 0:
                slices.append(ParameterSlice(index, "b", b_off, (units,)))
            if s_off >= 0:
                slices.append(ParameterSlice(index, "slope", s_off, (units,)))
            self.layers.append(slices)
        self.slices = [s for layer in self.layers for s in layer]
        self.total = sum(s.size for s in self.slices)

    def layer_count(self, layer: int) -> int:
        """Number of parameters of Dense layer `layer`."""
        return sum(s.size for s in self.layers[layer])

    def layer_indices(self, layer: int) -> np.ndarray:
        """Flat indices of Dense layer `layer`'s parameters, in order."""
        return np.concatenate([np.arange(s.offset, s.stop) for s in self.layers[layer]])

    def split(self, flat: np.ndarray, layer: int | None = None) -> list[np.ndarray]:
        """Copies of the arrays of `flat` (one layer's, or all), shaped as
        ``get_weights`` returns them."""
        slices = self.slices if layer is None else self.layers[layer]
        return [flat[s.offset:s.stop].reshape(s.shape).copy() for s in slices]

    def label(self, flat_index: int) -> tuple[int, str]:
        """(Dense layer index, "W[i, j]" / "b[j]" / "slope[j]") of a flat index."""
        for s in self.slices:
            if s.offset <= flat_index < s.stop:
                position = np.unravel_index(flat_index - s.offset, s.shape)
                return s.layer, f"{s.kind}[{', '.join(str(int(p)) for p in position)}]"
        raise IndexError(flat_index)

    def layer_norms(self, flat: np.ndarray) -> list[float]:
        """Euclidean norm of each Dense layer's part of a flat vector (in
        float64), e.g. of a gradient."""
        norms = []
        for layer in self.layers:
            total = 0.0
            for s in layer:
                part = flat[s.offset:s.stop].astype(np.float64)
                total += float(part @ part)
            norms.append(math.sqrt(total))
        return norms
