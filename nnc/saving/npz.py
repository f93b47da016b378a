"""The ``.npz`` model file: a NumPy zip archive, no pickle inside.

A file holds these entries:

- ``architecture``: a JSON document (format and version tags, the model's
  class, its ``get_config()``, whether it is built, its
  ``get_compile_config()`` with the current learning rate),
- ``params``: the flat parameter vector,
- ``rng_state``: the engine RNG's two words (uint64),
- ``optimizer_state``: the engine's optimizer blob (uint8), when compiled.

Writing is atomic (``write_atomic``). Reading never unpickles and never
executes anything from the file; every entry's declared type and size is
checked (against what the caller expects and against the archive's size on
disk) before anything is allocated, and each entry is read to its end so
that zipfile checks its CRC-32.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib

import numpy as np

from ..errors import ModelFileError
from .files import open_regular, write_atomic

FORMAT = "nnc-model"
VERSION = 1
MAX_ARCHITECTURE_BYTES = 1 << 20
#: Deflated entries may expand at most this much (weights barely compress).
MAX_COMPRESSION_RATIO = 1000
#: Bytes read at a time: memory grows only as real data arrives.
READ_CHUNK = 1 << 20

#: What a broken or hostile file can make zipfile, numpy's header parser or
#: the model constructors raise; loaders turn them into ModelFileError.
#: OSError is among them (zipfile seeks to offsets read from the file): a
#: file that cannot be opened at all is reported by open_archive as itself.
FILE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, IndexError,
               TypeError, ValueError, OverflowError, MemoryError, NotImplementedError,
               RuntimeError, RecursionError, SyntaxError, zlib.error, struct.error, OSError)


def write(path, architecture: dict, arrays: dict) -> None:
    """Write an archive of the architecture document (as JSON, with this
    format's FORMAT and VERSION tags) and the arrays, atomically."""
    write_atomic(path, lambda f: np.savez(f, architecture=np.array(json.dumps(architecture)),
                                          **arrays))


class OpenError(Exception):
    """The file could not be opened (its OSError is the __cause__)."""


class Archive:
    """An open model archive (a context manager); ``architecture`` is its
    checked JSON document, ``read`` reads one array entry."""

    def __init__(self, path: str):
        try:
            self._file = open_regular(path)
            self._size = os.fstat(self._file.fileno()).st_size
        except OSError as exc:  # missing, a directory, a device, no permission: not a format error
            raise OpenError() from exc
        try:
            self._zip = zipfile.ZipFile(self._file)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info) -> None:
        self._zip.close()
        self._file.close()

    def _entry(self, name: str) -> zipfile.ZipInfo:
        """The zip entry `name`.npy, after checking that what it declares is
        plausible for the archive it sits in (a zip bomb or a forged header
        is refused here, before anything is decompressed)."""
        try:
            info = self._zip.getinfo(name + ".npy")
        except KeyError:
            raise ModelFileError(f"missing entry '{name}'") from None
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"entry '{name}' uses an unsupported compression")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"entry '{name}' is encrypted")
        if info.compress_size > self._size:
            raise ModelFileError(f"entry '{name}' declares {info.compress_size} compressed "
                                 f"bytes, more than the file's {self._size}")
        if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1) + 4096:
            raise ModelFileError(f"entry '{name}' claims an implausible compression ratio")
        return info

    def read(self, name: str, dtype: np.dtype, shape: tuple | None,
             max_bytes: int) -> np.ndarray:
        """Entry `name` as an array of exactly `dtype` (and `shape` unless
        None), refusing anything else before allocating more than the file's
        own size justifies."""
        info = self._entry(name)
        with self._zip.open(info) as f:
            found_shape, fortran, found_dtype = _read_header(f, name)
            if found_dtype != dtype:
                raise ModelFileError(f"entry '{name}' has dtype {found_dtype}, expected {dtype}")
            if shape is not None and tuple(found_shape) != tuple(shape):
                raise ModelFileError(f"entry '{name}' has shape {found_shape}, expected {shape}")
            if any(int(dim) < 0 for dim in found_shape):
                raise ModelFileError(f"entry '{name}' has a negative dimension {found_shape}")
            count = 1
            for dim in found_shape:
                count *= int(dim)
            nbytes = count * dtype.itemsize
            if nbytes > max_bytes or nbytes > info.file_size:
                raise ModelFileError(
                    f"entry '{name}' declares {nbytes} bytes, more than the file holds")
            data = _read_exactly(f, nbytes, name)
        arr = np.frombuffer(data, dtype=dtype).reshape(found_shape,
                                                        order="F" if fortran else "C")
        return arr if arr.flags.c_contiguous else arr.copy(order="C")

    @property
    def architecture(self) -> dict:
        """The JSON document, checked to be an nnc model of this version."""
        with self._zip.open(self._entry("architecture")) as f:
            shape, _, dtype = _read_header(f, "architecture")
        if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_ARCHITECTURE_BYTES:
            raise ModelFileError("entry 'architecture' is not a JSON string")
        text = self.read("architecture", dtype, (), MAX_ARCHITECTURE_BYTES)[()]
        try:
            document = json.loads(str(text))
        except (ValueError, RecursionError) as exc:  # deep nesting is a RecursionError
            raise ModelFileError(f"the architecture is not valid JSON "
                                 f"({type(exc).__name__})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ModelFileError("not an nnc model (format tag missing)")
        if document.get("version") != VERSION:
            raise ModelFileError(f"unsupported nnc file version {document.get('version')!r}")
        return document


def _read_header(f, name: str):
    """(shape, fortran order, dtype) of the .npy stream `f`."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise ModelFileError(f"entry '{name}' has an unsupported .npy version {version}")


def _read_exactly(f, nbytes: int, name: str) -> bytearray:
    """`nbytes` bytes from `f`, allocated chunk by chunk as they arrive."""
    data = bytearray()
    while len(data) < nbytes:
        chunk = f.read(min(READ_CHUNK, nbytes - len(data)))
        if not chunk:
            raise ModelFileError(f"entry '{name}' is truncated")
        data += chunk
    # Reading to the end makes zipfile verify the entry's CRC-32: flipped
    # bits anywhere in the data are caught, not loaded as weights.
    if f.read(1):
        raise ModelFileError(f"entry '{name}' has data after its array")
    return data
