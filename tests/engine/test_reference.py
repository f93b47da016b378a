"""Prove tests/helpers/reference.py (the NumPy test oracle) right against PyTorch.

Losses and gradients are compared with torch autograd on the same net and
weights, gradients also with central differences, and optimizer trajectories
with torch.optim (single-tensor code path, float64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from helpers import reference as ref
from helpers.optional import require

torch = require("torch")
F = torch.nn.functional
torch.set_default_dtype(torch.float64)

INPUT_DIM = 3
M = 6
ACTS = [a for a in ref.ACTIVATIONS if a != "step"]
PAIRS = [(a, lo) for a in ACTS for lo in ("mse", "mae", "huber")] + [
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "categorical_crossentropy"),
    ("softmax", "sparse_categorical_crossentropy"),
]


# ------------------------------------------------------------------ helpers

def make_layers(arch: str, act: str, out_units: int) -> list[dict]:
    """Small architectures: depth 1..3, with/without bias, optionally a prelu layer."""
    def dense(u: int, a: str, b: bool = True) -> dict:
        return {"units": u, "activation": a, "use_bias": b}

    return {
        "d1": [dense(out_units, act)],
        "d1_nobias": [dense(out_units, act, False)],
        "d2": [dense(4, act), dense(out_units, act)],
        "d3": [dense(4, act, False), dense(3, act), dense(out_units, act)],
        "d3_prelu": [dense(4, "prelu"), dense(3, act, False), dense(out_units, act)],
    }[arch]


def random_weights(layers: list[dict], rng: np.random.Generator) -> list[np.ndarray]:
    """Weights in get_weights() order; prelu slopes random so their gradient matters."""
    out = []
    fan_in = INPUT_DIM
    for layer in layers:
        u = layer["units"]
        out.append(rng.normal(0.0, 0.8, size=(fan_in, u)))
        if layer.get("use_bias", True):
            out.append(rng.normal(0.0, 0.5, size=u))
        if layer["activation"] == "prelu":
            out.append(rng.uniform(0.05, 0.6, size=u))
        fan_in = u
    return out


def make_targets(loss: str, k: int, rng: np.random.Generator) -> np.ndarray:
    """Targets: labels for sparse CE, positive rows not summing to 1 for CE, [0,1] for BCE."""
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, k, size=M)
    if loss == "categorical_crossentropy":
        return rng.uniform(0.0, 1.0, size=(M, k))
    if loss == "binary_crossentropy":
        return rng.uniform(0.0, 1.0, size=(M, k))
    return rng.normal(0.0, 1.5, size=(M, k))


def torch_act(name: str, z: torch.Tensor, s: torch.Tensor | None) -> torch.Tensor:
    """The same activation with torch ops (softplus exact, no threshold)."""
    name = {"silu": "swish"}.get(name, name)
    table = {
        "linear": lambda: z,
        "sigmoid": lambda: torch.sigmoid(z),
        "tanh": lambda: torch.tanh(z),
        "relu": lambda: F.relu(z),
        "leaky_relu": lambda: F.leaky_relu(z, 0.01),
        "prelu": lambda: F.prelu(z, s),
        "elu": lambda: F.elu(z),
        "selu": lambda: F.selu(z),
        "swish": lambda: F.silu(z),
        "gelu": lambda: F.gelu(z),
        "softplus": lambda: torch.logaddexp(z, torch.zeros_like(z)),
        "softmax": lambda: F.softmax(z, dim=1),
        "step": lambda: (z >= 0).to(z.dtype),
    }
    return table[name]()


def torch_net(params: list[torch.Tensor], layers: list[dict],
              X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """The net's forward pass in torch on the leaf tensors `params`: the
    output layer's z and a, and the weight matrices W (for the L2 term)."""
    it = iter(params)
    a, Ws = torch.tensor(X), []
    for layer in layers:
        W = next(it)
        Ws.append(W)
        z = a @ W
        if layer.get("use_bias", True):
            z = z + next(it)
        s = next(it) if layer["activation"] == "prelu" else None
        a = torch_act(layer["activation"], z, s)
    return z, a, Ws


def torch_cost(
    weights: list[np.ndarray], layers: list[dict], X: np.ndarray, y: np.ndarray, loss: str,
    l2: float, sw: np.ndarray | None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """J of the same net in torch, and its leaf parameter tensors."""
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    z, a, W_list = torch_net(params, layers, X)
    m = X.shape[0]
    if loss == "mse":
        per = 0.5 * ((a - torch.tensor(y)) ** 2).sum(1)
    elif loss == "mae":
        per = (a - torch.tensor(y)).abs().sum(1)
    elif loss == "huber":
        per = F.huber_loss(a, torch.tensor(y), reduction="none", delta=1.0).sum(1)
    elif loss == "binary_crossentropy":
        per = F.binary_cross_entropy_with_logits(z, torch.tensor(y), reduction="none").sum(1)
    elif loss == "categorical_crossentropy":
        per = F.cross_entropy(z, torch.tensor(y), reduction="none")
    else:
        per = F.cross_entropy(z, torch.tensor(y, dtype=torch.int64), reduction="none")
    s_w = torch.ones(m) if sw is None else torch.tensor(sw)
    J = (s_w * per).sum() / m + l2 / (2 * m) * sum((W * W).sum() for W in W_list)
    return J, params


def torch_grads(*args: Any) -> tuple[float, list[np.ndarray]]:
    J, params = torch_cost(*args)
    J.backward()
    return J.item(), [p.grad.numpy() for p in params]


def rel_max(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """max|a-b| / max(1, max|a|) over all arrays."""
    fa, fb = ref.flatten(a), ref.flatten(b)
    return float(np.max(np.abs(fa - fb)) / max(1.0, float(np.max(np.abs(fa)))))


def rel_norm(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """|a-b| / (|a|+|b|) on the flattened vectors."""
    fa, fb = ref.flatten(a), ref.flatten(b)
    return float(np.linalg.norm(fa - fb) / (np.linalg.norm(fa) + np.linalg.norm(fb)))


def problem(act: str, loss: str, arch: str, seed: int = 0):
    """A random problem whose every gradient array is non-zero (no dead relu net)."""
    for s in range(seed, seed + 100):
        rng = np.random.default_rng(s)
        k = 3 if act == "softmax" else 2
        layers = make_layers(arch, act, k)
        weights = random_weights(layers, rng)
        X = rng.normal(0.0, 1.0, size=(M, INPUT_DIM))
        y = make_targets(loss, k, rng)
        _, g = ref.gradients(weights, layers, X, y, loss)
        if all(np.any(gi != 0) for gi in g):
            return layers, weights, X, y, rng
    raise AssertionError("no non-degenerate problem found")


# ------------------------------------------------- losses and gradients vs torch

@pytest.mark.parametrize("arch", ["d1", "d1_nobias", "d2", "d3", "d3_prelu"])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("act,loss", PAIRS)
def test_loss_and_gradients_match_torch(act: str, loss: str, arch: str, l2: float, weighted: bool):
    layers, weights, X, y, rng = problem(act, loss, arch)
    sw = rng.uniform(0.2, 2.0, size=M) if weighted else None

    J_t, g_t = torch_grads(weights, layers, X, y, loss, l2, sw)
    J_r = ref.loss(weights, layers, X, y, loss, l2=l2, sample_weight=sw)
    J_g, g_r = ref.gradients(weights, layers, X, y, loss, l2=l2, sample_weight=sw)
    assert J_g == J_r
    assert abs(J_r - J_t) <= 1e-12 * max(1.0, abs(J_t))
    assert [g.shape for g in g_r] == [w.shape for w in weights]
    assert rel_max(g_t, g_r) <= 1e-10

    g_n = ref.numeric_gradients(weights, layers, X, y, loss, l2=l2, sample_weight=sw)
    assert rel_norm(g_r, g_n) <= 1e-7


@pytest.mark.parametrize("hidden", ACTS)
@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_crossentropies_through_every_hidden_activation(hidden: str, loss: str):
    out = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    rng = np.random.default_rng(1)
    k = 3
    layers = [{"units": 4, "activation": hidden, "use_bias": True},
              {"units": k, "activation": out, "use_bias": True}]
    weights = random_weights(layers, rng)
    X = rng.normal(size=(M, INPUT_DIM))
    y = make_targets(loss, k, rng)
    sw = rng.uniform(0.2, 2.0, size=M)
    J_t, g_t = torch_grads(weights, layers, X, y, loss, 0.1, sw)
    J_r, g_r = ref.gradients(weights, layers, X, y, loss, l2=0.1, sample_weight=sw)
    assert abs(J_r - J_t) <= 1e-12 * max(1.0, abs(J_t))
    assert rel_max(g_t, g_r) <= 1e-10
    g_n = ref.numeric_gradients(weights, layers, X, y, loss, l2=0.1, sample_weight=sw)
    assert rel_norm(g_r, g_n) <= 1e-7


@pytest.mark.parametrize("name", [*ACTS, "silu"])
def test_activation_and_backward_match_torch(name: str):
    rng = np.random.default_rng(2)
    z = rng.normal(0.0, 3.0, size=(5, 4))
    z[0] = [-30.0, -1e-3, 1e-3, 30.0]
    s = rng.uniform(0.05, 0.6, size=4) if name == "prelu" else None
    g = rng.normal(size=z.shape)
    a = ref.activation(name, z, s)
    dz, ds = ref.activation_backward(name, z, a, g, s)

    zt = torch.tensor(z, requires_grad=True)
    st = torch.tensor(s, requires_grad=True) if s is not None else None
    at = torch_act(name, zt, st)
    at.backward(torch.tensor(g))
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-13, atol=1e-15)
    if name == "prelu":
        np.testing.assert_allclose(ds, st.grad.numpy(), rtol=1e-13, atol=1e-15)
    else:
        assert ds is None


@pytest.mark.parametrize("name", ACTS)
def test_activations_are_stable_at_extremes(name: str):
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    s = np.full(5, 0.25) if name == "prelu" else None
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = ref.activation(name, z, s)
        dz, _ = ref.activation_backward(name, z, a, np.ones_like(z), s)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(dz))


def test_specific_activation_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    assert np.array_equal(ref.activation("relu", z), [[0.0, 0.0, 3.0]])
    assert np.array_equal(ref.activation("leaky_relu", z), [[-0.02, 0.0, 3.0]])
    np.testing.assert_allclose(ref.activation("elu", z), [[math.expm1(-2.0), 0.0, 3.0]])
    np.testing.assert_allclose(
        ref.activation("selu", z),
        [[ref.SELU_LAMBDA * ref.SELU_ALPHA * math.expm1(-2.0), 0.0, ref.SELU_LAMBDA * 3.0]])
    # softplus is exact: no torch-style threshold at 20
    big = np.array([[25.0]])
    assert ref.activation("softplus", big)[0, 0] == 25.0 + math.log1p(math.exp(-25.0))
    np.testing.assert_allclose(ref.activation("softmax", z).sum(axis=1), [1.0], rtol=1e-15)
    # derivative conventions at exactly zero
    g = np.ones_like(z)
    assert ref.activation_backward("relu", z, ref.activation("relu", z), g)[0][0, 1] == 0.0
    assert ref.activation_backward("leaky_relu", z, z, g)[0][0, 1] == 0.01
    assert ref.activation_backward("elu", z, z, g)[0][0, 1] == 1.0
    s = np.array([0.3, 0.4, 0.5])
    dz, ds = ref.activation_backward("prelu", z, ref.activation("prelu", z, s), g, s)
    assert np.array_equal(dz, [[0.3, 0.4, 1.0]])
    assert np.array_equal(ds, [-2.0, 0.0, 0.0])


def test_softmax_backward_is_the_jacobian_vector_product():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 4))
    g = rng.normal(size=(2, 4))
    a = ref.activation("softmax", z)
    dz, _ = ref.activation_backward("softmax", z, a, g)
    for i in range(2):
        jac = np.diag(a[i]) - np.outer(a[i], a[i])
        np.testing.assert_allclose(dz[i], jac.T @ g[i], rtol=1e-13, atol=1e-16)


def test_crossentropy_losses_are_stable_for_huge_logits():
    layers = [{"units": 2, "activation": "sigmoid", "use_bias": False}]
    W = np.array([[800.0, -800.0]])
    X = np.array([[1.0], [-1.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    J, g = ref.gradients([W], layers, X, y, "binary_crossentropy")
    assert J == pytest.approx(3200.0 / 2)  # each of 4 terms is 800
    assert np.all(np.isfinite(g[0]))
    layers = [{"units": 2, "activation": "softmax", "use_bias": False}]
    J, g = ref.gradients([W], layers, X, np.array([1, 1]), "sparse_categorical_crossentropy")
    assert J == pytest.approx((1600.0 + 0.0) / 2)
    assert np.all(np.isfinite(g[0]))


def test_sparse_equals_categorical_with_one_hot():
    layers, weights, X, labels, _ = problem("softmax", "sparse_categorical_crossentropy", "d2")
    onehot = np.eye(3)[labels]
    J1, g1 = ref.gradients(weights, layers, X, labels, "sparse_categorical_crossentropy")
    J2, g2 = ref.gradients(weights, layers, X, onehot, "categorical_crossentropy")
    assert J1 == pytest.approx(J2, rel=1e-15)
    assert rel_max(g1, g2) <= 1e-15


def test_float32_stays_float32():
    layers, weights, X, y, _ = problem("gelu", "mse", "d3_prelu")
    w32 = [w.astype(np.float32) for w in weights]
    X32 = X.astype(np.float32)
    zs, acts = ref.forward(w32, layers, X32)
    assert all(z.dtype == np.float32 for z in zs) and all(a.dtype == np.float32 for a in acts)
    _, g = ref.gradients(w32, layers, X32, y, "mse", l2=0.3, sample_weight=np.ones(M))
    assert all(gi.dtype == np.float32 for gi in g)
    J64 = ref.loss(weights, layers, X, y, "mse")
    assert ref.loss(w32, layers, X32, y, "mse") == pytest.approx(J64, rel=1e-5)


# ----------------------------------------------------------- step and pairing

def test_step_forward_values():
    z = np.array([[-1.0, -1e-300, 0.0, 1e-300, 2.0]])
    assert np.array_equal(ref.activation("step", z), [[0.0, 0.0, 1.0, 1.0, 1.0]])
    layers = [{"units": 2, "activation": "step", "use_bias": True},
              {"units": 1, "activation": "linear", "use_bias": False}]
    W1, b1, W2 = np.array([[1.0, -1.0]]), np.array([0.0, 0.5]), np.array([[2.0], [3.0]])
    X = np.array([[-2.0], [0.0], [2.0]])
    np.testing.assert_array_equal(ref.predict([W1, b1, W2], layers, X), [[3.0], [5.0], [2.0]])
    # a hidden step layer still has a loss value, but no gradient
    y = np.zeros((3, 1))
    assert ref.loss([W1, b1, W2], layers, X, y, "mse") == pytest.approx((9 + 25 + 4) / 6)
    with pytest.raises(ValueError, match="step"):
        ref.gradients([W1, b1, W2], layers, X, y, "mse")
    with pytest.raises(ValueError, match="step"):
        ref.numeric_gradients([W1, b1, W2], layers, X, y, "mse")
    with pytest.raises(ValueError, match="step"):
        ref.activation_backward("step", z, z, z)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_step_output_is_refused(loss: str):
    layers = [{"units": 1, "activation": "step", "use_bias": False}]
    W, X, y = np.ones((2, 1)), np.ones((3, 2)), np.ones((3, 1))
    with pytest.raises(ValueError):
        ref.loss([W], layers, X, y, loss)
    with pytest.raises(ValueError):
        ref.gradients([W], layers, X, y, loss)


@pytest.mark.parametrize("act,loss", [
    ("linear", "binary_crossentropy"), ("softmax", "binary_crossentropy"),
    ("sigmoid", "categorical_crossentropy"), ("relu", "categorical_crossentropy"),
    ("sigmoid", "sparse_categorical_crossentropy"), ("linear", "sparse_categorical_crossentropy"),
])
def test_pairing_errors(act: str, loss: str):
    layers = [{"units": 2, "activation": act, "use_bias": True}]
    weights = [np.ones((3, 2)), np.zeros(2)]
    X = np.ones((4, 3))
    y = np.array([0, 1, 0, 1]) if loss.startswith("sparse") else np.ones((4, 2))
    with pytest.raises(ValueError, match="needs"):
        ref.loss(weights, layers, X, y, loss)
    with pytest.raises(ValueError, match="needs"):
        ref.gradients(weights, layers, X, y, loss)


def test_bad_names_and_shapes():
    layers = [{"units": 2, "activation": "relu", "use_bias": True}]
    weights = [np.ones((3, 2)), np.zeros(2)]
    X, y = np.ones((4, 3)), np.ones((4, 2))
    with pytest.raises(ValueError):
        ref.activation("nope", X)
    with pytest.raises(ValueError):
        ref.loss(weights, layers, X, y, "nope")
    with pytest.raises(ValueError):
        ref.loss(weights[:1], layers, X, y, "mse")
    with pytest.raises(ValueError):
        ref.loss(weights, layers, np.ones((4, 2)), y, "mse")
    with pytest.raises(ValueError):
        ref.loss(weights, layers, X, np.ones((4, 3)), "mse")
    with pytest.raises(ValueError):
        ref.loss(weights, layers, X, y, "mse", sample_weight=np.ones(3))
    sm = [{"units": 2, "activation": "softmax", "use_bias": True}]
    with pytest.raises(ValueError):
        ref.loss(weights, sm, X, np.array([0, 1, 2, 0]), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError):
        ref.make_optimizer("lbfgs")


# ------------------------------------------------------ flat vector, init

def test_flatten_layout_and_roundtrip():
    layers = [{"units": 2, "activation": "prelu", "use_bias": True},
              {"units": 1, "activation": "tanh", "use_bias": False}]
    W1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b1, s1, W2 = np.array([7.0, 8.0]), np.array([9.0, 10.0]), np.array([[11.0], [12.0]])
    v = ref.flatten([W1, b1, s1, W2])
    assert np.array_equal(v, np.arange(1.0, 13.0))
    back = ref.unflatten(v, layers, 3)
    assert [w.shape for w in back] == [(3, 2), (2,), (2,), (2, 1)]
    for a, b in zip(back, [W1, b1, s1, W2], strict=True):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError):
        ref.unflatten(v[:-1], layers, 3)


def test_init_weights_layout_and_defaults():
    layers = [{"units": 4, "activation": "prelu", "use_bias": True},
              {"units": 3, "activation": "relu", "use_bias": False},
              {"units": 2, "activation": "softmax"}]
    w = ref.init_weights(layers, 5, np.random.default_rng(0))
    assert [x.shape for x in w] == [(5, 4), (4,), (4,), (4, 3), (3, 2), (2,)]
    assert np.array_equal(w[1], np.zeros(4)) and np.array_equal(w[2], np.full(4, 0.25))
    assert np.all(np.abs(w[0]) <= math.sqrt(12 / 9))
    w = ref.init_weights(layers, 5, np.random.default_rng(0), kernel_initializer=("constant", 0.5),
                         bias_initializer={"name": "constant", "value": 0.01})
    assert np.all(w[0] == 0.5) and np.all(w[1] == 0.01)
    w32 = ref.init_weights(layers, 5, np.random.default_rng(0), dtype=np.float32)
    assert all(x.dtype == np.float32 for x in w32)


_FI, _FO = 300, 200
_N = _FI * _FO
_UNIFORM_LIMITS = {
    "glorot_uniform": math.sqrt(6 / (_FI + _FO)), "xavier_uniform": math.sqrt(6 / (_FI + _FO)),
    "he_uniform": math.sqrt(6 / _FI), "kaiming_uniform": math.sqrt(6 / _FI),
    "lecun_uniform": math.sqrt(3 / _FI),
}
_NORMAL_STDS = {
    "glorot_normal": math.sqrt(2 / (_FI + _FO)), "xavier_normal": math.sqrt(2 / (_FI + _FO)),
    "he_normal": math.sqrt(2 / _FI), "kaiming_normal": math.sqrt(2 / _FI),
    "lecun_normal": math.sqrt(1 / _FI),
}
_AUTO_LIMITS = {
    "tanh": math.sqrt(6 / (_FI + _FO)), "sigmoid": 4 * math.sqrt(6 / (_FI + _FO)),
    "relu": math.sqrt(12 / (_FI + _FO)), "leaky_relu": math.sqrt(12 / (_FI + _FO)),
    "prelu": math.sqrt(12 / (_FI + _FO)), "elu": math.sqrt(12 / (_FI + _FO)),
    "linear": math.sqrt(6 / (_FI + _FO)),
    "softmax": math.sqrt(6 / (_FI + _FO)), "gelu": math.sqrt(6 / (_FI + _FO)),
}


def _check_uniform(x: np.ndarray, limit: float) -> None:
    assert x.shape == (_FI, _FO)
    assert np.all(np.abs(x) <= limit) and np.max(np.abs(x)) > 0.99 * limit
    assert abs(x.mean()) < 4 * limit / math.sqrt(3 * _N)
    assert x.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("name", sorted(_UNIFORM_LIMITS))
def test_uniform_initializers(name: str):
    x = ref.initializer(name, _FI, _FO, np.random.default_rng(4))
    _check_uniform(x, _UNIFORM_LIMITS[name])


@pytest.mark.parametrize("name", sorted(_NORMAL_STDS))
def test_normal_initializers(name: str):
    x = ref.initializer(name, _FI, _FO, np.random.default_rng(5))
    std = _NORMAL_STDS[name]
    assert abs(x.mean()) < 4 * std / math.sqrt(_N)
    assert x.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("act", sorted(_AUTO_LIMITS))
def test_auto_initializer_table(act: str):
    x = ref.initializer("auto", _FI, _FO, np.random.default_rng(6), activation=act)
    _check_uniform(x, _AUTO_LIMITS[act])


def test_auto_initializer_selu_is_lecun_normal():
    x = ref.initializer("auto", _FI, _FO, np.random.default_rng(6), activation="selu")
    assert x.std() == pytest.approx(math.sqrt(1 / _FI), rel=0.02)


def test_simple_initializers():
    rng = np.random.default_rng(7)
    assert np.all(ref.initializer("zeros", 2, 3, rng) == 0)
    assert np.all(ref.initializer("ones", 2, 3, rng) == 1)
    assert np.all(ref.initializer("constant", 2, 3, rng, value=0.01) == 0.01)
    _check_uniform(ref.initializer("uniform", _FI, _FO, rng, limit=0.2), 0.2)
    x = ref.initializer("normal", _FI, _FO, rng, stddev=0.3)
    assert x.std() == pytest.approx(0.3, rel=0.02)
    with pytest.raises(ValueError):
        ref.initializer("bogus", 2, 3, rng)


# -------------------------------------------------------------- optimizers

OPT_CASES = [
    ("sgd", {}),
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd", {"lr": 0.05, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-6}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05,
                 "initial_accumulator_value": 0.2}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.3, "centered": True}),
    ("rmsprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-4}),
    ("rmsprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    ("adam", {}),
    ("adam", {"lr": 0.02}),
    ("adam", {"lr": 0.02, "amsgrad": True}),
    ("adam", {"lr": 0.02, "weight_decay": 0.1}),
    ("adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("adam", {"lr": 0.02, "betas": (0.3, 0.8), "amsgrad": True, "weight_decay": 0.1}),
    ("adamw", {}),
    ("adamw", {"lr": 0.02}),
    ("adamw", {"lr": 0.02, "amsgrad": True}),
    ("adamw", {"lr": 0.02, "weight_decay": 0.3}),
    ("adamw", {"lr": 0.02, "weight_decay": 0.0}),
    ("adamw", {"lr": 0.02, "betas": (0.6, 0.95), "weight_decay": 0.2, "amsgrad": True}),
]
OPT_IDS = [f"{n}-{i}" for i, (n, _) in enumerate(OPT_CASES)]
TORCH_OPT = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
             "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
             "adamw": torch.optim.AdamW}


def _ref_kwargs(kw: dict) -> dict:
    kw = dict(kw)
    if "lr" in kw:
        kw["learning_rate"] = kw.pop("lr")
    return kw


@pytest.mark.parametrize("name,kw", OPT_CASES, ids=OPT_IDS)
def test_optimizer_trajectory_matches_torch(name: str, kw: dict):
    layers = [{"units": 4, "activation": "tanh", "use_bias": True},
              {"units": 3, "activation": "prelu", "use_bias": False},
              {"units": 2, "activation": "linear", "use_bias": True}]
    rng = np.random.default_rng(8)
    weights = random_weights(layers, rng)
    X = rng.normal(size=(M, INPUT_DIM))
    y = rng.normal(size=(M, 2))
    l2 = 0.1

    params = [torch.tensor(w, requires_grad=True) for w in weights]
    topt = TORCH_OPT[name](params, foreach=False, **kw)
    ropt = ref.make_optimizer(name, **_ref_kwargs(kw))
    theta = ref.flatten(weights)
    worst = 0.0
    for _ in range(50):
        topt.zero_grad()
        J_t, _ = torch_cost_with(params, layers, X, y, l2)
        J_t.backward()
        topt.step()
        J_r, g = ref.gradients(ref.unflatten(theta, layers, INPUT_DIM), layers, X, y, "mse", l2=l2)
        assert abs(J_r - J_t.item()) <= 1e-9 * max(1.0, abs(J_r))
        theta = ropt.step(theta, ref.flatten(g))
        t_theta = np.concatenate([p.detach().numpy().ravel() for p in params])
        worst = max(worst, float(np.max(np.abs(theta - t_theta))))
    assert worst <= 1e-9
    assert np.max(np.abs(theta - ref.flatten(weights))) > 1e-4  # it actually moved


def torch_cost_with(params: list[torch.Tensor], layers: list[dict], X: np.ndarray,
                    y: np.ndarray, l2: float) -> tuple[torch.Tensor, None]:
    """MSE cost of the net on existing leaf tensors (for the optimizer test)."""
    _, a, Ws = torch_net(params, layers, X)
    m = X.shape[0]
    J = 0.5 * ((a - torch.tensor(y)) ** 2).sum() / m + l2 / (2 * m) * sum((W * W).sum() for W in Ws)
    return J, None


@pytest.mark.parametrize("name,kw", OPT_CASES, ids=OPT_IDS)
def test_optimizer_update_rule_on_given_gradients(name: str, kw: dict):
    """Same gradient sequence fed to both: isolates the update rule (tight tolerance)."""
    rng = np.random.default_rng(9)
    p0 = rng.normal(size=7)
    p = torch.tensor(p0, requires_grad=True)
    topt = TORCH_OPT[name]([p], foreach=False, **kw)
    ropt = ref.make_optimizer(name, **_ref_kwargs(kw))
    theta = p0.copy()
    for _ in range(50):
        g = rng.normal(size=7) * rng.choice([1e-3, 1.0, 10.0])
        p.grad = torch.tensor(g)
        topt.step()
        theta = ropt.step(theta, g)
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TORCH_OPT))
def test_optimizer_defaults_match_torch(name: str):
    d = TORCH_OPT[name]([torch.zeros(1, requires_grad=True)]).defaults
    o = ref.make_optimizer(name)
    assert o.learning_rate == d["lr"]
    for key, val in d.items():
        if hasattr(o, key):
            got = getattr(o, key)
            assert (tuple(got) if isinstance(got, tuple) else got) == (
                tuple(val) if isinstance(val, tuple) else val), key
