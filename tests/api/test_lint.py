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


TEXT_SUFFIXES = {".py", ".md", ".rst", ".c", ".h", ".toml", ".txt", ".cfg", ".ipynb", ".yml",
                 ".yaml", ".mk", ".in"}
SKIPPED_DIRS = {".git", "build", "dist", ".venv", "__pycache__", ".pytest_cache"}


def conflict_markers(root: Path) -> list[str]:
    """'path:line' of every merge-conflict marker line in the text files under root."""
    found = []
    for path in sorted(root.rglob("*")):
        if (path.suffix not in TEXT_SUFFIXES or not path.is_file()
                or SKIPPED_DIRS & set(path.relative_to(root).parts)):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")):
                found.append(f"{path.relative_to(root)}:{number}")
    return found


def test_no_file_keeps_a_merge_conflict_marker():
    # One did: docs/design.md carried a whole unresolved merge for a day.
    assert conflict_markers(ROOT) == []


def test_the_marker_check_finds_a_marker(tmp_path):
    (tmp_path / "doc.md").write_text("text\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> b\n")
    assert conflict_markers(tmp_path) == ["doc.md:2", "doc.md:6"]
