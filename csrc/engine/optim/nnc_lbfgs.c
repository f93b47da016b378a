/*
 * nnc_lbfgs.c - the L-BFGS step (torch.optim.LBFGS.step(closure)) and the
 * pool of history slots it draws from. The optimizer object, its creation
 * and its serialization are in nnc_optim.c.
 *
 * History slots (one y and one s vector each) are allocated on demand, up
 * to history_size of them, and reused once the history is full: the
 * memory grows with what the history actually holds instead of
 * history_size * 2 * n up front. A step first reserves every slot it could
 * fill, so NNC_ERR_NOMEM leaves params and state untouched.
 *
 * When the objective fails (any status other than NNC_OK), the step stops
 * and returns that status with the params put back at the last point
 * where f succeeded (the start of the interrupted iteration). Unlike
 * torch's state after an exception in the closure, the state stays
 * consistent: prev_grad was measured at that same point, so the next step
 * finds y = 0 there and simply skips that curvature pair. Callers that
 * need the state from before the step should clone the optimizer first.
 */
#include "nnc_optim_internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------ history pool */

nnc_status nnc__lbfgs_reserve(nnc__optim *opt, int64_t want) {
    nnc__lbfgs *lb = &opt->lb;
    if (want > opt->cfg.history_size) want = opt->cfg.history_size;
    if (want <= lb->n_slots) return NNC_OK;
    /* The whole history this step could hold must fit, as a total: one
     * slot at a time, each allocation would pass and the sum would not.
     * Held already: the parameters and gradient, the fixed vectors, and
     * the slots twice (the training step keeps a backup copy). */
    const size_t stride = nnc__optim_vec_stride(opt);
    size_t slot_bytes, pair_bytes, held, fixed, more;
    NNC__TRY(nnc__mul_size(stride, 2, &slot_bytes, "L-BFGS history"));
    NNC__TRY(nnc__mul_size((size_t)want, sizeof(nnc__lbfgs_pair), &pair_bytes, "L-BFGS history"));
    NNC__TRY(nnc__mul_size((size_t)(want - lb->n_slots), slot_bytes, &more, "L-BFGS history"));
    NNC__TRY(nnc__add_size(more, pair_bytes, &more, "L-BFGS history"));
    NNC__TRY(nnc__mul_size((size_t)lb->n_slots, 2 * slot_bytes, &held, "L-BFGS history"));
    NNC__TRY(nnc__mul_size(stride, 2 + nnc__optim_fixed_vectors(&opt->cfg), &fixed,
                           "L-BFGS history"));
    NNC__TRY(nnc__add_size(held, fixed, &held, "L-BFGS history"));
    NNC__TRY(nnc__check_total(held, more, "L-BFGS history"));
    if (want > lb->cap) {
        /* grow the pair array geometrically, never past history_size */
        int64_t cap = lb->cap > 0 ? lb->cap : 8;
        while (cap < want) cap = cap > INT64_MAX / 2 ? want : cap * 2;
        if (cap > opt->cfg.history_size) cap = opt->cfg.history_size;
        size_t bytes;
        nnc_status st = nnc__mul_size((size_t)cap, sizeof(nnc__lbfgs_pair), &bytes,
                                      "L-BFGS history");
        if (st != NNC_OK) return st;
        nnc__lbfgs_pair *h = (nnc__lbfgs_pair *)nnc__aligned_alloc(bytes);
        if (!h) return nnc__fail(NNC_ERR_NOMEM, "L-BFGS history: out of memory");
        memset(h, 0, bytes);
        if (lb->n_slots > 0) memcpy(h, lb->hist, (size_t)lb->n_slots * sizeof *h);
        nnc__aligned_free(lb->hist);
        lb->hist = h;
        lb->cap = cap;
    }
    while (lb->n_slots < want) {
        void *s = nnc__aligned_alloc(slot_bytes);
        if (!s)
            return nnc__fail(NNC_ERR_NOMEM,
                             "L-BFGS history: out of memory (%lld pairs of %zu bytes)",
                             (long long)want, slot_bytes);
        lb->hist[lb->n_slots].slot = s;
        lb->hist[lb->n_slots].ro = 0.0;
        lb->hist[lb->n_slots].al = 0.0;
        lb->n_slots++;
    }
    return NNC_OK;
}

void nnc__lbfgs_free_history(nnc__lbfgs *lb) {
    for (int64_t i = 0; i < lb->n_slots; i++) nnc__aligned_free(lb->hist[i].slot);
    nnc__aligned_free(lb->hist);
    lb->hist = NULL;
    lb->count = lb->n_slots = lb->cap = 0;
}

/* ------------------------------------------------- line-search helpers */

/* Python's max(a, b) / min(a, b): the first argument unless the second is
 * strictly larger / smaller (so NaNs behave as in torch's code). */
static double py_max(double a, double b) { return b > a ? b : a; }
static double py_min(double a, double b) { return b < a ? b : a; }

/* Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to
 * `bounds` (default: the interval between x1 and x2); the midpoint when
 * the cubic has no real minimizer. */
static double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                const double *bounds) {
    double lo, hi;
    if (bounds) {
        lo = bounds[0];
        hi = bounds[1];
    } else if (x1 <= x2) {
        lo = x1;
        hi = x2;
    } else {
        lo = x2;
        hi = x1;
    }
    double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        double d2 = sqrt(d2_square), min_pos;
        if (x1 <= x2)
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
        else
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return py_min(py_max(min_pos, lo), hi);
    }
    return (lo + hi) / 2.0;
}

/* ------------------------------------------------------------- step */

#define NNC_TEMPLATE "nnc_lbfgs_impl.h"
#include "nnc_template.h"

nnc_status nnc__lbfgs_step(nnc__optim *opt, void *params, nnc__objective f, void *ctx,
                           double *first_loss) {
    if (!opt || !params || !f || !first_loss)
        return nnc__fail(NNC_ERR_INVALID_ARG, "L-BFGS step: NULL argument");
    if (opt->cfg.kind != NNC_OPT_LBFGS)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "L-BFGS step on a first-order optimizer (kind %d): use nnc__optim_step",
                         (int)opt->cfg.kind);
    const unsigned fpmode = nnc__flush_subnormals_begin();
    const nnc_status st = opt->dtype == NNC_FLOAT32
                              ? lbfgs_run_f32(opt, (float *)params, f, ctx, first_loss)
                              : lbfgs_run_f64(opt, (double *)params, f, ctx, first_loss);
    nnc__fpmode_set(fpmode);
    return st;
}
