"""Batch sources: data that ``fit``, ``evaluate`` and ``predict`` stream
instead of holding in memory (docs/design.md, Streaming data).

Besides in-memory arrays, they accept

- a memory-mapped array (``np.memmap``, ``np.load(path, mmap_mode="r")``,
  any array viewing an ``mmap``): read a chunk of whole batches at a time,
  never copied whole, and its pages handed back to the OS after each chunk;
- a Keras-``PyDataset``-like object: ``__len__`` batches, ``__getitem__(i)``
  returning batch ``i``; its ``on_epoch_begin``/``on_epoch_end`` are called
  around every epoch when it has them;
- a re-iterable object (``iter(obj)`` starts over each epoch) yielding batches;
- a generator or any single-use iterator (usually with ``steps_per_epoch``).

A batch is ``(x, y)`` or ``(x, y, sample_weight)`` (``predict`` also takes
``x`` alone). Batches are converted and checked one by one as they arrive,
copied into one contiguous chunk of about ``CHUNK_BYTES``, and the engine
trains each chunk in one call per run of equal-sized batches, so Python runs
per batch only to fetch it. With ``shuffle=False`` this is the same sequence
of steps as ``fit`` on the concatenated arrays, bit for bit.
"""

from __future__ import annotations

import mmap
import os
import types
import warnings
from typing import NamedTuple

import numpy as np

from . import _dask, losses
from . import metrics as metric_fns
from ._chunks import l2_penalty

#: Target size of one chunk of x (the batches the engine trains in one call).
CHUNK_BYTES = 32 * 2**20
#: A memory-mapped x is copied into the chunk this much at a time.
READ_BYTES = 2 * 2**20

RAN_DRY = ("Your input ran out of data; interrupting training. Make sure that your "
           "dataset or generator can generate at least `steps_per_epoch * epochs` "
           "batches. You may need to use the `.repeat()` function when building "
           "your dataset.")  # Keras's words, so that users recognise the situation


class Chunk(NamedTuple):
    """Engine-ready rows of consecutive batches: ``sizes`` are the batches'
    row counts in order; ``shuffle`` asks the engine to shuffle the rows."""

    x: np.ndarray
    y: np.ndarray | None
    sample_weight: np.ndarray | None
    sizes: list
    shuffle: bool = False

    def runs(self):
        """(start row, stop row, batch size, batch count) of each run of
        equal-sized batches, a smaller last batch included: the engine's
        epoch takes one such run per call."""
        sizes, i, row = self.sizes, 0, 0
        while i < len(sizes):
            size, j = sizes[i], i + 1
            while j < len(sizes) and sizes[j] == size:
                j += 1
            if j < len(sizes) and sizes[j] < size:
                j += 1
            rows = sum(sizes[i:j])
            yield row, row + rows, size, j - i
            row, i = row + rows, j


def is_array_like(x) -> bool:
    """Whether `x` is read as an in-memory array (the classic path; also
    anything that is neither iterable nor indexable, which then fails
    there with the array path's message)."""
    return (isinstance(x, (np.ndarray, list, tuple, str, bytes, dict))
            or hasattr(x, "__array__") or hasattr(x, "__array_interface__")
            or not (hasattr(x, "__iter__") or hasattr(x, "__getitem__")))


def mapping_of(arr) -> mmap.mmap | None:
    """The ``mmap`` an array's memory belongs to, or None."""
    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None)
    return None


def is_mapped(x) -> bool:
    return isinstance(x, np.ndarray) and mapping_of(x) is not None


def _advise(arr, rows: slice | None, advice: int) -> None:
    """madvise the pages of a file-backed array's rows `rows` (or all).
    MADV_DONTNEED drops them from the process's memory (they stay in the
    page cache and are read again on the next touch); never for
    copy-on-write maps (mode "c"), whose changed pages would be lost.
    MADV_WILLNEED starts reading them ahead."""
    mapped = mapping_of(arr)
    mode = next((b.mode for b in _bases(arr) if getattr(b, "mode", None)), None)
    if mapped is None or mode not in ("r", "r+", "w+"):
        return
    try:
        start_address = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    except (TypeError, ValueError):  # closed
        return
    view = arr if rows is None else arr[rows]
    if view.size == 0:
        return
    if rows is None or not view.flags.c_contiguous:
        lo, hi = 0, len(mapped)
    else:
        lo = view.ctypes.data - start_address
        hi = lo + view.nbytes
    lo -= lo % mmap.PAGESIZE
    hi = min(hi, len(mapped))
    if hi > lo >= 0:
        mapped.madvise(advice, lo, hi - lo)


def file_region(arr) -> tuple[str, int] | None:
    """(file name, offset in the file of arr's first byte) when `arr` is a
    C-contiguous ``np.memmap`` (or a view of one) of a named file; None
    otherwise. np.memmap maps its file from `offset` rounded down to the
    allocation granularity, and views keep their root's filename/offset."""
    filename, offset = getattr(arr, "filename", None), getattr(arr, "offset", None)
    mapped = mapping_of(arr)
    if (not isinstance(arr, np.memmap) or filename is None or offset is None
            or mapped is None or not arr.flags.c_contiguous):
        return None
    try:
        start_address = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    except (TypeError, ValueError):
        return None
    map_start = offset - offset % mmap.ALLOCATIONGRANULARITY
    return filename, map_start + (arr.ctypes.data - start_address)


def _pread_into(fd: int, target: np.ndarray, offset: int) -> None:
    """Fill the contiguous array `target` from file offset `offset`."""
    view = memoryview(target.reshape(-1)).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise OSError(f"x: the file ended {len(view) - done} bytes early")
        done += got


def _bases(arr):
    while arr is not None:
        yield arr
        arr = getattr(arr, "base", None)


# ----------------------------------------------------------------- sources


class ArraySource:
    """A memory-mapped x (with y and sample weights of the same rows, mapped
    or not), read a chunk of whole batches at a time."""

    kind = "memory-mapped array"

    def __init__(self, model, argument: str, x, y=None, sample_weight=None, *,
                 batch_size: int | None, shuffle: bool = False, class_weight=None,
                 targets: bool = True):
        if x.ndim != 2:
            raise ValueError(f"{argument}: expected a 2-D array (n_samples, n_features), "
                             f"got shape {x.shape}")
        if x.shape[0] == 0:
            raise ValueError(f"{argument}: expected at least one sample, got shape {x.shape}")
        if batch_size is None:
            raise ValueError("batch_size: None (one full batch) needs the data in memory; "
                             f"a {self.kind} is streamed in batches")
        for name, other in (("y", y), ("sample_weight", sample_weight)):
            if other is not None and len(other) != x.shape[0]:
                raise ValueError(f"{name}: has {len(other)} samples but x has {x.shape[0]}")
        self.model, self.argument = model, argument
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle, self.class_weight = batch_size, shuffle, class_weight
        self.targets = targets
        self.rows = x.shape[0]
        self.steps = -(-self.rows // batch_size)
        self._rng = None
        self._buffer = None
        # The first row checks types and shapes (and builds the model) up front.
        self._convert(slice(0, 1))

    def split(self, n_train: int):
        """(training rows, validation rows) as two sources (validation_split)."""
        def part(rows, shuffle):
            return ArraySource(self.model, self.argument, self.x[rows],
                               None if self.y is None else self.y[rows],
                               None if self.sample_weight is None else self.sample_weight[rows],
                               batch_size=self.batch_size, shuffle=shuffle,
                               class_weight=self.class_weight)
        return part(slice(0, n_train), self.shuffle), part(slice(n_train, None), False)

    def _convert(self, rows, prefix=None):
        y = None if self.y is None else self.y[rows]
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        prefix = f"{self.argument}: " if prefix is None else prefix
        x = self._read(rows) if isinstance(rows, slice) else self._gather(rows)
        if not self.targets:
            return self.model.engine_features(x, prefix + "x"), None, None
        return self.model.engine_data(x, y, sw, self.class_weight, prefix=prefix)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """x[rows] (sorted row indices, a shuffled chunk) into the chunk
        buffer a part at a time, each part's map pages released once copied,
        so that scattered rows never hold more than a part's pages."""
        if self._buffer is None:
            self._buffer = np.empty((self.chunk_rows(), self.x.shape[1]), self.model.dtype)
        out = self._buffer[:len(rows)]
        row_pages = -(-abs(self.x.strides[0]) // mmap.PAGESIZE) + 1
        part = max(1, READ_BYTES // (row_pages * mmap.PAGESIZE))
        for lo in range(0, len(rows), part):
            index = rows[lo:lo + part]
            out[lo:lo + len(index)] = self.x[index]
            _advise(self.x, slice(int(index[0]), int(index[-1]) + 1), mmap.MADV_DONTNEED)
        return out

    def _read(self, rows: slice) -> np.ndarray:
        """x[rows] copied into the reused chunk buffer a few MiB at a time:
        read from the file with pread when x is a memmap's contiguous rows
        (no page of the map is touched), else copied from the map, each
        part's pages released once copied. The engine then reads ordinary
        memory and the process holds one chunk plus one part
        (docs/design.md, Streaming data)."""
        start, stop, _ = rows.indices(self.rows)
        count = max(stop - start, 0)
        if count > self.chunk_rows():
            return self.x[rows]  # the bad-batch search's odd slices: no buffer needed
        if self._buffer is None:
            self._buffer = np.empty((self.chunk_rows(), self.x.shape[1]), self.model.dtype)
        out = self._buffer[:count]
        part = max(1, READ_BYTES // max(1, self.x.strides[0]))
        region = file_region(self.x)
        fd = os.open(region[0], os.O_RDONLY) if region is not None else None
        try:
            for lo in range(0, count, part):
                hi = min(lo + part, count)
                if fd is None:
                    np.copyto(out[lo:hi], self.x[start + lo:start + hi], casting="unsafe")
                    _advise(self.x, slice(start + lo, start + hi), mmap.MADV_DONTNEED)
                    continue
                same = self.x.dtype == out.dtype
                target = out[lo:hi] if same else np.empty((hi - lo, self.x.shape[1]),
                                                          self.x.dtype)
                _pread_into(fd, target, region[1] + (start + lo) * self.x.strides[0])
                if not same:
                    np.copyto(out[lo:hi], target, casting="unsafe")
        finally:
            if fd is not None:
                os.close(fd)
        return out

    def chunk_rows(self) -> int:
        row_bytes = self.x.shape[1] * np.dtype(self.model.dtype).itemsize
        return self.batch_size * max(1, CHUNK_BYTES // max(1, self.batch_size * row_bytes))

    def chunks(self):
        n, step, bs = self.rows, self.chunk_rows(), self.batch_size
        order = None
        if self.shuffle:
            if self._rng is None:
                self._rng = random_generator(self.model)
            order = self._rng.permutation(n)
        for start in range(0, n, step):
            stop = min(start + step, n)
            rows = slice(start, stop) if order is None else np.sort(order[start:stop])
            try:
                x, y, sw = self._convert(rows)
            except ValueError:
                # Train the good batches before the bad one, then say which it is.
                first = self._first_bad_batch(start, stop)
                if first > start and order is None:
                    yield Chunk(*self._convert(slice(start, first)),
                                _sizes(first - start, bs))
                self._release(slice(start, stop) if order is None else None)
                b = first // bs
                self._convert(slice(first, min(first + bs, n)),
                              f"{self.argument}: batch {b} (rows {first}..."
                              f"{min(first + bs, n) - 1}): ")
                raise
            if order is None and stop < n:  # the disk reads the next chunk meanwhile
                self._advise(slice(stop, min(stop + step, n)), mmap.MADV_WILLNEED)
            yield Chunk(x, y, sw, _sizes(stop - start, bs), shuffle=order is not None)
            del x, y, sw
            self._release(slice(start, stop) if order is None else None)
        self._buffer = None  # between passes the source holds no chunk

    def _first_bad_batch(self, start: int, stop: int) -> int:
        for lo in range(start, stop, self.batch_size):
            try:
                self._convert(slice(lo, min(lo + self.batch_size, stop)))
            except ValueError:
                return lo
        return start

    def _release(self, rows) -> None:
        self._advise(rows, mmap.MADV_DONTNEED)

    def _advise(self, rows, advice: int) -> None:
        for arr in (self.x, self.y, self.sample_weight):
            if isinstance(arr, np.ndarray):
                _advise(arr, rows, advice)

    @property
    def steps_per_epoch(self) -> int:
        return self.steps

    def begin_epoch(self) -> None:
        pass

    def end_epoch(self) -> None:
        pass


def _sizes(rows: int, batch_size: int) -> list:
    full, rest = divmod(rows, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


class BatchStream:
    """Batches from a generator, a re-iterable object or a PyDataset-like
    object, with Keras's rules for ``steps_per_epoch``: without it an epoch
    is one pass over the source; with it, each epoch draws that many
    batches from one iterator that goes on across epochs and starts again
    once the source is used up, the epoch that used it up ending early with
    Keras's warning. A generator cannot start again: the run then stops
    (``TrainingRun``; Keras goes on with empty epochs)."""

    def __init__(self, model, argument: str, data, *, steps: int | None, shuffle: bool,
                 class_weight=None, targets: bool = True):
        self.model, self.argument, self.data = model, argument, data
        self.steps, self.class_weight, self.targets = steps, class_weight, targets
        self.rows = None
        self._current = None
        self._seen = 0
        self._delivered = 0  # batches over the whole run
        self._epoch_open = False
        if isinstance(data, types.GeneratorType) or iter_is_self(data):
            self.kind, self.num_batches = "generator", None
        elif hasattr(data, "__len__") and hasattr(data, "__getitem__"):
            self.kind = "PyDataset"
            self.num_batches = _length(data, argument)
        else:
            self.kind = "iterable"
            self.num_batches = _length(data, argument) if hasattr(data, "__len__") else None
        self.shuffle = shuffle and self.kind == "PyDataset"
        self._rng = None
        self._chunk = _ChunkBuilder(model, targets)

    def _new_iterator(self):
        if self.kind == "generator":
            # A generator cannot start over: later epochs find it exhausted.
            return self.data
        if self.kind == "PyDataset":
            order = np.arange(self.num_batches)
            if self.shuffle:
                if self._rng is None:
                    self._rng = random_generator(self.model)
                order = self._rng.permutation(self.num_batches)
            return (self.data[int(i)] for i in order)
        return iter(self.data)

    @property
    def steps_per_epoch(self) -> int | None:
        return self.steps or self.num_batches

    def _batches(self):
        """The raw batches of one epoch (Keras's EpochIterator rules)."""
        steps = self.steps or self.num_batches
        if not steps:
            seen = 0
            for batch in self._new_iterator():
                seen += 1
                yield batch
            self.num_batches = seen
            return
        if self._current is None or self.steps is None:
            self._current, self._seen = self._new_iterator(), 0
        for _ in range(steps):
            if self.num_batches is not None and self._seen >= self.num_batches:
                if self.steps:
                    self._run_dry()
                break
            try:
                batch = next(self._current)
            except StopIteration:
                if self.num_batches is None:
                    self.num_batches = self._seen
                self._current = None
                self._run_dry()
                break
            self._seen += 1
            yield batch
        if self.num_batches is not None and self._seen >= self.num_batches:
            self._current = None

    def _run_dry(self) -> None:
        warnings.warn(RAN_DRY, UserWarning, stacklevel=2)

    def begin_epoch(self) -> None:
        hook = getattr(self.data, "on_epoch_begin", None) if self.kind == "PyDataset" else None
        if hook is not None:
            hook()
        self._epoch_open = True

    def end_epoch(self) -> None:
        hook = getattr(self.data, "on_epoch_end", None) if self.kind == "PyDataset" else None
        if self._epoch_open and hook is not None:
            hook()
        self._epoch_open = False

    def chunks(self):
        """The epoch's batches gathered into chunks; a bad batch raises
        ValueError naming it, after the batches before it were yielded."""
        index = -1
        try:
            for index, batch in enumerate(self._batches()):
                parts = _parts(batch, index, self.argument, self.targets)
                prefix = f"{self.argument}: batch {index}: "
                if self.targets:
                    x, y, sw = self.model.engine_data(*parts, self.class_weight, prefix=prefix)
                else:
                    x, y, sw = self.model.engine_features(parts[0], prefix + "x"), None, None
                if not self._chunk.fits(x):
                    # Yielded before the next add overwrites the buffer.
                    yield self._chunk.take()
                self._chunk.add(x, y, sw, prefix)
        except ValueError:
            pending = self._chunk.take()
            if pending is not None:
                yield pending
            raise
        last = self._chunk.take()
        if last is not None:
            yield last
        self._delivered += index + 1
        if not self._delivered:
            raise ValueError(f"{self.argument}: the {self.kind} yielded no batches")


def iter_is_self(data) -> bool:
    try:
        return hasattr(data, "__next__") and iter(data) is data
    except TypeError:
        return False


def _length(data, argument: str) -> int:
    try:
        n = len(data)
    except TypeError:
        return None
    if not isinstance(n, int) or n < 0:
        raise TypeError(f"{argument}: len() gave {n!r}, expected a number of batches")
    if n == 0:
        raise ValueError(f"{argument}: has no batches (len() is 0)")
    return n


def _parts(batch, index: int, argument: str, targets: bool):
    """(x, y, sample_weight) of one batch, y and sample_weight None for
    predict's batches of x alone."""
    if isinstance(batch, (tuple, list)) and 1 <= len(batch) <= 3 and not (
            len(batch) and np.ndim(batch[0]) == 1 and not targets):
        parts = tuple(batch) + (None,) * (3 - len(batch))
        if targets and (len(batch) == 1 or parts[1] is None):
            raise ValueError(f"{argument}: batch {index} has no targets; expected (x, y) "
                             "or (x, y, sample_weight)")
        return parts
    if targets:
        raise ValueError(f"{argument}: batch {index} is {type(batch).__name__}; expected a "
                         "tuple (x, y) or (x, y, sample_weight)")
    return batch, None, None


class _ChunkBuilder:
    """Copies converted batches into one reusable contiguous buffer of about
    CHUNK_BYTES; hands it out when the next batch would not fit."""

    def __init__(self, model, targets: bool):
        self.model, self.targets = model, targets
        self.x = self.y = self.sw = None
        self.rows, self.sizes, self.weighted = 0, [], None

    def fits(self, x) -> bool:
        """Whether batch `x` fits after the rows gathered so far."""
        return self.x is None or not self.rows or self.rows + x.shape[0] <= self.x.shape[0]

    def add(self, x, y, sw, prefix: str) -> None:
        if x.shape[0] == 0:
            raise ValueError(f"{prefix}x: the batch is empty")
        if self.targets:
            if self.weighted is None:
                self.weighted = sw is not None
            elif self.weighted != (sw is not None):
                raise ValueError(f"{prefix}sample_weight: every batch must have sample weights "
                                 "or none must (the first one " +
                                 ("had" if self.weighted else "had none") + ")")
        if self.x is None or self.rows + x.shape[0] > self.x.shape[0]:
            cap = max(x.shape[0], CHUNK_BYTES // max(1, x.strides[0]))
            self.x = np.empty((cap, x.shape[1]), dtype=x.dtype)
            if y is not None:
                self.y = np.empty((cap, *y.shape[1:]), dtype=y.dtype)
            self.sw = np.empty(cap, dtype=x.dtype) if sw is not None else None
        lo, hi = self.rows, self.rows + x.shape[0]
        self.x[lo:hi] = x
        if y is not None:
            self.y[lo:hi] = y
        if sw is not None:
            self.sw[lo:hi] = sw
        self.rows = hi
        self.sizes.append(x.shape[0])

    def take(self):
        """The rows gathered so far as a Chunk (None when empty). Its arrays
        are views of the buffer: used before the next ``add``."""
        if not self.rows:
            return None
        n = self.rows
        chunk = Chunk(self.x[:n], None if self.y is None else self.y[:n],
                      None if self.sw is None else self.sw[:n], self.sizes)
        self.rows, self.sizes = 0, []
        return chunk


# --------------------------------------------------------------- selection


def source(model, argument: str, x, y=None, sample_weight=None, *, batch_size=None,
           steps=None, shuffle=False, class_weight=None, targets=True):
    """A batch source for `x` (and `y`, `sample_weight`), or None when `x`
    is an in-memory array. Raises Keras's ValueError for `y` or
    `sample_weight` given with a source that yields batches."""
    if _dask.is_collection(x):
        if steps is not None:
            raise ValueError(f"{_steps_name(argument)}: only for generators, iterables and "
                             f"PyDatasets; a {_dask.DaskSource.kind} runs its partitions")
        return _dask.DaskSource(model, argument, x, y, sample_weight, batch_size=batch_size,
                                shuffle=shuffle, class_weight=class_weight, targets=targets)
    if is_mapped(x):
        if steps is not None:
            raise ValueError(f"{_steps_name(argument)}: only for generators, iterables and "
                             f"PyDatasets; a {ArraySource.kind} runs ceil(n / batch_size) "
                             "steps")
        if targets and y is None:
            raise ValueError(f"y: required when {argument} is an array")
        return ArraySource(model, argument, x, y, sample_weight, batch_size=batch_size,
                           shuffle=shuffle, class_weight=class_weight, targets=targets)
    if is_array_like(x) or x is None:
        if steps is not None:
            raise ValueError(f"{_steps_name(argument)}: only for generators, iterables and "
                             "PyDatasets; arrays run ceil(n / batch_size) steps")
        return None
    stream = BatchStream(model, argument, x, steps=steps, shuffle=shuffle,
                         class_weight=class_weight, targets=targets)
    for name, given, what in (("y", y, "the targets"),
                              ("sample_weight", sample_weight, "the sample weights")):
        if given is not None:
            raise ValueError(f"When providing `{argument}` as a {stream.kind}, `{name}` should "
                             f"not be passed. Instead, {what} should be included as part of "
                             f"the {stream.kind}.")
    return stream


def _steps_name(argument: str) -> str:
    return {"x": "steps_per_epoch", "validation_data": "validation_steps"}.get(argument, "steps")


def random_generator(model) -> np.random.Generator:
    """NumPy randomness for the Python-side shuffles of a run (PyDataset
    batch order, memory-mapped rows), seeded from the engine's RNG state
    so that a run is reproducible from the model's seed."""
    return np.random.default_rng([int(word) for word in model.engine.get_rng_state()])


# ------------------------------------------------------- evaluate, predict


def evaluate(model, data) -> dict:
    """{"loss": J, <metric>: value, ...} over every chunk of `data` (a
    source): J as ``model.loss`` defines it over all rows, the L2 term
    counted once."""
    engine = model.engine
    accumulators = metric_accumulators(model)
    weighted_sum, rows, chunks = 0.0, 0, 0
    if hasattr(data, "begin_epoch"):
        data.begin_epoch()
    try:
        for chunk in data.chunks():
            n = chunk.x.shape[0]
            chunk_loss = engine.loss(chunk.x, chunk.y, chunk.sample_weight)
            weighted_sum += n * chunk_loss
            rows, chunks = rows + n, chunks + 1
            add_metrics(model, accumulators, chunk)
    finally:
        if hasattr(data, "end_epoch"):
            data.end_epoch()
    if not rows:
        raise ValueError(f"{data.argument}: no batches to evaluate")
    if chunks == 1:  # exactly the array's J
        loss = chunk_loss
    else:
        penalty = l2_penalty(model)  # lambda/2 sum W^2, in every chunk's J
        loss = (weighted_sum - (chunks - 1) * penalty) / rows
    return {"loss": loss, **{m: a.result() for m, a in accumulators.items()}}


def predict(model, data) -> np.ndarray:
    """Predictions for every row of `data` (a source), in order."""
    engine, parts = model.engine, []
    if hasattr(data, "begin_epoch"):
        data.begin_epoch()
    try:
        for chunk in data.chunks():
            parts.append(engine.predict(chunk.x))
    finally:
        if hasattr(data, "end_epoch"):
            data.end_epoch()
    if not parts:
        raise ValueError(f"{data.argument}: no batches to predict")
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def metric_accumulators(model) -> dict:
    """One metric Accumulator per compiled metric."""
    sparse = losses.takes_labels(model.compiled_loss)
    return {m: metric_fns.Accumulator(m, sparse) for m in model.compiled_metrics}


def add_metrics(model, accumulators: dict, chunk: Chunk) -> None:
    """Add the chunk's predictions (one engine call) to every accumulator."""
    if accumulators:
        pred = model.engine.predict(chunk.x)
        for acc in accumulators.values():
            acc.add(chunk.y, pred, chunk.sample_weight)
