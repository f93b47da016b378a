"""Running the engine's forward pass and cost on row chunks.

One engine call on millions of rows cannot be interrupted (signal handlers
run only when it returns) and leaves scratch memory sized for all of them
in the model. Predictions are therefore made ``rows_per_call`` rows at a
time: each call does about ``FLOPS_PER_CALL`` of work (a few milliseconds),
so Ctrl-C or a handler's exception lands within one call, and scratch
memory follows the chunk. Rows are independent in the forward pass, so a
prediction is bit for bit the one of a single call; a cost is the chunks'
row-weighted mean with the L2 term counted once, equal to one call's up to
rounding (tests/api/test_predict_chunks.py; docs/design.md "Chunked
inference").
"""

from __future__ import annotations

import numpy as np

#: Work per engine call: ~5 ms at 100 GFLOP/s.
FLOPS_PER_CALL = 1 << 29
MIN_ROWS = 256


def rows_per_call(n_params: int, batch_size: int | None) -> int:
    """`batch_size` when given, else enough rows for FLOPS_PER_CALL."""
    if batch_size is not None:
        return batch_size
    return max(MIN_ROWS, FLOPS_PER_CALL // max(1, 2 * n_params))


def predict(engine, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
    """``engine.predict(x)`` for engine-ready `x`, a chunk of rows per call."""
    rows = rows_per_call(engine.num_params, batch_size)
    n = x.shape[0]
    if n <= rows:
        return engine.predict(x)
    first = engine.predict(x[:rows])
    out = np.empty((n, first.shape[1]), dtype=first.dtype)
    out[:rows] = first
    for start in range(rows, n, rows):
        out[start:start + rows] = engine.predict(x[start:start + rows])
    return out


def l2_penalty(model) -> float:
    """lambda/2 * sum of the squared kernel weights: the L2 term of J times
    m, which every chunk's J holds once (docs/architecture.md, Losses)."""
    l2 = (model.get_compile_config() or {}).get("l2", 0.0)
    if not l2:
        return 0.0
    flat = model.get_flat_params().astype(np.float64)
    squares = sum(float(np.dot(flat[s.offset:s.stop], flat[s.offset:s.stop]))
                  for s in model.parameter_layout.slices if s.kind == "W")
    return l2 / 2.0 * squares


def loss(model, x: np.ndarray, y: np.ndarray, sample_weight=None,
         batch_size: int | None = None) -> float:
    """J of engine-ready (x, y, sample_weight), a chunk of rows per call:
    J = (sum_c m_c J_c - (chunks - 1) * l2_penalty) / m."""
    engine = model.engine
    rows = rows_per_call(engine.num_params, batch_size)
    n = x.shape[0]
    if n <= rows:
        return engine.loss(x, y, sample_weight)
    total, chunks = 0.0, 0
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        sw = None if sample_weight is None else sample_weight[start:stop]
        total += (stop - start) * engine.loss(x[start:stop], y[start:stop], sw)
        chunks += 1
    return (total - (chunks - 1) * l2_penalty(model)) / n
