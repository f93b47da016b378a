"""scikit-learn estimators backed by the nnc engine.

``nnc.MLPClassifier`` and ``nnc.MLPRegressor`` are scikit-learn 1.9's
``MLPClassifier``/``MLPRegressor``: the same parameters, defaults, fitted
attributes, warnings and errors, the same initial weights and validation
split for a given ``random_state``, and the same iteration rules
(docs/design.md, "The scikit-learn estimators"). The engine trains: an
epoch of ``adam``/``sgd`` is one C call, and ``lbfgs`` is SciPy's L-BFGS-B
(as in scikit-learn) driven by the engine's loss and gradient.

Extra parameters: ``dropout``, ``optimizer`` (any nnc optimizer, overriding
``solver``) and ``dtype`` (``None`` keeps float32 input in float32, as
scikit-learn does; ``"float32"``/``"float64"`` force one). Differences on
purpose: the stochastic optimizers use torch.optim's formulas, and
``warm_start=True`` keeps the optimizer's state (scikit-learn restarts it).

Requires scikit-learn (``pip install scikit-learn``).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as _SkClassifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from threadpoolctl import threadpool_limits

from . import _core, _dask
from ._training import TrainingRun
from .callbacks import Callback
from .layers import Dense, Dropout
from .model import Sequential
from .optimizers import SGD, Adam
from .optimizers import get as get_optimizer

#: scikit-learn's activation names -> the engine's; nnc's own names (left
#: column too) are accepted as an extension.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                **{name: name for name in ("linear", "sigmoid", "leaky_relu", "elu", "selu",
                                           "swish", "silu", "gelu", "softplus")}}
_STOCHASTIC = ("sgd", "adam")


def _dense(x, dtype) -> np.ndarray:
    """`x` (validated, possibly scipy-sparse) as the engine takes it: the
    engine computes on dense rows (docs/design.md). Aligned too: arrays
    unpickled from a network buffer (Dask's workers) may not be."""
    if sparse.issparse(x):
        x = x.toarray()
    return np.require(x, dtype=dtype, requirements=["C", "A"])


class _BaseMLP(BaseEstimator):
    """Parameters, initialisation, the two training paths and prediction."""

    _parameter_constraints: dict = {
        **_SkClassifier._parameter_constraints,
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": "no_validation",  # any nnc optimizer, checked by nnc
        "dtype": [None, StrOptions({"float32", "float64"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, optimizer=None, dtype=None):
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ the solver

    def _uses_sklearn_lbfgs(self) -> bool:
        return self.solver == "lbfgs" and self.optimizer is None

    def _check_solver(self) -> bool:
        # scikit-learn's rule (and message) for hiding partial_fit.
        if self.solver not in _STOCHASTIC and self.optimizer is None:
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    def _make_optimizer(self):
        if self.optimizer is not None:
            return get_optimizer(self.optimizer)
        if self.solver == "sgd":
            return SGD(learning_rate=self.learning_rate_init, momentum=self.momentum,
                       nesterov=bool(self.nesterovs_momentum) and self.momentum > 0)
        # lbfgs trains through SciPy (_fit_lbfgs); the compiled optimizer is unused.
        return Adam(learning_rate=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                    eps=self.epsilon)

    # ---------------------------------------------------------------- fitting

    def fit(self, X, y, sample_weight=None):
        """Fit the model to X and y (from the current weights with warm_start);
        Dask collections stream their partitions (docs/design.md, Dask inputs)."""
        if _dask.is_collection(X):
            return _dask.estimator_fit(self, X, y, sample_weight)
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool):
        self._validate_params()
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        if incremental and self.early_stopping:
            # scikit-learn raises the same, though only after initialising.
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = (np.dtype(self.dtype or X.dtype) if first_pass else self.model_.dtype)
        X = _dense(X, dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} outputs; the model was fitted with "
                             f"{self.n_outputs_} (warm_start/partial_fit keep the network)")
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize([X.shape[1], *[int(s) for s in sizes], Y.shape[1]], dtype, rng)
        else:
            self._push_weights()
        if self._uses_sklearn_lbfgs():
            self._fit_lbfgs(X, Y, sample_weight)
        else:
            self._fit_stochastic(X, Y, sample_weight, rng, incremental)
        self._pull_weights()
        return self

    def _initialize(self, layer_units: list[int], dtype, rng) -> None:
        """scikit-learn's _initialize: attributes, and weights and intercepts
        drawn from U(+-sqrt(f/(fan_in+fan_out))), f = 2 for logistic and 6
        otherwise, from the same random state in the same order."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        self.out_activation_, loss = self._output()
        factor = 2.0 if self.activation == "logistic" else 6.0
        weights = []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
            weights.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
        act = _ACTIVATIONS[self.activation]
        # The engine's poisson loss takes the linear output z (mu = exp(z)).
        out_act = {"identity": "linear", "logistic": "sigmoid", "exp": "linear"}.get(
            self.out_activation_, self.out_activation_)
        layers = []
        for i, units in enumerate(layer_units[1:-1]):
            if self.dropout > 0 and i > 0:
                layers.append(Dropout(self.dropout))
            layers.append(Dense(units, activation=act))
        if self.dropout > 0 and len(layer_units) > 2:
            layers.append(Dropout(self.dropout))
        layers.append(Dense(layer_units[-1], activation=out_act))
        model = Sequential(layers, dtype=np.dtype(dtype).name, seed=0)
        model.compile(optimizer=self._make_optimizer(), loss=loss, l2=float(self.alpha))
        model.build(layer_units[0])
        model.set_weights(weights)
        self.model_ = model
        self.coefs_, self.intercepts_ = weights[0::2], weights[1::2]
        self._best_params = model.get_flat_params()
        if not self._uses_sklearn_lbfgs():
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _push_weights(self) -> None:
        """coefs_/intercepts_ -> the engine: assigning them changes the model."""
        weights = [w for pair in zip(self.coefs_, self.intercepts_) for w in pair]
        self.model_.set_weights(weights)

    def _pull_weights(self) -> None:
        weights = self.model_.get_weights()
        self.coefs_, self.intercepts_ = weights[0::2], weights[1::2]

    def _engine_weights(self, sample_weight, n_rows: int):
        """Sample weights normalised to mean 1, so that the engine's
        J = (1/m) sum s_i l_i is scikit-learn's weighted average
        (docs/design.md, "The scikit-learn estimators")."""
        if sample_weight is None:
            return None
        total = float(np.sum(sample_weight, dtype=np.float64))
        return np.ascontiguousarray(sample_weight * (n_rows / total), dtype=self.model_.dtype)

    def _weight_mask(self) -> np.ndarray:
        """True at the flat indices of the weights W (not the intercepts)."""
        mask = np.zeros(self.model_.count_params(), dtype=bool)
        for s in self.model_.parameter_layout.slices[0::2]:
            mask[s.offset:s.stop] = True
        return mask

    def _sklearn_loss(self, loss: float, l2_part: float) -> float:
        """scikit-learn's value of a loss whose L2 part is `l2_part`: its
        squared loss averages over the outputs (nnc's mse sums them) while
        its gradient, like nnc's, is that of the sum."""
        k = self._loss_outputs()
        return loss if k == 1 else (loss - l2_part) / k + l2_part

    def _set_l2(self, n_rows: int, sample_weight) -> float:
        """Compile the engine's lambda for this fit: alpha n / sum(w) makes
        its lambda/(2m) sum W^2 scikit-learn's alpha/(2 sum w) sum W^2 (the same
        without weights). Compiling again keeps the optimizer's state and
        rate (get/set_training_state)."""
        model = self.model_
        total = n_rows if sample_weight is None else float(np.sum(sample_weight,
                                                                  dtype=np.float64))
        l2 = float(self.alpha) * n_rows / total
        if model.get_compile_config()["l2"] != l2:
            state, rate = model.get_training_state(), model.learning_rate
            model.compile(optimizer=model.optimizer, loss=model.compiled_loss, l2=l2)
            model.set_training_state(state)
            model.learning_rate = rate
        return l2

    def _fit_lbfgs(self, x, Y, sample_weight) -> None:
        """scikit-learn's lbfgs: SciPy's L-BFGS-B with maxiter=max_iter,
        maxfun=max_fun and gtol=tol, on the engine's full-batch J and dJ/dtheta."""
        model = self.model_
        engine, dtype = model.engine, model.dtype
        n = x.shape[0]
        l2 = self._set_l2(n, sample_weight)
        x, y, sw = model.engine_data(x, self._targets(Y), self._engine_weights(sample_weight, n))
        mask = self._weight_mask()

        def loss_and_gradient(theta):
            engine.set_params(np.ascontiguousarray(theta, dtype=dtype))
            try:
                loss, grad = engine.gradients(x, y, sw)
            except _core.NonFiniteError:
                return np.inf, np.zeros_like(theta)
            if self._loss_outputs() > 1 and l2 > 0:
                w = theta[mask]
                loss = self._sklearn_loss(loss, l2 / (2 * n) * float(w @ w))
            else:
                loss = self._sklearn_loss(loss, 0.0)
            return loss, grad.astype(np.float64)

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        # L-BFGS-B's own vector work is small; NumPy's threaded BLAS only
        # adds wake-ups to it (17x on 2 busy cores, docs/design.md).
        with model.training_lock("fit"), threadpool_limits(1, user_api="blas"):
            start = engine.get_params()
            try:
                result = scipy.optimize.minimize(
                    loss_and_gradient, start.astype(np.float64), method="L-BFGS-B", jac=True,
                    options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol,
                             **_get_additional_lbfgs_options_dict("iprint", iprint)})
            except BaseException:
                engine.set_params(start)
                raise
            engine.set_params(np.ascontiguousarray(result.x, dtype=dtype))
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)

    def _fit_stochastic(self, x, Y, sample_weight, rng, incremental: bool) -> None:
        """scikit-learn's _fit_stochastic; each epoch is one engine call of
        the training loop Sequential.fit uses (_training.py)."""
        model = self.model_
        validation = None
        if self.early_stopping:
            # As scikit-learn: stratified only for one output (binary labels).
            stratify = Y if isinstance(self, ClassifierMixin) and self.n_outputs_ == 1 else None
            arrays = (x, Y) if sample_weight is None else (x, Y, sample_weight)
            parts = train_test_split(*arrays, random_state=rng,
                                     test_size=self.validation_fraction, stratify=stratify)
            x, x_val, Y, Y_val = parts[:4]
            sample_weight, sw_val = (parts[4], parts[5]) if sample_weight is not None else \
                (None, None)
            if x_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            validation = (np.ascontiguousarray(x_val), self._score_targets(Y_val), sw_val)
        n = x.shape[0]
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped", stacklevel=4)
            batch = int(np.clip(self.batch_size, 1, n))
        if self.optimizer is not None and model.optimizer.name == "lbfgs":
            batch = None  # an L-BFGS optimizer takes the whole set per step
        l2 = self._set_l2(n, sample_weight)
        xe, ye, sw = model.engine_data(x, self._targets(Y), self._engine_weights(sample_weight, n))
        # The random state drives the split, then the engine's shuffles and masks.
        rules = _IterationRules(self, n, 1 if batch is None else -(-n // batch), l2,
                                validation, incremental, int(rng.randint(0, 2**31 - 1)))
        try:
            TrainingRun(model, xe, ye, sw, epochs=1 if incremental else self.max_iter,
                        batch_size=batch, shuffle=bool(self.shuffle), callbacks=[rules],
                        nonfinite="warn").run()
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        if self.early_stopping:
            model.set_flat_params(self._best_params)  # scikit-learn keeps the best epoch

    def _update_no_improvement_count(self, validation) -> None:
        """scikit-learn's counting: an epoch improves when it beats the best
        so far by more than tol; the best is updated afterwards."""
        if validation is not None:
            score = self._validation_score(*validation)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self.model_.get_flat_params()
        else:
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if loss < self.best_loss_:
                self.best_loss_ = loss

    def _trigger_stopping(self, msg: str) -> bool:
        """scikit-learn's optimizers' rule: stop, or for adaptive SGD divide
        the learning rate by 5 while it is above 1e-6."""
        adaptive = self.solver == "sgd" and self.learning_rate == "adaptive" and \
            self.optimizer is None
        if not adaptive:
            if self.verbose:
                print(msg + " Stopping.")
            return True
        lr = self.model_.learning_rate
        if lr <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.model_.learning_rate = lr / 5.0
        if self.verbose:
            print(msg + f" Setting learning rate to {lr / 5.0:f}")
        return False

    def _validation_score(self, x_val, y_val, sw_val) -> float:
        raw = self.model_.engine.predict(_dense(x_val, self.model_.dtype))
        if not np.isfinite(raw).all():
            return np.nan
        return float(self._score_function(y_val, self._from_raw(raw), sample_weight=sw_val))

    # ------------------------------------------------------------- predicting

    def _forward(self, X) -> np.ndarray:
        """The output layer's activations, in the dtype NumPy gives X times
        the weights (as scikit-learn's own products do)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        self._push_weights()
        out = self.model_.engine.predict(_dense(X, self.model_.dtype))
        return out.astype(np.result_type(X.dtype, out.dtype), copy=False)


class _IterationRules(Callback):
    """scikit-learn's per-iteration bookkeeping as a callback of the shared
    training loop: n_iter_/t_/loss_/loss_curve_, verbose lines, validation
    scores, the stopping rule, the invscaling rate and the max_iter warning."""

    def __init__(self, estimator: _BaseMLP, n_rows: int, n_batches: int, l2: float,
                 validation, incremental: bool, seed: int):
        super().__init__()
        self.estimator, self.n_rows, self.n_batches = estimator, n_rows, n_batches
        self.l2, self.seed = l2, seed
        self.validation, self.incremental = validation, incremental

    def on_train_begin(self, logs=None):
        # Here, with the model's training lock held, so that a refused run
        # changes nothing.
        est = self.estimator
        self.model.engine.set_rng_state((self.seed, 0))
        if est.optimizer is None and not self.incremental:
            self.model.learning_rate = est.learning_rate_init  # scikit-learn's fresh optimizer
        est.n_iter_ = 0

    def _l2_part(self) -> float:
        """The epoch loss's L2 part, sum over batches of lambda/(2n) sum W^2,
        taken at the epoch's final weights (an approximation: each batch's
        weights are not kept)."""
        est = self.estimator
        if self.l2 == 0 or est._loss_outputs() == 1:
            return 0.0
        w = self.model.get_flat_params()[est._weight_mask()].astype(np.float64)
        return self.n_batches * self.l2 / (2 * self.n_rows) * float(w @ w)

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        est.n_iter_ += 1
        est.loss_ = est._sklearn_loss(float(logs["loss"]), self._l2_part())
        est.t_ += self.n_rows
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        est._update_no_improvement_count(self.validation)
        if est.optimizer is None and est.solver == "sgd" and est.learning_rate == "invscaling":
            self.model.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            msg = (f"{what} did not improve more than tol={est.tol:f} for "
                   f"{est.n_iter_no_change} consecutive epochs.")
            if est._trigger_stopping(msg):
                self.model.stop_training = True
                return
            est._no_improvement_count = 0
        if not self.incremental and est.n_iter_ == est.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=2)


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default "relu"
        The hidden layers' activation.
    solver : {"adam", "sgd", "lbfgs"}, default "adam"
        adam and sgd run in nnc's engine (torch.optim's formulas); lbfgs is
        SciPy's L-BFGS-B on the engine's full-batch loss and gradient, as in
        scikit-learn.
    alpha : float, default 1e-4
        L2 coefficient: alpha/(2n) sum W^2 is added to the loss.
    batch_size : int or "auto", default "auto"
        min(200, n_samples) rows per step (adam, sgd).
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        sgd's schedule.
    learning_rate_init : float, default 1e-3
        The initial step size (adam, sgd).
    power_t : float, default 0.5
        The exponent of "invscaling".
    max_iter : int, default 200
        Epochs (adam, sgd) or L-BFGS iterations.
    shuffle : bool, default True
        Reshuffle the rows every epoch.
    random_state : int, RandomState or None
        Initial weights, split and shuffling.
    tol : float, default 1e-4
        The improvement that counts (see n_iter_no_change).
    verbose : bool, default False
        Print the loss per iteration.
    warm_start : bool, default False
        Continue from the previous fit (keeping nnc's optimizer state).
    momentum : float, default 0.9
        sgd's momentum.
    nesterovs_momentum : bool, default True
        Nesterov momentum for sgd.
    early_stopping : bool, default False
        Hold out validation_fraction of the rows and stop when their score
        stops improving.
    validation_fraction : float, default 0.1
        The held-out share for early_stopping.
    beta_1, beta_2, epsilon : float
        Adam's constants (0.9, 0.999, 1e-8).
    n_iter_no_change : int or inf, default 10
        Epochs without an improvement above tol before stopping.
    max_fun : int, default 15000
        lbfgs's bound on loss evaluations.
    dropout : float, default 0.0
        nnc only: the dropout rate on the input of every layer after the
        first hidden one (the inputs themselves are never dropped).
    optimizer : nnc.optimizers.Optimizer, optional
        nnc only: any nnc optimizer instead of the solver's.
    dtype : {None, "float32", "float64"}, default None
        nnc only: None keeps float32 input in float32 (anything else in
        float64); a string forces that dtype.

    Notes
    -----
    Fitted attributes, warnings, errors and iteration rules are
    scikit-learn's (README, "scikit-learn estimators"); where nnc departs on
    purpose (torch.optim's formulas, warm starts keeping optimizer state),
    the README says so.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's, trained by nnc.

    Binary and multilabel targets use logistic outputs with binary
    cross-entropy, multiclass targets a softmax with cross-entropy.
    """

    _score_function = staticmethod(accuracy_score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _output(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "categorical_crossentropy"
        return "logistic", "binary_crossentropy"

    def _loss_outputs(self) -> int:
        return 1  # scikit-learn's log losses sum over the outputs, as nnc's do

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # scikit-learn's table: (re)define classes_, or check them.
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same "
                                     "classes as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(bool)

    def _targets(self, Y) -> np.ndarray:
        return Y.astype(self.model_.dtype)

    def _score_targets(self, Y):
        return self._label_binarizer.inverse_transform(Y)

    def _from_raw(self, raw):
        if self.n_outputs_ == 1:
            raw = raw.ravel()
        return self._label_binarizer.inverse_transform(raw)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One iteration over (X, y); ``classes`` is required on the first call.
        A Dask X is partial_fit on each partition in order."""
        if _dask.is_collection(X):
            return _dask.estimator_partial_fit(self, X, y, sample_weight, classes=classes)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The predicted classes (or label indicator rows for multilabel y);
        a lazy Dask array, computed on the workers, for a Dask X."""
        if _dask.is_collection(X):
            return _dask.estimator_predict(self, X, "predict")
        return self._from_raw(self._forward(X))

    def predict_proba(self, X):
        """Probabilities, one column per entry of ``classes_`` (a Dask array for a Dask X)."""
        if _dask.is_collection(X):
            return _dask.estimator_predict(self, X, "predict_proba")
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """``log(predict_proba(X))`` (a Dask array for a Dask X)."""
        if _dask.is_collection(X):
            return _dask.estimator_predict(self, X, "predict_log_proba")
        y_prob = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(y_prob, out=y_prob)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (scikit-learn's); reduced on the workers for Dask inputs."""
        if _dask.is_collection(X):
            return _dask.estimator_score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's, trained by nnc.

    ``loss="squared_error"`` is ½ of the squared error averaged over samples
    and outputs, ``"poisson"`` half the Poisson deviance of exp(z) summed
    over outputs (the engine's ``poisson`` loss), both plus alpha/(2n) sum W²,
    as in scikit-learn. ``loss`` comes first, as in scikit-learn 1.9.
    """

    _parameter_constraints: dict = {**_BaseMLP._parameter_constraints,
                                    "loss": [StrOptions({"squared_error", "poisson"})]}
    _score_function = staticmethod(r2_score)

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, optimizer=None, dtype=None):
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

    def _output(self):
        return ("exp", "poisson") if self.loss == "poisson" else ("identity", "mse")

    def _loss_outputs(self) -> int:
        # scikit-learn's squared loss averages over the outputs, its Poisson
        # loss sums over them (as nnc's losses do).
        return 1 if self.loss == "poisson" else self.n_outputs_

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y.reshape(len(y), -1)

    def _targets(self, Y) -> np.ndarray:
        return np.ascontiguousarray(Y, dtype=self.model_.dtype)

    def _score_targets(self, Y):
        return Y

    def _from_raw(self, raw):
        if self.out_activation_ == "exp":
            raw = np.exp(raw)
        return raw.ravel() if raw.shape[1] == 1 else raw

    # scikit-learn 1.9's MLPRegressor writes `available_if(lambda est:
    # est._check_solver)` (no call), which leaves partial_fit visible for
    # lbfgs; nnc hides it for lbfgs as the classifier does (docs/design.md).
    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """One iteration over (X, y) from the current weights; a Dask X is
        partial_fit on each partition in order."""
        if _dask.is_collection(X):
            return _dask.estimator_partial_fit(self, X, y, sample_weight)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The predicted values, shape (n,) for one output; a lazy Dask
        array, computed on the workers, for a Dask X."""
        if _dask.is_collection(X):
            return _dask.estimator_predict(self, X, "predict")
        return self._from_raw(self._forward(X))

    def score(self, X, y, sample_weight=None):
        """R^2 (scikit-learn's); reduced on the workers for Dask inputs."""
        if _dask.is_collection(X):
            return _dask.estimator_score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)


# One parameter list for both estimators' documentation.
for _estimator in (MLPClassifier, MLPRegressor):
    _estimator.__doc__ = (_estimator.__doc__ or "") + _PARAMETERS_DOC
