"""Weight initializers (docs/architecture.md, Initializers).

An initializer is given to ``Dense`` as a name (``"he_normal"``) or as one
of the objects below when it takes a parameter.

Defaults (docs/design.md, Default initialisation): kernels ``"auto"``, the
lecture notes' table: tanh -> U(+-sqrt(6/(fan_in+fan_out))), sigmoid ->
U(+-4 sqrt(6/(fan_in+fan_out))), relu/leaky_relu/prelu/elu ->
U(+-sqrt(12/(fan_in+fan_out))), selu -> LeCun normal, others -> Glorot
uniform; biases ``"fan_in_uniform"``, U(+-1/sqrt(fan_in)) with the layer's
fan-in, as ``torch.nn.Linear`` draws them. Measured on small classic
problems this learns at least as well as PyTorch's defaults, where zero
biases (the former default) leave small-scale inputs unlearnt.
"""

from __future__ import annotations

from ._validation import check_float, name_of


class Initializer:
    """Base class: a name understood by the engine plus one parameter."""

    name = "zeros"

    def __init__(self, param: float = 0.0) -> None:
        self.param = param

    def get_config(self) -> dict:
        return {"name": self.name, "param": self.param}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.param!r})"


class Zeros(Initializer):
    """Every value 0 (``"zeros"``)."""

    name = "zeros"


class Ones(Initializer):
    """Every value 1 (``"ones"``)."""

    name = "ones"


class Constant(Initializer):
    """Every value equal to ``value`` (``"constant"``).

    Parameters
    ----------
    value : float, default 0.0
        A finite number.

    Examples
    --------
    >>> layer = nnc.Dense(2, bias_initializer=nnc.initializers.Constant(0.1))
    >>> layer.get_config()["bias_initializer"]
    ['constant', 0.1]
    """

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        super().__init__(check_float(value, "value"))


class RandomUniform(Initializer):
    """Values drawn from U(-limit, limit) (``"uniform"``).

    Parameters
    ----------
    limit : float, default 0.05
        The half-width, >= 0.
    """

    name = "uniform"

    def __init__(self, limit: float = 0.05) -> None:
        super().__init__(check_float(limit, "limit", minimum=0.0))


class RandomNormal(Initializer):
    """Values drawn from N(0, stddev^2) (``"normal"``).

    Parameters
    ----------
    stddev : float, default 0.05
        The standard deviation, >= 0.
    """

    name = "normal"

    def __init__(self, stddev: float = 0.05) -> None:
        super().__init__(check_float(stddev, "stddev", minimum=0.0))


#: What ``Dense`` takes as an initializer: a name, an Initializer or a config dict.
Spec = str | Initializer | dict

#: The default kernel and bias initializers of ``Dense``.
DEFAULT_KERNEL = "auto"
DEFAULT_BIAS = "fan_in_uniform"

#: Parameters used when a parametrised initializer is given by name only.
_DEFAULT_PARAMS = {"uniform": 0.05, "normal": 0.05, "constant": 0.0}


def resolve(spec, argument: str) -> tuple[str, float]:
    """(engine name, parameter) for a name, an Initializer or a config dict."""
    if isinstance(spec, Initializer):
        return spec.name, float(spec.param)
    if isinstance(spec, dict) and "name" in spec:
        name = name_of("initializer", spec["name"], argument)
        return name, check_float(spec.get("param", _DEFAULT_PARAMS.get(name, 0.0)), argument)
    name = name_of("initializer", spec, argument)
    return name, _DEFAULT_PARAMS.get(name, 0.0)
