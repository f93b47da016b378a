/*
 * nnc_fvec_ref.h - the float-lane operations of nnc_kernels_act_math_f32.h
 * for the portable reference set: one float per "vector". Each operation
 * is the scalar twin of the SIMD instruction it stands for (max/min keep
 * the x86 rule "second operand when unordered", FMA is C's fmaf()), so the
 * reference computes every element with the same roundings as the SIMD
 * sets (docs/design.md, "Native float32 activation lanes").
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float FVEC;
typedef int FMASK;
#define FL 1

static inline float nnc__fv_bits_to(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t nnc__fv_to_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

#define FV_SET1(c) ((float)(c))
#define FV_ADD(a, b) ((float)((a) + (b)))
#define FV_SUB(a, b) ((float)((a) - (b)))
#define FV_MUL(a, b) ((float)((a) * (b)))
#define FV_DIV(a, b) ((float)((a) / (b)))
#define FV_FMA(a, b, c) fmaf((a), (b), (c))
/* c - a b, rounded once; a NaN `a` passes unchanged, as x86's FNMADD
 * passes it (negating it would flip its sign bit). */
static inline float nnc__fv_fnma(float a, float b, float c) {
    return a != a ? fmaf(a, b, c) : fmaf(-a, b, c);
}
#define FV_FNMA(a, b, c) nnc__fv_fnma((a), (b), (c))
#define FV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FV_GT(a, b) ((a) > (b))
#define FV_GE(a, b) ((a) >= (b))
#define FV_SEL(m, t, f) ((m) ? (t) : (f))
#define FV_ANY(m) (m)
#define FV_ABS(a) nnc__fv_bits_to(nnc__fv_to_bits(a) & 0x7fffffffu)
#define FV_SIGN(a) nnc__fv_bits_to(nnc__fv_to_bits(a) & 0x80000000u)
#define FV_OR(a, b) nnc__fv_bits_to(nnc__fv_to_bits(a) | nnc__fv_to_bits(b))
/* 2^k from t = k + 0x1.8p23 (the bits of t end in k): (k + 127) << 23. */
#define FV_POW2I(t) nnc__fv_bits_to((nnc__fv_to_bits(t) + 127u) << 23)

#define FV_LOAD(p) (*(p))
#define FV_STORE(p, v) (*(p) = (v))
