"""The C engine agrees with tests/helpers/reference.py, the slow pure-NumPy
implementation of the same maths, on random architectures in both dtypes."""

import numpy as np
import pytest
from helpers import reference as ref
from helpers.measures import record
from helpers.models import ACTIVATIONS, make_data

import nnc

TOLERANCE = {"float64": 1e-12, "float32": 2e-5}


def random_case(seed, dtype):
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 5))
    widths = [int(w) for w in rng.integers(1, 9, size=depth)]
    acts = [str(a) for a in rng.choice(ACTIVATIONS, size=depth)]
    loss = str(rng.choice(["mse", "mae", "huber", "binary_crossentropy",
                           "categorical_crossentropy", "sparse_categorical_crossentropy"]))
    if loss == "binary_crossentropy":
        acts[-1] = "sigmoid"
    elif "categorical" in loss:
        acts[-1] = "softmax"
        widths[-1] = max(widths[-1], 2)
    bias = [bool(b) for b in rng.integers(0, 2, size=depth)]
    input_dim = int(rng.integers(1, 7))
    l2 = float(rng.choice([0.0, 0.3]))
    layers = [nnc.Dense(w, activation=a, use_bias=b) for w, a, b in zip(widths, acts, bias)]
    model = nnc.Sequential([nnc.Input(input_dim), *layers], dtype=dtype, seed=seed)
    model.compile(optimizer="sgd", loss=loss, l2=l2)
    x, y = make_data(rng, int(rng.integers(1, 20)), input_dim, widths[-1], loss, dtype=dtype)
    sw = rng.uniform(0, 2, size=x.shape[0]).astype(dtype) if rng.integers(0, 2) else None
    specs = [{"units": w, "activation": a, "use_bias": b} for w, a, b in zip(widths, acts, bias)]
    return model, specs, x, y, sw, loss, l2


def close(mine, theirs, dtype, what):
    mine, theirs = np.asarray(mine, np.float64), np.asarray(theirs, np.float64)
    scale = max(1.0, float(np.max(np.abs(theirs)))) if theirs.size else 1.0
    err = float(np.max(np.abs(mine - theirs))) / scale if theirs.size else 0.0
    record(f"engine vs NumPy reference ({dtype})", err)
    assert err <= TOLERANCE[dtype], f"{what}: {err}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", range(60))
def test_engine_equals_reference(seed, dtype):
    model, specs, x, y, sw, loss, l2 = random_case(seed, dtype)
    weights = [w.astype(np.float64) for w in model.get_weights()]
    x64 = x.astype(np.float64)
    y64 = y if loss == "sparse_categorical_crossentropy" else y.astype(np.float64)
    sw64 = None if sw is None else sw.astype(np.float64)
    close(model.predict(x), ref.predict(weights, specs, x64), dtype, "predict")
    close(model.loss(x, y, sample_weight=sw),
          ref.loss(weights, specs, x64, y64, loss, l2=l2, sample_weight=sw64), dtype, "loss")
    _, ref_grads = ref.gradients(weights, specs, x64, y64, loss, l2=l2, sample_weight=sw64)
    for i, (mine, theirs) in enumerate(zip(model.gradients(x, y, sample_weight=sw), ref_grads)):
        close(mine, theirs, dtype, f"gradient {i}")


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_engine_optimizer_steps_equal_reference(name):
    model, specs, x, y, sw, loss, l2 = random_case(7, "float64")
    model.compile(optimizer=getattr(nnc.optimizers, name)(learning_rate=0.01), loss=loss, l2=l2)
    weights = model.get_weights()
    opt = ref.make_optimizer(name.lower(), learning_rate=0.01)
    flat = ref.flatten(weights)
    for _ in range(20):
        model.train_on_batch(x, y, sample_weight=sw)
        _, g = ref.gradients(ref.unflatten(flat, specs, x.shape[1]), specs, x, y, loss, l2=l2,
                             sample_weight=sw)
        flat = opt.step(flat, ref.flatten(g))
    close(model.get_flat_params(), flat, "float64", "parameters after 20 steps")


def test_flat_params_are_the_references_unrolled_vector():
    model, specs, *_ = random_case(3, "float64")
    np.testing.assert_array_equal(model.get_flat_params(), ref.flatten(model.get_weights()))
