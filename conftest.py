"""What the doctests of nnc/ (collected by the default pytest through
--doctest-modules, pyproject.toml) find already imported: ``np`` and
``nnc``, as numpydoc examples assume. The suite's own fixtures are in
tests/conftest.py."""

import numpy
import pytest

import nnc


@pytest.fixture(autouse=True)
def _doctest_imports(doctest_namespace):
    doctest_namespace["np"] = numpy
    doctest_namespace["nnc"] = nnc
