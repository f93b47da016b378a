/*
 * nnc_kernels_ref.c - portable reference kernels: plain loops with the
 * numerical contract of nnc_kernels.h (each element summed over k in order,
 * from C, the bias or 0), no fused multiply-adds. Correct first; the SIMD
 * kernels must agree with them to rounding.
 */
#include "nnc_kernels.h"

#include <math.h>
#include <string.h>

#define DEFINE_REF_KERNELS(T, SFX, SQRT)                                                         \
    /* acc[j - n0] for row i of op(A) . op(B), started from `init`. */                     \
    static void row_##SFX(const nnc__gemm_desc *d, int64_t i, int64_t n0, int64_t n1,      \
                          T *acc) {                                                        \
        const T *A = d->A, *B = d->B;                                                      \
        const int ones = i == d->M;                                                        \
        for (int64_t k = 0; k < d->K; k++) {                                               \
            const T a = ones ? (T)1 : d->trans_a ? A[k * d->lda + i] : A[i * d->lda + k];  \
            if (d->trans_b) {                                                              \
                for (int64_t j = n0; j < n1; j++) acc[j - n0] += a * B[j * d->ldb + k];    \
            } else {                                                                       \
                const T *b = B + k * d->ldb;                                               \
                for (int64_t j = n0; j < n1; j++) acc[j - n0] += a * b[j];                 \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    static void gemm_##SFX(const nnc__gemm_desc *d, int64_t m0, int64_t m1, int64_t n0,    \
                           int64_t n1, void *scratch) {                                    \
        (void)scratch;                                                                     \
        const T *bias = d->bias, *Z = d->Z;                                                \
        for (int64_t i = m0; i < m1; i++) {                                                \
            T *c = (T *)d->C + i * d->ldc;                                                 \
            /* Accumulate in place in C's row: it is the output anyway. */                \
            for (int64_t j = n0; j < n1; j++)                                              \
                c[j] = d->accumulate ? c[j] : bias ? bias[j] : (T)0;                       \
            row_##SFX(d, i, n0, n1, c + n0);                                               \
            if (d->epilogue == NNC__EPI_RELU) {                                            \
                T *out = (T *)d->D + i * d->ldd;                                           \
                for (int64_t j = n0; j < n1; j++) out[j] = c[j] > 0 ? c[j] : (T)0;         \
            } else if (d->epilogue == NNC__EPI_RELU_GRAD) {                                \
                const T *z = Z + i * d->ldz;                                               \
                for (int64_t j = n0; j < n1; j++) c[j] = c[j] * (z[j] > 0 ? (T)1 : (T)0);  \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    static void adam_##SFX(const nnc__adam_desc *d, int64_t begin, int64_t end) {          \
        T *p = d->p, *m = d->m, *v = d->v, *vmax = d->vmax;                                \
        const T *g = d->g;                                                                 \
        const T decay = (T)d->decay, wd = (T)d->wd, w1 = (T)d->w1, beta2 = (T)d->beta2;    \
        const T omb2 = (T)d->omb2, eps = (T)d->eps, bc2s = (T)d->bc2s, nss = (T)d->nss;    \
        const int lerp_low = (w1 < 0 ? -w1 : w1) < (T)0.5;                                 \
        for (int64_t i = begin; i < end; i++) {                                            \
            T gi = g[i], pi = p[i];                                                        \
            if (d->use_wd) {                                                               \
                if (d->decoupled)                                                          \
                    pi = pi * decay;                                                       \
                else                                                                       \
                    gi = gi + wd * pi;                                                     \
            }                                                                              \
            const T mi = lerp_low ? m[i] + w1 * (gi - m[i]) : gi - (gi - m[i]) * ((T)1 - w1); \
            m[i] = mi;                                                                     \
            T vi = v[i] * beta2;                                                           \
            vi = vi + omb2 * gi * gi;                                                      \
            v[i] = vi;                                                                     \
            if (d->amsgrad) {                                                              \
                const T a = vmax[i];                                                       \
                vi = a != a ? a : vi != vi ? vi : a > vi ? a : vi;                         \
                vmax[i] = vi;                                                              \
            }                                                                              \
            const T denom = SQRT(vi) / bc2s + eps;                                         \
            p[i] = pi + nss * mi / denom;                                                  \
        }                                                                                  \
    }                                                                                      \
    static int finite_##SFX(const T *v, int64_t n) {                                       \
        /* x * 0 is 0 for finite x, NaN for NaN and inf. */                                \
        for (int64_t i = 0; i < n; i++)                                                    \
            if (v[i] * (T)0 != (T)0) return 0;                                             \
        return 1;                                                                          \
    }

DEFINE_REF_KERNELS(float, f32, sqrtf)
DEFINE_REF_KERNELS(double, f64, sqrt)

const nnc__kernels nnc__kernels_ref = {
    "ref", 4, 16, 4, 8, gemm_f32, gemm_f64, finite_f32, finite_f64, adam_f32, adam_f64,
};
