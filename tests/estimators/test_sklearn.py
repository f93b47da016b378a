"""nnc.MLPClassifier / nnc.MLPRegressor as scikit-learn estimators."""

import warnings

import numpy as np
import pytest
from helpers.optional import require

sklearn = require("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import nnc  # noqa: E402
from nnc import datasets  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DIGITS_X, DIGITS_Y = datasets.load_digits(dtype="float64")
X_SMALL, Y_SMALL = DIGITS_X[:400], DIGITS_Y[:400]


def test_fitted_attributes_follow_scikit_learn():
    clf = nnc.MLPClassifier(hidden_layer_sizes=(20, 10), max_iter=30, random_state=0,
                            early_stopping=True, n_iter_no_change=100)
    clf.fit(X_SMALL, Y_SMALL)
    assert [c.shape for c in clf.coefs_] == [(64, 20), (20, 10), (10, 10)]
    assert [b.shape for b in clf.intercepts_] == [(20,), (10,), (10,)]
    assert clf.n_features_in_ == 64 and clf.n_iter_ == 30 and clf.n_layers_ == 4
    assert clf.n_outputs_ == 10 and clf.out_activation_ == "softmax"
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert len(clf.loss_curve_) == 30 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert len(clf.validation_scores_) == 30 and clf.best_validation_score_ == max(
        clf.validation_scores_)
    assert clf.best_loss_ is None  # as scikit-learn, with early_stopping

    reg = nnc.MLPRegressor(hidden_layer_sizes=(8,), max_iter=25, random_state=0,
                           n_iter_no_change=100)
    y = X_SMALL[:, :3] @ np.array([1.0, -2.0, 0.5]) / 16
    reg.fit(X_SMALL, y)
    assert reg.best_loss_ == min(reg.loss_curve_) and reg.validation_scores_ is None
    assert reg.predict(X_SMALL).shape == (400,) and reg.out_activation_ == "identity"


def test_coefs_mean_what_they_mean_in_scikit_learn():
    """Our fitted weights, planted in scikit-learn's own MLP, predict the same."""
    for ours, theirs, y in [
        (nnc.MLPClassifier((12, 7), activation="tanh", max_iter=20, random_state=1),
         SkMLPClassifier((12, 7), activation="tanh", max_iter=1, random_state=1), Y_SMALL),
        (nnc.MLPClassifier((9,), activation="logistic", max_iter=20, random_state=1),
         SkMLPClassifier((9,), activation="logistic", max_iter=1, random_state=1),
         Y_SMALL % 2),
        (nnc.MLPRegressor(hidden_layer_sizes=(9,), activation="relu", max_iter=20, random_state=1),
         SkMLPRegressor(hidden_layer_sizes=(9,), activation="relu", max_iter=1,
                        random_state=1),
         DIGITS_X[:400, :2] / 16),
    ]:
        ours.fit(X_SMALL / 16, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs.fit(X_SMALL / 16, y)
        theirs.coefs_ = [c.copy() for c in ours.coefs_]
        theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
        if hasattr(ours, "predict_proba"):
            np.testing.assert_allclose(ours.predict_proba(X_SMALL / 16),
                                       theirs.predict_proba(X_SMALL / 16), rtol=1e-12,
                                       atol=1e-15)
        np.testing.assert_allclose(ours.predict(X_SMALL / 16), theirs.predict(X_SMALL / 16),
                                   rtol=1e-12, atol=1e-14)


def test_partial_fit_is_one_epoch_at_a_time():
    kwargs = dict(hidden_layer_sizes=(16,), random_state=5, tol=0.0, n_iter_no_change=1000,
                  shuffle=False)
    online = nnc.MLPClassifier(**kwargs)
    for _ in range(4):
        online.partial_fit(X_SMALL, Y_SMALL, classes=np.arange(10))
    batch = nnc.MLPClassifier(max_iter=4, **kwargs).fit(X_SMALL, Y_SMALL)
    # n_iter_ counts the last call, t_ every sample seen (as scikit-learn).
    assert online.n_iter_ == 1 and online.t_ == 4 * 400
    assert online.loss_curve_ == batch.loss_curve_
    np.testing.assert_array_equal(online.coefs_[0], batch.coefs_[0])
    with pytest.raises(ValueError, match="classes"):
        nnc.MLPClassifier().partial_fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match="classes not in"):
        online.partial_fit(X_SMALL[:5], np.array([0, 1, 2, 3, 11]))
    with pytest.raises(AttributeError, match="partial_fit"):
        nnc.MLPRegressor(solver="lbfgs").partial_fit(X_SMALL, Y_SMALL.astype(float))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_solvers_learn_the_digits(solver):
    clf = nnc.MLPClassifier(hidden_layer_sizes=(32,), solver=solver, max_iter=150,
                            learning_rate_init=0.01 if solver == "sgd" else 0.001,
                            random_state=0)
    model = make_pipeline(StandardScaler(), clf).fit(DIGITS_X[:1200], DIGITS_Y[:1200])
    assert model.score(DIGITS_X[1200:], DIGITS_Y[1200:]) >= 0.9


def test_nnc_extras_dropout_optimizer_dtype():
    clf = nnc.MLPClassifier((32,), dropout=0.2, optimizer=nnc.optimizers.AdamW(
        learning_rate=0.01), dtype="float32", max_iter=40, random_state=0)
    clf.fit(DIGITS_X[:1200] / 16, DIGITS_Y[:1200])
    assert clf.coefs_[0].dtype == np.float32
    assert isinstance(clf.model_.optimizer, nnc.optimizers.AdamW)
    assert any(isinstance(layer, nnc.Dropout) for layer in clf.model_.layers)
    assert clf.score(DIGITS_X[1200:] / 16, DIGITS_Y[1200:]) >= 0.9
    # Dropout is on in training only: predictions are deterministic, and the
    # same seed trains the same weights.
    np.testing.assert_array_equal(clf.predict_proba(DIGITS_X[:5]), clf.predict_proba(
        DIGITS_X[:5]))
    again = nnc.MLPClassifier((32,), dropout=0.2, optimizer=nnc.optimizers.AdamW(
        learning_rate=0.01), dtype="float32", max_iter=40, random_state=0)
    again.fit(DIGITS_X[:1200] / 16, DIGITS_Y[:1200])
    np.testing.assert_array_equal(clf.coefs_[0], again.coefs_[0])
    no_dropout = nnc.MLPClassifier((32,), optimizer=nnc.optimizers.AdamW(learning_rate=0.01),
                                   dtype="float32", max_iter=40, random_state=0)
    no_dropout.fit(DIGITS_X[:1200] / 16, DIGITS_Y[:1200])
    assert not np.array_equal(clf.coefs_[0], no_dropout.coefs_[0])


def test_an_nnc_optimizer_overrides_the_solver():
    """optimizer=LBFGS(...) is the engine's torch-style L-BFGS, one step per
    epoch (partial_fit stays available: the solver no longer decides)."""
    y = DIGITS_X[:400, :3] @ np.array([1.0, -2.0, 0.5]) / 16
    reg = nnc.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=15,
                           optimizer=nnc.optimizers.LBFGS(max_iter=5,
                                                          line_search_fn="strong_wolfe"),
                           random_state=0, tol=0.0, n_iter_no_change=100)
    reg.fit(X_SMALL / 16, y)
    assert isinstance(reg.model_.optimizer, nnc.optimizers.LBFGS)
    assert len(reg.loss_curve_) == reg.n_iter_ == 15
    assert reg.loss_curve_[-1] < 0.1 * reg.loss_curve_[0]
    assert hasattr(reg, "partial_fit")
    sgd = nnc.MLPRegressor(hidden_layer_sizes=(8,), optimizer="rmsprop", max_iter=5,
                           random_state=0).fit(X_SMALL / 16, y)
    assert sgd.model_.optimizer.name == "rmsprop"


def test_pipeline_grid_search_and_cross_validation():
    pipe = make_pipeline(StandardScaler(), nnc.MLPClassifier(max_iter=100, random_state=0,
                                                             learning_rate_init=0.01))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(8,), (32,)],
                               "mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3)
    grid.fit(DIGITS_X[:600], DIGITS_Y[:600])
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes",
                                      "mlpclassifier__alpha"}
    assert grid.best_score_ >= 0.83  # scikit-learn's own MLP: 0.87
    assert grid.score(DIGITS_X[600:900], DIGITS_Y[600:900]) >= 0.85
    target = DIGITS_X[:600] @ np.random.default_rng(0).normal(size=64) / 64
    regressor = nnc.MLPRegressor(hidden_layer_sizes=(16,), alpha=1.0, max_iter=200,
                                 learning_rate_init=0.01, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), regressor), DIGITS_X[:600], target,
                             cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9


def test_bad_parameters_name_themselves():
    for params, words in [({"solver": "rprop"}, "solver"), ({"alpha": -1}, "alpha"),
                          ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
                          ({"batch_size": 0}, "batch_size"), ({"dtype": "int8"}, "dtype"),
                          ({"max_iter": 0}, "max_iter"), ({"momentum": 1.5}, "momentum")]:
        with pytest.raises(ValueError, match=words):
            nnc.MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match="loss"):
        nnc.MLPRegressor(loss="absolute_error").fit(X_SMALL, Y_SMALL.astype(float))


def test_an_estimator_being_trained_refuses_a_second_training_run():
    clf = nnc.MLPClassifier((8,), random_state=0, warm_start=True)
    clf.partial_fit(X_SMALL, Y_SMALL, classes=np.arange(10))
    before = [c.copy() for c in clf.coefs_]
    # Holding the model's training slot is what a fit in another thread does.
    with clf.model_.training_lock("fit"):
        with pytest.raises(RuntimeError, match="already training"):
            clf.partial_fit(X_SMALL, Y_SMALL)
        with pytest.raises(RuntimeError, match="already training"):
            clf.fit(X_SMALL, Y_SMALL)  # warm_start: the same model
    assert clf.t_ == 400 and clf.n_iter_ == 1
    for a, b in zip(before, clf.model_.get_weights()[0::2]):
        np.testing.assert_array_equal(a, b)
    clf.partial_fit(X_SMALL, Y_SMALL)  # free again afterwards
    assert clf.t_ == 800


def test_unaligned_arrays_predict_like_aligned_ones():
    # Arrays unpickled from network buffers (Dask's workers) can be unaligned.
    from nnc.sklearn import MLPRegressor

    x = np.random.default_rng(0).normal(size=(50, 3))
    reg = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(x, x.sum(axis=1))
    unaligned = np.zeros(x.nbytes + 1, np.uint8)[1:].view(np.float64).reshape(x.shape)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    assert np.array_equal(reg.predict(unaligned), reg.predict(x))
