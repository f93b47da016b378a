"""Note 000's worked example, step by step: a 2-2-1 network (sigmoid hidden
layer, linear output, no biases), one input x = (2, 3) with target 1,
squared-error cost, one gradient-descent step with learning rate 0.5.

Each quantity is computed by hand with NumPy and then by nnc, so the two can
be compared with the note's printed digits.

Run: python examples/worked_example.py
"""

import numpy as np

import nnc

# The note's Theta^(l) has one row per unit; nnc stores W = Theta.T (in, out).
theta1 = np.array([[0.11, 0.12], [0.21, 0.08]])
theta2 = np.array([[0.14, 0.15]])
x = np.array([[2.0, 3.0]])
y = np.array([[1.0]])

model = nnc.Sequential([nnc.Dense(2, activation="sigmoid", use_bias=False, input_dim=2),
                        nnc.Dense(1, activation="linear", use_bias=False)], dtype="float64")
model.set_weights([theta1.T, theta2.T])
model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.5), loss="mse")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


print("Step 1: forward propagation")
z2 = theta1 @ x[0]
a2 = sigmoid(z2)
z3 = theta2 @ a2
print(f"  z(2) = {np.round(z2, 6)}   a(2) = {np.round(a2, 6)}")
print(f"  z(3) = a(3) = {z3[0]:.6f}   (nnc predict: {model.predict(x)[0, 0]:.6f})")
cost = 0.5 * (z3[0] - 1.0) ** 2
print(f"  J = 1/2 (a(3) - y)^2 = {cost:.6f}   (nnc loss: {model.loss(x, y):.6f})")

print("Step 2: backpropagation")
delta3 = z3 - 1.0
delta2 = a2 * (1 - a2) * (theta2.T @ delta3)
grad2 = np.outer(delta3, a2)
grad1 = np.outer(delta2, x[0])
print(f"  delta(3) = {delta3[0]:.6f}   delta(2) = {np.round(delta2, 7)}")
print(f"  dJ/dTheta(2) = {np.round(grad2, 6).tolist()}")
print(f"  dJ/dTheta(1) = {np.round(grad1, 7).tolist()}")
nnc_grad1, nnc_grad2 = model.gradients(x, y)
agree = (np.allclose(nnc_grad1.T, grad1, rtol=1e-12, atol=0)
         and np.allclose(nnc_grad2.T, grad2, rtol=1e-12, atol=0))
print(f"  nnc gradients agree with the hand computation: {agree}")

print("Step 3: one gradient-descent step, then forward again")
model.train_on_batch(x, y)
w1, w2 = model.get_weights()
print(f"  new Theta(1) = {np.round(w1.T, 6).tolist()}")
print(f"  new Theta(2) = {np.round(w2.T, 6).tolist()}")
print(f"  new a(3) = {model.predict(x)[0, 0]:.6f}   new J = {model.loss(x, y):.7f} < {cost:.6f}")
