/*
 * nnc_kernels.h - the compute kernels behind the engine's matrix products
 * and the table that holds one set of them per instruction set (reference,
 * AVX2+FMA, AVX-512), picked at run time by nnc_cpu.c.
 *
 * One general product covers the three that training needs:
 *   forward    z = a . W + b        (trans_a 0, trans_b 0, bias, epilogue)
 *   gradient   [dW; db] = a^T . d   (trans_a 1, trans_b 0, ones_row)
 *   delta      d_prev = d . W^T     (trans_a 0, trans_b 1, epilogue)
 *
 * Numerical contract, shared by every kernel set: element (i, j) of C is
 * the sum over k = 0, 1, ..., K-1 in that order, started from the initial
 * value (C itself when `accumulate`, else the bias, else 0). Nothing else
 * enters it, so any split of C into blocks (and therefore any number of
 * threads) gives bit-identical results. The SIMD kernels use fused
 * multiply-adds, the reference does not: kernel sets agree to rounding.
 */
#ifndef NNC_KERNELS_H
#define NNC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "nnc.h"

/* What happens to the final value z of an element of C. */
typedef enum {
    NNC__EPI_NONE = 0,      /* C = z */
    NNC__EPI_RELU = 1,      /* C = z and D = max(z, 0) (NaN gives 0, as relu's z > 0 test) */
    NNC__EPI_RELU_GRAD = 2, /* C = z * (Z > 0 ? 1 : 0): relu' applied to a delta */
    NNC__EPI_FINITE = 3     /* C = z, and *nonfinite = 1 if C has a NaN or inf (the weight
                               gradient: checked in registers, docs/design.md "The gradient's
                               finite check") */
} nnc__epilogue;

/* C (M x N, row stride ldc) = op(A) . op(B), all row-major, strides in
 * elements; pointers are float* or double* as the dtype says.
 *   op(A)(i, k) = trans_a ? A[k*lda + i] : A[i*lda + k]      (M x K)
 *   op(B)(k, j) = trans_b ? B[j*ldb + k] : B[k*ldb + j]      (K x N)
 * `accumulate`: start from C (then bias must be NULL).
 * `bias` (N values) or NULL: start from bias[j].
 * `ones_row`: C has one more row, at C + M*ldc, computed with a row of
 *   ones in op(A): the column sums of op(B) (the bias gradient, which the
 *   parameter layout stores right after W).
 * `epilogue` with D (row stride ldd) or Z (row stride ldz), see above. */
typedef struct {
    int64_t M, N, K;
    int trans_a, trans_b;
    const void *A;
    int64_t lda;
    const void *B;
    int64_t ldb;
    void *C;
    int64_t ldc;
    int accumulate;
    const void *bias;
    int ones_row;
    nnc__epilogue epilogue;
    void *D;
    int64_t ldd;
    const void *Z;
    int64_t ldz;
    int *nonfinite; /* NNC__EPI_FINITE: set to 1 (never back to 0) by any thread */
} nnc__gemm_desc;

/* Compute rows [m0, m1) and columns [n0, n1) of C (rows count the ones row,
 * so m1 <= M + ones_row). `scratch` is NNC__GEMM_SCRATCH_BYTES, 64-byte
 * aligned, owned by the calling thread; the reference kernels ignore it. */
typedef void (*nnc__gemm_block_fn)(const nnc__gemm_desc *d, int64_t m0, int64_t m1, int64_t n0,
                                   int64_t n1, void *scratch);

#define NNC__GEMM_SCRATCH_BYTES ((size_t)1 << 18) /* the largest KC x NC block of a kernel set */

/* One Adam/AdamW step (torch.optim's single-tensor formulas, as the
 * reference kernel computes them) over elements [begin, end) of the flat
 * buffers: p params, g gradient, m exp_avg, v exp_avg_sq, vmax
 * max_exp_avg_sq (amsgrad). The constants of the step are derived in
 * double by nnc__optim_step (nnc_optim.c); every kernel casts them to the
 * dtype. */
typedef struct {
    void *p;
    const void *g;
    void *m, *v, *vmax;
    int use_wd, decoupled, amsgrad;
    double decay, wd, w1, beta2, omb2, eps, bc2s, nss;
} nnc__adam_desc;

typedef void (*nnc__adam_fn)(const nnc__adam_desc *d, int64_t begin, int64_t end);

/* The element-wise operations of the activations and losses
 * (nnc_kernels_act_impl.h). Forward ops: out[i] = f(x[i]) (EXP:
 * e^(x[i] - shift), shift in double). Derivative ops (D_): out[i] holds
 * dJ/da and becomes dJ/da * g'(x[i]), with a[i] = g(x[i]). Every value is
 * computed in double and rounded once to the dtype, the same bits in
 * every kernel set (docs/design.md, "Vectorised activations"). */
typedef enum {
    NNC__MAP_EXP,
    NNC__MAP_EXP_SUB, /* e^(x[i] - a[i]): many short softmax rows, each with its max, in one call */
    NNC__MAP_SIGMOID,
    NNC__MAP_TANH,
    NNC__MAP_RELU,
    NNC__MAP_LEAKY_RELU,
    NNC__MAP_ELU,
    NNC__MAP_SELU,
    NNC__MAP_SWISH,
    NNC__MAP_SOFTPLUS,
    NNC__MAP_STEP,
    NNC__MAP_GELU,
    NNC__MAP_D_SIGMOID, /* the first derivative op */
    NNC__MAP_D_TANH,
    NNC__MAP_D_RELU,
    NNC__MAP_D_LEAKY_RELU,
    NNC__MAP_D_ELU,
    NNC__MAP_D_SELU,
    NNC__MAP_D_SWISH,
    NNC__MAP_D_SOFTPLUS,
    NNC__MAP_D_GELU,
    NNC__MAP_COUNT
} nnc__map_op;

/* x, a, out: n values of the dtype; a may be NULL for ops that ignore it
 * (every op but EXP_SUB, D_SIGMOID and D_TANH). out may be x. */
typedef void (*nnc__map_fn)(nnc__map_op op, const void *x, const void *a, void *out, int64_t n,
                            double shift);

typedef struct {
    const char *name;         /* "ref", "avx2", "avx512" */
    int mr_f32, nr_f32;       /* register tile: the thread split's granularity */
    int mr_f64, nr_f64;
    nnc__gemm_block_fn gemm_f32, gemm_f64;
    /* 1 when all n values are finite, else 0. */
    int (*all_finite_f32)(const float *v, int64_t n);
    int (*all_finite_f64)(const double *v, int64_t n);
    nnc__adam_fn adam_f32, adam_f64;
    nnc__map_fn map_f32, map_f64;
} nnc__kernels;

/* The table of a kernel set, for the file that instantiated its kernel
 * template for both dtypes (nnc_template.h): the instances define gemm,
 * all_finite, adam, map and the register tile tile_mr x tile_nr, each with its
 * _f32 and _f64 suffix. */
#define NNC__KERNEL_SET(set_name)                                                          \
    {                                                                                      \
        .name = (set_name), .mr_f32 = tile_mr_f32, .nr_f32 = tile_nr_f32,                  \
        .mr_f64 = tile_mr_f64, .nr_f64 = tile_nr_f64, .gemm_f32 = gemm_f32,                \
        .gemm_f64 = gemm_f64, .all_finite_f32 = all_finite_f32,                            \
        .all_finite_f64 = all_finite_f64, .adam_f32 = adam_f32, .adam_f64 = adam_f64,      \
        .map_f32 = map_f32, .map_f64 = map_f64                                             \
    }

/* Portable reference kernels: the oracle for the fast ones. */
extern const nnc__kernels nnc__kernels_ref;
/* SIMD sets; each file compiles to an empty stub (name NULL) where the
 * compiler cannot target the instruction set. Only use them after
 * nnc__kernels_supported said the CPU runs them. */
extern const nnc__kernels nnc__kernels_avx2;
extern const nnc__kernels nnc__kernels_avx512;

/* The kernels in use: NNC_ARCH=ref|avx2|avx512 when set and supported,
 * else the best set this CPU and OS support. Decided on first use. */
const nnc__kernels *nnc__kernels_active(void);
/* The set called `name` if this build has it and the CPU runs it, else NULL. */
const nnc__kernels *nnc__kernels_supported(const char *name);

/* The whole product, split over threads (nnc_kernels_parallel.c).
 * Bit-identical for any thread count. `dtype` selects float or double. */
void nnc__gemm(nnc_dtype dtype, const nnc__gemm_desc *d);

/* All n values finite (1) or not (0), with the active kernels and threads. */
int nnc__all_finite(nnc_dtype dtype, const void *v, int64_t n);

/* One Adam/AdamW step over all n elements with the active kernels, split
 * over threads by ranges of elements: bit-identical for any thread count
 * (nnc_kernels_parallel.c). */
void nnc__adam(nnc_dtype dtype, const nnc__adam_desc *d, int64_t n);

/* The element-wise op over n values with the active kernels, in the
 * calling thread (nnc__map_fn). */
void nnc__map(nnc_dtype dtype, nnc__map_op op, const void *x, const void *a, void *out, int64_t n,
              double shift);
/* The active set's map kernel itself, for loops over many short rows
 * (softmax, the losses) that would pay nnc__map's dispatch per row. */
nnc__map_fn nnc__map_kernel(nnc_dtype dtype);

#endif /* NNC_KERNELS_H */
