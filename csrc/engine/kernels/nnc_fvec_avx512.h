/*
 * nnc_fvec_avx512.h - the float-lane operations of
 * nnc_kernels_act_math_f32.h for AVX-512 F: 16 floats in a __m512, masks
 * in opmask registers (nnc_fvec_ref.h is the scalar twin and says what
 * each one means).
 */
typedef __m512 FVEC;
typedef __mmask16 FMASK;
#define FL 16

#define FV_SET1(c) _mm512_set1_ps((float)(c))
#define FV_ADD(a, b) _mm512_add_ps((a), (b))
#define FV_SUB(a, b) _mm512_sub_ps((a), (b))
#define FV_MUL(a, b) _mm512_mul_ps((a), (b))
#define FV_DIV(a, b) _mm512_div_ps((a), (b))
#define FV_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define FV_FNMA(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define FV_MAX(a, b) _mm512_max_ps((a), (b))
#define FV_MIN(a, b) _mm512_min_ps((a), (b))
#define FV_GT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define FV_GE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ)
#define FV_SEL(m, t, f) _mm512_mask_blend_ps((m), (f), (t))
#define FV_ANY(m) ((m) != 0)
#define FV_ABS(a)                                                                          \
    _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)))
#define FV_SIGN(a)                                                                         \
    _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a),                           \
                                         _mm512_set1_epi32((int)0x80000000u)))
#define FV_OR(a, b)                                                                        \
    _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define FV_POW2I(t)                                                                        \
    _mm512_castsi512_ps(_mm512_slli_epi32(                                                 \
        _mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(127)), 23))

#define FV_LOAD(p) _mm512_loadu_ps(p)
#define FV_STORE(p, v) _mm512_storeu_ps((p), (v))
