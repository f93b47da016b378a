"""scikit-learn's own estimator checks on nnc's estimators, at the default
settings and with each solver, early stopping and float32 (issue 14).

Every check runs, the sample-weight ones included. max_iter is lowered as
scikit-learn's own test suite does for its MLPs. The checks that cannot
pass are listed below with the reason; with early_stopping=True they are
those scikit-learn's own MLPs fail with the same parameters
(test_sklearn_parity.test_early_stopping_fails_scikit_learns_checks_as_scikit_learn_does
runs them on scikit-learn's estimator).
"""

import pytest
from helpers.optional import require

require("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import nnc  # noqa: E402

CONFIGS = [{}, {"solver": "lbfgs"}, {"solver": "sgd"}, {"early_stopping": True},
           {"dtype": "float32"}]
ESTIMATORS = [cls(max_iter=100, random_state=0, **config)
              for cls in (nnc.MLPClassifier, nnc.MLPRegressor) for config in CONFIGS]

_ES = "fails for scikit-learn's own MLP with early_stopping=True too: "
EARLY_STOPPING_FAILURES = {
    "check_estimators_partial_fit_n_features": _ES + "partial_fit refuses early stopping",
    "check_fit2d_1feature": _ES + "the validation split of the check's tiny data is too small",
    "check_fit_score_takes_y": _ES + "the validation split of the check's tiny data is too small",
    "check_n_features_in_after_fitting": _ES + "the validation split is too small",
    "check_estimators_nan_inf": _ES + "the validation split is refused before the NaN check",
    "check_sample_weight_equivalence_on_dense_data":
        "the validation split takes other rows from repeated than from weighted data",
    "check_sample_weight_equivalence_on_sparse_data":
        "the validation split takes other rows from repeated than from weighted data",
}
CLASSIFIER_EARLY_STOPPING_FAILURES = {
    "check_classifiers_one_label": _ES + "the validation split of 10 rows is too small",
}
REGRESSOR_EARLY_STOPPING_FAILURES = {
    "check_regressors_no_decision_function": _ES + "the validation split is too small",
}
FLOAT32_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data":
        "float32 rounding: weighted and repeated rows agree to ~5e-7, the check asks 1e-7",
    "check_sample_weight_equivalence_on_sparse_data":
        "float32 rounding: weighted and repeated rows agree to ~5e-7, the check asks 1e-7",
}


def expected_failures(estimator) -> dict:
    if estimator.early_stopping:
        extra = (CLASSIFIER_EARLY_STOPPING_FAILURES if isinstance(estimator, nnc.MLPClassifier)
                 else REGRESSOR_EARLY_STOPPING_FAILURES)
        return {**EARLY_STOPPING_FAILURES, **extra}
    if estimator.dtype == "float32":
        return FLOAT32_FAILURES
    return {}


pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
