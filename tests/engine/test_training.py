"""Training works: XOR, two spirals, every batch mode, dropout only in
training, and reproducibility from the seed."""

import numpy as np
import pytest

import nnc


def test_xor_is_learned_by_a_two_layer_sigmoid_net():
    x, y = nnc.datasets.make_xor()
    model = nnc.Sequential([nnc.Dense(4, activation="sigmoid", input_dim=2),
                            nnc.Dense(1, activation="sigmoid")], dtype="float64", seed=1)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=2.0, momentum=0.9),
                  loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=500, batch_size=None, verbose=0)
    assert hist.history["loss"][-1] < 0.05 < hist.history["loss"][0]
    np.testing.assert_array_equal(np.round(model.predict(x)), y)
    assert hist.history["accuracy"][-1] == 1.0


def test_two_spirals_reach_99_percent_training_accuracy():
    x, labels = nnc.datasets.make_spirals(n_samples=600, noise=0.2, seed=0)
    model = nnc.Sequential([nnc.Dense(64, activation="tanh", input_dim=2),
                            nnc.Dense(64, activation="tanh"),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, labels, epochs=300, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] >= 0.99
    assert model.evaluate(x, labels, return_dict=True)["accuracy"] >= 0.99


@pytest.mark.parametrize("batch_size, lr, epochs",
                         [(None, 0.5, 100), (16, 0.05, 30), (1, 0.01, 10)])
def test_full_mini_and_stochastic_batches_all_decrease_the_loss(batch_size, lr, epochs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = nnc.Sequential([nnc.Dense(1, input_dim=3)], dtype="float64", seed=0)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=lr), loss="mse")
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    assert hist.history["loss"][-1] < 0.01 * hist.history["loss"][0]
    # Linear regression: the weights converge to the generating ones.
    w, b = model.get_weights()
    np.testing.assert_allclose(w[:, 0], [1.0, -2.0, 0.5], atol=0.05)


def test_batch_modes_take_the_documented_number_of_steps():
    """Full batch: 1 step per epoch; mini-batch of 16 over 64 rows: 4;
    stochastic: 64 (counted through SGD with momentum's buffer-free step)."""
    x = np.arange(64, dtype=np.float64).reshape(64, 1) / 64
    y = np.ones((64, 1))
    for batch_size, steps in ((None, 1), (16, 4), (1, 64), (48, 2)):
        model = nnc.Sequential([nnc.Dense(1, use_bias=True, kernel_initializer="zeros",
                                          bias_initializer="zeros", input_dim=1)],
                               dtype="float64", seed=0)
        # With a zero input column and no weight change, each step moves the
        # bias by exactly lr * mean residual: count steps from the bias.
        model.compile(optimizer=nnc.optimizers.SGD(learning_rate=1e-9), loss="mse")
        model.fit(np.zeros_like(x), y, epochs=1, batch_size=batch_size, shuffle=False,
                  verbose=0)
        assert model.get_weights()[1][0] == pytest.approx(steps * 1e-9, rel=1e-6)


def test_same_seed_gives_bit_identical_training():
    x, labels = nnc.datasets.make_spirals(n_samples=200, seed=1)

    def run():
        model = nnc.Sequential([nnc.Dense(16, activation="relu", input_dim=2),
                                nnc.Dropout(0.2), nnc.Dense(2, activation="softmax")], seed=42)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=5, batch_size=16, verbose=0)
        return model.get_flat_params()

    np.testing.assert_array_equal(run(), run())


def test_shuffling_and_seeds_change_the_trajectory():
    x, labels = nnc.datasets.make_spirals(n_samples=200, seed=1)
    results = []
    for seed, shuffle in ((0, True), (1, True), (0, False)):
        model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=2),
                                nnc.Dense(2, activation="softmax")], seed=seed)
        model.set_weights([np.full((2, 8), 0.1), np.zeros(8), np.full((8, 2), 0.1), np.zeros(2)])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=2, batch_size=10, shuffle=shuffle, verbose=0)
        results.append(model.get_flat_params())
    assert not np.array_equal(results[0], results[1])  # different shuffles
    assert not np.array_equal(results[0], results[2])  # shuffled vs in order


def test_dropout_is_inverted_and_only_active_in_training():
    x = np.ones((2000, 50))
    model = nnc.Sequential([nnc.Dropout(0.3, ), nnc.Dense(1, use_bias=False,
                                                           kernel_initializer="ones")],
                           dtype="float64", seed=3)
    model.build(50)
    # Inference: no dropout, deterministic.
    np.testing.assert_array_equal(model.predict(x), np.full((2000, 1), 50.0))
    # Training: a dropped input contributes 0, a kept one 1/(1-p); the mean
    # of the layer's output is preserved (inverted dropout).
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.0), loss="mse")
    g_w = model.gradients(x, np.zeros((2000, 1)))[0]  # gradients: dropout off
    np.testing.assert_allclose(g_w, 50.0)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=1.0), loss="mse")
    before = model.get_weights()[0].copy()
    model.train_on_batch(x[:1], np.zeros((1, 1)))
    step = before - model.get_weights()[0]  # = dJ/dW = a_dropped * z
    kept = step[:, 0] != 0
    assert 0.5 < kept.mean() < 0.9
    z = step[kept, 0] * (1 - 0.3)  # each kept input is 1/(1-p)
    np.testing.assert_allclose(z, z[0])
    assert z[0] == pytest.approx(kept.sum() / (1 - 0.3), rel=1e-12)


def test_lbfgs_fits_a_small_regression_full_batch():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(80, 1))
    y = np.sin(3 * x)
    model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=1), nnc.Dense(1)],
                           dtype="float64", seed=0)
    model.compile(optimizer=nnc.optimizers.LBFGS(line_search_fn="strong_wolfe"), loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=None, verbose=0)
    assert hist.history["loss"][-1] < 1e-3


def test_validation_data_and_split_are_reported():
    x, labels = nnc.datasets.make_spirals(n_samples=200, seed=1)
    model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=2),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, labels, epochs=3, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 3 for v in hist.history.values())
    # val_loss is the loss on the last 25% of the rows with the final weights.
    assert hist.history["val_loss"][-1] == pytest.approx(model.loss(x[150:], labels[150:]))
