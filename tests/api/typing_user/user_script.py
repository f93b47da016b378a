"""A user's script: the public API, type-checked with mypy --strict."""
from pathlib import Path

import numpy as np

import nnc


def train(path: Path) -> float:
    x, labels = nnc.datasets.make_spirals(n_samples=200, noise=0.2, seed=0)
    x_train, x_test, y_train, y_test = nnc.datasets.split(x, labels, 0.25, seed=0)
    model = nnc.Sequential([nnc.Input(2), nnc.Dense(16, activation="tanh"), nnc.Dropout(0.1),
                            nnc.Dense(2, activation="softmax")], dtype="float32", seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history: nnc.History = model.fit(x_train, y_train, epochs=2, batch_size=32,
                                     validation_split=0.2, verbose=0)
    losses: list[float] = history.history["loss"]
    probabilities: np.ndarray = model.predict(x_test)
    scores: dict[str, float] = model.evaluate(x_test, y_test, return_dict=True)
    loss, accuracy = model.evaluate(x_test, y_test)
    model.save(path)
    again: nnc.Sequential = nnc.load_model(path)
    same: np.ndarray = again(x_test)
    assert probabilities.shape == same.shape and losses
    return float(accuracy) + scores["loss"] + float(loss)


if __name__ == "__main__":
    import sys

    print(f"score {train(Path(sys.argv[1])):.3f}")
