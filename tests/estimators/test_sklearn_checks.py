"""scikit-learn's own estimator checks on nnc's estimators, at the default
settings and with each solver, early stopping and float32 (issue 14).

Every check runs, the sample-weight ones included; none is marked as an
expected failure. max_iter is lowered as scikit-learn's own test suite does
for its MLPs (max_iter=100), to keep CI time modest.
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

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
