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
    message = f"{tool} is not available: {why}"
    if in_ci():
        pytest.fail(message + " (CI must install it)", pytrace=False)
    pytest.skip(message)
