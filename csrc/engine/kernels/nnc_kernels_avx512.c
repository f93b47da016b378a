/*
 * nnc_kernels_avx512.c - the AVX-512 (F + DQ) kernel set: register tile
 * 6 x 64 floats (24 zmm accumulators) or 6 x 32 doubles. The kernels are
 * in nnc_kernels_gemm_impl.h and nnc_kernels_adam_impl.h, the vectors in
 * nnc_vec_avx512.h.
 */
#define NNC_X86_TARGET "avx512f,avx512dq,avx2,fma"
#define NNC_VEC_ISA "nnc_vec_avx512.h"
#define NNC_DVEC_ISA "nnc_dvec_avx512.h"
#define NNC_FVEC_ISA "nnc_fvec_avx512.h"
#include "nnc_kernels_simd.h"

const nnc__kernels nnc__kernels_avx512 = NNC__SIMD_KERNEL_SET("avx512");
