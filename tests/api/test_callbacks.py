"""The training loop around the engine: History, callbacks, the progress
bar, verbose modes, non-finite losses and concurrent fits."""

import csv
import io
import math
import sys
import threading

import numpy as np
import pytest
from helpers.optional import require

import nnc
from nnc import callbacks as cb
from nnc.progress import ProgressBar


def spiral_model(seed=0, lr=0.01, metrics=("accuracy",)):
    model = nnc.Sequential([nnc.Dense(16, activation="tanh", input_dim=2),
                            nnc.Dense(2, activation="softmax")], seed=seed)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=lr),
                  loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


X, LABELS = nnc.datasets.make_spirals(n_samples=300, noise=0.2, seed=3)


def test_history_has_loss_val_loss_and_every_metric():
    model = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", "binary_accuracy", "mae", "rmse", "r2"])
    y = (X[:, 0] > 0).astype("float32")
    hist = model.fit(X, y, epochs=4, validation_data=(X[:50], y[:50]), verbose=0)
    expected = {"loss", "accuracy", "binary_accuracy", "mae", "rmse", "r2", "learning_rate"}
    assert set(hist.history) == expected | {f"val_{k}" for k in expected - {"learning_rate"}}
    assert all(len(v) == 4 for v in hist.history.values())
    assert hist.epoch == [0, 1, 2, 3]
    assert model.history is hist
    pred = model.predict(X[:50])[:, 0]
    assert hist.history["val_mae"][-1] == pytest.approx(np.mean(np.abs(pred - y[:50])), rel=1e-5)


def test_initial_epoch_numbers_the_epochs():
    model = spiral_model()
    hist = model.fit(X, LABELS, epochs=5, initial_epoch=3, verbose=0)
    assert hist.epoch == [3, 4]


def test_sample_and_class_weights_change_the_objective():
    y = (X[:, 0] > 0).astype("float32")
    base = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)], dtype="float64",
                          seed=0)
    base.compile(optimizer="sgd", loss="binary_crossentropy")
    plain = base.evaluate(X, y)
    weights = np.where(y > 0, 3.0, 1.0)
    weighted = base.evaluate(X, y, sample_weight=weights)
    assert weighted != pytest.approx(plain)
    # class_weight {1: 3} is the same as those sample weights.
    a = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)], dtype="float64", seed=0)
    b = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=2)], dtype="float64", seed=0)
    for m in (a, b):
        m.compile(optimizer="sgd", loss="binary_crossentropy")
    a.fit(X, y, epochs=2, batch_size=30, class_weight={1: 3.0}, verbose=0)
    b.fit(X, y, epochs=2, batch_size=30, sample_weight=weights, verbose=0)
    np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())


def test_early_stopping_stops_and_restores_the_best_weights():
    model = spiral_model(lr=0.05)
    seen = []
    recorder = cb.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(
        (logs["val_loss"], model.get_flat_params())))
    stopper = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    # Validation on data the model cannot fit well: it stops improving soon.
    x_val, y_val = nnc.datasets.make_spirals(n_samples=60, noise=1.5, seed=9)
    hist = model.fit(X, LABELS, epochs=200, validation_data=(x_val, y_val), verbose=0,
                     callbacks=[recorder, stopper])
    assert len(hist.epoch) < 200
    best = int(np.argmin([v for v, _ in seen]))
    assert len(seen) == best + 3  # patience 2: stopped 3 epochs after the best
    np.testing.assert_array_equal(model.get_flat_params(), seen[best][1])


def test_early_stopping_mode_max_and_min_delta():
    values = iter([0.5, 0.6, 0.601, 0.602, 0.9])
    model = spiral_model()
    fake = cb.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(score=next(values)))
    stop = cb.EarlyStopping(monitor="score", mode="max", min_delta=0.01, patience=1)
    hist = model.fit(X, LABELS, epochs=5, verbose=0, callbacks=[fake, stop])
    assert hist.epoch == [0, 1, 2]  # 0.601 is not 0.01 better than 0.6: 1 epoch of patience


def test_learning_rate_scheduler_takes_effect_from_the_next_epoch():
    model = spiral_model()
    sched = cb.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    hist = model.fit(X, LABELS, epochs=3, verbose=0, callbacks=[sched])
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    # A rate changed at the end of an epoch is the one the next epoch uses.
    rates = []
    setter = cb.LambdaCallback(
        on_epoch_begin=lambda e, logs: rates.append(model.learning_rate),
        on_epoch_end=lambda e, logs: setattr(model, "learning_rate", 0.5))
    model.fit(X, LABELS, epochs=2, verbose=0, callbacks=[setter])
    assert rates[1] == 0.5


def test_changing_the_learning_rate_changes_the_step():
    a, b = spiral_model(), spiral_model()
    b.learning_rate = 0.0
    before = b.get_flat_params()
    a.fit(X, LABELS, epochs=1, verbose=0)
    b.fit(X, LABELS, epochs=1, verbose=0)
    np.testing.assert_array_equal(b.get_flat_params(), before)
    assert not np.array_equal(a.get_flat_params(), before)


def test_reduce_lr_on_plateau():
    model = spiral_model(lr=0.01)
    losses = iter([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    fake = cb.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(val_loss=next(losses)))
    reduce = cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.003)
    hist = model.fit(X, LABELS, epochs=7, verbose=0, callbacks=[fake, reduce])
    # The learning_rate log is read before callbacks run: it shows each epoch's rate.
    # Keras' rule: reduce once `wait` reaches patience, then count again from 0,
    # so the rate halves after epochs 3 and 5 (0-based), the second time floored.
    assert hist.history["learning_rate"] == pytest.approx(
        [0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.003])
    assert model.learning_rate == pytest.approx(0.003)


def test_terminate_on_nan_and_engine_nan_guard(capsys):
    model = nnc.Sequential([nnc.Dense(1, input_dim=1)], dtype="float64", seed=0)
    model.compile(optimizer=nnc.optimizers.SGD(learning_rate=1e3), loss="mse")
    x = np.linspace(-1e3, 1e3, 64).reshape(-1, 1)
    y = 1e3 * x
    with pytest.warns(RuntimeWarning, match=r"epoch \d+: the (loss|gradient) became"):
        hist = model.fit(x, y, epochs=50, batch_size=8, verbose=0,
                         callbacks=[cb.TerminateOnNaN()])
    assert len(hist.epoch) < 50
    assert np.all(np.isfinite(model.get_flat_params()))  # the bad step was never applied
    assert all(math.isfinite(v) for v in hist.history["loss"])


def test_terminate_on_nan_callback_stops_on_a_nan_log():
    model = spiral_model()
    poison = cb.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(loss=float("nan")))
    hist = model.fit(X, LABELS, epochs=5, verbose=0, callbacks=[poison, cb.TerminateOnNaN()])
    assert hist.epoch == [0]


def test_model_checkpoint_and_csv_logger(tmp_path):
    model = spiral_model()
    ckpt = cb.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}.npz"))
    best = cb.ModelCheckpoint(tmp_path / "best.npz", monitor="loss", save_best_only=True)
    weights_only = cb.ModelCheckpoint(tmp_path / "w.npz", save_weights_only=True)
    log = cb.CSVLogger(tmp_path / "log.csv")
    hist = model.fit(X, LABELS, epochs=3, verbose=0, callbacks=[ckpt, best, weights_only, log])
    assert sorted(p.name for p in tmp_path.glob("ckpt-*")) == ["ckpt-01.npz", "ckpt-02.npz",
                                                                "ckpt-03.npz"]
    last = nnc.load_model(tmp_path / "ckpt-03.npz")
    np.testing.assert_array_equal(last.predict(X), model.predict(X))
    other = spiral_model(seed=5)
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.get_flat_params(), model.get_flat_params())
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["loss"]) for r in rows] == pytest.approx(hist.history["loss"])


def test_callback_base_class_hooks_run_in_order():
    calls = []

    class Recorder(cb.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"begin{epoch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"end{epoch}")
            assert self.model is model and self.params["epochs"] == 2

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model = spiral_model()
    model.fit(X, LABELS, epochs=2, verbose=0, callbacks=Recorder())
    assert calls == ["train_begin", "begin0", "end0", "begin1", "end1", "train_end"]


def test_stop_training_flag_from_a_callback():
    model = spiral_model()
    stopper = cb.LambdaCallback(on_epoch_end=lambda e, logs: setattr(model, "stop_training",
                                                                     e == 1))
    assert model.fit(X, LABELS, epochs=10, verbose=0, callbacks=[stopper]).epoch == [0, 1]


def test_verbose_modes(capsys, monkeypatch):
    model = spiral_model()
    model.fit(X, LABELS, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(X, LABELS, epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 1/2 - ") and "loss: " in out[0]
    model.fit(X, LABELS, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/1\n") and "10/10 [======" in out and "accuracy: " in out
    # "auto" picks the bar on a terminal and one line per epoch otherwise.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    model.fit(X, LABELS, epochs=1, verbose="auto")
    assert capsys.readouterr().out.startswith("Epoch 1/1 - ")


def test_progress_bar_drawing():
    stream = io.StringIO()
    bar = ProgressBar(0, 3, verbose=1, stream=stream)
    bar.update(5, 20, 0.75)
    bar.update(10, 20, 0.5)
    bar.finish(20, {"loss": 0.25})
    text = stream.getvalue()
    assert text.startswith("Epoch 1/3\n")
    frames = text.split("\r")
    assert " 5/20 [======>" in frames[1] and "ETA: " in frames[1] and "loss: 0.75" in frames[1]
    assert "10/20 [==============>" in frames[2]
    assert frames[3].startswith("20/20 [==============================]") and \
        frames[3].rstrip().endswith("loss: 0.25")


def test_progress_is_published_by_the_engine_during_the_epoch():
    """The engine updates the shared record after every batch (read here after
    the epoch: every batch counted, loss sum consistent with the mean)."""
    model = spiral_model()
    x, y, sw = model.engine_data(X, LABELS)
    progress = nnc._core.Progress()
    mean = model.engine.train_epoch(x, y, sw, 7, True, progress)
    assert progress.batches_total == progress.batches_done == math.ceil(300 / 7)
    assert progress.samples_done == 300
    assert progress.loss_sum / 300 == pytest.approx(mean)


def test_a_requested_stop_ends_the_epoch_before_the_next_batch():
    model = spiral_model()
    x, y, sw = model.engine_data(X, LABELS)
    progress = nnc._core.Progress()
    progress.request_stop()
    before = model.get_flat_params()
    with pytest.raises(nnc.TrainingInterrupted):
        model.engine.train_epoch(x, y, sw, 10, True, progress)
    np.testing.assert_array_equal(model.get_flat_params(), before)


def test_a_second_fit_on_a_training_model_raises():
    x, labels = nnc.datasets.make_spirals(n_samples=4000, seed=1)
    model = nnc.Sequential([nnc.Dense(256, activation="relu", input_dim=2),
                            nnc.Dense(256, activation="relu"),
                            nnc.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    started = threading.Event()
    errors = []

    def long_fit():
        model.fit(x, labels, epochs=30, batch_size=8, verbose=0,
                  callbacks=[cb.LambdaCallback(on_train_begin=lambda logs: started.set())])

    worker = threading.Thread(target=long_fit)
    worker.start()
    started.wait()
    try:
        model.fit(x, labels, epochs=1, verbose=0)
    except RuntimeError as exc:
        errors.append(str(exc))
    model.stop_training = True
    worker.join()
    assert errors and "already training" in errors[0]


def test_history_plot(tmp_path):
    require("matplotlib").use("Agg")
    model = spiral_model()
    hist = model.fit(X, LABELS, epochs=3, validation_split=0.2, verbose=0)
    fig = hist.plot()
    fig.savefig(tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 1000
    labels = {line.get_label() for ax in fig.axes for line in ax.get_lines()}
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= labels


def test_history_plot_without_matplotlib(monkeypatch):
    hist = spiral_model().fit(X, LABELS, epochs=1, verbose=0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        hist.plot()


def test_callback_arguments_are_validated():
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        cb.EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match="schedule"):
        cb.LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.0)


def test_missing_monitor_warns():
    model = spiral_model()
    with pytest.warns(UserWarning, match="'val_loss' is not in the logs"):
        model.fit(X, LABELS, epochs=1, verbose=0, callbacks=[cb.EarlyStopping()])
