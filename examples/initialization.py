"""Activations of 5-layer sigmoid and tanh networks under different weight
initializations (lecture note 000, figures 6.15-6.17), and the symmetry problem of
zero initialization.

    python examples/initialization.py --out figures/     # PNGs + tables
    python examples/initialization.py --quick            # smaller batch

For each activation (sigmoid, tanh) and each initializer (zeros, N(0,1),
N(0,0.01), Xavier normal, the notes' "auto" table) a batch of N(0,1) inputs
goes through five Dense(100) layers; the script prints every layer's
activation std (and the fraction of saturated outputs) and saves one
histogram figure per case. Then it trains a zero-initialised network and
shows that all units of a hidden layer stay identical.
"""

from __future__ import annotations

import numpy as np
from _study_cli import save_png, study_arguments

import nnc

INITIALIZERS = {
    "zeros": "zeros",
    "N(0,1)": nnc.initializers.RandomNormal(1.0),
    "N(0,0.01)": nnc.initializers.RandomNormal(0.01),
    "xavier": "glorot_normal",
    "auto": "auto",
}
FILE_NAMES = {"zeros": "zeros", "N(0,1)": "normal1", "N(0,0.01)": "normal001",
              "xavier": "xavier", "auto": "auto"}


def five_layer_net(activation, init, dtype, width=100, seed=0):
    # Zero biases, as in the notes' study (nnc's default bias is fan_in_uniform).
    layers = [nnc.Dense(width, activation=activation, kernel_initializer=init,
                        bias_initializer="zeros") for _ in range(5)]
    return nnc.Sequential([nnc.Input(width), *layers], dtype=dtype, seed=seed)


def activation_study(out, n_samples, dtype):
    """Per (activation, initializer): each layer's stats; saves histograms."""
    x = np.random.default_rng(0).normal(size=(n_samples, 100))
    results = {}
    for activation in ("sigmoid", "tanh"):
        for label, init in INITIALIZERS.items():
            model = five_layer_net(activation, init, dtype)
            stats = model.activation_stats(x)
            results[(activation, label)] = stats
            fig = nnc.plot.activation_histograms(
                model, x, title=f"{activation} activations after {label} initialization")
            save_png(fig, out, f"init_{activation}_{FILE_NAMES[label]}.png")
    return results


def print_table(results):
    print("Per-layer activation std (fraction saturated) on N(0,1) inputs, "
          "5 x Dense(100):")
    header = f"{'activation':<12}{'init':<11}" + "".join(f"{'layer ' + str(i + 1):>16}"
                                                        for i in range(5))
    print(header)
    print("-" * len(header))
    for (activation, label), stats in results.items():
        cells = "".join(f"{s['std']:>8.4f} ({s['saturated']:.2f})" for s in stats)
        print(f"{activation:<12}{label:<11}{cells}")


def unit_spread(model, x):
    """Per hidden layer: max over samples of (max - min) over its units."""
    return [float(np.max(np.ptp(layer.a.astype(np.float64), axis=1)))
            for layer in model.trace(x)[:-1]]


def symmetry_study(dtype, epochs):
    """Train the same 2-8-8-1 sigmoid net from zeros and from Xavier."""
    x, y = nnc.datasets.make_moons(n_samples=200, noise=0.1, seed=0)
    y = y.reshape(-1, 1).astype(np.float64)
    out = {}
    for label, init in (("zeros", "zeros"), ("xavier", "glorot_normal")):
        model = nnc.Sequential([
            nnc.Dense(8, activation="sigmoid", input_dim=2, kernel_initializer=init,
                      bias_initializer="zeros"),
            nnc.Dense(8, activation="sigmoid", kernel_initializer=init, bias_initializer="zeros"),
            nnc.Dense(1, activation="sigmoid", kernel_initializer=init, bias_initializer="zeros"),
        ], dtype=dtype, seed=0)
        model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.05),
                      loss="binary_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
        weights = model.get_weights()
        out[label] = {
            "unit_spread": unit_spread(model, x),
            # columns of W = incoming weights of each unit
            "weight_spread": [float(np.max(np.ptp(w, axis=1))) for w in weights[0:4:2]],
            "first_layer_weight_norm": float(np.linalg.norm(weights[0])),
            "accuracy": hist.history["accuracy"][-1],
            "model": model,
        }
    print(f"\nSymmetry after {epochs} epochs on make_moons (2-8-8-1 sigmoid, Adam):")
    for label, r in out.items():
        spreads = ", ".join(f"{s:.2e}" for s in r["unit_spread"])
        print(f"  {label:<7} max spread between units of hidden layers: [{spreads}]  "
              f"|W1| = {r['first_layer_weight_norm']:.3f}  accuracy = {r['accuracy']:.3f}")
    print("  zeros: every unit of a layer computes the same function, so the layer acts "
          "like a single unit.")
    return out


def main(argv=None) -> dict:
    args = study_arguments(argv, __doc__, "smaller batch, fewer epochs")
    results = activation_study(args.out, 300 if args.quick else 1000, args.dtype)
    print_table(results)
    symmetry = symmetry_study(args.dtype, 30 if args.quick else 100)
    return {"activations": results, "symmetry": symmetry}


if __name__ == "__main__":
    main()
