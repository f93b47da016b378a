"""scikit-learn estimators backed by the nnc engine.

``nnc.MLPClassifier`` and ``nnc.MLPRegressor`` take scikit-learn's
parameter names and defaults and expose its fitted attributes, plus
``dropout``, ``optimizer`` (any nnc optimizer, overriding ``solver``) and
``dtype``. Differences from scikit-learn's own MLP, on purpose:

- the optimizers follow torch.optim's formulas (so "sgd" momentum is torch's
  ``buf = momentum*buf + g; p -= lr*buf``);
- ``warm_start=True`` keeps the optimizer state (scikit-learn resets Adam);
- the regressor's squared loss sums over outputs (identical for one output);
- ``solver="lbfgs"`` runs torch's L-BFGS with a strong-Wolfe line search,
  one iteration per entry of ``loss_curve_``.

Requires scikit-learn (``pip install scikit-learn``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import optimizers as nnc_optimizers
from ._training import TrainingRun
from ._validation import name_of
from .callbacks import Callback
from .layers import Dense, Dropout
from .model import Sequential

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


class _BaseMLP(BaseEstimator):
    """Shared parameters, validation and the training loop."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, optimizer=None, dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.optimizer = optimizer
        self.dtype = dtype

    # ------------------------------------------------------------ validation

    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1
               for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}")
        self._hidden = [int(s) for s in sizes]
        if self.solver not in ("sgd", "adam", "lbfgs"):
            raise ValueError(f"solver must be 'sgd', 'adam' or 'lbfgs', got {self.solver!r}")
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError("learning_rate must be 'constant', 'invscaling' or 'adaptive', "
                             f"got {self.learning_rate!r}")
        for name, lo, hi in (("alpha", 0, None), ("learning_rate_init", 0, None),
                             ("tol", 0, None), ("momentum", 0, 1), ("beta_1", 0, 1),
                             ("beta_2", 0, 1), ("epsilon", 0, None), ("power_t", 0, None),
                             ("dropout", 0, 1), ("validation_fraction", 0, 1)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or \
                    not np.isfinite(value) or value < lo or (hi is not None and value >= hi):
                bound = f"[{lo}, {hi})" if hi is not None else f">= {lo}"
                raise ValueError(f"{name} must be a number in {bound}, got {value!r}")
        if self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}")
        if self.early_stopping and self.validation_fraction <= 0:
            raise ValueError("validation_fraction must be > 0 with early_stopping")
        for name in ("max_iter", "n_iter_no_change", "max_fun"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.batch_size != "auto" and (not isinstance(self.batch_size, numbers.Integral)
                                          or isinstance(self.batch_size, bool)
                                          or self.batch_size < 1):
            raise ValueError(f"batch_size must be 'auto' or an integer >= 1, "
                             f"got {self.batch_size!r}")
        if self.activation not in _ACTIVATIONS:
            # Any nnc activation is accepted as well (e.g. "gelu").
            name_of("activation", self.activation, "activation")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    def _make_optimizer(self) -> nnc_optimizers.Optimizer:
        if self.optimizer is not None:
            return nnc_optimizers.get(self.optimizer)
        if self.solver == "adam":
            return nnc_optimizers.Adam(learning_rate=self.learning_rate_init,
                                       betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        if self.solver == "sgd":
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            return nnc_optimizers.SGD(learning_rate=self.learning_rate_init,
                                      momentum=self.momentum, nesterov=nesterov)
        return nnc_optimizers.LBFGS(learning_rate=1.0, max_iter=1,
                                    line_search_fn="strong_wolfe",
                                    tolerance_grad=0.0, tolerance_change=0.0)

    # -------------------------------------------------------------- building

    def _build(self, n_features: int, n_outputs: int, out_activation: str, loss: str) -> None:
        act = _ACTIVATIONS.get(self.activation, self.activation)
        layers = []
        for i, units in enumerate(self._hidden):
            if self.dropout > 0 and i > 0:
                layers.append(Dropout(self.dropout))
            layers.append(Dense(units, activation=act, input_dim=n_features if i == 0 else None))
        if self.dropout > 0 and self._hidden:
            layers.append(Dropout(self.dropout))
        layers.append(Dense(n_outputs, activation=out_activation,
                            input_dim=None if self._hidden else n_features))
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        model = Sequential(layers, dtype=self.dtype, seed=seed)
        model.compile(optimizer=self._make_optimizer(), loss=loss, l2=float(self.alpha))
        model.build()
        self.model_ = model
        self.n_layers_ = len(self._hidden) + 2
        self.n_outputs_ = n_outputs
        self.out_activation_ = {"linear": "identity", "sigmoid": "logistic"}.get(
            out_activation, out_activation)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.best_validation_score_ = None
        self._best_params = None

    def _sync_attributes(self) -> None:
        weights = self.model_.get_weights()
        self.coefs_ = weights[0::2]
        self.intercepts_ = weights[1::2]
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None

    # -------------------------------------------------------------- training

    def _fit_loop(self, x, y, incremental: bool) -> None:
        """scikit-learn's stochastic loop, each epoch run by the engine
        through the training loop Sequential.fit uses (_training.py)."""
        model = self.model_
        early = self.early_stopping and not incremental
        validation = None
        if early:
            stratify = y if isinstance(self, ClassifierMixin) and y.ndim == 1 else None
            x, x_val, y, y_val = train_test_split(
                x, y, test_size=self.validation_fraction, random_state=self._split_seed(),
                stratify=stratify)
            validation = (x_val, y_val)
            if self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
        xe, ye, _ = model.engine_data(x, self._engine_targets(y))
        n = xe.shape[0]
        if self.solver == "lbfgs" and self.optimizer is None:
            batch = None
        else:
            batch = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        rules = _IterationRules(self, n, validation, stopping=not incremental)
        TrainingRun(model, xe, ye, epochs=1 if incremental else self.max_iter, batch_size=batch,
                    shuffle=bool(self.shuffle), callbacks=[rules], nonfinite="raise").run()
        if not incremental and not rules.stopped:
            warnings.warn(f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                          "reached and the optimization hasn't converged yet.",
                          ConvergenceWarning, stacklevel=3)
        if early and self._best_params is not None:
            model.set_flat_params(self._best_params)  # scikit-learn keeps the best epoch
        self._sync_attributes()

    def _split_seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _record_validation(self, x_val, y_val) -> None:
        score = self._validation_score(x_val, y_val)
        self.validation_scores_.append(score)
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_params = self.model_.get_flat_params()

    def _should_stop(self, early: bool) -> bool:
        """scikit-learn's rule: stop after n_iter_no_change epochs without an
        improvement of tol (or, for adaptive SGD, divide the rate by 5)."""
        if early:
            improved = self.validation_scores_[-1] >= self.best_validation_score_ + self.tol \
                or len(self.validation_scores_) == 1
            self.best_loss_ = None
        else:
            improved = self.loss_curve_[-1] <= self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        if self.solver == "sgd" and self.learning_rate == "adaptive" and self.optimizer is None:
            lr = self.model_.learning_rate
            if lr > 1e-6:
                self.model_.learning_rate = lr / 5.0
                self._no_improvement_count = 0
                return False
        if self.verbose:
            print(f"Training stopped after {self.n_iter_} iterations: no improvement of "
                  f"{self.tol} for {self.n_iter_no_change} consecutive epochs.")
        return True

    def _fit(self, x, y, incremental: bool):
        self._check_params()
        reuse = (self.warm_start or incremental) and hasattr(self, "model_")
        x, y = _validate_data(self, x, y, reset=not reuse, multi_output=True,
                              dtype=(np.float64, np.float32), y_numeric=self._y_numeric)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self._prepare(x, y, reuse, incremental)
        self._fit_loop(x, y, incremental)
        return self

    def fit(self, X, y):
        """Train from scratch (or from the current state with warm_start)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch over (X, y) from the current state."""
        if self.solver == "lbfgs" and self.optimizer is None:
            raise AttributeError("partial_fit is only available for stochastic optimizers; "
                                 "solver='lbfgs' is not one of them")
        return self._fit(X, y, incremental=True)

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        x = _validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.model_.predict(x)


class _IterationRules(Callback):
    """scikit-learn's per-iteration bookkeeping, as a callback of the shared
    training loop: the invscaling learning rate, n_iter_/t_/loss_curve_,
    verbose lines, validation scores and the stopping rule."""

    def __init__(self, estimator: _BaseMLP, n_rows: int, validation, stopping: bool):
        super().__init__()
        self.estimator, self.n_rows = estimator, n_rows
        self.validation, self.stopping = validation, stopping
        self.stopped = False

    def on_epoch_begin(self, epoch, logs=None):
        est = self.estimator
        if est.solver == "sgd" and est.learning_rate == "invscaling" and est.optimizer is None:
            self.model.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        loss = logs["loss"]
        est.n_iter_ += 1
        est.t_ += self.n_rows
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            est._record_validation(*self.validation)
        if self.stopping and est._should_stop(self.validation is not None):
            self.stopped = self.model.stop_training = True


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier (scikit-learn's API, nnc's engine).

    Binary and multilabel targets use sigmoid outputs with binary
    cross-entropy, multiclass targets a softmax with cross-entropy.
    """

    _y_numeric = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _prepare(self, x, y, reuse: bool, incremental: bool) -> None:
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"Unknown label type: {target_type} (y must be class labels or a "
                             "label indicator matrix)")
        if reuse:
            unknown = np.setdiff1d(np.unique(y) if y.ndim == 1 else [], self.classes_)
            if y.ndim == 1 and unknown.size:
                raise ValueError(f"y contains labels {unknown} not seen in the first fit; "
                                 f"expected a subset of {self.classes_}")
            return
        binarizer = LabelBinarizer()
        if incremental:
            binarizer.fit(self._partial_classes)
        else:
            binarizer.fit(y)
        self.classes_ = binarizer.classes_
        self._binarizer = binarizer
        self._multilabel = binarizer.y_type_ == "multilabel-indicator"
        if not self._multilabel and len(self.classes_) < 2:
            raise ValueError("MLPClassifier needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {self.classes_[0]!r}")
        n_classes = len(self.classes_)
        if self._multilabel or n_classes == 2:
            n_out, out_act, loss = (n_classes if self._multilabel else 1), "sigmoid", \
                "binary_crossentropy"
        else:
            n_out, out_act, loss = n_classes, "softmax", "sparse_categorical_crossentropy"
        self._build(x.shape[1], n_out, out_act, loss)

    def _engine_targets(self, y) -> np.ndarray:
        if self._multilabel or len(self.classes_) == 2:
            return self._binarizer.transform(y).astype(self.dtype)
        return np.searchsorted(self.classes_, y)

    def _validation_score(self, x_val, y_val) -> float:
        return accuracy_score(y_val, self.predict(x_val))

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y); ``classes`` (every class that will ever
        appear) is required on the first call."""
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._partial_classes = np.unique(np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={np.unique(classes)!r}` is not the same as on the first "
                             f"call to partial_fit, {self.classes_!r}")
        return super().partial_fit(X, y)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        p = self._predict_raw(X)
        if not self._multilabel and len(self.classes_) == 2:
            p = np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class (or label set, for multilabel targets)."""
        p = self._predict_raw(X)
        if self._multilabel:
            return self._binarizer.inverse_transform(p, threshold=0.5)
        if len(self.classes_) == 2:
            return self.classes_[(p[:, 0] > 0.5).astype(int)]
        return self.classes_[np.argmax(p, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor with a linear output and squared loss
    J = (1/2m) sum |a - y|^2 (+ alpha/(2m) sum W^2)."""

    _y_numeric = True

    # scikit-learn >= 1.7 added `loss` (first positional there); here it is
    # keyword-only so MLPRegressor((64,)) keeps meaning hidden_layer_sizes.
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="squared_error",
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, optimizer=None, dtype="float64"):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init,
            power_t=power_t, max_iter=max_iter, shuffle=shuffle, random_state=random_state,
            tol=tol, verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, optimizer=optimizer, dtype=dtype)
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _check_params(self) -> None:
        super()._check_params()
        if self.loss != "squared_error":
            raise ValueError(f"loss must be 'squared_error' (the only regression loss nnc's "
                             f"estimator supports), got {self.loss!r}")

    def _prepare(self, x, y, reuse: bool, incremental: bool) -> None:
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if reuse:
            if n_out != self.n_outputs_:
                raise ValueError(f"y has {n_out} outputs, the model was fitted with "
                                 f"{self.n_outputs_}")
            return
        self._y_1d = y.ndim == 1
        self._build(x.shape[1], n_out, "linear", "mse")

    def _engine_targets(self, y) -> np.ndarray:
        return np.asarray(y, dtype=self.dtype).reshape(len(y), -1)

    def _validation_score(self, x_val, y_val) -> float:
        return r2_score(y_val, self.predict(x_val))

    def predict(self, X) -> np.ndarray:
        out = self._predict_raw(X)
        return out[:, 0] if self._y_1d else out
