"""Saving and loading models: one NumPy ``.npz`` file, no pickle inside.

A file holds these entries:

- ``architecture``: a JSON document (format, version, dtype, seed, name,
  input_dim, whether it is built, layer configs, compile settings with the current learning
  rate),
- ``params``: the flat parameter vector,
- ``rng_state``: the engine RNG's two words (uint64),
- ``optimizer_state``: the engine's optimizer blob (uint8), when compiled.

Saving writes a temporary file in the target's directory, flushes it to
disk and renames it over the target, so the target is never half written.
Loading never unpickles and never executes anything from the file; every
entry's declared type and size is checked against the architecture before
anything is allocated.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT = "nnc-model"
VERSION = 1
MAX_ARCHITECTURE_BYTES = 1 << 20
#: Deflated entries may expand at most this much (weights barely compress).
MAX_COMPRESSION_RATIO = 1000


class ModelFileError(ValueError):
    """A file that is not a valid nnc model."""


# ------------------------------------------------------------------ writing


def model_state(model, weights_only: bool = False) -> tuple[dict, dict]:
    """(architecture dict, arrays dict) describing the whole model."""
    arch = {
        "format": FORMAT, "version": VERSION, "name": model.name, "dtype": model.dtype,
        "seed": model.seed, "input_dim": model.input_dim, "built": model.built,
        "layers": [layer.get_config() for layer in model.layers], "compile": None,
    }
    arrays: dict[str, np.ndarray] = {}
    if not model.built and model.input_dim is not None:
        model.build()  # the file must hold the weights its architecture implies
    if model.built:
        core = model._core
        arrays["params"] = core.get_params()
        if not weights_only:
            arrays["rng_state"] = np.array(core.get_rng_state(), dtype=np.uint64)
    if model.optimizer is not None and not weights_only:
        config = model.optimizer.get_config()
        config["learning_rate"] = model.learning_rate
        if "betas" in config:
            config["betas"] = list(config["betas"])
        arch["compile"] = {"loss": model.compiled_loss, "l2": model._l2, "optimizer": config,
                           "metrics": list(model._metrics)}
        if model.built:
            arrays["optimizer_state"] = np.frombuffer(core.get_optimizer_state(), dtype=np.uint8)
    return arch, arrays


def write_atomic(path, write) -> None:
    """Call ``write(file)`` on a temporary file next to `path`, flush it to
    disk and rename it over `path`: the target is never half written."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".nnc-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable where the OS allows it
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_npz(path, arch: dict, arrays: dict) -> None:
    write_atomic(path, lambda f: np.savez(f, architecture=np.array(json.dumps(arch)), **arrays))


def save_model(model, path) -> None:
    _write_npz(path, *model_state(model))


def save_weights(model, path) -> None:
    arch, arrays = model_state(model, weights_only=True)
    if "params" not in arrays:
        raise RuntimeError("save_weights: the model is not built yet")
    _write_npz(path, arch, arrays)


# ------------------------------------------------------------------ reading


#: Bytes read at a time: memory grows only as real data arrives.
READ_CHUNK = 1 << 20


def _entry_info(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The zip entry `name`.npy, after checking that what it declares is
    plausible for the archive it sits in (a zip bomb or a forged header
    is refused here, before anything is decompressed)."""
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise ModelFileError(f"missing entry '{name}'") from None
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"entry '{name}' uses an unsupported compression")
    if info.flag_bits & 0x1:
        raise ModelFileError(f"entry '{name}' is encrypted")
    archive_size = getattr(zf, "_nnc_archive_size", None)
    if archive_size is not None and info.compress_size > archive_size:
        raise ModelFileError(f"entry '{name}' declares {info.compress_size} compressed bytes, "
                             f"more than the file's {archive_size}")
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1) + 4096:
        raise ModelFileError(f"entry '{name}' claims an implausible compression ratio")
    return info


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


def _read_entry(zf: zipfile.ZipFile, name: str, dtype: np.dtype,
                shape: tuple | None, max_bytes: int) -> np.ndarray:
    """Read entry `name` as an array of exactly `dtype` (and `shape` unless
    None), refusing anything else before allocating more than the file's
    own size justifies."""
    info = _entry_info(zf, name)
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            found_shape, fortran, found_dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"entry '{name}' has an unsupported .npy version {version}")
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
    arr = np.frombuffer(data, dtype=dtype).reshape(found_shape, order="F" if fortran else "C")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _read_architecture(zf: zipfile.ZipFile) -> dict:
    info = _entry_info(zf, "architecture")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(f"entry 'architecture' has an unsupported .npy version "
                                 f"{version}")
        reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        shape, _, dtype = reader(f)
    if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_ARCHITECTURE_BYTES:
        raise ModelFileError("entry 'architecture' is not a JSON string")
    text = _read_entry(zf, "architecture", dtype, (), MAX_ARCHITECTURE_BYTES)[()]
    try:
        arch = json.loads(str(text))
    except (ValueError, RecursionError) as exc:  # deep nesting is a RecursionError
        raise ModelFileError(f"the architecture is not valid JSON ({type(exc).__name__})") \
            from None
    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError("not an nnc model (format tag missing)")
    if arch.get("version") != VERSION:
        raise ModelFileError(f"unsupported nnc file version {arch.get('version')!r}")
    return arch


def _expect(value, kind, what: str):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelFileError(f"architecture field '{what}' has the wrong type")
    return value


def _param_count(model) -> int:
    """Parameters the (not yet built) model will have: computed from the
    layers it was given, so a file cannot make build() allocate more than
    its own 'params' entry holds."""
    fan_in = model.input_dim
    total = 0
    for layer in model._dense:
        total += fan_in * layer.units + layer.units * layer.use_bias + \
            layer.units * (layer.activation == "prelu")
        fan_in = layer.units
    return total


def _model_from_arch(arch: dict):
    from .layers import from_config
    from .model import Sequential

    layers = [from_config(_expect(c, dict, "layers[]"))
              for c in _expect(arch.get("layers"), list, "layers")]
    model = Sequential(layers, dtype=_expect(arch.get("dtype"), str, "dtype"),
                       seed=_expect(arch.get("seed"), int, "seed"),
                       name=_expect(arch.get("name"), str, "name"))
    input_dim = arch.get("input_dim")
    if input_dim is not None:
        input_dim = _expect(input_dim, int, "input_dim")
        if input_dim < 1:
            raise ModelFileError("architecture field 'input_dim' must be >= 1")
        if model.input_dim is None:
            model._input_dim = input_dim
        elif model.input_dim != input_dim:
            raise ModelFileError(f"input_dim {input_dim} contradicts the layers' "
                                 f"{model.input_dim}")
    compile_cfg = arch.get("compile")
    if compile_cfg is not None:
        _expect(compile_cfg, dict, "compile")
        model.compile(optimizer=_expect(compile_cfg.get("optimizer"), dict, "optimizer"),
                      loss=compile_cfg.get("loss"), l2=compile_cfg.get("l2", 0.0),
                      metrics=compile_cfg.get("metrics") or None)
    return model


def restore(arch: dict, read) -> object:
    """A Sequential from an architecture and a `read(name, dtype, shape,
    max_bytes)` function giving the arrays."""
    model = _model_from_arch(arch)
    if model.input_dim is None or not _expect(arch.get("built", True), bool, "built"):
        return model
    n = _param_count(model)
    dtype = np.dtype(model.dtype)
    params = read("params", dtype, (n,), n * dtype.itemsize)
    rng_state = read("rng_state", np.dtype(np.uint64), (2,), 16)
    blob = None
    if model.optimizer is not None:
        blob = read("optimizer_state", np.dtype(np.uint8), None, 1 << 62)
        if blob.ndim != 1:
            raise ModelFileError("entry 'optimizer_state' must be 1-D bytes")
    model.build()
    core = model._core
    core.set_params(params)
    core.set_rng_state(tuple(int(v) for v in rng_state))
    if blob is not None:
        core.set_optimizer_state(blob.tobytes())
    return model


def load_model(path):
    """Load a model written by ``Sequential.save`` (an .npz file, or an
    nncb file, recognised by its magic bytes); ValueError (or
    ``nnc.io.ModelFileError``, a ValueError) for anything that is not one."""
    path = os.fspath(path)
    from . import nncb

    if nncb.is_nncb(path):  # the binary format the C library writes
        return nncb.load_binary(path)
    try:
        with _open_archive(path) as zf:
            arch = _read_architecture(zf)

            def read(name, dtype, shape, max_bytes):
                return _read_entry(zf, name, dtype, shape, max_bytes)

            return restore(arch, read)
    except _OpenError as exc:
        raise exc.__cause__ from None
    except ModelFileError as exc:
        raise ModelFileError(f"load_model: {path}: {exc}") from None
    except _FILE_ERRORS as exc:
        raise ModelFileError(f"load_model: {path}: not a valid nnc model file "
                             f"({type(exc).__name__}: {exc})") from None


#: What a broken or hostile file can make zipfile, numpy's header parser or
#: the model constructors raise; load_* turn them into ModelFileError. OSError
#: is among them (zipfile seeks to offsets read from the file): a file that
#: cannot be opened at all is reported by _open_archive as itself.
_FILE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, IndexError,
                TypeError, ValueError, OverflowError, MemoryError, NotImplementedError,
                RuntimeError, RecursionError, SyntaxError, zlib.error, struct.error, OSError)


class _OpenError(Exception):
    """The file could not be opened (its OSError is the __cause__)."""


def _open_archive(path: str) -> zipfile.ZipFile:
    """The zip archive at `path`, remembering its real size on disk so that
    no entry can claim to hold more than the file does."""
    try:
        fh = open(path, "rb")
        size = os.fstat(fh.fileno()).st_size
    except OSError as exc:  # missing, a directory, no permission: not a format error
        raise _OpenError() from exc
    try:
        zf = zipfile.ZipFile(fh)
    except BaseException:
        fh.close()
        raise
    zf._nnc_archive_size = size
    zf._nnc_file = fh  # closed with the archive below
    return _ClosingZip(zf)


class _ClosingZip:
    """Context manager closing the archive and the file it reads."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf

    def __enter__(self) -> zipfile.ZipFile:
        return self.zf

    def __exit__(self, *exc_info) -> None:
        self.zf.close()
        self.zf._nnc_file.close()


def load_weights(model, path) -> None:
    """Set `model`'s weights from a file written by save_weights or save."""
    path = os.fspath(path)
    core = model._require_core()
    dtype = np.dtype(model.dtype)
    try:
        with _open_archive(path) as zf:
            arch = _read_architecture(zf)
            stored = np.dtype(_expect(arch.get("dtype"), str, "dtype"))
            if stored not in (np.dtype("float32"), np.dtype("float64")):
                raise ModelFileError(f"unsupported dtype {stored}")
            n = core.num_params
            params = _read_entry(zf, "params", stored, (n,), n * stored.itemsize)
    except _OpenError as exc:
        raise exc.__cause__ from None
    except ModelFileError as exc:
        raise ModelFileError(f"load_weights: {path}: {exc}") from None
    except _FILE_ERRORS as exc:
        raise ModelFileError(f"load_weights: {path}: not a valid nnc weights file "
                             f"({type(exc).__name__}: {exc})") from None
    model.set_flat_params(params.astype(dtype))
