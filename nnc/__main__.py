"""``python -m nnc``: train a digits classifier on the bundled UCI digits,
showing the progress bar, the model summary and the test accuracy.
``python -m nnc --help`` lists the other demos."""

from __future__ import annotations

import argparse
import time

import numpy as np

import nnc


def digits(epochs: int) -> None:
    """The bundled UCI handwritten digits (8x8), a 64-128-10 ReLU network, Adam."""
    x, labels = nnc.datasets.load_digits()
    x_train, x_test, y_train, y_test = nnc.datasets.split(x / 16.0, labels, 0.2, seed=0)
    model = nnc.Sequential([
        nnc.Dense(128, activation="relu", input_dim=64),
        nnc.Dense(10, activation="softmax"),
    ], seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1, verbose=1)
    elapsed = time.perf_counter() - start
    model.summary()
    _, accuracy = model.evaluate(x_test, y_test)
    print(f"test accuracy: {accuracy:.2%} on {len(y_test)} held-out digits "
          f"(training took {elapsed:.2f} s, kernels: {nnc.kernel_arch()})")


def spirals(epochs: int) -> None:
    """Two interleaved spirals, a 2-64-64-2 tanh network, Adam."""
    x, labels = nnc.datasets.make_spirals(n_samples=600, noise=0.2, seed=0)
    model = nnc.Sequential([
        nnc.Dense(64, activation="tanh", input_dim=2),
        nnc.Dense(64, activation="tanh"),
        nnc.Dense(2, activation="softmax"),
    ], seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    hist = model.fit(x, labels, epochs=epochs, batch_size=32, verbose=0)
    elapsed = time.perf_counter() - start
    for epoch, (loss, acc) in enumerate(zip(hist.history["loss"], hist.history["accuracy"])):
        if epoch < 5 or (epoch + 1) % max(1, epochs // 10) == 0:
            print(f"epoch {epoch + 1:4d}/{epochs}  loss {loss:.4f}  accuracy {acc:.3f}")
    _, acc = model.evaluate(x, labels)
    print(f"final training accuracy: {acc:.2%} ({elapsed:.2f} s, kernels: {nnc.kernel_arch()})")


def regression(epochs: int) -> None:
    """Fit y = sin(x) on [-pi, pi] with one tanh hidden layer and L-BFGS."""
    x = np.linspace(-np.pi, np.pi, 200).reshape(-1, 1)
    y = np.sin(x)
    model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=1), nnc.Dense(1)],
                           dtype="float64", seed=0)
    model.compile(optimizer=nnc.optimizers.LBFGS(line_search_fn="strong_wolfe"), loss="mse",
                  metrics=["rmse", "r2"])
    hist = model.fit(x, y, epochs=epochs, batch_size=None, verbose=0)
    for epoch in range(epochs):
        logs = {k: v[epoch] for k, v in hist.history.items()}
        print(f"epoch {epoch + 1:3d}/{epochs}  loss {logs['loss']:.3e}  rmse {logs['rmse']:.3e}"
              f"  r2 {logs['r2']:.6f}")
    worst = float(np.max(np.abs(model.predict(x) - y)))
    print(f"largest error of the fitted sine on [-pi, pi]: {worst:.2e}")


def xor(epochs: int) -> None:
    """XOR with a 2-4-1 sigmoid network and full-batch SGD with momentum."""
    x, y = nnc.datasets.make_xor()
    model = nnc.Sequential([nnc.Dense(4, activation="sigmoid", input_dim=2),
                            nnc.Dense(1, activation="sigmoid")], dtype="float64", seed=1)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=2.0, momentum=0.9),
                  loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=epochs, batch_size=None, verbose=0)
    for epoch in range(0, epochs, max(1, epochs // 10)):
        print(f"epoch {epoch + 1:4d}/{epochs}  loss {hist.history['loss'][epoch]:.5f}")
    for row, out in zip(x, model.predict(x)[:, 0]):
        print(f"  {int(row[0])} XOR {int(row[1])} -> {out:.4f}")


def notes(epochs: int) -> None:
    """Note 000's worked example: one gradient-descent step on a 2-2-1 net."""
    model = nnc.Sequential([nnc.Dense(2, activation="sigmoid", use_bias=False, input_dim=2),
                            nnc.Dense(1, use_bias=False)], dtype="float64", seed=0)
    model.set_weights([np.array([[0.11, 0.21], [0.12, 0.08]]), np.array([[0.14], [0.15]])])
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.5), loss="mse")
    x, y = np.array([[2.0, 3.0]]), np.array([[1.0]])
    print(f"a3 = {model.predict(x)[0, 0]:.6f}   J = {model.loss(x, y):.6f}")
    for step in range(max(1, epochs)):
        model.train_on_batch(x, y)
        print(f"after step {step + 1}: J = {model.loss(x, y):.7f}")
    w1, w2 = model.get_weights()
    print("Theta(1) =", np.round(w1.T, 6).tolist(), " Theta(2) =", np.round(w2.T, 6).tolist())


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


DEMOS = {"digits": (digits, 40), "spirals": (spirals, 200), "regression": (regression, 20),
         "xor": (xor, 500), "notes": (notes, 1)}


def main(argv=None) -> None:
    demos = "\n".join(f"  {name:<11} {fn.__doc__}" for name, (fn, _) in DEMOS.items())
    parser = argparse.ArgumentParser(
        prog="python -m nnc", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=f"Train a small network with nnc.\n\ndemos (default: digits):\n{demos}")
    parser.add_argument("demo", nargs="?", default="digits", choices=list(DEMOS))
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="override the demo's epochs (an integer >= 1)")
    args = parser.parse_args(argv)
    fn, default_epochs = DEMOS[args.demo]
    fn(args.epochs if args.epochs is not None else default_epochs)


if __name__ == "__main__":
    main()
