"""Handwritten digits: the bundled UCI set (1797 8x8 images), a 64-64-10
network, validation split, early stopping, and the saved model reloaded.

Run: python examples/digits.py
"""

import tempfile
from pathlib import Path

import nnc
from nnc import datasets

x, labels = datasets.load_digits()
x_train, x_test, y_train, y_test = datasets.split(x / 16.0, labels, test_fraction=0.2, seed=1)

model = nnc.Sequential([
    nnc.Dense(64, activation="relu", input_dim=64),
    nnc.Dropout(0.1),
    nnc.Dense(10, activation="softmax"),
], seed=1)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
stop = nnc.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
history = model.fit(x_train, y_train, epochs=100, batch_size=32, validation_split=0.1,
                    callbacks=[stop], verbose=0)
print(f"trained {len(history.epoch)} epochs (early stopping), "
      f"best val_loss {min(history.history['val_loss']):.4f}")
print(f"test accuracy: {model.evaluate(x_test, y_test, return_dict=True)['accuracy']:.4f}")

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "digits.npz"
    model.save(path)
    again = nnc.load_model(path)
    same = (again.predict(x_test) == model.predict(x_test)).all()
    print(f"saved and reloaded: predictions identical = {same}")
