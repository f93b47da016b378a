"""Shared helpers: build small nnc models and their PyTorch twins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnc

#: The folder holding the nnc under test (source tree or installed), for
#: subprocesses: a checkout's unbuilt nnc/ must never shadow it.
PACKAGE_PARENT = str(Path(nnc.__file__).resolve().parent.parent)


def run_python(args, cwd, env=None, timeout=300) -> subprocess.CompletedProcess:
    """Run ``python *args`` in `cwd` with the nnc under test importable."""
    full_env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT, **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)

ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu",
               "swish", "gelu", "softplus", "softmax"]
REGRESSION_LOSSES = ["mse", "mae", "huber"]
#: (output activation, loss) for the cross-entropies.
CROSS_ENTROPY = [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"),
                 ("softmax", "sparse_categorical_crossentropy")]


def pairs():
    """Every activation (except step) with every loss it can pair with."""
    out = [(act, loss) for act in ACTIVATIONS for loss in REGRESSION_LOSSES]
    return out + CROSS_ENTROPY


def build_model(input_dim, widths, activations, dtype="float64", seed=0, use_bias=True,
                loss="mse", l2=0.0, optimizer="sgd"):
    """A compiled Sequential of Dense layers with the given widths/activations."""
    if isinstance(use_bias, bool):
        use_bias = [use_bias] * len(widths)
    layers = [nnc.Dense(w, activation=a, use_bias=b) for w, a, b in
              zip(widths, activations, use_bias)]
    model = nnc.Sequential([nnc.Input(input_dim), *layers], dtype=dtype, seed=seed)
    model.compile(optimizer=optimizer, loss=loss, l2=l2)
    return model


def make_data(rng, m, input_dim, output_dim, loss, dtype="float64"):
    """Inputs ~ N(0, 1) and targets suited to the loss."""
    x = rng.normal(size=(m, input_dim)).astype(dtype)
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, output_dim, size=m)
    if loss == "categorical_crossentropy":
        return x, nnc.datasets.one_hot(rng.integers(0, output_dim, size=m), output_dim,
                                       dtype=dtype)
    if loss == "binary_crossentropy":
        return x, rng.uniform(size=(m, output_dim)).astype(dtype)  # soft labels too
    return x, rng.normal(size=(m, output_dim)).astype(dtype)


def net_spec(act, loss, depth, width=4, n_out=3):
    """Widths and activations of a depth-`depth` net testing `act` with `loss`:
    every hidden layer uses `act`; the output too unless the loss fixes it."""
    out_act = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax",
               "sparse_categorical_crossentropy": "softmax"}.get(loss, act)
    widths = [width] * (depth - 1) + [n_out]
    acts = [act] * (depth - 1) + [out_act]
    return widths, acts


# ------------------------------------------------------------- torch twin


def torch_activation(name, z, slopes=None):
    import torch
    import torch.nn.functional as F

    table = {
        "linear": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "elu": F.elu, "selu": F.selu,
        "swish": F.silu, "gelu": lambda t: F.gelu(t, approximate="none"),
        # torch's softplus switches to the identity above 20; nnc is exact.
        "softplus": lambda t: torch.logaddexp(t, torch.zeros_like(t)),
        "softmax": lambda t: torch.softmax(t, dim=1),
    }
    if name == "prelu":
        return F.prelu(z, slopes)
    return table[name](z)


def torch_params(model):
    """get_weights() as float64 leaf tensors requiring grad."""
    import torch

    return [torch.tensor(w.astype(np.float64), requires_grad=True) for w in model.get_weights()]


def torch_forward(model, params, x):
    """(z_L, a_L) of the model's architecture computed by torch ops."""
    import torch

    a = torch.as_tensor(np.asarray(x, dtype=np.float64))
    it = iter(params)
    z = None
    for layer in model._dense:
        w = next(it)
        z = a @ w
        if layer.use_bias:
            z = z + next(it)
        slopes = next(it) if layer.activation == "prelu" else None
        a = torch_activation(layer.activation, z, slopes)
    return z, a


def torch_loss(model, params, x, y, sample_weight=None):
    """J as ARCHITECTURE section 3 defines it, computed by torch."""
    import torch
    import torch.nn.functional as F

    z, a = torch_forward(model, params, x)
    loss = model.compiled_loss
    m = z.shape[0]
    if loss == "sparse_categorical_crossentropy":
        per = F.cross_entropy(z, torch.as_tensor(np.asarray(y, dtype=np.int64)),
                              reduction="none")
    else:
        t = torch.as_tensor(np.asarray(y, dtype=np.float64)).reshape(m, -1)
        if loss == "mse":
            per = 0.5 * ((a - t) ** 2).sum(dim=1)
        elif loss == "mae":
            per = (a - t).abs().sum(dim=1)
        elif loss == "huber":
            per = F.huber_loss(a, t, reduction="none", delta=1.0).sum(dim=1)
        elif loss == "binary_crossentropy":
            per = F.binary_cross_entropy_with_logits(z, t, reduction="none").sum(dim=1)
        elif loss == "categorical_crossentropy":
            per = -(t * F.log_softmax(z, dim=1)).sum(dim=1)
        else:
            raise ValueError(loss)
    if sample_weight is not None:
        per = per * torch.as_tensor(np.asarray(sample_weight, dtype=np.float64))
    total = per.mean()
    if model._l2:
        weights = [p for p in params if p.dim() == 2]  # W only: no b, no slopes
        total = total + model._l2 / (2 * m) * sum((w**2).sum() for w in weights)
    return total


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# ------------------------------------------------------- kernel sets

#: Numeric test modules that run once per kernel set the CPU supports
#: ("ref", "avx2", "avx512"): every tolerance must hold under each of them.
KERNEL_ARCH_MODULES = {"test_gradcheck", "test_torch_parity", "test_engine_vs_reference",
                       "test_worked_examples", "test_training"}


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "kernel_arch" in metafunc.fixturenames and module in KERNEL_ARCH_MODULES:
        metafunc.parametrize("kernel_arch", nnc._core.supported_kernel_archs(), indirect=True,
                             scope="module")


@pytest.fixture(autouse=True, scope="module")
def kernel_arch(request):
    """The kernel set the module runs under: each supported one in turn for
    KERNEL_ARCH_MODULES, the default one elsewhere."""
    arch = getattr(request, "param", None)
    if arch is None:
        yield nnc.kernel_arch()
        return
    previous = nnc._core.get_kernel_arch()
    nnc._core.set_kernel_arch(arch)
    try:
        yield arch
    finally:
        nnc._core.set_kernel_arch(previous)


# ------------------------------------------------- largest measured errors

_LARGEST: dict[str, float] = {}


def record(what: str, value: float) -> None:
    """Keep the largest value of a measured error, printed after the run."""
    _LARGEST[what] = max(_LARGEST.get(what, 0.0), float(value))


#: Measured quantities printed after the run (example counts, latencies, ...).
MEASURED: dict[str, str] = {}


def measured(what: str, value) -> None:
    """Report a measurement in the run's summary."""
    MEASURED[what] = str(value)


def pytest_terminal_summary(terminalreporter):
    if MEASURED:
        terminalreporter.section("measured")
        for what, value in sorted(MEASURED.items()):
            terminalreporter.write_line(f"{what:<60} {value}")
    if _LARGEST:
        terminalreporter.section("largest measured errors")
        for what, value in sorted(_LARGEST.items()):
            terminalreporter.write_line(f"{what:<60} {value:.3e}")
