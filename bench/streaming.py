"""Training on a memory-mapped array larger than the memory given to the
process: peak RSS against the model plus one chunk, and samples/s against
in-memory training (docs/design.md, Streaming data).

The memory limit is RLIMIT_AS (``ulimit -v``), set by the training process
itself once nnc is imported, the model has trained one warm-up batch (its
threads and workspace exist) and the memmap is open: the limit is the
address space in use at that point plus ``--budget-mb``. That point's
address space already includes the file's mapping, so the budget is what
training may add; the file is ``--factor`` times the budget, and the same
process then checks that copying the array into memory fails (MemoryError).
On this machine a memory cgroup is not ours to create (the session's
cgroup belongs to the machinery that runs it) and systemd-run has no bus,
so RLIMIT_AS is the limit that works. The file's pages are evicted from the
page cache first (posix_fadvise), so the first epoch reads from disk.

Peak RSS is VmHWM, reset (``/proc/self/clear_refs``) just before ``fit``;
the figure compared with the model plus one chunk is the growth of the
peak over the RSS before ``fit`` (interpreter, NumPy, nnc and the warmed-up
model come before it and are not training's).

Run: python bench/streaming.py [--budget-mb 160] [--factor 4] [--epochs 2]
     [--chunk-mb 0] [--memory-rows 65536] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

WIDTHS = (256, 10)
FEATURES = 784
BATCH = 256


def status(key: str) -> int:
    """A /proc/self/status field in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def build_model():
    import nnc

    model = nnc.Sequential([nnc.Dense(WIDTHS[0], activation="relu", input_dim=FEATURES),
                            nnc.Dense(WIDTHS[1], activation="softmax")],
                           dtype="float32", seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def model_bytes(model) -> int:
    """Parameters, gradient and Adam's two moments, plus the per-batch
    workspace (the batch, z, a and delta of every layer), float32."""
    params = model.count_params() * 4 * 4
    workspace = BATCH * (FEATURES + 3 * sum(WIDTHS)) * 4
    return params + workspace


def child(args) -> dict:
    from nnc import batch_sources

    if args.chunk_mb:
        batch_sources.CHUNK_BYTES = args.chunk_mb * 2**20
    rng = np.random.default_rng(1)
    streamed, in_memory = build_model(), build_model()
    x_mem = rng.random((args.rows, FEATURES), dtype=np.float32)
    y_mem = rng.integers(0, 10, args.rows)
    for model in (streamed, in_memory):  # warm-up: threads and workspace exist
        model.fit(x_mem[:BATCH], y_mem[:BATCH], epochs=1, batch_size=BATCH, verbose=0)
    x = np.load(args.x, mmap_mode="r")
    y = np.load(args.y)
    limit = status("VmSize") + args.budget_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        copy = np.array(x)
        copy_refused = False
        del copy
    except MemoryError:
        copy_refused = True
    chunk_rows = BATCH * max(1, batch_sources.CHUNK_BYTES // (BATCH * FEATURES * 4))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    rss_before = status("VmRSS")
    times, times_mem, cpu, cpu_mem = [], [], [], []
    for _ in range(args.epochs):  # alternating, so that both see the same machine load
        start, start_cpu = time.perf_counter(), time.process_time()
        history = streamed.fit(x, y, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        start, start_cpu = time.perf_counter(), time.process_time()
        in_memory.fit(x_mem, y_mem, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
        times_mem.append(time.perf_counter() - start)
        cpu_mem.append(time.process_time() - start_cpu)
    return {"rows": x.shape[0], "file_bytes": x.nbytes, "limit": limit,
            "budget": args.budget_mb * 2**20, "copy_refused": copy_refused,
            "rss_before": rss_before, "peak": status("VmHWM"), "times": times,
            "rows_mem": args.rows, "times_mem": times_mem, "cpu": cpu, "cpu_mem": cpu_mem,
            "model": model_bytes(streamed), "chunk": chunk_rows * FEATURES * 4,
            "loss": history.history["loss"][-1]}


def write_data(folder: str, rows: int) -> tuple[str, str]:
    x_path, y_path = os.path.join(folder, "x.npy"), os.path.join(folder, "y.npy")
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(rows, FEATURES))
    y = np.empty(rows, dtype=np.int64)
    w = np.random.default_rng(0).normal(size=(FEATURES, 10)).astype(np.float32)
    step = 16384
    for i in range(0, rows, step):
        block = np.random.default_rng(i).random((min(step, rows - i), FEATURES),
                                               dtype=np.float32)
        x[i:i + len(block)] = block
        y[i:i + len(block)] = np.argmax((block - 0.5) @ w, axis=1)
    x.flush()
    del x
    np.save(y_path, y)
    with open(x_path, "rb") as f:  # start cold: the file's pages out of the page cache
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return x_path, y_path


def run_child(args, **extra) -> dict:
    cmd = [sys.executable, __file__, "--child", "--budget-mb", str(args.budget_mb),
           "--epochs", str(args.epochs), "--chunk-mb", str(args.chunk_mb)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"the training process failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-mb", type=int, default=160,
                        help="memory the training process may add (RLIMIT_AS headroom)")
    parser.add_argument("--factor", type=float, default=4.0, help="file size / budget")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--chunk-mb", type=int, default=0,
                        help="nnc.batch_sources.CHUNK_BYTES in MiB (0: nnc's default)")
    parser.add_argument("--dir", default=None, help="folder for the data file (on disk)")
    parser.add_argument("--memory-rows", type=int, default=65536,
                        help="rows of the in-memory array trained for comparison")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--x", help=argparse.SUPPRESS)
    parser.add_argument("--y", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    rows = int(args.factor * args.budget_mb * 2**20 / (FEATURES * 4)) + 1
    with tempfile.TemporaryDirectory(dir=args.dir or "/var/tmp") as folder:
        x_path, y_path = write_data(folder, rows)
        mapped = run_child(args, x=x_path, y=y_path, rows=args.memory_rows)
    mib = 2**20
    growth = mapped["peak"] - mapped["rss_before"]
    bound = mapped["model"] + mapped["chunk"]
    print(f"model {FEATURES}-{WIDTHS[0]}-{WIDTHS[1]} relu/softmax, Adam, float32, batch {BATCH},"
          f" shuffle=False, {args.epochs} epochs, nnc threads: default")
    print(f"memmap: {mapped['rows']} rows, {mapped['file_bytes'] / mib:.0f} MiB on disk; "
          f"budget {mapped['budget'] / mib:.0f} MiB (RLIMIT_AS {mapped['limit'] / mib:.0f} MiB "
          f"incl. the mapping); file / budget = {mapped['file_bytes'] / mapped['budget']:.2f}")
    print(f"copying the array under the limit: "
          f"{'MemoryError (refused)' if mapped['copy_refused'] else 'SUCCEEDED (limit too high)'}")
    print(f"RSS before fit {mapped['rss_before'] / mib:.1f} MiB, peak during fit "
          f"{mapped['peak'] / mib:.1f} MiB: growth {growth / mib:.1f} MiB")
    print(f"model {mapped['model'] / mib:.1f} MiB + one chunk {mapped['chunk'] / mib:.1f} MiB "
          f"= {bound / mib:.1f} MiB; growth / (model + chunk) = {growth / bound:.2f} "
          f"({'under' if growth < 1.2 * bound else 'OVER'} 1.2)")
    ratios, cpu_ratios = [], []
    print(f"samples/s, memmap ({mapped['rows']} rows) vs in memory ({mapped['rows_mem']} rows), "
          "per wall-clock second and per CPU second of the process:")
    for i in range(len(mapped["times"])):
        s_map = mapped["rows"] / mapped["times"][i]
        s_mem = mapped["rows_mem"] / mapped["times_mem"][i]
        c_map = mapped["rows"] / mapped["cpu"][i]
        c_mem = mapped["rows_mem"] / mapped["cpu_mem"][i]
        ratios.append(s_map / s_mem)
        cpu_ratios.append(c_map / c_mem)
        print(f"epoch {i + 1} ({'cold: from disk' if i == 0 else 'page cache'}): wall "
              f"{s_map:,.0f} vs {s_mem:,.0f} (ratio {s_map / s_mem:.2f}); CPU {c_map:,.0f} vs "
              f"{c_mem:,.0f} (ratio {c_map / c_mem:.2f})")
    print(f"median ratio memmap / in memory: {statistics.median(ratios):.2f} (wall), "
          f"{statistics.median(cpu_ratios):.2f} (CPU)")
    print(f"final loss on the memmap: {mapped['loss']:.4f}")


if __name__ == "__main__":
    main()
