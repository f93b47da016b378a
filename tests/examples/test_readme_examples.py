"""The README's first examples run as printed (docs/design.md, Quick
start): the quick start prints what the README says it prints (a
validation accuracy of at least 0.95), and the scikit-learn example runs
without a single warning."""

from __future__ import annotations

import re

from helpers.optional import require
from helpers.paths import REPO
from helpers.processes import run_python

README = (REPO / "README.md").read_text()


def python_block_after(heading: str) -> str:
    """The first ```python block of the README section `heading`."""
    section = README.split(f"\n## {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def run_block(code, tmp_path, prelude=""):
    script = tmp_path / "example.py"
    script.write_text(prelude + code)
    return run_python([str(script)], tmp_path, {"PYTHONWARNINGS": "always"})


def test_quick_start_prints_what_the_readme_says(tmp_path):
    out = run_block(python_block_after("Quick start"), tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no warning either
    printed = out.stdout.strip()
    assert float(printed) >= 0.95
    stated = re.search(r"It prints `([^`]+)`", README.split("\n## Quick start\n", 1)[1])
    assert stated, "the README no longer says what the quick start prints"
    assert stated[1] == printed


def test_scikit_learn_example_runs_without_warnings(tmp_path):
    """With the quick start's data (x, y = the spirals and their labels)."""
    require("sklearn")
    prelude = ("import nnc\n"
               "x, y = nnc.datasets.make_spirals(n_samples=600, noise=0.2, seed=0)\n")
    out = run_block(python_block_after("scikit-learn estimators"), tmp_path, prelude)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr, out.stderr
