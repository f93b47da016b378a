"""Gradient checking a custom network (lecture note 002): backpropagation against
central finite differences, parameter by parameter, in float64.

Run: python examples/gradient_check.py
"""

import numpy as np

import nnc

rng = np.random.default_rng(0)
x = rng.normal(size=(16, 5))
y = rng.integers(0, 3, size=16)

# Mixed activations, a layer without bias, and L2 regularization.
model = nnc.Sequential([
    nnc.Dense(7, activation="tanh", input_dim=5),
    nnc.Dense(6, activation="elu", use_bias=False),
    nnc.Dense(4, activation="softplus"),
    nnc.Dense(3, activation="softmax"),
], dtype="float64", seed=3)
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", l2=0.1)

report = nnc.gradcheck(model, x, y, eps=1e-6)
print(f"parameters checked: {report['analytic'].size}")
for i, err in enumerate(report["per_layer"]):
    print(f"  layer {i + 1}: relative error {err:.2e}")
print(f"relative error |g - g_num| / (|g| + |g_num|): {report['relative_error']:.2e}")
print(f"gradient check {'passed' if report['passed'] else 'FAILED'} (tolerance 1e-7)")

# A wrong gradient is caught: pretend backprop forgot the L2 term.
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", l2=0.0)
analytic_without_l2 = np.concatenate([g.ravel() for g in model.gradients(x, y)])
numeric = report["numeric"]
error = np.linalg.norm(analytic_without_l2 - numeric) / (
    np.linalg.norm(analytic_without_l2) + np.linalg.norm(numeric))
print(f"a gradient missing the L2 term has relative error {error:.2e}: caught")
