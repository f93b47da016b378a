"""Exceptions raised by a signal handler during fit propagate (README
"What nnc guarantees"): a SIGALRM handler's TimeoutError (the built-in that
concurrent.futures also uses for its own timeouts) is not swallowed, a
SIGTERM handler's SystemExit does not wait for the epoch to end, and the
model keeps the weights of its last completed step with a truthful
history. Each case runs in a subprocess whose fit would run for minutes if
the exception were lost, so a regression shows as the test's timeout."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from helpers.processes import PACKAGE_PARENT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent("""
    import json, os, signal, sys, threading
    sys.path.insert(0, {parent!r})
    import numpy as np
    import nnc

    class UserStop(Exception):
        pass

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8192, 32)).astype(np.float32)
    y = rng.normal(size=(8192, 4)).astype(np.float32)
    m = nnc.Sequential([nnc.Dense(256, activation="tanh"), nnc.Dense(4)], seed=1)
    m.compile(optimizer="adam", loss="mse")
    m.build(32)
    kind = {kind!r}

    def handler(signum, frame):
        if kind == "timeout":
            raise TimeoutError("alarm")
        if kind == "exit":
            sys.exit(7)
        raise UserStop("user")

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.7)
    try:
        m.fit(x, y, epochs=100_000, batch_size=32, verbose=0)
        outcome = "returned"
    except TimeoutError:
        outcome = "TimeoutError"
    except UserStop:
        outcome = "UserStop"
    history = m.history.history
    print(json.dumps({{"outcome": outcome,
                       "finite": bool(np.isfinite(m.get_flat_params()).all()),
                       "history_ok": len(set(len(v) for v in history.values())) <= 1,
                       "trains_again": bool(np.isfinite(
                           m.fit(x[:64], y[:64], epochs=1, verbose=0).history["loss"][0]))}}))
""")


def run(kind: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD.format(parent=PACKAGE_PARENT, kind=kind)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind, outcome", [("timeout", "TimeoutError"), ("user", "UserStop")])
def test_a_handlers_exception_propagates_out_of_fit(kind, outcome):
    out = run(kind)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report == {"outcome": outcome, "finite": True, "history_ok": True,
                      "trains_again": True}


def test_sys_exit_in_a_handler_ends_the_process_during_fit():
    out = run("exit")
    assert out.returncode == 7, out.stdout + out.stderr
    assert out.stdout == ""
