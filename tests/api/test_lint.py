"""The repository passes the linter CONTRIBUTING.md asks for (ruff, with
the rules in pyproject.toml), and the check is real: a file breaking one of
those rules is reported."""

from __future__ import annotations

from pathlib import Path

from helpers.optional import require
from helpers.processes import run_python

ROOT = Path(__file__).parents[2]


def ruff(cwd, *args):
    return run_python(["-m", "ruff", "check", "--no-cache", *args], cwd)


def test_the_repository_is_ruff_clean():
    require("ruff")
    out = ruff(ROOT, str(ROOT))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All checks passed!" in out.stdout


def test_ruff_reports_a_broken_rule(tmp_path):
    require("ruff")
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    out = ruff(tmp_path, "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert out.returncode == 1 and "F401" in out.stdout, out.stdout + out.stderr
