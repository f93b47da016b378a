"""Fixtures and hooks of the suite. The helpers the tests share are in
tests/helpers/ (``from helpers.models import build_model``)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.cbuild import CBuild
from helpers.measures import LARGEST, MEASURED

import nnc


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# ------------------------------------------------------- kernel sets

#: Numeric test modules that run once per kernel set the CPU supports
#: ("ref", "avx2", "avx512"): every tolerance must hold under each of them.
KERNEL_ARCH_MODULES = {"test_gradcheck", "test_torch_parity", "test_engine_vs_reference",
                       "test_worked_examples", "test_training"}


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "kernel_arch" in metafunc.fixturenames and module in KERNEL_ARCH_MODULES:
        metafunc.parametrize("kernel_arch", nnc._core.supported_kernel_archs(), indirect=True,
                             scope="module")


@pytest.fixture(autouse=True, scope="module")
def kernel_arch(request):
    """The kernel set the module runs under: each supported one in turn for
    KERNEL_ARCH_MODULES, the default one elsewhere."""
    arch = getattr(request, "param", None)
    if arch is None:
        yield nnc.kernel_arch()
        return
    previous = nnc._core.get_kernel_arch()
    nnc._core.set_kernel_arch(arch)
    try:
        yield arch
    finally:
        nnc._core.set_kernel_arch(previous)


# ------------------------------------------------------- the C engine


@pytest.fixture(scope="session")
def c_build(tmp_path_factory):
    """The C engine built with csrc/Makefile, once a session per flavour
    ("release", "debug", "sanitize"): ``c_build("release").program(source)``
    is `source` linked against it (helpers/cbuild.py)."""
    return CBuild(tmp_path_factory.mktemp("cbuild"))


# ------------------------------------------------- the run's summary


def pytest_terminal_summary(terminalreporter):
    """What the tests measured (helpers.measures): the largest errors and
    other figures, after the run."""
    if MEASURED:
        terminalreporter.section("measured")
        for what, value in sorted(MEASURED.items()):
            terminalreporter.write_line(f"{what:<60} {value}")
    if LARGEST:
        terminalreporter.section("largest measured errors")
        for what, value in sorted(LARGEST.items()):
            terminalreporter.write_line(f"{what:<60} {value:.3e}")
