/*
 * nnc_kernels_avx2.c - the AVX2 + FMA kernel set: register tile 6 x 16
 * floats (12 ymm accumulators) or 6 x 8 doubles. See nnc_kernels_gemm_impl.h.
 */
#define NNC_X86_TARGET "avx2,fma"
#include "nnc_kernels_x86.h"

#include "nnc_kernels.h"

#ifdef NNC_X86_SIMD

/* ---------------------------------------------------------------- float */
/* torch.maximum: a NaN in a wins, then a NaN in b, else the larger. */
static inline __m256 f32_maxnan(__m256 a, __m256 b) {
    __m256 r = _mm256_blendv_ps(b, a, _mm256_cmp_ps(a, b, _CMP_GT_OQ));
    r = _mm256_blendv_ps(r, b, _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    return _mm256_blendv_ps(r, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

#define T float
#define SFX(name) name##_f32
#define VEC __m256
#define MASK __m256i
#define VL 8
#define NVMAX 2
#define KC 256
#define NC 256
#define V_ZERO() _mm256_setzero_ps()
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_LOADM(p, m) _mm256_maskload_ps((p), (m))
#define V_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define V_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_SET1(x) _mm256_set1_ps(x)
#define V_RELU(v) _mm256_max_ps((v), _mm256_setzero_ps())
#define V_RELU_GRAD(v, z)                                                                    \
    _mm256_mul_ps((v), _mm256_and_ps(_mm256_cmp_ps((z), _mm256_setzero_ps(), _CMP_GT_OQ),    \
                                     _mm256_set1_ps(1.0f)))
#define V_ADD(a, b) _mm256_add_ps((a), (b))
#define V_MUL0(v) _mm256_mul_ps((v), _mm256_setzero_ps())
#define V_ALLZERO(v) \
    (_mm256_movemask_ps(_mm256_cmp_ps((v), _mm256_setzero_ps(), _CMP_EQ_OQ)) == 0xFF)
#define MASK_FIRST(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define PACK_BT(dst, ds, src, ls) nnc__transpose8_ps((dst), (ds), (src), (ls))
#define V_SUB(a, b) _mm256_sub_ps((a), (b))
#define V_MUL(a, b) _mm256_mul_ps((a), (b))
#define V_DIV(a, b) _mm256_div_ps((a), (b))
#define V_SQRT(a) _mm256_sqrt_ps(a)
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
static inline __m256d f64_maxnan(__m256d a, __m256d b) {
    __m256d r = _mm256_blendv_pd(b, a, _mm256_cmp_pd(a, b, _CMP_GT_OQ));
    r = _mm256_blendv_pd(r, b, _mm256_cmp_pd(b, b, _CMP_UNORD_Q));
    return _mm256_blendv_pd(r, a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}

#define T double
#define SFX(name) name##_f64
#define VEC __m256d
#define MASK __m256i
#define VL 4
#define NVMAX 2
#define KC 256
#define NC 128
#define V_ZERO() _mm256_setzero_pd()
#define V_LOADU(p) _mm256_loadu_pd(p)
#define V_LOADM(p, m) _mm256_maskload_pd((p), (m))
#define V_STOREU(p, v) _mm256_storeu_pd((p), (v))
#define V_STOREM(p, m, v) _mm256_maskstore_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define V_SET1(x) _mm256_set1_pd(x)
#define V_RELU(v) _mm256_max_pd((v), _mm256_setzero_pd())
#define V_RELU_GRAD(v, z)                                                                    \
    _mm256_mul_pd((v), _mm256_and_pd(_mm256_cmp_pd((z), _mm256_setzero_pd(), _CMP_GT_OQ),    \
                                     _mm256_set1_pd(1.0)))
#define V_ADD(a, b) _mm256_add_pd((a), (b))
#define V_MUL0(v) _mm256_mul_pd((v), _mm256_setzero_pd())
#define V_ALLZERO(v) \
    (_mm256_movemask_pd(_mm256_cmp_pd((v), _mm256_setzero_pd(), _CMP_EQ_OQ)) == 0xF)
#define MASK_FIRST(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define PACK_BT(dst, ds, src, ls) nnc__transpose4_pd((dst), (ds), (src), (ls))
#define V_SUB(a, b) _mm256_sub_pd((a), (b))
#define V_MUL(a, b) _mm256_mul_pd((a), (b))
#define V_DIV(a, b) _mm256_div_pd((a), (b))
#define V_SQRT(a) _mm256_sqrt_pd(a)
#define V_MAXNAN(a, b) f64_maxnan((a), (b))
#include "nnc_kernels_gemm_impl.h"
#include "nnc_kernels_optim_impl.h"

const nnc__kernels nnc__kernels_avx2 = {
    "avx2", 6, 16, 6, 8, gemm_f32, gemm_f64, all_finite_f32, all_finite_f64, adam_f32, adam_f64,
};

#else /* no x86 SIMD with this compiler */

const nnc__kernels nnc__kernels_avx2 = {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL};

#endif

NNC_X86_END
