"""Synchronous data-parallel training across processes (and machines).

Every process (rank) holds one shard of the training data and the same
compiled model. Each step, every rank computes in C the gradient of its
part of the global batch (``_core.Model.shard_gradients``), the ranks sum
those gradients through ``torch.distributed`` (gloo backend), and every rank
applies the same C optimizer step (``_core.Model.apply_gradients``). Launch
the processes with ``torchrun`` and call
``torch.distributed.init_process_group("gloo")`` in each before ``fit``.

The sum is taken in rank order, so the weights are bit-identical on every
rank and equal (to rounding) to single-process training on the same global
batches; docs/design.md "Data-parallel training" gives the scheme and
docs/scaling.md its cost. torch is imported only when ``fit`` runs:
``import nnc.distributed`` needs no torch.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from .errors import UnsupportedError

__all__ = ["fit", "global_batches"]


def _torch_distributed():
    try:
        import torch
        import torch.distributed as dist
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise ImportError("nnc.distributed needs torch: pip install 'nnc[distributed]'") from exc
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("nnc.distributed.fit: call torch.distributed.init_process_group"
                           "('gloo') first (torchrun sets the environment it reads)")
    return torch, dist


def _local_data(model, x, y, sample_weight):
    """(engine-ready data, None), or (None, why this rank cannot take part):
    a local error is first shared with the other ranks (_check_agreement),
    so that no rank is left waiting in a collective."""
    if model.optimizer is None:
        return None, "the model must be compiled on every rank before fit"
    if model.optimizer.name == "lbfgs":
        return None, ("L-BFGS is not supported: it evaluates the objective many times per "
                      "step; compile with a first-order optimizer (sgd, adam, ...)")
    try:
        return model.engine_data(x, y, sample_weight), None
    except (TypeError, ValueError) as exc:
        return None, str(exc)


def _agree(dist, group, facts: dict) -> list[dict]:
    """Every rank's `facts`, in rank order, on every rank (one collective)."""
    everyone: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(everyone, facts, group=group)
    return everyone


def _check_agreement(everyone: list[dict], rank: int) -> None:
    """Raise the same exception on every rank when one rank cannot train or
    the shards or models differ, so that no rank waits for the others."""
    for r, facts in enumerate(everyone):
        if facts["problem"]:
            where = "" if r == rank else f"rank {r}: "
            cls = UnsupportedError if "L-BFGS" in facts["problem"] else ValueError
            raise cls(f"nnc.distributed.fit: {where}{facts['problem']}")
    first = everyone[0]
    for r, facts in enumerate(everyone[1:], start=1):
        for key, what in (("x", "x"), ("y", "y"), ("sample_weight", "sample_weight"),
                          ("model", "the model (dtype, input width, parameters, loss)"),
                          ("optimizer", "the optimizer")):
            if facts[key] != first[key]:
                raise ValueError(
                    f"nnc.distributed.fit: mismatched {what} across ranks: rank 0 has "
                    f"{first[key]}, rank {r} has {facts[key]}; every rank must hold a shard "
                    "of the same shape and the same compiled model")


class _Exchange:
    """Sum of every rank's flat gradient, in rank order, bit-identical on
    every rank: a reduce-scatter built from all_to_all (rank k receives
    chunk k of every rank's buffer and adds the chunks in rank order) and an
    all_gather of the summed chunks. Each rank sends and receives
    2 (N-1)/N of the buffer, as in a ring all-reduce (docs/scaling.md)."""

    def __init__(self, torch, dist, group, n: int, dtype: np.dtype):
        self.dist, self.group = dist, group
        self.world = dist.get_world_size(group)
        self.n = n
        self.chunk = -(-n // self.world)
        padded = self.chunk * self.world
        self.send = np.zeros(padded, dtype)   # padding stays zero
        self.recv = np.empty(padded, dtype)
        self.part = np.empty(self.chunk, dtype)
        self.total = np.empty(padded, dtype)
        self.t_send, self.t_recv = torch.from_numpy(self.send), torch.from_numpy(self.recv)
        self.t_part, self.t_total = torch.from_numpy(self.part), torch.from_numpy(self.total)
        self.seconds = 0.0
        # all_gather_single is all_gather_into_tensor's newer name.
        self.all_gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor

    def sum(self, grad: np.ndarray) -> np.ndarray:
        if self.world == 1:
            return grad
        self.send[:self.n] = grad
        start = time.perf_counter()
        self.dist.all_to_all_single(self.t_recv, self.t_send, group=self.group)
        chunks = self.recv.reshape(self.world, self.chunk)
        np.copyto(self.part, chunks[0])
        for k in range(1, self.world):  # fixed order: rank 0, 1, 2, ...
            self.part += chunks[k]
        self.all_gather(self.t_total, self.t_part, group=self.group)
        self.seconds += time.perf_counter() - start
        return self.total[:self.n]


def global_batches(shards: list, global_batch_size: int) -> list[np.ndarray]:
    """The global batches that ``fit(..., shuffle=False)`` trains on when
    rank r holds ``shards[r]``: batch b is the concatenation, in rank order,
    of rows [b*k, (b+1)*k) of every shard, k = global_batch_size / N. With
    them, single-process ``train_on_batch`` is the reference of ``fit``."""
    world = len(shards)
    local = global_batch_size // world
    rows = len(shards[0])
    return [np.concatenate([np.asarray(s)[start:start + local] for s in shards])
            for start in range(0, rows, local)]


def fit(model, x, y, epochs: int = 1, global_batch_size: int = 32, sample_weight=None,
        shuffle: bool = False, seed: int | None = None, group=None) -> dict:
    """Train `model` on this rank's shard together with every other rank.

    A collective call: every rank of the process group calls it with the
    same arguments but its own shard (x, y). Each global batch of
    ``global_batch_size`` rows takes ``global_batch_size / N`` consecutive
    rows of every rank's shard, in rank order (N ranks; see
    ``global_batches``). Before the first step, rank 0's parameters and
    RNG state are copied to every rank.

    Parameters
    ----------
    model : Sequential
        Compiled the same way on every rank (any optimizer but L-BFGS).
    x, y : array_like
        This rank's shard; every rank's has the same shape.
    epochs : int
        Passes over the shards.
    global_batch_size : int
        Rows per step over all ranks, a multiple of the world size.
    sample_weight : array_like, optional
        This rank's weights of its rows.
    shuffle : bool
        Permute each rank's shard every epoch with
        ``numpy.random.default_rng([seed, epoch, rank])``.
    seed : int, optional
        The permutations' seed (rank 0's model's by default).
    group : torch.distributed.ProcessGroup, optional
        The ranks that train together (the default group by default).

    Returns
    -------
    dict
        ``"loss"``, ``"seconds"`` and ``"exchange_seconds"``, one value per
        epoch: the mean loss over the epoch's global batches (as
        ``Sequential.fit`` reports it), the epoch's wall time and the time
        spent summing gradients across ranks.

    Raises
    ------
    ValueError
        On every rank, for shards or models that differ across ranks, or
        bad data on any rank.
    UnsupportedError
        On every rank, when a rank's model uses L-BFGS.
    RuntimeError
        When torch.distributed has no process group yet.
    """
    torch, dist = _torch_distributed()
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    if isinstance(global_batch_size, bool) or not isinstance(global_batch_size, (int, np.integer)) \
            or global_batch_size < world or global_batch_size % world:
        raise ValueError(f"global_batch_size: expected a positive multiple of the world size "
                         f"{world}, got {global_batch_size!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs: expected an integer >= 0, got {epochs!r}")
    data, problem = _local_data(model, x, y, sample_weight)
    xs, ys, sws = data if data else (None, None, None)
    core = None if problem else model.engine
    facts = {"problem": problem,
             "x": None if problem else (xs.shape, str(xs.dtype)),
             "y": None if problem else (ys.shape, str(ys.dtype)),
             "sample_weight": None if problem else (sws is not None),
             "model": None if problem else (model.dtype, model.input_dim, core.num_params,
                                            model.compiled_loss),
             "optimizer": None if problem else model.optimizer.get_config()}
    _check_agreement(_agree(dist, group, facts), rank)

    # Rank 0's parameters and RNG state everywhere: the replicas start equal.
    params = torch.from_numpy(core.get_params())
    dist.broadcast(params, src=dist.get_global_rank(group, 0) if group else 0, group=group)
    core.set_params(params.numpy())
    first = _agree(dist, group, {"rng": core.get_rng_state(), "seed": core.seed})[0]
    core.set_rng_state(first["rng"])

    exchange = _Exchange(torch, dist, group, core.num_params, xs.dtype)
    seed = first["seed"] if seed is None else seed
    local = global_batch_size // world
    n = xs.shape[0]
    history: dict[str, list[float]] = {"loss": [], "seconds": [], "exchange_seconds": []}
    with model.training_lock("nnc.distributed.fit"):
        for epoch in range(epochs):
            start, exchange.seconds = time.perf_counter(), 0.0
            order = np.random.default_rng([seed, epoch, rank]).permutation(n) if shuffle else None
            loss_sum = 0.0  # this rank's part of sum_b M_b J_b (the L2 terms on rank 0)
            for lo in range(0, n, local):
                hi = min(lo + local, n)
                rows = hi - lo
                pick = slice(lo, hi) if order is None else order[lo:hi]
                xb, yb = np.ascontiguousarray(xs[pick]), np.ascontiguousarray(ys[pick])
                swb = None if sws is None else np.ascontiguousarray(sws[pick])
                global_rows = rows * world
                part, grad = core.shard_gradients(xb, yb, swb, rank * rows, global_rows)
                l2_loss = core.apply_gradients(exchange.sum(grad), global_rows)
                loss_sum += global_rows * (part + (l2_loss if rank == 0 else 0.0))
            sums = _agree(dist, group, {"loss_sum": loss_sum})
            total = 0.0
            for facts in sums:  # rank order, the same on every rank
                total += facts["loss_sum"]
            history["loss"].append(total / (n * world) if n else float("nan"))
            history["seconds"].append(time.perf_counter() - start)
            history["exchange_seconds"].append(exchange.seconds)
    return history
