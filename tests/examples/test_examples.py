"""Every script in examples/ (the user-facing ones of the first run) runs and
shows what it claims."""

import re

from helpers.optional import require
from helpers.paths import REPO as ROOT
from helpers.processes import run_python


def run_example(name, tmp_path):
    out = run_python([str(ROOT / "examples" / name)], tmp_path, {"PYTHONWARNINGS": "ignore"})
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def number(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return float(match[1])


def test_xor(tmp_path):
    out = run_example("xor.py", tmp_path)
    for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
        assert f"{a} XOR {b} = {a ^ b}" in out
    assert number(r"loss after 300 epochs: ([\d.]+)", out) < 0.05


def test_digits(tmp_path):
    out = run_example("digits.py", tmp_path)
    assert number(r"test accuracy: ([\d.]+)", out) >= 0.96
    assert number(r"trained (\d+) epochs", out) < 100  # early stopping stopped it
    assert "predictions identical = True" in out


def test_regression_with_early_stopping(tmp_path):
    out = run_example("regression_early_stopping.py", tmp_path)
    epochs = number(r"stopped after (\d+) of 1000 epochs", out)
    best = number(r"best epoch (\d+)", out)
    assert epochs < 1000 and epochs - best == 20  # patience 20 after the best epoch
    # restore_best_weights: the final model is the best epoch's.
    assert number(r"best val_loss ([\d.]+)", out) == number(r"restored weights: val_loss ([\d.]+)",
                                                            out)
    assert number(r"val_r2 ([\d.]+)", out) > 0.95


def test_gradient_check(tmp_path):
    out = run_example("gradient_check.py", tmp_path)
    assert "gradient check passed" in out
    assert number(r"relative error \|g - g_num\| / \(\|g\| \+ \|g_num\|\): ([\d.e+-]+)",
                  out) <= 1e-7
    assert number(r"missing the L2 term has relative error ([\d.e+-]+)", out) > 1e-3


def test_worked_example_reproduces_the_notes_digits(tmp_path):
    out = run_example("worked_example.py", tmp_path)
    # Note 000, printed values.
    for text in ("a(2) = [0.641067 0.65926 ]", "z(3) = a(3) = 0.188638", "J = 1/2 (a(3) - y)^2 "
                 "= 0.329154", "delta(3) = -0.811362", "delta(2) = [-0.0261372 -0.0273392]",
                 "dJ/dTheta(2) = [[-0.520137, -0.534899]]",
                 "new Theta(1) = [[0.136137, 0.159206], [0.237339, 0.121009]]",
                 "new a(3) = 0.563081", "agree with the hand computation: True"):
        assert text in out, text


def test_grid_search(tmp_path):
    require("sklearn")
    out = run_example("grid_search.py", tmp_path)
    assert out.count("cv accuracy") == 4
    assert number(r"test accuracy of the refitted best pipeline: ([\d.]+)", out) >= 0.95
