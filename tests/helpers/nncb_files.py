"""nncb model files for the C and the Python readers (tests/c/nncb_tool.c,
nnc.load_binary): a model that uses every feature the format stores, and
hand-made damaged and hostile copies of a good file."""

from __future__ import annotations

import struct
import zlib

import nnc


def python_model(dtype, optimizer):
    """A compiled model whose file holds something of every kind: prelu
    slopes, a dropout layer, a layer without bias, a constant bias, L2."""
    model = nnc.Sequential([
        nnc.Input(5),
        nnc.Dense(7, activation="prelu"),
        nnc.Dropout(0.25),
        nnc.Dense(6, activation="gelu", use_bias=False, kernel_initializer="he_normal"),
        nnc.Dense(3, activation="softmax", bias_initializer=nnc.initializers.Constant(0.1)),
    ], dtype=dtype, seed=11)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", l2=0.01)
    return model


def reseal(data: bytes) -> bytes:
    """Recompute the trailing CRC so a doctored file passes the checksum and
    the reader's other checks must catch it."""
    body = data[:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def doctored_files(good: bytes) -> dict[str, bytes]:
    def patch(offset, raw, seal=True):
        data = good[:offset] + raw + good[offset + len(raw):]
        return reseal(data) if seal else data

    q = struct.Struct("<q")
    return {
        "empty": b"",
        "truncated": good[:-10],
        "truncated header": good[:50],
        "extended": good + b"\0" * 8,
        "flipped parameter bit": patch(len(good) - 40, bytes([good[-40] ^ 1]), seal=False),
        "bad magic": patch(0, b"\x89NNCX"),
        "version 3": patch(8, struct.pack("<I", 3)),
        "schedule flag in version 1": patch(24, struct.pack("<I", 1 | 4)),
        "clipping in version 1": patch(96 + 3 * 128 + 200, struct.pack("<d", 1.0)),
        "big-endian mark": patch(12, struct.pack(">I", 0x01020304)),
        "unknown dtype": patch(20, struct.pack("<I", 7)),
        "unknown flag": patch(24, struct.pack("<I", 1 | 8)),
        "zero layers": patch(28, struct.pack("<I", 0)),
        "2^32-1 layers": patch(28, struct.pack("<I", 0xFFFFFFFF)),
        "negative input_dim": patch(32, q.pack(-3)),
        "huge input_dim": patch(32, q.pack(1 << 62)),
        "huge param count": patch(40, q.pack((1 << 63) - 1)),
        "param count off by one": patch(40, q.pack(q.unpack(good[40:48])[0] + 1)),
        "declared size lies": patch(80, struct.pack("<Q", 1 << 40)),
        "huge optimizer state": patch(72, struct.pack("<Q", (1 << 64) - 1)),
        "reserved header byte": patch(90, b"\x01"),
        "unknown activation": patch(96 + 8, b"relux".ljust(24, b"\0")),
        "unterminated name": patch(96 + 8, b"x" * 24),
        "name with bad byte": patch(96 + 8, b"re\xc3lu".ljust(24, b"\0")),
        "bytes after a name": patch(96 + 8, b"relu\0x".ljust(24, b"\0")),
        "units zero": patch(96, q.pack(0)),
        "units huge": patch(96, q.pack(1 << 45)),
        "bias flag 2": patch(96 + 40, struct.pack("<I", 2)),
        "dropout 1.5": patch(96 + 32, struct.pack("<d", 1.5)),
        "NaN init param": patch(96 + 72, struct.pack("<d", float("nan"))),
        "unknown loss": patch(96 + 3 * 128, b"hinge".ljust(40, b"\0")),
        "loss/output mismatch": patch(96 + 3 * 128, b"binary_crossentropy".ljust(40, b"\0")),
        "unknown optimizer": patch(96 + 3 * 128 + 48, b"adamax".ljust(16, b"\0")),
        "negative learning rate": patch(96 + 3 * 128 + 64, struct.pack("<d", -1.0)),
        "NaN l2": patch(96 + 3 * 128 + 40, struct.pack("<d", float("nan"))),
        "NaN parameter": patch(96 + 3 * 128 + 256, struct.pack("<f", float("nan"))),
        "corrupt optimizer state": patch(len(good) - 20, b"\xff\xff\xff\xff"),
    }
