/*
 * nnc_backward.c - backpropagation for float32 and float64: exact gradients
 * of J, L2 included, biases excluded from L2 (docs/architecture.md,
 * Backpropagation and L2 regularisation).
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#define NNC_TEMPLATE "nnc_backward_impl.h"
#include "nnc_template.h"

nnc_status nnc__backward_l2(nnc_model *m, const void *x, int64_t rows, double l2_scale,
                            void *grad) {
    nnc_status st = nnc__check_trainable(m);
    if (st) return st;
    const unsigned fpmode = nnc__flush_subnormals_begin();
    const int stopped = m->dtype == NNC_FLOAT32 ? backward_f32(m, x, rows, l2_scale, grad)
                                                : backward_f64(m, x, rows, l2_scale, grad);
    nnc__fpmode_set(fpmode);
    if (stopped) return nnc__fail(NNC_ERR_INTERRUPTED, "training stopped on request");
    return NNC_OK;
}

nnc_status nnc__backward(nnc_model *m, const void *x, int64_t rows, void *grad) {
    return nnc__backward_l2(m, x, rows, m->l2 / (double)rows, grad);
}

void nnc__add_l2_gradient(const nnc_model *m, double l2_scale, void *grad) {
    for (int l = 0; l < m->n_layers; l++) {
        const nnc__layer *L = &m->layers[l];
        const int64_t count = L->fan_in * L->fan_out;
        if (m->dtype == NNC_FLOAT32)
            add_l2_f32((const float *)m->params + L->w_off, (float)l2_scale, count,
                       (float *)grad + L->w_off);
        else
            add_l2_f64((const double *)m->params + L->w_off, l2_scale, count,
                       (double *)grad + L->w_off);
    }
}
