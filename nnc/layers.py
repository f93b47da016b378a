"""Layers of a ``Sequential`` model: ``Input``, ``Dense`` and ``Dropout``.

Layers only describe the network; the weights live in the engine's single
parameter buffer once the model is built.
"""

from __future__ import annotations

from . import initializers
from ._validation import check_float, check_int, name_of
from ._weak import WeakAttribute

_BIAS_INITIALIZERS = ("zeros", "ones", "constant", "uniform", "normal", "fan_in_uniform")


class Layer:
    """Base class of every layer."""

    def __init__(self, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name: expected a string, got {name!r}")
        self.name = name
        self._model = None  # set when the layer joins a built model
        self._index = None  # position among the model's Dense layers

    # Held weakly (see _weak.py); a layer whose model is gone can join another.
    _model = WeakAttribute("_model_ref")

    def get_config(self) -> dict:
        raise NotImplementedError


class Input(Layer):
    """Declares the number of input features, as Keras's ``Input`` does.

    Parameters
    ----------
    shape : int or tuple of one int
        The number of features of a sample.
    name : str, optional
        The layer's name.

    Raises
    ------
    ValueError
        For a shape that is not one positive integer.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Input(20), nnc.Dense(3)], seed=0)
    >>> model.input_dim
    20
    """

    def __init__(self, shape: int | tuple[int], name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(shape, tuple):
            if len(shape) != 1:
                raise ValueError(f"shape: an MLP takes 1-D samples, got shape {shape}")
            shape = shape[0]
        self.dim = check_int(shape, "shape", minimum=1)
        if self.dim >= 2**62:
            raise ValueError(f"shape: {shape} is far beyond any memory")

    def get_config(self) -> dict:
        return {"class": "Input", "dim": self.dim, "name": self.name}

    def __repr__(self) -> str:
        return f"Input({self.dim})"


class Dense(Layer):
    """Fully connected layer: ``z = a_prev @ W + b``, ``a = activation(z)``.

    ``W`` has shape ``(fan_in, units)`` and ``b`` shape ``(units,)``; the
    lecture notes' ``Θ = [b | Wᵀ]`` holds the same numbers (the maths page,
    "Notation and parameter layout").

    Parameters
    ----------
    units : int
        Number of outputs (``fan_out``), at least 1.
    activation : str, optional
        One of linear, sigmoid, tanh, relu, leaky_relu, prelu, elu, selu,
        swish (silu), gelu, softplus, softmax, step; ``None`` means linear.
        ``prelu`` adds one learnable slope per unit (starting at 0.25).
    use_bias : bool, default True
        Whether the layer has ``b``.
    kernel_initializer : str or nnc.initializers.Initializer, default "auto"
        How ``W`` is drawn; ``"auto"`` picks by activation (the table of the
        maths page, "Initializers").
    bias_initializer : str or nnc.initializers.Initializer, default "fan_in_uniform"
        fan_in_uniform (U(±1/√fan_in), torch.nn.Linear's rule), zeros, ones,
        constant, uniform or normal.
    input_dim : int, optional
        The number of input features, on the first layer: the model is then
        built at once.
    input_shape : tuple of one int, optional
        Keras's spelling of ``input_dim``.
    name : str, optional
        The layer's name (default ``dense_<n>``).

    Raises
    ------
    ValueError
        For an unknown activation or initializer, a non-positive size, or
        both ``input_dim`` and ``input_shape``.
    TypeError
        For a ``use_bias`` that is not a bool, or a name that is not a string.

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(4, activation="relu", input_dim=3),
    ...                         nnc.Dense(2, use_bias=False)], seed=0)
    >>> [w.shape for w in model.layers[0].get_weights()]
    [(3, 4), (4,)]
    >>> model.layers[1].count_params()
    8
    """

    def __init__(self, units: int, activation: str | None = None, use_bias: bool = True,
                 kernel_initializer: initializers.Spec = initializers.DEFAULT_KERNEL,
                 bias_initializer: initializers.Spec = initializers.DEFAULT_BIAS,
                 input_dim: int | None = None, input_shape: tuple[int] | None = None,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.units = check_int(units, "units", minimum=1)
        if self.units >= 2**62:
            raise ValueError(f"units: {units} is far beyond any memory")
        self.activation = name_of("activation", "linear" if activation is None else activation,
                                  "activation")
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias: expected True or False, got {use_bias!r}")
        self.use_bias = use_bias
        self.kernel_initializer = initializers.resolve(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.resolve(bias_initializer, "bias_initializer")
        if self.bias_initializer[0] not in _BIAS_INITIALIZERS:
            raise ValueError(
                f"bias_initializer: expected one of {', '.join(_BIAS_INITIALIZERS)}, "
                f"got {bias_initializer!r}")
        if input_shape is not None:
            if input_dim is not None:
                raise ValueError("give input_dim or input_shape, not both")
            input_dim = Input(input_shape).dim
        self.input_dim = check_int(input_dim, "input_dim", minimum=1, allow_none=True)
        if self.input_dim is not None and self.input_dim >= 2**62:
            raise ValueError(f"input_dim: {input_dim} is far beyond any memory")

    def get_config(self) -> dict:
        return {
            "class": "Dense", "units": self.units, "activation": self.activation,
            "use_bias": self.use_bias, "name": self.name,
            "kernel_initializer": list(self.kernel_initializer),
            "bias_initializer": list(self.bias_initializer), "input_dim": self.input_dim,
        }

    def __repr__(self) -> str:
        fan_in = "" if self.input_dim is None else f", input_dim={self.input_dim}"
        bias = "" if self.use_bias else ", use_bias=False"
        return f"Dense({self.units}, activation={self.activation!r}{bias}{fan_in}, " \
               f"name={self.name!r})"

    def get_weights(self) -> list:
        """This layer's [W, b, slopes] (those it has), as copies; [] while
        its model's input size is unknown."""
        model = self._model
        if model is None or model.input_dim is None:
            return []
        return model.parameter_layout.split(model.get_flat_params(), layer=self._index)

    def set_weights(self, weights) -> None:
        """Replace this layer's [W, b, slopes] (same shapes as get_weights)."""
        model = self._model
        if model is None:
            raise RuntimeError("the layer does not belong to a model yet")
        model.set_weights(weights, layer=self._index)

    def count_params(self) -> int:
        return sum(w.size for w in self.get_weights())


class Dropout(Layer):
    """Inverted dropout on the input of the next Dense layer.

    During training each input is zeroed with probability ``rate`` and the
    survivors are scaled by ``1 / (1 - rate)``; at inference (``predict``,
    ``evaluate``, gradient checks) the layer does nothing. The masks come
    from the model's seeded RNG.

    Parameters
    ----------
    rate : float
        The drop probability, in [0, 1).
    name : str, optional
        The layer's name.

    Raises
    ------
    ValueError
        For a rate outside [0, 1).

    Examples
    --------
    >>> model = nnc.Sequential([nnc.Dense(8, activation="relu", input_dim=2),
    ...                         nnc.Dropout(0.5), nnc.Dense(1)], seed=0)
    >>> x = np.ones((3, 2))
    >>> bool((model.predict(x) == model.predict(x)).all())   # no dropout at inference
    True
    """

    def __init__(self, rate: float, name: str | None = None) -> None:
        super().__init__(name)
        self.rate = check_float(rate, "rate", minimum=0.0, maximum=1.0, exclusive_max=True)

    def get_config(self) -> dict:
        return {"class": "Dropout", "rate": self.rate, "name": self.name}

    def __repr__(self) -> str:
        return f"Dropout({self.rate:g}, name={self.name!r})"


def engine_specs(layers) -> list[tuple]:
    """The engine's layer specs (one per Dense layer) for a list of Dense and
    Dropout layers: (units, activation, use_bias, input_dropout, kernel
    initializer, its parameter, bias initializer, its parameter). A Dropout
    becomes the next Dense layer's input dropout; consecutive ones compose."""
    specs, keep = [], 1.0
    for layer in layers:
        if isinstance(layer, Dropout):
            keep *= 1.0 - layer.rate
            continue
        kinit, binit = layer.kernel_initializer, layer.bias_initializer
        specs.append((layer.units, layer.activation, layer.use_bias, 1.0 - keep,
                      kinit[0], kinit[1], binit[0], binit[1]))
        keep = 1.0
    if not specs:
        raise ValueError("layers: the model has no Dense layer")
    if keep != 1.0:
        raise ValueError("layers: a Dropout layer must be followed by a Dense layer")
    return specs


def from_engine_specs(specs) -> list[Layer]:
    """Dense and Dropout layers for the engine's layer specs (the inverse of
    engine_specs, with default names)."""
    layers: list[Layer] = []
    for units, activation, use_bias, dropout, kinit, kparam, binit, bparam in specs:
        if dropout != 0.0:
            layers.append(Dropout(dropout))
        layers.append(Dense(units, activation=activation, use_bias=use_bias,
                            kernel_initializer={"name": kinit, "param": kparam},
                            bias_initializer={"name": binit, "param": bparam}))
    return layers


def from_config(config: dict) -> Layer:
    """Rebuild a layer from its get_config() dict."""
    kind = config.get("class")
    if kind == "Input":
        return Input(config["dim"], name=config.get("name"))
    if kind == "Dropout":
        return Dropout(config["rate"], name=config.get("name"))
    if kind == "Dense":
        kinit, bini = config["kernel_initializer"], config["bias_initializer"]
        return Dense(config["units"], activation=config["activation"],
                     use_bias=config["use_bias"],
                     kernel_initializer={"name": kinit[0], "param": kinit[1]},
                     bias_initializer={"name": bini[0], "param": bini[1]},
                     input_dim=config.get("input_dim"), name=config.get("name"))
    raise ValueError(f"unknown layer class {kind!r}")
