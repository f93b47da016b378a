"""Regression with early stopping: a noisy 1-D curve, a validation set,
and EarlyStopping keeping the weights of the best epoch.

Run: python examples/regression_early_stopping.py
"""

import numpy as np

import nnc

rng = np.random.default_rng(0)
x = rng.uniform(-3, 3, size=(400, 1))
y = np.sin(2 * x) + 0.3 * x + rng.normal(scale=0.1, size=x.shape)
x_train, x_val, y_train, y_val = nnc.datasets.split(x, y, test_fraction=0.25, seed=0)

model = nnc.Sequential([
    nnc.Dense(32, activation="tanh", input_dim=1),
    nnc.Dense(32, activation="tanh"),
    nnc.Dense(1),
], dtype="float64", seed=0)
model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.01), loss="mse",
              metrics=["mae", "r2"])
stop = nnc.callbacks.EarlyStopping(monitor="val_loss", patience=20, min_delta=1e-5,
                                   restore_best_weights=True)
history = model.fit(x_train, y_train, epochs=1000, batch_size=32,
                    validation_data=(x_val, y_val), callbacks=[stop], verbose=0)

best = int(np.argmin(history.history["val_loss"]))
print(f"stopped after {len(history.epoch)} of 1000 epochs; best epoch {best + 1}")
print(f"best val_loss {history.history['val_loss'][best]:.5f}")
val_loss, val_mae, val_r2 = model.evaluate(x_val, y_val)  # [loss, *metrics], as Keras
print(f"restored weights: val_loss {val_loss:.5f}  val_mae {val_mae:.4f}  val_r2 {val_r2:.4f}")
