"""The notebooks in examples/ run in a real Jupyter kernel (nbclient +
ipykernel) as a user would see them (docs/design.md, Notebooks): no
errors, exactly one image per figure a cell makes (its metadata "nnc":
{"figures": n}), progress within its line budget ({"progress_lines": n}:
at most one line per epoch, one for verbose="auto"), no carriage-return
redraws kept, no warning, and nbconvert's HTML keeps the same budget."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers.optional import require
from helpers.paths import REPO
from helpers.processes import PACKAGE_PARENT

NOTEBOOKS = sorted((REPO / "examples").glob("*.ipynb"))


def text_lines(output) -> list[str]:
    """The lines of text a cell output shows (streams and plain-text displays)."""
    if output["output_type"] == "stream":
        return output["text"].splitlines()
    data = output.get("data", {})
    if set(data) == {"text/plain"}:
        return data["text/plain"].splitlines()
    return []


@pytest.fixture
def kernel_env(monkeypatch, tmp_path):
    require("nbclient")
    require("ipykernel")
    require("matplotlib")
    monkeypatch.setenv("PYTHONPATH", PACKAGE_PARENT)  # the kernel imports the nnc under test
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend


def test_every_example_notebook_is_checked():
    assert {p.stem for p in NOTEBOOKS} >= {"quick_start", "initialization",
                                           "vanishing_gradients", "sklearn_dropin"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_cleanly_in_a_kernel(path, kernel_env, tmp_path):
    nbformat = require("nbformat")
    from nbclient import NotebookClient

    if path.stem == "sklearn_dropin":
        require("sklearn")
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    checked = 0
    for index, cell in enumerate(book.cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name} cell {index}"
        outputs = cell.outputs
        assert not [o for o in outputs if o["output_type"] == "error"], where
        stderr = [o["text"] for o in outputs
                  if o["output_type"] == "stream" and o["name"] == "stderr"]
        assert not stderr, f"{where}: {stderr}"  # no warning, let alone a repeated one
        streams = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
        assert "\r" not in streams, where
        expect = cell.metadata.get("nnc", {})
        images = sum("image/png" in o.get("data", {}) for o in outputs)
        if "figures" in expect:
            assert images == expect["figures"], f"{where}: {images} images"
            checked += 1
        if "progress_lines" in expect:
            lines = [line for o in outputs for line in text_lines(o)]
            assert 1 <= len(lines) <= expect["progress_lines"], f"{where}: {lines}"
            assert all(re.search(r"Epoch \d+/\d+ .*\d+/\d+ \[=+\]", line) for line in lines), \
                lines
    assert checked >= 2


def test_nbconvert_html_keeps_one_line_per_epoch(kernel_env, tmp_path):
    require("nbconvert")
    out = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to",
                          "html", "--output-dir", str(tmp_path),
                          str(REPO / "examples" / "quick_start.ipynb")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "quick_start.html").read_text()
    # verbose="auto" over 100 epochs: one line; verbose=1 over 3 epochs: three.
    shown = re.findall(r"Epoch (\d+)/(\d+) ", html)
    assert shown == [("100", "100"), ("1", "3"), ("2", "3"), ("3", "3")], shown
    assert html.count("<img") + html.count("image/png") >= 2
