"""What the suite needs beyond numpy and pytest (tools, optional Python
packages): skipped with the reason when missing, except in CI.

CI (the environment variable CI is "true", "1" or "yes") installs
everything and runs every check, so there a missing tool or package fails
the test loudly instead: a skipped check in CI is a defect.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True when running in CI (CI=true, 1 or yes)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(tool: str, why: str) -> None:
    """Fail in CI, skip elsewhere, when a required tool is missing."""
    __tracebackhide__ = True  # report the caller's line
    message = f"{tool} is not available: {why}"
    if in_ci():
        pytest.fail(message + " (CI must install it)", pytrace=False)
    pytest.skip(message)


def require(module: str, minversion: str | None = None):
    """Import and return `module` (an optional dependency: torch, onnx,
    onnxruntime, matplotlib, sklearn, pandas, hypothesis, ...), with
    pytest.importorskip: where it is missing the test, or at module level
    the whole module, is skipped; in CI it fails instead."""
    __tracebackhide__ = True  # report the caller's line
    try:
        return pytest.importorskip(module, minversion=minversion)
    except pytest.skip.Exception as missing:
        if not in_ci():
            raise
        reason = str(missing)
    pytest.fail(f"{reason} (CI installs every optional dependency: pip install '.[test]')",
                pytrace=False)
