"""nnc.from_torch / Sequential.to_torch: random nets round-trip with the
same outputs and the same weights; unsupported modules are refused."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.measures import record
from helpers.optional import require

import nnc

torch = require("torch")
nn = torch.nn
# (torch module factory, nnc activation)
ACTIVATIONS = [
    (nn.Identity, "linear"), (nn.Sigmoid, "sigmoid"), (nn.Tanh, "tanh"), (nn.ReLU, "relu"),
    (lambda: nn.LeakyReLU(0.01), "leaky_relu"), (nn.ELU, "elu"), (nn.SELU, "selu"),
    (nn.SiLU, "swish"), (nn.GELU, "gelu"), (nn.Softplus, "softplus"),
    (lambda: nn.Softmax(dim=-1), "softmax"), ("prelu", "prelu"), (None, "linear"),
]
TOL = {torch.float32: 2e-6, torch.float64: 1e-13}


def random_torch_net(rng, dtype):
    """2-4 Linear layers of random widths and bias flags, each followed by a
    random supported activation (or none), sometimes a Dropout."""
    torch.manual_seed(int(rng.integers(0, 2**31)))
    depth = int(rng.integers(2, 5))
    widths = [int(w) for w in rng.integers(1, 10, size=depth + 1)]
    modules = []
    for i in range(depth):
        if i and rng.random() < 0.3:
            modules.append(nn.Dropout(0.3))
        lin = nn.Linear(widths[i], widths[i + 1], bias=bool(rng.random() < 0.8), dtype=dtype)
        with torch.no_grad():
            lin.weight.mul_(3.0)  # reach the activations' tails
        modules.append(lin)
        factory, _ = ACTIVATIONS[int(rng.integers(0, len(ACTIVATIONS)))]
        if factory == "prelu":
            prelu = nn.PReLU(widths[i + 1] if rng.random() < 0.5 else 1, dtype=dtype)
            with torch.no_grad():
                prelu.weight.uniform_(-0.5, 0.5)
            modules.append(prelu)
        elif factory is not None:
            modules.append(factory())
    return nn.Sequential(*modules).eval()


def torch_out(net, x, dtype):
    with torch.no_grad():
        return net(torch.from_numpy(x).to(dtype)).numpy()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_random_nets_round_trip(dtype):
    rng = np.random.default_rng(7 if dtype == torch.float32 else 8)
    np_dtype = "float32" if dtype == torch.float32 else "float64"
    for _ in range(25):
        net = random_torch_net(rng, dtype)
        model = nnc.from_torch(net)
        assert model.dtype == np_dtype
        x = rng.normal(size=(33, net[0].in_features)).astype(np_dtype)
        expected = torch_out(net, x, dtype)
        got = model.predict(x)
        scale = max(float(np.max(np.abs(expected))), 1e-30)
        err = float(np.max(np.abs(got - expected))) / scale
        record(f"from_torch(net).predict vs net ({np_dtype}, relative to scale)", err)
        assert err <= TOL[dtype], (net, err)

        back = model.to_torch().eval()
        assert all(p.dtype == dtype for p in back.parameters())
        again = nnc.from_torch(back)
        for w1, w2 in zip(model.get_weights(), again.get_weights()):
            np.testing.assert_array_equal(w1, w2)  # weights survive both ways exactly
        # Same weights, same modules: torch computes the same numbers.
        np.testing.assert_array_equal(torch_out(back, x, dtype), expected)
        err = float(np.max(np.abs(torch_out(back, x, dtype) - got))) / scale
        record(f"model.to_torch() vs model.predict ({np_dtype}, relative to scale)", err)
        assert err <= TOL[dtype]


def test_nnc_models_convert_to_torch():
    rng = np.random.default_rng(3)
    for act in ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu",
                "swish", "gelu", "softplus", "softmax"]:
        for dtype in ("float32", "float64"):
            model = nnc.Sequential([nnc.Dense(6, activation=act, input_dim=4), nnc.Dropout(0.1),
                                    nnc.Dense(3, activation=act, use_bias=False)],
                                   dtype=dtype, seed=int(rng.integers(0, 1000)))
            net = model.to_torch()
            assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.1]
            x = (rng.normal(size=(20, 4)) * 3).astype(dtype)
            expected = model.predict(x)
            got = torch_out(net.eval(), x, getattr(torch, dtype))
            scale = max(float(np.max(np.abs(expected))), 1e-30)
            err = float(np.max(np.abs(got - expected))) / scale
            record(f"model.to_torch() vs model.predict ({dtype}, relative to scale)", err)
            assert err <= TOL[getattr(torch, dtype)], (act, dtype, err)


def test_training_continues_identically_after_conversion():
    """Converted weights are the same numbers: nnc trained from a torch
    net equals nnc trained from the nnc original."""
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    a = nnc.from_torch(net, seed=1)
    b = nnc.from_torch(a.to_torch(), seed=1)
    x = np.random.default_rng(0).normal(size=(16, 3))
    y = x[:, :1] * 2
    for model in (a, b):
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())


@pytest.mark.parametrize("net,message", [
    (nn.Sequential(nn.Conv1d(1, 1, 1)), r"module\[0\] \(Conv1d\) is not supported"),
    (nn.Sequential(nn.Linear(2, 2), nn.LeakyReLU(0.2)), "slope 0.01"),
    (nn.Sequential(nn.Linear(2, 2), nn.GELU(approximate="tanh")), "exact"),
    (nn.Sequential(nn.Linear(2, 2), nn.ELU(alpha=0.5)), "alpha 1"),
    (nn.Sequential(nn.Linear(2, 2), nn.Softplus(beta=2)), "beta 1"),
    (nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)), "last dimension"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), "must directly follow a Linear"),
    (nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh()), "one per Linear"),
    (nn.Sequential(nn.Linear(2, 3), nn.PReLU(2)), "expected 1 or 3 slopes"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), "feeds"),
    (nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5)), "followed by a Linear"),
    (nn.Sequential(nn.Linear(2, 3, dtype=torch.float32), nn.Linear(3, 1, dtype=torch.float64)),
     "mixed dtypes"),
    (nn.Sequential(nn.Linear(2, 3).half()), "float32 or float64"),
    (nn.Sequential(), "no Linear"),
])
def test_unsupported_modules_are_refused(net, message):
    with pytest.raises(ValueError, match=message):
        nnc.from_torch(net)


def test_non_sequential_is_refused_and_single_linear_accepted():
    with pytest.raises(TypeError, match="module: expected a torch.nn.Sequential"):
        nnc.from_torch(nn.ReLU())
    lin = nn.Linear(3, 2)
    model = nnc.from_torch(lin)
    np.testing.assert_array_equal(model.get_weights()[0], lin.weight.detach().numpy().T)


def test_step_activation_has_no_torch_module():
    model = nnc.Sequential([nnc.Dense(2, activation="step", input_dim=2)], seed=0)
    with pytest.raises(ValueError, match="step activation has no PyTorch module"):
        model.to_torch()
