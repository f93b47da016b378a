"""nnc's predict against onnxruntime on nnc's own ONNX export, side by side.

For 784-128-10 and 784-512-512-10 (relu, softmax output, float32), one
thread each (nnc.set_num_threads(1), onnxruntime intra_op_num_threads=1):
throughput on 10000 rows and the latency of a one-row call, for
onnxruntime's plain `session.run` and its IOBinding path (input and output
bound once). The libraries take turns in every round; each figure is the
median of the rounds and every ratio compares figures of the same rounds.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/predict_latency.py
    python bench/predict_latency.py --rounds 9 --calls 5000
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import nnc

NETS = ([784, 128, 10], [784, 512, 512, 10])


def build(sizes):
    layers = [nnc.Input(sizes[0])]
    for i, units in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        layers.append(nnc.Dense(units, activation="softmax" if last else "relu"))
    return nnc.Sequential(layers, dtype="float32", seed=0)


def onnxruntime_fns(model, examples):
    """`run` and `iobinding` predictors for the model's ONNX export, or None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    path = os.path.join(tempfile.mkdtemp(prefix="nnc-bench-"), "model.onnx")
    model.to_onnx(path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    i_name, o_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    bound = {}
    for rows in examples:
        b = sess.io_binding()
        b.bind_cpu_input(i_name, rows)
        out = np.empty((rows.shape[0], model.layers[-1].units), np.float32)
        b.bind_output(o_name, "cpu", 0, np.float32, out.shape, out.ctypes.data)
        bound[rows.shape[0]] = (b, out)  # out must outlive the binding
    return {"onnxruntime": lambda rows: sess.run([o_name], {i_name: rows})[0],
            "onnxruntime_iobinding": lambda rows: sess.run_with_iobinding(bound[rows.shape[0]][0])}


def per_call(fn, rows, calls):
    t = time.perf_counter()
    for _ in range(calls):
        fn(rows)
    return (time.perf_counter() - t) / calls


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=2000, help="one-row calls per timing")
    p.add_argument("--bulk-calls", type=int, default=5, help="10000-row calls per timing")
    args = p.parse_args(argv)
    nnc.set_num_threads(1)
    x = np.random.default_rng(0).random((10000, 784), dtype=np.float32)
    x1 = np.ascontiguousarray(x[:1])
    print(f"nnc {nnc.__version__}, kernels {nnc.kernel_arch()}, 1 thread, "
          f"median of {args.rounds} interleaved rounds")
    for sizes in NETS:
        model = build(sizes)
        fns = {"nnc": model.predict}
        peers = onnxruntime_fns(model, [x, x1])
        if peers is None:
            print("onnxruntime not installed: nnc alone")
        else:
            fns.update(peers)
        for f in fns.values():  # warm up: workspaces, sessions, caches
            f(x), f(x1)
        bulk = {k: [] for k in fns}
        one = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, f in fns.items():
                bulk[k].append(per_call(f, x, args.bulk_calls))
                one[k].append(per_call(f, x1, args.calls))
        print(f"\n{'-'.join(map(str, sizes))}")
        print(f"    {'':<24}{'rows/s (10000)':>16}{'1-row us':>10}")
        for k in fns:
            print(f"    {k:<24}{10000 / statistics.median(bulk[k]):>16,.0f}"
                  f"{statistics.median(one[k]) * 1e6:>10.2f}")
        for k in fns:
            if k == "nnc":
                continue
            thr = statistics.median([b / a for a, b in zip(bulk["nnc"], bulk[k])])
            lat = statistics.median([a / b for a, b in zip(one["nnc"], one[k])])
            print(f"    nnc/{k}: throughput {thr:.2f}x, latency {lat:.2f}x theirs")


if __name__ == "__main__":
    main()
