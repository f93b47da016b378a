"""Learning-rate schedules, evaluated by the engine before every optimizer
step (inside the C epoch) from the optimizer's step counter.

Pass one as an optimizer's ``learning_rate`` (or ``lr``)::

    nnc.optimizers.SGD(learning_rate=ExponentialDecay(0.1, 100, 0.5))

The classes with Keras's names take Keras's arguments and follow its
formulas (keras.optimizers.schedules); ``StepLR``, ``MultiStepLR``,
``OneCycleLR`` and ``LinearLR`` are torch.optim.lr_scheduler's, stepped
once per optimizer step, with the optimizer's learning rate given as
``initial_learning_rate`` (``max_lr`` for OneCycleLR). Step ``k`` (0 for
the first step) uses the rate ``schedule(k)``, which is Keras's
``schedule(optimizer.iterations)`` and torch's rate after ``k`` calls of
``scheduler.step()``. Each class only translates its arguments to the
engine's schedule record (csrc/include/nnc.h, nnc_schedule), which checks
them; the formulas are in docs/design.md, Learning-rate schedules.
"""

from __future__ import annotations

import inspect
import math

from .. import _core


class LearningRateSchedule:
    """Base class: ``kind`` is the engine's schedule name, ``_params`` the
    constructor arguments in the order of the engine's parameters."""

    kind = ""
    _params: tuple[str, ...] = ()

    def __init__(self, **arguments):
        self._arguments = arguments
        _core.schedule_value(self.engine_spec(), 0)  # the engine's checks, now

    def engine_spec(self) -> tuple:
        """(kind, params, points, values) as the engine takes it."""
        params = [self._number(self._arguments[name]) for name in self._params]
        return (self.kind, params, self._points(), self._values())

    def _points(self) -> list:
        return []

    def _values(self) -> list:
        return []

    @staticmethod
    def _number(value):
        return float(value) if isinstance(value, bool) else value

    def __call__(self, step: int) -> float:
        """The learning rate of optimizer step `step` (0-based)."""
        return _core.schedule_value(self.engine_spec(), step)

    def get_config(self) -> dict:
        return dict(self._arguments)

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.engine_spec() == other.engine_spec()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._arguments.items())
        return f"{type(self).__name__}({args})"


def _arguments(frame_locals: dict, cls) -> dict:
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    return {name: frame_locals[name] for name in names}


class ExponentialDecay(LearningRateSchedule):
    """Keras: initial * decay_rate ** (step / decay_steps) (floored when
    staircase)."""

    kind = "exponential_decay"
    _params = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        super().__init__(**_arguments(locals(), ExponentialDecay))


class InverseTimeDecay(LearningRateSchedule):
    """Keras: initial / (1 + decay_rate * step / decay_steps) (the quotient
    floored when staircase)."""

    kind = "inverse_time_decay"
    _params = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        super().__init__(**_arguments(locals(), InverseTimeDecay))


class PiecewiseConstantDecay(LearningRateSchedule):
    """Keras: values[0] while step <= boundaries[0], values[i] while
    boundaries[i-1] < step <= boundaries[i], values[-1] after."""

    kind = "piecewise_constant_decay"

    def __init__(self, boundaries, values):
        super().__init__(boundaries=list(boundaries), values=list(values))

    def _points(self) -> list:
        return list(self._arguments["boundaries"])

    def _values(self) -> list:
        return list(self._arguments["values"])


class PolynomialDecay(LearningRateSchedule):
    """Keras: (initial - end) * (1 - step / decay_steps) ** power + end, with
    step capped at decay_steps, or decay_steps stretched to the next multiple
    of it when cycle."""

    kind = "polynomial_decay"
    _params = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle")

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False):
        super().__init__(**_arguments(locals(), PolynomialDecay))


class CosineDecay(LearningRateSchedule):
    """Keras: a linear warmup from initial to warmup_target over
    warmup_steps (when warmup_target is given), then
    from * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)."""

    kind = "cosine_decay"

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0):
        super().__init__(**_arguments(locals(), CosineDecay))

    def engine_spec(self) -> tuple:
        a = self._arguments
        warm = a["warmup_target"] is not None
        params = [a["initial_learning_rate"], a["decay_steps"], a["alpha"],
                  a["warmup_target"] if warm else 0.0, a["warmup_steps"] if warm else 0.0,
                  1.0 if warm else 0.0]
        return (self.kind, params, [], [])


class CosineDecayRestarts(LearningRateSchedule):
    """Keras (SGDR): cosine decays over first_decay_steps, then periods
    t_mul times longer, each restart's peak m_mul times lower."""

    kind = "cosine_decay_restarts"
    _params = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha")

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0):
        super().__init__(**_arguments(locals(), CosineDecayRestarts))


class StepLR(LearningRateSchedule):
    """torch StepLR: initial * gamma ** (step // step_size)."""

    kind = "step_lr"
    _params = ("initial_learning_rate", "step_size", "gamma")

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float = 0.1):
        super().__init__(**_arguments(locals(), StepLR))


class MultiStepLR(LearningRateSchedule):
    """torch MultiStepLR: initial * gamma ** (milestones passed), a
    milestone m being passed from step m on (strictly increasing
    milestones)."""

    kind = "multi_step_lr"
    _params = ("initial_learning_rate", "gamma")

    def __init__(self, initial_learning_rate: float, milestones, gamma: float = 0.1):
        super().__init__(initial_learning_rate=initial_learning_rate,
                         milestones=list(milestones), gamma=gamma)

    def _points(self) -> list:
        return list(self._arguments["milestones"])


class OneCycleLR(LearningRateSchedule):
    """torch OneCycleLR over total_steps optimizer steps (the learning rate
    only: torch's cycle_momentum is not applied). Past total_steps, where
    torch raises, the rate stays at the last step's."""

    kind = "one_cycle_lr"
    _params = ("max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor",
               "final_div_factor", "three_phase")

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False):
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy: expected 'cos' or 'linear', got {anneal_strategy!r}")
        super().__init__(**_arguments(locals(), OneCycleLR))

    def engine_spec(self) -> tuple:
        a = dict(self._arguments)
        a["anneal_strategy"] = 1.0 if a["anneal_strategy"] == "cos" else 0.0
        return (self.kind, [self._number(a[name]) for name in self._params], [], [])


class LinearLR(LearningRateSchedule):
    """torch LinearLR (warmup): initial * (start_factor + (end_factor -
    start_factor) * min(step, total_iters) / total_iters)."""

    kind = "linear_lr"
    _params = ("initial_learning_rate", "start_factor", "end_factor", "total_iters")

    def __init__(self, initial_learning_rate: float, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5):
        super().__init__(**_arguments(locals(), LinearLR))


_CLASSES = (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
            CosineDecay, CosineDecayRestarts, StepLR, MultiStepLR, OneCycleLR, LinearLR)
_BY_KIND = {cls.kind: cls for cls in _CLASSES}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras's form: {"class_name": ..., "config": {...}} (JSON-ready)."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    """The schedule of ``serialize``'s dict (ValueError for an unknown class)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _BY_CLASS_NAME or not isinstance(config.get("config"), dict):
        raise ValueError(f"learning_rate: unknown schedule config {config!r}")
    return _BY_CLASS_NAME[name].from_config(config["config"])


def from_engine(spec) -> LearningRateSchedule:
    """The schedule of an engine record (kind, params, points, values)."""
    kind, params, points, values = spec
    cls = _BY_KIND[kind]
    if cls is PiecewiseConstantDecay:
        return cls(list(points), list(values))
    if cls is MultiStepLR:
        return cls(params[0], [int(p) for p in points], params[1])
    if cls is CosineDecay:
        warm = params[5] != 0.0
        return cls(params[0], _int(params[1]), params[2],
                   params[3] if warm else None, _int(params[4]))
    if cls is OneCycleLR:
        return cls(params[0], _int(params[1]), params[2],
                   "cos" if params[3] else "linear", params[4], params[5], bool(params[6]))
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    arguments = {}
    for name, value in zip(cls._params, params):
        default = inspect.signature(cls.__init__).parameters[name].default
        arguments[name] = (bool(value) if isinstance(default, bool) else
                           _int(value) if name in ("decay_steps", "first_decay_steps",
                                                    "step_size", "total_iters", "total_steps")
                           else value)
    return cls(**{name: arguments[name] for name in names})


def _int(value: float):
    return int(value) if math.isfinite(value) and value == int(value) else value
