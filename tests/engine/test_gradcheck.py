"""nnc.gradcheck in float64: backpropagation equals central differences to
a relative error <= 1e-7 for every activation (except step) with every loss
it pairs with, with and without L2, for nets of depth 1 to 4."""

import zlib

import numpy as np
import pytest
from helpers import reference as ref
from helpers.measures import record
from helpers.models import build_model, dense_layers, make_data, net_spec, pairs

import nnc

TOL = 1e-7
KINKED = {"relu", "leaky_relu", "prelu"}


def kink_distance(model, x, y) -> float:
    """Distance of the data from the nearest point where J is not
    differentiable (z = 0 in a ReLU-family layer, a residual of 0 for mae
    or of +-1 for huber). Central differences are only valid away from it."""
    layers = [{"units": d.units, "activation": d.activation, "use_bias": d.use_bias}
              for d in dense_layers(model)]
    zs, acts = ref.forward(model.get_weights(), layers, x)
    dist = np.inf
    for layer, z in zip(layers, zs):
        if layer["activation"] in KINKED:
            dist = min(dist, np.min(np.abs(z)))
    if model.compiled_loss in ("mae", "huber"):
        r = np.abs(acts[-1] - y)
        dist = min(dist, np.min(np.abs(r - (1.0 if model.compiled_loss == "huber" else 0.0))))
    return float(dist)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("act, loss", pairs())
def test_gradcheck_matrix(act, loss, l2, depth):
    widths, acts = net_spec(act, loss, depth)
    # Alternate bias on/off so both layouts are covered at every depth.
    use_bias = [(i + depth) % 3 != 0 for i in range(depth)]
    seed = zlib.crc32(f"{act}-{loss}-{depth}".encode())
    for attempt in range(50):  # draw until every point is clear of kinks
        model = build_model(3, widths, acts, loss=loss, l2=l2, seed=seed + attempt,
                            use_bias=use_bias)
        x, y = make_data(np.random.default_rng(seed + attempt), 7, 3, widths[-1], loss)
        if kink_distance(model, x, y) > 1e-4:
            break
    assert kink_distance(model, x, y) > 1e-4
    report = nnc.gradcheck(model, x, y, eps=1e-6)
    record("gradcheck relative error (float64, depth 1-4)", report["relative_error"])
    assert report["relative_error"] <= TOL, report["per_layer"]
    assert report["passed"]
    assert np.linalg.norm(report["analytic"]) > 0  # a check of a zero gradient proves nothing


@pytest.mark.parametrize("loss", ["mse", "categorical_crossentropy"])
def test_gradcheck_with_sample_weights(loss):
    rng = np.random.default_rng(3)
    acts = ["tanh", "softmax" if loss == "categorical_crossentropy" else "linear"]
    model = build_model(4, [5, 3], acts, loss=loss, l2=0.3)
    x, y = make_data(rng, 9, 4, 3, loss)
    report = nnc.gradcheck(model, x, y, sample_weight=rng.uniform(0, 2, size=9))
    assert report["relative_error"] <= TOL


def test_gradcheck_of_float32_model_runs_in_float64():
    rng = np.random.default_rng(4)
    model = build_model(3, [6, 2], ["gelu", "linear"], dtype="float32", loss="huber")
    x, y = make_data(rng, 8, 3, 2, "huber", dtype="float32")
    before = model.get_flat_params()
    report = nnc.gradcheck(model, x, y)
    assert report["analytic"].dtype == np.float64
    assert report["relative_error"] <= TOL
    np.testing.assert_array_equal(model.get_flat_params(), before)  # untouched


def test_gradcheck_detects_a_wrong_gradient():
    """The check is not vacuous: a perturbed analytic gradient fails it."""
    rng = np.random.default_rng(5)
    model = build_model(3, [4, 2], ["tanh", "linear"])
    x, y = make_data(rng, 6, 3, 2, "mse")
    report = nnc.gradcheck(model, x, y)
    wrong = report["analytic"].copy()
    wrong[0] *= 1.001
    assert nnc.gradcheck.__module__  # the public function, not a copy
    from nnc.gradcheck import relative_error

    assert relative_error(wrong, report["numeric"]) > TOL


def test_per_layer_report_and_prelu_slopes():
    rng = np.random.default_rng(6)
    model = build_model(3, [5, 4, 2], ["prelu", "prelu", "linear"], l2=0.2)
    x, y = make_data(rng, 10, 3, 2, "mse")
    report = nnc.gradcheck(model, x, y)
    assert len(report["per_layer"]) == 3
    assert max(report["per_layer"]) <= TOL
    # PReLU slopes are parameters too, so their gradient is checked.
    slopes_grad = model.gradients(x, y)[2]
    assert slopes_grad.shape == (5,) and np.any(slopes_grad != 0)
