"""The lecture-note studies in examples/ (initialization, vanishing_gradients,
universal_approximation, logic_gates) run, save their PNGs and show what
they claim (symmetry of zero init, vanishing gradients, universal
approximation, linear collapse, XOR from AND/OR units)."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from helpers.optional import require
from helpers.paths import REPO as ROOT
from helpers.processes import run_python

import nnc

require("matplotlib").use("Agg")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example(name):
    # As when run as a script: the study's folder comes first on sys.path,
    # for examples/_study_cli.py.
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location(f"nnc_example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pngs(directory):
    files = sorted(p.name for p in directory.glob("*.png"))
    for name in files:
        assert (directory / name).read_bytes()[:8] == PNG_MAGIC
    return files


def test_initialization_study(tmp_path, capsys):
    result = load_example("initialization").main(["--out", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    assert len(pngs(tmp_path)) == 10  # 2 activations x 5 initializers
    acts = result["activations"]
    std = {key: [s["std"] for s in stats] for key, stats in acts.items()}
    sat = {key: [s["saturated"] for s in stats] for key, stats in acts.items()}
    # The notes' pictures: zeros -> one value; N(0,1) sigmoid saturates at 0 and 1;
    # N(0,0.01) tanh shrinks layer by layer; Xavier tanh keeps a spread.
    assert all(s == 0.0 for s in std[("sigmoid", "zeros")] + std[("tanh", "zeros")])
    assert min(sat[("sigmoid", "N(0,1)")]) > 0.3 and min(sat[("tanh", "N(0,1)")]) > 0.5
    assert std[("tanh", "N(0,0.01)")][4] < 1e-3 * std[("tanh", "N(0,0.01)")][0]
    assert min(std[("tanh", "xavier")]) > 0.2 and max(sat[("tanh", "xavier")]) < 0.05
    assert std[("sigmoid", "N(0,0.01)")][4] < 0.02  # everything near 0.5
    # Every per-layer std is printed.
    for (activation, label), values in std.items():
        row = next(line for line in printed.splitlines()
                   if line.split()[:2] == [activation, label])
        assert [f"{v:.4f}" for v in values] == row.split()[2::2]

    zeros, xavier = result["symmetry"]["zeros"], result["symmetry"]["xavier"]
    model = zeros["model"]
    weights = model.get_weights()
    assert zeros["first_layer_weight_norm"] > 0.5  # it did train...
    for w in (weights[0], weights[2]):  # ...but each hidden layer's units stayed identical
        assert np.ptp(w, axis=1).max() <= 1e-6 * np.abs(w).max()
    x, _ = nnc.datasets.make_moons(n_samples=200, noise=0.1, seed=0)
    for layer in model.trace(x)[:-1]:
        assert np.ptp(layer.a, axis=1).max() <= 1e-6
    assert min(xavier["unit_spread"]) > 0.1
    assert "zeros" in printed and "max spread between units" in printed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vanishing_gradients_study(tmp_path, capsys, dtype):
    result = load_example("vanishing_gradients").main(
        ["--out", str(tmp_path), "--quick", "--dtype", dtype])
    printed = capsys.readouterr().out
    sig, relu = result["sigmoid"], result["relu"]
    # first-layer / last-layer gradient norm: orders of magnitude smaller for sigmoid.
    assert sig["ratio"] < 1e-3
    assert 0.1 < relu["ratio"] < 10
    assert sig["ratio"] < 1e-3 * relu["ratio"]
    # The norms shrink monotonically through the sigmoid net's lower layers.
    assert all(a < b for a, b in zip(sig["grad_norms"][:8], sig["grad_norms"][1:9]))
    assert "grad_norm/dense_1" in sig["history"] and len(sig["history"]["grad_norm/dense_10"]) == 5
    assert pngs(tmp_path) == ["vanishing_relu_activations.png",
                              "vanishing_relu_gradient_norms.png",
                              "vanishing_sigmoid_activations.png",
                              "vanishing_sigmoid_gradient_norms.png"]
    assert f"{sig['ratio']:.3e}" in printed and "dense_10" in printed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_universal_approximation_study(tmp_path, capsys, dtype):
    result = load_example("universal_approximation").main(
        ["--out", str(tmp_path), "--quick", "--dtype", dtype])
    capsys.readouterr()
    assert result["sin_max_error"] < (0.01 if dtype == "float64" else 0.05)
    # The linear stack is one linear map, to rounding error of the dtype...
    limit = 1e-12 if dtype == "float64" else 1e-5
    assert result["collapse_relative_error"] < limit
    assert result["wide_collapse_max_error"] < limit * 10
    # ...so on sin it can do no better than the least-squares line.
    assert result["stack_sin_error"] == pytest.approx(result["line_sin_error"], abs=1e-3)
    assert result["line_sin_error"] > 0.5
    assert pngs(tmp_path) == ["universal_approximation.png"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logic_gates_study(tmp_path, capsys, dtype):
    module = load_example("logic_gates")
    result = module.main(["--out", str(tmp_path), "--dtype", dtype])
    capsys.readouterr()
    for name, truth in module.TRUTH.items():
        out = result["outputs"][name]
        np.testing.assert_array_equal(np.round(out), truth)
        assert np.max(np.abs(out - np.asarray(truth))) < 1e-4
    # XOR's hidden units are the OR and NAND units of the notes.
    hidden = np.round(result["hidden"].a)
    np.testing.assert_array_equal(hidden[:, 0], module.TRUTH["OR"])
    np.testing.assert_array_equal(hidden[:, 1], module.TRUTH["NAND"])
    assert pngs(tmp_path) == ["logic_gates.png"]


def test_example_runs_as_a_script(tmp_path):
    run = run_python([str(ROOT / "examples" / "logic_gates.py"), "--out", str(tmp_path / "figs")],
                     tmp_path, {"MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr
    assert "XOR" in run.stdout and (tmp_path / "figs" / "logic_gates.png").exists()
