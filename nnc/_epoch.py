"""Run engine epochs while keeping Python responsive.

Each epoch runs on a worker thread inside ``_core.Model.train_epoch`` with
the GIL released; the calling thread waits in short slices so that it can
draw the progress bar and react to Ctrl-C (the engine then stops before its
next batch, leaving the weights of the last completed step). One worker
serves a whole ``fit``: handing it an epoch costs ~20 microseconds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from . import _core

POLL_SECONDS = 0.05  # Ctrl-C and progress latency
DRAW_SECONDS = 0.25  # progress bar refresh period


class EpochRunner:
    """A worker thread for the epochs of one fit (a context manager)."""

    def __enter__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnc-epoch")
        return self

    def __exit__(self, *exc_info):
        self._pool.shutdown(wait=True)

    def run(self, core, x, y, sample_weight, batch_size: int, shuffle: bool, sparse: bool,
            bar=None) -> float:
        """Mean loss of one epoch; re-raises the engine's exception, or
        KeyboardInterrupt once the engine has stopped."""
        progress = _core.Progress()
        future = self._pool.submit(core.train_epoch, x, y, sample_weight, batch_size, shuffle,
                                   sparse, progress)
        waited = 0.0
        try:
            while True:
                try:
                    return future.result(POLL_SECONDS)
                except FutureTimeout:
                    waited += POLL_SECONDS
                if bar is not None and waited >= DRAW_SECONDS:
                    waited = 0.0
                    done = progress.samples_done
                    bar.update(progress.batches_done, progress.batches_total,
                               progress.loss_sum / done if done else None)
        except KeyboardInterrupt:
            progress.request_stop()
            try:
                future.result()
            except _core.TrainingInterrupted:
                pass
            raise
