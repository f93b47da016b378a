"""The numerical examples printed in the lecture notes, reproduced through
``import nnc`` to the digits the notes print.

The notes round every intermediate result to 6 significant digits and keep
computing with the rounded numbers, so a value derived from several rounded
ones can differ from the exact result in its last printed digit. Each
comparison therefore allows one unit in the last printed place
(``printed(value, "0.417450")``), and where the notes' rounding provably
moves a later value further, the test recomputes that value from the
notes' own printed inputs instead of loosening the tolerance.
"""

import numpy as np
import pytest

import nnc


def printed(text: str, units: float = 1.0):
    """pytest.approx for a number as printed: +- `units` in its last place."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return pytest.approx(float(text), abs=units * 10.0**-decimals)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------- note 000


def note000_model():
    """2-2-1 net: sigmoid hidden layer, linear output, no biases, J = 1/2 (a-y)^2."""
    model = nnc.Sequential([
        nnc.Dense(2, activation="sigmoid", use_bias=False, input_dim=2),
        nnc.Dense(1, activation="linear", use_bias=False),
    ], dtype="float64", seed=0)
    # Theta^(1) = [[0.11, 0.12], [0.21, 0.08]] maps (x1, x2) to (z1, z2):
    # nnc's W is Theta^T (fan_in x fan_out).
    theta1 = np.array([[0.11, 0.12], [0.21, 0.08]])
    theta2 = np.array([[0.14, 0.15]])
    model.set_weights([theta1.T, theta2.T])
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.5), loss="mse")
    return model


X000 = np.array([[2.0, 3.0]])
Y000 = np.array([[1.0]])


def test_note000_forward_and_cost():
    model = note000_model()
    a3 = model.predict(X000)[0, 0]
    assert a3 == printed("0.188638")
    assert model.loss(X000, Y000) == printed("0.329154")
    # Hidden activations A^(2) = sigmoid(Z^(2)), Z^(2) = (0.58, 0.66).
    w1 = model.get_weights()[0]
    z2 = X000 @ w1
    np.testing.assert_allclose(z2[0], [0.58, 0.66], atol=1e-12)
    np.testing.assert_allclose(sigmoid(z2[0]), [0.641067, 0.659260], atol=1e-6)


def test_note000_backprop_deltas_and_gradients():
    model = note000_model()
    a3 = model.predict(X000)[0, 0]
    delta3 = a3 - 1.0  # linear output with J = 1/2 (a - y)^2
    assert delta3 == printed("-0.811362")
    g_w1, g_w2 = model.gradients(X000, Y000)
    # dJ/dTheta^(2)_1j = delta3 * a^(2)_j
    assert g_w2[0, 0] == printed("-0.520137")
    assert g_w2[1, 0] == printed("-0.534899")
    # dJ/dTheta^(1)_ji = delta^(2)_j a^(1)_i; nnc's dW[i, j] is that value.
    # The notes multiply their rounded delta^(2) (+-0.5e-7) by x_i = 2 or 3,
    # so these printed values carry up to 1.5 units of that rounding.
    assert g_w1[0, 0] == printed("-0.0522744", units=2)
    assert g_w1[1, 0] == printed("-0.0784116", units=2)
    assert g_w1[0, 1] == printed("-0.0546784", units=2)
    assert g_w1[1, 1] == printed("-0.0820176", units=2)
    # delta^(2)_j = dJ/dTheta^(1)_j1 / x_1
    assert g_w1[0, 0] / 2.0 == printed("-0.0261372")
    assert g_w1[0, 1] / 2.0 == printed("-0.0273392")


def test_note000_gradient_descent_update_and_second_cost():
    model = note000_model()
    loss_before = model.train_on_batch(X000, Y000)
    assert loss_before == printed("0.329154")
    w1, w2 = model.get_weights()
    assert w2[0, 0] == printed("0.400069")
    assert w2[1, 0] == printed("0.417450")
    assert w1[0, 0] == printed("0.136137")
    assert w1[1, 0] == printed("0.159206")
    assert w1[0, 1] == printed("0.237339")
    assert w1[1, 1] == printed("0.121009")
    j_new = model.loss(X000, Y000)
    # The notes go on from theta2_12 rounded to 0.417450 (exact: 0.41744925),
    # which moves J_new by 2.3e-7: exact J_new is 0.0954493, 2 units above.
    assert j_new == printed("0.0954491", units=3)
    assert j_new < loss_before


def test_note000_second_forward_pass_from_printed_weights():
    """Step 3 of the example, from the notes' own printed new weights."""
    model = note000_model()
    model.set_weights([
        np.array([[0.136137, 0.159206], [0.237339, 0.121009]]).T,
        np.array([[0.400069, 0.417450]]).T,
    ])
    z2 = X000 @ model.get_weights()[0]
    np.testing.assert_allclose(z2[0], [0.749892, 0.837705], atol=1e-6)
    np.testing.assert_allclose(sigmoid(z2[0]), [0.679155, 0.697982], atol=1e-6)
    a3 = model.predict(X000)[0, 0]
    assert a3 == printed("0.563081")
    # J_new = 1/2 (a3 - 1)^2 moves by |a3 - 1| * 0.5e-6 = 2.2e-7 over a3's
    # rounding: up to 3 units of the 7th decimal.
    assert model.loss(X000, Y000) == printed("0.0954491", units=3)
    assert model.loss(X000, Y000) == pytest.approx(0.5 * (a3 - 1.0) ** 2, rel=1e-15)


@pytest.mark.parametrize("gate, bias, table", [
    ("AND", -30.0, [0, 0, 0, 1]),
    ("OR", -10.0, [0, 1, 1, 1]),
])
def test_note000_logic_gates(gate, bias, table):
    """Theta = (20, 20, bias) with a sigmoid unit: h(x) ~ the truth table."""
    model = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)],
                           dtype="float64", seed=0)
    model.set_weights([np.array([[20.0], [20.0]]), np.array([bias])])
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    h = model.predict(x)[:, 0]
    np.testing.assert_array_equal(np.round(h), table)
    # The notes' "approximately 0/1": every output is within sigmoid(-10) of it.
    assert np.all(np.abs(h - np.array(table)) <= sigmoid(-10.0) + 1e-15)
    # The same unit with the notes' step threshold gives the table exactly.
    step = nnc.Sequential([nnc.Dense(1, activation="step", input_dim=2)], dtype="float64", seed=0)
    step.set_weights([np.array([[20.0], [20.0]]), np.array([bias])])
    np.testing.assert_array_equal(step.predict(x)[:, 0], table)


def test_note001_step_unit_gates():
    """Note 001: w1 = w2 = 1 with b = -1.5 (AND) or -0.5 (OR), threshold unit."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    for bias, table in ((-1.5, [0, 0, 0, 1]), (-0.5, [0, 1, 1, 1])):
        model = nnc.Sequential([nnc.Dense(1, activation="step", input_dim=2)],
                               dtype="float64", seed=0)
        model.set_weights([np.ones((2, 1)), np.array([bias])])
        np.testing.assert_array_equal(model.predict(x)[:, 0], table)


# ---------------------------------------------------------------- note 004


def test_note004_relu_layer():
    """A 3-unit ReLU layer on x = (-1, 1): the notes' w^1 (to unit j from
    input i, so nnc's W is its transpose) and b^1 give z^1 = (0.3, -0.1,
    0.2) and a^1 = (0.3, 0, 0.2); the "bias trick" (b as one more column of
    w, against an input of 1) is the same product."""
    w1 = np.array([[-0.2, 0.4], [0.3, 0.1], [-0.5, -0.3]])
    b1 = np.array([-0.3, 0.1, 0.0])
    model = nnc.Sequential([nnc.Dense(3, activation="relu", input_dim=2)], dtype="float64",
                           seed=0)
    model.set_weights([w1.T, b1])
    x = np.array([[-1.0, 1.0]])
    (layer,) = model.trace(x)
    for got, want in zip(layer.z[0], ["0.3", "-0.1", "0.2"]):
        assert got == printed(want)
    for got, want in zip(model.predict(x)[0], ["0.3", "0", "0.2"]):
        assert got == printed(want)
    trick = nnc.Sequential([nnc.Dense(3, activation="relu", use_bias=False, input_dim=3)],
                           dtype="float64", seed=0)
    trick.set_weights([np.column_stack([w1, b1]).T])
    # The engine starts each sum at the bias, the trick adds it last: equal
    # to rounding.
    np.testing.assert_allclose(trick.predict(np.array([[-1.0, 1.0, 1.0]])), model.predict(x),
                               rtol=1e-15, atol=1e-16)


def note004_model():
    """x = (0.1, 0.3), w1 = (0.4, -0.2), w2 = 0.1, biases 0, sigmoid both
    layers, C = 1/2 (y - a)^2, eta = 0.01."""
    model = nnc.Sequential([
        nnc.Dense(1, activation="sigmoid", input_dim=2),
        nnc.Dense(1, activation="sigmoid"),
    ], dtype="float64", seed=0)
    model.set_weights([np.array([[0.4], [-0.2]]), np.zeros(1), np.array([[0.1]]), np.zeros(1)])
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=0.01), loss="mse")
    return model


X004 = np.array([[0.1, 0.3]])
Y004 = np.array([[1.0]])


def test_note004_forward_pass():
    model = note004_model()
    w1 = model.get_weights()[0]
    z1 = (X004 @ w1)[0, 0]
    assert z1 == printed("-0.02")
    assert sigmoid(z1) == printed("0.495")
    assert 0.1 * sigmoid(z1) == printed("0.0495")
    assert model.predict(X004)[0, 0] == printed("0.5124")


def test_note004_backward_pass_and_update():
    model = note004_model()
    g_w1, g_b1, g_w2, g_b2 = model.gradients(X004, Y004)
    # delta2 = dC/db2 and delta1 = dC/db1 (biases see the deltas directly).
    assert g_b2[0] == printed("-0.1218")
    assert g_b1[0] == printed("-0.003045")
    assert g_w2[0, 0] == printed("-0.060")
    # dC/dw1 = delta1 * x with the notes' rounded delta1 (+-0.5e-6) times
    # x_i <= 0.3: up to 1.5 units of the 7th decimal, and eta = 0.01 times
    # that in the updated weights' 9th decimal.
    assert g_w1[0, 0] == printed("-0.0003045", units=2)
    assert g_w1[1, 0] == printed("-0.0009135", units=2)
    model.train_on_batch(X004, Y004)
    w1, _, w2, _ = model.get_weights()
    assert w2[0, 0] == printed("0.1006")
    assert w1[0, 0] == printed("0.400003045", units=2)
    assert w1[1, 0] == printed("-0.199990865", units=2)

