/*
 * nnc_kernels_simd_impl.h - a SIMD kernel set for one dtype: a template
 * (nnc_template.h) that nnc_kernels_simd.h instantiates for the
 * instruction set whose vector header NNC_VEC_ISA names. That header
 * (nnc_vec_avx2.h, nnc_vec_avx512.h) defines, for NNC_REAL:
 *
 *   VEC, MASK, VL      vector type, lane-mask type, lanes per vector
 *   NVMAX              vectors per register-tile row (NR = NVMAX * VL)
 *   KC, NC             cache blocking: KC x NC packed block of op(B)
 *   V_OP(op)           the intrinsic for op: _mm256_add_ps, _mm512_add_pd, ...
 *   V_LOADM(p, m) V_STOREM(p, m, v)   masked load and store
 *   MASK_FIRST(n)      lanes 0..n-1, 1 <= n <= VL
 *   V_RELU_GRAD(v, z)  v * (z > 0 ? 1 : 0)
 *   V_ALLZERO(v)       every lane == 0
 *   V_MAXNAN(a, b)     torch.maximum (a NaN wins)
 *   PACK_BT(dst, ds, src, ls)  optional: a fast transpose, see pack_bt
 *
 * and this file the operations every instruction set spells alike. All of
 * them are undefined at the end, in this one list.
 */
#include NNC_VEC_ISA

#define V_ZERO() V_OP(setzero)()
#define V_SET1(x) V_OP(set1)(x)
#define V_LOADU(p) V_OP(loadu)(p)
#define V_STOREU(p, v) V_OP(storeu)((p), (v))
#define V_FMA(a, b, c) V_OP(fmadd)((a), (b), (c)) /* a*b + c, fused */
#define V_ADD(a, b) V_OP(add)((a), (b))
#define V_SUB(a, b) V_OP(sub)((a), (b))
#define V_MUL(a, b) V_OP(mul)((a), (b))
#define V_DIV(a, b) V_OP(div)((a), (b))
#define V_SQRT(a) V_OP(sqrt)(a)
#define V_RELU(v) V_OP(max)((v), V_ZERO())
#define V_MUL0(v) V_OP(mul)((v), V_ZERO()) /* 0 for finite lanes, NaN otherwise */

#include "nnc_kernels_gemm_impl.h"
#include "nnc_kernels_adam_impl.h"

#undef VEC
#undef MASK
#undef VL
#undef NVMAX
#undef KC
#undef NC
#undef V_OP
#undef V_CMP
#undef V_LOADM
#undef V_STOREM
#undef MASK_FIRST
#undef V_RELU_GRAD
#undef V_ALLZERO
#undef V_MAXNAN
#undef PACK_BT
#undef V_ZERO
#undef V_SET1
#undef V_LOADU
#undef V_STOREU
#undef V_FMA
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_SQRT
#undef V_RELU
#undef V_MUL0
