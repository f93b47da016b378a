"""Universal approximation and why activations must be non-linear (lecture note 001).

    python examples/universal_approximation.py --out figures/
    python examples/universal_approximation.py --quick

1. One hidden tanh layer fits sin(x) on [-pi, pi] to a small error.
2. A stack of linear-activation Dense layers is one linear map:
   (((x W1 + b1) W2 + b2) ... ) Wk + bk = x W + b with W = W1 W2 ... Wk and
   b = (((b1 W2 + b2) W3 + b3) ...) Wk + bk. The script builds W and b from
   the trained layers and shows the stack's predictions equal x W + b to
   rounding error; fitted to sin(x) the stack does no better than the
   least-squares line.
"""

from __future__ import annotations

import numpy as np
from _study_cli import save_png, study_arguments

import nnc


def sin_data(n, dtype):
    x = np.linspace(-np.pi, np.pi, n).reshape(-1, 1).astype(dtype)
    return x, np.sin(x)


def fit_sin(hidden, activation, dtype, epochs, seed=0):
    layers = [nnc.Dense(units, activation=activation) for units in hidden]
    model = nnc.Sequential([nnc.Input(1), *layers, nnc.Dense(1)], dtype=dtype, seed=seed)
    # Tight tolerances: torch's defaults stop L-BFGS around J = 1e-5.
    opt = nnc.optimizers.LBFGS(learning_rate=1.0, max_iter=100, line_search_fn="strong_wolfe",
                               tolerance_grad=1e-12, tolerance_change=1e-16)
    model.compile(optimizer=opt, loss="mse")
    x, y = sin_data(200, dtype)
    model.fit(x, y, epochs=epochs, batch_size=None, shuffle=False, verbose=0)
    return model


def collapse(model):
    """(W, b) of the single linear map a linear-activation stack computes."""
    weights = model.get_weights()
    w = np.eye(model.input_dim)
    b = np.zeros(model.input_dim)
    for i in range(0, len(weights), 2):
        wi, bi = weights[i].astype(np.float64), weights[i + 1].astype(np.float64)
        w, b = w @ wi, b @ wi + bi
    return w, b


def main(argv=None) -> dict:
    args = study_arguments(argv, __doc__, "(no effect: it takes a second)", dtype="float64")
    import matplotlib.pyplot as plt

    epochs = 30  # full-batch L-BFGS steps of up to 100 iterations each
    x, y = sin_data(200, args.dtype)
    grid = np.linspace(-np.pi, np.pi, 1001).reshape(-1, 1)

    net = fit_sin([10], "tanh", args.dtype, epochs)
    sin_err = float(np.max(np.abs(net.predict(grid)[:, 0] - np.sin(grid[:, 0]))))
    print(f"1 hidden layer (10 tanh units) fitted to sin(x) on [-pi, pi] with L-BFGS:\n"
          f"  max |f(x) - sin(x)| on 1001 points = {sin_err:.2e}")

    stack = fit_sin([16, 16, 16], "linear", args.dtype, epochs)
    w, b = collapse(stack)
    pred_stack = stack.predict(grid).astype(np.float64)
    pred_map = grid @ w + b
    collapse_err = float(np.max(np.abs(pred_stack - pred_map)))
    rel_collapse = collapse_err / float(np.max(np.abs(pred_map)))
    line = np.polyfit(x[:, 0].astype(np.float64), y[:, 0].astype(np.float64), 1)
    stack_err = float(np.max(np.abs(pred_stack[:, 0] - np.sin(grid[:, 0]))))
    line_err = float(np.max(np.abs(np.polyval(line, grid[:, 0]) - np.sin(grid[:, 0]))))
    print(f"\n3 hidden linear layers of 16 (1-16-16-16-1, {stack.count_params()} parameters):")
    print(f"  collapsed to one map: W = {w[0, 0]:.6f}, b = {b[0]:.6f} "
          f"(least-squares line: slope {line[0]:.6f}, intercept {line[1]:.6f})")
    print(f"  max |stack(x) - (x W + b)| = {collapse_err:.2e} "
          f"(relative {rel_collapse:.1e}): the stack is that one linear map")
    print(f"  max |stack(x) - sin(x)| = {stack_err:.3f}, best line's = {line_err:.3f}")

    # The same holds for any widths: a random 4-8-8-3 linear stack on random inputs.
    wide = nnc.Sequential([nnc.Input(4), nnc.Dense(8), nnc.Dense(8), nnc.Dense(3)],
                          dtype=args.dtype, seed=1)
    xr = np.random.default_rng(1).normal(size=(500, 4))
    w4, b4 = collapse(wide)
    wide_err = float(np.max(np.abs(wide.predict(xr).astype(np.float64) - (xr @ w4 + b4))))
    print(f"  a random 4-8-8-3 linear stack equals x W + b with W of shape {w4.shape}: "
          f"max difference {wide_err:.2e} on 500 random inputs")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(grid[:, 0], np.sin(grid[:, 0]), "k", lw=3, alpha=0.3, label="sin(x)")
    ax.plot(grid[:, 0], net.predict(grid)[:, 0], label=f"1 hidden tanh layer (err {sin_err:.1e})")
    ax.plot(grid[:, 0], pred_stack[:, 0], "--", label="3 linear hidden layers = a line")
    ax.legend()
    ax.set_xlabel("x")
    fig.tight_layout()
    save_png(fig, args.out, "universal_approximation.png")
    return {"sin_max_error": sin_err, "collapse_max_error": collapse_err,
            "collapse_relative_error": rel_collapse,
            "wide_collapse_max_error": wide_err, "stack_sin_error": stack_err,
            "line_sin_error": line_err, "collapsed": (w, b), "line": line}


if __name__ == "__main__":
    main()
