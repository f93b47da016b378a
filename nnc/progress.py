"""The Keras-style progress display of ``fit(verbose=1)``.

The engine publishes its progress (batches done, running loss) in a shared
record while it trains without the GIL; ``fit`` polls that record a few
times a second from Python, so drawing costs the epoch nothing.
"""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    if seconds >= 1:
        return f"{seconds:.0f}s"
    return f"{seconds * 1000:.0f}ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f}us"


def format_logs(logs: dict) -> str:
    return " - ".join(f"{key}: {value:.4g}" for key, value in logs.items())


class ProgressBar:
    """One epoch's bar: ``12/94 [==>.......] - ETA: 3s - loss: 0.4321``.

    ``verbose=1`` redraws in place (a terminal), ``verbose=2`` prints one
    summary line per epoch.
    """

    WIDTH = 30

    def __init__(self, epoch: int, epochs: int, verbose: int, stream=None):
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.start = time.perf_counter()
        self.total = 0
        self._last_len = 0
        if verbose == 1:
            self._write(f"Epoch {epoch + 1}/{epochs}\n")
        self.prefix = f"Epoch {epoch + 1}/{epochs} - " if verbose == 2 else ""

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _bar(self, done: int, total: int) -> str:
        width = len(str(total))
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        arrow = ">" if done < total else "="
        bar = "=" * max(filled - 1, 0) + (arrow if filled else "") + "." * (self.WIDTH - filled)
        return f"{done:{width}d}/{total} [{bar}]"

    def update(self, batches_done: int, batches_total: int, running_loss: float | None) -> None:
        """Redraw from the engine's progress record (verbose=1 only)."""
        if self.verbose != 1 or batches_total <= 0:
            return
        self.total = batches_total
        elapsed = time.perf_counter() - self.start
        line = self._bar(batches_done, batches_total)
        if 0 < batches_done < batches_total:
            line += f" - ETA: {_duration(elapsed / batches_done * (batches_total - batches_done))}"
        if running_loss is not None:
            line += f" - loss: {running_loss:.4g}"
        self._redraw(line)

    def _redraw(self, line: str) -> None:
        pad = max(self._last_len - len(line), 0)
        self._write("\r" + line + " " * pad)
        self._last_len = len(line)

    def finish(self, batches_total: int, logs: dict) -> None:
        """Final state of the epoch with its logs."""
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / batches_total if batches_total else elapsed
        timing = f"{_duration(elapsed)} {_duration(per_step)}/step"
        if self.verbose == 1:
            self._redraw(f"{self._bar(batches_total, batches_total)} - {timing} - "
                         f"{format_logs(logs)}")
            self._write("\n")
        elif self.verbose == 2:
            self._write(f"{self.prefix}{timing} - {format_logs(logs)}\n")
