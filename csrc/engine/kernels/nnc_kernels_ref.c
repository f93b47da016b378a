/*
 * nnc_kernels_ref.c - portable reference kernels: plain loops with the
 * numerical contract of nnc_kernels.h (each element summed over k in order,
 * from C, the bias or 0), no fused multiply-adds. Correct first; the SIMD
 * kernels must agree with them to rounding (Adam: to the bit). The kernels
 * are in nnc_kernels_ref_impl.h.
 */
#include "nnc_kernels.h"

#define NNC_TEMPLATE "nnc_kernels_ref_impl.h"
#include "nnc_template.h"

/* The element-wise kernels: the SIMD sets' algorithm on one lane. */
#include "nnc_math.h"
#include "nnc_dvec_ref.h"
#include "nnc_kernels_act_math.h"
#include "nnc_fvec_ref.h"
#include "nnc_kernels_act_math_f32.h"
#define NNC_TEMPLATE "nnc_kernels_act_impl.h"
#include "nnc_template.h"

const nnc__kernels nnc__kernels_ref = NNC__KERNEL_SET("ref");
