"""pytest plugin: fixtures for testing code built on nnc.

Installed with nnc through the ``pytest11`` entry point, so any test suite
in the same environment can ask for the fixtures by name (or load it
explicitly with ``pytest -p nnc.pytest_plugin``):

- ``nnc_gradcheck(model, x, y, rtol=1e-7, ...)``: backprop vs float64 finite
  differences, ``nnc.testing.assert_gradients_close``;
- ``nnc_assert_models_equal(a, b, ...)``: ``nnc.testing.assert_models_equal``;
- ``nnc_rng``: a NumPy Generator seeded from the test's node id, so each
  test gets its own reproducible stream.

The plugin lives in the nnc package, so loading it imports nnc (about
40 ms on top of NumPy); ``pytest -p no:nnc`` switches it off.
"""

from __future__ import annotations

import zlib

import pytest


@pytest.fixture
def nnc_gradcheck():
    """``check(model, x, y, rtol=1e-7, atol=1e-9, eps=1e-6, sample_weight=None)``
    raises AssertionError with a per-layer report when backpropagation
    disagrees with finite differences."""
    from nnc.testing import assert_gradients_close

    return assert_gradients_close


@pytest.fixture
def nnc_assert_models_equal():
    """``check(a, b, rtol=0.0, atol=0.0, check_dtype=True)``: same
    architecture and weights."""
    from nnc.testing import assert_models_equal

    return assert_models_equal


@pytest.fixture
def nnc_rng(request):
    """``numpy.random.Generator`` seeded by a CRC of the test's node id."""
    import numpy as np

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
