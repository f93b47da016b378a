"""nnc.MLPClassifier/MLPRegressor against scikit-learn's own, fit times and
scores side by side, in one run.

    python bench/sklearn_compare.py                 # every data set and solver
    python bench/sklearn_compare.py --repeats 5 --data digits,iris --solvers adam

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (scikit-learn's
products go through NumPy's OpenBLAS; forcing a core type or cache size
changes its kernels and so its times):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/sklearn_compare.py

Data sets (scikit-learn's, standardised, 70/30 split): iris, digits,
diabetes (regression), a multilabel set (make_multilabel_classification,
600 x 20, 4 labels) and a multi-output regression (make_regression,
600 x 10, 3 targets); a (64, 64) relu net, alpha 1e-3 (10 for diabetes), for each of adam,
sgd (momentum 0.9) and lbfgs, max_iter 100. Both libraries get the same
parameters and random_state; each fit time is the median of --repeats
runs (the libraries take turns), and the score is the test score of the
first run. Both run on one thread (threadpoolctl limits NumPy's BLAS,
nnc.set_num_threads the engine). Ratios are scikit-learn's time over nnc's
(> 1: nnc faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn import datasets as skdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

import nnc

DATA = ("iris", "digits", "diabetes", "multilabel", "multioutput")
SOLVERS = ("adam", "sgd", "lbfgs")
ALPHA = {"diabetes": 10.0}  # its 442 noisy rows need a strong L2 term
SOLVER_PARAMS = {"adam": dict(learning_rate_init=0.01),
                 "sgd": dict(learning_rate_init=0.05, momentum=0.9), "lbfgs": {}}


def load(name):
    """((x_train, x_test, y_train, y_test), is_regression)."""
    regression = name in ("diabetes", "multioutput")
    if name == "iris":
        x, y = skdata.load_iris(return_X_y=True)
    elif name == "digits":
        x, y = skdata.load_digits(return_X_y=True)
    elif name == "diabetes":
        x, y = skdata.load_diabetes(return_X_y=True)
    elif name == "multilabel":
        x, y = skdata.make_multilabel_classification(n_samples=600, n_features=20,
                                                     n_classes=4, random_state=0)
    else:
        x, y = skdata.make_regression(n_samples=600, n_features=10, n_targets=3, noise=10.0,
                                      random_state=0)
    x = StandardScaler().fit_transform(x)
    if regression:
        y = (y - y.mean(axis=0)) / y.std(axis=0)
    return train_test_split(x, y, test_size=0.3, random_state=0), regression


def timed_fit(cls, params, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est = cls(**params).fit(x, y)
        return time.perf_counter() - start, est


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=",".join(DATA))
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--max-iter", type=int, default=100)
    args = parser.parse_args()
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var}={os.environ[var]} is set; unset it for comparable times")
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    nnc.set_num_threads(1)
    with threadpool_limits(1):
        ratios = compare(args)
    print(f"geometric mean of sklearn/nnc time ratios: "
          f"{float(np.exp(np.mean(np.log(ratios)))):.2f}x")


def compare(args) -> list[float]:
    """Print one line per data set and solver; return the time ratios."""
    print(f"{'data':<12}{'solver':<7}{'nnc s':>9}{'sklearn s':>11}{'ratio':>8}"
          f"{'nnc score':>11}{'sk score':>10}{'nnc it':>8}{'sk it':>7}")
    ratios = []
    for name in args.data.split(","):
        (x_tr, x_te, y_tr, y_te), regression = load(name)
        ours_cls, theirs_cls = ((nnc.MLPRegressor, SkRegressor) if regression
                                else (nnc.MLPClassifier, SkClassifier))
        for solver in args.solvers.split(","):
            params = dict(hidden_layer_sizes=(64, 64), solver=solver, alpha=ALPHA.get(name, 1e-3),
                          max_iter=args.max_iter, random_state=0, **SOLVER_PARAMS[solver])
            times = {"nnc": [], "sklearn": []}
            fitted = {}
            timed_fit(ours_cls, params, x_tr, y_tr)  # warm-up
            for _ in range(args.repeats):
                for lib, cls in (("nnc", ours_cls), ("sklearn", theirs_cls)):
                    seconds, est = timed_fit(cls, params, x_tr, y_tr)
                    times[lib].append(seconds)
                    fitted.setdefault(lib, est)
            t_ours, t_theirs = statistics.median(times["nnc"]), statistics.median(times["sklearn"])
            ratios.append(t_theirs / t_ours)
            print(f"{name:<12}{solver:<7}{t_ours:9.4f}{t_theirs:11.4f}{t_theirs / t_ours:7.1f}x"
                  f"{fitted['nnc'].score(x_te, y_te):11.3f}"
                  f"{fitted['sklearn'].score(x_te, y_te):10.3f}"
                  f"{fitted['nnc'].n_iter_:8d}{fitted['sklearn'].n_iter_:7d}")
    return ratios


if __name__ == "__main__":
    main()
