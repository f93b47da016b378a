"""Conversion between nnc models and ``torch.nn.Sequential``.

``nnc.from_torch(module)`` copies a ``torch.nn.Sequential`` of ``Linear``
layers, supported activation modules and ``Dropout`` into an nnc model;
``model.to_torch()`` builds the equivalent torch module. nnc stores W as
(fan_in, fan_out) (z = a·W + b), torch as (out_features, in_features)
(z = a·Wᵀ + b): weights are transposed on the way.

torch is imported only inside these functions: ``import nnc`` never
imports it.
"""

from __future__ import annotations

import numpy as np

from . import saving
from .layers import Dense, Dropout, Input

# torch module class name -> nnc activation (parameters checked below).
_ACTIVATIONS = {
    "Identity": "linear", "Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu",
    "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu", "SELU": "selu",
    "SiLU": "swish", "GELU": "gelu", "Softplus": "softplus", "Softmax": "softmax",
}
_SUPPORTED = "Linear, Dropout, " + ", ".join(_ACTIVATIONS)


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("nnc's PyTorch conversion needs torch: pip install torch") from exc
    return torch


def _check_activation_module(module, index: int) -> str:
    """nnc activation for `module`, or ValueError when its settings differ
    from nnc's fixed ones."""
    kind = type(module).__name__
    where = f"module[{index}] ({module!r})"
    if kind == "LeakyReLU" and module.negative_slope != 0.01:
        raise ValueError(f"from_torch: {where}: nnc's leaky_relu has slope 0.01")
    if kind == "ELU" and module.alpha != 1.0:
        raise ValueError(f"from_torch: {where}: nnc's elu has alpha 1")
    if kind == "GELU" and module.approximate != "none":
        raise ValueError(f"from_torch: {where}: nnc's gelu is the exact (erf) one")
    if kind == "Softplus" and module.beta != 1.0:
        raise ValueError(f"from_torch: {where}: nnc's softplus has beta 1")
    if kind == "Softmax" and module.dim not in (-1, 1):
        raise ValueError(f"from_torch: {where}: nnc's softmax is over the last dimension")
    return _ACTIVATIONS[kind]


def from_torch(module, seed: int | None = None, name: str | None = None):
    """An nnc ``Sequential`` with the weights of a PyTorch network.

    torch's ``Linear`` stores ``weight`` as ``(out, in)``; nnc's ``W`` is its
    transpose, ``(fan_in, units)``. torch's Softplus switches to the
    identity above its ``threshold`` (20 by default) where nnc stays exact:
    they differ there by less than 3e-9. Importing torch happens here, not
    at ``import nnc``.

    Parameters
    ----------
    module : torch.nn.Sequential or torch.nn.Linear
        ``Linear`` layers, each optionally followed by one activation module
        (Identity, Sigmoid, Tanh, ReLU, LeakyReLU(0.01), PReLU, ELU(1), SELU,
        SiLU, GELU(approximate="none"), Softplus(beta=1), Softmax(dim=-1)),
        and ``Dropout`` modules anywhere before a Linear.
    seed : int, optional
        The new model's seed (shuffles and dropout masks of later training).
    name : str, optional
        The new model's name.

    Returns
    -------
    nnc.Sequential
        An uncompiled model in the weights' dtype (float32 or float64).

    Raises
    ------
    TypeError
        For anything that is not such a module.
    ValueError
        For an unsupported module or setting, naming the module.
    ImportError
        When torch is not installed.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
    ...                           torch.nn.Linear(4, 1)).double()
    >>> model = nnc.from_torch(net, seed=0)
    >>> [w.shape for w in model.get_weights()], model.dtype
    ([(3, 4), (4,), (4, 1), (1,)], 'float64')
    >>> x = np.random.default_rng(0).normal(size=(5, 3))
    >>> bool(np.allclose(model.predict(x), net(torch.from_numpy(x)).detach().numpy()))
    True
    """
    torch = _import_torch()
    nn = torch.nn
    if isinstance(module, nn.Linear):
        module = nn.Sequential(module)
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch: module: expected a torch.nn.Sequential, got "
                        f"{type(module).__name__}")
    # Group into [Dropout...] Linear [activation].
    groups: list[dict] = []
    pending_dropout = 0.0
    dtype = None
    for index, child in enumerate(module):
        kind = type(child).__name__
        if isinstance(child, nn.Linear):
            if child.weight.dtype not in (torch.float32, torch.float64):
                raise ValueError(f"from_torch: module[{index}]: weights are "
                                 f"{child.weight.dtype}, expected float32 or float64")
            if dtype is not None and child.weight.dtype != dtype:
                raise ValueError(f"from_torch: module[{index}]: mixed dtypes "
                                 f"({dtype} and {child.weight.dtype})")
            dtype = child.weight.dtype
            groups.append({"linear": child, "act": "linear", "act_module": None,
                           "dropout": pending_dropout})
            pending_dropout = 0.0
        elif isinstance(child, nn.Dropout) and type(child) is nn.Dropout:
            # Consecutive Dropouts compose (keep probabilities multiply).
            pending_dropout = (child.p if not pending_dropout
                               else 1.0 - (1.0 - pending_dropout) * (1.0 - child.p))
        elif kind in _ACTIVATIONS and type(child).__module__.startswith("torch.nn"):
            if not groups or groups[-1]["act_module"] is not None or pending_dropout:
                raise ValueError(f"from_torch: module[{index}] ({kind}): an activation must "
                                 "directly follow a Linear layer (one per Linear)")
            act = _check_activation_module(child, index)
            if act == "prelu":
                out = groups[-1]["linear"].out_features
                if child.weight.numel() not in (1, out):
                    raise ValueError(f"from_torch: module[{index}] (PReLU): expected 1 or "
                                     f"{out} slopes, got {child.weight.numel()}")
            groups[-1]["act"], groups[-1]["act_module"] = act, child
        else:
            raise ValueError(f"from_torch: module[{index}] ({kind}) is not supported; "
                             f"nnc converts {_SUPPORTED}")
    if not groups:
        raise ValueError("from_torch: module has no Linear layer")
    if pending_dropout:
        raise ValueError("from_torch: a Dropout must be followed by a Linear layer")
    for prev, cur in zip(groups, groups[1:]):
        if prev["linear"].out_features != cur["linear"].in_features:
            raise ValueError(f"from_torch: Linear({prev['linear'].out_features} outputs) feeds "
                             f"Linear({cur['linear'].in_features} inputs)")

    layers = [Input(groups[0]["linear"].in_features)]
    weights = []
    np_dtype = "float32" if dtype == torch.float32 else "float64"
    for g in groups:
        lin = g["linear"]
        if g["dropout"]:
            layers.append(Dropout(g["dropout"]))
        layers.append(Dense(lin.out_features, activation=g["act"], use_bias=lin.bias is not None))
        with torch.no_grad():
            weights.append(lin.weight.detach().cpu().numpy().T.astype(np_dtype))
            if lin.bias is not None:
                weights.append(lin.bias.detach().cpu().numpy().astype(np_dtype))
            if g["act"] == "prelu":
                slopes = g["act_module"].weight.detach().cpu().numpy().astype(np_dtype)
                weights.append(np.broadcast_to(slopes, (lin.out_features,)).copy())
    model = saving.model_from_config({"name": name, "dtype": np_dtype, "seed": seed,
                                      "layers": [layer.get_config() for layer in layers]})
    model.set_weights(weights)
    return model


def to_torch(model):
    """A ``torch.nn.Sequential`` computing the same function as ``model``
    (``Dropout`` -> ``nn.Dropout``, Dense -> ``nn.Linear`` + activation
    module), with copies of the weights, in the model's dtype.

    The step activation has no torch module and raises ``ValueError``.
    """
    torch = _import_torch()
    nn = torch.nn
    dtype = torch.float32 if model.dtype == "float32" else torch.float64
    modules = []
    fan_in = model.input_dim
    for layer in model.layers:
        if isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
            continue
        act = layer.activation
        if act == "step":
            raise ValueError(f"to_torch: layer {layer.name!r}: the step activation has no "
                             "PyTorch module")
        weights = layer.get_weights()
        lin = nn.Linear(fan_in, layer.units, bias=layer.use_bias, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[0].T)))
            if layer.use_bias:
                lin.bias.copy_(torch.from_numpy(weights[1]))
        modules.append(lin)
        if act == "prelu":
            prelu = nn.PReLU(layer.units, dtype=dtype)
            with torch.no_grad():
                prelu.weight.copy_(torch.from_numpy(weights[-1]))
            modules.append(prelu)
        elif act != "linear":
            modules.append({
                "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
                "leaky_relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "selu": nn.SELU,
                "swish": nn.SiLU, "gelu": nn.GELU, "softplus": nn.Softplus,
                "softmax": lambda: nn.Softmax(dim=-1),
            }[act]())
        fan_in = layer.units
    return nn.Sequential(*modules)
