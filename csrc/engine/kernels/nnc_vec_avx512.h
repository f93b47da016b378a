/*
 * nnc_vec_avx512.h - the AVX-512 (F + DQ) vector macros of
 * nnc_kernels_simd_impl.h for the template instance's dtype
 * (nnc_template.h): 16 floats or 8 doubles in a zmm register, lanes picked
 * by opmask registers. Included once per dtype; the macros are undefined
 * at the end of nnc_kernels_simd_impl.h.
 */

#if NNC_IS_F32
#define VEC __m512
#define MASK __mmask16
#define VL 16
#define V_OP(op) _mm512_##op##_ps
#define V_CMP(a, b, pred) _mm512_cmp_ps_mask((a), (b), (pred))
#define PACK_BT(dst, ds, src, ls) \
    NNC__TRANSPOSE_SQUARE(float, 8, 16, dst, ds, src, ls, nnc__transpose8_ps)
#else
#define VEC __m512d
#define MASK __mmask8
#define VL 8
#define V_OP(op) _mm512_##op##_pd
#define V_CMP(a, b, pred) _mm512_cmp_pd_mask((a), (b), (pred))
#define PACK_BT(dst, ds, src, ls) \
    NNC__TRANSPOSE_SQUARE(double, 4, 8, dst, ds, src, ls, nnc__transpose4_pd)
#endif

/* Tile rows of 4 vectors: 6 x 4 accumulators of the 32 zmm registers. */
#define NVMAX 4
/* One KC x NR panel of packed op(B) is 32 KiB: it stays in L1 (48 KiB on
 * Sapphire Rapids, 32-48 KiB on Zen 4/5) while every row tile sweeps it
 * (docs/design.md "Kernels and threads"). A KC x NC block is 256 KiB. */
#define KC 128
#define NC (32 * VL)

#define MASK_FIRST(n) ((MASK)((1u << (n)) - 1u))
#define V_LOADM(p, m) V_OP(maskz_loadu)((m), (p))
#define V_STOREM(p, m, v) V_OP(mask_storeu)((p), (m), (v))
#define V_RELU_GRAD(v, z) \
    V_MUL((v), V_OP(maskz_mov)(V_CMP((z), V_ZERO(), _CMP_GT_OQ), V_SET1((NNC_REAL)1)))
#define V_ALLZERO(v) (V_CMP((v), V_ZERO(), _CMP_EQ_OQ) == (MASK)-1)
#define V_MAXNAN(a, b) NNC_SFX(maxnan)((a), (b))

/* torch.maximum: a NaN in a wins, then a NaN in b, else the larger. */
static inline VEC NNC_SFX(maxnan)(VEC a, VEC b) {
    const MASK gt = V_CMP(a, b, _CMP_GT_OQ);
    const MASK a_nan = V_CMP(a, a, _CMP_UNORD_Q);
    const MASK b_nan = V_CMP(b, b, _CMP_UNORD_Q);
    VEC r = V_OP(mask_blend)(gt, b, a);
    r = V_OP(mask_blend)(b_nan, r, b);
    return V_OP(mask_blend)(a_nan, r, a);
}
