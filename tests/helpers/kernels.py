"""Running one training under every kernel set and thread count."""

from __future__ import annotations

import numpy as np

import nnc
from nnc import _core


def assert_same_on_every_kernel_set_and_thread_count(train) -> None:
    """``train()`` (returning a trained model) under each supported kernel
    set with 1 and 2 threads gives bit-identical weights: the engine's
    guarantee (docs/design.md, Kernels and threads), with the reference set
    compared with itself only (it has no FMA, so it rounds differently)."""
    results = []  # (is the reference set, flat weights)
    previous_arch, previous_threads = _core.get_kernel_arch(), nnc.get_num_threads()
    try:
        for arch in _core.supported_kernel_archs():
            for threads in (1, 2):
                _core.set_kernel_arch(arch)
                nnc.set_num_threads(threads)
                model = train()
                results.append((arch == "ref",
                                np.concatenate([w.ravel() for w in model.get_weights()])))
    finally:
        _core.set_kernel_arch(previous_arch)
        nnc.set_num_threads(previous_threads)
    for group in (True, False):
        runs = [r for is_ref, r in results if is_ref == group]
        for r in runs[1:]:
            assert np.array_equal(r, runs[0])
