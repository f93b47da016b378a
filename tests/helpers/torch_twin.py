"""The PyTorch twin of an nnc model: the same forward pass and loss
computed with torch ops on the model's weights (float64), for comparing
gradients with torch autograd. torch is imported when a function runs."""

from __future__ import annotations

import numpy as np

from helpers.models import dense_layers


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
    for layer in dense_layers(model):
        w = next(it)
        z = a @ w
        if layer.use_bias:
            z = z + next(it)
        slopes = next(it) if layer.activation == "prelu" else None
        a = torch_activation(layer.activation, z, slopes)
    return z, a


def torch_loss(model, params, x, y, sample_weight=None):
    """J as docs/architecture.md (Losses, L2 regularisation) defines it, computed by torch."""
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
    l2 = model.get_compile_config()["l2"]
    if l2:
        weights = [p for p in params if p.dim() == 2]  # W only: no b, no slopes
        total = total + l2 / (2 * m) * sum((w**2).sum() for w in weights)
    return total
