/*
 * nnc_activations_impl.h - element-wise activations and their derivatives,
 * part of the forward and backward templates (nnc_template.h), which
 * include it.
 *
 * Transcendentals are evaluated in double and rounded once, so float32
 * models get correctly rounded activations.
 */
#include "nnc_math.h"

#include <string.h>


/* a = g(z) for an m x n block. `slopes` (n) only for PReLU. Softmax is
 * taken over each row. */
static inline void NNC_SFX(act_forward)(nnc_activation act, const NNC_REAL *z, NNC_REAL *a, int64_t m,
                                        int64_t n, const NNC_REAL *slopes) {
    const int64_t total = m * n;
#define EACH(expr)                                                                       \
    for (int64_t i = 0; i < total; i++) {                                                \
        const double x = (double)z[i];                                                   \
        a[i] = (NNC_REAL)(expr);                                                         \
    }                                                                                    \
    break
    switch (act) {
    case NNC_ACT_LINEAR:
        if (a != z) memcpy(a, z, (size_t)total * sizeof(NNC_REAL));
        break;
    case NNC_ACT_SIGMOID: EACH(nnc__sigmoid(x));
    case NNC_ACT_TANH: EACH(tanh(x));
    case NNC_ACT_RELU: EACH(x > 0 ? x : 0.0);
    case NNC_ACT_LEAKY_RELU: EACH(x > 0 ? x : NNC_LEAKY_SLOPE * x);
    case NNC_ACT_ELU: EACH(x > 0 ? x : expm1(x));
    case NNC_ACT_SELU: EACH(NNC_SELU_LAMBDA * (x > 0 ? x : NNC_SELU_ALPHA * expm1(x)));
    case NNC_ACT_SWISH: EACH(x * nnc__sigmoid(x));
    case NNC_ACT_GELU: EACH(0.5 * x * (1.0 + erf(x * NNC_INV_SQRT2)));
    case NNC_ACT_SOFTPLUS: EACH(nnc__softplus(x));
    case NNC_ACT_STEP: EACH(x >= 0 ? 1.0 : 0.0);
    case NNC_ACT_PRELU:
        for (int64_t r = 0; r < m; r++)
            for (int64_t j = 0; j < n; j++) {
                const NNC_REAL x = z[r * n + j];
                a[r * n + j] = x > 0 ? x : slopes[j] * x;
            }
        break;
    case NNC_ACT_SOFTMAX:
        for (int64_t r = 0; r < m; r++) {
            const NNC_REAL *zr = z + r * n;
            NNC_REAL *ar = a + r * n;
            double mx = (double)zr[0], sum = 0.0;
            for (int64_t j = 1; j < n; j++)
                if ((double)zr[j] > mx) mx = (double)zr[j];
            for (int64_t j = 0; j < n; j++) sum += exp((double)zr[j] - mx);
            const double inv = 1.0 / sum;
            for (int64_t j = 0; j < n; j++) ar[j] = (NNC_REAL)(exp((double)zr[j] - mx) * inv);
        }
        break;
    default:
        break;
    }
#undef EACH
}

/* In place: g holds dJ/da on entry and dJ/dz on exit, for an m x n block
 * with pre-activations z and activations a. For PReLU, dslopes (n) receives
 * dJ/dslope (overwritten). The step activation has no derivative; callers
 * refuse it before getting here. */
static inline void NNC_SFX(act_backward)(nnc_activation act, const NNC_REAL *z, const NNC_REAL *a,
                                  NNC_REAL *g, int64_t m, int64_t n, const NNC_REAL *slopes,
                                  NNC_REAL *dslopes) {
    const int64_t total = m * n;
#define EACH(deriv)                                                                      \
    for (int64_t i = 0; i < total; i++) {                                                \
        const double x = (double)z[i], y = (double)a[i];                                 \
        (void)x;                                                                         \
        (void)y;                                                                         \
        g[i] = (NNC_REAL)((double)g[i] * (deriv));                                       \
    }                                                                                    \
    break
    switch (act) {
    case NNC_ACT_LINEAR: break;
    case NNC_ACT_SIGMOID: EACH(y * (1.0 - y));
    case NNC_ACT_TANH: EACH(1.0 - y * y);
    case NNC_ACT_RELU: EACH(x > 0 ? 1.0 : 0.0);
    case NNC_ACT_LEAKY_RELU: EACH(x > 0 ? 1.0 : NNC_LEAKY_SLOPE);
    case NNC_ACT_ELU: EACH(x > 0 ? 1.0 : exp(x));
    case NNC_ACT_SELU: EACH(x > 0 ? NNC_SELU_LAMBDA : NNC_SELU_LAMBDA * NNC_SELU_ALPHA * exp(x));
    case NNC_ACT_SWISH: {
        for (int64_t i = 0; i < total; i++) {
            const double x = (double)z[i], s = nnc__sigmoid(x);
            g[i] = (NNC_REAL)((double)g[i] * (s * (1.0 + x * (1.0 - s))));
        }
        break;
    }
    case NNC_ACT_GELU:
        EACH(0.5 * (1.0 + erf(x * NNC_INV_SQRT2)) + x * NNC_INV_SQRT_2PI * exp(-0.5 * x * x));
    case NNC_ACT_SOFTPLUS: EACH(nnc__sigmoid(x));
    case NNC_ACT_PRELU:
        memset(dslopes, 0, (size_t)n * sizeof(NNC_REAL));
        for (int64_t r = 0; r < m; r++)
            for (int64_t j = 0; j < n; j++) {
                const int64_t i = r * n + j;
                if (z[i] > 0) continue;
                dslopes[j] += g[i] * z[i];
                g[i] *= slopes[j];
            }
        break;
    case NNC_ACT_SOFTMAX:
        /* Jacobian-vector product: dz = a * (g - sum_k g_k a_k). */
        for (int64_t r = 0; r < m; r++) {
            NNC_REAL *gr = g + r * n;
            const NNC_REAL *ar = a + r * n;
            double dot = 0.0;
            for (int64_t j = 0; j < n; j++) dot += (double)gr[j] * (double)ar[j];
            for (int64_t j = 0; j < n; j++)
                gr[j] = (NNC_REAL)((double)ar[j] * ((double)gr[j] - dot));
        }
        break;
    default:
        break;
    }
#undef EACH
}
