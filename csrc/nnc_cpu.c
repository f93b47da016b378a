/*
 * nnc_cpu.c - run-time choice of the kernel table. Only the reference
 * kernels exist so far; NNC_ARCH=ref forces them.
 */
#include "nnc.h"
#include "nnc_kernels.h"

const nnc__kernels *nnc__kernels_active(void) {
    return &nnc__kernels_ref;
}

const char *nnc_kernel_arch(void) {
    return nnc__kernels_active()->name;
}
