"""Loss names and the output activation each cross-entropy needs.

J = (1/m) sum_i s_i l_i + (l2/(2m)) sum W^2 (biases excluded), with
  mse:   l_i = 1/2 sum_k (a_ik - y_ik)^2      (notes 000/001/004)
  mae:   l_i = sum_k |a_ik - y_ik|
  huber: l_i = sum_k (r^2/2 if |r| <= 1 else |r| - 1/2)
  binary_crossentropy:      -sum_k [y log a + (1-y) log(1-a)]  (sigmoid output)
  categorical_crossentropy: -sum_k y_k log a_k                 (softmax output)
  sparse_categorical_crossentropy: the same with integer labels.
The engine computes every value and gradient.
"""

from __future__ import annotations

from ._validation import name_of

#: Output activation a cross-entropy needs; other losses take any.
REQUIRED_OUTPUT = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


def get(identifier) -> str:
    """Canonical loss name ("mean_squared_error" -> "mse")."""
    return name_of("loss", identifier, "loss")


def check_pairing(loss: str, output_activation: str) -> None:
    """ValueError if the loss cannot be used with this output layer."""
    needed = REQUIRED_OUTPUT.get(loss)
    if needed and output_activation != needed:
        raise ValueError(
            f"loss: '{loss}' needs a '{needed}' output layer, the model ends with "
            f"'{output_activation}'")
