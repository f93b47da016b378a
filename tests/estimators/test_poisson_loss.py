"""The engine's ``poisson`` loss, which MLPRegressor(loss="poisson") trains
with: its value against a NumPy oracle (scikit-learn's own poisson_loss),
its gradient against float64 finite differences, its pairing rule, and the
estimator against scikit-learn's on the same inputs."""

import warnings

import numpy as np
import pytest
from helpers.optional import require

import nnc

require("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.neural_network._base import poisson_loss  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 5))
Y = RNG.poisson(np.exp(X[:, :2] @ np.array([[0.6, -0.3], [0.2, 0.4]]))).astype(float)


def poisson_model(l2=0.0, dtype="float64"):
    model = nnc.Sequential([nnc.Dense(6, activation="tanh"), nnc.Dense(2, activation="linear")],
                           dtype=dtype, seed=3)
    model.compile(optimizer="sgd", loss="poisson", l2=l2)
    model.build(5)
    return model


def test_poisson_value_is_the_half_deviance_of_exp_z():
    model = poisson_model()
    w = np.linspace(0.5, 2.0, len(X))
    mu = np.exp(model.predict(X))
    np.testing.assert_allclose(model.loss(X, Y), poisson_loss(Y, mu), rtol=1e-12)
    # The engine's mean divides by m (docs/architecture.md, Losses).
    np.testing.assert_allclose(model.loss(X, Y, sample_weight=w),
                               poisson_loss(Y, mu, sample_weight=w) * w.mean(), rtol=1e-12)


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_poisson_gradient_passes_finite_differences(l2):
    report = nnc.gradcheck(poisson_model(l2), X[:30], Y[:30])
    assert report["relative_error"] <= 1e-7, report["relative_error"]


def test_poisson_needs_a_linear_output():
    model = nnc.Sequential([nnc.Dense(2, activation="relu")], seed=0)
    model.build(5)
    with pytest.raises(ValueError, match="linear"):
        model.compile(loss="poisson")


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_mlp_regressor_poisson_is_scikit_learns(solver):
    kw = dict(loss="poisson", hidden_layer_sizes=(8,), solver=solver, max_iter=25,
              shuffle=False, learning_rate_init=0.01, random_state=0)
    ours, theirs = nnc.MLPRegressor(**kw), SkRegressor(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, Y)
        theirs.fit(X, Y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)
    assert (ours.predict(X) > 0).all()
