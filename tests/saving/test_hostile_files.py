"""load_model on truncated, corrupted and hand-crafted files: always a
ValueError (nnc.errors.ModelFileError), never code run from the file, never an
allocation beyond what the file holds; save is atomic.
"""

from __future__ import annotations

import io as _io
import json
import os
import pathlib
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest
from helpers.measures import measured
from helpers.processes import PACKAGE_PARENT
from nnc.io import ModelFileError

import nnc


def small_model(dtype="float64"):
    model = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=3),
                            nnc.Dense(2, activation="softmax")], dtype=dtype, seed=4)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3))
    model.fit(x, nnc.datasets.one_hot(rng.integers(0, 2, 16), 2), epochs=2, batch_size=4,
              verbose=0)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(model, path, bytes) of a trained, saved model."""
    path = tmp_path_factory.mktemp("good") / "model.npz"
    model = small_model()
    model.save(path)
    return model, path, path.read_bytes()


def arch_of(model) -> dict:
    return nnc.saving.model_state(model)["architecture"]


def write_npz(path, arch, arrays, raw_arch=None):
    """An .npz like save() writes, from any architecture and arrays (numpy
    pickles object arrays: the loader must never unpickle them)."""
    text = raw_arch if raw_arch is not None else json.dumps(arch)
    np.savez(path, architecture=np.array(text), **arrays)
    return path


def assert_same_model(a, b):
    np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())
    assert a.engine.get_optimizer_state() == b.engine.get_optimizer_state()
    assert a.engine.get_rng_state() == b.engine.get_rng_state()
    assert arch_of(a) == arch_of(b)


def test_round_trip_is_exact(saved, tmp_path):
    assert issubclass(ModelFileError, ValueError)
    model, path, _ = saved
    assert_same_model(nnc.load_model(path), model)


def test_every_truncation_is_refused(saved, tmp_path):
    _, _, data = saved
    cuts = sorted(set(np.linspace(0, len(data) - 1, 60).astype(int)) | {0, 1, 21, 22})
    for cut in cuts:
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="load_model"):
            nnc.load_model(bad)
    print(f"\n{len(cuts)} truncations refused")


def test_flipped_bytes_are_refused_or_harmless(saved, tmp_path):
    """Any single corrupted byte either makes load_model raise ValueError or
    (a timestamp, a padding byte) leaves a model identical to the saved one:
    corrupted weights are never loaded silently (the CRC is checked)."""
    model, _, data = saved
    refused = harmless = 0
    bad = tmp_path / "flip.npz"
    for pos in range(0, len(data), max(1, len(data) // 400)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x5A
        bad.write_bytes(bytes(flipped))
        try:
            loaded = nnc.load_model(bad)
        except ValueError:
            refused += 1
            continue
        assert_same_model(loaded, model)
        harmless += 1
    print(f"\nflipped bytes: {refused} refused, {harmless} harmless")
    assert refused > harmless


def test_not_a_model_at_all(tmp_path):
    cases = {"empty": b"", "text": b"hello world\n" * 10, "random": os.urandom(4096),
             "zip_magic_only": b"PK\x03\x04" + b"\0" * 100}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="load_model"):
            nnc.load_model(tmp_path / name)
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(ValueError):
        nnc.load_model(tmp_path / "plain.npy")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="architecture"):
        nnc.load_model(tmp_path / "other.npz")


def _arrays(model):
    return dict(nnc.saving.model_state(model)["arrays"])


@pytest.mark.parametrize("edit, words", [
    (lambda a, r: r.update(params=r["params"][:-1]), "params"),
    (lambda a, r: r.update(params=np.append(r["params"], 0.0)), "params"),
    (lambda a, r: r.update(params=r["params"].reshape(1, -1)), "params"),
    (lambda a, r: r.update(params=r["params"].astype(np.float32)), "dtype"),
    (lambda a, r: r.update(params=r["params"].astype(np.int64)), "dtype"),
    (lambda a, r: r.update(params=r["params"].astype(">f8")), "dtype"),
    (lambda a, r: r.update(params=np.full_like(r["params"], np.nan)), "NaN"),
    (lambda a, r: r.pop("params"), "params"),
    (lambda a, r: r.pop("rng_state"), "rng_state"),
    (lambda a, r: r.update(rng_state=np.zeros(3, np.uint64)), "rng_state"),
    (lambda a, r: r.update(optimizer_state=r["optimizer_state"][:-1]), "optimizer state"),
    (lambda a, r: r.update(optimizer_state=r["optimizer_state"] ^ 1), "optimizer state"),
    (lambda a, r: r.update(optimizer_state=r["optimizer_state"].reshape(1, -1)), "1-D"),
    (lambda a, r: a["layers"][0].update(activation="relux"), "activation"),
    (lambda a, r: a["layers"][0].update(units=6), "params"),
    (lambda a, r: a["layers"][0].update(units=-5), "units"),
    (lambda a, r: a["layers"][0].update(units=2.5), "units"),
    (lambda a, r: a["layers"][0].update(units="5"), "units"),
    (lambda a, r: a["layers"][0].update(input_dim=4), "input_dim"),
    (lambda a, r: a.update(input_dim=0), "input_dim"),
    (lambda a, r: a["layers"][0].update({"class": "Conv2D"}), "Conv2D"),
    (lambda a, r: a["layers"][0].update(kernel_initializer=["glorious", 0.0]), "initializer"),
    (lambda a, r: a["layers"][1].update(activation="linear"), "softmax"),
    (lambda a, r: a.update(dtype="float16"), "dtype"),
    (lambda a, r: a.update(dtype=["float64"]), "dtype"),
    (lambda a, r: a.update(seed=-1), "seed"),
    (lambda a, r: a.update(seed=2**70), "seed"),
    (lambda a, r: a.update(version=99), "version"),
    (lambda a, r: a.update(format="keras"), "format"),
    (lambda a, r: a.update(layers={"0": 1}), "layers"),
    (lambda a, r: a["compile"].update(loss="hinge"), "loss"),
    (lambda a, r: a["compile"]["optimizer"].update(name="adamax"), "optimizer"),
    (lambda a, r: a["compile"]["optimizer"].update(learning_rate=float("nan")), "learning_rate"),
    (lambda a, r: a["compile"]["optimizer"].update(__class__="os.system"), "__class__"),
    (lambda a, r: a["compile"]["optimizer"].update(name="sgd"), "optimizer"),
])
def test_hand_crafted_files_are_refused(saved, tmp_path, edit, words):
    model, _, _ = saved
    arch, arrays = arch_of(model), _arrays(model)
    edit(arch, arrays)
    path = write_npz(tmp_path / "crafted.npz", arch, arrays)
    with pytest.raises(ValueError, match=words):
        nnc.load_model(path)


@pytest.mark.parametrize("raw", [
    "{" * 100_000, "[" * 100_000 + "]" * 100_000, "not json", '"just a string"', "[]",
    '{"format": "nnc-model", "version": 1}', "NaN",
])
def test_malformed_architecture_json(saved, tmp_path, raw):
    path = write_npz(tmp_path / "json.npz", None, _arrays(saved[0]), raw_arch=raw)
    with pytest.raises(ValueError, match="load_model"):
        nnc.load_model(path)


class _Boom:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_objects_are_never_unpickled(saved, tmp_path):
    model, _, _ = saved
    marker = tmp_path / "code-ran"
    boom = np.array([_Boom(marker)], dtype=object)
    cases = {
        "params": lambda a, r: r.update(params=boom),
        "rng_state": lambda a, r: r.update(rng_state=boom),
        "optimizer_state": lambda a, r: r.update(optimizer_state=boom),
        "extra entry": lambda a, r: r.update(payload=boom),
    }
    for name, edit in cases.items():
        arch, arrays = arch_of(model), _arrays(model)
        edit(arch, arrays)
        path = write_npz(tmp_path / "pickled.npz", arch, arrays)
        assert b"code-ran" in path.read_bytes()  # the pickle really is in the file
        if name == "extra entry":
            nnc.load_model(path)  # unknown entries are ignored, never read
        else:
            with pytest.raises(ValueError, match="object"):
                nnc.load_model(path)
        assert not marker.exists(), f"{name}: code from the file ran"
    # The architecture itself as a pickled object.
    np.savez(tmp_path / "arch.npz", architecture=boom, **_arrays(model))
    with pytest.raises(ValueError, match="architecture"):
        nnc.load_model(tmp_path / "arch.npz")
    assert not marker.exists()


def _set_central_sizes(data: bytes, entry: str, compress_size=None, file_size=None) -> bytes:
    """Rewrite the sizes the central directory records for `entry`."""
    out = bytearray(data)
    name = entry.encode()
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        n_len = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46:pos + 46 + n_len]) == name:
            if compress_size is not None:
                struct.pack_into("<I", out, pos + 20, compress_size)
            if file_size is not None:
                struct.pack_into("<I", out, pos + 24, file_size)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{entry} not found")


def _npy_bytes(header_shape, dtype="<f4", body=b""):
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": header_shape})
    return buf.getvalue() + body


def _zip(entries: dict, deflate=()) -> bytes:
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            zf.writestr(name, data, compress_type=method)
    return buf.getvalue()


def _arch_bytes(arch) -> bytes:
    buf = _io.BytesIO()
    np.save(buf, np.array(json.dumps(arch)))
    return buf.getvalue()


def huge_arch(units):
    """A float32 model declaring `units` weights (billions in the tests)."""
    return {"format": "nnc-model", "version": 1, "name": "huge", "dtype": "float32", "seed": 0,
            "input_dim": 1, "compile": None,
            "layers": [{"class": "Dense", "units": units, "activation": "linear",
                        "use_bias": False, "name": "d", "kernel_initializer": ["zeros", 0.0],
                        "bias_initializer": ["zeros", 0.0], "input_dim": None}]}


def hostile_files(directory: pathlib.Path) -> dict[str, pathlib.Path]:
    """Files that declare far more data than they hold."""
    files = {}
    billions = 3_000_000_000
    rng = _npy_bytes((2,), "<u8", b"\0" * 16)

    def put(name, data):
        files[name] = directory / f"{name}.npz"
        files[name].write_bytes(data)

    # Billions of parameters declared in the architecture and the .npy header.
    put("billions", _zip({"architecture.npy": _arch_bytes(huge_arch(billions)),
                          "params.npy": _npy_bytes((billions,)), "rng_state.npy": rng}))
    # Sizes in the billions through the dimensions of a single entry.
    put("huge_shape", _zip({"architecture.npy": _arch_bytes(huge_arch(4)),
                            "params.npy": _npy_bytes((4, 10**9, 10**9)), "rng_state.npy": rng}))
    # A zip bomb: 64 MiB of zeros deflate to ~64 KiB; the central directory
    # then claims 4 GiB for it.
    n = 16 * 2**20
    body = _npy_bytes((n,), "<f4", bytes(4 * n))
    bomb = _zip({"architecture.npy": _arch_bytes(huge_arch(n)), "params.npy": body,
                 "rng_state.npy": rng}, deflate=("params.npy",))
    put("zip_bomb", _set_central_sizes(bomb, "params.npy", file_size=2**32 - 1))
    # A forged compressed size larger than the whole file.
    put("forged_size", _set_central_sizes(bomb, "params.npy", compress_size=2**32 - 1))
    # An optimizer state that claims to be huge.
    arch = huge_arch(4)
    arch["compile"] = {"loss": "mse", "l2": 0.0, "optimizer": {"name": "sgd",
                       "learning_rate": 0.1}, "metrics": []}
    put("huge_optimizer_state", _zip({
        "architecture.npy": _arch_bytes(arch), "params.npy": _npy_bytes((4,), "<f4", bytes(16)),
        "rng_state.npy": rng, "optimizer_state.npy": _npy_bytes((2**40,), "|u1")}))
    # A negative dimension.
    put("negative", _zip({"architecture.npy": _arch_bytes(arch),
                          "params.npy": _npy_bytes((4,), "<f4", bytes(16)), "rng_state.npy": rng,
                          "optimizer_state.npy": _npy_bytes((-1, -8), "|u1", bytes(8))}))
    return files


def test_declared_sizes_in_the_billions_and_zip_bombs_are_refused(tmp_path):
    files = hostile_files(tmp_path)
    for name, path in files.items():
        assert path.stat().st_size < 200_000, name
        with pytest.raises(ValueError, match="load_model") as info:
            nnc.load_model(path)
        print(f"\n{name}: {info.value}")


def test_hostile_files_allocate_little(tmp_path):
    """In a fresh process, loading every hostile file raises the process's
    peak memory by far less than any of them declares (GBs)."""
    hostile_files(tmp_path)
    script = textwrap.dedent(f"""
        import pathlib, resource, sys
        sys.path.insert(0, {str(PACKAGE_PARENT)!r})
        import nnc
        files = sorted(pathlib.Path({str(tmp_path)!r}).glob("*.npz"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        refused = 0
        for path in files:
            try:
                nnc.load_model(path)
            except ValueError:
                refused += 1
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(files), refused, after - before)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    n_files, refused, grown_kib = map(int, run.stdout.split())
    measured("hostile model files: peak RSS growth while refusing them",
             f"{grown_kib} KiB ({refused}/{n_files} refused; they declare up to 4 TiB)")
    assert n_files == refused == 6
    assert grown_kib < 32 * 1024


def test_inconsistent_input_dim_cannot_make_build_allocate(saved, tmp_path):
    """The layers' input_dim (what build() uses) and the file's input_dim
    must agree; the parameter count comes from the layers."""
    model, _, _ = saved
    arch, arrays = arch_of(model), _arrays(model)
    arch["input_dim"] = 3
    arch["layers"][0]["input_dim"] = 10**9  # would be 5e9 weights
    path = write_npz(tmp_path / "dims.npz", arch, arrays)
    with pytest.raises(ValueError, match="input_dim"):
        nnc.load_model(path)


def test_encrypted_or_unknown_compression_is_refused(saved, tmp_path):
    _, _, data = saved
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    struct.pack_into("<H", out, pos + 8, struct.unpack_from("<H", out, pos + 8)[0] | 1)
    (tmp_path / "enc.npz").write_bytes(bytes(out))
    with pytest.raises(ValueError, match="encrypted"):
        nnc.load_model(tmp_path / "enc.npz")
    out = bytearray(data)
    struct.pack_into("<H", out, pos + 10, 99)  # AES: zipfile cannot read it
    (tmp_path / "aes.npz").write_bytes(bytes(out))
    with pytest.raises(ValueError, match="compression"):
        nnc.load_model(tmp_path / "aes.npz")


def test_load_weights_refuses_hostile_files_and_keeps_the_model(saved, tmp_path):
    model, _, _ = saved
    target = small_model()
    before = target.get_flat_params()
    for path in hostile_files(tmp_path).values():
        with pytest.raises(ValueError):
            target.load_weights(path)
    np.testing.assert_array_equal(target.get_flat_params(), before)


def test_optimizer_state_with_nan_is_refused_even_with_a_valid_checksum(saved, tmp_path):
    model, _, _ = saved  # float64, Adam: state = header (128 bytes), m, v, CRC-32
    arch, arrays = arch_of(model), _arrays(model)
    blob = bytearray(arrays["optimizer_state"].tobytes())
    # The blob's checksum is the model file's CRC-32 (docs/nncb-format.md).
    assert struct.unpack_from("<I", blob, len(blob) - 4)[0] == zlib.crc32(bytes(blob[:-4]))

    def resealed(offset, value):
        out = bytearray(blob)
        struct.pack_into("<d", out, offset, value)
        struct.pack_into("<I", out, len(out) - 4, zlib.crc32(bytes(out[:-4])))
        return np.frombuffer(bytes(out), dtype=np.uint8)

    n = model.count_params()
    arrays["optimizer_state"] = resealed(128 + 8 * 3, 0.25)  # a finite change: accepted
    loaded = nnc.load_model(write_npz(tmp_path / "finite.npz", arch, arrays))
    assert loaded.engine.get_optimizer_state() != model.engine.get_optimizer_state()
    for offset in (128, 128 + 8 * (n - 1), 128 + 8 * n + 8):  # first moment, end, second
        arrays["optimizer_state"] = resealed(offset, float("nan"))
        with pytest.raises(ValueError, match="NaN"):
            nnc.load_model(write_npz(tmp_path / "nan.npz", arch, arrays))


def test_a_file_of_many_layers_loads_in_linear_time(tmp_path):
    """The format allows 100,000 layers; adding a layer checks its name in
    a set, not against every earlier layer, so loading a crafted file of
    50,000 layers takes seconds (quadratic checks took minutes). Run in
    a subprocess whose timeout a regression would exceed."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PACKAGE_PARENT)!r})
        import nnc
        base = nnc.Dense(1).get_config()
        layers = [{{**base, "name": f"d{{i}}"}} for i in range(50_000)]
        model = nnc.Sequential.from_config({{"name": "deep", "dtype": "float32", "seed": 0,
                                            "input_dim": None, "layers": layers}})
        print(len(model.layers), len({{layer.name for layer in model.layers}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["50000", "50000"]
