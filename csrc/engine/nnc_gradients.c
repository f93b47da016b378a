/*
 * nnc_gradients.c - J and dJ/dtheta on a batch without training: the loss
 * value, the analytic gradients (backpropagation) and the central finite
 * differences that check them (docs/architecture.md, Gradient checking).
 * None of them use dropout or change parameters, optimizer state or the
 * RNG.
 */
#include "nnc_internal.h"

#include <math.h>
#include <string.h>

nnc_status nnc_loss_value(nnc_model *m, const void *x, const void *y, const void *sw,
                          int64_t rows, double *loss) {
    if (!m || !loss) return nnc__fail(NNC_ERR_INVALID_ARG, "model or loss is NULL");
    nnc_status st = nnc__check_batch(m, x, y, sw, rows, 1);
    if (!st) st = nnc__workspace_reserve(m, rows);
    if (!st) st = nnc__forward(m, x, rows, 0);
    if (!st) st = nnc__loss_and_delta(m, y, sw, rows, 0, loss);
    return st;
}

nnc_status nnc_gradients(nnc_model *m, const void *x, const void *y, const void *sw,
                         int64_t rows, double *loss, void *grad) {
    if (!m || !loss || !grad) return nnc__fail(NNC_ERR_INVALID_ARG, "model, loss or grad is NULL");
    nnc_status st = nnc__check_batch(m, x, y, sw, rows, 1);
    if (!st) st = nnc__check_trainable(m);
    if (!st) st = nnc__workspace_reserve(m, rows);
    if (!st) st = nnc__forward(m, x, rows, 0);
    if (!st) st = nnc__loss_and_delta(m, y, sw, rows, 1, loss);
    if (!st) st = nnc__backward(m, x, rows, grad);
    return st;
}

static double get_param(const nnc_model *m, int64_t i) {
    return m->dtype == NNC_FLOAT32 ? (double)((const float *)m->params)[i]
                                   : ((const double *)m->params)[i];
}

/* Store v at parameter i and return the value actually stored (rounded to
 * the dtype), so the difference quotient uses the true step. */
static double set_param(nnc_model *m, int64_t i, double v) {
    if (m->dtype == NNC_FLOAT32) {
        ((float *)m->params)[i] = (float)v;
        return (double)(float)v;
    }
    ((double *)m->params)[i] = v;
    return v;
}

nnc_status nnc_numeric_gradients(nnc_model *m, const void *x, const void *y, const void *sw,
                                 int64_t rows, double eps, void *numeric) {
    if (!m || !numeric) return nnc__fail(NNC_ERR_INVALID_ARG, "model or numeric is NULL");
    if (!(eps > 0) || !isfinite(eps))
        return nnc__fail(NNC_ERR_INVALID_ARG, "eps must be a finite number > 0, got %g", eps);
    nnc_status st = nnc__check_batch(m, x, y, sw, rows, 1);
    if (!st) st = nnc__workspace_reserve(m, rows);
    if (st) return st;
    for (int64_t i = 0; i < m->n_params; i++) {
        const double saved = get_param(m, i);
        double j_plus = 0.0, j_minus = 0.0;
        const double hi = set_param(m, i, saved + eps);
        nnc__forward(m, x, rows, 0);
        nnc__loss_and_delta(m, y, sw, rows, 0, &j_plus);
        const double lo = set_param(m, i, saved - eps);
        nnc__forward(m, x, rows, 0);
        nnc__loss_and_delta(m, y, sw, rows, 0, &j_minus);
        set_param(m, i, saved); /* exact: saved came from this dtype */
        const double g = (j_plus - j_minus) / (hi - lo);
        if (m->dtype == NNC_FLOAT32)
            ((float *)numeric)[i] = (float)g;
        else
            ((double *)numeric)[i] = g;
    }
    return NNC_OK;
}
