/*
 * nnc_backward.c - backpropagation for float32 and float64: exact gradients
 * of J, L2 included, biases excluded from L2 (docs/architecture.md,
 * Backpropagation and L2 regularisation).
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#define NNC_TEMPLATE "nnc_backward_impl.h"
#include "nnc_template.h"

nnc_status nnc__backward(nnc_model *m, const void *x, int64_t rows, void *grad) {
    nnc_status st = nnc__check_trainable(m);
    if (st) return st;
    const int stopped =
        m->dtype == NNC_FLOAT32 ? backward_f32(m, x, rows, grad) : backward_f64(m, x, rows, grad);
    if (stopped) return nnc__fail(NNC_ERR_INTERRUPTED, "training stopped on request");
    return NNC_OK;
}
