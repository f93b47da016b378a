"""The Keras-style progress display of ``fit(verbose=1)`` and
``predict(verbose=1)``.

The engine publishes its progress (batches done, running loss) in a shared
record while it trains without the GIL; ``fit`` polls that record a few
times a second from Python, so drawing costs the epoch nothing.

In a Jupyter kernel the bar is not drawn with carriage returns (a saved
notebook keeps every redraw as a line) but in one notebook output that each
redraw replaces (an IPython display handle): ``verbose=1`` leaves one line
per epoch, and ``verbose="auto"`` (``LIVE``) one line for the whole run
(docs/design.md, Progress in notebooks).
"""

from __future__ import annotations

import sys
import time

#: The verbose level "auto" means in a notebook: one live line for the run.
LIVE = 3


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython with a kernel);
    never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def resolve_verbose(verbose) -> int:
    """0, 1, 2 or LIVE for a verbose argument (0, 1, 2 or "auto")."""
    if isinstance(verbose, str) and verbose == "auto":
        if in_notebook():
            return LIVE
        return 1 if sys.stdout.isatty() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


class NotebookLine:
    """One text output of a notebook cell, replaced in place by ``show``."""

    def __init__(self):
        self._handle = None

    def show(self, text: str) -> None:
        from IPython.display import display  # only ever called inside a kernel

        bundle = {"text/plain": text}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


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

    ``verbose=1`` redraws in place (a terminal; in a notebook, one output
    line per epoch), ``verbose=2`` prints one summary line per epoch and
    ``LIVE`` draws into `display`, a NotebookLine shared by the epochs of a
    run. ``title`` replaces the "Epoch e/E" heading ("" for none).
    """

    WIDTH = 30

    def __init__(self, epoch: int, epochs: int, verbose: int, stream=None,
                 display: NotebookLine | None = None, title: str | None = None):
        self.verbose = 1 if verbose == LIVE else verbose
        if display is None and verbose in (1, LIVE) and stream is None and in_notebook():
            display = NotebookLine()
        self.display = display
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.total = 0
        self._last_len = 0
        title = f"Epoch {epoch + 1}/{epochs}" if title is None else title
        self.heading = f"{title} " if title and display is not None else ""
        if self.verbose == 1 and title and display is None:
            self._write(f"{title}\n")
        self.prefix = f"{title} - " if self.verbose == 2 and title else ""

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
        if self.display is not None:
            self.display.show(self.heading + line)
            return
        pad = max(self._last_len - len(line), 0)
        self._write("\r" + line + " " * pad)
        self._last_len = len(line)

    def finish(self, batches_total: int, logs: dict) -> None:
        """Final state of the epoch with its logs."""
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / batches_total if batches_total else elapsed
        timing = f"{_duration(elapsed)} {_duration(per_step)}/step"
        logs_text = f" - {format_logs(logs)}" if logs else ""
        if self.verbose == 1:
            self._redraw(f"{self._bar(batches_total, batches_total)} - {timing}{logs_text}")
            if self.display is None:
                self._write("\n")
        elif self.verbose == 2:
            self._write(f"{self.prefix}{timing}{logs_text}\n")
