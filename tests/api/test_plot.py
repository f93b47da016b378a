"""nnc.plot: every figure renders to PNG with the Agg backend and shows what
it claims; a clear ImportError without matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers.optional import require

import nnc

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def agg():
    """matplotlib with the Agg backend: the figure tests need it; the last
    test, about its absence, runs without it."""
    require("matplotlib").use("Agg")


def save_png(fig, path):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    fig.savefig(path)
    plt.close(fig)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000
    return data


@pytest.fixture(params=["float32", "float64"])
def trained(request):
    x, labels = nnc.datasets.make_moons(n_samples=120, noise=0.1, seed=0)
    model = nnc.Sequential([nnc.Dense(8, activation="relu", input_dim=2),
                            nnc.Dense(6, activation="tanh"),
                            nnc.Dense(2, activation="softmax")], dtype=request.param, seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, labels, epochs=4, batch_size=32, validation_split=0.25, verbose=0,
                     callbacks=[nnc.callbacks.GradientStats()])
    return model, hist, x, labels


def test_history_figure(agg, trained, tmp_path):
    _, hist, _, _ = trained
    fig = nnc.plot.history(hist)
    loss_ax, metric_ax, rate_ax = fig.axes  # the learning rate on its own axes
    assert sorted(line.get_label() for line in loss_ax.lines) == ["loss", "val_loss"]
    assert sorted(line.get_label() for line in metric_ax.lines) == ["accuracy", "val_accuracy"]
    assert [line.get_label() for line in rate_ax.lines] == ["learning_rate"]
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), hist.history["loss"])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3, 4])
    save_png(fig, tmp_path / "history.png")
    fig = nnc.plot.history(hist.history, keys="loss")  # the plain dict works too
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss"]
    save_png(fig, tmp_path / "loss.png")
    with pytest.raises(ValueError, match="not recorded"):
        nnc.plot.history(hist, keys=["nope"])
    with pytest.raises(TypeError, match="History"):
        nnc.plot.history([1, 2])


def test_activation_histograms_figure(agg, trained, tmp_path):
    model, _, x, _ = trained
    fig = nnc.plot.activation_histograms(model, x, bins=15, title="moons")
    assert len(fig.axes) == 3
    stats = model.activation_stats(x, bins=15)
    for ax, s in zip(fig.axes, stats):
        heights = [p.get_height() for p in ax.patches]
        np.testing.assert_array_equal(heights, s["hist_counts"])
        assert s["name"] in ax.get_title()
    assert "dead" in fig.axes[0].get_title() and "saturated" in fig.axes[1].get_title()
    save_png(fig, tmp_path / "activations.png")


def test_gradient_norms_figure(agg, trained, tmp_path):
    _, hist, _, _ = trained
    fig = nnc.plot.gradient_norms(hist, weights=True)
    grad_ax, weight_ax = fig.axes
    assert [line.get_label() for line in grad_ax.lines] == ["dense_1", "dense_2", "dense_3"]
    np.testing.assert_allclose(grad_ax.lines[1].get_ydata(), hist.history["grad_norm/dense_2"])
    assert grad_ax.get_yscale() == "log" and len(weight_ax.lines) == 3
    save_png(fig, tmp_path / "grads.png")
    with pytest.raises(ValueError, match="GradientStats"):
        nnc.plot.gradient_norms({"loss": [1.0]})


def test_decision_boundary_figure(agg, trained, tmp_path):
    model, _, x, labels = trained
    fig = nnc.plot.decision_boundary(model, x, labels, resolution=50)
    ax = fig.axes[0]
    # The filled surface is the predicted class: both classes appear.
    assert len(ax.collections) >= 2
    save_png(fig, tmp_path / "boundary.png")
    one_hot = nnc.datasets.one_hot(labels, 2)
    save_png(nnc.plot.decision_boundary(model, x, one_hot, resolution=20), tmp_path / "b2.png")
    wide = nnc.Sequential([nnc.Dense(1, input_dim=3)], seed=0)
    with pytest.raises(ValueError, match="2 inputs"):
        nnc.plot.decision_boundary(wide, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="y: expected 120 labels"):
        nnc.plot.decision_boundary(model, x, labels[:5])
    with pytest.raises(ValueError, match="resolution"):
        nnc.plot.decision_boundary(model, x, labels, resolution=1)


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, trained):
    _, hist, _, _ = trained
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    with pytest.raises(ImportError, match="pip install matplotlib"):
        nnc.plot.history(hist)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        nnc.plot.gradient_norms(hist)
