/*
 * nnc_checks.c - validation of caller data before any state changes:
 * finiteness, class labels in range, non-negative sample weights.
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#include <math.h>

nnc_status nnc_all_finite(nnc_dtype dtype, const void *values, int64_t n, int *all_finite) {
    if (!all_finite || (n > 0 && !values) || n < 0)
        return nnc__fail(NNC_ERR_INVALID_ARG, "nnc_all_finite: bad arguments");
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_INVALID_ARG, "nnc_all_finite: unknown dtype %d", (int)dtype);
    /* The kernels' vector (and, for big arrays, threaded) check. */
    *all_finite = nnc__all_finite(dtype, values, n);
    return NNC_OK;
}

nnc_status nnc__check_labels(const int64_t *labels, int64_t n, int64_t n_classes) {
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "y: class label %lld at row %lld is outside [0, %lld)",
                             (long long)labels[i], (long long)i, (long long)n_classes);
    return NNC_OK;
}

nnc_status nnc__check_sample_weights(nnc_dtype dtype, const void *sw, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double w = dtype == NNC_FLOAT32 ? (double)((const float *)sw)[i] : ((const double *)sw)[i];
        if (!(w >= 0.0) || !isfinite(w))
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "sample_weight: value %g at row %lld is not a finite number >= 0", w,
                             (long long)i);
    }
    return NNC_OK;
}

/* Everything the engine needs to trust about (x, y, sample_weight) before
 * it starts changing the model. */
nnc_status nnc__check_batch(const nnc_model *m, const void *x, const void *y, const void *sw,
                            int64_t n, int need_y) {
    if (!x) return nnc__fail(NNC_ERR_INVALID_ARG, "x is NULL");
    if (n < 1) return nnc__fail(NNC_ERR_SHAPE, "x has no rows (m = %lld)", (long long)n);
    if (n > NNC__MAX_ELEMS / m->input_dim)
        return nnc__fail(NNC_ERR_OVERFLOW, "x: %lld rows are too many", (long long)n);
    if (!need_y) return NNC_OK;
    if (!y) return nnc__fail(NNC_ERR_INVALID_ARG, "y is NULL");
    if (!m->compiled) return nnc__fail(NNC_ERR_STATE, "the model is not compiled");
    if (m->loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
        nnc_status st = nnc__check_labels(y, n, nnc_model_output_dim(m));
        if (st) return st;
    }
    if (sw) return nnc__check_sample_weights(m->dtype, sw, n);
    return NNC_OK;
}

nnc_status nnc__check_trainable(const nnc_model *m) {
    for (int l = 0; l < m->n_layers; l++)
        if (m->layers[l].spec.activation == NNC_ACT_STEP)
            return nnc__fail(NNC_ERR_UNSUPPORTED,
                             "layer %d: the 'step' activation has no gradient; it can only be "
                             "used for prediction",
                             l);
    return NNC_OK;
}
