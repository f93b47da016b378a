"""Slow, obviously-correct pure-NumPy reference for the maths of nnc.

This module is a *test oracle* for the C engine. It is never imported by the
engine or by the Python facade. Every function favours clarity over speed and
computes in the dtype of its inputs (no silent downcasting).

Conventions (the contract the C engine follows)
-----------------------------------------------
* A model is a stack of Dense layers. Layer l has ``W`` (fan_in, fan_out), an
  optional bias ``b`` (fan_out,) and, for ``prelu``, slopes ``s`` (fan_out,).
  ``z = a_prev @ W + b`` and ``a = g(z)``.
* ``weights`` is the ``get_weights()`` list: per layer ``W``, then ``b`` if
  ``use_bias``, then the slopes if the activation is ``prelu``.
* The flat ("unrolled") vector is the concatenation of ``w.ravel()``
  (row-major) over that list.
* The cost is ``J = (1/m) sum_i s_i l_i + (l2 / (2m)) sum_layers sum W**2``
  (biases and PReLU slopes are not regularised).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

LayerSpec = dict  # {"units": int, "activation": str, "use_bias": bool}

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "LayerSpec",
    "RMSprop",
    "activation",
    "activation_backward",
    "canonical_activation",
    "canonical_loss",
    "check_pairing",
    "flatten",
    "forward",
    "gradients",
    "init_weights",
    "initializer",
    "loss",
    "make_optimizer",
    "numeric_gradients",
    "predict",
    "unflatten",
]

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
LEAKY_SLOPE = 0.01
PRELU_INITIAL_SLOPE = 0.25

ACTIVATIONS = (
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu",
    "swish", "gelu", "softplus", "softmax", "step",
)
_ACTIVATION_ALIASES = {"silu": "swish"}

LOSSES = (
    "mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)
# Output activation each cross-entropy requires.
_REQUIRED_OUTPUT = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


# --------------------------------------------------------------------- names

def canonical_activation(name: str | None) -> str:
    """Lower-cased canonical activation name (``None`` -> ``"linear"``, ``silu`` -> ``swish``)."""
    if name is None:
        return "linear"
    key = str(name).lower()
    key = _ACTIVATION_ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")
    return key


def canonical_loss(name: str) -> str:
    """Lower-cased canonical loss name."""
    key = str(name).lower()
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")
    return key


def check_pairing(output_activation: str, loss_name: str) -> None:
    """Raise ValueError unless ``loss_name`` may follow ``output_activation``.

    mse/mae/huber pair with every activation except step; binary
    cross-entropy needs sigmoid; (sparse) categorical cross-entropy needs
    softmax.
    """
    act = canonical_activation(output_activation)
    key = canonical_loss(loss_name)
    if act == "step":
        raise ValueError(f"loss {key!r} cannot follow a 'step' output (no gradient)")
    required = _REQUIRED_OUTPUT.get(key)
    if required is not None and act != required:
        raise ValueError(f"loss {key!r} needs a {required!r} output activation, got {act!r}")


# --------------------------------------------------------------- activations

def _sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1/(1+e^-z), evaluated as e^{-|z|} based branches (no overflow)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1+e^z) = max(z,0) + log1p(e^{-|z|}) (exact, no threshold)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _erf(x: np.ndarray) -> np.ndarray:
    """Element-wise erf via math.erf (double precision), cast back to x's dtype."""
    flat = [math.erf(float(v)) for v in x.ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(x.shape).astype(x.dtype, copy=False)


def _std_normal_cdf(z: np.ndarray) -> np.ndarray:
    """Phi(z) = 0.5 (1 + erf(z / sqrt 2))."""
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def _std_normal_pdf(z: np.ndarray) -> np.ndarray:
    """phi(z) = exp(-z^2/2) / sqrt(2 pi)."""
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax: exp(z - max z) / sum exp(z - max z)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    """Row-wise log sum_k exp(z_k), shape (m, 1), computed stably."""
    mx = z.max(axis=1, keepdims=True)
    return mx + np.log(np.exp(z - mx).sum(axis=1, keepdims=True))


def _check_slopes(name: str, slopes: np.ndarray | None) -> np.ndarray:
    if slopes is None:
        raise ValueError(f"activation {name!r} needs slopes")
    return np.asarray(slopes)


def activation(name: str, z: np.ndarray, slopes: np.ndarray | None = None) -> np.ndarray:
    """a = g(z), element-wise (softmax: row-wise).

    linear z; sigmoid 1/(1+e^-z); tanh; relu max(z,0); leaky_relu z or 0.01 z;
    prelu z or s_j z; elu z or e^z-1; selu lambda*(z or alpha(e^z-1));
    swish z*sigma(z); gelu z*Phi(z); softplus log(1+e^z); softmax e^z/sum e^z;
    step 1[z>=0].
    """
    key = canonical_activation(name)
    z = np.asarray(z)
    if key == "linear":
        return z.copy()
    if key == "sigmoid":
        return _sigmoid(z)
    if key == "tanh":
        return np.tanh(z)
    if key == "relu":
        return np.where(z > 0, z, 0).astype(z.dtype, copy=False)
    if key == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if key == "prelu":
        s = _check_slopes(key, slopes)
        return np.where(z > 0, z, s * z)
    if key == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if key == "selu":
        return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))
    if key == "swish":
        return z * _sigmoid(z)
    if key == "gelu":
        return z * _std_normal_cdf(z)
    if key == "softplus":
        return _softplus(z)
    if key == "softmax":
        return _softmax(z)
    # step
    return (z >= 0).astype(z.dtype)


def activation_backward(
    name: str,
    z: np.ndarray,
    a: np.ndarray,
    grad_a: np.ndarray,
    slopes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Chain rule through g: returns (dJ/dz, dJ/dslopes or None).

    Element-wise g: dJ/dz = grad_a * g'(z) with
    relu' = 1[z>0]; leaky' = 1 or 0.01; prelu' = 1 or s_j; elu' = 1 or e^z;
    selu' = lambda*(1 or alpha e^z); sigmoid' = a(1-a); tanh' = 1-a^2;
    swish' = sigma + z sigma (1-sigma); gelu' = Phi(z) + z phi(z);
    softplus' = sigma(z).
    softmax (JVP): dJ/dz = a * (g - sum_k g_k a_k).
    prelu slopes: dJ/ds_j = sum_i grad_a_ij * (z_ij if z_ij <= 0 else 0).
    step has no gradient: ValueError.
    """
    key = canonical_activation(name)
    z = np.asarray(z)
    a = np.asarray(a)
    g = np.asarray(grad_a)
    if key == "step":
        raise ValueError("the 'step' activation has no gradient; it cannot be trained through")
    if key == "linear":
        return g.copy(), None
    if key == "sigmoid":
        return g * a * (1 - a), None
    if key == "tanh":
        return g * (1 - a * a), None
    if key == "relu":
        return np.where(z > 0, g, 0).astype(g.dtype, copy=False), None
    if key == "leaky_relu":
        return np.where(z > 0, g, LEAKY_SLOPE * g), None
    if key == "prelu":
        s = _check_slopes(key, slopes)
        dz = np.where(z > 0, g, s * g)
        ds = np.where(z > 0, 0, g * z).sum(axis=0).astype(g.dtype, copy=False)
        return dz, ds
    if key == "elu":
        return np.where(z > 0, g, g * np.exp(np.minimum(z, 0))), None
    if key == "selu":
        return SELU_LAMBDA * np.where(z > 0, g, g * SELU_ALPHA * np.exp(np.minimum(z, 0))), None
    if key == "swish":
        sg = _sigmoid(z)
        return g * (sg + z * sg * (1 - sg)), None
    if key == "gelu":
        return g * (_std_normal_cdf(z) + z * _std_normal_pdf(z)), None
    if key == "softplus":
        return g * _sigmoid(z), None
    # softmax
    return a * (g - (g * a).sum(axis=1, keepdims=True)), None


# -------------------------------------------------------------------- layers

def _layer_fields(layer: LayerSpec) -> tuple[int, str, bool]:
    """(units, canonical activation, use_bias) of a layer spec (bias defaults to True)."""
    act = canonical_activation(layer.get("activation"))
    return int(layer["units"]), act, bool(layer.get("use_bias", True))


def _param_shapes(layers: Sequence[LayerSpec], input_dim: int) -> list[tuple[int, ...]]:
    """Shapes of the get_weights() list: per layer (fi, fo), then (fo,) for b and for slopes."""
    shapes: list[tuple[int, ...]] = []
    fan_in = int(input_dim)
    for layer in layers:
        units, act, use_bias = _layer_fields(layer)
        shapes.append((fan_in, units))
        if use_bias:
            shapes.append((units,))
        if act == "prelu":
            shapes.append((units,))
        fan_in = units
    return shapes


def _split(
    weights: Sequence[np.ndarray], layers: Sequence[LayerSpec]
) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
    """Group the flat get_weights() list into (W, b or None, slopes or None) per layer."""
    if not layers:
        raise ValueError("a model needs at least one layer")
    weights = [np.asarray(w) for w in weights]
    if not weights:
        raise ValueError("weights is empty")
    shapes = _param_shapes(layers, weights[0].shape[0])
    if len(weights) != len(shapes):
        raise ValueError(f"expected {len(shapes)} weight arrays, got {len(weights)}")
    for i, (w, shape) in enumerate(zip(weights, shapes, strict=True)):
        if w.shape != shape:
            raise ValueError(f"weights[{i}] has shape {w.shape}, expected {shape}")
    out = []
    it = iter(weights)
    for layer in layers:
        _, act, use_bias = _layer_fields(layer)
        W = next(it)
        b = next(it) if use_bias else None
        s = next(it) if act == "prelu" else None
        out.append((W, b, s))
    return out


def forward(
    weights: Sequence[np.ndarray], layers: Sequence[LayerSpec], X: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward pass: for each layer z = a_prev @ W + b, a = g(z); a_0 = X.

    Returns (zs, activations), one entry per layer (the input is not included).
    """
    params = _split(weights, layers)
    a = np.asarray(X)
    if a.ndim != 2 or a.shape[1] != params[0][0].shape[0]:
        raise ValueError(f"X must have shape (m, {params[0][0].shape[0]}), got {a.shape}")
    zs: list[np.ndarray] = []
    acts: list[np.ndarray] = []
    for layer, (W, b, s) in zip(layers, params, strict=True):
        z = a @ W
        if b is not None:
            z = z + b
        a = activation(layer.get("activation"), z, s)
        zs.append(z)
        acts.append(a)
    return zs, acts


def predict(
    weights: Sequence[np.ndarray], layers: Sequence[LayerSpec], X: np.ndarray
) -> np.ndarray:
    """Output activations a_L of the forward pass."""
    return forward(weights, layers, X)[1][-1]


# -------------------------------------------------------------------- losses

def _prepare_targets(key: str, y: Any, out: np.ndarray) -> np.ndarray:
    """Targets in the shape/dtype the loss needs: int (m,) for sparse CE, else like ``out``."""
    m, k = out.shape
    if key == "sparse_categorical_crossentropy":
        yi = np.asarray(y)
        if yi.ndim == 2 and yi.shape[1] == 1:
            yi = yi[:, 0]
        if yi.shape != (m,):
            raise ValueError(f"sparse labels must have shape ({m},), got {yi.shape}")
        if yi.dtype.kind == "f":
            if not np.all(yi == np.round(yi)):
                raise ValueError("sparse labels must be integers")
        elif yi.dtype.kind not in "iu":
            raise ValueError(f"sparse labels must be integers, got dtype {yi.dtype}")
        yi = yi.astype(np.int64)
        if yi.size and (yi.min() < 0 or yi.max() >= k):
            raise ValueError(f"sparse labels must lie in [0, {k})")
        return yi
    yf = np.asarray(y, dtype=out.dtype)
    if yf.ndim == 1 and k == 1:
        yf = yf.reshape(m, 1)
    if yf.shape != (m, k):
        raise ValueError(f"y must have shape ({m}, {k}), got {yf.shape}")
    return yf


def _one_hot(labels: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    """(m, k) matrix with 1 at (i, labels[i])."""
    y = np.zeros((labels.shape[0], k), dtype=dtype)
    y[np.arange(labels.shape[0]), labels] = 1
    return y


def _sample_weights(sample_weight: Any, m: int, dtype: np.dtype) -> np.ndarray:
    """Per-sample weights s, shape (m,), default ones."""
    if sample_weight is None:
        return np.ones(m, dtype=dtype)
    s = np.asarray(sample_weight, dtype=dtype).reshape(-1)
    if s.shape != (m,):
        raise ValueError(f"sample_weight must have shape ({m},), got {s.shape}")
    return s


def _per_sample_loss(key: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """l_i for each row i (formulas in the docstring of loss())."""
    if key == "mse":
        return 0.5 * ((a - y) ** 2).sum(axis=1)
    if key == "mae":
        return np.abs(a - y).sum(axis=1)
    if key == "huber":
        r = np.abs(a - y)
        return np.where(r <= 1, 0.5 * r * r, r - 0.5).sum(axis=1)
    if key == "binary_crossentropy":
        return (_softplus(z) - y * z).sum(axis=1)
    if key == "sparse_categorical_crossentropy":
        y = _one_hot(y, z.shape[1], z.dtype)
    return -(y * (z - _logsumexp(z))).sum(axis=1)


def _per_sample_grad(key: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d l_i / d a_i for mse/mae/huber, or d l_i / d z_i for the cross-entropies.

    mse: r; mae: sign(r); huber: r if |r|<=1 else sign(r) (r = a - y);
    BCE: sigma(z) - y; CE: a * sum_k y_k - y.
    """
    if key == "mse":
        return a - y
    if key == "mae":
        return np.sign(a - y)
    if key == "huber":
        r = a - y
        return np.where(np.abs(r) <= 1, r, np.sign(r))
    if key == "binary_crossentropy":
        return _sigmoid(z) - y
    if key == "sparse_categorical_crossentropy":
        y = _one_hot(y, z.shape[1], z.dtype)
    return a * y.sum(axis=1, keepdims=True) - y


def _l2_term(params: list[tuple[np.ndarray, Any, Any]], l2: float, m: int) -> float:
    """(l2 / (2m)) * sum over layers of sum W^2."""
    if l2 == 0:
        return 0.0
    return float(l2 / (2 * m) * sum(float((W * W).sum()) for W, _, _ in params))


def _cost(
    params: list[tuple[np.ndarray, Any, Any]],
    key: str,
    z: np.ndarray,
    a: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    l2: float,
) -> float:
    """J = (1/m) sum_i s_i l_i + (l2/(2m)) sum_layers sum W^2, from the output z, a."""
    m = z.shape[0]
    return float((s * _per_sample_loss(key, z, a, y)).sum() / m) + _l2_term(params, l2, m)


def _setup(
    weights: Sequence[np.ndarray],
    layers: Sequence[LayerSpec],
    X: np.ndarray,
    y: Any,
    loss_name: str,
    sample_weight: Any,
) -> tuple[str, list, list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """Validate and run the forward pass: (key, params, zs, acts, targets, sample weights)."""
    key = canonical_loss(loss_name)
    check_pairing(layers[-1].get("activation"), key)
    params = _split(weights, layers)
    zs, acts = forward(weights, layers, X)
    m = zs[-1].shape[0]
    if m == 0:
        raise ValueError("X is empty")
    yy = _prepare_targets(key, y, acts[-1])
    s = _sample_weights(sample_weight, m, acts[-1].dtype)
    return key, params, zs, acts, yy, s


def loss(
    weights: Sequence[np.ndarray],
    layers: Sequence[LayerSpec],
    X: np.ndarray,
    y: Any,
    loss: str,
    l2: float = 0.0,
    sample_weight: Any = None,
) -> float:
    """J = (1/m) sum_i s_i l_i + (l2/(2m)) sum_layers sum W^2.

    l_i: mse 0.5 sum_k r^2; mae sum_k |r|; huber sum_k (0.5 r^2 if |r|<=1 else
    |r|-0.5); BCE sum_k softplus(z)-y z; CE -sum_k y (z - logsumexp z);
    sparse CE = CE with one-hot y.  (r = a - y)
    """
    key, params, zs, acts, yy, s = _setup(weights, layers, X, y, loss, sample_weight)
    return _cost(params, key, zs[-1], acts[-1], yy, s, l2)


_loss = loss  # the public name is shadowed by the ``loss`` argument below


def _refuse_step(layers: Sequence[LayerSpec]) -> None:
    """ValueError if any layer uses the gradient-less step activation."""
    for layer in layers:
        if _layer_fields(layer)[1] == "step":
            raise ValueError("the 'step' activation has no gradient; it cannot be trained through")


def gradients(
    weights: Sequence[np.ndarray],
    layers: Sequence[LayerSpec],
    X: np.ndarray,
    y: Any,
    loss: str,
    l2: float = 0.0,
    sample_weight: Any = None,
) -> tuple[float, list[np.ndarray]]:
    """(J, dJ/dtheta) by backprop, gradients in the get_weights() layout.

    delta_L = dJ/dz_L; dW_l = a_{l-1}^T delta_l + (l2/m) W_l; db_l = sum_i delta_l;
    dJ/da_{l-1} = delta_l W_l^T; delta_{l-1} = that pushed through g_{l-1}
    (element-wise derivative, softmax JVP, prelu also yields dJ/dslopes).
    """
    _refuse_step(layers)
    key, params, zs, acts, yy, s = _setup(weights, layers, X, y, loss, sample_weight)
    X = np.asarray(X)
    z, a = zs[-1], acts[-1]
    m = z.shape[0]
    J = _cost(params, key, z, a, yy, s, l2)
    per = _per_sample_grad(key, z, a, yy) * (s / m)[:, None]
    out_act = _layer_fields(layers[-1])[1]
    if key in _REQUIRED_OUTPUT:
        delta = per  # already dJ/dz_L
        d_slopes: np.ndarray | None = None
    else:
        delta, d_slopes = activation_backward(out_act, z, a, per, params[-1][2])

    grads_rev: list[list[np.ndarray]] = []
    for li in range(len(layers) - 1, -1, -1):
        W, b, _ = params[li]
        a_prev = acts[li - 1] if li > 0 else X
        dW = a_prev.T @ delta
        if l2 != 0:
            dW = dW + (l2 / m) * W
        group = [dW]
        if b is not None:
            group.append(delta.sum(axis=0))
        if d_slopes is not None:
            group.append(d_slopes)
        grads_rev.append(group)
        if li > 0:
            grad_a = delta @ W.T
            prev_act = _layer_fields(layers[li - 1])[1]
            delta, d_slopes = activation_backward(
                prev_act, zs[li - 1], acts[li - 1], grad_a, params[li - 1][2]
            )
    grads = [g for group in reversed(grads_rev) for g in group]
    return J, grads


def numeric_gradients(
    weights: Sequence[np.ndarray],
    layers: Sequence[LayerSpec],
    X: np.ndarray,
    y: Any,
    loss: str,
    l2: float = 0.0,
    sample_weight: Any = None,
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """Central differences: dJ/dtheta_i ~ (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)."""
    _refuse_step(layers)
    J = _loss
    work = [np.array(w, copy=True) for w in weights]
    out = [np.zeros_like(w) for w in work]
    for w, g in zip(work, out, strict=True):
        flat_w, flat_g = w.reshape(-1), g.reshape(-1)
        for i in range(flat_w.size):
            orig = flat_w[i]
            flat_w[i] = orig + eps
            plus = J(work, layers, X, y, loss, l2, sample_weight)
            flat_w[i] = orig - eps
            minus = J(work, layers, X, y, loss, l2, sample_weight)
            flat_w[i] = orig
            flat_g[i] = (plus - minus) / (2 * eps)
    return out


# ------------------------------------------------------------ flat vector

def flatten(weights: Sequence[np.ndarray]) -> np.ndarray:
    """The unrolled vector: concatenation of w.ravel() (row-major) over the weights list."""
    return np.concatenate([np.asarray(w).ravel() for w in weights])


def unflatten(vector: np.ndarray, layers: Sequence[LayerSpec], input_dim: int) -> list[np.ndarray]:
    """Inverse of flatten: split the vector into the get_weights() arrays (copies)."""
    v = np.asarray(vector).reshape(-1)
    shapes = _param_shapes(layers, input_dim)
    total = sum(math.prod(sh) for sh in shapes)
    if v.size != total:
        raise ValueError(f"vector has {v.size} elements, expected {total}")
    out = []
    off = 0
    for sh in shapes:
        n = math.prod(sh)
        out.append(v[off:off + n].reshape(sh).copy())
        off += n
    return out


# -------------------------------------------------------------- initializers

_INIT_ALIASES = {
    "xavier_normal": "glorot_normal",
    "xavier_uniform": "glorot_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
}
_INIT_NAMES = (
    "auto", "zeros", "ones", "constant", "uniform", "normal", "glorot_normal",
    "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "fan_in_uniform",
)
_RELU_FAMILY = ("relu", "leaky_relu", "prelu", "elu")


def _auto_limit(act: str, fan_in: int, fan_out: int) -> float:
    """Note 000's table: tanh sqrt(6/(fi+fo)); sigmoid 4 sqrt(6/(fi+fo));
    relu family sqrt(12/(fi+fo)); others glorot sqrt(6/(fi+fo)). (selu is not
    uniform: "auto" gives it LeCun normal, see initializer().)"""
    if act == "sigmoid":
        return 4.0 * math.sqrt(6.0 / (fan_in + fan_out))
    if act in _RELU_FAMILY:
        return math.sqrt(12.0 / (fan_in + fan_out))
    return math.sqrt(6.0 / (fan_in + fan_out))


def initializer(
    name: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    shape: tuple[int, ...] | None = None,
    activation: str = "linear",
    value: float = 0.0,
    limit: float = 0.05,
    stddev: float = 0.05,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Draw an array of ``shape`` (default (fan_in, fan_out)).

    zeros; ones; constant(value); uniform U(+-limit); normal N(0, stddev^2);
    glorot_normal N(0, 2/(fi+fo)); glorot_uniform U(+-sqrt(6/(fi+fo)));
    he_normal N(0, 2/fi); he_uniform U(+-sqrt(6/fi)); lecun_normal N(0, 1/fi);
    lecun_uniform U(+-sqrt(3/fi)); fan_in_uniform U(+-sqrt(1/fi)) (torch.nn.Linear's
    weights and biases); auto: see _auto_limit.
    """
    key = _INIT_ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _INIT_NAMES:
        raise ValueError(f"unknown initializer {name!r}")
    shape = (fan_in, fan_out) if shape is None else tuple(shape)

    def uni(lim: float) -> np.ndarray:
        return rng.uniform(-lim, lim, size=shape)

    def nor(var: float) -> np.ndarray:
        return rng.normal(0.0, math.sqrt(var), size=shape)

    draws: dict[str, Callable[[], np.ndarray]] = {
        "zeros": lambda: np.zeros(shape),
        "ones": lambda: np.ones(shape),
        "constant": lambda: np.full(shape, float(value)),
        "uniform": lambda: uni(limit),
        "normal": lambda: nor(stddev * stddev),
        "glorot_normal": lambda: nor(2.0 / (fan_in + fan_out)),
        "glorot_uniform": lambda: uni(math.sqrt(6.0 / (fan_in + fan_out))),
        "he_normal": lambda: nor(2.0 / fan_in),
        "he_uniform": lambda: uni(math.sqrt(6.0 / fan_in)),
        "lecun_normal": lambda: nor(1.0 / fan_in),
        "lecun_uniform": lambda: uni(math.sqrt(3.0 / fan_in)),
        "fan_in_uniform": lambda: uni(math.sqrt(1.0 / fan_in)),
        "auto": lambda: (nor(1.0 / fan_in) if canonical_activation(activation) == "selu"
                         else uni(_auto_limit(canonical_activation(activation), fan_in, fan_out))),
    }
    return draws[key]().astype(dtype)


def _init_call(spec: Any) -> tuple[str, dict[str, float]]:
    """Accept "name", ("name", param) or {"name": ..., "value"/"limit"/"stddev": ...}."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict):
        kw = dict(spec)
        return kw.pop("name"), kw
    name, param = spec
    key = _INIT_ALIASES.get(str(name).lower(), str(name).lower())
    field = {"constant": "value", "uniform": "limit", "normal": "stddev"}.get(key)
    if field is None:
        raise ValueError(f"initializer {name!r} takes no parameter")
    return name, {field: float(param)}


def init_weights(
    layers: Sequence[LayerSpec],
    input_dim: int,
    rng: np.random.Generator,
    kernel_initializer: Any = "auto",
    bias_initializer: Any = "zeros",
    dtype: Any = np.float64,
) -> list[np.ndarray]:
    """Fresh get_weights() list: W from kernel_initializer, b from bias_initializer,
    prelu slopes = 0.25. Initializers may be a name, (name, param) or a dict."""
    kname, kkw = _init_call(kernel_initializer)
    bname, bkw = _init_call(bias_initializer)
    out: list[np.ndarray] = []
    fan_in = int(input_dim)
    for layer in layers:
        units, act, use_bias = _layer_fields(layer)
        out.append(initializer(kname, fan_in, units, rng, activation=act, dtype=dtype, **kkw))
        if use_bias:
            out.append(initializer(bname, fan_in, units, rng, shape=(units,), activation=act,
                                   dtype=dtype, **bkw))
        if act == "prelu":
            out.append(np.full(units, PRELU_INITIAL_SLOPE, dtype=dtype))
        fan_in = units
    return out


# ---------------------------------------------------------------- optimizers
# torch.optim single-tensor formulas on one flat vector. ``step`` returns the
# new parameters (a fresh array); the state lives on the object.

def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch.lerp as computed on CPU.

    start + w (end - start) if w < 0.5, else end - (end - start)(1 - w).
    """
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


class SGD:
    """g += wd p; buf = g (first step) else mu buf + (1-dampening) g;
    g = g + mu buf (nesterov) or buf; p -= lr g."""

    def __init__(self, learning_rate: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening == 0")
        self.learning_rate, self.momentum, self.dampening = learning_rate, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.buf: np.ndarray | None = None

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        g = grad + self.weight_decay * params if self.weight_decay != 0 else grad.copy()
        if self.momentum != 0:
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf = self.momentum * self.buf + (1 - self.dampening) * g
            g = g + self.momentum * self.buf if self.nesterov else self.buf
        return params - self.learning_rate * g


class Adagrad:
    """t += 1; g += wd p; clr = lr / (1 + (t-1) lr_decay); S += g^2;
    p -= clr g / (sqrt(S) + eps); S starts at initial_accumulator_value."""

    def __init__(self, learning_rate: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        self.learning_rate, self.lr_decay, self.weight_decay = learning_rate, lr_decay, weight_decay
        self.initial_accumulator_value, self.eps = initial_accumulator_value, eps
        self.t = 0
        self.sum: np.ndarray | None = None

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.sum is None:
            self.sum = np.full_like(params, self.initial_accumulator_value)
        self.t += 1
        g = grad + self.weight_decay * params if self.weight_decay != 0 else grad
        clr = self.learning_rate / (1 + (self.t - 1) * self.lr_decay)
        self.sum = self.sum + g * g
        return params - clr * (g / (np.sqrt(self.sum) + self.eps))


class RMSprop:
    """g += wd p; v = alpha v + (1-alpha) g^2; centered: gbar = lerp(gbar, g, 1-alpha),
    avg = sqrt(v - gbar^2) + eps, else sqrt(v) + eps;
    momentum: buf = mu buf + g/avg, p -= lr buf; else p -= lr g/avg."""

    def __init__(self, learning_rate: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        self.learning_rate, self.alpha, self.eps = learning_rate, alpha, eps
        self.weight_decay, self.momentum, self.centered = weight_decay, momentum, centered
        self.t = 0
        self.square_avg: np.ndarray | None = None
        self.grad_avg: np.ndarray | None = None
        self.buf: np.ndarray | None = None

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.square_avg is None:
            self.square_avg = np.zeros_like(params)
            self.grad_avg = np.zeros_like(params)
            self.buf = np.zeros_like(params)
        self.t += 1
        g = grad + self.weight_decay * params if self.weight_decay != 0 else grad
        self.square_avg = self.alpha * self.square_avg + (1 - self.alpha) * (g * g)
        if self.centered:
            self.grad_avg = _lerp(self.grad_avg, g, 1 - self.alpha)
            avg = np.sqrt(self.square_avg - self.grad_avg * self.grad_avg) + self.eps
        else:
            avg = np.sqrt(self.square_avg) + self.eps
        if self.momentum > 0:
            self.buf = self.momentum * self.buf + g / avg
            return params - self.learning_rate * self.buf
        return params - self.learning_rate * (g / avg)


class Adam:
    """t += 1; g += wd p (AdamW instead: p *= 1 - lr wd); m = lerp(m, g, 1-b1);
    v = b2 v + (1-b2) g^2; vmax = max(vmax, v) if amsgrad;
    p -= (lr / (1-b1^t)) m / (sqrt(v or vmax) / sqrt(1-b2^t) + eps)."""

    decoupled = False

    def __init__(self, learning_rate: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        self.learning_rate, self.betas, self.eps = learning_rate, tuple(betas), eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad
        self.t = 0
        self.exp_avg: np.ndarray | None = None
        self.exp_avg_sq: np.ndarray | None = None
        self.max_exp_avg_sq: np.ndarray | None = None

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        b1, b2 = self.betas
        lr = self.learning_rate
        if self.exp_avg is None:
            self.exp_avg = np.zeros_like(params)
            self.exp_avg_sq = np.zeros_like(params)
            self.max_exp_avg_sq = np.zeros_like(params)
        self.t += 1
        g = grad
        if self.weight_decay != 0:
            if self.decoupled:
                params = params * (1 - lr * self.weight_decay)
            else:
                g = grad + self.weight_decay * params
        self.exp_avg = _lerp(self.exp_avg, g, 1 - b1)
        self.exp_avg_sq = b2 * self.exp_avg_sq + (1 - b2) * (g * g)
        bias_correction1 = 1 - b1 ** self.t
        bias_correction2 = 1 - b2 ** self.t
        step_size = lr / bias_correction1
        v = self.exp_avg_sq
        if self.amsgrad:
            self.max_exp_avg_sq = np.maximum(self.max_exp_avg_sq, self.exp_avg_sq)
            v = self.max_exp_avg_sq
        denom = np.sqrt(v) / bias_correction2**0.5 + self.eps
        return params - step_size * (self.exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay p *= 1 - lr wd (default wd 1e-2)."""

    decoupled = True

    def __init__(self, learning_rate: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(learning_rate, betas, eps, weight_decay, amsgrad)


OPTIMIZERS: dict[str, type] = {
    "sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
}


def make_optimizer(name: str, **kwargs: Any) -> SGD | Adagrad | RMSprop | Adam | AdamW:
    """Optimizer by (case-insensitive) name, torch's keywords (``learning_rate`` or ``lr``)."""
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {tuple(OPTIMIZERS)}")
    if "lr" in kwargs:
        kwargs["learning_rate"] = kwargs.pop("lr")
    return OPTIMIZERS[key](**kwargs)
