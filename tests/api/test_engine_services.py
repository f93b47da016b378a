"""What the facade takes from the engine instead of knowing it twice: the
optimizer settings table, the compile rules and their messages, the
parameter layout, the statuses as exception classes; and the services a
model offers nnc's other modules (docs/architecture.md)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import nnc
from nnc import _core
from nnc.errors import EngineError, FormatError, InvalidArgumentError, ModelFileError

OPTIMIZERS = [nnc.optimizers.SGD, nnc.optimizers.Adagrad, nnc.optimizers.RMSprop,
              nnc.optimizers.Adam, nnc.optimizers.AdamW, nnc.optimizers.LBFGS]


# ------------------------------------------------------------------ statuses


@pytest.mark.parametrize("name, builtin, status", [
    ("InvalidArgumentError", ValueError, 1), ("OutOfMemoryError", MemoryError, 2),
    ("SizeOverflowError", MemoryError, 3), ("ShapeError", ValueError, 4),
    ("UnsupportedError", ValueError, 5), ("StateError", RuntimeError, 6),
    ("NonFiniteError", ValueError, 7), ("TrainingInterrupted", RuntimeError, 8),
    ("FormatError", ValueError, 9),
])
def test_each_status_is_a_class_of_the_builtin_it_was(name, builtin, status):
    cls = getattr(nnc.errors, name)
    assert issubclass(cls, EngineError) and issubclass(cls, builtin)
    assert cls.status == status  # nnc_status in csrc/include/nnc.h
    assert cls is getattr(_core, name)


def test_engine_refusals_carry_their_status():
    with pytest.raises(InvalidArgumentError, match=r"^eps: expected a finite number >= 0") as e:
        nnc.optimizers.Adam(eps=-1.0)
    assert e.value.status == 1 and isinstance(e.value, ValueError)
    model = nnc.Sequential([nnc.Dense(4, input_dim=2), nnc.Dropout(0.5), nnc.Dense(1)], seed=0)
    with pytest.raises(nnc.errors.UnsupportedError, match="L-BFGS") as e:
        model.compile(optimizer="lbfgs", loss="mse")
    assert e.value.status == 5
    with pytest.raises(MemoryError) as e:
        nnc.Sequential([nnc.Dense(10**7, input_dim=10**7)]).build()
    assert isinstance(e.value, EngineError) and e.value.status in (2, 3)
    with pytest.raises(nnc.errors.StateError, match="not compiled"):  # the engine's own order check
        nnc.Sequential([nnc.Dense(1, input_dim=2)], dtype="float64").engine.loss(
            np.zeros((1, 2)), np.zeros((1, 1)))


def test_file_errors_are_os_errors_with_a_status(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        nnc.load_binary(tmp_path / "missing.nncb")
    assert e.value.status == 10 and e.value.filename == tmp_path / "missing.nncb"
    (tmp_path / "bad.nncb").write_bytes(_core.NNCB_MAGIC + b"\0" * 200)
    with pytest.raises(ModelFileError, match="load_binary") as e:
        nnc.load_binary(tmp_path / "bad.nncb")
    assert isinstance(e.value, FormatError) and e.value.status == 9


# --------------------------------------------------------- optimizer settings


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_python_defaults_are_the_engines_table(cls):
    """The classes' signatures (torch's spellings) and the engine's one
    table agree on every default and on which fields an optimizer reads."""
    assert cls().engine_options() == _core.optimizer_defaults(cls.name)
    defaults = {name: p.default for name, p in inspect.signature(cls).parameters.items()}
    assert cls().get_config() == {"name": cls.name, **defaults}


@pytest.mark.parametrize("cls, options", [
    (nnc.optimizers.SGD, {"learning_rate": 0.5, "momentum": 0.9, "nesterov": True}),
    (nnc.optimizers.Adam, {"betas": (0.5, 0.75), "amsgrad": True, "weight_decay": 1}),
    (nnc.optimizers.LBFGS, {"max_eval": 7, "line_search_fn": "strong_wolfe"}),
    (nnc.optimizers.LBFGS, {"max_eval": None, "history_size": 3}),
    (nnc.optimizers.RMSprop, {"centered": True, "alpha": 0.5}),
])
def test_engine_fields_round_trip_to_the_python_class(cls, options):
    opt = cls(**options)
    back = cls.from_engine(opt.engine_options())
    assert back.get_config() == opt.get_config()
    assert isinstance(back.get_config()["learning_rate"], float)  # typed as the engine holds it


def test_settings_are_checked_by_the_engine_with_its_messages():
    for make, message in [
        (lambda: nnc.optimizers.SGD(nesterov=True), "^nesterov: needs momentum > 0"),
        (lambda: nnc.optimizers.RMSprop(alpha=1.0), r"^alpha: expected a number in \[0, 1\)"),
        (lambda: nnc.optimizers.LBFGS(history_size=0), r"^history_size: expected an integer"),
        (lambda: nnc.optimizers.LBFGS(tolerance_grad=float("nan")), "^tolerance_grad"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message):
            make()
    for make, message in [
        (lambda: nnc.optimizers.Adam(amsgrad=1), "^amsgrad: expected True or False"),
        (lambda: nnc.optimizers.LBFGS(max_iter=2.5), "^max_iter: expected an integer"),
        (lambda: nnc.optimizers.SGD(momentum="a lot"), "^momentum: expected a number"),
    ]:
        with pytest.raises(TypeError, match=message):
            make()
    with pytest.raises(ValueError, match="unknown optimizer option 'momentum_typo'"):
        _core.check_optimizer("adam", {"momentum_typo": 1.0})


def test_compile_rules_are_the_engines_before_and_after_build():
    """Before the model exists (no input size yet) compile applies the
    engine's own rules (nnc_compile_check), with the same message."""
    def refusal(model):
        with pytest.raises(ValueError) as e:
            model.compile(optimizer="adam", loss="binary_crossentropy")
        return str(e.value)

    unbuilt = nnc.Sequential([nnc.Dense(3, activation="relu")], seed=0)
    built = nnc.Sequential([nnc.Dense(3, activation="relu", input_dim=2)], seed=0)
    built.build()
    assert refusal(unbuilt) == refusal(built) == \
        "loss: 'binary_crossentropy' needs a 'sigmoid' output layer, the model ends with 'relu'"
    assert unbuilt.compiled_loss is None and built.compiled_loss is None
    with pytest.raises(ValueError, match="^l2: expected a finite number >= 0"):
        unbuilt.compile(loss="mse", l2=-1.0)


# ---------------------------------------------------------- the parameter layout


def test_parameter_layout_is_the_engines():
    model = nnc.Sequential([nnc.Dense(4, activation="prelu", input_dim=3),
                            nnc.Dense(2, use_bias=False)], seed=0)
    layout = model.parameter_layout
    assert [(s.layer, s.kind, s.offset, s.shape) for s in layout.slices] == [
        (0, "W", 0, (3, 4)), (0, "b", 12, (4,)), (0, "slope", 16, (4,)), (1, "W", 20, (4, 2))]
    assert layout.total == model.count_params() == 28 == _core.count_params(
        3, nnc.layers.engine_specs(model.layers))
    assert layout.names == ["dense_1", "dense_2"] and layout.layer_count(1) == 8
    assert layout.label(13) == (0, "b[1]") and layout.label(25) == (1, "W[2, 1]")
    np.testing.assert_array_equal(layout.layer_indices(1), np.arange(20, 28))
    flat = model.get_flat_params()
    for mine, theirs in zip(layout.split(flat), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert layout.layer_norms(flat)[1] == pytest.approx(float(np.linalg.norm(flat[20:])))


# ------------------------------------------------------------- model services


def test_a_callback_sees_the_training_run_only_while_it_runs():
    seen = []

    class Probe(nnc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            run = self.training_run
            seen.append((run.x.shape, run.y.dtype, run.sample_weight is None))

    model = nnc.Sequential([nnc.Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    probe = Probe()
    model.fit(np.zeros((10, 3)), np.arange(10) % 2, epochs=2, verbose=0,
              validation_split=0.2, callbacks=[probe])
    assert seen == [((8, 3), np.int64, True)] * 2  # engine-ready, validation rows held out
    assert probe.training_run is None


def test_configs_and_training_state_rebuild_the_same_model():
    model = nnc.Sequential([nnc.Dense(5, activation="tanh", input_dim=3), nnc.Dropout(0.2),
                            nnc.Dense(2, activation="softmax")], dtype="float32", seed=3)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=0.05),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(12, 3))
    y = nnc.datasets.one_hot(np.arange(12) % 2, 2)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    twin = nnc.Sequential.from_config(model.get_config())
    twin.compile_from_config(model.get_compile_config())
    twin.build()
    twin.set_training_state(model.get_training_state())
    nnc.testing.assert_models_equal(twin, model)
    assert twin.get_compile_config() == model.get_compile_config()
    a = model.fit(x, y, epochs=2, batch_size=4, verbose=0).history
    b = twin.fit(x, y, epochs=2, batch_size=4, verbose=0).history
    assert a == b  # training continues bit for bit
    bad = model.get_training_state()
    bad["optimizer_state"] = bad["optimizer_state"][:-1]
    before = twin.get_training_state()
    with pytest.raises(FormatError):
        twin.set_training_state(bad)
    for key, value in twin.get_training_state().items():  # all or nothing
        np.testing.assert_array_equal(value, before[key])
