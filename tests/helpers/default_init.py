"""Small classic problems on which nnc's default initialisation is compared
with PyTorch's (docs/design.md, Default initialisation).

Each problem gives train and test data for a seed; ``train_nnc`` and
``train_torch`` build the same layers (two hidden layers of ``HIDDEN``
units), train them with the same Adam settings, epochs and batch size, and
return the test accuracy (classification) or R^2 (regression). Used by
tests/engine/test_default_init.py and bench/default_init.py (which also
measures the candidate rules the default was chosen from).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import nnc

HIDDEN = 32
LEARNING_RATE = 0.01
ACTIVATIONS = ("tanh", "sigmoid", "relu")
SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Problem:
    name: str
    data: Callable[[int], tuple]  # seed -> x_train, y_train, x_test, y_test
    n_outputs: int  # classes (softmax), or 1 for regression
    epochs: int
    batch_size: int | None  # None: full batch

    @property
    def regression(self) -> bool:
        return self.n_outputs == 1


def _twice(make, seed):
    x, y = make(seed)
    xt, yt = make(seed + 1000)
    return x, y, xt, yt


def _spirals(radius: float, n_samples: int = 200):
    return lambda seed: _twice(lambda s: nnc.datasets.make_spirals(
        n_samples=n_samples, noise=0.2, radius=radius, seed=s), seed)


def _moons(seed):
    return _twice(lambda s: nnc.datasets.make_moons(n_samples=200, noise=0.2, seed=s), seed)


def _circles(seed):
    return _twice(lambda s: nnc.datasets.make_circles(n_samples=200, noise=0.1, factor=0.5,
                                                      seed=s), seed)


def _xor(seed):
    x, y = nnc.datasets.make_xor(dtype="float32")
    labels = y[:, 0].astype(np.int64)
    return x, labels, x, labels


def _sine(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-math.pi, math.pi, size=(200, 1)).astype(np.float32)
    xt = np.linspace(-math.pi, math.pi, 101, dtype=np.float32).reshape(-1, 1)
    return x, np.sin(x), xt, np.sin(xt)


def _digits(seed):
    x, labels = nnc.datasets.load_digits()
    x_train, x_test, y_train, y_test = nnc.datasets.split(x / 16.0, labels, 0.2, seed=seed)
    return x_train, y_train, x_test, y_test


# Sizes, epochs and batches are kept small: torch's ~1 ms per step on tiny
# layers is what the comparison costs (about 45k steps in all).
PROBLEMS = (
    # Small-scale spirals need more steps (the case zero biases never learn).
    Problem("spirals r=0.5", _spirals(0.5, 300), 2, 150, 32),
    Problem("spirals r=2.5", _spirals(2.5), 2, 100, 50),
    Problem("spirals r=10", _spirals(10.0), 2, 100, 50),
    Problem("moons", _moons, 2, 50, 50),
    Problem("circles", _circles, 2, 50, 50),
    Problem("xor", _xor, 2, 200, None),
    Problem("sine", _sine, 1, 100, 50),
    Problem("digits", _digits, 10, 10, 64),
)


def score(problem: Problem, pred: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy, or R^2 for the regression."""
    if problem.regression:
        y = np.asarray(y, dtype=np.float64)
        return float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
    return float(np.mean(np.argmax(pred, axis=1) == y))


def nnc_model(problem: Problem, activation: str, input_dim: int, seed: int,
              **init) -> nnc.Sequential:
    """The problem's network with nnc's defaults (or the initializers in `init`)."""
    out = None if problem.regression else "softmax"
    model = nnc.Sequential([nnc.Dense(HIDDEN, activation=activation, input_dim=input_dim, **init),
                            nnc.Dense(HIDDEN, activation=activation, **init),
                            nnc.Dense(problem.n_outputs, activation=out, **init)], seed=seed)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=LEARNING_RATE),
                  loss="mse" if problem.regression else "sparse_categorical_crossentropy")
    return model


def train_nnc(problem: Problem, activation: str, seed: int, weights=None, **init) -> float:
    """Test score of nnc trained with its defaults; `weights` (a function of
    the model returning a get_weights() list) overrides the initial weights."""
    x, y, xt, yt = problem.data(seed)
    model = nnc_model(problem, activation, x.shape[1], seed, **init)
    if weights is not None:
        model.set_weights(weights(model))
    model.fit(x, y, epochs=problem.epochs, batch_size=problem.batch_size, verbose=0)
    return score(problem, model.predict(xt), yt)


def train_torch(problem: Problem, activation: str, seed: int) -> float:
    """Test score of the same layers in torch with nn.Linear's default
    initialisation, the same Adam settings, epochs and batch size."""
    import torch

    x, y, xt, yt = problem.data(seed)
    torch.manual_seed(seed)
    act = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation]
    f32 = {"dtype": torch.float32}  # whatever default dtype another test left behind
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN, **f32), act(),
                              torch.nn.Linear(HIDDEN, HIDDEN, **f32), act(),
                              torch.nn.Linear(HIDDEN, problem.n_outputs, **f32))
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if problem.regression:
        ys = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))

        def loss_fn(out, target):  # nnc's mse: 1/2 |a - y|^2 averaged over samples
            return 0.5 * torch.nn.functional.mse_loss(out, target)
    else:
        ys = torch.from_numpy(np.asarray(y, dtype=np.int64))
        loss_fn = torch.nn.functional.cross_entropy
    n = xs.shape[0]
    batch = n if problem.batch_size is None else problem.batch_size
    gen = torch.Generator().manual_seed(seed)
    for _ in range(problem.epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            loss_fn(net(xs[idx]), ys[idx]).backward()
            opt.step()
    with torch.no_grad():
        pred = net(torch.from_numpy(np.ascontiguousarray(xt, dtype=np.float32))).numpy()
    return score(problem, pred.astype(np.float64), yt)


def medians(train: Callable[[Problem, str, int], float], problems=PROBLEMS,
            activations=ACTIVATIONS, seeds=SEEDS) -> dict:
    """{(problem name, activation): median score over the seeds}."""
    return {(p.name, a): float(np.median([train(p, a, s) for s in seeds]))
            for p in problems for a in activations}
