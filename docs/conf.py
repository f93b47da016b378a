"""Sphinx configuration of nnc's documentation.

Build (warnings are errors, as in CI):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

nnc must be importable (installed, or built in place with
``python setup.py build_ext --inplace`` and the checkout on PYTHONPATH).
Two kinds of page are generated at build time into docs/_generated/ (not
committed): the C API reference from csrc/include/nnc.h, and the gallery,
for which the studies in examples/ are run.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))

import c_header  # noqa: E402
import gallery  # noqa: E402

import nnc  # noqa: E402

project = "nnc"
author = "The nnc authors"
copyright = "2026, The nnc authors"
release = version = nnc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3

# numpydoc-style docstrings, read by napoleon.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_mock_imports: list[str] = []

html_theme = "alabaster"
html_title = f"nnc {release}"


def generate(app) -> None:
    generated = HERE / "_generated"
    c_header.write(ROOT / "csrc" / "include" / "nnc.h", generated / "c-api.rst")
    gallery.build(ROOT, generated / "gallery")


def setup(app):
    app.connect("builder-inited", generate)
