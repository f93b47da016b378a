"""What subnormal numbers cost in training, nnc against PyTorch with and
without flushing them (docs/design.md, Subnormal numbers).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/subnormals.py
    python bench/subnormals.py --rows 2000 --epochs 2     # a smoke run

784-128-10 relu, batch 64, Adam 1e-3, float32, softmax cross-entropy, on
uniform random rows and labels (dead ReLU units appear within an epoch, and
their Adam moments decay into subnormals), 1 thread. nnc always flushes;
torch runs with its default (IEEE subnormals) and with
`torch.set_flush_denormal(True)`. Printed: seconds of each epoch (the first
starts from fresh moments, so the cost shows from the second on) and the
speed of the flushed torch over its default. On AMD Zen cores subnormals
cost little and the two torch rows agree; on Intel cores every operation
on one takes a microcode assist.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nnc


def nnc_epochs(x, y, epochs):
    model = nnc.Sequential([nnc.Input(784), nnc.Dense(128, activation="relu"),
                            nnc.Dense(10, activation="softmax")], dtype="float32", seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        times.append(time.perf_counter() - t)
    return times


def torch_epochs(torch, x, y, epochs, flush):
    torch.set_flush_denormal(flush)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    try:
        for _ in range(epochs):
            t = time.perf_counter()
            perm = torch.randperm(len(xt))
            for i in range(0, len(xt), 64):
                idx = perm[i:i + 64]
                opt.zero_grad()
                loss_fn(net(xt[idx]), yt[idx]).backward()
                opt.step()
            times.append(time.perf_counter() - t)
    finally:
        torch.set_flush_denormal(False)  # torch's default
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args(argv)
    nnc.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.random((args.rows, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.rows)
    print(f"784-128-10 relu, batch 64, Adam, float32, {args.rows} rows, 1 thread; "
          "seconds per epoch")
    rows = {"nnc (flushes)": nnc_epochs(x, y, args.epochs)}
    try:
        import torch
    except ImportError:
        print("note: torch is not installed: its rows are left out")
    else:
        torch.set_num_threads(1)
        rows["torch, IEEE (default)"] = torch_epochs(torch, x, y, args.epochs, False)
        rows["torch, set_flush_denormal"] = torch_epochs(torch, x, y, args.epochs, True)
    for name, times in rows.items():
        print(f"  {name:28s} " + "  ".join(f"{t:6.3f}" for t in times))
    if "torch, IEEE (default)" in rows:
        later = slice(1, None) if args.epochs > 1 else slice(None)
        ieee = sum(rows["torch, IEEE (default)"][later])
        flushed = sum(rows["torch, set_flush_denormal"][later])
        mine = sum(rows["nnc (flushes)"][later])
        print(f"torch flushed / torch default speed (epochs after the first): "
              f"{ieee / flushed:.2f}x")
        print(f"nnc / torch default speed (same epochs): {ieee / mine:.2f}x")


if __name__ == "__main__":
    main()
