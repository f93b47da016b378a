/*
 * nnc_kernels_act_math_f32.h - tanh, sigmoid and exp on FL float lanes,
 * written once against the FV_ operations of the kernel set's float-lane
 * header (nnc_fvec_ref.h, nnc_fvec_avx2.h, nnc_fvec_avx512.h): the float32
 * instances of the ops whose speed matters (docs/design.md, "Native
 * float32 activation lanes"); every other float32 op keeps the double
 * lanes of nnc_kernels_act_math.h. As there, only correctly rounded IEEE
 * operations (+ - * /, fused multiply-add), comparisons, selects and
 * exponent-bit arithmetic are used, so every set computes every lane to
 * the same bit. The series are Taylor series with the coefficients 1/n!
 * and tanh's rounded to float, cut where the next term is below 2^-27 of
 * the result; the error analysis is in docs/design.md and the measured
 * bounds in docs/accuracy.md. Included once per kernel-set file, before
 * its dtype template.
 */
#define NNC__FMAGIC 12582912.0f /* 0x1.8p23: adding it rounds to an integer */
#define NNC__FLOG2E 1.44269504f
#define NNC__FLN2_HI 0x1.62e430p-1f /* ln 2 rounded to float ... */
#define NNC__FLN2_LO -0x1.05c610p-29f /* ... and the rest, rounded */
#define NNC__FTANH_SMALL 0.5494f /* below: the series; atanh(1/2) = 0.549306 */
#define NNC__FTANH_ONE 9.1f /* tanh rounds to 1 from 9.01 */

/* w - k ln2 for k = round(w log2 e): the first FMA is exact for |k| <= 150
 * (its result is a multiple of ulp(w) or 2^-24 below 1/2), the second
 * rounds once; *t = k + 0x1.8p23 for FV_POW2I. */
static inline FVEC nnc__freduce_ln2(FVEC w, FVEC *t) {
    *t = FV_FMA(w, FV_SET1(NNC__FLOG2E), FV_SET1(NNC__FMAGIC));
    const FVEC k = FV_SUB(*t, FV_SET1(NNC__FMAGIC));
    const FVEC r = FV_FMA(k, FV_SET1(-NNC__FLN2_HI), w);
    return FV_FMA(k, FV_SET1(-NNC__FLN2_LO), r);
}

/* e^r - 1 = r + r^2 (1/2 + r/6 + ... + r^5/7!) for |r| <= ln2/2: the next
 * term, r^8/8!, is below 2^-27.5. */
static inline FVEC nnc__fexpm1_reduced(FVEC r) {
    FVEC p = FV_SET1(1.0 / 5040.0);
    p = FV_FMA(p, r, FV_SET1(1.0 / 720.0));
    p = FV_FMA(p, r, FV_SET1(1.0 / 120.0));
    p = FV_FMA(p, r, FV_SET1(1.0 / 24.0));
    p = FV_FMA(p, r, FV_SET1(1.0 / 6.0));
    p = FV_FMA(p, r, FV_SET1(0.5));
    return FV_FMA(FV_MUL(r, r), p, r);
}

/* e^w, w clamped to [-104, 89] (NaN passes the clamps: they return their
 * second operand then): 2^k1 2^k2 (1 + p) with k1 = round(k/2), so both
 * factors stay normal from the subnormal results (e^-104 rounds to 0) to
 * overflow (e^89 is inf). */
static inline FVEC nnc__fexp(FVEC w) {
    w = FV_MIN(FV_SET1(89.0f), FV_MAX(FV_SET1(-104.0f), w));
    FVEC t;
    const FVEC r = nnc__freduce_ln2(w, &t);
    const FVEC er = FV_ADD(nnc__fexpm1_reduced(r), FV_SET1(1.0f));
    const FVEC k = FV_SUB(t, FV_SET1(NNC__FMAGIC));
    const FVEC t1 = FV_FMA(k, FV_SET1(0.5f), FV_SET1(NNC__FMAGIC));
    const FVEC k1 = FV_SUB(t1, FV_SET1(NNC__FMAGIC));
    const FVEC t2 = FV_ADD(FV_SUB(k, k1), FV_SET1(NNC__FMAGIC));
    return FV_MUL(FV_MUL(er, FV_POW2I(t1)), FV_POW2I(t2));
}

/* 1 / (1 + e^w) for w in [-18, 104] (nnc__frecip_1p_exp below clamps it
 * there) or NaN. e^w = 2^k (1 + p); the denominator is summed as d + delta
 * exactly (d rounded, delta its error, by Fast2Sum and an FMA) and the
 * quotient 1/d is corrected for both delta and its own rounding with the
 * exact residual 1 - z0 d, so the result is rounded once, but for p's
 * error (docs/design.md, "Native float32 activation lanes"). `wide` (a
 * constant) allows w above 64: the denominator is then computed divided
 * by 2^64 and the quotient multiplied back, so e^w never overflows and
 * subnormal results are rounded once. `nonnegative` (a constant) says
 * w >= 0 for callers that know it (tanh), saving the ordering of the
 * denominator's two terms. */
static inline FVEC nnc__frecip_1p_exp_in_range(FVEC w, int wide, int nonnegative) {
    FVEC t;
    const FVEC p = nnc__fexpm1_reduced(nnc__freduce_ln2(w, &t));
    FVEC m = FV_SET1(1.0f);
    if (wide) {
        const FMASK big = FV_GE(t, FV_SET1(NNC__FMAGIC + 64.0f));
        t = FV_SEL(big, FV_SUB(t, FV_SET1(64.0f)), t);
        m = FV_SEL(big, FV_SET1(0x1p-64f), m);
    }
    const FVEC s = FV_POW2I(t); /* the denominator is m + s (1 + p) */
    /* w >= 0 (and not wide): k >= 0, so s >= 1 = m, the larger term */
    const FVEC hi = nonnegative ? s : FV_MAX(s, m), lo = nonnegative ? m : FV_MIN(s, m);
    const FVEC c = FV_ADD(hi, lo);
    const FVEC c_err = FV_ADD(FV_SUB(hi, c), lo);
    const FVEC d = FV_FMA(s, p, c);
    const FVEC delta = FV_ADD(FV_FMA(s, p, FV_SUB(c, d)), c_err);
    const FVEC z0 = FV_DIV(FV_SET1(1.0f), d);
    const FVEC rho = FV_FNMA(z0, d, FV_SET1(1.0f));
    const FVEC z = FV_FMA(FV_FNMA(delta, z0, rho), z0, z0);
    return wide ? FV_MUL(z, m) : z;
}

/* The same for any w: clamped to [-18, 104] (1 below, 0 above; NaN passes). */
static inline FVEC nnc__frecip_1p_exp(FVEC w, int wide) {
    return nnc__frecip_1p_exp_in_range(FV_MIN(FV_SET1(104.0f), FV_MAX(FV_SET1(-18.0f), w)), wide,
                                       0);
}

/* tanh x: below |x| = atanh(1/2) its odd Taylor series to x^17 (the next
 * term is below 2^-27 of the result there); above, 1 - 2 / (1 + e^(2|x|))
 * both on |x|, with the sign of x copied back (odd to the bit, tanh(-0) = -0).
 * Exactly +-1 from |x| = 9.01. */
static inline FVEC nnc__ftanh(FVEC x) {
    const FVEC ax = FV_ABS(x);
    const FVEC x2 = FV_MUL(x, x);
    FVEC c = FV_SET1(6404582.0 / 10854718875.0);
    c = FV_FMA(c, x2, FV_SET1(-929569.0 / 638512875.0));
    c = FV_FMA(c, x2, FV_SET1(21844.0 / 6081075.0));
    c = FV_FMA(c, x2, FV_SET1(-1382.0 / 155925.0));
    c = FV_FMA(c, x2, FV_SET1(62.0 / 2835.0));
    c = FV_FMA(c, x2, FV_SET1(-17.0 / 315.0));
    c = FV_FMA(c, x2, FV_SET1(2.0 / 15.0));
    c = FV_FMA(c, x2, FV_SET1(-1.0 / 3.0));
    const FVEC small = FV_FMA(FV_MUL(ax, x2), c, ax); /* on |x|: tanh(-0) = -0 below */
    const FVEC a = FV_MIN(FV_SET1(NNC__FTANH_ONE), ax);
    /* 2a is in [0, 18.2], inside the clamps and nonnegative */
    const FVEC q = nnc__frecip_1p_exp_in_range(FV_ADD(a, a), 0, 1);
    const FVEC large = FV_FMA(q, FV_SET1(-2.0f), FV_SET1(1.0f));
    return FV_OR(FV_SEL(FV_GT(FV_SET1(NNC__FTANH_SMALL), ax), small, large), FV_SIGN(x));
}

/* sigmoid x = 1 / (1 + e^-x): 1 from x = 17.33, 0 below -103.97. */
static inline FVEC nnc__fsigmoid(FVEC x) {
    return nnc__frecip_1p_exp(FV_SUB(FV_SET1(0.0f), x), 1);
}

/* g tanh'(x) = g (1 - a^2) and g sigmoid'(x) = g a (1 - a) from the
 * activation a: the factor with one rounding (an FMA), then the product. */
static inline FVEC nnc__fd_tanh(FVEC a, FVEC g) {
    return FV_MUL(g, FV_FNMA(a, a, FV_SET1(1.0f)));
}
static inline FVEC nnc__fd_sigmoid(FVEC a, FVEC g) {
    return FV_MUL(g, FV_FNMA(a, a, a));
}

#undef NNC__FMAGIC
#undef NNC__FLOG2E
#undef NNC__FLN2_HI
#undef NNC__FLN2_LO
#undef NNC__FTANH_SMALL
#undef NNC__FTANH_ONE
