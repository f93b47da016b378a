"""Data-parallel training throughput: scenario (b) of bench/compare.py
(784-512-512-10 relu, softmax, Adam 1e-3, float32, global batch 256, one
epoch over 60000 x 784 synthetic rows) trained by nnc.distributed.fit with
1 and 2 processes (torch.distributed, gloo, loopback; 1 engine thread each),
and the share of each step spent summing gradients across processes.

    python bench/data_parallel.py                     # 3 interleaved rounds
    python bench/data_parallel.py --rounds 5 --rows 30000 --json

Each round launches ``python -m torch.distributed.run --standalone
--nproc_per_node=N`` for N = 1, 2 (interleaved, so load changes hit both);
the medians are printed. "exchange" is the time in the gradient sum
(all_to_all + all_gather) inside fit, which includes waiting for the slower
rank; "pure exchange" times the same sum after a barrier, 50 times, on the
trained model's gradient: the transfer alone; "gloo all_reduce" times
torch.distributed.all_reduce on the same buffer the same way, for
comparison (fit does not use it: gloo does not document its order of
addition). docs/scaling.md builds its
speed-up model from these numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = [784, 512, 512, 10]
GLOBAL_BATCH = 256


def worker(out: str, rows: int) -> None:
    import numpy as np
    import torch.distributed as dist

    import nnc
    import nnc.distributed

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    nnc.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.random((rows, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=rows)
    shard = slice(rank * rows // world, (rank + 1) * rows // world)
    layers = [nnc.Input(SIZES[0])]
    layers += [nnc.Dense(units, activation="relu") for units in SIZES[1:-1]]
    layers.append(nnc.Dense(SIZES[-1], activation="softmax"))
    model = nnc.Sequential(layers, dtype="float32", seed=0)
    model.compile(optimizer=nnc.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    history = nnc.distributed.fit(model, x[shard], y[shard], epochs=1,
                                  global_batch_size=GLOBAL_BATCH, shuffle=True)
    steps = -(-(rows // world) // (GLOBAL_BATCH // world))

    # The exchange alone: the same sum, each call after a barrier.
    import torch

    from nnc.distributed import _Exchange
    _, grad = model.engine.shard_gradients(x[:8], y[:8], None, 0, 8)
    exchange = _Exchange(torch, dist, None, model.engine.num_params, np.dtype(np.float32))
    pure, allreduce = [], []
    tensor = torch.from_numpy(grad.copy())
    for _ in range(50):
        dist.barrier()
        start = time.perf_counter()
        exchange.sum(grad)
        pure.append(time.perf_counter() - start)
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(tensor)  # for comparison only: its order of addition is gloo's
        allreduce.append(time.perf_counter() - start)
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"world": world, "rows": rows, "steps": steps,
                       "params": int(model.engine.num_params),
                       "epoch_seconds": history["seconds"][0],
                       "exchange_seconds": history["exchange_seconds"][0],
                       "pure_exchange_seconds": statistics.median(pure),
                       "allreduce_seconds": statistics.median(allreduce)}, f)
    dist.destroy_process_group()


def launch(world: int, rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={world}", os.path.abspath(__file__),
                        "--worker", out, "--rows", str(rows)],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(out) as f:
            return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows)
        return
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for world in (1, 2):
            runs[world].append(launch(world, args.rows))
    summary = {}
    for world, results in runs.items():
        epoch = statistics.median(r["epoch_seconds"] for r in results)
        exch = statistics.median(r["exchange_seconds"] for r in results)
        steps = results[0]["steps"]
        summary[world] = {
            "samples_per_s": args.rows / epoch,
            "step_ms": 1e3 * epoch / steps,
            "exchange_ms_per_step": 1e3 * exch / steps,
            "exchange_share": exch / epoch,
            "pure_exchange_ms": 1e3 * statistics.median(r["pure_exchange_seconds"]
                                                        for r in results),
            "allreduce_ms": 1e3 * statistics.median(r["allreduce_seconds"] for r in results),
            "params": results[0]["params"], "steps": steps,
        }
    if args.json:
        print(json.dumps({"rounds": args.rounds, "rows": args.rows, "results": summary}, indent=2))
        return
    params = summary[1]["params"]
    print(f"scenario b: {'-'.join(map(str, SIZES))}, float32, Adam, global batch {GLOBAL_BATCH}, "
          f"{args.rows} rows, {params} parameters ({params * 4 / 1e6:.2f} MB of gradient per "
          f"step), median of {args.rounds} interleaved rounds, {os.cpu_count()} cores")
    print(f"{'processes':>9} {'samples/s':>10} {'step ms':>8} {'exchange ms':>12} "
          f"{'share':>6} {'pure exchange ms':>17} {'gloo all_reduce ms':>19}")
    for world, s in summary.items():
        print(f"{world:>9} {s['samples_per_s']:>10.0f} {s['step_ms']:>8.2f} "
              f"{s['exchange_ms_per_step']:>12.2f} {100 * s['exchange_share']:>5.1f}% "
              f"{s['pure_exchange_ms']:>17.2f} {s['allreduce_ms']:>19.2f}")
    print(f"speed-up of 2 processes over 1: "
          f"{summary[2]['samples_per_s'] / summary[1]['samples_per_s']:.2f}x")


if __name__ == "__main__":
    main()
