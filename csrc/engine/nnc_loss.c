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

double nnc__data_loss_and_delta(nnc_model *m, const void *y, const void *sw, int64_t rows,
                                int64_t denom, int want_delta) {
    const int last = m->n_layers - 1;
    void *delta = want_delta ? m->ws.delta : NULL;
    const int64_t K = m->layers[last].fan_out;
    const unsigned fpmode = nnc__flush_subnormals_begin();
    const double loss =
        m->dtype == NNC_FLOAT32
            ? loss_rows_f32(m->loss, m->ws.z[last], m->ws.a[last], y, sw, rows, denom, K, delta,
                            &m->ws.delta_is_dz)
            : loss_rows_f64(m->loss, m->ws.z[last], m->ws.a[last], y, sw, rows, denom, K, delta,
                            &m->ws.delta_is_dz);
    nnc__fpmode_set(fpmode);
    return loss;
}

double nnc__l2_loss(const nnc_model *m, int64_t rows) {
    if (!(m->l2 > 0)) return 0.0;
    const double wsq = m->dtype == NNC_FLOAT32 ? weight_sq_sum_f32(m) : weight_sq_sum_f64(m);
    return m->l2 / (2.0 * (double)rows) * wsq;
}

nnc_status nnc__loss_and_delta(nnc_model *m, const void *y, const void *sw, int64_t rows,
                               int want_delta, double *loss) {
    const double data = nnc__data_loss_and_delta(m, y, sw, rows, rows, want_delta);
    *loss = data + nnc__l2_loss(m, rows);
    return NNC_OK;
}
