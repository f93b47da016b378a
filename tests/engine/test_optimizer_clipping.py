"""Gradient clipping in the engine's optimizer step against torch (float64):
50 mini-batch steps of every first-order optimizer with each clipping mode
follow torch's trajectory to 1e-9, torch clipping the gradients with
torch.nn.utils.clip_grad_norm_ (global_clipnorm), clip_grad_value_
(clipvalue) and, for clipnorm, Keras's own per-tensor formula (checked
against Keras's optimizer below). docs/design.md, Gradient clipping."""

import os

import numpy as np
import pytest
from helpers.kernels import assert_same_on_every_kernel_set_and_thread_count
from helpers.models import build_model, make_data
from helpers.optional import require
from helpers.torch_twin import torch_loss, torch_params

import nnc

torch = require("torch")
torch.set_default_dtype(torch.float64)

FIRST_ORDER = [
    ("SGD", {"learning_rate": 0.05}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adagrad", {"learning_rate": 0.05, "lr_decay": 0.01}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.7, "centered": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"learning_rate": 0.01}),
]
# Thresholds below the gradients' sizes, so that clipping acts on most steps.
CLIPS = [("clipnorm", 0.05), ("global_clipnorm", 0.1), ("clipvalue", 0.01)]


def keras_clip_by_norm(g, c):
    """Keras's _clip_by_norm on one tensor (base_optimizer.py), in torch ops."""
    l2sum = (g * g).sum()
    norm = torch.sqrt(l2sum) if l2sum > 0 else l2sum
    return g * c / torch.maximum(norm, torch.tensor(c))


def torch_clip(params, mode, value) -> bool:
    """Clip the .grad of `params` in place; True when anything changed."""
    before = [p.grad.clone() for p in params]
    if mode == "global_clipnorm":
        torch.nn.utils.clip_grad_norm_(params, value)
    elif mode == "clipvalue":
        torch.nn.utils.clip_grad_value_(params, value)
    else:
        for p in params:
            p.grad.copy_(keras_clip_by_norm(p.grad, value))
    return any(not torch.equal(b, p.grad) for b, p in zip(before, params))


def torch_optimizer(name, options, params):
    opts = dict(options)
    opts["lr"] = opts.pop("learning_rate")
    return getattr(torch.optim, name)(params, foreach=False, **opts)


def scaled_max_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def setup(seed=7):
    rng = np.random.default_rng(99)
    model = build_model(4, [6, 5, 3], ["tanh", "prelu", "linear"], loss="mse", l2=0.1, seed=seed)
    x, y = make_data(rng, 40, 4, 3, "mse")
    return model, x, y


@pytest.mark.parametrize("mode, value", CLIPS, ids=[c[0] for c in CLIPS])
@pytest.mark.parametrize("name, options", FIRST_ORDER,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(FIRST_ORDER)])
def test_clipped_trajectory_equals_torch(name, options, mode, value):
    """10 epochs x 5 batches of 8 in C; torch clips .grad then steps."""
    model, x, y = setup()
    optimizer = getattr(nnc.optimizers, name)(**options, **{mode: value})
    model.compile(optimizer=optimizer, loss="mse", l2=0.1)
    params = torch_params(model)
    opt = torch_optimizer(name, options, params)
    clipped_steps = 0
    for _epoch in range(10):
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        for start in range(0, 40, 8):
            opt.zero_grad()
            torch_loss(model, params, x[start:start + 8], y[start:start + 8]).backward()
            clipped_steps += torch_clip(params, mode, value)
            opt.step()
        for mine, theirs in zip(model.get_weights(), params):
            assert scaled_max_diff(mine, theirs.detach().numpy()) <= 1e-9
    assert clipped_steps >= 25  # the threshold really binds


def test_unclipped_run_differs():
    """The clipped runs above are not the unclipped trajectory."""
    a, x, y = setup()
    b, _, _ = setup()
    a.compile(optimizer=nnc.optimizers.Adam(lr=0.01), loss="mse")
    b.compile(optimizer=nnc.optimizers.Adam(lr=0.01, global_clipnorm=0.1), loss="mse")
    a.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    b.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert scaled_max_diff(a.get_weights()[0], b.get_weights()[0]) > 1e-4


def test_clipnorm_formula_is_keras():
    """keras_clip_by_norm above is Keras's: Keras's optimizer with clipnorm
    clips each variable's gradient the same way (torch backend, float64)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = require("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras already imported with another backend")
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(4, 3)), rng.normal(size=3) * 0.01, np.zeros(2)]
    opt = keras.optimizers.SGD(learning_rate=1.0, clipnorm=0.5)
    theirs = opt._clip_gradients([torch.tensor(g) for g in grads])
    for g, t in zip(grads, theirs):
        mine = keras_clip_by_norm(torch.tensor(g), 0.5).numpy()
        np.testing.assert_allclose(np.asarray(t.cpu(), dtype=np.float64), mine, rtol=1e-6,
                                   atol=1e-12)


def test_only_one_clipping_mode_like_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = require("keras")
    with pytest.raises(ValueError, match="Only one of"):
        keras.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="only one of clipnorm, global_clipnorm and clipvalue"):
        nnc.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_clipping_settings_validated_and_round_trip():
    with pytest.raises(ValueError, match="clipnorm"):
        nnc.optimizers.Adam(clipnorm=-1.0)
    with pytest.raises(TypeError, match="clipvalue"):
        nnc.optimizers.Adam(clipvalue="big")
    opt = nnc.optimizers.Adam(global_clipnorm=2.0)
    assert opt.get_config()["global_clipnorm"] == 2.0
    assert opt.get_config()["clipnorm"] is None
    assert nnc.optimizers.get(opt.get_config()).get_config() == opt.get_config()
    with pytest.raises(TypeError, match="clipnorm"):
        nnc.optimizers.LBFGS(clipnorm=1.0)  # decided: L-BFGS takes no clipping


@pytest.mark.parametrize("mode, value", CLIPS, ids=[c[0] for c in CLIPS])
def test_clipping_float32_close_to_float64(mode, value):
    """float32 clips too (norms in double): its run stays near float64's."""
    weights = {}
    for dtype in ("float64", "float32"):
        rng = np.random.default_rng(99)
        model = build_model(4, [6, 3], ["tanh", "linear"], dtype=dtype, loss="mse", seed=5)
        x, y = make_data(rng, 40, 4, 3, "mse", dtype=dtype)
        model.compile(optimizer=nnc.optimizers.SGD(lr=0.05, momentum=0.9, **{mode: value}),
                      loss="mse")
        model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
        weights[dtype] = model.get_weights()
    for a, b in zip(weights["float32"], weights["float64"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode, value", CLIPS, ids=[c[0] for c in CLIPS])
def test_clipping_bit_identical_across_kernels_and_threads(mode, value):
    def train():
        model, x, y = setup()
        model.compile(optimizer=nnc.optimizers.Adam(lr=0.01, **{mode: value}), loss="mse")
        model.fit(x, y, epochs=3, batch_size=8, shuffle=True, verbose=0)
        return model

    assert_same_on_every_kernel_set_and_thread_count(train)
