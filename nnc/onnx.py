"""Export a ``Sequential`` to ONNX (``model.to_onnx(path)``).

The graph is the inference forward pass (Dropout is the identity there):
for each Dense layer a ``Gemm`` (``MatMul`` when the layer has no bias)
followed by its activation, with input ``"input"`` of shape
``(batch, input_dim)`` and output ``"output"``. Opset 17, IR version 8, so
any onnxruntime from 1.13 on loads it.

float32 models use ONNX's own activation operators (``Sigmoid``, ``Tanh``,
``Relu``, ``LeakyRelu``, ``PRelu``, ``Elu``, ``Selu``, ``Softplus``,
``Softmax``; ``Erf`` for GELU, ``Sigmoid``·z for swish, ``GreaterOrEqual``
+ ``Cast`` for the step). For float64, onnxruntime has no double kernels
for ``Elu``, ``Selu``, ``Softplus`` or ``Erf``, and ``LeakyRelu``/``Selu``
take their constants as float32 attributes; those activations are
therefore written with elementary double operators (``Where``, ``Tanh``,
``Exp``, ``Log``...) chosen to stay accurate to a few ulps, so the file
reproduces ``model.predict`` to ~1e-15.

``onnx`` is imported only when this module's functions run: it is an
optional dependency, ``pip install 'nnc[onnx]'``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._version import __version__
from .layers import Dense

OPSET = 17
IR_VERSION = 8
INPUT_NAME = "input"
OUTPUT_NAME = "output"
# Terms of the erf series used for float64 GELU (enough for |x| <= 6, where
# erf(x) is +-1 to double precision; larger |x| are clamped).
_ERF_TERMS = 100
_ERF_CLAMP = 6.0
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("to_onnx needs the onnx package: pip install 'nnc[onnx]' "
                          "(or pip install onnx)") from exc
    return onnx


class _Builder:
    """Collects nodes and initializers with unique names."""

    def __init__(self, onnx, dtype: str):
        self.onnx = onnx
        self.np_dtype = np.dtype(dtype)
        self.elem_type = (onnx.TensorProto.FLOAT if dtype == "float32"
                          else onnx.TensorProto.DOUBLE)
        self.nodes: list = []
        self.initializers: list = []
        self._consts: dict = {}
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def tensor(self, name: str, array: np.ndarray) -> str:
        arr = np.ascontiguousarray(array, dtype=self.np_dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def const(self, value: float) -> str:
        """A scalar of the model's dtype (shared by every node using it)."""
        key = float(value)
        if key not in self._consts:
            self._consts[key] = self.tensor(f"const_{len(self._consts)}",
                                            np.array(value, dtype=self.np_dtype))
        return self._consts[key]

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        out = self._name(op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    # -- small compositions (float64 paths) --------------------------------

    def expm1_nonpositive(self, z: str) -> str:
        """exp(x) - 1 for x = min(z, 0), without cancellation near 0:
        2 tanh(x/2) / (1 - tanh(x/2)) (1 - t is in [1, 2): nothing cancels)."""
        x = self.op("Min", z, self.const(0.0))
        t = self.op("Tanh", self.op("Mul", x, self.const(0.5)))
        return self.op("Div", self.op("Mul", t, self.const(2.0)),
                       self.op("Sub", self.const(1.0), t))

    def log1p_unit(self, u: str) -> str:
        """log(1 + u) for u in [0, 1], accurate for tiny u: with w = 1 + u,
        log(w) * u / (w - 1) (w - 1 is exact), and u itself where w == 1."""
        w = self.op("Add", self.const(1.0), u)
        wm1 = self.op("Sub", w, self.const(1.0))
        ratio = self.op("Div", self.op("Mul", self.op("Log", w), u),
                        self.op("Max", wm1, self.const(np.finfo(self.np_dtype).tiny)))
        return self.op("Where", self.op("Equal", wm1, self.const(0.0)), u, ratio)

    def erf_series(self, x: str) -> str:
        """erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!!, a sum
        of positive terms (no cancellation), in Horner form, with x clamped
        to +-6 (erf is +-1 to double precision beyond)."""
        x = self.op("Clip", x, self.const(-_ERF_CLAMP), self.const(_ERF_CLAMP))
        x2 = self.op("Mul", x, x)
        y = self.op("Mul", x2, self.const(2.0))
        t = self.const(1.0)
        for k in range(_ERF_TERMS, 0, -1):
            t = self.op("Add", self.const(1.0),
                        self.op("Mul", self.op("Mul", y, t), self.const(1.0 / (2 * k + 1))))
        scale = self.op("Mul", self.op("Exp", self.op("Neg", x2)),
                        self.const(2.0 / math.sqrt(math.pi)))
        return self.op("Mul", self.op("Mul", x, t), scale)


def _activation(b: _Builder, act: str, z: str, slopes: str | None) -> str:
    f64 = b.np_dtype == np.float64

    def positive() -> str:
        return b.op("Greater", z, b.const(0.0))

    if act == "linear":
        return z
    if act in ("sigmoid", "tanh", "relu"):
        return b.op({"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}[act], z)
    if act == "softmax":
        return b.op("Softmax", z, axis=-1)
    if act == "prelu":
        return b.op("PRelu", z, slopes)
    if act == "swish":
        return b.op("Mul", z, b.op("Sigmoid", z))
    if act == "step":
        return b.op("Cast", b.op("GreaterOrEqual", z, b.const(0.0)), to=b.elem_type)
    if act == "leaky_relu":
        if not f64:
            return b.op("LeakyRelu", z, alpha=0.01)
        return b.op("Where", positive(), z, b.op("Mul", z, b.const(0.01)))
    if act == "elu":
        if not f64:
            return b.op("Elu", z, alpha=1.0)
        return b.op("Where", positive(), z, b.expm1_nonpositive(z))
    if act == "selu":
        if not f64:
            return b.op("Selu", z, alpha=_SELU_ALPHA, gamma=_SELU_LAMBDA)
        neg = b.op("Mul", b.expm1_nonpositive(z), b.const(_SELU_ALPHA))
        return b.op("Mul", b.op("Where", positive(), z, neg), b.const(_SELU_LAMBDA))
    if act == "softplus":
        if not f64:
            return b.op("Softplus", z)
        # max(z, 0) + log1p(exp(-|z|)): no overflow, no cancellation.
        u = b.op("Exp", b.op("Neg", b.op("Abs", z)))
        return b.op("Add", b.op("Relu", z), b.log1p_unit(u))
    if act == "gelu":
        x = b.op("Mul", z, b.const(1.0 / math.sqrt(2.0)))
        erf = b.erf_series(x) if f64 else b.op("Erf", x)
        phi = b.op("Mul", b.op("Add", b.const(1.0), erf), b.const(0.5))
        return b.op("Mul", z, phi)
    raise ValueError(f"to_onnx: activation {act!r} has no ONNX export")


def to_onnx_model(model):
    """The model's inference graph as an ``onnx.ModelProto`` (checked with
    ``onnx.checker``)."""
    onnx = _import_onnx()
    model.engine  # noqa: B018 - the graph needs the weights: build the model
    b = _Builder(onnx, model.dtype)
    current = INPUT_NAME
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    for index, layer in enumerate(dense):
        weights = layer.get_weights()
        w = b.tensor(f"{layer.name}/kernel", weights[0])
        if layer.use_bias:
            bias = b.tensor(f"{layer.name}/bias", weights[1])
            z = b.op("Gemm", current, w, bias)
        else:
            z = b.op("MatMul", current, w)
        slopes = None
        if layer.activation == "prelu":
            slopes = b.tensor(f"{layer.name}/prelu_slopes", weights[-1])
        current = _activation(b, layer.activation, z, slopes)
        if index == len(dense) - 1:
            b.nodes.append(onnx.helper.make_node("Identity", [current], [OUTPUT_NAME]))
    helper = onnx.helper
    graph = helper.make_graph(
        b.nodes, model.name,
        [helper.make_tensor_value_info(INPUT_NAME, b.elem_type, ["batch", model.input_dim])],
        [helper.make_tensor_value_info(OUTPUT_NAME, b.elem_type, ["batch", model.output_dim])],
        initializer=b.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="nnc", producer_version=__version__,
                              doc_string=f"nnc Sequential {model.name!r} ({model.dtype}), "
                                         "inference forward pass")
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    return proto


def save_onnx_proto(proto, path) -> None:
    """Write an ``onnx.ModelProto`` to ``path``."""
    _import_onnx().save_model(proto, os.fspath(path))
