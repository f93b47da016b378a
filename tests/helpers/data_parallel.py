"""The data-parallel scenarios (tests/data_parallel/): one model, its data
split in two shards, and the single-process reference that trains on the
same global batches with ``train_on_batch``."""

from __future__ import annotations

import numpy as np

import nnc
from nnc import optimizers
from nnc.distributed import global_batches

WORLD = 2
ROWS_PER_SHARD = 62  # global batch 24: 5 full batches and one of 2 + 2 rows


def _adam():
    return optimizers.Adam(learning_rate=0.01)


def _sgd_momentum():
    schedule = optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.8)
    return optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True, clipnorm=0.5)


#: name -> (dtype, optimizer factory, loss, l2, dropout, sample weights, shuffle, epochs)
SCENARIOS = {
    "adam64": ("float64", _adam, "sparse_categorical_crossentropy", 1e-3, 0.2, True, False, 2),
    "sgd_momentum64": ("float64", _sgd_momentum, "mse", 1e-2, 0.0, False, True, 2),
    "adam32": ("float32", _adam, "sparse_categorical_crossentropy", 1e-3, 0.2, True, False, 1),
}
GLOBAL_BATCH = 24


def build(name: str) -> nnc.Sequential:
    dtype, optimizer, loss, l2, dropout, _, _, _ = SCENARIOS[name]
    outputs = 3 if loss == "sparse_categorical_crossentropy" else 2
    layers = [nnc.Input(6), nnc.Dense(16, activation="tanh")]
    if dropout:
        layers.append(nnc.Dropout(dropout))
    layers += [nnc.Dense(8, activation="relu"),
               nnc.Dense(outputs, activation="softmax" if outputs == 3 else "linear")]
    model = nnc.Sequential(layers, dtype=dtype, seed=7)
    model.compile(optimizer=optimizer(), loss=loss, l2=l2)
    return model


def shards(name: str) -> list[tuple]:
    """[(x, y, sample_weight)] of each rank."""
    dtype, _, loss, _, _, weighted, _, _ = SCENARIOS[name]
    rng = np.random.default_rng(2024)
    n = WORLD * ROWS_PER_SHARD
    x = rng.normal(size=(n, 6)).astype(dtype)
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, 3, size=n)
    else:
        y = rng.normal(size=(n, 2)).astype(dtype)
    sw = rng.uniform(0.2, 2.0, size=n).astype(dtype) if weighted else None
    cut = [slice(r * ROWS_PER_SHARD, (r + 1) * ROWS_PER_SHARD) for r in range(WORLD)]
    return [(x[c], y[c], None if sw is None else sw[c]) for c in cut]


def fit_kwargs(name: str) -> dict:
    *_, shuffle, epochs = SCENARIOS[name]
    return {"epochs": epochs, "global_batch_size": GLOBAL_BATCH, "shuffle": shuffle, "seed": 11}


def reference(name: str) -> tuple[np.ndarray, list[float]]:
    """Single-process training on the global batches fit(...) documents:
    (flat parameters after it, mean loss of each epoch)."""
    model = build(name)
    parts = shards(name)
    kwargs = fit_kwargs(name)
    losses = []
    for epoch in range(kwargs["epochs"]):
        local = []
        for rank, (x, y, sw) in enumerate(parts):
            order = (np.random.default_rng([kwargs["seed"], epoch, rank]).permutation(len(x))
                     if kwargs["shuffle"] else np.arange(len(x)))
            local.append((x[order], y[order], None if sw is None else sw[order]))
        batches = [global_batches([p[i] for p in local], GLOBAL_BATCH) for i in range(2)]
        weights = (global_batches([p[2] for p in local], GLOBAL_BATCH)
                   if local[0][2] is not None else [None] * len(batches[0]))
        total = 0.0
        for xb, yb, swb in zip(*batches, weights):
            total += len(xb) * model.train_on_batch(xb, yb, swb)
        losses.append(total / (WORLD * ROWS_PER_SHARD))
    return model.get_flat_params(), losses
