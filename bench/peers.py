"""The libraries compare.py measures, each behind the same small interface:
a trainer has `name`, `samples` (rows one epoch trains on) and `epoch()`;
a predictor has `name` and `__call__(x)`. Each runs at the thread count it
is given (compare.py sets XLA's flags before JAX is imported).

The peers are imported only when built, so a missing one is skipped with a
note (`available`), never replaced by something else.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import warnings

import numpy as np

import nnc

LR = 1e-3


def available(lib: str) -> bool:
    """Whether a peer's packages are installed (without importing them)."""
    mods = {"torch": ["torch"], "sklearn": ["sklearn"], "jax": ["jax", "optax"],
            "keras": ["keras", "jax"], "onnxruntime": ["onnxruntime", "onnx"]}[lib]
    return all(importlib.util.find_spec(m) is not None for m in mods)


@contextlib.contextmanager
def blas_threads(n):
    """Limit NumPy's BLAS (used by NumPy and scikit-learn) to n threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=n):
        yield


def glorot(sizes, dtype, seed):
    """Glorot-uniform weights and zero biases, the same for every peer built
    from them (JAX)."""
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6.0 / (a + b))
        params.append((rng.uniform(-lim, lim, (a, b)).astype(dtype), np.zeros(b, dtype)))
    return params


# ------------------------------------------------------------------ training


class NncTrainer:
    name = "nnc"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        self.x, self.y, self.batch, self.threads, self.epochs = x, y, batch, threads, epochs
        self.samples = x.shape[0]
        layers = [nnc.Input(sizes[0])]
        for i, units in enumerate(sizes[1:]):
            last = i == len(sizes) - 2
            layers.append(nnc.Dense(units, activation="softmax" if last else act))
        self.model = nnc.Sequential(layers, dtype=x.dtype.name, seed=seed)
        self.model.compile(optimizer=nnc.optimizers.Adam(learning_rate=LR),
                           loss="sparse_categorical_crossentropy")

    def epoch(self):
        """`epochs` epochs in one call: the user's `fit`."""
        nnc.set_num_threads(self.threads)
        self.model.fit(self.x, self.y, epochs=self.epochs, batch_size=self.batch,
                       shuffle=True, verbose=0)


class NncOneEpochCalls(NncTrainer):
    """`fit(epochs=1)` called `epochs` times (a notebook's loop)."""

    name = "nnc_fit_per_epoch"

    def epoch(self):
        nnc.set_num_threads(self.threads)
        for _ in range(self.epochs):
            self.model.fit(self.x, self.y, epochs=1, batch_size=self.batch, shuffle=True,
                           verbose=0)


class TorchTrainer:
    name = "torch"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        import torch

        self.torch, self.batch, self.threads, self.epochs = torch, batch, threads, epochs
        self.samples = x.shape[0]
        torch.manual_seed(seed)
        dtype = torch.float64 if x.dtype == np.float64 else torch.float32
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(torch.nn.Linear(a, b, dtype=dtype))
            if i < len(sizes) - 2:
                mods.append(torch.nn.ReLU() if act == "relu" else torch.nn.Tanh())
        self.net = torch.nn.Sequential(*mods)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        self.loss = torch.nn.CrossEntropyLoss()  # log-softmax + NLL, fused
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(self):
        torch = self.torch
        torch.set_num_threads(self.threads)
        n = self.x.shape[0]
        for _ in range(self.epochs):
            perm = torch.randperm(n)
            for start in range(0, n, self.batch):
                idx = perm[start:start + self.batch]
                xb, yb = self.x[idx], self.y[idx]
                self.opt.zero_grad(set_to_none=True)
                loss = self.loss(self.net(xb), yb)
                loss.backward()
                self.opt.step()


class SklearnTrainer:
    name = "sklearn"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        from sklearn.neural_network import MLPClassifier

        self.x, self.y, self.threads, self.epochs = x, y, threads, epochs
        self.samples = x.shape[0]
        self.clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation=act,
                                 solver="adam", learning_rate_init=LR, batch_size=batch,
                                 alpha=0.0, shuffle=True, random_state=seed)
        with blas_threads(threads):  # initialise (weights, label binarizer)
            self.clf.partial_fit(x[:batch], y[:batch], classes=np.arange(sizes[-1]))

    def epoch(self):
        with blas_threads(self.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(self.epochs):
                self.clf.partial_fit(self.x, self.y)  # one epoch over all rows


class _JaxModel:
    """The net, its loss and one optax Adam step, jitted."""

    def __init__(self, sizes, x, seed, act):
        import jax
        import jax.numpy as jnp
        import optax

        self.jax, self.jnp = jax, jnp
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in glorot(sizes, x.dtype, seed)]
        activation = jax.nn.relu if act == "relu" else jnp.tanh
        opt = optax.adam(LR)
        self.opt_state = opt.init(self.params)

        def loss_fn(params, xb, yb):
            h = xb
            for w, b in params[:-1]:
                h = activation(h @ w + b)
            w, b = params[-1]
            logits = h @ w + b
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        def step(params, opt_state, xb, yb):
            grads = jax.grad(loss_fn)(params, xb, yb)
            updates, opt_state = opt.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state

        self.step = step


class JaxStepTrainer:
    """A Python loop over shuffled batches calling one jitted optax step
    (the usual JAX training loop)."""

    name = "jax_step"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        self.m = _JaxModel(sizes, x, seed, act)
        self.jstep = self.m.jax.jit(self.m.step, donate_argnums=(0, 1))
        self.x, self.y, self.batch, self.epochs = x, y.astype(np.int32), batch, epochs
        self.samples = x.shape[0]
        self.rng = np.random.default_rng(seed)

    def epoch(self):
        p, s = self.m.params, self.m.opt_state
        n = self.x.shape[0]
        for _ in range(self.epochs):
            perm = self.rng.permutation(n)
            for start in range(0, n, self.batch):
                idx = perm[start:start + self.batch]
                p, s = self.jstep(p, s, self.x[idx], self.y[idx])
        self.m.jax.block_until_ready(p)
        self.m.params, self.m.opt_state = p, s


class JaxScanTrainer:
    """The whole epoch as one jitted function: a `lax.scan` of the optax
    step over the data pre-batched on the device (no shuffling: the fastest
    JAX can do), then one step on the remainder rows, so that it trains on
    the same rows in the same number of steps as the others."""

    name = "jax_scan"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        self.m = _JaxModel(sizes, x, seed, act)
        jax, jnp = self.m.jax, self.m.jnp
        n, self.epochs, self.samples = x.shape[0], epochs, x.shape[0]
        full = n // batch * batch
        self.xs = jnp.asarray(x[:full].reshape(n // batch, batch, -1))
        self.ys = jnp.asarray(y[:full].astype(np.int32).reshape(n // batch, batch))
        self.xr = jnp.asarray(x[full:]) if full < n else None
        self.yr = jnp.asarray(y[full:].astype(np.int32)) if full < n else None
        step = self.m.step

        def one_epoch(params, opt_state, xs, ys, xr, yr):
            def body(carry, b):
                return step(*carry, *b), None

            (params, opt_state), _ = jax.lax.scan(body, (params, opt_state), (xs, ys))
            if xr is not None:
                params, opt_state = step(params, opt_state, xr, yr)
            return params, opt_state

        self.jepoch = jax.jit(one_epoch, donate_argnums=(0, 1))

    def epoch(self):
        p, s = self.m.params, self.m.opt_state
        for _ in range(self.epochs):
            p, s = self.jepoch(p, s, self.xs, self.ys, self.xr, self.yr)
        self.m.jax.block_until_ready(p)
        self.m.params, self.m.opt_state = p, s


class KerasTrainer:
    """Keras 3 on the JAX backend: `model.fit`, the user's call."""

    name = "keras"

    def __init__(self, sizes, batch, threads, x, y, seed=0, act="relu", epochs=1):
        import keras

        keras.utils.set_random_seed(seed)
        dtype = x.dtype.name
        layers = [keras.Input((sizes[0],), dtype=dtype)]
        for i, units in enumerate(sizes[1:]):
            last = i == len(sizes) - 2
            layers.append(keras.layers.Dense(units, activation="softmax" if last else act,
                                             dtype=dtype))
        self.model = keras.Sequential(layers)
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR),
                           loss="sparse_categorical_crossentropy")
        self.x, self.y, self.batch, self.epochs = x, y, batch, epochs
        self.samples = x.shape[0]

    def epoch(self):
        self.model.fit(self.x, self.y, epochs=self.epochs, batch_size=self.batch,
                       shuffle=True, verbose=0)


class NumpyLimit:
    """NumPy's matmul (its BLAS) on one training step's products (forward
    a.W, weight gradient a^T.d, delta d.W^T for every layer but the first),
    repeated for as many steps as an epoch has, into preallocated outputs."""

    name = "numpy"

    def __init__(self, sizes, batch, threads, x, y=None, seed=0, act=None, epochs=1):
        rng = np.random.default_rng(seed)
        dtype = x.dtype
        self.threads, self.epochs, self.samples = threads, epochs, x.shape[0]
        self.steps = max(1, -(-x.shape[0] // batch))
        self.products = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            act_ = rng.random((batch, a)).astype(dtype)
            w = rng.random((a, b)).astype(dtype)
            d = rng.random((batch, b)).astype(dtype)
            self.products.append((act_, w, np.empty((batch, b), dtype)))      # a.W
            self.products.append((act_.T, d, np.empty((a, b), dtype)))        # a^T.d
            if i > 0:
                self.products.append((d, w.T, np.empty((batch, a), dtype)))  # d.W^T

    def epoch(self):
        with blas_threads(self.threads):
            for _ in range(self.epochs * self.steps):
                for a, b, out in self.products:
                    np.matmul(a, b, out=out)


class NumpyForward:
    """NumPy's matmul on the forward products a.W of `rows`, layer by layer
    into preallocated outputs: the practical limit of a prediction."""

    def __init__(self, sizes, rows, threads, seed=0):
        rng = np.random.default_rng(seed)
        self.rows, self.threads = rows, threads
        self.ws = [rng.random((a, b)).astype(rows.dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        self.outs = [np.empty((rows.shape[0], b), rows.dtype) for b in sizes[1:]]

    def __call__(self):
        with blas_threads(self.threads):
            a = self.rows
            for w, out in zip(self.ws, self.outs):
                np.matmul(a, w, out=out)
                a = out


TRAINERS = {"nnc": NncTrainer, "torch": TorchTrainer, "sklearn": SklearnTrainer,
            "jax": [JaxStepTrainer, JaxScanTrainer], "keras": KerasTrainer}


# ---------------------------------------------------------------- prediction


def nnc_predictor(sizes, x, threads):
    """A trained-shape nnc model's predict, and the model (for export)."""
    trainer = NncTrainer(sizes, 64, threads, x[:64], np.zeros(64, np.int64))
    model = trainer.model
    return (lambda rows: model.predict(rows)), model


def torch_predictor(sizes, threads):
    import torch

    torch.set_num_threads(threads)
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(torch.nn.Linear(a, b))
        mods.append(torch.nn.ReLU() if i < len(sizes) - 2 else torch.nn.Softmax(dim=1))
    net = torch.nn.Sequential(*mods)

    def run(rows):
        with torch.inference_mode():
            return net(torch.from_numpy(rows))

    return run


def jax_predictor(sizes, x):
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in glorot(sizes, x.dtype, 0)]

    @jax.jit
    def forward(rows):
        h = rows
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        return jax.nn.softmax(h @ w + b)

    return lambda rows: forward(rows).block_until_ready()


def sklearn_predictor(sizes, x, threads):
    clf = SklearnTrainer(sizes, 64, threads, x[:640], np.arange(640) % sizes[-1]).clf

    def run(rows):
        with blas_threads(threads):
            return clf.predict_proba(rows)

    return run


def onnxruntime_predictors(model, threads, example_rows):
    """nnc's own ONNX export of `model` in onnxruntime: `run` (the plain
    `session.run`) and `iobinding` (input and output bound once per shape,
    onnxruntime's fastest path)."""
    import onnxruntime as ort

    path = os.path.join(tempfile.mkdtemp(prefix="nnc-bench-"), "model.onnx")
    model.to_onnx(path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    in_name, out_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    n_out = model.layers[-1].units
    bindings = {}

    def bound(rows):
        key = (rows.shape, rows.__array_interface__["data"][0])
        if key not in bindings:
            b = sess.io_binding()
            b.bind_cpu_input(in_name, rows)
            out = np.empty((rows.shape[0], n_out), rows.dtype)
            b.bind_output(out_name, "cpu", 0, out.dtype, out.shape, out.ctypes.data)
            bindings[key] = (b, out)
        b, out = bindings[key]
        sess.run_with_iobinding(b)
        return out

    def run(rows):
        return sess.run([out_name], {in_name: rows})[0]

    for rows in example_rows:
        bound(rows)
    return run, bound
