"""Values measured by the tests, printed after the run by conftest's
pytest_terminal_summary."""

from __future__ import annotations

#: The largest value of each measured error.
LARGEST: dict[str, float] = {}

#: Measured quantities printed after the run (example counts, latencies, ...).
MEASURED: dict[str, str] = {}


def record(what: str, value: float) -> None:
    """Keep the largest value of a measured error, printed after the run."""
    LARGEST[what] = max(LARGEST.get(what, 0.0), float(value))


def measured(what: str, value) -> None:
    """Report a measurement in the run's summary."""
    MEASURED[what] = str(value)
