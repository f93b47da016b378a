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

pytest registers a plugin under the name it was loaded by: ``nnc`` for the
entry point, ``nnc.pytest_plugin`` for ``-p``. Registering this module
under the second name raised "Plugin already registered"; so once it is
registered, it blocks its other name (docs/design.md, pytest plugin).
"""

from __future__ import annotations

import sys
import zlib

import pytest

#: The names this module can be registered under: the pytest11 entry
#: point's (pyproject.toml) and the module's own (``-p nnc.pytest_plugin``).
PLUGIN_NAMES = ("nnc", "nnc.pytest_plugin")


def pytest_plugin_registered(plugin, manager):
    """Once this module is registered, refuse it under its other name
    instead of failing on the duplicate."""
    if plugin is not sys.modules[__name__]:
        return
    own = manager.get_name(plugin)
    for name in PLUGIN_NAMES:
        if name != own and manager.get_plugin(name) is None:
            manager.set_blocked(name)


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
