"""One rank of the data-parallel tests, launched by test_data_parallel.py
with ``python -m torch.distributed.run --standalone --nproc_per_node=2``:
trains every scenario of helpers.data_parallel on its shard, tries the
error cases, and writes what it saw to OUT_DIR/rank<r>.npz."""

from __future__ import annotations

import sys


def main(out_dir: str) -> None:
    import numpy as np
    import torch.distributed as dist
    from helpers import data_parallel as dp

    import nnc
    import nnc.distributed

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results = {"torch_imported_by_nnc": np.array(False)}
    for name in dp.SCENARIOS:
        model = dp.build(name)
        x, y, sw = dp.shards(name)[rank]
        history = nnc.distributed.fit(model, x, y, sample_weight=sw, **dp.fit_kwargs(name))
        results[f"{name}_params"] = model.get_flat_params()
        results[f"{name}_loss"] = np.array(history["loss"])
        results[f"{name}_exchange"] = np.array(history["exchange_seconds"])

    # Error cases: every rank must raise (the same way), none may hang.
    x, y, sw = dp.shards("adam64")[rank]
    cases = {
        "mismatched_rows": (dp.build("adam64"), x[:50 if rank else 62], y[:50 if rank else 62]),
        "mismatched_width": (nnc.Sequential([nnc.Dense(3, activation="softmax")], seed=1),
                             np.zeros((10, 6 if rank == 0 else 5)), np.zeros(10, np.int64)),
        "mismatched_optimizer": (dp.build("adam64"), x, y),
        "lbfgs": (dp.build("sgd_momentum64"), *dp.shards("sgd_momentum64")[rank][:2]),
    }
    cases["mismatched_width"][0].compile("adam", "sparse_categorical_crossentropy")
    lbfgs_rank = 1
    for case, (model, cx, cy) in cases.items():
        if case == "mismatched_optimizer" and rank == 1:
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", l2=1e-3)
        if case == "lbfgs" and rank == lbfgs_rank:
            model.compile(optimizer="lbfgs", loss="mse")
        try:
            nnc.distributed.fit(model, cx, cy, epochs=1, global_batch_size=8)
            results[f"{case}_error"] = np.array("no exception")
        except Exception as exc:  # noqa: BLE001 - the test checks the type
            results[f"{case}_error"] = np.array(f"{type(exc).__name__}: {exc}")
    dist.destroy_process_group()
    np.savez(f"{out_dir}/rank{rank}.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1])
