"""Loss names (the engine checks which output activation each loss needs).

The cost of a batch of ``m`` rows with sample weights ``s_i`` is::

    J = (1/m) sum_i s_i l_i + (l2/(2m)) sum W^2      (biases excluded), with
      mse:   l_i = 1/2 sum_k (a_ik - y_ik)^2
      mae:   l_i = sum_k |a_ik - y_ik|
      huber: l_i = sum_k (r^2/2 if |r| <= 1 else |r| - 1/2),  r = a_ik - y_ik
      binary_crossentropy:      -sum_k [y log a + (1-y) log(1-a)]  (sigmoid output)
      categorical_crossentropy: -sum_k y_k log a_k                 (softmax output)
      sparse_categorical_crossentropy: the same with integer labels.
      poisson: l_i = sum_k [y log(y/mu) - y + mu], mu = exp(a)   (linear output;
               half the Poisson deviance, scikit-learn's MLPRegressor loss)

The engine computes every value and gradient (docs/architecture.md, Losses).

Examples
--------
>>> nnc.losses.get("mean_squared_error")
'mse'
>>> nnc.losses.takes_labels("sparse_categorical_crossentropy")
True
"""

from __future__ import annotations

from ._validation import name_of


def get(identifier) -> str:
    """Canonical loss name ("mean_squared_error" -> "mse")."""
    return name_of("loss", identifier, "loss")


def takes_labels(loss: str | None) -> bool:
    """Whether the loss's targets are integer class labels (one per row)
    rather than one value per output."""
    return loss == "sparse_categorical_crossentropy"
