/*
 * nnc_kernels_avx2.c - the AVX2 + FMA kernel set: register tile 6 x 16
 * floats (12 ymm accumulators) or 6 x 8 doubles. The kernels are in
 * nnc_kernels_gemm_impl.h and nnc_kernels_adam_impl.h, the vectors in
 * nnc_vec_avx2.h.
 */
#define NNC_X86_TARGET "avx2,fma"
#define NNC_VEC_ISA "nnc_vec_avx2.h"
#define NNC_DVEC_ISA "nnc_dvec_avx2.h"
#define NNC_FVEC_ISA "nnc_fvec_avx2.h"
#include "nnc_kernels_simd.h"

const nnc__kernels nnc__kernels_avx2 = NNC__SIMD_KERNEL_SET("avx2");
