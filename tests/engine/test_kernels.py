"""The kernel sets and the thread pool.

Builds and runs tests/c/test_kernels.c (every SIMD kernel set the CPU runs
against the reference kernels and the exact fma() chain, on odd sizes;
blocks and threads bit-identical; Adam bit-identical to the scalar
optimizer), then checks from Python that training gives the same bits on
any number of threads and that the kernel set can be switched.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from helpers.paths import TESTS
from helpers.processes import PACKAGE_PARENT

import nnc
from nnc import _core


@pytest.fixture(scope="module")
def kernel_test_binary(c_build):
    return c_build("release").program(TESTS / "c" / "test_kernels.c", internal_headers=True)


def test_c_kernel_program_passes(kernel_test_binary):
    run = subprocess.run([str(kernel_test_binary)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr
    assert "PASSED: 0 failure(s)" in run.stdout
    assert "ignores flush-to-zero" not in run.stdout  # natively the subnormal checks run
    simd = [a for a in _core.supported_kernel_archs() if a != "ref"]
    assert f"kernel sets tested: {len(simd)}," in run.stdout
    if simd:
        assert run.stdout.count("ok   ") >= 800 * len(simd)


def _mnist_like_model(threads, dtype="float32", dropout=0.0):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(700, 37)).astype(dtype)
    y = rng.integers(0, 5, size=700)
    layers = [nnc.Dense(130, activation="relu", input_dim=37)]
    if dropout:
        layers.append(nnc.Dropout(dropout))
    layers += [nnc.Dense(67, activation="tanh"), nnc.Dense(5, activation="softmax")]
    model = nnc.Sequential(layers, dtype=dtype, seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    previous = _core.get_num_threads()
    _core.set_num_threads(threads)
    try:
        model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    finally:
        _core.set_num_threads(previous)
    return model.get_flat_params()


@pytest.mark.parametrize("dtype, dropout", [("float32", 0.0), ("float64", 0.2)])
def test_training_is_bit_identical_for_any_thread_count(dtype, dropout):
    one = _mnist_like_model(1, dtype, dropout)
    for threads in (2, 3, 4):
        np.testing.assert_array_equal(_mnist_like_model(threads, dtype, dropout), one)


def test_two_models_train_at_once_in_two_threads():
    expected = _mnist_like_model(1)
    results = [None, None]

    def work(i):
        results[i] = _mnist_like_model(2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_num_threads_setting():
    previous = nnc.get_num_threads()
    assert previous >= 1
    try:
        nnc.set_num_threads(3)
        assert nnc.get_num_threads() == 3
        with pytest.raises(ValueError):
            nnc.set_num_threads(0)
        assert nnc.get_num_threads() == 3
    finally:
        nnc.set_num_threads(previous)


def test_kernel_arch_switch_and_fallback():
    supported = _core.supported_kernel_archs()
    assert supported[0] == "ref"
    previous = _core.get_kernel_arch()
    if not os.environ.get("NNC_ARCH"):
        assert previous == supported[-1]  # the best one by default
    try:
        for arch in supported:
            _core.set_kernel_arch(arch)
            assert _core.get_kernel_arch() == arch
            assert nnc.kernel_arch() == arch
        for arch in {"avx2", "avx512"} - set(supported):
            with pytest.raises(ValueError):  # NNC_ERR_UNSUPPORTED
                _core.set_kernel_arch(arch)
        with pytest.raises(ValueError):
            _core.set_kernel_arch("sse9")
        _core.set_kernel_arch(None)
        assert _core.get_kernel_arch() == supported[-1]
    finally:
        _core.set_kernel_arch(previous)


def test_nnc_arch_environment_variable_falls_back_without_crashing(tmp_path):
    code = "import nnc; print(nnc.kernel_arch())"
    best = _core.supported_kernel_archs()[-1]
    # The nnc this test imported (installed or built in place), not whatever
    # the working directory holds.
    for request, expected in [("ref", "ref"), ("bogus", best), ("avx512", None)]:
        env = {**os.environ, "NNC_ARCH": request, "PYTHONPATH": PACKAGE_PARENT}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=tmp_path, timeout=60)
        assert out.returncode == 0, out.stderr
        arch = out.stdout.strip()
        assert arch == (expected or ("avx512" if "avx512" in _core.supported_kernel_archs()
                                     else best))


def test_simd_kernel_sets_agree_bit_for_bit_on_training():
    """avx2 and avx512 compute each output as the same fma chain."""
    simd = [a for a in _core.supported_kernel_archs() if a != "ref"]
    if len(simd) < 2:
        pytest.skip("needs two SIMD kernel sets")
    previous = _core.get_kernel_arch()
    runs = []
    try:
        for arch in simd:
            _core.set_kernel_arch(arch)
            runs.append(_mnist_like_model(2))
    finally:
        _core.set_kernel_arch(previous)
    np.testing.assert_array_equal(runs[0], runs[1])
