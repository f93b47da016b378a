/*
 * nnc_data_parallel.c - the engine's half of synchronous data-parallel
 * training (docs/design.md, Data-parallel training): the gradient of one
 * shard of a global batch, and one optimizer step from the gradients the
 * shards summed. The communication between processes is the caller's.
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#include <math.h>
#include <string.h>

nnc_status nnc_shard_gradients(nnc_model *m, const void *x, const void *y, const void *sw,
                               int64_t rows, int64_t row_offset, int64_t global_rows,
                               double *loss_part, void *grad) {
    if (!m || !loss_part || !grad)
        return nnc__fail(NNC_ERR_INVALID_ARG, "model, loss_part or grad is NULL");
    if (row_offset < 0 || global_rows < 1 || row_offset > global_rows - rows)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "the shard's rows [%lld, %lld) must lie in a global batch of %lld rows",
                         (long long)row_offset, (long long)(row_offset + rows),
                         (long long)global_rows);
    nnc_status st = nnc__check_batch(m, x, y, sw, rows, 1);
    if (!st) st = nnc__check_trainable(m);
    if (!st && nnc__optim_config(m->optim)->kind == NNC_OPT_LBFGS)
        st = nnc__fail(NNC_ERR_UNSUPPORTED,
                       "data-parallel training needs a first-order optimizer; L-BFGS "
                       "evaluates the objective many times per step");
    if (!st) st = nnc__workspace_reserve(m, rows);
    if (!st) st = nnc__forward_shard(m, x, rows, 1, row_offset, global_rows);
    if (st) return st;
    *loss_part = nnc__data_loss_and_delta(m, y, sw, rows, global_rows, 1);
    return nnc__backward_l2(m, x, rows, 0.0, grad);
}

nnc_status nnc_apply_gradients(nnc_model *m, const void *grad, int64_t global_rows,
                               double *l2_loss) {
    if (!m || !grad || !l2_loss)
        return nnc__fail(NNC_ERR_INVALID_ARG, "model, grad or l2_loss is NULL");
    if (global_rows < 1)
        return nnc__fail(NNC_ERR_INVALID_ARG, "global_rows must be >= 1, got %lld",
                         (long long)global_rows);
    if (!m->compiled) return nnc__fail(NNC_ERR_STATE, "the model is not compiled");
    if (nnc__optim_config(m->optim)->kind == NNC_OPT_LBFGS)
        return nnc__fail(NNC_ERR_UNSUPPORTED,
                         "data-parallel training needs a first-order optimizer; L-BFGS "
                         "evaluates the objective many times per step");
    *l2_loss = nnc__l2_loss(m, global_rows);
    /* The optimizer clips in place: work on the model's scratch copy. */
    memcpy(m->grad, grad, (size_t)m->n_params * nnc__dtype_size(m->dtype));
    if (m->l2 > 0) nnc__add_l2_gradient(m, m->l2 / (double)global_rows, m->grad);
    if (!isfinite(*l2_loss) || !nnc__all_finite(m->dtype, m->grad, m->n_params))
        return nnc__fail(NNC_ERR_NONFINITE, "the summed gradient is not finite");
    return nnc__optim_step(m->optim, m->params, m->grad);
}
