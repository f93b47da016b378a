/*
 * nnc_kernels_ref.c - portable reference GEMM kernels: plain loops ordered
 * for unit-stride inner access. Correct first; the SIMD kernels must agree
 * with them.
 */
#include "nnc_kernels.h"

#include <string.h>

#define DEFINE_REF_KERNELS(T, SFX)                                                      \
    static void gemm_nn_##SFX(NNC__GEMM_ARGS(T)) {                                      \
        for (int64_t i = 0; i < M; i++) {                                               \
            T *c = C + i * ldc;                                                         \
            if (!accumulate) memset(c, 0, (size_t)N * sizeof(T));                       \
            const T *a = A + i * lda;                                                   \
            for (int64_t p = 0; p < K; p++) {                                           \
                const T aip = a[p];                                                     \
                const T *b = B + p * ldb;                                               \
                for (int64_t j = 0; j < N; j++) c[j] += aip * b[j];                     \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
    static void gemm_tn_##SFX(NNC__GEMM_ARGS(T)) {                                      \
        if (!accumulate)                                                                \
            for (int64_t i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(T)); \
        for (int64_t p = 0; p < K; p++) {                                               \
            const T *a = A + p * lda;                                                   \
            const T *b = B + p * ldb;                                                   \
            for (int64_t i = 0; i < M; i++) {                                           \
                const T api = a[i];                                                     \
                T *c = C + i * ldc;                                                     \
                for (int64_t j = 0; j < N; j++) c[j] += api * b[j];                     \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
    static void gemm_nt_##SFX(NNC__GEMM_ARGS(T)) {                                      \
        for (int64_t i = 0; i < M; i++) {                                               \
            const T *a = A + i * lda;                                                   \
            T *c = C + i * ldc;                                                         \
            for (int64_t j = 0; j < N; j++) {                                           \
                const T *b = B + j * ldb;                                               \
                T s = 0;                                                                \
                for (int64_t p = 0; p < K; p++) s += a[p] * b[p];                       \
                c[j] = accumulate ? c[j] + s : s;                                       \
            }                                                                           \
        }                                                                               \
    }

DEFINE_REF_KERNELS(float, f32)
DEFINE_REF_KERNELS(double, f64)

const nnc__kernels nnc__kernels_ref = {
    "ref", gemm_nn_f32, gemm_tn_f32, gemm_nt_f32, gemm_nn_f64, gemm_tn_f64, gemm_nt_f64,
};
