"""nnc as a standalone C library: ``make -C csrc`` builds libnnc.a and
libnnc.so without Python; examples/c/xor.c trains XOR against it; the nncb
model format crosses between Python and C in both directions, bit for bit;
the engine's codec (which C and nnc both use) and the independent Python
reader of tests/helpers/nncb_oracle.py refuse the same damaged or hostile
files and read the others alike."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from helpers import nncb_oracle as nncb
from helpers.nncb_files import doctored_files, python_model, reseal
from helpers.paths import REPO, TESTS

import nnc

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="the C library is built with make and a Unix C compiler")


@pytest.fixture(scope="module")
def lib(c_build):
    """The release build of ``make -C csrc BUILD=...`` (helpers/cbuild.py):
    lib.dir holds libnnc.a, libnnc.so and include/nnc.h."""
    return c_build("release")


@pytest.fixture(scope="module")
def tool(lib) -> pathlib.Path:
    return lib.program(TESTS / "c" / "nncb_tool.c")


def run_tool(tool, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


# ------------------------------------------------------------ the library


def test_make_builds_static_and_shared_library_and_header(lib):
    for name in ("libnnc.a", "libnnc.so", "include/nnc.h"):
        assert (lib.dir / name).is_file(), name
    header = (REPO / "csrc" / "include" / "nnc.h").read_bytes()
    assert (lib.dir / "include" / "nnc.h").read_bytes() == header
    nm = subprocess.run(["nm", "-D", "--defined-only", str(lib.dir / "libnnc.so")],
                        capture_output=True, text=True)
    assert nm.returncode == 0, nm.stderr
    exported = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    assert "nnc_model_create" in exported and "nnc_model_load" in exported
    # Public API only: no engine internals, nothing from Python.
    assert not [s for s in exported if not s.startswith("nnc_") or s.startswith("nnc__")]
    # Every function the header declares is exported.
    declared = set(re.findall(r"\b(nnc_[a-z0-9_]+)\s*\(", header.decode()))
    assert declared <= exported, sorted(declared - exported)
    ldd = subprocess.run(["ldd", str(lib.dir / "libnnc.so")], capture_output=True, text=True)
    assert "python" not in ldd.stdout.lower()


def test_xor_example_trains_and_prints_the_loss(lib, tmp_path):
    results = []
    for shared in (False, True):
        exe = lib.program(REPO / "examples" / "c" / "xor.c", shared=shared)
        path = tmp_path / f"xor_{shared}.nncb"
        run = subprocess.run([str(exe), str(path)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        results.append(run.stdout.replace(str(path), "PATH"))
    print(results[0])
    assert results[0] == results[1]  # static and shared builds compute the same
    losses = [float(line.split()[-1]) for line in results[0].splitlines()
              if line.startswith("epoch")]
    assert len(losses) == 6 and losses[0] > 0.5 and losses[-1] < 0.01
    assert all(a > b for a, b in zip(losses, losses[1:]))
    preds = [float(line.split()[-1]) for line in results[0].splitlines() if "xor" in line]
    assert [round(p) for p in preds] == [0, 1, 1, 0]
    # The model the C program saved is read by Python and predicts the same.
    model = nnc.load_model(tmp_path / "xor_True.nncb")
    assert model.compiled_loss == "binary_crossentropy"
    assert model.learning_rate == 0.05 and model.optimizer.name == "adam"
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    np.testing.assert_allclose(model.predict(x).ravel(), preds, atol=5e-5)


# --------------------------------------------------------- Python <-> C


@pytest.mark.parametrize("dtype,optimizer", [
    ("float32", nnc.optimizers.Adam(learning_rate=0.01, amsgrad=True)),
    ("float64", nnc.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("float64", nnc.optimizers.RMSprop(learning_rate=0.01, centered=True, momentum=0.5)),
])
def test_python_writes_c_reads_trains_and_writes_python_reads(tool, tmp_path, dtype, optimizer):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 5)).astype(dtype)
    y = nnc.datasets.one_hot(rng.integers(0, 3, size=40), 3, dtype=dtype)
    model = python_model(dtype, optimizer)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)  # non-trivial optimizer state
    src = tmp_path / "from_python.nncb"
    model.save(src)
    assert src.read_bytes().startswith(nncb.MAGIC)

    # C serves the Python model: predictions bit-identical to model.predict.
    x.tofile(tmp_path / "x.bin")
    y.tofile(tmp_path / "y.bin")
    run = run_tool(tool, "predict", src, tmp_path / "x.bin", 40, tmp_path / "pred.bin")
    assert run.returncode == 0, run.stdout + run.stderr
    pred_c = np.fromfile(tmp_path / "pred.bin", dtype=dtype).reshape(40, 3)
    np.testing.assert_array_equal(pred_c, model.predict(x))

    # C resumes training (shuffle, dropout, optimizer state, RNG) and saves;
    # Python takes the same steps: parameters identical bit for bit.
    out = tmp_path / "from_c.nncb"
    run = run_tool(tool, "train", src, tmp_path / "x.bin", tmp_path / "y.bin", 40, 3, 8, out)
    assert run.returncode == 0, run.stdout + run.stderr
    c_losses = [float(line.split()[-1]) for line in run.stdout.splitlines()]
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    back = nnc.load_model(out)
    np.testing.assert_array_equal(back.get_flat_params(), model.get_flat_params())
    assert c_losses == hist.history["loss"]
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    assert back.learning_rate == model.learning_rate
    assert back.optimizer.get_config() == model.optimizer.get_config()
    # Both writers produce the same bytes for the same model state.
    assert nncb.to_bytes(back) == out.read_bytes()
    # And training continues identically from the C-written file.
    back.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(back.get_flat_params(), model.get_flat_params())


def test_uncompiled_and_lbfgs_models_cross(tool, tmp_path):
    plain = nnc.Sequential([nnc.Dense(4, activation="step", input_dim=3)], seed=2)
    plain.build()
    path = tmp_path / "plain.nncb"
    nnc.save_binary(plain, path)
    run = run_tool(tool, "check", path)
    assert run.stdout.startswith("ok 1 layers, 16 parameters, compiled 0"), run.stdout
    again = nnc.load_binary(path)
    assert again.optimizer is None and again.layers[0].activation == "step"

    lbfgs = nnc.Sequential([nnc.Dense(3, activation="tanh", input_dim=2), nnc.Dense(1)],
                           dtype="float64", seed=4)
    lbfgs.compile(optimizer=nnc.optimizers.LBFGS(line_search_fn="strong_wolfe", history_size=7),
                  loss="huber")
    path = tmp_path / "lbfgs.nncb"
    lbfgs.save(path)
    back = nnc.load_model(path)
    assert back.optimizer.get_config() == lbfgs.optimizer.get_config()
    assert run_tool(tool, "check", path).returncode == 0


# ------------------------------------------------------------ hostile files


def test_both_readers_refuse_damaged_and_hostile_files(tool, tmp_path):
    model = python_model("float32", "adam")
    model.fit(np.zeros((4, 5)), np.eye(3)[[0, 1, 2, 0]], epochs=1, verbose=0)
    good = nncb.to_bytes(model)
    path = tmp_path / "good.nncb"
    path.write_bytes(good)
    assert run_tool(tool, "check", path).returncode == 0
    for name, data in doctored_files(good).items():
        assert data != good, name
        bad = tmp_path / "bad.nncb"
        bad.write_bytes(data)
        run = run_tool(tool, "check", bad)
        assert run.returncode == 2, f"{name}: C accepted it ({run.stdout}{run.stderr})"
        assert run.stdout.startswith("error malformed data"), f"{name}: {run.stdout}"
        with pytest.raises(nnc.errors.ModelFileError):
            nnc.load_binary(bad)
        with pytest.raises(nnc.errors.ModelFileError):  # the independent Python reader
            nncb.from_bytes(data)
        if data.startswith(nncb.MAGIC):
            with pytest.raises(ValueError):
                nnc.load_model(bad)


def test_missing_file_is_an_io_error(tool, tmp_path):
    run = run_tool(tool, "check", tmp_path / "nope.nncb")
    assert run.returncode == 2 and run.stdout.startswith("error input/output error")
    with pytest.raises(FileNotFoundError):
        nnc.load_binary(tmp_path / "nope.nncb")


def test_random_corruptions_are_refused_or_read_alike_by_both_readers(tool, tmp_path):
    """Seeded mutations of the structured part (CRC recomputed, so the other
    checks must hold): C never crashes, and C and Python accept exactly the
    same files; accepted ones describe the same model."""
    model = nnc.Sequential([nnc.Dense(3, activation="elu", input_dim=2), nnc.Dropout(0.5),
                            nnc.Dense(2, activation="sigmoid")], dtype="float64", seed=9)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    good = nncb.to_bytes(model)
    structured = 96 + 2 * 128 + 256
    rng = np.random.default_rng(2024)
    verdicts = {True: 0, False: 0}
    for trial in range(150):
        data = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, structured))] = int(rng.integers(0, 256))
        data = reseal(bytes(data))
        bad = tmp_path / f"fuzz{trial}.nncb"
        bad.write_bytes(data)
        run = run_tool(tool, "check", bad)
        assert run.returncode in (0, 2), (trial, run.returncode, run.stdout, run.stderr)
        try:
            back = nnc.load_binary(bad)
        except nnc.errors.ModelFileError:
            back = None
        try:
            oracle = nncb.from_bytes(data)
        except nnc.errors.ModelFileError:
            oracle = None
        assert (run.returncode == 0) == (back is not None), (trial, run.stdout)
        assert (oracle is None) == (back is None), (trial, run.stdout)
        if back is not None:
            nnc.testing.assert_models_equal(back, oracle)
        if back is not None:
            assert f"{back.count_params()} parameters" in run.stdout
        verdicts[back is not None] += 1
    assert verdicts[False] > 50  # most mutations of the structure are caught
