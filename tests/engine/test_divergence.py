"""A loss that becomes NaN or infinite stops training with a warning naming
the epoch and the batch, and the weights are exactly those from before the
bad step (a replay of the completed steps gives the same bits)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import nnc

X = np.linspace(-1e3, 1e3, 64).reshape(-1, 1)
Y = 1e3 * X


def make(optimizer):
    model = nnc.Sequential([nnc.Dense(1, input_dim=1)], dtype="float64", seed=0)
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("optimizer", [
    lambda: nnc.optimizers.SGD(learning_rate=1e3),
    lambda: nnc.optimizers.SGD(learning_rate=10.0, momentum=0.9),
    lambda: nnc.optimizers.LBFGS(learning_rate=1e6),
], ids=["sgd", "sgd-momentum", "lbfgs"])
def test_divergence_stops_with_the_weights_from_before_the_bad_step(optimizer):
    model = make(optimizer())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = model.fit(X, Y, epochs=200, batch_size=8, shuffle=False, verbose=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    match = re.search(r"epoch (\d+): .* batch (\d+)", messages[0])
    assert match, messages[0]
    epoch, batch = int(match[1]), int(match[2])
    weights = model.get_flat_params()
    assert np.isfinite(weights).all()
    assert len(hist.epoch) == epoch - 1  # the broken epoch is not recorded
    assert len(hist.history.get("loss", [])) == epoch - 1
    assert all(np.isfinite(hist.history.get("loss", [])))
    # Replay the completed steps on a twin.
    twin = make(optimizer())
    if epoch > 1:
        twin.fit(X, Y, epochs=epoch - 1, batch_size=8, shuffle=False, verbose=0)
    for b in range(batch):
        twin.train_on_batch(X[8 * b:8 * b + 8], Y[8 * b:8 * b + 8])
    np.testing.assert_array_equal(weights, twin.get_flat_params())
    assert model.engine.get_optimizer_state() == twin.engine.get_optimizer_state()
    print(f"\n{messages[0]}")
