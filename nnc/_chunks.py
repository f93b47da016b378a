"""Running the engine's forward pass on row chunks.

One engine call on millions of rows cannot be interrupted (signal handlers
run only when it returns) and leaves scratch memory sized for all of them
in the model. Predictions are therefore made ``rows_per_call`` rows at a
time: each call does about ``FLOPS_PER_CALL`` of work (a few milliseconds),
so Ctrl-C or a handler's exception lands within one call, and scratch
memory follows the chunk. Rows are independent in the forward pass, so the
result is bit for bit the one of a single call (tests/api/
test_predict_chunks.py; docs/design.md "Chunked inference").
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
