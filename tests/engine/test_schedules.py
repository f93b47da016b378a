"""Learning-rate schedules (nnc.optimizers.schedules), evaluated by the
engine before every optimizer step: step for step against Keras's own
schedule objects (torch backend) and torch's schedulers stepped once per
optimizer step; a scheduled training run against torch's trajectory; and a
schedule saved mid-run continuing where it stopped (docs/design.md,
Learning-rate schedules)."""

import os
import struct

import numpy as np
import pytest
from helpers.kernels import assert_same_on_every_kernel_set_and_thread_count
from helpers.models import build_model, make_data
from helpers.optional import require
from helpers.torch_twin import torch_loss, torch_params

import nnc
from nnc.optimizers import schedules as S

torch = require("torch")
torch.set_default_dtype(torch.float64)
os.environ.setdefault("KERAS_BACKEND", "torch")

STEPS = 120

KERAS_CASES = [
    ("ExponentialDecay", (0.1, 10, 0.5), {}),
    ("ExponentialDecay", (0.1, 7, 0.9), {"staircase": True}),
    ("InverseTimeDecay", (0.2, 5, 0.3), {}),
    ("InverseTimeDecay", (0.2, 6, 0.3), {"staircase": True}),
    ("PiecewiseConstantDecay", ([10, 30, 55], [0.3, 0.1, 0.05, 0.001]), {}),
    ("PolynomialDecay", (0.1, 50), {}),
    ("PolynomialDecay", (0.1, 40, 0.01, 2.0), {}),
    ("PolynomialDecay", (0.1, 30, 0.001, 0.5), {"cycle": True}),
    ("CosineDecay", (0.1, 80), {}),
    ("CosineDecay", (0.1, 60), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 60), {"warmup_target": 0.2, "warmup_steps": 20}),
    ("CosineDecay", (0.01, 50), {"alpha": 0.05, "warmup_target": 0.1, "warmup_steps": 15}),
    ("CosineDecayRestarts", (0.1, 10), {}),
    ("CosineDecayRestarts", (0.1, 12), {"t_mul": 1.0, "m_mul": 0.8, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 8), {"t_mul": 1.5, "m_mul": 0.9}),
]


def keras_module():
    keras = require("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was imported with another backend")
    return keras


@pytest.mark.parametrize("name, args, kwargs", KERAS_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)])
def test_keras_schedules_step_for_step(name, args, kwargs):
    """nnc's rate at every step equals Keras's schedule(step), Keras
    computing in float64 (its floatx) as the engine does."""
    keras = keras_module()
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
        keras_values = np.array([float(np.asarray(theirs(step))) for step in range(STEPS)])
    finally:
        keras.config.set_floatx(floatx)
    mine = getattr(S, name)(*args, **kwargs)
    ours = np.array([mine(step) for step in range(STEPS)])
    np.testing.assert_allclose(ours, keras_values, rtol=1e-13, atol=1e-16)
    assert len(set(np.round(ours, 12))) > 3  # the schedule moves over these steps


TORCH_CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 20, 21, 60], "gamma": 0.3},
     {"milestones": [5, 20, 21, 60], "gamma": 0.3}),
    ("LinearLR", {}, {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 40},
     {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 40}),
    ("OneCycleLR", {"total_steps": STEPS}, {"total_steps": STEPS, "cycle_momentum": False}),
    ("OneCycleLR", {"total_steps": STEPS, "pct_start": 0.25, "anneal_strategy": "linear",
                    "div_factor": 10.0, "final_div_factor": 100.0},
     {"total_steps": STEPS, "pct_start": 0.25, "anneal_strategy": "linear", "div_factor": 10.0,
      "final_div_factor": 100.0, "cycle_momentum": False}),
    ("OneCycleLR", {"total_steps": STEPS, "three_phase": True},
     {"total_steps": STEPS, "three_phase": True, "cycle_momentum": False}),
]


def torch_rates(name, torch_kwargs, lr, steps):
    """The lr torch's optimizer uses at each of `steps` steps, the scheduler
    stepped after every optimizer step."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    if name == "OneCycleLR":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, **torch_kwargs)
    else:
        sched = getattr(torch.optim.lr_scheduler, name)(opt, **torch_kwargs)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return np.array(rates)


@pytest.mark.parametrize("name, mine_kwargs, torch_kwargs", TORCH_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TORCH_CASES)])
def test_torch_schedulers_step_for_step(name, mine_kwargs, torch_kwargs):
    theirs = torch_rates(name, torch_kwargs, 0.1, STEPS)
    mine = getattr(S, name)(0.1, **mine_kwargs)
    ours = np.array([mine(step) for step in range(STEPS)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(set(np.round(ours, 12))) > 2


def scaled_max_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def setup(dtype="float64"):
    rng = np.random.default_rng(99)
    model = build_model(4, [6, 5, 3], ["tanh", "prelu", "linear"], dtype=dtype, loss="mse",
                        l2=0.1, seed=7)
    x, y = make_data(rng, 40, 4, 3, "mse", dtype=dtype)
    return model, x, y


TRAINING = [
    ("SGD", {"momentum": 0.9}, lambda: S.StepLR(0.1, step_size=7, gamma=0.5)),
    ("Adam", {}, lambda: S.OneCycleLR(0.02, total_steps=50)),
    ("RMSprop", {}, lambda: S.LinearLR(0.01, start_factor=0.2, total_iters=20)),
    ("Adam", {}, lambda: S.CosineDecay(0.001, 40, warmup_target=0.02, warmup_steps=10)),
    ("Adagrad", {"lr_decay": 0.01}, lambda: S.ExponentialDecay(0.1, 10, 0.5)),
    ("AdamW", {}, lambda: S.PiecewiseConstantDecay([12, 30], [0.02, 0.01, 0.002])),
]


@pytest.mark.parametrize("name, options, make", TRAINING,
                         ids=[f"{t[0]}-{i}" for i, t in enumerate(TRAINING)])
def test_scheduled_trajectory_equals_torch(name, options, make):
    """50 steps, the whole epoch in C, the rate changing every step; torch
    sets its param group's lr to the schedule's value before each step."""
    schedule = make()
    model, x, y = setup()
    model.compile(optimizer=getattr(nnc.optimizers, name)(learning_rate=schedule, **options),
                  loss="mse", l2=0.1)
    params = torch_params(model)
    opt = getattr(torch.optim, name)(params, lr=schedule(0), foreach=False, **options)
    step = 0
    for _epoch in range(10):
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        for start in range(0, 40, 8):
            opt.param_groups[0]["lr"] = schedule(step)
            opt.zero_grad()
            torch_loss(model, params, x[start:start + 8], y[start:start + 8]).backward()
            opt.step()
            step += 1
        for mine, theirs in zip(model.get_weights(), params):
            assert scaled_max_diff(mine, theirs.detach().numpy()) <= 1e-9
        assert model.learning_rate == schedule(step)  # the next step's rate


def test_step_lr_trajectory_with_torch_scheduler():
    """The same with torch's own StepLR object stepped per optimizer step."""
    model, x, y = setup()
    model.compile(optimizer=nnc.optimizers.SGD(lr=S.StepLR(0.1, step_size=6, gamma=0.7),
                                               momentum=0.5), loss="mse", l2=0.1)
    params = torch_params(model)
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.5, foreach=False)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=6, gamma=0.7)
    model.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0)
    for _epoch in range(10):
        for start in range(0, 40, 8):
            opt.zero_grad()
            torch_loss(model, params, x[start:start + 8], y[start:start + 8]).backward()
            opt.step()
            sched.step()
    for mine, theirs in zip(model.get_weights(), params):
        assert scaled_max_diff(mine, theirs.detach().numpy()) <= 1e-9


@pytest.mark.parametrize("suffix", [".npz", ".nncb"])
@pytest.mark.parametrize("make", [lambda: S.CosineDecayRestarts(0.05, 7, t_mul=1.5),
                                  lambda: S.MultiStepLR(0.05, [9, 17], 0.3),
                                  lambda: S.OneCycleLR(0.05, total_steps=40, three_phase=True)])
def test_saved_schedule_continues_where_it_stopped(tmp_path, suffix, make):
    """Train 3 epochs, save, load, train 2 more == 5 epochs uninterrupted,
    bit for bit (the step counter travels in the optimizer state)."""
    whole, x, y = setup()
    whole.compile(optimizer=nnc.optimizers.Adam(lr=make(), global_clipnorm=0.5), loss="mse")
    whole.fit(x, y, epochs=5, batch_size=8, verbose=0)

    first, _, _ = setup()
    first.compile(optimizer=nnc.optimizers.Adam(lr=make(), global_clipnorm=0.5), loss="mse")
    first.fit(x, y, epochs=3, batch_size=8, verbose=0)
    path = tmp_path / f"model{suffix}"
    first.save(path)
    again = nnc.load_model(path)
    assert isinstance(again.optimizer.schedule, type(make()))
    assert again.optimizer.schedule == first.optimizer.schedule
    assert again.learning_rate == first.learning_rate
    again.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(again.get_weights(), whole.get_weights()):
        assert np.array_equal(a, b)


def test_nncb_version_written_is_the_oldest_that_holds_the_model(tmp_path):
    """Version 1 unless a schedule or clipping needs version 2."""
    for optimizer, version in [(nnc.optimizers.Adam(), 1),
                               (nnc.optimizers.Adam(clipvalue=1.0), 2),
                               (nnc.optimizers.Adam(lr=S.StepLR(0.1, 5)), 2)]:
        model, _, _ = setup()
        model.compile(optimizer=optimizer, loss="mse")
        path = tmp_path / "m.nncb"
        model.save(path)
        data = path.read_bytes()
        assert int.from_bytes(data[8:12], "little") == version
        assert nnc.load_model(path).optimizer.get_config() == model.optimizer.get_config()


def test_schedule_float32_follows_float64():
    weights = {}
    for dtype in ("float64", "float32"):
        model, x, y = setup(dtype)
        model.compile(optimizer=nnc.optimizers.SGD(lr=S.PolynomialDecay(0.1, 30, cycle=True)),
                      loss="mse")
        model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0)
        assert model.learning_rate == pytest.approx(S.PolynomialDecay(0.1, 30, cycle=True)(20))
        weights[dtype] = model.get_weights()
    for a, b in zip(weights["float32"], weights["float64"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_schedule_bit_identical_across_kernels_and_threads():
    def train():
        model, x, y = setup()
        model.compile(optimizer=nnc.optimizers.Adam(lr=S.CosineDecay(0.01, 30)), loss="mse")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model

    assert_same_on_every_kernel_set_and_thread_count(train)


def test_scheduled_rate_cannot_be_set_like_keras():
    keras = keras_module()
    opt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(
        0.1, 10, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    model, _, _ = setup()
    model.compile(optimizer=nnc.optimizers.SGD(lr=S.ExponentialDecay(0.1, 10, 0.5)), loss="mse")
    with pytest.raises(TypeError, match="schedule"):
        model.optimizer.learning_rate = 0.01
    with pytest.raises(TypeError, match="schedule"):
        model.learning_rate = 0.01


def test_bad_schedules_name_the_argument():
    with pytest.raises(ValueError, match="decay_steps"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        S.PiecewiseConstantDecay([5, 3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one value more"):
        S.PiecewiseConstantDecay([5], [0.1])
    with pytest.raises(ValueError, match="milestones"):
        S.MultiStepLR(0.1, [3.5])
    with pytest.raises(ValueError, match="pct_start"):
        S.OneCycleLR(0.1, 100, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(0.1, 100, anneal_strategy="exp")
    with pytest.raises(ValueError, match="L-BFGS"):
        nnc.optimizers.LBFGS(lr=S.StepLR(0.1, 5))
    with pytest.raises(nnc.errors.NonFiniteError, match="schedule"):
        S.ExponentialDecay(1.0, 1, 1e300)(10)


def test_schedule_config_round_trip():
    opt = nnc.optimizers.Adam(lr=S.CosineDecay(0.1, 50, warmup_target=0.3, warmup_steps=5))
    config = opt.get_config()
    assert config["learning_rate"] == {
        "class_name": "CosineDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 50, "alpha": 0.0,
                   "warmup_target": 0.3, "warmup_steps": 5}}
    again = nnc.optimizers.get(config)
    assert again.schedule == opt.schedule


@pytest.mark.parametrize("offset, raw, reason", [
    (40, struct.pack("<d", 0.0), "step_size"),          # param[1]
    (0, b"warp_lr".ljust(24, b"\0"), "unknown learning-rate schedule"),
    (24, struct.pack("<I", 40), "point count"),
    (630, b"\x01", "reserved"),
])
def test_damaged_schedule_record_refused(tmp_path, offset, raw, reason):
    """The schedule record of an nncb file (after the 3 layer records and
    the compile record) is checked like everything else in the file."""
    from helpers.nncb_files import reseal

    model, _, _ = setup()
    model.compile(optimizer=nnc.optimizers.SGD(lr=S.StepLR(0.1, 5)), loss="mse")
    path = tmp_path / "m.nncb"
    model.save(path)
    good = path.read_bytes()
    start = 96 + 3 * 128 + 256 + offset
    path.write_bytes(reseal(good[:start] + raw + good[start + len(raw):]))
    with pytest.raises(nnc.errors.ModelFileError, match=reason):
        nnc.load_model(path)
