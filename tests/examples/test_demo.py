"""``python -m nnc``: the first thing a newcomer runs."""

import os
import re
import subprocess
import sys

import pytest
from helpers.paths import REPO
from helpers.processes import run_python


def run_nnc(tmp_path, *args):
    out = run_python(["-m", "nnc", *args], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_default_demo_trains_the_digits_to_97_percent(tmp_path):
    out = run_nnc(tmp_path)
    # The progress bar, one block per epoch, with the compiled metric.
    assert out.count("Epoch ") == 40 and "Epoch 40/40" in out
    assert re.search(r"41/41 \[=+\] .* - loss: [\d.]+ - accuracy: [\d.]+ - val_loss:", out)
    # The summary and the held-out accuracy.
    assert "dense_1 (Dense, relu)" in out and "Total params: 9610" in out
    accuracy = float(re.search(r"test accuracy: ([\d.]+)% on 359 held-out digits", out)[1])
    assert accuracy >= 97.0


def test_help_lists_the_other_demos(tmp_path):
    out = run_nnc(tmp_path, "--help")
    for demo in ("digits", "spirals", "regression", "xor", "notes"):
        assert re.search(rf"^\s+{demo}\s+\S", out, re.MULTILINE), demo


def test_notes_demo_prints_the_worked_example(tmp_path):
    out = run_nnc(tmp_path, "notes")
    # Note 000: a3 = 0.188638, J = 0.329154; one step with learning rate 0.5
    # gives theta_11^(2) = 0.400069 (the note's J_new 0.0954491 is computed
    # from rounded intermediates; the exact value is 0.0954493).
    assert "a3 = 0.188638   J = 0.329154" in out
    assert "after step 1: J = 0.0954493" in out
    assert "Theta(2) = [[0.400069, 0.417449]]" in out


@pytest.mark.parametrize("demo, pattern, check", [
    ("spirals", r"final training accuracy: ([\d.]+)%", lambda v: v >= 95.0),
    ("regression", r"largest error of the fitted sine on \[-pi, pi\]: ([\d.e+-]+)",
     lambda v: v < 1e-2),
    ("xor", r"1 XOR 1 -> ([\d.]+)", lambda v: v < 0.1),
])
def test_other_demos_reach_their_goal(tmp_path, demo, pattern, check):
    out = run_nnc(tmp_path, demo)
    value = float(re.search(pattern, out)[1])
    assert check(value), out


def test_unknown_demo_is_refused(tmp_path):
    out = run_python(["-m", "nnc", "mnist"], tmp_path)
    assert out.returncode == 2 and "invalid choice: 'mnist'" in out.stderr


def test_the_readme_command_works_inside_the_checkout():
    """`pip install . && python -m nnc` is typed in the checkout, where the
    current directory's nnc/ comes first on sys.path: the build puts the
    extension there too (setup.py), so that package must import."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-m", "nnc", "--help"], capture_output=True,
                         text=True, cwd=REPO, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "demos (default: digits)" in out.stdout


@pytest.mark.parametrize("value, message", [
    ("-3", "expected at least 1, got -3"), ("0", "expected at least 1, got 0"),
    ("many", "expected a whole number, got 'many'"),
])
def test_bad_epochs_are_an_argparse_error(tmp_path, value, message):
    out = run_python(["-m", "nnc", "--epochs", value], tmp_path)
    assert out.returncode == 2, out.stderr
    assert f"argument --epochs: {message}" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
