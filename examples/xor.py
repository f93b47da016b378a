"""XOR: the problem a single neuron cannot solve, learned by a 2-4-1 network.

Run: python examples/xor.py
"""

import nnc

x, y = nnc.datasets.make_xor()
model = nnc.Sequential([
    nnc.Dense(4, activation="tanh", input_dim=2),
    nnc.Dense(1, activation="sigmoid"),
], dtype="float64", seed=0)
model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
              metrics=["binary_accuracy"])
history = model.fit(x, y, epochs=300, batch_size=None, verbose=0)  # full batch: 4 rows

print(f"loss after {len(history.epoch)} epochs: {history.history['loss'][-1]:.5f}")
for (a, b), p in zip(x.astype(int), model.predict(x)[:, 0]):
    print(f"{a} XOR {b} = {int(p > 0.5)}   (network output {p:.4f})")
