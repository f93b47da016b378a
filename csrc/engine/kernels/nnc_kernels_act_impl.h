/*
 * nnc_kernels_act_impl.h - the element-wise kernel (nnc__map_fn, see
 * nnc_kernels.h) of a kernel set for one dtype: a template (nnc_template.h)
 * over the double-lane math of nnc_kernels_act_math.h and, for float32
 * tanh and sigmoid, the float-lane math of nnc_kernels_act_math_f32.h,
 * which the including file has included with its DV_ and FV_ headers.
 * Float32 tanh and sigmoid run in native float lanes (16 per zmm, 8 per
 * ymm; within 1 ulp, docs/accuracy.md); every other float32 op is widened
 * to double lanes, computed and rounded once (within 0.51 ulp), and
 * float64 runs in double lanes (docs/design.md, "Native float32 activation
 * lanes"). The op is dispatched once per call: each op has its own loop,
 * in which map_lanes's switch folds to that op's code. The tail
 * (n % lanes elements) goes through a padded copy and the same vector
 * code, so every element gets the same operations wherever it sits.
 */
#if NNC_IS_F32
#define ACT_LOAD DV_LOAD_F32
#define ACT_STORE DV_STORE_F32
#else
#define ACT_LOAD DV_LOAD_F64
#define ACT_STORE DV_STORE_F64
#endif

/* One vector of op: x the input (z), a the activation, g the value to
 * scale (derivative ops); returns the new value. */
static inline __attribute__((always_inline)) DVEC NNC_SFX(map_lanes)(nnc__map_op op, DVEC x, DVEC a, DVEC g, double shift) {
    const DVEC zero = DV_SET1(0.0), one = DV_SET1(1.0);
    const DMASK pos = DV_GT(x, zero);
    switch (op) {
    case NNC__MAP_EXP: return nnc__vexp(DV_SUB(x, DV_SET1(shift)), NNC_IS_F32);
    case NNC__MAP_EXP_SUB: return nnc__vexp(DV_SUB(x, a), NNC_IS_F32);
    case NNC__MAP_SIGMOID: return nnc__vsigmoid(x, NNC_IS_F32);
    case NNC__MAP_TANH: return nnc__vtanh(x, NNC_IS_F32);
    case NNC__MAP_RELU: return DV_SEL(pos, x, zero);
    case NNC__MAP_LEAKY_RELU: return DV_SEL(pos, x, DV_MUL(DV_SET1(NNC_LEAKY_SLOPE), x));
    case NNC__MAP_ELU: return DV_SEL(pos, x, nnc__vexpm1_neg(x, NNC_IS_F32));
    case NNC__MAP_SELU:
        return DV_MUL(DV_SET1(NNC_SELU_LAMBDA),
                      DV_SEL(pos, x, DV_MUL(DV_SET1(NNC_SELU_ALPHA), nnc__vexpm1_neg(x, NNC_IS_F32))));
    case NNC__MAP_SWISH: {
        DVEC back, comp;
        const DVEC s = nnc__vsigmoid_scaled(x, &back, &comp, NNC_IS_F32);
        return DV_MUL(DV_MUL(x, s), back);
    }
    case NNC__MAP_SOFTPLUS: return nnc__vsoftplus(x, NNC_IS_F32);
    case NNC__MAP_STEP: return DV_SEL(DV_GE(x, zero), one, zero);
    case NNC__MAP_GELU: return nnc__vgelu(x, NNC_IS_F32);
    case NNC__MAP_D_SIGMOID: return DV_MUL(g, DV_MUL(a, DV_SUB(one, a)));
    case NNC__MAP_D_TANH: return DV_MUL(g, DV_FMA(DV_SUB(zero, a), a, one)); /* 1 - a^2, one rounding */
    case NNC__MAP_D_RELU: return DV_MUL(g, DV_SEL(pos, one, zero));
    case NNC__MAP_D_LEAKY_RELU: return DV_MUL(g, DV_SEL(pos, one, DV_SET1(NNC_LEAKY_SLOPE)));
    case NNC__MAP_D_ELU: return DV_MUL(g, DV_SEL(pos, one, nnc__vexp(x, NNC_IS_F32)));
    case NNC__MAP_D_SELU:
        return DV_MUL(g, DV_SEL(pos, DV_SET1(NNC_SELU_LAMBDA),
                                DV_MUL(DV_SET1(NNC_SELU_LAMBDA * NNC_SELU_ALPHA), nnc__vexp(x, NNC_IS_F32))));
    case NNC__MAP_D_SWISH: {
        DVEC back, comp;
        const DVEC s = nnc__vsigmoid_scaled(x, &back, &comp, NNC_IS_F32);
        const DVEC d = DV_MUL(DV_MUL(s, DV_FMA(x, comp, one)), back);
        return DV_MUL(g, d);
    }
    case NNC__MAP_D_SOFTPLUS: return DV_MUL(g, nnc__vsigmoid(x, NNC_IS_F32));
    case NNC__MAP_D_GELU: return DV_MUL(g, nnc__vgelu_deriv(x, NNC_IS_F32));
    case NNC__MAP_COUNT: break;
    }
    return g;
}

/* op over n values in double lanes; inlined with a constant op. */
static inline __attribute__((always_inline)) void NNC_SFX(map_dlanes)(
    nnc__map_op op, const NNC_REAL *x, const NNC_REAL *a, NNC_REAL *out, int64_t n, double shift) {
    const int deriv = op >= NNC__MAP_D_SIGMOID;
    const int reads_a = a && (deriv || op == NNC__MAP_EXP_SUB);
    int64_t i = 0;
    for (; i + DL <= n; i += DL) {
        const DVEC xi = ACT_LOAD(x + i);
        const DVEC ai = reads_a ? ACT_LOAD(a + i) : xi;
        const DVEC gi = deriv ? ACT_LOAD(out + i) : xi;
        ACT_STORE(out + i, NNC_SFX(map_lanes)(op, xi, ai, gi, shift));
    }
    if (i < n) {
        NNC_REAL xb[DL] = {0}, ab[DL] = {0}, ob[DL] = {0};
        const int64_t rest = n - i;
        for (int64_t j = 0; j < rest; j++) {
            xb[j] = x[i + j];
            ab[j] = reads_a ? a[i + j] : xb[j];
            ob[j] = deriv ? out[i + j] : xb[j];
        }
        ACT_STORE(ob, NNC_SFX(map_lanes)(op, ACT_LOAD(xb), ACT_LOAD(ab), ACT_LOAD(ob), shift));
        for (int64_t j = 0; j < rest; j++) out[i + j] = ob[j];
    }
}

#if NNC_IS_F32
/* One float vector of op (a constant: tanh, sigmoid or their derivatives). */
static inline __attribute__((always_inline)) FVEC flanes(nnc__map_op op, FVEC x, FVEC a, FVEC g) {
    switch (op) {
    case NNC__MAP_TANH: return nnc__ftanh(x);
    case NNC__MAP_SIGMOID: return nnc__fsigmoid(x);
    case NNC__MAP_D_TANH: return nnc__fd_tanh(a, g);
    default: return nnc__fd_sigmoid(a, g);
    }
}

/* op over n floats in float lanes: out = f(x), or out *= f'(a). */
static inline __attribute__((always_inline)) void map_flanes(nnc__map_op op, const float *x,
                                                              const float *a, float *out,
                                                              int64_t n) {
    const int deriv = op == NNC__MAP_D_TANH || op == NNC__MAP_D_SIGMOID;
    const float *in = deriv ? a : x;
    int64_t i = 0;
    for (; i + FL <= n; i += FL) {
        const FVEC v = FV_LOAD(in + i);
        FV_STORE(out + i, flanes(op, v, v, deriv ? FV_LOAD(out + i) : v));
    }
    if (i < n) {
        float vb[FL] = {0}, ob[FL] = {0};
        const int64_t rest = n - i;
        for (int64_t j = 0; j < rest; j++) {
            vb[j] = in[i + j];
            ob[j] = deriv ? out[i + j] : 0.0f;
        }
        const FVEC v = FV_LOAD(vb);
        FV_STORE(ob, flanes(op, v, v, FV_LOAD(ob)));
        for (int64_t j = 0; j < rest; j++) out[i + j] = ob[j];
    }
}
#endif

static void NNC_SFX(map)(nnc__map_op op, const void *xv, const void *av, void *outv, int64_t n,
                         double shift) {
    const NNC_REAL *x = xv, *a = av;
    NNC_REAL *out = outv;
#define NNC__MAP_CASE(o) \
    case o: NNC_SFX(map_dlanes)(o, x, a, out, n, shift); return;
#if NNC_IS_F32
#define NNC__MAP_CASE_F32(o) \
    case o: map_flanes(o, x, a, out, n); return;
#else
#define NNC__MAP_CASE_F32(o) NNC__MAP_CASE(o)
#endif
    switch (op) {
    NNC__MAP_CASE_F32(NNC__MAP_TANH)
    NNC__MAP_CASE_F32(NNC__MAP_SIGMOID)
    NNC__MAP_CASE_F32(NNC__MAP_D_TANH)
    NNC__MAP_CASE_F32(NNC__MAP_D_SIGMOID)
    NNC__MAP_CASE(NNC__MAP_EXP)
    NNC__MAP_CASE(NNC__MAP_EXP_SUB)
    NNC__MAP_CASE(NNC__MAP_RELU)
    NNC__MAP_CASE(NNC__MAP_LEAKY_RELU)
    NNC__MAP_CASE(NNC__MAP_ELU)
    NNC__MAP_CASE(NNC__MAP_SELU)
    NNC__MAP_CASE(NNC__MAP_SWISH)
    NNC__MAP_CASE(NNC__MAP_SOFTPLUS)
    NNC__MAP_CASE(NNC__MAP_STEP)
    NNC__MAP_CASE(NNC__MAP_GELU)
    NNC__MAP_CASE(NNC__MAP_D_RELU)
    NNC__MAP_CASE(NNC__MAP_D_LEAKY_RELU)
    NNC__MAP_CASE(NNC__MAP_D_ELU)
    NNC__MAP_CASE(NNC__MAP_D_SELU)
    NNC__MAP_CASE(NNC__MAP_D_SWISH)
    NNC__MAP_CASE(NNC__MAP_D_SOFTPLUS)
    NNC__MAP_CASE(NNC__MAP_D_GELU)
    case NNC__MAP_COUNT: break;
    }
#undef NNC__MAP_CASE_F32
#undef NNC__MAP_CASE
}

#undef ACT_LOAD
#undef ACT_STORE
