/*
 * nnc_dvec_avx512.h - the double-lane operations of nnc_kernels_act_math.h
 * for AVX-512 F: 8 doubles in a __m512d, masks in opmask registers
 * (nnc_dvec_ref.h is the scalar twin and says what each one means).
 */
typedef __m512d DVEC;
typedef __mmask8 DMASK;
#define DL 8

#define DV_SET1(c) _mm512_set1_pd((double)(c))
#define DV_ADD(a, b) _mm512_add_pd((a), (b))
#define DV_SUB(a, b) _mm512_sub_pd((a), (b))
#define DV_MUL(a, b) _mm512_mul_pd((a), (b))
#define DV_DIV(a, b) _mm512_div_pd((a), (b))
#define DV_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define DV_MAX(a, b) _mm512_max_pd((a), (b))
#define DV_MIN(a, b) _mm512_min_pd((a), (b))
#define DV_GT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GT_OQ)
#define DV_GE(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GE_OQ)
#define DV_SEL(m, t, f) _mm512_mask_blend_pd((m), (f), (t))
#define DV_ABS(a)                                                                          \
    _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a),                           \
                                         _mm512_set1_epi64(0x7fffffffffffffffll)))
#define DV_SIGN(a)                                                                         \
    _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a),                           \
                                         _mm512_set1_epi64((long long)0x8000000000000000ull)))
#define DV_OR(a, b)                                                                        \
    _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b)))
#define DV_POW2I(t)                                                                        \
    _mm512_castsi512_pd(_mm512_slli_epi64(                                                 \
        _mm512_add_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(1023)), 52))
#define DV_GATHER(table, t)                                                                \
    _mm512_i64gather_pd(_mm512_and_si512(_mm512_castpd_si512(t), _mm512_set1_epi64(0xffff)), \
                        (table), 8)

#define DV_LOAD_F64(p) _mm512_loadu_pd(p)
#define DV_STORE_F64(p, v) _mm512_storeu_pd((p), (v))
#define DV_LOAD_F32(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define DV_STORE_F32(p, v) _mm256_storeu_ps((p), _mm512_cvtpd_ps(v))
