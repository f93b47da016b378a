/*
 * nnc_dvec_ref.h - the double-lane operations of nnc_kernels_act_math.h
 * for the portable reference set: one double per "vector". Each operation
 * is the scalar twin of the SIMD instruction it stands for (max/min keep
 * the x86 rule "second operand when unordered", FMA is C's fma()), so the
 * reference computes every element with the same roundings as the SIMD
 * sets (docs/design.md, "Vectorised activations").
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef double DVEC;
typedef int DMASK;
#define DL 1

static inline double nnc__dv_bits_to(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static inline uint64_t nnc__dv_to_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

#define DV_SET1(c) ((double)(c))
#define DV_ADD(a, b) ((a) + (b))
#define DV_SUB(a, b) ((a) - (b))
#define DV_MUL(a, b) ((a) * (b))
#define DV_DIV(a, b) ((a) / (b))
#define DV_FMA(a, b, c) fma((a), (b), (c))
#define DV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define DV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DV_GT(a, b) ((a) > (b))
#define DV_GE(a, b) ((a) >= (b))
#define DV_SEL(m, t, f) ((m) ? (t) : (f))
#define DV_ABS(a) nnc__dv_bits_to(nnc__dv_to_bits(a) & 0x7fffffffffffffffull)
#define DV_SIGN(a) nnc__dv_bits_to(nnc__dv_to_bits(a) & 0x8000000000000000ull)
#define DV_OR(a, b) nnc__dv_bits_to(nnc__dv_to_bits(a) | nnc__dv_to_bits(b))
/* 2^k from t = k + 0x1.8p52 (the bits of t end in k): (k + 1023) << 52. */
#define DV_POW2I(t) nnc__dv_bits_to((nnc__dv_to_bits(t) + 1023u) << 52)
/* table[k] from t = k + 0x1.8p52 (0 <= k < 2^16): a lane's own table entry. */
#define DV_GATHER(table, t) ((table)[nnc__dv_to_bits(t) & 0xffffu])

/* DL lanes from float or double memory and back (the cast rounds to
 * nearest, as cvtpd_ps does). */
#define DV_LOAD_F64(p) (*(p))
#define DV_STORE_F64(p, v) (*(p) = (v))
#define DV_LOAD_F32(p) ((double)*(p))
#define DV_STORE_F32(p, v) (*(p) = (float)(v))
