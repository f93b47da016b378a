"""Vanishing gradients (lecture notes 000 and 004): per-layer gradient norms of a
deep sigmoid network with Xavier initialization versus the same depth with
ReLU and He initialization.

    python examples/vanishing_gradients.py --out figures/
    python examples/vanishing_gradients.py --quick

Backpropagation multiplies the output error by W^T and by g'(z) once per
layer. sigmoid'(z) <= 1/4, so with weights that keep the activations'
scale (Xavier) the error shrinks about fourfold per layer and the first
layers barely learn; relu'(z) is 0 or 1 and He initialization keeps the
error's scale, so every layer gets a comparable gradient. The script
prints the per-layer gradient norms at initialization, the ratio
first-layer / last-layer, then trains both nets with GradientStats and
saves the per-epoch gradient norms and the activation histograms.
"""

from __future__ import annotations

import numpy as np
from _study_cli import save_png, study_arguments

import nnc

DEPTH = 10   # Dense layers, the output included
WIDTH = 64


def deep_net(kind, dtype, seed=0):
    act, init = {"sigmoid": ("sigmoid", "glorot_uniform"), "relu": ("relu", "he_normal")}[kind]
    # Zero biases, as in the notes (nnc's default bias is fan_in_uniform).
    hidden = [nnc.Dense(WIDTH, activation=act, kernel_initializer=init, bias_initializer="zeros")
              for _ in range(DEPTH - 1)]
    model = nnc.Sequential([nnc.Input(20), *hidden,
                            nnc.Dense(1, activation="sigmoid", bias_initializer="zeros")],
                           dtype=dtype, seed=seed)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def data(n_samples):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_samples, 20))
    y = (x[:, :10].sum(axis=1) > 0).astype(np.float64).reshape(-1, 1)
    return x, y


def layer_gradient_norms(model, x, y) -> list[float]:
    flat = np.concatenate([g.ravel() for g in model.gradients(x, y)])
    return model.parameter_layout.layer_norms(flat)


def main(argv=None) -> dict:
    args = study_arguments(argv, __doc__, "fewer samples and epochs")

    x, y = data(256 if args.quick else 1024)
    epochs = 5 if args.quick else 30
    results = {}
    print(f"Gradient norm of each layer's parameters at initialization "
          f"({DEPTH} Dense layers of {WIDTH}, {x.shape[0]} samples, binary cross-entropy):")
    print(f"{'layer':<10}{'sigmoid + Xavier':>18}{'relu + He':>14}")
    norms = {kind: layer_gradient_norms(deep_net(kind, args.dtype), x, y)
             for kind in ("sigmoid", "relu")}
    for i in range(DEPTH):
        print(f"{'dense_' + str(i + 1):<10}{norms['sigmoid'][i]:>18.3e}{norms['relu'][i]:>14.3e}")
    for kind in ("sigmoid", "relu"):
        ratio = norms[kind][0] / norms[kind][-1]
        results[kind] = {"grad_norms": norms[kind], "ratio": ratio}
    print(f"{'first/last':<10}{results['sigmoid']['ratio']:>18.3e}"
          f"{results['relu']['ratio']:>14.3e}")
    print(f"The sigmoid net's first layer gets "
          f"{results['relu']['ratio'] / results['sigmoid']['ratio']:.1e} times less of the "
          f"gradient (relative to its last layer) than the ReLU net's.")

    print(f"\nTraining both for {epochs} epochs (SGD 0.1) with GradientStats:")
    for kind in ("sigmoid", "relu"):
        model = deep_net(kind, args.dtype)
        hist = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0,
                         callbacks=[nnc.callbacks.GradientStats()])
        results[kind]["history"] = hist.history
        last = [hist.history[f"grad_norm/{name}"][-1] for name in model.parameter_layout.names]
        print(f"  {kind:<8} accuracy {hist.history['accuracy'][-1]:.3f}  grad norm "
              f"first layer {last[0]:.2e}, last layer {last[-1]:.2e}")
        for name, fig in (("gradient_norms", nnc.plot.gradient_norms(hist)),
                          ("activations", nnc.plot.activation_histograms(model, x))):
            save_png(fig, args.out, f"vanishing_{kind}_{name}.png")
    return results


if __name__ == "__main__":
    main()
