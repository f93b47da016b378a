"""predict runs the engine a chunk of rows at a time (nnc/_chunks.py):
bit for bit the result of one call, scratch memory that follows the chunk
rather than the data set, and a signal handler's exception that lands
within one chunk instead of at the end of the whole prediction (no chunk
begins after it; how long it takes is not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.measures import measured
from helpers.processes import PACKAGE_PARENT

import nnc
from nnc import _chunks


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_predict_equals_one_engine_call(dtype, threads):
    nnc.set_num_threads(threads)
    try:
        m = nnc.Sequential([nnc.Dense(300, activation="tanh"), nnc.Dense(7, activation="softmax")],
                           seed=4, dtype=dtype)
        m.build(50)
        rows = _chunks.rows_per_call(m.count_params(), None)
        x = np.random.default_rng(1).normal(size=(3 * rows + 17, 50)).astype(dtype)
        whole = m.engine.predict(x)  # one engine call on every row
        np.testing.assert_array_equal(m.predict(x), whole)
        np.testing.assert_array_equal(m.predict(x, batch_size=33), whole)
        np.testing.assert_array_equal(m.predict(x[:1]), whole[:1])
    finally:
        nnc.set_num_threads(1)


CHILD = textwrap.dedent("""
    import json, resource, signal, sys, time
    sys.path.insert(0, {parent!r})
    import numpy as np
    import nnc
    from nnc import _chunks

    m = nnc.Sequential([nnc.Dense(512, activation="tanh"), nnc.Dense(512, activation="tanh"),
                        nnc.Dense(10)], seed=1)
    m.build(200)
    x = np.random.default_rng(0).normal(size=(400_000, 200)).astype(np.float32)
    m.predict(x[:10])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m.predict(x[:50_000])
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before

    # Engine calls made, counted as they begin (C calls are profile events).
    calls = [0]
    def count(frame, event, arg):
        if event == "c_call" and getattr(arg, "__self__", None) is m.engine:
            calls[0] += 1
    raised = {{}}
    def handler(signum, frame):
        raised["calls"] = calls[0]
        raise TimeoutError("alarm")
    signal.signal(signal.SIGALRM, handler)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    sys.setprofile(count)
    try:
        m.predict(x)
        outcome = "returned"
    except TimeoutError:
        outcome = "TimeoutError"
    sys.setprofile(None)
    caught = time.monotonic()
    chunks = -(-len(x) // _chunks.rows_per_call(m.count_params(), None))
    print(json.dumps({{"outcome": outcome, "latency": caught - (start + 0.3),
                       "total": caught - start, "grown_kib": grown_kib, "chunks": chunks,
                       "calls_at_signal": raised.get("calls"), "calls": calls[0]}}))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_predict_is_interruptible_and_its_scratch_follows_the_chunk():
    out = subprocess.run([sys.executable, "-c", CHILD.format(parent=PACKAGE_PARENT)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    measured("predict interrupted by a SIGALRM handler: latency (ms)",
             f"{1000 * report['latency']:.1f} (whole prediction would take longer than "
             f"{report['total']:.2f} s)")
    measured("predict of 50,000 rows: peak RSS growth", f"{report['grown_kib'] / 1024:.1f} MiB")
    assert report["outcome"] == "TimeoutError"
    # The handler ran inside the prediction, and no chunk began after it.
    assert 0 < report["calls_at_signal"] == report["calls"] < report["chunks"], report
    # One call on 50,000 rows would hold 50,000 x 1034 activations (~200 MiB)
    # of scratch; chunks of about a thousand rows hold a few MiB.
    assert report["grown_kib"] < 40 * 1024


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_chunked_cost_equals_one_engine_call(l2):
    """evaluate, loss and the validation loss run the cost in chunks: the
    row-weighted mean of the chunks' J with the L2 term counted once."""
    m = nnc.Sequential([nnc.Dense(300, activation="tanh"), nnc.Dense(1)], seed=5,
                       dtype="float64")
    m.compile(optimizer="sgd", loss="mse", l2=l2)
    m.build(40)
    rows = _chunks.rows_per_call(m.count_params(), None)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2 * rows + 5, 40)), rng.normal(size=(2 * rows + 5, 1))
    sw = rng.uniform(0.5, 2.0, size=x.shape[0])
    whole = m.engine.loss(x, y, sw)  # one engine call
    assert m.loss(x, y, sw) == pytest.approx(whole, rel=1e-12)
    assert m.evaluate(x, y, sample_weight=sw, batch_size=97) == pytest.approx(whole, rel=1e-12)
