/*
 * nnc_activations_impl.h - element-wise activations and their derivatives,
 * part of the forward and backward templates (nnc_template.h), which
 * include it.
 *
 * The element-wise work runs in the active kernel set's map kernel
 * (nnc__map, nnc_kernels.h): computed in double and rounded once, the
 * same bits in every kernel set and thread count (docs/design.md,
 * "Vectorised activations", "Vectorised GELU").
 */
#include "nnc_math.h"
#include "kernels/nnc_kernels.h"

#include <string.h>

/* Values of softmax rows per call of the exp kernel (a stack buffer). */
#ifndef NNC__SOFTMAX_CHUNK
#define NNC__SOFTMAX_CHUNK 256
#endif


/* a = g(z) for an m x n block. `slopes` (n) only for PReLU. Softmax is
 * taken over each row. */
static inline void NNC_SFX(act_forward)(nnc_activation act, const NNC_REAL *z, NNC_REAL *a, int64_t m,
                                        int64_t n, const NNC_REAL *slopes) {
    const int64_t total = m * n;
    nnc__map_op op;
    nnc__map_fn exp_row;
    switch (act) {
    case NNC_ACT_LINEAR:
        if (a != z) memcpy(a, z, (size_t)total * sizeof(NNC_REAL));
        return;
    case NNC_ACT_SIGMOID: op = NNC__MAP_SIGMOID; break;
    case NNC_ACT_TANH: op = NNC__MAP_TANH; break;
    case NNC_ACT_RELU: op = NNC__MAP_RELU; break;
    case NNC_ACT_LEAKY_RELU: op = NNC__MAP_LEAKY_RELU; break;
    case NNC_ACT_ELU: op = NNC__MAP_ELU; break;
    case NNC_ACT_SELU: op = NNC__MAP_SELU; break;
    case NNC_ACT_SWISH: op = NNC__MAP_SWISH; break;
    case NNC_ACT_SOFTPLUS: op = NNC__MAP_SOFTPLUS; break;
    case NNC_ACT_STEP: op = NNC__MAP_STEP; break;
    case NNC_ACT_GELU: op = NNC__MAP_GELU; break;
    case NNC_ACT_PRELU:
        for (int64_t r = 0; r < m; r++)
            for (int64_t j = 0; j < n; j++) {
                const NNC_REAL x = z[r * n + j];
                a[r * n + j] = x > 0 ? x : slopes[j] * x;
            }
        return;
    case NNC_ACT_SOFTMAX: {
        /* e^(z - max) by the kernel; the sum in order, in double. Short
         * rows go to the kernel many at a time, each element with its
         * row's max beside it (EXP_SUB): one call per row would cost more
         * than the arithmetic (docs/design.md, "Small-data step"). The
         * max is one of the row's values, so the shift is exact in the
         * dtype and every element gets the same bits as row by row. */
        NNC_REAL shifts[NNC__SOFTMAX_CHUNK];
        const int64_t per_call = n <= NNC__SOFTMAX_CHUNK ? NNC__SOFTMAX_CHUNK / n : 1;
        exp_row = nnc__map_kernel(NNC_DTYPE);
        for (int64_t r0 = 0; r0 < m; r0 += per_call) {
            const int64_t rows = m - r0 < per_call ? m - r0 : per_call;
            for (int64_t r = r0; r < r0 + rows; r++) {
                const NNC_REAL *zr = z + r * n;
                NNC_REAL mx = zr[0];
                for (int64_t j = 1; j < n; j++)
                    if (zr[j] > mx) mx = zr[j];
                if (per_call == 1) {
                    exp_row(NNC__MAP_EXP, zr, NULL, a + r * n, n, (double)mx);
                    break;
                }
                for (int64_t j = 0; j < n; j++) shifts[(r - r0) * n + j] = mx;
            }
            if (per_call > 1)
                exp_row(NNC__MAP_EXP_SUB, z + r0 * n, shifts, a + r0 * n, rows * n, 0.0);
            for (int64_t r = r0; r < r0 + rows; r++) {
                NNC_REAL *ar = a + r * n;
                double sum = 0.0;
                for (int64_t j = 0; j < n; j++) sum += (double)ar[j];
                const double inv = 1.0 / sum;
                for (int64_t j = 0; j < n; j++) ar[j] = (NNC_REAL)((double)ar[j] * inv);
            }
        }
        return;
    }
    default:
        return;
    }
    nnc__map(NNC_DTYPE, op, z, NULL, a, total, 0.0);
}

/* In place: g holds dJ/da on entry and dJ/dz on exit, for an m x n block
 * with pre-activations z and activations a. For PReLU, dslopes (n) receives
 * dJ/dslope (overwritten). The step activation has no derivative; callers
 * refuse it before getting here. */
static inline void NNC_SFX(act_backward)(nnc_activation act, const NNC_REAL *z, const NNC_REAL *a,
                                  NNC_REAL *g, int64_t m, int64_t n, const NNC_REAL *slopes,
                                  NNC_REAL *dslopes) {
    const int64_t total = m * n;
    nnc__map_op op;
    switch (act) {
    case NNC_ACT_LINEAR: return;
    case NNC_ACT_SIGMOID: op = NNC__MAP_D_SIGMOID; break;
    case NNC_ACT_TANH: op = NNC__MAP_D_TANH; break;
    case NNC_ACT_RELU: op = NNC__MAP_D_RELU; break;
    case NNC_ACT_LEAKY_RELU: op = NNC__MAP_D_LEAKY_RELU; break;
    case NNC_ACT_ELU: op = NNC__MAP_D_ELU; break;
    case NNC_ACT_SELU: op = NNC__MAP_D_SELU; break;
    case NNC_ACT_SWISH: op = NNC__MAP_D_SWISH; break;
    case NNC_ACT_SOFTPLUS: op = NNC__MAP_D_SOFTPLUS; break;
    case NNC_ACT_GELU: op = NNC__MAP_D_GELU; break;
    case NNC_ACT_PRELU:
        memset(dslopes, 0, (size_t)n * sizeof(NNC_REAL));
        for (int64_t r = 0; r < m; r++)
            for (int64_t j = 0; j < n; j++) {
                const int64_t i = r * n + j;
                if (z[i] > 0) continue;
                dslopes[j] += g[i] * z[i];
                g[i] *= slopes[j];
            }
        return;
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
        return;
    default:
        return;
    }
    nnc__map(NNC_DTYPE, op, z, a, g, total, 0.0);
}
