"""nnc.testing (assert_gradients_close, assert_models_equal) and the pytest
plugin that hands them to users' suites."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.paths import REPO as ROOT
from helpers.processes import PACKAGE_PARENT

import nnc
from nnc.testing import assert_gradients_close, assert_models_equal


def small_model(dtype, act="tanh", loss="mse", seed=0):
    out = {"mse": "linear", "binary_crossentropy": "sigmoid",
           "sparse_categorical_crossentropy": "softmax"}[loss]
    model = nnc.Sequential([nnc.Dense(5, activation=act, input_dim=3),
                            nnc.Dense(4, activation="prelu", use_bias=False),
                            nnc.Dense(2, activation=out)], dtype=dtype, seed=seed)
    model.compile(optimizer="adam", loss=loss, l2=0.01)
    return model


def data(loss, m=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, 3))
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, 2, m)
    if loss == "binary_crossentropy":
        return x, rng.integers(0, 2, (m, 2)).astype(float)
    return x, rng.normal(size=(m, 2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act,loss", [("tanh", "mse"), ("sigmoid", "binary_crossentropy"),
                                      ("elu", "sparse_categorical_crossentropy")])
def test_assert_gradients_close_passes_on_correct_gradients(dtype, act, loss):
    model = small_model(dtype, act, loss)
    x, y = data(loss)
    before = model.get_flat_params().tobytes()
    result = assert_gradients_close(model, x, y, rtol=1e-7)
    # Checked in float64 even for a float32 model, to 1e-7 relative error.
    assert result["analytic"].dtype == np.float64 and result["relative_error"] < 1e-7
    assert model.get_flat_params().tobytes() == before


def test_assert_gradients_close_reports_the_broken_parameter(monkeypatch):
    """A wrong analytic gradient in one parameter is reported with its
    layer, its index, both values and the relative errors."""
    model = small_model("float32")
    x, y = data("mse")
    real = nnc.testing._run_gradcheck
    # Flat index of W[2, 1] in layer dense_2 (W of dense_2 follows dense_1's W and b).
    broken = 3 * 5 + 5 + 2 * 4 + 1

    def buggy(*args, **kwargs):
        result = real(*args, **kwargs)
        result["analytic"] = result["analytic"].copy()
        result["analytic"][broken] += 0.5
        return result

    monkeypatch.setattr(nnc.testing, "_run_gradcheck", buggy)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(model, x, y)
    message = str(info.value)
    assert "in layer(s) dense_2 " in message
    line = next(ln for ln in message.splitlines() if ln.strip().startswith("dense_2"))
    assert f"W[2, 1] (#{broken})" in line and line.rstrip().endswith("FAIL")
    numbers = [float(v) for v in re.findall(r"-?\d\.\d+e[+-]\d+", line)]
    rel_layer, analytic, numeric, rel_param = numbers
    assert analytic - numeric == pytest.approx(0.5, abs=1e-6)
    assert rel_param == pytest.approx(0.5 / (abs(analytic) + abs(numeric)), rel=1e-2)
    for name in ("dense_1", "dense_3"):
        other = next(ln for ln in message.splitlines() if ln.strip().startswith(name))
        assert other.rstrip().endswith("ok")


def test_assert_gradients_close_tolerances():
    model = small_model("float64")
    x, y = data("mse")
    # Finite differences are never exact: an impossible rtol fails every layer...
    with pytest.raises(AssertionError, match="dense_1, dense_2, dense_3"):
        assert_gradients_close(model, x, y, rtol=1e-300, atol=0.0)
    # ...and atol is the floor for tiny gradients.
    assert_gradients_close(model, x, y, rtol=1e-300, atol=1e-6)
    with pytest.raises(ValueError, match="rtol"):
        assert_gradients_close(model, x, y, rtol=-1.0)
    with pytest.raises(RuntimeError, match="compile"):
        assert_gradients_close(nnc.Sequential([nnc.Dense(1, input_dim=3)]), x, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_assert_models_equal(dtype, tmp_path):
    a = small_model(dtype)
    x, y = data("mse")
    a.fit(x, y, epochs=2, verbose=0)
    a.save(tmp_path / "m.npz")
    b = nnc.load_model(tmp_path / "m.npz")
    assert_models_equal(a, b)

    w = b.get_weights()
    w[2][1, 3] += 1e-3
    b.set_weights(w)
    with pytest.raises(AssertionError, match=r"dense_2\.W\[1, 3\]"):
        assert_models_equal(a, b)
    assert_models_equal(a, b, atol=2e-3)

    other_dtype = "float64" if dtype == "float32" else "float32"
    c = small_model(other_dtype)
    c.set_weights(a.get_weights())
    with pytest.raises(AssertionError, match="dtype"):
        assert_models_equal(a, c)
    assert_models_equal(a, c, check_dtype=False, rtol=1e-6)

    d = nnc.Sequential([nnc.Dense(5, activation="relu", input_dim=3),
                        nnc.Dense(4, activation="prelu", use_bias=False),
                        nnc.Dense(2)], dtype=dtype, seed=0)
    with pytest.raises(AssertionError, match="layer 0 .*activation: 'tanh' vs 'relu'"):
        assert_models_equal(a, d)
    e = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=4)], dtype=dtype)
    with pytest.raises(AssertionError, match="input_dim"):
        assert_models_equal(a, e)
    with pytest.raises(TypeError, match="b: expected an nnc.Sequential"):
        assert_models_equal(a, "model")


# ----------------------------------------------------------------- the plugin

#: The README's example test, verbatim (between the markers).
README_EXAMPLE = re.compile(r"<!-- plugin-example -->\s*```python\n(.*?)```", re.S)

FAILING_TEST = textwrap.dedent("""
    import numpy as np
    import nnc

    def test_models_differ(nnc_assert_models_equal):
        a = nnc.Sequential([nnc.Dense(2, input_dim=2)], seed=0)
        b = nnc.Sequential([nnc.Dense(2, input_dim=2)], seed=1)
        nnc_assert_models_equal(a, b)

    def test_rng_is_reproducible(nnc_rng, request):
        import zlib
        expected = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
        assert nnc_rng.integers(0, 2**31) == expected.integers(0, 2**31)
""")


def run_pytest(tmp_path, env_extra, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, str(tmp_path / "suite")], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)


@pytest.fixture
def user_suite(tmp_path):
    readme = (ROOT / "README.md").read_text()
    match = README_EXAMPLE.search(readme)
    assert match, "README.md lost its plugin example"
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_readme_example.py").write_text(match.group(1))
    (suite / "test_more.py").write_text(FAILING_TEST)
    return tmp_path


def check_outcome(run):
    out = run.stdout + run.stderr
    # The README test and the rng test pass; models_equal fails with its report.
    assert "1 failed, 3 passed" in out, out
    assert "models differ in dense_1.W[0, 0]" in out, out


def test_plugin_is_found_through_the_installed_entry_point(user_suite):
    """Generate nnc's installed metadata from pyproject.toml (setuptools'
    dist_info, what pip writes into site-packages) and let pytest discover
    the pytest11 entry point by itself: no -p, no conftest."""
    meta = user_suite / "site"
    meta.mkdir()
    gen = subprocess.run([sys.executable, "setup.py", "-q", "dist_info", "-o", str(meta)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr
    (entry_points,) = meta.glob("nnc-*.dist-info/entry_points.txt")
    assert "[pytest11]" in entry_points.read_text()
    pythonpath = os.pathsep.join([PACKAGE_PARENT, str(meta)])
    run = run_pytest(user_suite, {"PYTHONPATH": pythonpath})
    check_outcome(run)
    # Switching entry-point plugins off makes the fixtures disappear.
    run = run_pytest(user_suite, {"PYTHONPATH": pythonpath,
                                  "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert "fixture 'nnc_gradcheck' not found" in run.stdout, run.stdout


def test_plugin_loads_explicitly(user_suite):
    run = run_pytest(user_suite, {"PYTHONPATH": PACKAGE_PARENT,
                                  "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, "-p", "nnc.pytest_plugin")
    check_outcome(run)


def installed_metadata(user_suite):
    """PYTHONPATH with nnc's installed metadata (setuptools' dist_info from
    pyproject.toml) next to the nnc under test: the entry point is live."""
    meta = user_suite / "site"
    meta.mkdir()
    gen = subprocess.run([sys.executable, "setup.py", "-q", "dist_info", "-o", str(meta)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr
    return os.pathsep.join([PACKAGE_PARENT, str(meta)])


def test_explicit_plugin_alongside_the_installed_entry_point(user_suite):
    """`pytest -p nnc.pytest_plugin` (the README's command) with nnc
    installed: the module is loaded once, not refused as "already
    registered" under the entry point's name."""
    pythonpath = installed_metadata(user_suite)
    run = run_pytest(user_suite, {"PYTHONPATH": pythonpath}, "-p", "nnc.pytest_plugin")
    assert "already registered" not in run.stdout + run.stderr
    check_outcome(run)
    # The other order: the entry point first, then a conftest asking for it.
    (user_suite / "suite" / "conftest.py").write_text('pytest_plugins = ["nnc.pytest_plugin"]\n')
    run = run_pytest(user_suite, {"PYTHONPATH": pythonpath})
    check_outcome(run)
    # And still switched off by its entry point's name.
    (user_suite / "suite" / "conftest.py").unlink()
    run = run_pytest(user_suite, {"PYTHONPATH": pythonpath}, "-p", "no:nnc")
    assert "fixture 'nnc_gradcheck' not found" in run.stdout, run.stdout
