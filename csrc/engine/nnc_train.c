/*
 * nnc_train.c - training: one optimizer step on a batch, and a whole epoch
 * (shuffle, gather, forward, backward, step, loss sum) in one call so that
 * no caller code runs per batch.
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"
#include "nnc_threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Inputs of the objective L-BFGS minimises: J over a fixed batch. */
typedef struct {
    nnc_model *model;
    const void *x, *y, *sw;
    int64_t rows;
} objective_ctx;

static nnc_status objective(void *vctx, double *loss, void *grad) {
    objective_ctx *c = vctx;
    nnc_model *m = c->model;
    nnc_status st = nnc__forward(m, c->x, c->rows, 0);
    if (!st) st = nnc__loss_and_delta(m, c->y, c->sw, c->rows, 1, loss);
    if (!st) st = nnc__backward(m, c->x, c->rows, grad);
    return st;
}

/* The gradient's verdict comes from the backward pass, which checks each
 * part where it forms it (nnc_backward_impl.h). */
static nnc_status check_finite_step(nnc_model *m, double loss, int64_t batch) {
    if (!isfinite(loss))
        return nnc__fail(NNC_ERR_NONFINITE, "the loss became %g at batch %lld", loss,
                         (long long)batch);
    if (m->ws.grad_nonfinite)
        return nnc__fail(NNC_ERR_NONFINITE, "the gradient became non-finite at batch %lld",
                         (long long)batch);
    return NNC_OK;
}

/* One L-BFGS step. Its line search moves the parameters and its history
 * as it goes, so both are copied first and put back when the step meets a
 * non-finite loss, ends on non-finite parameters or is stopped on request:
 * the model is then as it was before that step, as on the first-order
 * path (where the update simply comes last). */
static nnc_status lbfgs_step(nnc_model *m, const void *x, const void *y, const void *sw,
                             int64_t rows, int64_t batch, double *loss) {
    const size_t bytes = (size_t)m->n_params * nnc__dtype_size(m->dtype);
    void *saved_params = nnc__aligned_alloc(bytes);
    nnc__optim *saved_optim = NULL;
    nnc_status st = saved_params ? nnc__optim_clone(m->optim, &saved_optim)
                                 : nnc__fail(NNC_ERR_NOMEM, "cannot back up %zu bytes", bytes);
    if (st) {
        nnc__aligned_free(saved_params);
        return st;
    }
    memcpy(saved_params, m->params, bytes);
    objective_ctx ctx = {m, x, y, sw, rows};
    st = nnc__lbfgs_step(m->optim, m->params, objective, &ctx, loss);
    if (st == NNC_ERR_NONFINITE) /* stopped early, inside the step: name the batch */
        st = nnc__fail(NNC_ERR_NONFINITE,
                       "the loss became non-finite in the L-BFGS step at batch %lld",
                       (long long)batch);
    else if (!st && !isfinite(*loss))
        st = nnc__fail(NNC_ERR_NONFINITE, "the loss became %g at batch %lld", *loss,
                       (long long)batch);
    else if (!st && !nnc__all_finite(m->dtype, m->params, m->n_params))
        st = nnc__fail(NNC_ERR_NONFINITE,
                       "the L-BFGS step on batch %lld made the parameters non-finite",
                       (long long)batch);
    if (st == NNC_ERR_NONFINITE || st == NNC_ERR_INTERRUPTED) {
        memcpy(m->params, saved_params, bytes);
        nnc__optim_destroy(m->optim);
        m->optim = saved_optim;
        saved_optim = NULL;
    }
    nnc__optim_destroy(saved_optim);
    nnc__aligned_free(saved_params);
    return st;
}

/* One step on `rows` rows already in place; the workspace holds them. */
static nnc_status step(nnc_model *m, const void *x, const void *y, const void *sw, int64_t rows,
                       int64_t batch_index, double *loss) {
    if (nnc__optim_config(m->optim)->kind == NNC_OPT_LBFGS)
        return lbfgs_step(m, x, y, sw, rows, batch_index, loss);
    nnc_status st = nnc__forward(m, x, rows, 1);
    if (!st) st = nnc__loss_and_delta(m, y, sw, rows, 1, loss);
    if (!st) st = nnc__backward(m, x, rows, m->grad);
    if (!st) st = check_finite_step(m, *loss, batch_index);
    if (!st) st = nnc__optim_step(m->optim, m->params, m->grad);
    return st;
}

static nnc_status check_training_call(nnc_model *m, const void *x, const void *y, const void *sw,
                                      int64_t rows) {
    if (!m) return nnc__fail(NNC_ERR_INVALID_ARG, "model is NULL");
    nnc_status st = nnc__check_batch(m, x, y, sw, rows, 1);
    if (!st) st = nnc__check_trainable(m);
    return st;
}

nnc_status nnc_train_batch(nnc_model *m, const void *x, const void *y, const void *sw,
                           int64_t rows, double *loss) {
    if (!loss) return nnc__fail(NNC_ERR_INVALID_ARG, "loss is NULL");
    nnc_status st = check_training_call(m, x, y, sw, rows);
    if (!st) st = nnc__workspace_reserve(m, rows);
    if (!st) st = step(m, x, y, sw, rows, 0, loss);
    return st;
}

/* Rows of the data set a batch copies into the workspace. */
typedef struct {
    const int64_t *perm;
    int64_t n;
    const char *x, *y, *sw;
    char *xb, *yb, *swb;
    size_t xrow, yrow, es;
} gather_job;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* Rows [lo, hi) of the batch. The rows are scattered over the data set, so
 * each copy starts with a cache (and TLB) miss: touching the head of the
 * row two ahead overlaps those misses with the copies. */
static void gather_rows(const gather_job *g, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
        if (i + 2 < hi) {
            const char *next = g->x + (size_t)g->perm[i + 2] * g->xrow;
            for (size_t b = 0; b < 256 && b < g->xrow; b += 64) PREFETCH(next + b);
        }
        const size_t r = (size_t)g->perm[i];
        memcpy(g->xb + (size_t)i * g->xrow, g->x + r * g->xrow, g->xrow);
        memcpy(g->yb + (size_t)i * g->yrow, g->y + r * g->yrow, g->yrow);
        if (g->sw) memcpy(g->swb + (size_t)i * g->es, g->sw + r * g->es, g->es);
    }
}

static void gather_task(void *ctx, int index, int count) {
    const gather_job *g = ctx;
    gather_rows(g, g->n * index / count, g->n * (index + 1) / count);
}

/* Copy rows perm[0..n) of x, y and sw into the workspace's batch buffers,
 * split over threads when the batch is large (each row is copied once,
 * wherever it runs). */
static void gather(nnc_model *m, const int64_t *perm, int64_t n, const void *x, const void *y,
                   const void *sw) {
    const size_t es = nnc__dtype_size(m->dtype);
    const int sparse = m->loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    gather_job g = {perm, n, x, y, sw, m->ws.xb, m->ws.yb, m->ws.swb,
                    (size_t)m->input_dim * es,
                    sparse ? sizeof(int64_t) : (size_t)nnc_model_output_dim(m) * es, es};
    int64_t parts = nnc__thread_count();
    const int64_t bytes = n * (int64_t)g.xrow;
    if (parts > bytes / (256 * 1024)) parts = bytes / (256 * 1024);
    if (parts > 1)
        nnc__parallel(gather_task, &g, (int)parts);
    else
        gather_rows(&g, 0, n);
}

static nnc_status reserve_perm(nnc_model *m, int64_t n) {
    if (m->perm_cap >= n) return NNC_OK;
    size_t bytes;
    nnc_status st = nnc__mul_size((size_t)n, sizeof(int64_t), &bytes, "permutation");
    if (st) return st;
    int64_t *p = malloc(bytes);
    if (!p) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate a permutation of %lld rows",
                             (long long)n);
    free(m->perm);
    m->perm = p;
    m->perm_cap = n;
    return NNC_OK;
}

static void publish(nnc_progress *p, int64_t batches, double loss_sum, int64_t samples) {
    if (!p) return;
    p->loss_sum = loss_sum;
    p->samples_done = samples;
    p->batches_done = batches;
}

nnc_status nnc_train_epoch(nnc_model *m, const void *x, const void *y, const void *sw, int64_t n,
                           int64_t batch_size, int shuffle, nnc_progress *progress,
                           double *mean_loss) {
    if (!mean_loss) return nnc__fail(NNC_ERR_INVALID_ARG, "mean_loss is NULL");
    nnc_status st = check_training_call(m, x, y, sw, n);
    if (st) return st;
    const int lbfgs = nnc__optim_config(m->optim)->kind == NNC_OPT_LBFGS;
    /* L-BFGS is a full-batch method: one step of it is the whole epoch. */
    const int full = lbfgs || batch_size <= 0 || batch_size >= n;
    const int64_t bs = full ? n : batch_size;
    const int64_t n_batches = full ? 1 : (n + bs - 1) / bs;
    st = nnc__workspace_reserve(m, bs);
    if (!st && !full && shuffle) st = reserve_perm(m, n);
    if (st) return st;
    if (progress) {
        progress->batches_total = n_batches;
        publish(progress, 0, 0.0, 0);
    }
    if (!full && shuffle) {
        /* Fisher-Yates with the model's RNG: reproducible from the seed. */
        int64_t *perm = m->perm;
        for (int64_t i = 0; i < n; i++) perm[i] = i;
        for (int64_t i = n - 1; i > 0; i--) {
            const int64_t j = (int64_t)nnc__rng_below(&m->rng, (uint64_t)i + 1);
            const int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
    }
    const size_t es = nnc__dtype_size(m->dtype);
    const int sparse = m->loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    const size_t yrow = sparse ? sizeof(int64_t) : (size_t)nnc_model_output_dim(m) * es;
    double loss_sum = 0.0;
    int64_t done = 0;
    /* Checked between the products of a step; an abandoned step is not
     * applied (L-BFGS: rolled back by lbfgs_step). */
    m->stop = progress ? &progress->stop_requested : NULL;
    for (int64_t b = 0; b < n_batches; b++) {
        if (progress && progress->stop_requested) {
            st = nnc__fail(NNC_ERR_INTERRUPTED, "training stopped on request after %lld batches",
                           (long long)b);
            break;
        }
        const int64_t start = b * bs;
        const int64_t rows = n - start < bs ? n - start : bs;
        const void *xb = (const char *)x + (size_t)start * (size_t)m->input_dim * es;
        const void *yb = (const char *)y + (size_t)start * yrow;
        const void *swb = sw ? (const char *)sw + (size_t)start * es : NULL;
        if (!full && shuffle) {
            gather(m, m->perm + start, rows, x, y, sw);
            xb = m->ws.xb;
            yb = m->ws.yb;
            swb = sw ? m->ws.swb : NULL;
        }
        double loss = 0.0;
        st = step(m, xb, yb, swb, rows, b, &loss);
        if (st) break;
        loss_sum += (double)rows * loss;
        done += rows;
        publish(progress, b + 1, loss_sum, done);
    }
    m->stop = NULL;
    *mean_loss = done > 0 ? loss_sum / (double)done : NAN;
    return st;
}
