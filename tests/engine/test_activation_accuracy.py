"""Accuracy of the vectorised activations (docs/accuracy.md): the
element-wise kernel (`_core.elementwise`, nnc_elementwise in nnc.h) swept
over float32 bit patterns against float64 NumPy and over float64 against
mpmath, with the maximum error in ulps per function, the exact limits,
and bit-identity of every kernel set and thread count."""
import mpmath
import numpy as np
import pytest
import scipy.special

import nnc
from nnc import _core

ARCHS = _core.supported_kernel_archs()

# Bound per function, in ulps of the result (docs/accuracy.md lists them).
# d_swish crosses zero at x = -1.27846: there its error is counted in ulps
# of max(|result|, 2^-53 ... 2^-24), an absolute error of one rounding of 1.
# d_gelu likewise at x = -0.75179.
BOUNDS_F32 = {"exp": 1, "sigmoid": 2, "tanh": 1, "softplus": 1, "elu": 1, "selu": 1,
              "swish": 1, "d_elu": 1, "d_selu": 1, "d_swish": 1, "d_softplus": 1,
              "gelu": 1, "d_gelu": 1}
BOUNDS_F64 = {"exp": 2, "sigmoid": 3, "tanh": 3, "softplus": 3, "elu": 2, "selu": 3,
              "swish": 4, "d_elu": 2, "d_selu": 3, "d_swish": 4, "d_softplus": 3,
              "gelu": 4, "d_gelu": 2}
ZERO_CROSSING = ("d_swish", "d_gelu")

LAMBDA = 1.0507009873554804934193349852946
ALPHA = 1.6732632423543772848170429916717


def _gelu_deriv64(x):
    return scipy.special.ndtr(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


# float64 NumPy references for the float32 sweep (within a few float64
# ulps, so far below a float32 ulp).
NUMPY_REF = {
    "exp": np.exp,
    "sigmoid": _sigmoid64,
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(0.0, x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: LAMBDA * np.where(x > 0, x, ALPHA * np.expm1(np.minimum(x, 0))),
    "swish": lambda x: x * _sigmoid64(x),
    "d_elu": lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
    "d_selu": lambda x: np.where(x > 0, LAMBDA, LAMBDA * ALPHA * np.exp(np.minimum(x, 0))),
    "d_swish": lambda x: _sigmoid64(x) * (1 + x * (1 - _sigmoid64(x))),
    "d_softplus": _sigmoid64,
    "gelu": lambda x: x * scipy.special.ndtr(x),
    "d_gelu": _gelu_deriv64,
}


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


MP_REF = {
    "exp": mpmath.exp,
    "sigmoid": _mp_sigmoid,
    "tanh": mpmath.tanh,
    "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
    "elu": lambda x: x if x > 0 else mpmath.expm1(x),
    "selu": lambda x: LAMBDA * (x if x > 0 else ALPHA * mpmath.expm1(x)),
    "swish": lambda x: x * _mp_sigmoid(x),
    "d_elu": lambda x: mpmath.mpf(1) if x > 0 else mpmath.exp(x),
    "d_selu": lambda x: mpmath.mpf(LAMBDA) if x > 0 else LAMBDA * ALPHA * mpmath.exp(x),
    "d_swish": lambda x: _mp_sigmoid(x) * (1 + x * (1 - _mp_sigmoid(x))),
    "d_softplus": _mp_sigmoid,
    "gelu": lambda x: x * mpmath.ncdf(x),
    "d_gelu": lambda x: mpmath.ncdf(x) + x * mpmath.npdf(x),
}


def run(op, x, arch=None):
    """The kernel's values of op at x (derivative ops with dJ/da = 1)."""
    previous = _core.get_kernel_arch()
    if arch:
        _core.set_kernel_arch(arch)
    try:
        out = np.ones_like(x) if op.startswith("d_") else np.empty_like(x)
        _core.elementwise(op, x, None, out)
    finally:
        _core.set_kernel_arch(previous)
    return out


def _f32_specials():
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    v = [0.0, -0.0, tiny, -tiny, 1e-40, -1e-40, np.finfo(np.float32).tiny, 1e-30, -1e-30,
         9.01, -9.01, 9.02, -9.02, 16.6, 17.0, -17.0, 88.72, 88.73, -87.3, -103.97, -104.0,
         -0.7518, -5.0, -13.9, -14.0, -14.1, -38.5, -39.99, -40.0,
         np.finfo(np.float32).max, -np.finfo(np.float32).max, np.inf, -np.inf]
    return np.array(v, dtype=np.float32)


def _f32_sweep(stride):
    """Every stride-th float32 bit pattern (both signs), without NaNs,
    plus the special values."""
    bits = np.arange(0, 2**32, stride, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    return np.concatenate([x[~np.isnan(x)], _f32_specials()])


def _ulps_f32(out, ref):
    """|out - ref| in float32 ulps of ref (ref in float64, unrounded, at
    most float32's max in magnitude; rounding it keeps its ulp)."""
    err = out - ref
    err /= np.spacing(ref.astype(np.float32))  # negative for negative ref
    np.abs(err, out=err)
    if np.isinf(out).any():
        both_inf = np.isinf(out) & np.isinf(ref) & (np.sign(out) == np.sign(ref))
        err[both_inf] = 0.0
    return err


def _check_f32(op, x, reference=None):
    """The largest error of op over the float32 inputs x, asserted within
    BOUNDS_F32[op]; reference (float64 -> float64) defaults to NUMPY_REF."""
    out = run(op, x)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = (reference or NUMPY_REF[op])(x.astype(np.float64))
    if np.isnan(out).any():
        assert not (np.isnan(out) & np.isfinite(x)).any(), f"{op}: NaN from a finite float32 input"
    # ref overflowing float32 means the kernel must give inf too.
    over = np.abs(ref) > np.finfo(np.float32).max * (1 + 2**-25)
    if over.any():
        assert np.all(np.isinf(out[over])), op
    keep = ~over & ~np.isnan(ref)
    if not keep.all():
        out, ref, x = out[keep], ref[keep], x[keep]
    with np.errstate(invalid="ignore"):
        err = _ulps_f32(out, ref)
    if op in ZERO_CROSSING:
        err = np.minimum(err, np.abs(out - ref) / 2.0**-24)
    worst = int(np.argmax(err))
    assert err[worst] <= BOUNDS_F32[op], (op, x[worst], out[worst], ref[worst])
    return err[worst]


@pytest.mark.parametrize("op", sorted(BOUNDS_F32))
def test_float32_dense_sweep_within_bound(op):
    """Every 2^8-th float32 bit pattern (16.7 million values)."""
    _check_f32(op, _f32_sweep(2**8))


def _torch_reference(op):
    """torch's float64 tanh / sigmoid (vectorised, within about an ulp of
    float64, so 2^-28 of a float32 ulp): six times faster than NumPy's
    scalar tanh, which made the sweep below take 13 minutes."""
    import torch

    fn = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[op]
    return lambda x: fn(torch.from_numpy(x)).numpy()


@pytest.mark.slow_extra
@pytest.mark.parametrize("op", ["tanh", "sigmoid"])
def test_float32_every_value_within_bound(op):
    """All 2^32 float32 bit patterns, in cache-sized slices."""
    reference, step = _torch_reference(op), 2**22
    offsets = np.arange(step, dtype=np.uint32)
    for start in range(0, 2**32, step):
        x = (offsets + np.uint32(start)).view(np.float32)
        if 0x7F800000 <= start < 0x80000000 or start >= 0xFF800000:
            x = x[~np.isnan(x)]  # the slices holding inf and the NaNs
        if x.size:
            _check_f32(op, x, reference)


def _f64_points():
    rng = np.random.default_rng(20)
    mags = np.concatenate([10.0 ** rng.uniform(-320, -1, 300), 10.0 ** rng.uniform(-1, 1, 900),
                           rng.uniform(1, 40, 600), 10.0 ** rng.uniform(1.6, 2.86, 200)])
    x = np.concatenate([mags, -mags, [0.0, -0.0, 5e-324, 19.06, 19.07, 709.78, -708.39,
                                      -745.1, 0.3465, 0.3466, 0.5, 1.0, 2.0**-28,
                                      -38.63, -38.67, -0.7518]])
    return x


def _ulps_f64(op, x, out):
    with mpmath.workdps(40):
        errs = []
        for xi, oi in zip(x.tolist(), out.tolist()):
            r = MP_REF[op](mpmath.mpf(xi))
            rf = float(r)
            if np.isinf(rf):
                errs.append(0.0 if oi == rf else np.inf)
                continue
            ulp = float(np.spacing(abs(rf))) if rf != 0 else 5e-324
            if op in ZERO_CROSSING:
                ulp = max(ulp, 2.0**-53)
            errs.append(float(abs(mpmath.mpf(oi) - r) / ulp))
    return np.array(errs)


@pytest.mark.parametrize("op", sorted(BOUNDS_F64))
def test_float64_sweep_against_mpmath(op):
    x = _f64_points()
    if op in ("exp", "d_elu", "d_selu"):
        x = x[x < 709.7]  # e^x overflows above (checked in the limits test)
    out = run(op, x)
    assert not np.isnan(out).any(), f"{op}: NaN from a finite float64 input"
    err = _ulps_f64(op, x, out)
    worst = int(np.argmax(err))
    assert err[worst] <= BOUNDS_F64[op], (op, x[worst], out[worst], err[worst])


@pytest.mark.parametrize("dtype, saturated", [(np.float32, 9.02), (np.float64, 19.07)])
def test_tanh_is_exactly_one_when_saturated(dtype, saturated):
    x = np.array([saturated, 30.0, 1e10, np.inf, np.finfo(dtype).max], dtype=dtype)
    np.testing.assert_array_equal(run("tanh", x), np.ones_like(x))
    np.testing.assert_array_equal(run("tanh", -x), -np.ones_like(x))
    z = np.array([0.0, -0.0], dtype=dtype)
    assert np.array_equal(np.signbit(run("tanh", z)), [False, True])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_limits_and_nan(dtype):
    big = np.array([1e4, np.inf], dtype=dtype)
    np.testing.assert_array_equal(run("sigmoid", big), [1, 1])
    np.testing.assert_array_equal(run("sigmoid", -big), [0, 0])
    np.testing.assert_array_equal(run("exp", np.array([-np.inf, np.inf], dtype=dtype)), [0, np.inf])
    np.testing.assert_array_equal(run("softplus", big), big)
    np.testing.assert_array_equal(run("softplus", -big), [0, 0])
    np.testing.assert_array_equal(run("elu", -big), [-1, -1])
    nan = np.full(3, np.nan, dtype=dtype)
    np.testing.assert_array_equal(run("gelu", big), big)
    np.testing.assert_array_equal(run("gelu", -big), [0, 0])
    np.testing.assert_array_equal(run("d_gelu", big), [1, 1])
    np.testing.assert_array_equal(run("d_gelu", -big), [0, 0])
    for op in ["exp", "sigmoid", "tanh", "softplus", "elu", "selu", "swish", "d_elu", "d_swish",
               "d_softplus", "gelu", "d_gelu"]:
        assert np.isnan(run(op, nan)).all(), op


def test_gelu_table_is_the_generators_output():
    """csrc/engine/kernels/nnc_gelu_table.h is what tests/helpers/gelu_table.py
    computes from mpmath (the coefficients are not edited by hand)."""
    from helpers import gelu_table, paths

    header = (paths.REPO / "csrc" / "engine" / "kernels" / "nnc_gelu_table.h").read_text()
    assert header == gelu_table.header()


def test_binary_crossentropy_finite_where_sigmoid_saturates():
    """The loss takes log(sigmoid) as softplus of the logit, so it stays
    finite and exact where sigmoid(z) rounds to 0 or 1."""
    z = np.array([[-200.0], [-40.0], [40.0], [200.0]])
    model = nnc.Sequential([nnc.Dense(1, activation="sigmoid", input_dim=1)], dtype="float64")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    loss = model.evaluate(z, y, verbose=0)
    exact = np.mean([float(mpmath.log1p(mpmath.exp(v)) - t * v) for v, t in zip(z[:, 0], y)])
    assert np.isfinite(loss) and abs(loss - exact) <= 1e-15 * exact


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_set_and_thread_count_gives_the_same_bits(dtype):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(scale=8, size=100_003), _f32_specials()]).astype(dtype)
    previous = _core.get_num_threads()
    for op in sorted(BOUNDS_F64) + ["relu", "leaky_relu", "step", "d_relu", "d_leaky_relu"]:
        first = run(op, x, ARCHS[0])
        for arch in ARCHS[1:]:
            np.testing.assert_array_equal(run(op, x, arch), first, err_msg=f"{op} {arch}")
        try:
            _core.set_num_threads(3)
            np.testing.assert_array_equal(run(op, x), first, err_msg=f"{op} 3 threads")
        finally:
            _core.set_num_threads(previous)


def _derivative(op, a, g, arch=None):
    previous = _core.get_kernel_arch()
    if arch:
        _core.set_kernel_arch(arch)
    try:
        out = g.copy()
        _core.elementwise(op, np.zeros_like(a), a, out)
    finally:
        _core.set_kernel_arch(previous)
    return out


@pytest.mark.parametrize("dtype, bound", [(np.float32, 2), (np.float64, 1)])
@pytest.mark.parametrize("op", ["d_tanh", "d_sigmoid"])
def test_tanh_and_sigmoid_derivatives_from_the_activation(op, dtype, bound):
    """g f'(x) from the stored a: within `bound` ulps of the exact g (1 - a^2)
    or g a (1 - a) for that a (float32: one FMA, then the product;
    float64: double lanes), the same bits on every kernel set and thread
    count."""
    rng = np.random.default_rng(11)
    lo = -1.0 if op == "d_tanh" else 0.0
    a = np.concatenate([rng.uniform(lo, 1.0, 200_003), [lo, 0.0, 0.5, 1.0, 1 - 2.0**-24,
                                                        2.0**-30]]).astype(dtype)
    g = rng.normal(size=a.size).astype(dtype)
    first = _derivative(op, a, g, ARCHS[0])
    for arch in ARCHS[1:]:
        np.testing.assert_array_equal(_derivative(op, a, g, arch), first, err_msg=arch)
    previous = _core.get_num_threads()
    try:
        _core.set_num_threads(3)
        np.testing.assert_array_equal(_derivative(op, a, g), first, err_msg="3 threads")
    finally:
        _core.set_num_threads(previous)
    with mpmath.workdps(40):
        exact = np.array([float(mpmath.mpf(gi) * (1 - mpmath.mpf(ai) ** 2) if op == "d_tanh"
                                else mpmath.mpf(gi) * mpmath.mpf(ai) * (1 - mpmath.mpf(ai)))
                          for ai, gi in zip(a[:20000].tolist(), g[:20000].tolist())])
    ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    ulp[exact == 0] = np.finfo(dtype).smallest_subnormal
    err = np.abs(first[:20000].astype(np.float64) - exact) / ulp
    assert err.max() <= bound, (op, dtype, err.max())
