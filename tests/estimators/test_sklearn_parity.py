"""nnc.MLPClassifier/MLPRegressor side by side with scikit-learn's own, on
the same inputs: attributes, iteration counts, warnings and errors
(issue 14, point 1). Each test runs both libraries."""

import re
import warnings

import numpy as np
import pytest
from helpers.optional import require

require("sklearn")

from scipy import sparse  # noqa: E402
from sklearn import datasets as skdata  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import nnc  # noqa: E402

X_DIG, Y_DIG = skdata.load_digits(return_X_y=True)
X_DIG = X_DIG[:500] / 16.0
Y_DIG = Y_DIG[:500]
X_IRIS, Y_IRIS = skdata.load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
X_ML, Y_ML = skdata.make_multilabel_classification(n_samples=200, n_features=10, n_classes=4,
                                                   random_state=0)
X_ML = StandardScaler().fit_transform(X_ML)
X_MO, Y_MO = skdata.make_regression(n_samples=200, n_features=8, n_targets=3, noise=1.0,
                                    random_state=0)
Y_MO = Y_MO / Y_MO.std(axis=0)


def both(name, **params):
    """(nnc estimator, scikit-learn estimator) with the same parameters."""
    ours = {"classifier": nnc.MLPClassifier, "regressor": nnc.MLPRegressor}[name]
    theirs = {"classifier": SkClassifier, "regressor": SkRegressor}[name]
    return ours(**params), theirs(**params)


def fit_recording(est, *args, **kwargs):
    """Fit; return the messages of the ConvergenceWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(*args, **kwargs)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


def params_of(est):
    return list(est.coefs_) + list(est.intercepts_)


def assert_same_error(call_ours, call_theirs, exc=ValueError):
    with pytest.raises(exc) as theirs:
        call_theirs()
    with pytest.raises(exc, match=re.escape(str(theirs.value))):
        call_ours()


# ------------------------------------------------------------ initialisation


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
def test_initial_weights_and_intercepts_are_scikit_learns(activation):
    """sgd at a negligible rate for one epoch leaves the initial draw:
    U(+-sqrt(6/(fan_in+fan_out))), factor 2 for logistic, intercepts too."""
    kw = dict(hidden_layer_sizes=(7, 5), activation=activation, solver="sgd", momentum=0.0,
              learning_rate_init=1e-12, max_iter=1, random_state=4)
    ours, theirs = both("classifier", **kw)
    fit_recording(ours, X_IRIS, Y_IRIS)
    fit_recording(theirs, X_IRIS, Y_IRIS)
    for a, b in zip(params_of(ours), params_of(theirs)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert np.abs(ours.intercepts_[0]).max() > 0.1  # intercepts are drawn, not zero
    bound = np.sqrt((2.0 if activation == "logistic" else 6.0) / (4 + 7))
    assert np.abs(ours.coefs_[0]).max() <= bound


# -------------------------------------------------------------------- lbfgs


@pytest.mark.parametrize("name,x,y,kw", [
    ("classifier", X_IRIS, Y_IRIS, dict(hidden_layer_sizes=(10,))),
    ("classifier", X_ML, Y_ML, dict(hidden_layer_sizes=(16,), activation="logistic")),
    ("classifier", X_DIG, Y_DIG % 2, dict(hidden_layer_sizes=(12,), activation="tanh")),
    ("regressor", X_MO, Y_MO, dict(hidden_layer_sizes=(16,), alpha=0.1)),
])
def test_lbfgs_follows_scikit_learns_trajectory(name, x, y, kw):
    """Same start, same L-BFGS-B, same loss: same iterations and weights."""
    ours, theirs = both(name, solver="lbfgs", max_iter=30, random_state=0, **kw)
    w_ours, w_theirs = fit_recording(ours, x, y), fit_recording(theirs, x, y)
    assert w_ours == w_theirs  # the same ConvergenceWarning, or none for both
    assert ours.n_iter_ == theirs.n_iter_ and len(w_ours) == (ours.n_iter_ == 30)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    for a, b in zip(params_of(ours), params_of(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not hasattr(ours, "loss_curve_") and not hasattr(theirs, "loss_curve_")


def test_lbfgs_reaches_scikit_learns_scores_where_it_used_to_stall():
    for name, x, y in [("classifier", X_ML, Y_ML), ("regressor", X_MO, Y_MO)]:
        ours, theirs = both(name, solver="lbfgs", hidden_layer_sizes=(32,),
                            activation="logistic", max_iter=300, random_state=0)
        fit_recording(ours, x, y)
        fit_recording(theirs, x, y)
        assert theirs.score(x, y) > 0.9
        assert abs(ours.score(x, y) - theirs.score(x, y)) <= 0.02


def test_lbfgs_stops_at_max_fun_with_scikit_learns_warning():
    ours, theirs = both("classifier", solver="lbfgs", max_fun=10, random_state=0)
    w_ours, w_theirs = fit_recording(ours, X_DIG, Y_DIG), fit_recording(theirs, X_DIG, Y_DIG)
    assert ours.n_iter_ == theirs.n_iter_ < 10
    assert w_ours == w_theirs and "status=1" in w_ours[0]


def test_partial_fit_is_hidden_for_lbfgs():
    ours, theirs = both("classifier", solver="lbfgs")
    assert not hasattr(ours, "partial_fit") and not hasattr(theirs, "partial_fit")
    assert_same_error(lambda: ours.partial_fit, lambda: theirs.partial_fit, AttributeError)
    assert hasattr(nnc.MLPClassifier(solver="sgd"), "partial_fit")
    # scikit-learn 1.9's regressor forgets the call in its available_if
    # check and keeps the method; nnc hides it (docs/design.md).
    assert hasattr(SkRegressor(solver="lbfgs"), "partial_fit")
    assert not hasattr(nnc.MLPRegressor(solver="lbfgs"), "partial_fit")


# ------------------------------------------------------------ early stopping


@pytest.mark.parametrize("name,x,y", [("classifier", X_DIG, Y_DIG),
                                      ("regressor", X_MO, Y_MO)])
def test_early_stopping_counts_as_scikit_learn(name, x, y):
    """Without shuffling, SGD at a constant rate runs the same epochs in both
    (torch's and scikit-learn's momentum agree then), so the validation split,
    the scores, the no-improvement counter and the restored best epoch agree."""
    kw = dict(hidden_layer_sizes=(20,), early_stopping=True, shuffle=False, max_iter=300,
              solver="sgd", learning_rate_init=0.05, n_iter_no_change=5, tol=1e-3,
              random_state=0)
    ours, theirs = both(name, **kw)
    fit_recording(ours, x, y)
    fit_recording(theirs, x, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-6)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, 1e-6)
    assert ours.best_loss_ is None and theirs.best_loss_ is None
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    for a, b in zip(params_of(ours), params_of(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_early_stopping_keeps_improving_on_digits():
    """The issue's case: a score still rising is an improvement."""
    ours, theirs = both("classifier", hidden_layer_sizes=(32,), early_stopping=True,
                        random_state=0, max_iter=200)
    x, y = skdata.load_digits(return_X_y=True)
    fit_recording(ours, x / 16, y)
    fit_recording(theirs, x / 16, y)
    assert ours.n_iter_ > 20 and theirs.n_iter_ > 20
    assert abs(ours.best_validation_score_ - theirs.best_validation_score_) <= 0.02


def test_early_stopping_split_is_stratified_only_where_scikit_learn_stratifies():
    """3 classes and 20 rows: scikit-learn does not stratify multiclass
    targets (only a single binary output), so the split succeeds."""
    rng = np.random.RandomState(0)
    x, y = rng.randn(20, 3), np.arange(20) % 3
    ours, theirs = both("classifier", early_stopping=True, max_iter=5, random_state=0)
    fit_recording(ours, x, y)
    fit_recording(theirs, x, y)
    assert len(ours.validation_scores_) == len(theirs.validation_scores_) == 5


def test_a_one_sample_validation_set_is_refused_as_by_scikit_learn():
    x, y = X_IRIS[:12], Y_IRIS[:12] * 0 + np.arange(12) % 2
    ours, theirs = both("classifier", early_stopping=True, validation_fraction=0.05,
                        random_state=0)
    assert_same_error(lambda: ours.fit(x, y), lambda: theirs.fit(x, y))


def test_partial_fit_after_an_early_stopping_fit_raises_as_scikit_learn():
    ours, theirs = both("classifier", early_stopping=True, max_iter=5, random_state=0)
    fit_recording(ours, X_IRIS, Y_IRIS)
    fit_recording(theirs, X_IRIS, Y_IRIS)
    before = [p.copy() for p in params_of(ours)]
    assert_same_error(lambda: ours.partial_fit(X_IRIS, Y_IRIS),
                      lambda: theirs.partial_fit(X_IRIS, Y_IRIS))
    for a, b in zip(before, params_of(ours)):
        np.testing.assert_array_equal(a, b)


def test_n_iter_no_change_may_be_infinite():
    ours, theirs = both("regressor", n_iter_no_change=np.inf, max_iter=15, tol=10.0,
                        random_state=0)
    w_ours, w_theirs = fit_recording(ours, X_MO, Y_MO), fit_recording(theirs, X_MO, Y_MO)
    assert ours.n_iter_ == theirs.n_iter_ == 15 and w_ours == w_theirs
    ours, theirs = both("regressor", n_iter_no_change=2, max_iter=15, tol=10.0, random_state=0)
    fit_recording(ours, X_MO, Y_MO)
    fit_recording(theirs, X_MO, Y_MO)
    # The first epoch improves on inf; then 3 > 2 epochs without a gain of 10.
    assert ours.n_iter_ == theirs.n_iter_ == 4


# --------------------------------------------------------------- warm start


def test_warm_start_counts_the_last_fit_and_refuses_other_classes():
    ours, theirs = both("classifier", warm_start=True, max_iter=3, random_state=0)
    for est in (ours, theirs):
        fit_recording(est, X_IRIS, Y_IRIS)
        fit_recording(est, X_IRIS, Y_IRIS)
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 6
    assert ours.t_ == theirs.t_ == 6 * 150
    keep = Y_IRIS < 2
    assert_same_error(lambda: ours.fit(X_IRIS[keep], Y_IRIS[keep]),
                      lambda: theirs.fit(X_IRIS[keep], Y_IRIS[keep]))


def test_partial_fit_rules_are_scikit_learns():
    ours, theirs = both("classifier", random_state=0)
    assert_same_error(lambda: ours.partial_fit(X_IRIS, Y_IRIS),
                      lambda: theirs.partial_fit(X_IRIS, Y_IRIS))
    for est in (ours, theirs):
        est.partial_fit(X_IRIS[:50], Y_IRIS[:50], classes=[0, 1, 2])
        est.partial_fit(X_IRIS, Y_IRIS)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_ == 200
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    bad = np.where(Y_IRIS == 2, 5, Y_IRIS)
    assert_same_error(lambda: ours.partial_fit(X_IRIS, bad),
                      lambda: theirs.partial_fit(X_IRIS, bad))
    assert_same_error(lambda: ours.partial_fit(X_IRIS, Y_IRIS, classes=[0, 1]),
                      lambda: theirs.partial_fit(X_IRIS, Y_IRIS, classes=[0, 1]))


def test_partial_fit_takes_multilabel_targets():
    ours, theirs = both("classifier", hidden_layer_sizes=(16,), random_state=0)
    for est in (ours, theirs):
        for _ in range(3):
            est.partial_fit(X_ML, Y_ML, classes=np.arange(4))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.predict(X_ML).shape == theirs.predict(X_ML).shape == Y_ML.shape
    assert ours.predict_proba(X_ML).shape == theirs.predict_proba(X_ML).shape


# -------------------------------------------------------------------- input


def test_sparse_input_fits_as_dense():
    for fmt in (sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array):
        xs = fmt(X_DIG)
        ours, theirs = both("classifier", solver="lbfgs", hidden_layer_sizes=(10,),
                            max_iter=20, random_state=0)
        fit_recording(ours, xs, Y_DIG)
        fit_recording(theirs, xs, Y_DIG)
        dense = nnc.MLPClassifier(solver="lbfgs", hidden_layer_sizes=(10,), max_iter=20,
                                  random_state=0)
        fit_recording(dense, X_DIG, Y_DIG)
        np.testing.assert_array_equal(ours.predict_proba(xs), dense.predict_proba(X_DIG))
        np.testing.assert_allclose(ours.predict_proba(xs), theirs.predict_proba(xs),
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name,x,y", [("classifier", X_IRIS, Y_IRIS),
                                      ("regressor", X_MO, Y_MO)])
def test_sample_weight_is_scikit_learns(name, x, y):
    w = np.random.RandomState(0).randint(0, 4, len(x)).astype(float)
    ours, theirs = both(name, solver="lbfgs", hidden_layer_sizes=(8,), max_iter=25,
                        random_state=0)
    fit_recording(ours, x, y, sample_weight=w)
    fit_recording(theirs, x, y, sample_weight=w)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    for a, b in zip(params_of(ours), params_of(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # Integer weights are repetitions (full batch), stochastic solver included.
    rep = nnc.MLPRegressor if name == "regressor" else nnc.MLPClassifier
    a = rep(solver="adam", max_iter=20, random_state=1).fit(x, y, sample_weight=w)
    b = rep(solver="adam", max_iter=20, random_state=1, batch_size=int(w.sum())).fit(
        np.repeat(x, w.astype(int), axis=0), np.repeat(y, w.astype(int), axis=0))
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    ours_sw, theirs_sw = both(name, max_iter=5, random_state=0)
    zero = np.zeros(len(x))
    assert_same_error(lambda: ours_sw.fit(x, y, sample_weight=zero),
                      lambda: theirs_sw.fit(x, y, sample_weight=zero))
    ours_sw.partial_fit(x, y, sample_weight=w, **({"classes": [0, 1, 2]}
                                                  if name == "classifier" else {}))


def test_string_labels_and_pandas_feature_names():
    pd = require("pandas")
    labels = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
    frame = pd.DataFrame(X_IRIS, columns=["sl", "sw", "pl", "pw"])
    ours, theirs = both("classifier", early_stopping=True, max_iter=30, random_state=0)
    for est in (ours, theirs):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # "X does not have valid feature names"
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(frame, labels)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)
    assert ours.predict(frame).dtype == theirs.predict(frame).dtype
    assert set(ours.predict(frame)) <= set(labels)
    with pytest.warns(UserWarning, match="feature names"):
        ours.predict(X_IRIS)


def test_a_single_class_fits_as_in_scikit_learn():
    ours, theirs = both("classifier", max_iter=5, random_state=0)
    y = np.full(len(X_IRIS), 7)
    fit_recording(ours, X_IRIS, y)
    fit_recording(theirs, X_IRIS, y)
    np.testing.assert_array_equal(ours.predict(X_IRIS), theirs.predict(X_IRIS))
    assert ours.predict_proba(X_IRIS).shape == theirs.predict_proba(X_IRIS).shape


@pytest.mark.parametrize("name,y", [("classifier", Y_IRIS), ("regressor", X_IRIS[:, 0])])
def test_float32_stays_float32_unless_dtype_forces(name, y):
    x32 = X_IRIS.astype(np.float32)
    ours, theirs = both(name, max_iter=5, random_state=0)
    fit_recording(ours, x32, y)
    fit_recording(theirs, x32, y)
    assert [c.dtype for c in ours.coefs_] == [c.dtype for c in theirs.coefs_] == [np.float32] * 2
    assert ours.intercepts_[0].dtype == theirs.intercepts_[0].dtype == np.float32
    method = "predict_proba" if name == "classifier" else "predict"
    assert getattr(ours, method)(x32).dtype == getattr(theirs, method)(x32).dtype
    forced = (nnc.MLPClassifier if name == "classifier" else nnc.MLPRegressor)(
        max_iter=5, random_state=0, dtype="float64")
    fit_recording(forced, x32, y)
    assert forced.coefs_[0].dtype == np.float64
    forced32 = (nnc.MLPClassifier if name == "classifier" else nnc.MLPRegressor)(
        max_iter=5, random_state=0, dtype="float32")
    fit_recording(forced32, X_IRIS, y)
    assert forced32.coefs_[0].dtype == np.float32


def test_assigned_coefs_are_used_by_the_next_predict():
    ours, theirs = both("classifier", hidden_layer_sizes=(6,), max_iter=40, random_state=0)
    fit_recording(ours, X_IRIS, Y_IRIS)
    fit_recording(theirs, X_IRIS, Y_IRIS)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    np.testing.assert_allclose(ours.predict_proba(X_IRIS), theirs.predict_proba(X_IRIS),
                               rtol=1e-12, atol=1e-15)
    ours.coefs_[1][:] = 0.0  # in place too
    ours.intercepts_[1][:] = [5.0, 0.0, 0.0]
    assert (ours.predict(X_IRIS) == 0).all()


def test_bad_parameters_raise_scikit_learns_errors():
    from sklearn.utils._param_validation import InvalidParameterError
    for params in [{"solver": "rprop"}, {"alpha": -1}, {"batch_size": 0}, {"max_iter": 0},
                   {"momentum": 1.5}, {"n_iter_no_change": 0}, {"validation_fraction": 1.0},
                   {"learning_rate": "cyclic"}, {"epsilon": 0.0}]:
        ours, theirs = both("classifier", **params)
        assert_same_error(lambda ours=ours: ours.fit(X_IRIS, Y_IRIS),
                          lambda theirs=theirs: theirs.fit(X_IRIS, Y_IRIS), InvalidParameterError)
    ours, theirs = both("classifier", hidden_layer_sizes=(3, 0))
    assert_same_error(lambda: ours.fit(X_IRIS, Y_IRIS), lambda: theirs.fit(X_IRIS, Y_IRIS))


def test_the_parameters_are_scikit_learns_plus_nnc_extras():
    extra = {"dropout": 0.0, "optimizer": None, "dtype": None}
    for ours, theirs in [(nnc.MLPClassifier(), SkClassifier()),
                         (nnc.MLPRegressor(), SkRegressor())]:
        params = ours.get_params()
        assert {k: v for k, v in params.items() if k not in extra} == theirs.get_params()
        assert {k: params[k] for k in extra} == extra
    # The regressor's first positional parameter is `loss`, as in scikit-learn.
    assert nnc.MLPRegressor("squared_error", (5,)).hidden_layer_sizes == (5,)


def test_divergence_is_reported_as_scikit_learn_reports_it():
    """scikit-learn raises ValueError when its weights become non-finite;
    nnc never applies a non-finite step: it warns and keeps the last
    finite weights (docs/design.md)."""
    x = X_MO * 1e3
    ours, theirs = both("regressor", solver="sgd", learning_rate_init=10.0, max_iter=20,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            theirs.fit(x, Y_MO)
    with pytest.warns(RuntimeWarning, match="non-finite|not finite|NaN|inf"):
        ours.fit(x, Y_MO)
    assert all(np.isfinite(p).all() for p in params_of(ours))


# ----------------------------------------------------- departures, on purpose


def test_warm_start_keeps_adam_state_where_scikit_learn_restarts_it():
    kw = dict(hidden_layer_sizes=(16,), max_iter=4, shuffle=False, tol=0.0,
              n_iter_no_change=1000, random_state=3)
    ours, theirs = both("classifier", warm_start=True, **kw)
    ours_long, theirs_long = both("classifier", **{**kw, "max_iter": 8})
    for est in (ours, theirs):
        fit_recording(est, X_DIG, Y_DIG)
        fit_recording(est, X_DIG, Y_DIG)
    fit_recording(ours_long, X_DIG, Y_DIG)
    fit_recording(theirs_long, X_DIG, Y_DIG)
    np.testing.assert_allclose(ours.loss_curve_, ours_long.loss_curve_, rtol=1e-12)
    gap = np.abs(np.array(theirs.loss_curve_) - theirs_long.loss_curve_).max()
    assert gap > 1e-4  # scikit-learn's second fit starts a fresh Adam
    np.testing.assert_allclose(ours_long.loss_curve_, theirs_long.loss_curve_, rtol=1e-6)


def test_sgd_momentum_matches_scikit_learn_at_a_constant_rate_only():
    """torch's buffer B <- mu B + g, theta -= lr B equals scikit-learn's
    velocity v <- mu v - lr g while lr is constant; with invscaling the
    old velocity keeps its old rate in scikit-learn, not in torch."""
    kw = dict(hidden_layer_sizes=(10,), solver="sgd", momentum=0.9, shuffle=False,
              learning_rate_init=0.05, max_iter=20, tol=0.0, n_iter_no_change=1000,
              random_state=0, batch_size=50)
    ours, theirs = both("classifier", **kw)
    fit_recording(ours, X_IRIS, Y_IRIS)
    fit_recording(theirs, X_IRIS, Y_IRIS)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    ours, theirs = both("classifier", learning_rate="invscaling", power_t=0.3, **kw)
    fit_recording(ours, X_IRIS, Y_IRIS)
    fit_recording(theirs, X_IRIS, Y_IRIS)
    assert ours.loss_curve_[0] == pytest.approx(theirs.loss_curve_[0], rel=1e-9)
    assert abs(ours.loss_curve_[-1] - theirs.loss_curve_[-1]) > 1e-6


def test_early_stopping_fails_scikit_learns_checks_as_scikit_learn_does():
    """The checks test_sklearn_checks expects to fail with early_stopping=True
    fail for scikit-learn's own MLPs with the same parameters."""
    from estimators.test_sklearn_checks import (
        CLASSIFIER_EARLY_STOPPING_FAILURES,
        EARLY_STOPPING_FAILURES,
        REGRESSOR_EARLY_STOPPING_FAILURES,
    )
    from sklearn.utils import estimator_checks
    for est, extra in [(SkClassifier(early_stopping=True, max_iter=100, random_state=0),
                        CLASSIFIER_EARLY_STOPPING_FAILURES),
                       (SkRegressor(early_stopping=True, max_iter=100, random_state=0),
                        REGRESSOR_EARLY_STOPPING_FAILURES)]:
        for name, reason in {**EARLY_STOPPING_FAILURES, **extra}.items():
            if not reason.startswith("fails for scikit-learn's own"):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises((ValueError, AssertionError)):
                    getattr(estimator_checks, name)(type(est).__name__, est)


def test_verbose_lines_are_scikit_learns(capsys):
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", shuffle=False, max_iter=3, verbose=True,
              early_stopping=True, random_state=0)
    lines = []
    for est in both("classifier", **kw):
        fit_recording(est, X_IRIS, Y_IRIS)
        lines.append(capsys.readouterr().out.splitlines())
    assert len(lines[0]) == len(lines[1]) == 6
    for ours, theirs in zip(*lines):
        assert ours.split("=")[0].split(":")[0] == theirs.split("=")[0].split(":")[0]
    np.testing.assert_allclose([float(line.split()[-1]) for line in lines[0]],
                               [float(line.split()[-1]) for line in lines[1]], rtol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_fitted_attributes_are_scikit_learns(solver, early_stopping):
    """The same public fitted attributes (nnc adds model_, its Sequential),
    of the same types and shapes."""
    for name, x, y in [("classifier", X_IRIS, Y_IRIS), ("regressor", X_MO, Y_MO)]:
        ours, theirs = both(name, solver=solver, early_stopping=early_stopping, max_iter=5,
                            hidden_layer_sizes=(4, 3), random_state=0)
        fit_recording(ours, x, y)
        fit_recording(theirs, x, y)

        def public(est):
            return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}

        assert public(ours) == public(theirs) | {"model_"}
        for attr in public(theirs):
            a, b = getattr(ours, attr), getattr(theirs, attr)
            if isinstance(b, list):
                assert [np.shape(v) for v in a] == [np.shape(v) for v in b], attr
            elif isinstance(b, np.ndarray):
                assert a.shape == b.shape and a.dtype == b.dtype, attr
            else:
                assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), attr
