"""Logic gates as single sigmoid units (lecture note 000) and XOR built from them.

    python examples/logic_gates.py --out figures/

Note 000 sets the weights by hand: AND is sigmoid(20 x1 + 20 x2 - 30), OR is
sigmoid(20 x1 + 20 x2 - 10). XOR is not linearly separable, so no single
unit computes it, but two layers of these units do:
XOR(x1, x2) = AND(OR(x1, x2), NAND(x1, x2)), where NAND is the AND unit
with every weight negated. The script builds each as an nnc model with
set_weights, prints the truth tables (and each layer's activations from
model.trace) and saves decision-boundary plots.
"""

from __future__ import annotations

import numpy as np
from _study_cli import save_png, study_arguments

import nnc

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
AND = (np.array([[20.0], [20.0]]), np.array([-30.0]))   # W (fan_in, 1), b
OR = (np.array([[20.0], [20.0]]), np.array([-10.0]))
NAND = (-AND[0], -AND[1])
TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


def unit(weights, dtype):
    model = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)], dtype=dtype)
    model.set_weights(list(weights))
    return model


def xor_net(dtype):
    """Hidden layer: the OR and NAND units side by side; output: AND."""
    model = nnc.Sequential([nnc.Dense(2, activation="sigmoid", input_dim=2),
                            nnc.Dense(1, activation="sigmoid")], dtype=dtype)
    w_hidden = np.hstack([OR[0], NAND[0]])
    b_hidden = np.concatenate([OR[1], NAND[1]])
    model.set_weights([w_hidden, b_hidden, *AND])
    return model


def main(argv=None) -> dict:
    args = study_arguments(argv, __doc__, "(no effect: already instant)")
    import matplotlib.pyplot as plt

    models = {"AND": unit(AND, args.dtype), "OR": unit(OR, args.dtype),
              "NAND": unit(NAND, args.dtype), "XOR": xor_net(args.dtype)}
    outputs = {}
    print(f"{'x1':>3}{'x2':>4}" + "".join(f"{name:>11}" for name in models))
    for name, model in models.items():
        outputs[name] = model.predict(INPUTS)[:, 0].astype(np.float64)
    for i, (x1, x2) in enumerate(INPUTS):
        print(f"{int(x1):>3}{int(x2):>4}" + "".join(f"{outputs[n][i]:>11.5f}" for n in models))

    hidden = models["XOR"].trace(INPUTS)[0]
    print("\nXOR network, hidden layer (columns: OR unit, NAND unit) and output:")
    for i, (x1, x2) in enumerate(INPUTS):
        print(f"  x = ({int(x1)}, {int(x2)})  z = {np.round(hidden.z[i], 1)}  "
              f"a = {np.round(hidden.a[i], 4)}  XOR = {outputs['XOR'][i]:.4f}")

    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 4))
    for ax, (name, model) in zip(axes, models.items()):
        nnc.plot.decision_boundary(model, INPUTS, TRUTH[name], resolution=120, ax=ax)
        ax.set_title(name)
    fig.tight_layout()
    save_png(fig, args.out, "logic_gates.png")
    return {"outputs": outputs, "hidden": hidden}


if __name__ == "__main__":
    main()
