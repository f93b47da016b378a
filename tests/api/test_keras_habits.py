"""The habits Keras users bring (docs/design.md, Keras habits): evaluate's
return value, model(x), predict's progress bar, reprs and notebook HTML,
History.plot's axes. Where nnc follows Keras the test runs Keras (torch
backend) on the same weights and compares."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers.optional import require

import nnc

# Keras's own torch backend warns about NumPy 2 copies; not nnc's concern here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")


@pytest.fixture(scope="module")
def keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    require("torch")
    module = require("keras")
    assert module.backend.backend() == "torch"
    return module


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] ** 2 > 0.5).astype(np.int64)
    return x, labels


def twins(keras, loss, metrics, outputs=2, out_act="softmax"):
    """An nnc model and the Keras model with the same weights, compiled alike."""
    model = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=3),
                            nnc.Dense(outputs, activation=out_act)], seed=0)
    model.compile(optimizer="adam", loss=loss, metrics=metrics["nnc"])
    twin = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh"),
                             keras.layers.Dense(outputs, activation=out_act)])
    twin.set_weights(model.get_weights())
    twin.compile(optimizer="adam", loss=loss, metrics=metrics["keras"])
    return model, twin


def same_structure(ours, theirs, rtol=2e-5):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=rtol)
    elif isinstance(theirs, dict):  # the same keys (Keras sorts them; nnc puts loss first)
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), (ours, theirs)
        np.testing.assert_allclose([ours[k] for k in theirs], list(theirs.values()), rtol=rtol)
    else:
        assert isinstance(ours, float) and isinstance(theirs, float), (ours, theirs)
        assert ours == pytest.approx(theirs, rel=rtol)


@pytest.mark.parametrize("loss, metrics", [
    ("sparse_categorical_crossentropy", {"nnc": None, "keras": None}),
    ("sparse_categorical_crossentropy", {"nnc": ["accuracy"], "keras": ["accuracy"]}),
])
def test_evaluate_returns_what_keras_returns(keras, loss, metrics):
    model, twin = twins(keras, loss, metrics)
    x, labels = data()
    same_structure(model.evaluate(x, labels), twin.evaluate(x, labels, verbose=0))
    same_structure(model.evaluate(x, labels, return_dict=True),
                   twin.evaluate(x, labels, verbose=0, return_dict=True))


def test_evaluate_lists_metrics_in_compile_order_like_keras(keras):
    x, _ = data()
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    model, twin = twins(keras, "mae", {"nnc": ["rmse", "mae"],
                                       "keras": [keras.metrics.RootMeanSquaredError(name="rmse"),
                                                 "mae"]}, outputs=1, out_act="linear")
    ours, theirs = model.evaluate(x, y), twin.evaluate(x, y, verbose=0)
    same_structure(ours, theirs)
    assert model.metrics_names == ["loss", "rmse", "mae"]
    same_structure(model.evaluate(x, y, return_dict=True),
                   twin.evaluate(x, y, verbose=0, return_dict=True))
    loss, rmse, mae = model.evaluate(x, y)  # the habit that used to unpack the dict's keys
    assert isinstance(loss, float) and rmse > mae > 0


def test_evaluate_checks_return_dict():
    model = nnc.Sequential([nnc.Dense(1, input_dim=3)], seed=0)
    model.compile(loss="mse")
    with pytest.raises(TypeError, match="return_dict"):
        model.evaluate(np.zeros((2, 3)), np.zeros(2), return_dict="yes")


def test_calling_the_model_is_predict():
    x, _ = data()
    model = nnc.Sequential([nnc.Dense(4, activation="relu", input_dim=3), nnc.Dropout(0.5),
                            nnc.Dense(2, activation="softmax")], seed=0)
    np.testing.assert_array_equal(model(x), model.predict(x))
    np.testing.assert_array_equal(model(x.astype(np.float64).tolist()), model.predict(x))
    with pytest.raises(ValueError, match="training"):
        model(x, training=True)


def steps_shown(text):
    return sorted({int(a) for a, b in re.findall(r"(\d+)/(\d+) \[", text) if a == b})


def test_predict_shows_progress_like_keras(keras, capsys):
    x = np.random.default_rng(0).normal(size=(1000, 3)).astype(np.float32)
    model, twin = twins(keras, "sparse_categorical_crossentropy", {"nnc": None, "keras": None})
    quiet = model.predict(x)
    capsys.readouterr()
    loud = model.predict(x, batch_size=64, verbose=1)
    ours = capsys.readouterr().out
    np.testing.assert_array_equal(loud, quiet)  # chunks change nothing
    twin.predict(x, batch_size=64, verbose=1)
    theirs = capsys.readouterr().out
    keras_steps = sorted({int(a) for a, b in re.findall(r"(\d+)/(\d+)", theirs) if a == b})
    assert steps_shown(ours) == keras_steps == [16]  # ceil(1000 / 64) steps, as Keras counts
    assert "ms/step" in ours or "us/step" in ours
    # Without a batch size, chunks of PREDICT_CHUNK rows; one line when not a terminal.
    big = np.repeat(x, 9, axis=0)
    np.testing.assert_array_equal(model.predict(big, verbose=1), model.predict(big))
    assert steps_shown(capsys.readouterr().out) == [-(-9000 // nnc.model.PREDICT_CHUNK)]
    model.predict(big, verbose=2)
    assert capsys.readouterr().out.count("\n") == 1
    model.predict(big)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        model.predict(x, verbose=7)


def test_reprs_name_the_architecture():
    model = nnc.Sequential([nnc.Dense(64, activation="tanh", input_dim=2), nnc.Dropout(0.1),
                            nnc.Dense(2, activation="softmax")], name="spirals")
    assert repr(model) == ("<Sequential 'spirals': Input(2) -> Dense(64, tanh) -> Dropout(0.1) "
                           "-> Dense(2, softmax); float32>")
    model.build()
    assert repr(model).endswith("; float32, 322 params>")
    assert repr(model.layers[0]) == "Dense(64, activation='tanh', input_dim=2, name='dense_1')"
    assert repr(model.layers[1]) == "Dropout(0.1, name='dropout_1')"
    assert repr(nnc.Dense(3, use_bias=False)) == \
        "Dense(3, activation='linear', use_bias=False, name=None)"
    assert repr(nnc.Input(5)) == "Input(5)"
    assert repr(nnc.Sequential()) == "<Sequential 'sequential': no layers; float32>"


def test_sequential_html_is_the_summary_table(capsys):
    model = nnc.Sequential([nnc.Dense(8, activation="relu", input_dim=4), nnc.Dropout(0.5),
                            nnc.Dense(3, activation="softmax")], seed=0)
    html = model._repr_html_()
    model.summary()
    text = capsys.readouterr().out
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == ["dense_1 (Dense, relu)", "(None, 8)", "40", "dropout_1 (Dropout 0.5)",
                     "(same)", "0", "dense_2 (Dense, softmax)", "(None, 3)", "27"]
    for cell in cells:
        assert cell in text
    assert "Total params: 67" in html and "Total params: 67" in text
    unbuilt = nnc.Sequential([nnc.Dense(2)])
    assert unbuilt._repr_html_() == "<pre>&lt;Sequential &#x27;sequential&#x27;: " \
        "Dense(2, linear); float32&gt;</pre>"


@pytest.fixture
def trained():
    x, labels = data(120)
    model = nnc.Sequential([nnc.Dense(8, activation="tanh", input_dim=3),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.02),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, model.fit(x, labels, epochs=5, validation_split=0.25, verbose=0,
                            callbacks=[nnc.callbacks.ReduceLROnPlateau(patience=0, factor=0.5,
                                                                       min_delta=10.0)])


@pytest.fixture
def history(trained):
    return trained[1]


def test_history_repr_and_html(history):
    last = {k: v[-1] for k, v in history.history.items()}
    assert repr(history).startswith("<History: 5 epochs; last: loss ")
    assert f"val_accuracy {last['val_accuracy']:.4g}" in repr(history)
    html = history._repr_html_()
    assert "History: 5 epochs" in html
    for key, value in last.items():
        assert f"<td style='text-align:left'>{key}</td><td style='text-align:left'>" \
               f"{value:.6g}</td>" in html
    svg = re.search(r"<svg .*?</svg>", html)[0]
    assert svg.count("<polyline") == 2  # loss and val_loss
    points = re.findall(r"points='([^']*)'", svg)[0].split()
    assert len(points) == 5
    assert nnc.History()._repr_html_() == "<div>History: no epochs</div>"
    assert repr(nnc.History()) == "<History: no epochs>"


def test_history_plot_puts_the_learning_rate_on_its_own_axes(history):
    require("matplotlib").use("Agg")
    assert len(set(history.history["learning_rate"])) > 1  # the plateau callback halved it
    for fig in (history.plot(), nnc.plot.history(history)):
        curves = [sorted(line.get_label() for line in ax.lines) for ax in fig.axes]
        assert curves == [["loss", "val_loss"], ["accuracy", "val_accuracy"], ["learning_rate"]]
        assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "metric", "learning rate"]
        np.testing.assert_allclose(fig.axes[2].lines[0].get_ydata(),
                                   history.history["learning_rate"])


def test_figures_are_not_left_in_pyplot(trained):
    """A notebook shows a returned Figure once; one also left among pyplot's
    open figures would be shown a second time."""
    plt = require("matplotlib.pyplot")
    require("matplotlib").use("Agg")
    before = plt.get_fignums()
    x, labels = data(40)
    model, history = trained
    figures = [history.plot(), nnc.plot.history(history),
               nnc.plot.activation_histograms(model, x)]
    model_2d = nnc.Sequential([nnc.Dense(2, activation="softmax", input_dim=2)], seed=0)
    figures.append(nnc.plot.decision_boundary(model_2d, x[:, :2], labels, resolution=10))
    assert plt.get_fignums() == before
    for fig in figures:
        assert fig.savefig.__self__ is fig  # a real Figure, still drawable


def test_notebook_detection_never_imports_ipython(tmp_path):
    from helpers.processes import run_python

    code = ("import sys, nnc\n"
            "assert nnc.progress.in_notebook() is False\n"
            "assert nnc.progress.resolve_verbose('auto') == 2  # not a terminal either\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in\n"
            "             ('IPython', 'matplotlib', 'torch', 'sklearn')))\n")
    out = run_python(["-c", code], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
