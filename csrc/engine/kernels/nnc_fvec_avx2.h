/*
 * nnc_fvec_avx2.h - the float-lane operations of nnc_kernels_act_math_f32.h
 * for AVX2 + FMA: 8 floats in a __m256 (nnc_fvec_ref.h is the scalar twin
 * and says what each one means). Masks are all-ones lanes.
 */
typedef __m256 FVEC;
typedef __m256 FMASK;
#define FL 8

#define FV_SET1(c) _mm256_set1_ps((float)(c))
#define FV_ADD(a, b) _mm256_add_ps((a), (b))
#define FV_SUB(a, b) _mm256_sub_ps((a), (b))
#define FV_MUL(a, b) _mm256_mul_ps((a), (b))
#define FV_DIV(a, b) _mm256_div_ps((a), (b))
#define FV_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define FV_FNMA(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define FV_MAX(a, b) _mm256_max_ps((a), (b))
#define FV_MIN(a, b) _mm256_min_ps((a), (b))
#define FV_GT(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define FV_GE(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define FV_SEL(m, t, f) _mm256_blendv_ps((f), (t), (m))
#define FV_ANY(m) (_mm256_movemask_ps(m) != 0)
#define FV_ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (a))
#define FV_SIGN(a) _mm256_and_ps(_mm256_set1_ps(-0.0f), (a))
#define FV_OR(a, b) _mm256_or_ps((a), (b))
#define FV_POW2I(t)                                                                        \
    _mm256_castsi256_ps(_mm256_slli_epi32(                                                 \
        _mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127)), 23))

#define FV_LOAD(p) _mm256_loadu_ps(p)
#define FV_STORE(p, v) _mm256_storeu_ps((p), (v))
