/*
 * nnc_kernels.h - the table of compute kernels the engine calls for its
 * three matrix products. One table per instruction set (reference, AVX2,
 * AVX-512), picked once at run time by nnc_cpu.c.
 *
 * All matrices are row-major with leading dimensions (row strides) in
 * elements. With `accumulate` 0 the product overwrites C, with 1 it is
 * added to C.
 *   gemm_nn: C[M x N] = A[M x K] . B[K x N]          (forward: z = a . W)
 *   gemm_tn: C[M x N] = A^T . B, A stored K x M      (dW = a^T . delta)
 *   gemm_nt: C[M x N] = A . B^T, B stored N x K      (delta . W^T)
 */
#ifndef NNC_KERNELS_H
#define NNC_KERNELS_H

#include <stdint.h>

#define NNC__GEMM_ARGS(T)                                                                  \
    int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, const T *B, int64_t ldb, T *C, \
        int64_t ldc, int accumulate

typedef void (*nnc__gemm_f32)(NNC__GEMM_ARGS(float));
typedef void (*nnc__gemm_f64)(NNC__GEMM_ARGS(double));

typedef struct {
    const char *name; /* "ref", "avx2", "avx512" */
    nnc__gemm_f32 gemm_nn_f32, gemm_tn_f32, gemm_nt_f32;
    nnc__gemm_f64 gemm_nn_f64, gemm_tn_f64, gemm_nt_f64;
} nnc__kernels;

/* Portable reference kernels: the oracle for the fast ones. */
extern const nnc__kernels nnc__kernels_ref;

/* The kernels for this CPU (or NNC_ARCH=ref|avx2|avx512 when set and
 * supported). Thread-safe; decided on first use. */
const nnc__kernels *nnc__kernels_active(void);

#endif /* NNC_KERNELS_H */
