"""Optimizers with torch.optim's update formulas, names and defaults.

The update itself runs in the engine (one fused pass over the flat
parameter buffer); these classes hold hyper-parameters under torch's
argument names, and accept Keras's spellings of the same settings as
aliases (``learning_rate`` for ``lr``, ``beta_1``/``beta_2`` for ``betas``,
``epsilon`` for ``eps``, ``rho`` for ``alpha``; giving both spellings is a
TypeError). The formulas stay torch's whichever name is used. The engine
knows every hyper-parameter as a field of one table (csrc/engine/optim/
nnc_optim_fields.h) and checks their ranges: each class here only declares
its signature and translates spellings (``betas``, ``max_eval=None``,
``line_search_fn``, clipping's ``None``, a schedule as ``learning_rate``)
to the engine's fields and back. The formulas are in docs/architecture.md,
Optimizers; clipping and schedules in docs/design.md.
"""

from __future__ import annotations

import functools
import inspect

from .. import _core
from .._docs import with_sections
from . import schedules
from .schedules import LearningRateSchedule

#: Keras's (and torch's other) spellings -> the canonical argument.
_ALIASES = {"lr": "learning_rate", "epsilon": "eps", "rho": "alpha"}
_CLIPS = ("clipnorm", "global_clipnorm", "clipvalue")


def _accepts_aliases(init):
    """Let `init` take the aliases of _ALIASES (and Keras's beta_1, beta_2
    for betas), refusing an alias given together with its canonical name."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def init_with_aliases(self, *args, **kwargs):
        given = set(signature.bind_partial(self, *args).arguments) | set(kwargs)
        for alias, canonical in _ALIASES.items():
            if alias in kwargs and canonical in signature.parameters:
                if canonical in given:
                    raise TypeError(f"{type(self).__name__}: got both {canonical!r} and its "
                                    f"alias {alias!r}; give one")
                kwargs[canonical] = kwargs.pop(alias)
        keras_betas = [name for name in ("beta_1", "beta_2") if name in kwargs]
        if keras_betas and "betas" in signature.parameters:
            if "betas" in given:
                raise TypeError(f"{type(self).__name__}: got both 'betas' and "
                                f"{' and '.join(map(repr, keras_betas))}; give one spelling")
            default = signature.parameters["betas"].default
            kwargs["betas"] = (kwargs.pop("beta_1", default[0]), kwargs.pop("beta_2", default[1]))
        return init(self, *args, **kwargs)

    return init_with_aliases


class Optimizer:
    """Base class. ``name`` is the engine's optimizer name; the constructor
    arguments are the engine's fields unless a subclass translates them."""

    name = ""

    def __init__(self, **options):
        # The engine checks the settings (TypeError/ValueError naming the
        # field), so a bad one fails here and not at compile, and hands them
        # back typed as it holds them (floats, ints, bools).
        self._options = self._checked(options)
        self._engine = None  # the engine model compiled with this optimizer

    @property
    def learning_rate(self):
        """The rate the next step uses (a schedule's value at the step
        counter once compiled into a built model); before that the
        constructor's rate or schedule."""
        if self._engine is not None:
            return self._engine.get_learning_rate()
        return self._options["learning_rate"]

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        # Keras refuses to set the rate of an optimizer built on a schedule.
        if isinstance(self._options["learning_rate"], LearningRateSchedule):
            raise TypeError(f"learning_rate: this {type(self).__name__} follows the schedule "
                            f"{self._options['learning_rate']!r}; its rate cannot be set")
        if isinstance(value, LearningRateSchedule):
            raise TypeError("learning_rate: a schedule is given to the optimizer's constructor, "
                            "then compiled; it cannot replace a constant rate")
        options = self._checked({**self._options, "learning_rate": value})
        if self._engine is not None:
            self._engine.set_learning_rate(options["learning_rate"])
        self._options = options

    @property
    def schedule(self) -> LearningRateSchedule | None:
        """The learning-rate schedule, or None for a constant rate."""
        rate = self._options["learning_rate"]
        return rate if isinstance(rate, LearningRateSchedule) else None

    def _attach(self, engine) -> None:
        """Called by the model once `engine` is compiled with this optimizer:
        learning_rate then reads and sets that engine's rate."""
        self._engine = engine

    def __getstate__(self) -> dict:
        # A copy or a pickle is the settings (with the current rate), not
        # bound to the engine this one drives.
        state = dict(self.__dict__)
        if self._engine is not None and self.schedule is None:
            state["_options"] = {**self._options,
                                 "learning_rate": self._engine.get_learning_rate()}
        state["_engine"] = None
        return state

    def get_config(self) -> dict:
        """Hyper-parameters, as passed to the constructor (the current
        learning rate; a schedule as Keras serializes it)."""
        config = {"name": self.name, **self._options}
        if self.schedule is not None:
            config["learning_rate"] = schedules.serialize(self.schedule)
        elif self._engine is not None:
            config["learning_rate"] = self._engine.get_learning_rate()
        return config

    def engine_options(self) -> dict:
        """The hyper-parameters as the engine's fields."""
        return self._engine_fields(self._options)

    @classmethod
    def _engine_fields(cls, options: dict) -> dict:
        fields = cls.to_engine(options)
        for name in _CLIPS:
            if name in fields and fields[name] is None:
                fields[name] = 0.0  # the engine's "off"
        rate = fields.get("learning_rate")
        if isinstance(rate, LearningRateSchedule):
            fields["learning_rate"], fields["schedule"] = None, rate.engine_spec()
        return fields

    @classmethod
    def _from_engine_fields(cls, fields: dict) -> dict:
        options = cls.from_engine_fields(fields)
        for name in _CLIPS:
            if options.get(name) == 0.0:
                options[name] = None  # Keras's "off"
        if "schedule" in options:
            options["learning_rate"] = schedules.from_engine(options.pop("schedule"))
        return options

    @classmethod
    def to_engine(cls, options: dict) -> dict:
        """Constructor arguments -> engine fields (the identity unless a
        subclass spells a field differently)."""
        return dict(options)

    @classmethod
    def from_engine_fields(cls, fields: dict) -> dict:
        """Engine fields -> constructor arguments (the inverse of to_engine)."""
        return dict(fields)

    @classmethod
    def from_engine(cls, fields: dict) -> Optimizer:
        """The optimizer whose engine fields are `fields` (what
        ``engine_options`` returned, or a model file's compile record)."""
        return cls(**cls._arguments(cls._from_engine_fields(fields)))

    @classmethod
    def _arguments(cls, options: dict) -> dict:
        """`options` restricted to the constructor's arguments, in its order."""
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        return {name: options[name] for name in names if name in options}

    def _checked(self, options: dict) -> dict:
        fields = _core.check_optimizer(self.name, self._engine_fields(options))
        checked = self._arguments(self._from_engine_fields(fields))
        if isinstance(options.get("learning_rate"), LearningRateSchedule):
            checked["learning_rate"] = options["learning_rate"]  # the caller's object
        return checked

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"{type(self).__name__}({args})"


#: The docstring sections every first-order optimizer shares.
_SECTIONS = {
    "learning_rate": """
learning_rate : float or nnc.optimizers.schedules.LearningRateSchedule
    Also spelled ``lr`` (torch); a schedule is evaluated per step in C.
""",
    "clipping": """
clipnorm, global_clipnorm, clipvalue : float, optional
    Gradient clipping in the C step, at most one: each tensor to this
    L2 norm (Keras), all of them together (torch's
    ``clip_grad_norm_``), or each element to [-v, v]
    (``clip_grad_value_``).
""",
}


@with_sections(**_SECTIONS)
class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's formulas and defaults.

    ``g += wd*p; buf = momentum*buf + (1-dampening)*g`` (``buf = g`` on the
    first step); ``g = g + momentum*buf`` if nesterov else ``buf``;
    ``p -= lr*g``.

    Parameters
    ----------
    {{learning_rate}}
    momentum, dampening, weight_decay : float, default 0
        As torch's (``weight_decay`` is the coupled L2 form).
    nesterov : bool, default False
        Nesterov momentum.
    {{clipping}}

    Examples
    --------
    >>> opt = nnc.optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True)
    >>> opt.learning_rate, opt.get_config()["momentum"]
    (0.1, 0.9)
    """

    name = "sgd"

    @_accepts_aliases
    def __init__(self, learning_rate: float | LearningRateSchedule = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 clipnorm: float | None = None, global_clipnorm: float | None = None,
                 clipvalue: float | None = None):
        super().__init__(learning_rate=learning_rate, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, clipnorm=clipnorm,
                         global_clipnorm=global_clipnorm, clipvalue=clipvalue)


@with_sections(**_SECTIONS)
class Adagrad(Optimizer):
    """Adagrad, torch.optim.Adagrad's formulas and defaults.

    ``clr = lr/(1+(t-1)*lr_decay); sum += g^2; p -= clr*g/(sqrt(sum)+eps)``.

    Parameters
    ----------
    {{learning_rate}}
    lr_decay, weight_decay, initial_accumulator_value : float, default 0
        As torch's.
    eps : float, default 1e-10
        Also spelled ``epsilon`` (Keras).
    {{clipping}}

    Examples
    --------
    >>> nnc.optimizers.Adagrad(learning_rate=0.05).get_config()["eps"]
    1e-10
    """

    name = "adagrad"

    @_accepts_aliases
    def __init__(self, learning_rate: float | LearningRateSchedule = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, clipnorm: float | None = None,
                 global_clipnorm: float | None = None, clipvalue: float | None = None):
        super().__init__(learning_rate=learning_rate, lr_decay=lr_decay,
                         weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps,
                         clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue)


@with_sections(**_SECTIONS)
class RMSprop(Optimizer):
    """RMSprop, torch.optim.RMSprop's formulas and defaults.

    ``v = alpha*v + (1-alpha)*g^2``; centered subtracts the squared running
    mean of g; ``p -= lr*g/(sqrt(v)+eps)`` (through a momentum buffer when
    momentum > 0).

    Parameters
    ----------
    {{learning_rate}}
    alpha : float, default 0.99
        Also spelled ``rho`` (Keras's name; torch's default).
    eps : float, default 1e-8
        Also spelled ``epsilon``.
    weight_decay, momentum : float, default 0
        As torch's.
    centered : bool, default False
        Normalise by the variance instead of the second moment.
    {{clipping}}

    Examples
    --------
    >>> nnc.optimizers.RMSprop(rho=0.9).get_config()["alpha"]
    0.9
    """

    name = "rmsprop"

    @_accepts_aliases
    def __init__(self, learning_rate: float | LearningRateSchedule = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, clipnorm: float | None = None,
                 global_clipnorm: float | None = None, clipvalue: float | None = None):
        super().__init__(learning_rate=learning_rate, alpha=alpha, eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered,
                         clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue)


@with_sections(**_SECTIONS)
class Adam(Optimizer):
    """Adam, torch.optim.Adam's formulas and defaults.

    m, v are moving averages of g and g^2 with bias correction;
    ``p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)``.

    Parameters
    ----------
    {{learning_rate}}
    betas : pair of float, default (0.9, 0.999)
        Also given as ``beta_1``, ``beta_2`` (Keras).
    eps : float, default 1e-8
        Also spelled ``epsilon``.
    weight_decay : float, default 0
        Coupled L2 (torch's Adam; see AdamW for the decoupled form).
    amsgrad : bool, default False
        Keep the running maximum of v.
    {{clipping}}

    Raises
    ------
    TypeError
        When one setting is given in two spellings (``lr`` and
        ``learning_rate``).

    Examples
    --------
    >>> opt = nnc.optimizers.Adam(learning_rate=1e-3, beta_1=0.8)
    >>> opt.get_config()["betas"]
    (0.8, 0.999)
    """

    name = "adam"

    @_accepts_aliases
    def __init__(self, learning_rate: float | LearningRateSchedule = 1e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 clipnorm: float | None = None, global_clipnorm: float | None = None,
                 clipvalue: float | None = None):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        super().__init__(learning_rate=learning_rate, betas=tuple(betas), eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad, clipnorm=clipnorm,
                         global_clipnorm=global_clipnorm, clipvalue=clipvalue)

    @classmethod
    def to_engine(cls, options: dict) -> dict:
        fields = dict(options)
        fields["beta1"], fields["beta2"] = fields.pop("betas")
        return fields

    @classmethod
    def from_engine_fields(cls, fields: dict) -> dict:
        return {**fields, "betas": (fields["beta1"], fields["beta2"])}


class AdamW(Adam):
    """AdamW, torch.optim.AdamW: Adam with decoupled weight decay,
    ``p *= 1 - lr*weight_decay`` before the Adam step.

    Parameters are Adam's, with ``weight_decay`` defaulting to 1e-2.

    Examples
    --------
    >>> nnc.optimizers.AdamW().get_config()["weight_decay"]
    0.01
    """

    name = "adamw"

    @_accepts_aliases
    def __init__(self, learning_rate: float | LearningRateSchedule = 1e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 clipnorm: float | None = None, global_clipnorm: float | None = None,
                 clipvalue: float | None = None):
        super().__init__(learning_rate, betas, eps, weight_decay, amsgrad, clipnorm=clipnorm,
                         global_clipnorm=global_clipnorm, clipvalue=clipvalue)


class LBFGS(Optimizer):
    """L-BFGS over the full batch, torch.optim.LBFGS's algorithm
    (docs/architecture.md, Optimizers): each epoch is one torch
    ``step(closure)`` of up to ``max_iter`` iterations.

    Parameters
    ----------
    learning_rate : float, default 1.0
        The step length of the first trial (``lr``).
    max_iter : int, default 20
        Iterations per step (epoch).
    max_eval : int, optional
        Loss evaluations per step; torch's default ``max_iter * 5 // 4``.
    tolerance_grad, tolerance_change : float
        torch's stopping tolerances (1e-7, 1e-9).
    history_size : int, default 100
        Curvature pairs kept (checked against the memory the process may
        use).
    line_search_fn : {None, "strong_wolfe"}
        torch's strong-Wolfe line search, or fixed steps.

    Examples
    --------
    >>> nnc.optimizers.LBFGS(max_iter=50, line_search_fn="strong_wolfe").get_config()["max_iter"]
    50
    """

    name = "lbfgs"

    @_accepts_aliases
    def __init__(self, learning_rate: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        # torch's spellings: the engine's max_eval 0 means "max_iter * 5 / 4".
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"line_search_fn: expected None or 'strong_wolfe', got {line_search_fn!r}")
        if max_eval is not None and (isinstance(max_eval, bool) or not isinstance(max_eval, int)
                                     or max_eval < 1):
            raise ValueError(f"max_eval: expected None or an integer >= 1, got {max_eval!r}")
        super().__init__(learning_rate=learning_rate, max_iter=max_iter, max_eval=max_eval,
                         tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                         history_size=history_size, line_search_fn=line_search_fn)

    @classmethod
    def to_engine(cls, options: dict) -> dict:
        fields = dict(options)
        fields["line_search_strong_wolfe"] = fields.pop("line_search_fn") == "strong_wolfe"
        fields["max_eval"] = fields["max_eval"] or 0
        return fields

    @classmethod
    def from_engine_fields(cls, fields: dict) -> dict:
        return {**fields, "max_eval": fields["max_eval"] if fields["max_eval"] > 0 else None,
                "line_search_fn": "strong_wolfe" if fields["line_search_strong_wolfe"] else None}


_BY_NAME = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS)}


def from_engine(name: str, fields: dict) -> Optimizer:
    """The optimizer called `name` with the engine fields `fields` (ValueError
    for an unknown name)."""
    if name not in _BY_NAME:
        raise ValueError(f"optimizer: unknown optimizer {name!r}")
    return _BY_NAME[name].from_engine(fields)


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
        rate = config.get("learning_rate", config.get("lr"))
        if isinstance(rate, dict):  # a schedule as get_config serializes it
            config["learning_rate" if "learning_rate" in config else "lr"] = (
                schedules.deserialize(rate))
        try:
            return _BY_NAME[name](**config)
        except TypeError as exc:  # an option this optimizer does not take, or a bad type
            raise TypeError(f"optimizer: bad {name} config ({exc})") from None
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"optimizer: expected one of {', '.join(_BY_NAME)} or an nnc.optimizers instance, "
        f"got {identifier!r}")
