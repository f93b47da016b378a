/*
 * nnc_vec_avx2.h - the AVX2 + FMA vector macros of nnc_kernels_simd_impl.h
 * for the template instance's dtype (nnc_template.h): 8 floats or 4 doubles
 * in a __m256. Included once per dtype; the macros are undefined at the end
 * of nnc_kernels_simd_impl.h.
 */

#if NNC_IS_F32
#define VEC __m256
#define VL 8
#define V_OP(op) _mm256_##op##_ps
#define MASK_FIRST(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define PACK_BT(dst, ds, src, ls) nnc__transpose8_ps((dst), (ds), (src), (ls))
#else
#define VEC __m256d
#define VL 4
#define V_OP(op) _mm256_##op##_pd
#define MASK_FIRST(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define PACK_BT(dst, ds, src, ls) nnc__transpose4_pd((dst), (ds), (src), (ls))
#endif

/* maskload/maskstore take their lanes as an integer vector. */
#define MASK __m256i
/* Tile rows of 2 vectors: 6 x 2 accumulators of the 16 ymm registers. */
#define NVMAX 2
/* A KC x NC packed block of op(B) is 256 KiB (NNC__GEMM_SCRATCH_BYTES): it stays in L2. */
#define KC 256
#define NC (32 * VL)

#define V_LOADM(p, m) V_OP(maskload)((p), (m))
#define V_STOREM(p, m, v) V_OP(maskstore)((p), (m), (v))
#define V_RELU_GRAD(v, z) \
    V_MUL((v), V_OP(and)(V_OP(cmp)((z), V_ZERO(), _CMP_GT_OQ), V_SET1((NNC_REAL)1)))
#define V_ALLZERO(v) (V_OP(movemask)(V_OP(cmp)((v), V_ZERO(), _CMP_EQ_OQ)) == (1 << VL) - 1)
#define V_MAXNAN(a, b) NNC_SFX(maxnan)((a), (b))

/* torch.maximum: a NaN in a wins, then a NaN in b, else the larger. */
static inline VEC NNC_SFX(maxnan)(VEC a, VEC b) {
    VEC r = V_OP(blendv)(b, a, V_OP(cmp)(a, b, _CMP_GT_OQ));
    r = V_OP(blendv)(r, b, V_OP(cmp)(b, b, _CMP_UNORD_Q));
    return V_OP(blendv)(r, a, V_OP(cmp)(a, a, _CMP_UNORD_Q));
}
