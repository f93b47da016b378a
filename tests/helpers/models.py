"""Small nnc models and data for the numeric tests: every activation with
every loss it pairs with, nets of a given depth, inputs and targets suited
to the loss."""

from __future__ import annotations

import nnc

ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu",
               "swish", "gelu", "softplus", "softmax"]
REGRESSION_LOSSES = ["mse", "mae", "huber"]
#: (output activation, loss) for the cross-entropies.
CROSS_ENTROPY = [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"),
                 ("softmax", "sparse_categorical_crossentropy")]


def pairs():
    """Every activation (except step) with every loss it can pair with."""
    out = [(act, loss) for act in ACTIVATIONS for loss in REGRESSION_LOSSES]
    return out + CROSS_ENTROPY


def build_model(input_dim, widths, activations, dtype="float64", seed=0, use_bias=True,
                loss="mse", l2=0.0, optimizer="sgd"):
    """A compiled Sequential of Dense layers with the given widths/activations."""
    if isinstance(use_bias, bool):
        use_bias = [use_bias] * len(widths)
    layers = [nnc.Dense(w, activation=a, use_bias=b) for w, a, b in
              zip(widths, activations, use_bias)]
    model = nnc.Sequential([nnc.Input(input_dim), *layers], dtype=dtype, seed=seed)
    model.compile(optimizer=optimizer, loss=loss, l2=l2)
    return model


def make_data(rng, m, input_dim, output_dim, loss, dtype="float64"):
    """Inputs ~ N(0, 1) and targets suited to the loss."""
    x = rng.normal(size=(m, input_dim)).astype(dtype)
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, output_dim, size=m)
    if loss == "categorical_crossentropy":
        return x, nnc.datasets.one_hot(rng.integers(0, output_dim, size=m), output_dim,
                                       dtype=dtype)
    if loss == "binary_crossentropy":
        return x, rng.uniform(size=(m, output_dim)).astype(dtype)  # soft labels too
    return x, rng.normal(size=(m, output_dim)).astype(dtype)


def net_spec(act, loss, depth, width=4, n_out=3):
    """Widths and activations of a depth-`depth` net testing `act` with `loss`:
    every hidden layer uses `act`; the output too unless the loss fixes it."""
    out_act = {"binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax",
               "sparse_categorical_crossentropy": "softmax"}.get(loss, act)
    widths = [width] * (depth - 1) + [n_out]
    acts = [act] * (depth - 1) + [out_act]
    return widths, acts


def dense_layers(model) -> list:
    """The model's Dense layers, in order."""
    return [layer for layer in model.layers if isinstance(layer, nnc.Dense)]
