"""An independent Python reader and writer of the "nncb" binary model
format, version 1, written from ``docs/nncb-format.md`` alone: the oracle
the engine's codec (``csrc/engine/nnc_nncb.c``, which nnc itself uses from
C and Python) is compared with, so that a reader and a writer agreeing on a
mistake are caught. Test code only; it builds models through nnc's public
API.

A file holds what the engine knows: dtype, seed, RNG state, layer sizes,
activations, bias flags, dropout rates and initializers, the compile
settings (loss, l2, optimizer hyper-parameters) and the optimizer state.
Python-only details (model and layer names, metrics) are not stored; use
``model.save("x.npz")`` to keep those.

The reader trusts nothing: it checks the magic, version, byte-order mark,
declared size against the real file size (before reading the rest), the
CRC-32, every name, flag, reserved byte and count, and that the layer
sizes imply exactly the stored number of parameters; anything else raises
``nnc.errors.ModelFileError`` (a ``ValueError``).
"""

from __future__ import annotations

import inspect
import os
import struct
import zlib

import numpy as np

import nnc
from nnc import _core
from nnc.errors import ModelFileError
from nnc.layers import Dense, Dropout, Input, engine_specs

MAGIC = b"\x89NNCB\r\n\x1a"
VERSION = 1
BYTE_ORDER_MARK = 0x01020304
FLAG_COMPILED = 1
FLAG_OPTIMIZER_STATE = 2
MAX_LAYERS = 100_000
MAX_ELEMS = 1 << 40  # the engine's per-buffer element limit

# Little-endian records (offsets in docs/nncb-format.md).
HEADER = struct.Struct("<8s6I2q5Q8x")           # 96 bytes
LAYER = struct.Struct("<q24sdI4x24sd24sd16x")     # 128 bytes
COMPILE = struct.Struct("<40sd16s12d3q4I56x")    # 256 bytes
TRAILER = struct.Struct("<I")
_OPT_REALS = ("learning_rate", "momentum", "dampening", "weight_decay", "lr_decay",
              "initial_accumulator_value", "alpha", "beta1", "beta2", "eps", "tolerance_grad",
              "tolerance_change")
_OPT_INTS = ("max_iter", "max_eval", "history_size")
_OPT_FLAGS = ("nesterov", "centered", "amsgrad", "line_search_strong_wolfe")
_DTYPES = ("float32", "float64")

assert HEADER.size == 96 and LAYER.size == 128 and COMPILE.size == 256


def _name_field(name: str, width: int) -> bytes:
    raw = name.encode("ascii")
    if len(raw) >= width:
        raise ValueError(f"name {name!r} does not fit the {width}-byte field")
    return raw


def _read_name(raw: bytes, what: str) -> str:
    text, nul, rest = raw.partition(b"\0")
    if not nul or not text or rest.strip(b"\0"):
        raise ModelFileError(f"{what} name is empty, not NUL-terminated or has trailing bytes")
    if not all(c == 0x5F or 0x30 <= c <= 0x39 or 0x61 <= c <= 0x7A for c in text):
        raise ModelFileError(f"{what} name holds invalid bytes: {text!r}")
    return text.decode("ascii")


# ------------------------------------------------------------------ writing


def _optimizer_record(model) -> tuple:
    opt = model.optimizer
    # The fields this optimizer does not read are stored as 0.
    cfg = {**_core.optimizer_defaults(opt.name), **opt.engine_options()}
    cfg["learning_rate"] = model.learning_rate
    l2 = model.get_compile_config()["l2"]
    return (_name_field(model.compiled_loss, 40), float(l2), _name_field(opt.name, 16),
            *(float(cfg.get(k, 0.0)) for k in _OPT_REALS), *(int(cfg.get(k, 0)) for k in _OPT_INTS),
            *(int(bool(cfg.get(k, False))) for k in _OPT_FLAGS))


def to_bytes(model) -> bytes:
    """The model in nncb format (builds it first if its input size is known)."""
    core = model.engine
    specs = engine_specs(model.layers)
    compiled = model.optimizer is not None
    blob = core.get_optimizer_state() if compiled else b""
    flags = (FLAG_COMPILED if compiled else 0) | (FLAG_OPTIMIZER_STATE if blob else 0)
    params = core.get_params().astype("<f4" if model.dtype == "float32" else "<f8").tobytes()
    parts = [b""]  # header filled in below, once the total size is known
    for units, act, use_bias, dropout, kinit, kparam, binit, bparam in specs:
        parts.append(LAYER.pack(units, _name_field(act, 24), dropout, int(use_bias),
                                _name_field(kinit, 24), kparam, _name_field(binit, 24), bparam))
    if compiled:
        parts.append(COMPILE.pack(*_optimizer_record(model)))
    parts += [params, bytes(blob)]
    total = HEADER.size + sum(len(p) for p in parts) + TRAILER.size
    rng = core.get_rng_state()
    parts[0] = HEADER.pack(MAGIC, VERSION, BYTE_ORDER_MARK, HEADER.size,
                           _DTYPES.index(model.dtype), flags, len(specs), model.input_dim,
                           core.num_params, model.seed, int(rng[0]), int(rng[1]), len(blob),
                           total)
    body = b"".join(parts)
    return body + TRAILER.pack(zlib.crc32(body))


# ------------------------------------------------------------------ reading


def _check_header(raw: bytes, size: int) -> tuple:
    if size < HEADER.size + TRAILER.size or len(raw) < HEADER.size:
        raise ModelFileError("too short to be an nncb model")
    (magic, version, bom, header_size, dtype, flags, n_layers, input_dim, n_params, seed,
     rng0, rng1, opt_bytes, total) = HEADER.unpack(raw[:HEADER.size])
    if magic != MAGIC:
        raise ModelFileError("not an nncb model (bad magic bytes)")
    if version != VERSION:
        raise ModelFileError(f"unsupported nncb version {version} (this reader knows {VERSION})")
    if bom != BYTE_ORDER_MARK:
        raise ModelFileError("bad byte-order mark (not little-endian nncb)")
    if header_size != HEADER.size:
        raise ModelFileError(f"bad header size {header_size}")
    if dtype >= len(_DTYPES):
        raise ModelFileError(f"unknown dtype code {dtype}")
    if flags & ~(FLAG_COMPILED | FLAG_OPTIMIZER_STATE):
        raise ModelFileError(f"unknown flags {flags:#x}")
    if flags & FLAG_OPTIMIZER_STATE and not flags & FLAG_COMPILED:
        raise ModelFileError("optimizer state without compile settings")
    if not 1 <= n_layers <= MAX_LAYERS:
        raise ModelFileError(f"layer count {n_layers} out of range [1, {MAX_LAYERS}]")
    if not 1 <= input_dim <= MAX_ELEMS:
        raise ModelFileError(f"input_dim {input_dim} out of range")
    if not 1 <= n_params <= MAX_ELEMS:
        raise ModelFileError(f"parameter count {n_params} out of range")
    if (opt_bytes > 0) != bool(flags & FLAG_OPTIMIZER_STATE):
        raise ModelFileError("optimizer state size disagrees with the flags")
    if raw[88:96].strip(b"\0"):
        raise ModelFileError("header: reserved bytes are not zero")
    if total != size:
        raise ModelFileError(f"the header declares {total} bytes, the data has {size}")
    itemsize = 4 if dtype == 0 else 8
    expected = (HEADER.size + n_layers * LAYER.size + (COMPILE.size if flags & FLAG_COMPILED
                                                        else 0)
                + n_params * itemsize + opt_bytes + TRAILER.size)
    if expected != size:
        raise ModelFileError(f"section sizes add up to {expected} bytes, the data has {size}")
    return (_DTYPES[dtype], flags, n_layers, input_dim, n_params, seed, (rng0, rng1), opt_bytes)


def _layers(data: bytes, n_layers: int, input_dim: int, n_params: int) -> list:
    layers, fan_in, implied = [Input(input_dim)], input_dim, 0
    for i in range(n_layers):
        off = HEADER.size + i * LAYER.size
        record = data[off:off + LAYER.size]
        (units, act, dropout, use_bias, kinit, kparam, binit, bparam) = LAYER.unpack(record)
        if record[44:48].strip(b"\0") or record[112:].strip(b"\0"):
            raise ModelFileError(f"layer {i}: reserved bytes are not zero")
        if not 1 <= units <= MAX_ELEMS or fan_in * units > MAX_ELEMS:
            raise ModelFileError(f"layer {i}: units {units} out of range")
        if use_bias > 1:
            raise ModelFileError(f"layer {i}: use_bias must be 0 or 1")
        act = _read_name(act, "activation")
        implied += fan_in * units + units * use_bias + units * (act == "prelu")
        try:
            if dropout != 0.0:
                layers.append(Dropout(dropout))
            layers.append(Dense(units, activation=act, use_bias=bool(use_bias),
                                kernel_initializer={"name": _read_name(kinit, "initializer"),
                                                    "param": kparam},
                                bias_initializer={"name": _read_name(binit, "initializer"),
                                                  "param": bparam}))
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"layer {i}: {exc}") from None
        fan_in = units
    if implied != n_params:
        raise ModelFileError(f"the layers imply {implied} parameters, the header says {n_params}")
    return layers


_OPTIMIZERS = {cls.name: cls for cls in (nnc.optimizers.SGD, nnc.optimizers.Adagrad,
                                          nnc.optimizers.RMSprop, nnc.optimizers.Adam,
                                          nnc.optimizers.AdamW, nnc.optimizers.LBFGS)}


def _compile(model, record: bytes) -> None:
    fields = COMPILE.unpack(record)
    if record[200:].strip(b"\0"):
        raise ModelFileError("compile record: reserved bytes are not zero")
    loss, l2, name = _read_name(fields[0], "loss"), fields[1], _read_name(fields[2], "optimizer")
    values = dict(zip(_OPT_REALS + _OPT_INTS + _OPT_FLAGS, fields[3:]))
    if any(values[k] > 1 for k in _OPT_FLAGS):
        raise ModelFileError("an optimizer flag is not 0 or 1")
    if name not in _OPTIMIZERS:
        raise ModelFileError(f"unknown optimizer {name!r}")
    cls = _OPTIMIZERS[name]
    kwargs = {}
    for arg in inspect.signature(cls.__init__).parameters:
        if arg == "betas":
            kwargs[arg] = (values["beta1"], values["beta2"])
        elif arg == "line_search_fn":
            kwargs[arg] = "strong_wolfe" if values["line_search_strong_wolfe"] else None
        elif arg == "max_eval":
            kwargs[arg] = values[arg] if values[arg] > 0 else None
        elif arg in _OPT_FLAGS:
            kwargs[arg] = bool(values[arg])
        elif arg in values:
            kwargs[arg] = values[arg]
    try:
        model.compile(optimizer=cls(**kwargs), loss=loss, l2=l2)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid compile settings: {exc}") from None


def from_bytes(data: bytes):
    """A Sequential from nncb bytes (see the module docstring for checks)."""
    data = bytes(data)
    (dtype, flags, n_layers, input_dim, n_params, seed, rng, opt_bytes) = \
        _check_header(data[:HEADER.size], len(data))
    (crc,) = TRAILER.unpack(data[-TRAILER.size:])
    if crc != zlib.crc32(memoryview(data)[:-TRAILER.size]):
        raise ModelFileError("checksum mismatch (the data is corrupt)")
    layers = _layers(data, n_layers, input_dim, n_params)
    try:
        model = nnc.Sequential(layers, dtype=dtype, seed=seed)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(str(exc)) from None
    off = HEADER.size + n_layers * LAYER.size
    if flags & FLAG_COMPILED:
        _compile(model, data[off:off + COMPILE.size])
        off += COMPILE.size
    itemsize = np.dtype(dtype).itemsize
    params = np.frombuffer(data, dtype="<f4" if dtype == "float32" else "<f8", count=n_params,
                           offset=off).astype(dtype)
    if not np.all(np.isfinite(params)):
        raise ModelFileError("the parameters contain NaN or infinity")
    off += n_params * itemsize
    model.build()
    state = {"params": params, "rng_state": rng}
    if opt_bytes:
        state["optimizer_state"] = np.frombuffer(data[off:off + opt_bytes], dtype=np.uint8)
    try:
        model.set_training_state(state)
    except ValueError as exc:
        raise ModelFileError(f"invalid optimizer state: {exc}") from None
    return model


def load_binary(path):
    """Load a model written by ``save_binary``, ``model.save("x.nncb")`` or
    the C library's ``nnc_model_save``."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(HEADER.size)
            _check_header(head, size)  # before reading (and allocating) the rest
            data = head + f.read(size - len(head))
        if len(data) != size:
            raise ModelFileError("the file changed size while being read")
        return from_bytes(data)
    except ModelFileError as exc:
        raise ModelFileError(f"load_binary: {path}: {exc}") from None
