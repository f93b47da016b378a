"""L-BFGS within bounds (docs/design.md "L-BFGS limits"): a non-finite
start stops the step at once instead of spending max_iter iterations on
NaN, and a history that could not fit in this process's memory is refused
as a total before anything is allocated, leaving the model usable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.processes import PACKAGE_PARENT

import nnc

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 4))
Y = RNG.normal(size=(64, 1))


def run(code: str, timeout=120) -> subprocess.CompletedProcess:
    script = f"import sys\nsys.path.insert(0, {PACKAGE_PARENT!r})\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_non_finite_start_stops_the_step_at_once(line_search):
    """max_iter = 10**9 iterations of NaN would take hours; the step must
    come back with the non-finite status (here within the timeout)."""
    out = run(f"""
        import warnings
        import numpy as np, nnc
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(64, 4)), rng.normal(size=(64, 1))
        m = nnc.Sequential([nnc.Dense(8, activation="relu"), nnc.Dense(1)], dtype="float64")
        m.compile(optimizer=nnc.optimizers.LBFGS(max_iter=10**9, line_search_fn={line_search!r}),
                  loss="mse")
        m.build(4)
        m.set_flat_params(np.full(m.count_params(), 1e200))   # outputs ~1e203: loss inf
        before = m.get_flat_params().copy()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.fit(x, y, epochs=1, verbose=0)
        print("warned", any("non-finite" in str(w.message) or "inf" in str(w.message)
                            for w in caught))
        print("unchanged", np.array_equal(m.get_flat_params(), before))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["warned", "True", "unchanged", "True"], out.stdout


def test_a_history_that_cannot_fit_is_refused_as_a_total():
    """10**7 pairs of 2 x 10k float64 vectors is 1.6 TB: each 160 kB slot
    alone would be allowed, the total is not. Refused before the step with
    MemoryError, the model trains afterwards with a sane history."""
    m = nnc.Sequential([nnc.Dense(2500, activation="tanh"), nnc.Dense(1)], dtype="float64",
                       seed=1)
    m.compile(optimizer=nnc.optimizers.LBFGS(history_size=10**7, max_iter=10**7), loss="mse")
    m.build(4)
    before = m.get_flat_params().copy()
    with pytest.raises(MemoryError, match="L-BFGS history.*exceed"):
        m.fit(X, Y, epochs=1, verbose=0)
    np.testing.assert_array_equal(m.get_flat_params(), before)
    m.compile(optimizer=nnc.optimizers.LBFGS(max_iter=5), loss="mse")
    m.fit(X, Y, epochs=1, verbose=0)
    assert np.isfinite(m.loss(X, Y))


def test_memory_limits_follow_the_address_space_limit():
    """Under ulimit -v the engine's ceiling is the limit, not the machine's
    RAM: an optimizer state that would not fit beside the parameters and
    gradient is refused as a total, with a message naming the limit, and the
    model stays usable."""
    out = run("""
        import resource
        import nnc
        resource.setrlimit(resource.RLIMIT_AS, (1900 << 20, 1900 << 20))
        m = nnc.Sequential([nnc.Dense(1000, input_dim=100000)], dtype="float32")
        m.build(100000)   # 400 MB of parameters, 400 MB of gradient
        try:
            m.compile(optimizer=nnc.optimizers.Adam(amsgrad=True), loss="mse")  # +1.2 GB
            print("compiled")
        except MemoryError as exc:
            print("refused", "this process may use" in str(exc))
        m.compile(optimizer="sgd", loss="mse")
        print("sgd", m.engine.compiled)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["refused", "True", "sgd", "True"], out.stdout
