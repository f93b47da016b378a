/*
 * nnc_loss.c - the cost J (mean over samples, sum over outputs, optional
 * sample weights, L2 on weights only) and the output-layer delta that
 * starts backpropagation (docs/architecture.md, Losses and L2
 * regularisation).
 */
#include "nnc_internal.h"
#include "nnc_math.h"
#include "kernels/nnc_kernels.h"

#define NNC_TEMPLATE "nnc_loss_impl.h"
#include "nnc_template.h"

nnc_status nnc__loss_and_delta(nnc_model *m, const void *y, const void *sw, int64_t rows,
                               int want_delta, double *loss) {
    const int last = m->n_layers - 1;
    void *delta = want_delta ? m->ws.delta : NULL;
    double data, wsq = 0.0;
    if (m->dtype == NNC_FLOAT32) {
        data = loss_rows_f32(m->loss, m->ws.z[last], m->ws.a[last], y, sw, rows,
                             m->layers[last].fan_out, delta, &m->ws.delta_is_dz);
        if (m->l2 > 0) wsq = weight_sq_sum_f32(m);
    } else {
        data = loss_rows_f64(m->loss, m->ws.z[last], m->ws.a[last], y, sw, rows,
                             m->layers[last].fan_out, delta, &m->ws.delta_is_dz);
        if (m->l2 > 0) wsq = weight_sq_sum_f64(m);
    }
    *loss = data + m->l2 / (2.0 * (double)rows) * wsq;
    return NNC_OK;
}
