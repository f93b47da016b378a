/*
 * nnc_dvec_avx2.h - the double-lane operations of nnc_kernels_act_math.h
 * for AVX2 + FMA: 4 doubles in a __m256d (nnc_dvec_ref.h is the scalar
 * twin and says what each one means). Masks are all-ones lanes.
 */
typedef __m256d DVEC;
typedef __m256d DMASK;
#define DL 4

#define DV_SET1(c) _mm256_set1_pd((double)(c))
#define DV_ADD(a, b) _mm256_add_pd((a), (b))
#define DV_SUB(a, b) _mm256_sub_pd((a), (b))
#define DV_MUL(a, b) _mm256_mul_pd((a), (b))
#define DV_DIV(a, b) _mm256_div_pd((a), (b))
#define DV_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define DV_MAX(a, b) _mm256_max_pd((a), (b))
#define DV_MIN(a, b) _mm256_min_pd((a), (b))
#define DV_GT(a, b) _mm256_cmp_pd((a), (b), _CMP_GT_OQ)
#define DV_GE(a, b) _mm256_cmp_pd((a), (b), _CMP_GE_OQ)
#define DV_SEL(m, t, f) _mm256_blendv_pd((f), (t), (m))
#define DV_ABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), (a))
#define DV_SIGN(a) _mm256_and_pd(_mm256_set1_pd(-0.0), (a))
#define DV_OR(a, b) _mm256_or_pd((a), (b))
#define DV_POW2I(t)                                                                        \
    _mm256_castsi256_pd(_mm256_slli_epi64(                                                 \
        _mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(1023)), 52))
#define DV_GATHER(table, t)                                                                \
    _mm256_i64gather_pd((table),                                                           \
                        _mm256_and_si256(_mm256_castpd_si256(t), _mm256_set1_epi64x(0xffff)), 8)

#define DV_LOAD_F64(p) _mm256_loadu_pd(p)
#define DV_STORE_F64(p, v) _mm256_storeu_pd((p), (v))
#define DV_LOAD_F32(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define DV_STORE_F32(p, v) _mm_storeu_ps((p), _mm256_cvtpd_ps(v))
