"""How long Ctrl-C takes to stop fit: a child process trains, the parent
sends SIGINT at varying points inside an epoch (as a terminal does) and
times the KeyboardInterrupt's arrival in the child (CLOCK_MONOTONIC is one
clock for both processes). Printed next to the time of one step: a latency
below it means the engine abandoned the step in flight between its
products instead of finishing it; an epoch short enough to run inline on
the calling thread (docs/design.md, "Short calls run inline") is not
interrupted before it returns. tests/api/test_interrupt.py checks what
the stop leaves behind; this script measures how fast it comes.

Run: python bench/interrupt_latency.py [--rounds 8] [--quick]
"""

import argparse
import json
import signal
import statistics
import subprocess
import sys
import textwrap
import time

CHILD = textwrap.dedent(r"""
    import json, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # not inherited ignored
    import numpy as np
    import nnc

    config = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(config["rows"], 32)).astype(np.float32)
    y = rng.integers(0, 10, size=config["rows"])
    model = nnc.Sequential([nnc.Dense(config["width"], activation="relu", input_dim=32),
                            nnc.Dense(config["width"], activation="tanh"),
                            nnc.Dense(10, activation="softmax")], seed=3)
    lbfgs = config["batch_size"] is None
    model.compile(optimizer=nnc.optimizers.LBFGS() if lbfgs else "adam",
                  loss="sparse_categorical_crossentropy")
    batch = config["rows"] if lbfgs else config["batch_size"]
    start = time.perf_counter()
    model.fit(x, y, epochs=2, batch_size=config["batch_size"], verbose=0)
    step = (time.perf_counter() - start) / (2 * (-(-config["rows"] // batch)))

    class Announce(nnc.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print("epoch", flush=True)

    print("step", step, flush=True)
    for _ in range(config["rounds"]):
        try:
            model.fit(x, y, epochs=10_000, batch_size=config["batch_size"], verbose=0,
                      shuffle=False, callbacks=[Announce()])
            print("finished", flush=True)
            break
        except KeyboardInterrupt:
            print("caught", time.monotonic(), flush=True)
""")

CASES = {  # name: (rows, width, batch size or None for full-batch L-BFGS)
    "small-batches": (4096, 128, 32),
    "large-batches": (16384, 512, 4096),
    "lbfgs-full-batch": (4096, 256, None),
}


def line(proc, prefix: str) -> str:
    """The child's next line starting with `prefix`."""
    for text in proc.stdout:
        if text.startswith(prefix):
            return text
        if text.startswith("finished"):
            break
    raise RuntimeError(f"the child ended before {prefix!r}: {proc.stderr.read()}")


def measure(rows: int, width: int, batch_size, rounds: int) -> tuple[float, list[float]]:
    """(seconds per step, seconds from SIGINT to KeyboardInterrupt per round)."""
    config = {"rows": rows, "width": width, "batch_size": batch_size, "rounds": rounds}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        step = float(line(proc, "step").split()[1])
        latencies = []
        for round_ in range(rounds):
            line(proc, "epoch")
            time.sleep(0.01 + 0.037 * (round_ % 4))  # land anywhere inside an epoch
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            latencies.append(float(line(proc, "caught").split()[1]) - sent)
    finally:
        proc.kill()
        proc.wait()
    return step, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="small problems, 2 rounds (smoke)")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    print(f"Ctrl-C during fit: SIGINT to KeyboardInterrupt, {rounds} rounds per case")
    print(f"  {'case':<18} {'rows x width':>13} {'batch':>6} {'one step':>10} "
          f"{'median':>9} {'max':>9}")
    for name, (rows, width, batch_size) in CASES.items():
        if args.quick:
            rows, width = min(rows, 1024), min(width, 64)
        step, latencies = measure(rows, width, batch_size, rounds)
        batch = "full" if batch_size is None else str(batch_size)
        print(f"  {name:<18} {f'{rows}x{width}':>13} {batch:>6} {1e3 * step:>7.2f} ms "
              f"{1e3 * statistics.median(latencies):>6.2f} ms {1e3 * max(latencies):>6.2f} ms")


if __name__ == "__main__":
    main()
