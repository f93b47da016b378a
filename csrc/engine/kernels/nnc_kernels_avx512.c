/*
 * nnc_kernels_avx512.c - the AVX-512 (F + DQ) kernel set: register tile 6 x 64
 * floats (24 zmm accumulators) or 6 x 32 doubles. See nnc_kernels_gemm_impl.h.
 */
#define NNC_X86_TARGET "avx512f,avx512dq,avx2,fma"
#include "nnc_kernels_x86.h"

#include "nnc_kernels.h"

#ifdef NNC_X86_SIMD

/* ---------------------------------------------------------------- float */
/* torch.maximum: a NaN in a wins, then a NaN in b, else the larger. */
static inline __m512 f32_maxnan(__m512 a, __m512 b) {
    const __mmask16 gt = _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
    const __mmask16 a_nan = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
    const __mmask16 b_nan = _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
    __m512 r = _mm512_mask_blend_ps(gt, b, a);
    r = _mm512_mask_blend_ps(b_nan, r, b);
    return _mm512_mask_blend_ps(a_nan, r, a);
}

#define T float
#define SFX(name) name##_f32
#define VEC __m512
#define MASK __mmask16
#define VL 16
#define NVMAX 4
#define KC 256
#define NC 512
#define V_ZERO() _mm512_setzero_ps()
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define V_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_RELU(v) _mm512_max_ps((v), _mm512_setzero_ps())
#define V_RELU_GRAD(v, z)                                                                    \
    _mm512_mul_ps((v), _mm512_maskz_mov_ps(_mm512_cmp_ps_mask((z), _mm512_setzero_ps(),      \
                                                              _CMP_GT_OQ),                   \
                                           _mm512_set1_ps(1.0f)))
#define V_ADD(a, b) _mm512_add_ps((a), (b))
#define V_MUL0(v) _mm512_mul_ps((v), _mm512_setzero_ps())
#define V_ALLZERO(v) (_mm512_cmp_ps_mask((v), _mm512_setzero_ps(), _CMP_EQ_OQ) == 0xFFFF)
#define MASK_FIRST(n) ((__mmask16)((1u << (n)) - 1u))
#define PACK_BT(dst, ds, src, ls) NNC__TRANSPOSE_SQUARE(float, 8, 16, dst, ds, src, ls, nnc__transpose8_ps)
#define V_SUB(a, b) _mm512_sub_ps((a), (b))
#define V_MUL(a, b) _mm512_mul_ps((a), (b))
#define V_DIV(a, b) _mm512_div_ps((a), (b))
#define V_SQRT(a) _mm512_sqrt_ps(a)
#define V_MAXNAN(a, b) f32_maxnan((a), (b))
#include "nnc_kernels_gemm_impl.h"
#include "nnc_kernels_optim_impl.h"
#undef T
#undef SFX
#undef VEC
#undef MASK
#undef VL
#undef NVMAX
#undef KC
#undef NC
#undef V_ZERO
#undef V_LOADU
#undef V_LOADM
#undef V_STOREU
#undef V_STOREM
#undef V_FMA
#undef V_SET1
#undef V_RELU
#undef V_RELU_GRAD
#undef V_ADD
#undef V_MUL0
#undef V_ALLZERO
#undef MASK_FIRST
#undef PACK_BT
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_SQRT
#undef V_MAXNAN

/* --------------------------------------------------------------- double */
/* torch.maximum: a NaN in a wins, then a NaN in b, else the larger. */
static inline __m512d f64_maxnan(__m512d a, __m512d b) {
    const __mmask8 gt = _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ);
    const __mmask8 a_nan = _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q);
    const __mmask8 b_nan = _mm512_cmp_pd_mask(b, b, _CMP_UNORD_Q);
    __m512d r = _mm512_mask_blend_pd(gt, b, a);
    r = _mm512_mask_blend_pd(b_nan, r, b);
    return _mm512_mask_blend_pd(a_nan, r, a);
}

#define T double
#define SFX(name) name##_f64
#define VEC __m512d
#define MASK __mmask8
#define VL 8
#define NVMAX 4
#define KC 256
#define NC 256
#define V_ZERO() _mm512_setzero_pd()
#define V_LOADU(p) _mm512_loadu_pd(p)
#define V_LOADM(p, m) _mm512_maskz_loadu_pd((m), (p))
#define V_STOREU(p, v) _mm512_storeu_pd((p), (v))
#define V_STOREM(p, m, v) _mm512_mask_storeu_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define V_SET1(x) _mm512_set1_pd(x)
#define V_RELU(v) _mm512_max_pd((v), _mm512_setzero_pd())
#define V_RELU_GRAD(v, z)                                                                    \
    _mm512_mul_pd((v), _mm512_maskz_mov_pd(_mm512_cmp_pd_mask((z), _mm512_setzero_pd(),      \
                                                              _CMP_GT_OQ),                   \
                                           _mm512_set1_pd(1.0)))
#define V_ADD(a, b) _mm512_add_pd((a), (b))
#define V_MUL0(v) _mm512_mul_pd((v), _mm512_setzero_pd())
#define V_ALLZERO(v) (_mm512_cmp_pd_mask((v), _mm512_setzero_pd(), _CMP_EQ_OQ) == 0xFF)
#define MASK_FIRST(n) ((__mmask8)((1u << (n)) - 1u))
#define PACK_BT(dst, ds, src, ls) NNC__TRANSPOSE_SQUARE(double, 4, 8, dst, ds, src, ls, nnc__transpose4_pd)
#define V_SUB(a, b) _mm512_sub_pd((a), (b))
#define V_MUL(a, b) _mm512_mul_pd((a), (b))
#define V_DIV(a, b) _mm512_div_pd((a), (b))
#define V_SQRT(a) _mm512_sqrt_pd(a)
#define V_MAXNAN(a, b) f64_maxnan((a), (b))
#include "nnc_kernels_gemm_impl.h"
#include "nnc_kernels_optim_impl.h"

const nnc__kernels nnc__kernels_avx512 = {
    "avx512", 6, 64, 6, 32, gemm_f32, gemm_f64, all_finite_f32, all_finite_f64, adam_f32, adam_f64,
};

#else /* no x86 SIMD with this compiler */

const nnc__kernels nnc__kernels_avx512 = {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL};

#endif

NNC_X86_END
