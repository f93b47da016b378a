"""ONNX export: onnxruntime reproduces model.predict for random
architectures over every activation, and onnx.checker accepts the file.

Tolerances are relative to the output's scale: |ort - predict| <= tol *
max|predict| elementwise, tol = 1e-5 (float32) or 1e-12 (float64)."""

from __future__ import annotations

import sys
import zlib

import numpy as np
import pytest
from helpers.measures import record
from helpers.optional import require
from helpers.processes import run_python

import nnc

onnx = require("onnx")
ort = require("onnxruntime")

ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu",
               "swish", "gelu", "softplus", "softmax", "step"]
TOL = {"float32": 1e-5, "float64": 1e-12}


def random_model(rng, act, dtype):
    """1-3 Dense layers with random widths and bias flags, `act` on every
    hidden layer and (mostly) on the output, sometimes Dropout; weights
    scaled up so activations see large and negative inputs too."""
    depth = int(rng.integers(1, 4))
    layers = [nnc.Input(int(rng.integers(1, 9)))]
    for i in range(depth):
        if i and rng.random() < 0.3:
            layers.append(nnc.Dropout(0.2))
        out = i == depth - 1
        layer_act = act if not out or rng.random() < 0.7 else str(rng.choice(["softmax",
                                                                            "linear"]))
        layers.append(nnc.Dense(int(rng.integers(1, 12)), activation=layer_act,
                                use_bias=bool(rng.random() < 0.8)))
    model = nnc.Sequential(layers, dtype=dtype, seed=int(rng.integers(0, 2**31)))
    weights = [w * rng.uniform(1.0, 3.0) + rng.normal(scale=0.3, size=w.shape)
               for w in model.get_weights()]
    model.set_weights(weights)
    return model


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": x})
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_onnxruntime_matches_predict(act, dtype, tmp_path):
    rng = np.random.default_rng(zlib.crc32(f"{act}/{dtype}".encode()))
    for trial in range(4):
        model = random_model(rng, act, dtype)
        path = tmp_path / f"model{trial}.onnx"
        proto = model.to_onnx(path)
        loaded = onnx.load(str(path))
        onnx.checker.check_model(loaded, full_check=True)
        assert loaded.SerializeToString() == proto.SerializeToString()
        assert [i.name for i in loaded.graph.input] == ["input"]
        assert [o.name for o in loaded.graph.output] == ["output"]
        x = (rng.normal(size=(64, model.input_dim)) * 3).astype(dtype)
        expected = model.predict(x)
        got = run_onnx(path, x)
        assert got.dtype == np.dtype(dtype) and got.shape == expected.shape
        scale = max(float(np.max(np.abs(expected))), 1e-30)
        err = float(np.max(np.abs(got.astype(np.float64) - expected))) / scale
        record(f"ONNX vs predict ({dtype}, relative to output scale)", err)
        assert err <= TOL[dtype], (act, dtype, trial, err)


def test_graph_uses_standard_operators():
    model = nnc.Sequential([nnc.Dense(4, activation="relu", input_dim=3),
                            nnc.Dense(5, activation="tanh", use_bias=False),
                            nnc.Dense(2, activation="softmax")], seed=0)
    proto = model.to_onnx()
    ops = [node.op_type for node in proto.graph.node]
    assert ops == ["Gemm", "Relu", "MatMul", "Tanh", "Gemm", "Softmax", "Identity"]
    assert proto.opset_import[0].version == 17
    kernels = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(kernels["dense_1/kernel"], model.get_weights()[0])
    # Dynamic batch size: one row and many rows both run.
    for m in (1, 300):
        x = np.random.default_rng(m).normal(size=(m, 3)).astype(np.float32)
        session = ort.InferenceSession(proto.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x),
                                   rtol=1e-5, atol=1e-6)


def test_missing_onnx_gives_an_install_hint(monkeypatch):
    model = nnc.Sequential([nnc.Dense(2, input_dim=2)], seed=0)
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ImportError, match=r"pip install 'nnc\[onnx\]'"):
        model.to_onnx()


def test_unbuilt_model_is_refused():
    model = nnc.Sequential([nnc.Dense(2)])
    with pytest.raises(RuntimeError, match="not built"):
        model.to_onnx()


def test_import_nnc_imports_neither_torch_nor_onnx(tmp_path):
    code = ("import sys, nnc; m = nnc.Sequential([nnc.Dense(2, input_dim=2)]); m.predict([[1, 2]]);"
            "print(sorted(k for k in ('torch', 'onnx', 'onnxruntime') if k in sys.modules))")
    run = run_python(["-c", code], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
