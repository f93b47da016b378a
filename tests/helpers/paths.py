"""Folders of the checkout the tests run from."""

from pathlib import Path

#: tests/
TESTS = Path(__file__).resolve().parents[1]
#: The repository root (csrc/, examples/, bench/, README.md).
REPO = TESTS.parent
