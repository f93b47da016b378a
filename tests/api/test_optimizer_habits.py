"""The habits users bring from torch and Keras to nnc.optimizers: both
libraries' argument names (aliases that cannot be given together), a
settable ``optimizer.learning_rate`` that the next compiled step uses,
LearningRateScheduler with f(epoch) and f(epoch, lr), ReduceLROnPlateau on
a constant rate (and refused under a schedule, as Keras refuses)."""

import os
import re

import numpy as np
import pytest
from helpers.optional import require

import nnc
from nnc import callbacks as cb
from nnc.optimizers import schedules as S

os.environ.setdefault("KERAS_BACKEND", "torch")

ALIASES = [
    ("SGD", {"lr": 0.2}, {"learning_rate": 0.2}),
    ("Adam", {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6},
     {"learning_rate": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adam", {"beta_2": 0.9}, {"betas": (0.9, 0.9)}),
    ("AdamW", {"lr": 0.003, "beta_1": 0.5}, {"learning_rate": 0.003, "betas": (0.5, 0.999)}),
    ("RMSprop", {"lr": 0.05, "rho": 0.9, "epsilon": 1e-7}, {"learning_rate": 0.05, "alpha": 0.9,
                                                             "eps": 1e-7}),
    ("Adagrad", {"lr": 0.3, "epsilon": 1e-7}, {"learning_rate": 0.3, "eps": 1e-7}),
    ("LBFGS", {"lr": 0.5}, {"learning_rate": 0.5}),
]


@pytest.mark.parametrize("name, alias_kwargs, canonical", ALIASES,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ALIASES)])
def test_aliases_mean_the_canonical_setting(name, alias_kwargs, canonical):
    cls = getattr(nnc.optimizers, name)
    assert cls(**alias_kwargs).get_config() == cls(**canonical).get_config()
    assert cls(**alias_kwargs).get_config() != cls().get_config()


@pytest.mark.parametrize("name, kwargs, names", [
    ("SGD", {"lr": 0.1, "learning_rate": 0.2}, ("learning_rate", "lr")),
    ("Adam", {"betas": (0.9, 0.99), "beta_1": 0.8}, ("betas", "beta_1")),
    ("Adam", {"eps": 1e-8, "epsilon": 1e-7}, ("eps", "epsilon")),
    ("RMSprop", {"alpha": 0.9, "rho": 0.8}, ("alpha", "rho")),
])
def test_both_spellings_raise_type_error_naming_both(name, kwargs, names):
    with pytest.raises(TypeError) as info:
        getattr(nnc.optimizers, name)(**kwargs)
    for spelled in names:
        assert repr(spelled) in str(info.value)


def test_positional_and_alias_together_refused():
    with pytest.raises(TypeError, match="'learning_rate' and its alias 'lr'"):
        nnc.optimizers.SGD(0.1, lr=0.2)


def test_keras_spellings_accepted_by_keras_too():
    """The Keras names are Keras's own: Keras's classes take the same
    keywords (so a Keras user's call runs unchanged)."""
    keras = require("keras")
    for name, kwargs in [("Adam", {"beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6}),
                         ("RMSprop", {"rho": 0.9, "epsilon": 1e-7}),
                         ("SGD", {"momentum": 0.9, "nesterov": True})]:
        getattr(keras.optimizers, name)(learning_rate=0.01, **kwargs)
        getattr(nnc.optimizers, name)(learning_rate=0.01, **kwargs)


def small_model(optimizer, seed=3):
    model = nnc.Sequential([nnc.Input(3), nnc.Dense(4, activation="tanh"), nnc.Dense(1)],
                           dtype="float64", seed=seed)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_learning_rate_setter_takes_effect_on_the_next_step():
    """optimizer.learning_rate = v: the next train_on_batch step uses v
    (momentum buffer kept), as torch's param_group['lr'] = v does."""
    torch = require("torch")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    model = small_model(nnc.optimizers.SGD(lr=0.1, momentum=0.9))
    params = [torch.tensor(w, requires_grad=True) for w in model.get_weights()]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, foreach=False)
    for step, lr in enumerate([0.1, 0.1, 0.02, 0.02, 0.3]):
        if step == 2 or step == 4:
            model.optimizer.learning_rate = lr
            opt.param_groups[0]["lr"] = lr
        assert model.optimizer.learning_rate == lr == model.learning_rate
        model.train_on_batch(x, y)
        opt.zero_grad()
        z = torch.tanh(torch.tensor(x) @ params[0] + params[1]) @ params[2] + params[3]
        (0.5 * ((z - torch.tensor(y)) ** 2).sum(dim=1)).mean().backward()
        opt.step()
    for mine, theirs in zip(model.get_weights(), params):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_learning_rate_setter_validates():
    opt = nnc.optimizers.Adam()
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    assert opt.learning_rate == 1e-3
    opt.learning_rate = 0.05
    assert opt.get_config()["learning_rate"] == 0.05


def test_learning_rate_scheduler_takes_both_forms():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    seen = {}
    for form, fn in [("one", lambda epoch: 0.1 / (epoch + 1)),
                     ("two", lambda epoch, lr: 0.1 / (epoch + 1)),
                     ("default", lambda epoch, lr=None: 0.1 / (epoch + 1))]:
        model = small_model(nnc.optimizers.SGD(lr=0.5))
        history = model.fit(x, y, epochs=3, batch_size=5, verbose=0,
                            callbacks=[cb.LearningRateScheduler(fn)])
        seen[form] = (history.history["learning_rate"], model.get_weights())
    assert seen["one"][0] == pytest.approx([0.1, 0.05, 0.1 / 3])
    for form in ("two", "default"):
        assert seen[form][0] == seen["one"][0]
        for a, b in zip(seen[form][1], seen["one"][1]):
            assert np.array_equal(a, b)
    received = []
    model = small_model(nnc.optimizers.SGD(lr=0.5))
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[cb.LearningRateScheduler(lambda e, lr: received.append(lr) or lr / 2)])
    assert received == [0.5, 0.25]
    with pytest.raises(TypeError, match="schedule"):
        cb.LearningRateScheduler(lambda: 0.1)


def test_keras_learning_rate_scheduler_takes_both_forms_too():
    keras = require("keras")
    keras.callbacks.LearningRateScheduler(lambda epoch: 0.1)
    keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr)


def test_reduce_lr_on_plateau_on_a_constant_rate():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    model = small_model(nnc.optimizers.Adam(lr=0.01))
    # min_delta larger than any improvement: every epoch counts as a plateau.
    reduce = cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[reduce])
    # Epoch 0 improves on +inf; from epoch 1 on each end halves the rate.
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])
    assert model.optimizer.learning_rate == pytest.approx(0.01 / 8)


def test_reduce_lr_on_plateau_refuses_a_schedule():
    """Keras's ReduceLROnPlateau sets optimizer.learning_rate, which Keras
    refuses under a schedule; nnc refuses at the start of fit."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    model = small_model(nnc.optimizers.Adam(lr=S.ExponentialDecay(0.01, 5, 0.5)))
    with pytest.raises(TypeError, match="ReduceLROnPlateau.*schedule"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[cb.ReduceLROnPlateau(monitor="loss")])


def test_readme_optimizer_example_prints_what_it_says(capsys):
    from helpers.paths import REPO

    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- optimizer-example -->\s*```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(block, "README optimizer example", "exec"), {})
    printed = capsys.readouterr().out.strip()
    assert printed == "0.032725"
    assert f"prints `{printed}`" in readme


def test_copies_of_a_compiled_optimizer_are_unbound():
    import copy
    import pickle

    model = small_model(nnc.optimizers.Adam(lr=0.01))
    model.learning_rate = 0.02
    for twin in (copy.deepcopy(model.optimizer), pickle.loads(pickle.dumps(model.optimizer))):
        assert twin.learning_rate == 0.02
        twin.learning_rate = 0.5
        assert model.learning_rate == 0.02


def test_a_replaced_optimizer_no_longer_drives_the_model():
    first = nnc.optimizers.SGD(lr=0.1)
    model = small_model(first)
    model.compile(optimizer=nnc.optimizers.SGD(lr=0.2), loss="mse")
    first.learning_rate = 0.7
    assert model.learning_rate == 0.2 and first.learning_rate == 0.7
