/*
 * nnc_kernels_act_math.h - exp, expm1, log1p, tanh, sigmoid, softplus and
 * GELU (with the normal distribution's tail)
 * on DL double lanes, written once against the DV_ operations of the
 * kernel set's double-lane header (nnc_dvec_ref.h, nnc_dvec_avx2.h,
 * nnc_dvec_avx512.h). Only correctly rounded IEEE operations (+ - * /,
 * fused multiply-add), comparisons, selects and exponent-bit arithmetic
 * are used, so every set computes every lane to the same bit
 * (docs/design.md, "Vectorised activations"). The polynomials are Taylor
 * series cut where the next term is below 2^-60 of the result, so their
 * coefficients are exact reciprocals (GELU's come from a generated table,
 * nnc_gelu_table.h); the error bounds are measured by
 * tests/engine/test_activation_accuracy.py and listed in docs/accuracy.md.
 * Included once per kernel-set file, before its dtype template.
 *
 * `f32` (a compile-time constant in every caller) cuts the series where
 * the next term is below 2^-30 instead: the double result is then rounded
 * to float32, whose ulp is 2^-23, so the shorter series costs at most a
 * few hundredths of a float32 ulp and half of the polynomial work.
 */
#define NNC__MAGIC 6755399441055744.0 /* 0x1.8p52: adding it rounds to an integer */
#define NNC__LOG2E 1.4426950408889634074
#define NNC__LN2_HI 0x1.62e42fefa39efp-1
#define NNC__LN2_LO 0x1.abc9e3b39803fp-56
#define NNC__INV_SQRT_2PI 0.39894228040143267793994605993438
#define NNC__GELU_F32_TERMS 10 /* the 11th term is below 2^-32 of P */

#include "nnc_gelu_table.h"

/* x - k ln2 in two fused steps, and k + 0x1.8p52 for DV_POW2I. */
static inline DVEC nnc__reduce_ln2(DVEC x, DVEC *t) {
    *t = DV_FMA(x, DV_SET1(NNC__LOG2E), DV_SET1(NNC__MAGIC));
    const DVEC k = DV_SUB(*t, DV_SET1(NNC__MAGIC));
    const DVEC r = DV_FMA(k, DV_SET1(-NNC__LN2_HI), x);
    return DV_FMA(k, DV_SET1(-NNC__LN2_LO), r);
}

/* 1/n! for n = 13 down to 2: the series of nnc__expm1_tail, highest term
 * first; float32 starts at n = 8 (NNC__EXPM1_F32_FIRST). */
static const double nnc__expm1_coef[] = {
    1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
    1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
    1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
};
#define NNC__EXPM1_TERMS ((int)(sizeof nnc__expm1_coef / sizeof nnc__expm1_coef[0]))
#define NNC__EXPM1_F32_FIRST 5

/* sum_{n >= 2} r^(n-2) / n! to n = 13, or 8 for f32 (|r| <= ln2/2). */
static inline DVEC nnc__expm1_tail(DVEC r, int f32) {
    int i = f32 ? NNC__EXPM1_F32_FIRST : 0;
    DVEC p = DV_SET1(nnc__expm1_coef[i]);
    for (i++; i < NNC__EXPM1_TERMS; i++) p = DV_FMA(p, r, DV_SET1(nnc__expm1_coef[i]));
    return p;
}

/* er 2^k 2^bias from t = k + 0x1.8p52 (nnc__reduce_ln2): 2^k1 2^k2 with
 * k = k1 + k2, so that both factors stay normal down to the subnormal
 * results and up to overflow. */
static inline DVEC nnc__vscale_pow2(DVEC er, DVEC t, double bias) {
    const DVEC k = DV_SUB(t, DV_SET1(NNC__MAGIC));
    const DVEC t1 = DV_FMA(k, DV_SET1(0.5), DV_SET1(NNC__MAGIC));
    const DVEC k1 = DV_SUB(t1, DV_SET1(NNC__MAGIC));
    const DVEC t2 = DV_ADD(DV_SUB(k, k1), DV_SET1(NNC__MAGIC + bias));
    return DV_MUL(DV_MUL(er, DV_POW2I(t1)), DV_POW2I(t2));
}

/* e^x 2^bias (bias a small integer, for results that would be subnormal):
 * x = k ln2 + r, e^x = 2^k e^r. x is clamped to [lowest, 710];
 * e^lowest 2^bias must round to 0. */
static inline DVEC nnc__vexp_scaled(DVEC x, double bias, double lowest, int f32) {
    /* NaN passes the clamps (they return their second operand then). */
    x = DV_MIN(DV_SET1(710.0), DV_MAX(DV_SET1(lowest), x));
    DVEC t;
    const DVEC r = nnc__reduce_ln2(x, &t);
    const DVEC er = DV_FMA(DV_MUL(r, r), nnc__expm1_tail(r, f32), DV_ADD(r, DV_SET1(1.0)));
    return nnc__vscale_pow2(er, t, bias);
}

/* e^(x + xlo) 2^bias for a correction |xlo| <= ulp(x): 2^k (1 + q) with
 * q = (e^r - 1) + xlo e^r, so that e^r's mantissa is rounded once, at
 * the end (GELU's density: a few tenths of an ulp more accurate than
 * nnc__vexp_scaled, whose bits the other ops keep). */
static inline DVEC nnc__vexp_dd_scaled(DVEC x, DVEC xlo, double bias, double lowest, int f32) {
    x = DV_MIN(DV_SET1(710.0), DV_MAX(DV_SET1(lowest), x));
    DVEC t;
    const DVEC r = nnc__reduce_ln2(x, &t);
    const DVEC p = DV_FMA(DV_MUL(r, r), nnc__expm1_tail(r, f32), r);
    const DVEC q = DV_FMA(xlo, DV_ADD(p, DV_SET1(1.0)), p);
    return nnc__vscale_pow2(DV_ADD(q, DV_SET1(1.0)), t, bias);
}

static inline DVEC nnc__vexp(DVEC x, int f32) { return nnc__vexp_scaled(x, 0.0, -746.0, f32); }

/* e^x - 1 for x <= 0 (positive lanes are computed as 0; callers select
 * them away): e^x - 1 = 2^k (1 + p) - 1 = 2^k p + (2^k - 1), one rounding,
 * p = e^r - 1 without cancellation. */
static inline DVEC nnc__vexpm1_neg(DVEC x, int f32) {
    x = DV_MIN(DV_SET1(0.0), DV_MAX(DV_SET1(-40.0), x)); /* e^-40 - 1 rounds to -1 */
    DVEC t;
    const DVEC r = nnc__reduce_ln2(x, &t);
    const DVEC p = DV_FMA(DV_MUL(r, r), nnc__expm1_tail(r, f32), r);
    const DVEC s = DV_POW2I(t);
    return DV_FMA(s, p, DV_SUB(s, DV_SET1(1.0)));
}

/* log(1 + u) for 0 <= u <= 1: w = 1 + u rounded, c = the part of u that
 * the rounding lost (divided by w), w = 2^j m with m in [1/sqrt2, sqrt2],
 * log m = 2 atanh(f) = 2f + 2f^3/3 + ..., f = (m - 1)/(m + 1), |f| <= 0.172. */
static inline DVEC nnc__vlog1p_unit(DVEC u, int f32) {
    const DVEC one = DV_SET1(1.0);
    const DVEC w = DV_ADD(one, u);
    const DVEC c = DV_DIV(DV_SUB(u, DV_SUB(w, one)), w);
    const DMASK big = DV_GT(w, DV_SET1(1.4142135623730951));
    const DVEC m = DV_SEL(big, DV_MUL(w, DV_SET1(0.5)), w);
    const DVEC j = DV_SEL(big, one, DV_SET1(0.0));
    const DVEC f = DV_DIV(DV_SUB(m, one), DV_ADD(m, one));
    const DVEC s = DV_MUL(f, f);
    DVEC q = DV_SET1(f32 ? 2.0 / 11.0 : 2.0 / 23.0);
    if (!f32) {
        q = DV_FMA(q, s, DV_SET1(2.0 / 21.0));
        q = DV_FMA(q, s, DV_SET1(2.0 / 19.0));
        q = DV_FMA(q, s, DV_SET1(2.0 / 17.0));
        q = DV_FMA(q, s, DV_SET1(2.0 / 15.0));
        q = DV_FMA(q, s, DV_SET1(2.0 / 13.0));
        q = DV_FMA(q, s, DV_SET1(2.0 / 11.0));
    }
    q = DV_FMA(q, s, DV_SET1(2.0 / 9.0));
    q = DV_FMA(q, s, DV_SET1(2.0 / 7.0));
    q = DV_FMA(q, s, DV_SET1(2.0 / 5.0));
    q = DV_FMA(q, s, DV_SET1(2.0 / 3.0));
    const DVEC two_f = DV_ADD(f, f);
    const DVEC lo = DV_FMA(j, DV_SET1(NNC__LN2_LO), c);
    const DVEC logm = DV_FMA(DV_MUL(f, s), q, DV_ADD(two_f, lo));
    return DV_FMA(j, DV_SET1(NNC__LN2_HI), logm);
}

/* tanh x = sign(x) * -t / (2 + t), t = e^(-2|x|) - 1: exactly +-1 once t
 * rounds to -1 (|x| > 19.1), tanh(+-0) = +-0. */
static inline DVEC nnc__vtanh(DVEC x, int f32) {
    const DVEC ax = DV_ABS(x);
    const DVEC t = nnc__vexpm1_neg(DV_MUL(ax, DV_SET1(-2.0)), f32);
    const DVEC y = DV_DIV(DV_SUB(DV_SET1(0.0), t), DV_ADD(t, DV_SET1(2.0)));
    return DV_OR(y, DV_SIGN(x));
}

/* 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: e^(-|x|) never
 * overflows. */
static inline DVEC nnc__vsigmoid(DVEC x, int f32) {
    const DVEC e = nnc__vexp(DV_SUB(DV_SET1(0.0), DV_ABS(x)), f32);
    const DVEC num = DV_SEL(DV_GE(x, DV_SET1(0.0)), DV_SET1(1.0), e);
    return DV_DIV(num, DV_ADD(DV_SET1(1.0), e));
}

/* sigmoid(x), times 2^64 for x < 0 so that x sigmoid(x) keeps its
 * precision where sigmoid(x) is subnormal (swish); *scale receives the
 * factor that undoes it (1 or 2^-64), *comp = 1 - sigmoid(x) =
 * sigmoid(-x), without cancellation. */
static inline DVEC nnc__vsigmoid_scaled(DVEC x, DVEC *scale, DVEC *comp, int f32) {
    const DMASK nonneg = DV_GE(x, DV_SET1(0.0));
    const DVEC nx = DV_SUB(DV_SET1(0.0), DV_ABS(x));
    const DVEC e = nnc__vexp(nx, f32);
    const DVEC num = DV_SEL(nonneg, DV_SET1(1.0), nnc__vexp_scaled(nx, 64.0, -746.0, f32));
    const DVEC den = DV_ADD(DV_SET1(1.0), e);
    *scale = DV_SEL(nonneg, DV_SET1(1.0), DV_SET1(0x1p-64));
    *comp = DV_DIV(DV_SEL(nonneg, e, DV_SET1(1.0)), den);
    return DV_DIV(num, den);
}

/* log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|)). */
static inline DVEC nnc__vsoftplus(DVEC x, int f32) {
    const DVEC u = nnc__vexp(DV_SUB(DV_SET1(0.0), DV_ABS(x)), f32);
    const DVEC pos = DV_SEL(DV_GT(x, DV_SET1(0.0)), x, DV_SET1(0.0));
    return DV_ADD(pos, nnc__vlog1p_unit(u, f32));
}

/* The lower tail of the standard normal distribution, Phi(-|x|) =
 * e^(-x^2/2) P(|x|), P(y) = e^(y^2/2) Phi(-y) from its Taylor series
 * around the centre of y's half-unit interval (nnc_gelu_table.h, 17 terms
 * or 10 for f32, |h| <= 1/4). x^2 = hi + lo exactly (FMA), and the
 * density is e^(-hi/2 - lo/2) (nnc__vexp_dd_scaled), so it
 * keeps full precision where x^2/2 is large (docs/design.md, "Vectorised
 * GELU"). Returns P(|x|); *density receives 2^64 e^(-x^2/2), scaled so
 * that it stays normal until the caller's last multiplication by 2^-64.
 * |x| is clamped to 40 (NaN too): beyond, the tail underflows to 0. */
static inline DVEC nnc__vnormal_tail(DVEC x, DVEC *density, int f32) {
    const DVEC y = DV_MIN(DV_ABS(x), DV_SET1(40.0));
    const DVEC kd = DV_MAX(DV_SET1(0.0), DV_MIN(DV_FMA(y, DV_SET1(2.0), DV_SET1(-0.5)),
                                                DV_SET1(NNC__GELU_INTERVALS - 1)));
    const DVEC t = DV_ADD(kd, DV_SET1(NNC__MAGIC));
    const DVEC k = DV_SUB(t, DV_SET1(NNC__MAGIC));
    const DVEC h = DV_SUB(y, DV_FMA(k, DV_SET1(0.5), DV_SET1(0.25)));
    int n = f32 ? NNC__GELU_F32_TERMS - 1 : NNC__GELU_TERMS - 1;
    DVEC p = DV_GATHER(nnc__gelu_taylor[n], t);
    for (n--; n >= 0; n--) p = DV_FMA(p, h, DV_GATHER(nnc__gelu_taylor[n], t));
    const DVEC hi = DV_MUL(y, y);
    const DVEC lo = DV_FMA(y, y, DV_SUB(DV_SET1(0.0), hi));
    *density = nnc__vexp_dd_scaled(DV_MUL(hi, DV_SET1(-0.5)), DV_MUL(lo, DV_SET1(-0.5)), 64.0,
                                   -746.0 - 64.0 * 0.6931471805599453, f32);
    return p;
}

/* GELU x Phi(x): x Phi(-|x|) for x < 0, x (1 - Phi(-|x|)) otherwise, so
 * neither side cancels; gelu(-inf) = -0. */
static inline DVEC nnc__vgelu(DVEC x, int f32) {
    DVEC e;
    const DVEC p = nnc__vnormal_tail(x, &e, f32);
    const DVEC neg = DV_MUL(DV_MUL(DV_MUL(DV_MAX(DV_SET1(-40.0), x), p), e), DV_SET1(0x1p-64));
    const DVEC q = DV_MUL(DV_MUL(e, p), DV_SET1(0x1p-64));
    const DVEC pos = DV_MUL(x, DV_SUB(DV_SET1(1.0), q));
    return DV_SEL(DV_GT(DV_SET1(0.0), x), neg, pos);
}

/* GELU' = Phi(x) + x phi(x) = e^(-x^2/2) (P(|x|) - |x|/sqrt(2 pi)) for
 * x < 0 and 1 minus that otherwise; NaN stays NaN. */
static inline DVEC nnc__vgelu_deriv(DVEC x, int f32) {
    DVEC e;
    const DVEC p = nnc__vnormal_tail(x, &e, f32);
    const DVEC m = DV_FMA(DV_MIN(DV_ABS(x), DV_SET1(40.0)), DV_SET1(-NNC__INV_SQRT_2PI), p);
    const DVEC neg = DV_MUL(DV_MUL(e, m), DV_SET1(0x1p-64));
    const DVEC pos = DV_FMA(DV_MUL(e, DV_SET1(-0x1p-64)), m, DV_SET1(1.0));
    return DV_SEL(DV_GT(DV_SET1(0.0), x), neg, DV_SEL(DV_GE(x, DV_SET1(0.0)), pos, x));
}

#undef NNC__MAGIC
#undef NNC__LOG2E
#undef NNC__LN2_HI
#undef NNC__LN2_LO
#undef NNC__INV_SQRT_2PI
#undef NNC__GELU_F32_TERMS
#undef NNC__EXPM1_TERMS
#undef NNC__EXPM1_F32_FIRST
