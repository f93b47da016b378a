/*
 * nnc_kernels_simd.h - what a SIMD kernel-set file (nnc_kernels_avx2.c,
 * nnc_kernels_avx512.c) is made of. The file defines
 *
 *   NNC_X86_TARGET  the instruction sets its functions are compiled for
 *   NNC_VEC_ISA     its vector header (see nnc_kernels_simd_impl.h)
 *   NNC_DVEC_ISA    its double-lane header (see nnc_kernels_act_math.h)
 *   NNC_FVEC_ISA    its float-lane header (see nnc_kernels_act_math_f32.h)
 *
 * includes this header, and defines its table with NNC__SIMD_KERNEL_SET:
 * the kernels of nnc_kernels_simd_impl.h and nnc_kernels_act_impl.h for both dtypes, or an empty
 * stub (name NULL) where the compiler cannot target x86 SIMD.
 */
#include "nnc_kernels_x86.h"

#include "nnc_kernels.h"

#ifdef NNC_X86_SIMD
#define NNC_TEMPLATE "nnc_kernels_simd_impl.h"
#include "nnc_template.h"
#include "nnc_math.h"
#include NNC_DVEC_ISA
#include "nnc_kernels_act_math.h"
#include NNC_FVEC_ISA
#include "nnc_kernels_act_math_f32.h"
#define NNC_TEMPLATE "nnc_kernels_act_impl.h"
#include "nnc_template.h"
#define NNC__SIMD_KERNEL_SET(set_name) NNC__KERNEL_SET(set_name)
#else
#define NNC__SIMD_KERNEL_SET(set_name) {.name = NULL}
#endif

NNC_X86_END
