"""What the doctests of nnc/ (collected by the default pytest through
--doctest-modules, pyproject.toml) find already imported: ``np`` and
``nnc``, as numpydoc examples assume. The suite's own fixtures are in
tests/conftest.py."""

import os

import numpy
import pytest

import nnc

# CI runs `pip install '.[test]' && pytest` in the checkout: nnc is then
# imported from site-packages (the pytest11 plugin loads it before any
# conftest), while --doctest-modules finds the same modules' files under
# nnc/. pytest's switch for this case makes the doctests run on the
# imported package, the one the whole suite tests (docs/design.md,
# "Packaging").
os.environ.setdefault("PY_IGNORE_IMPORTMISMATCH", "1")


@pytest.fixture(autouse=True)
def _doctest_imports(doctest_namespace):
    doctest_namespace["np"] = numpy
    doctest_namespace["nnc"] = nnc
