"""Optimizers with torch.optim's update formulas, names and defaults.

The update itself runs in the engine (one fused pass over the flat
parameter buffer); these classes only hold hyper-parameters. Every class
takes ``learning_rate`` plus torch's other argument names.
"""

from __future__ import annotations

from ._validation import check_float, check_int


class Optimizer:
    """Base class. ``name`` is the engine's optimizer name."""

    name = ""

    def __init__(self, **options):
        self._options = options

    @property
    def learning_rate(self) -> float:
        return self._options["learning_rate"]

    def get_config(self) -> dict:
        """Hyper-parameters, as passed to the constructor."""
        return {"name": self.name, **self._options}

    def engine_options(self) -> dict:
        """Options in the engine's vocabulary (betas split in two)."""
        opts = dict(self._options)
        if "betas" in opts:
            opts["beta1"], opts["beta2"] = opts.pop("betas")
        return opts

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"{type(self).__name__}({args})"


def _lr(value) -> float:
    return check_float(value, "learning_rate", minimum=0.0)


def _betas(betas) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
    b1 = check_float(betas[0], "betas[0]", minimum=0.0, maximum=1.0, exclusive_max=True)
    b2 = check_float(betas[1], "betas[1]", minimum=0.0, maximum=1.0, exclusive_max=True)
    return (b1, b2)


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return value


class SGD(Optimizer):
    """torch.optim.SGD: g += wd*p; buf = momentum*buf + (1-dampening)*g
    (buf = g on the first step); g = g + momentum*buf if nesterov else buf;
    p -= lr*g."""

    name = "sgd"

    def __init__(self, learning_rate: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        momentum = check_float(momentum, "momentum", minimum=0.0)
        dampening = check_float(dampening, "dampening")
        nesterov = _flag(nesterov, "nesterov")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov: needs momentum > 0 and dampening == 0")
        super().__init__(learning_rate=_lr(learning_rate), momentum=momentum,
                         dampening=dampening,
                         weight_decay=check_float(weight_decay, "weight_decay", minimum=0.0),
                         nesterov=nesterov)


class Adagrad(Optimizer):
    """torch.optim.Adagrad: clr = lr/(1+(t-1)*lr_decay); sum += g^2;
    p -= clr*g/(sqrt(sum)+eps)."""

    name = "adagrad"

    def __init__(self, learning_rate: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(
            learning_rate=_lr(learning_rate),
            lr_decay=check_float(lr_decay, "lr_decay", minimum=0.0),
            weight_decay=check_float(weight_decay, "weight_decay", minimum=0.0),
            initial_accumulator_value=check_float(initial_accumulator_value,
                                                  "initial_accumulator_value", minimum=0.0),
            eps=check_float(eps, "eps", minimum=0.0))


class RMSprop(Optimizer):
    """torch.optim.RMSprop: v = alpha*v + (1-alpha)*g^2; centered subtracts
    the squared running mean of g; p -= lr*g/(sqrt(v)+eps) (through a
    momentum buffer when momentum > 0)."""

    name = "rmsprop"

    def __init__(self, learning_rate: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(
            learning_rate=_lr(learning_rate),
            alpha=check_float(alpha, "alpha", minimum=0.0, maximum=1.0, exclusive_max=True),
            eps=check_float(eps, "eps", minimum=0.0),
            weight_decay=check_float(weight_decay, "weight_decay", minimum=0.0),
            momentum=check_float(momentum, "momentum", minimum=0.0),
            centered=_flag(centered, "centered"))


class Adam(Optimizer):
    """torch.optim.Adam: m, v moving averages of g and g^2 with bias
    correction; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)."""

    name = "adam"

    def __init__(self, learning_rate: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(learning_rate=_lr(learning_rate), betas=_betas(betas),
                         eps=check_float(eps, "eps", minimum=0.0),
                         weight_decay=check_float(weight_decay, "weight_decay", minimum=0.0),
                         amsgrad=_flag(amsgrad, "amsgrad"))


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay,
    p *= 1 - lr*weight_decay before the Adam step."""

    name = "adamw"

    def __init__(self, learning_rate: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(learning_rate, betas, eps, weight_decay, amsgrad)


class LBFGS(Optimizer):
    """torch.optim.LBFGS over the full batch (note 002's "advanced
    optimizer"): each epoch is one torch ``step(closure)`` of up to
    ``max_iter`` iterations, optionally with a strong-Wolfe line search."""

    name = "lbfgs"

    def __init__(self, learning_rate: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"line_search_fn: expected None or 'strong_wolfe', got {line_search_fn!r}")
        super().__init__(
            learning_rate=_lr(learning_rate), max_iter=check_int(max_iter, "max_iter", 1),
            max_eval=check_int(max_eval, "max_eval", 1, allow_none=True),
            tolerance_grad=check_float(tolerance_grad, "tolerance_grad", minimum=0.0),
            tolerance_change=check_float(tolerance_change, "tolerance_change", minimum=0.0),
            history_size=check_int(history_size, "history_size", 1),
            line_search_fn=line_search_fn)


_BY_NAME = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS)}


def get(identifier) -> Optimizer:
    """An Optimizer from an instance, a name ("adam") or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        if name not in _BY_NAME:
            raise ValueError(f"optimizer: unknown optimizer config {identifier!r}")
        if "betas" in config:
            config["betas"] = tuple(config["betas"])
        try:
            return _BY_NAME[name](**config)
        except TypeError as exc:  # an option this optimizer does not take
            raise TypeError(f"optimizer: bad {name} config ({exc})") from None
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"optimizer: expected one of {', '.join(_BY_NAME)} or an nnc.optimizers instance, "
        f"got {identifier!r}")
