/*
 * nnc_optim.c - the optimizer object: creation / clone / reset /
 * destruction and the first-order steps (SGD, Adagrad, RMSprop here;
 * Adam and AdamW through the active kernel set). Its settings are checked in nnc_optim_config.c, its state is
 * serialized in nnc_optim_state.c, and the L-BFGS step and its history
 * pool live in nnc_lbfgs.c.
 *
 * The formulas are torch.optim's (docs/architecture.md, Optimizers).
 * State is kept in the parameters' dtype, as torch keeps it; step counters
 * are int64. All first-order buffers are allocated at creation, so a step
 * never allocates.
 */
#include "nnc_optim_internal.h"

#include "nnc_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ kernels */

#define NNC_TEMPLATE "nnc_optim_impl.h"
#include "nnc_template.h"

/* Which buf[] roles the configuration needs (see nnc_optim_internal.h). */
unsigned nnc__optim_buffer_mask(const nnc_optimizer_config *c) {
    switch (c->kind) {
    case NNC_OPT_SGD: return c->momentum != 0.0 ? 1u : 0u;
    case NNC_OPT_ADAGRAD: return 1u;
    case NNC_OPT_RMSPROP:
        return 1u | (c->centered ? 2u : 0u) | (c->momentum > 0.0 ? 4u : 0u);
    case NNC_OPT_ADAM:
    case NNC_OPT_ADAMW: return 3u | (c->amsgrad ? 4u : 0u);
    default: return 0u;
    }
}

int nnc__optim_buffer_count(unsigned m) {
    return (int)(m & 1u) + (int)((m >> 1) & 1u) + (int)((m >> 2) & 1u);
}

/* ---------------------------------------------------------- lifecycle */

/* Put every first-order buffer in its initial state (torch: zeros, the
 * Adagrad sum full of initial_accumulator_value). */
static void init_buffers(nnc__optim *o) {
    size_t bytes = (size_t)o->n * nnc__dtype_size(o->dtype);
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (o->buf[k]) memset(o->buf[k], 0, bytes);
    if (o->cfg.kind == NNC_OPT_ADAGRAD && o->cfg.initial_accumulator_value != 0.0) {
        if (o->dtype == NNC_FLOAT32) {
            float v = (float)o->cfg.initial_accumulator_value, *s = (float *)o->buf[0];
            for (int64_t i = 0; i < o->n; i++) s[i] = v;
        } else {
            double v = o->cfg.initial_accumulator_value, *s = (double *)o->buf[0];
            for (int64_t i = 0; i < o->n; i++) s[i] = v;
        }
    }
}

static void lbfgs_init_scalars(nnc__lbfgs *lb) {
    lb->n_iter = 0;
    lb->func_evals = 0;
    lb->t = 0.0;
    lb->h_diag = 1.0;
    lb->prev_loss = 0.0;
}

void nnc__optim_destroy(nnc__optim *opt) {
    if (!opt) return;
    free(opt->tensor_len);
    nnc__lbfgs_free_history(&opt->lb);
    nnc__aligned_free(opt->lb.block);
    nnc__aligned_free(opt->block);
    nnc__aligned_free(opt);
}

nnc_status nnc__optim_create(const nnc_optimizer_config *cfg, nnc_dtype dtype, int64_t n_params,
                             nnc__optim **out) {
    if (!cfg || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: NULL argument");
    *out = NULL;
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: unknown dtype %d", (int)dtype);
    if (n_params < 1 || n_params > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: n_params must be in [1, 2^40], got %lld",
                         (long long)n_params);
    NNC__TRY(nnc_optimizer_config_validate(cfg));

    nnc__optim *o = (nnc__optim *)nnc__aligned_alloc(sizeof *o);
    if (!o) return nnc__fail(NNC_ERR_NOMEM, "optimizer: out of memory");
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->dtype = dtype;
    o->n = n_params;
    lbfgs_init_scalars(&o->lb);

    size_t stride = nnc__optim_vec_stride(o), bytes, held;
    /* The state, with the parameters and gradient the model already holds,
     * must fit as a total (it is written at once: an overcommitted yes
     * from malloc would get the process killed here). */
    nnc_status st = nnc__mul_size(stride, nnc__optim_fixed_vectors(cfg), &bytes, "optimizer state");
    if (st == NNC_OK) st = nnc__mul_size(stride, 2, &held, "optimizer state");
    if (st == NNC_OK) st = nnc__check_total(held, bytes, "optimizer state");
    if (st != NNC_OK) {
        nnc__optim_destroy(o);
        return st;
    }
    if (cfg->kind == NNC_OPT_LBFGS) {
        /* d, prev_grad, grad, x0, and the line search's four gradients */
        size_t nvec = cfg->line_search_strong_wolfe ? 8u : 4u;
        st = nnc__mul_size(stride, nvec, &bytes, "L-BFGS buffers");
        if (st == NNC_OK) {
            unsigned char *b = (unsigned char *)nnc__aligned_alloc(bytes);
            if (!b) {
                st = nnc__fail(NNC_ERR_NOMEM, "optimizer: out of memory (%zu bytes)", bytes);
            } else {
                memset(b, 0, bytes);
                o->lb.block = b;
                o->lb.d = b;
                o->lb.prev_grad = b + stride;
                o->lb.grad = b + 2 * stride;
                o->lb.x0 = b + 3 * stride;
                if (nvec == 8)
                    for (int k = 0; k < 4; k++) o->lb.ls[k] = b + (4 + (size_t)k) * stride;
            }
        }
    } else {
        unsigned mask = nnc__optim_buffer_mask(cfg);
        int nb = nnc__optim_buffer_count(mask);
        if (nb > 0) {
            st = nnc__mul_size(stride, (size_t)nb, &bytes, "optimizer state");
            if (st == NNC_OK) {
                unsigned char *b = (unsigned char *)nnc__aligned_alloc(bytes);
                if (!b) {
                    st = nnc__fail(NNC_ERR_NOMEM, "optimizer: out of memory (%zu bytes)", bytes);
                } else {
                    o->block = b;
                    for (int k = 0; k < NNC__OPT_NBUF; k++)
                        if (mask & (1u << k)) {
                            o->buf[k] = b;
                            b += stride;
                        }
                    init_buffers(o);
                }
            }
        }
    }
    if (st != NNC_OK) {
        nnc__optim_destroy(o);
        return st;
    }
    *out = o;
    return NNC_OK;
}

nnc_status nnc__optim_clone(const nnc__optim *src, nnc__optim **out) {
    if (!src || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer clone: NULL argument");
    *out = NULL;
    nnc__optim *o;
    NNC__TRY(nnc__optim_create(&src->cfg, src->dtype, src->n, &o));
    size_t bytes = (size_t)src->n * nnc__dtype_size(src->dtype);
    o->step = src->step;
    nnc_status tst = src->tensor_len ? nnc__optim_set_tensors(o, src->n_tensors, src->tensor_len)
                                     : NNC_OK;
    if (tst != NNC_OK) {
        nnc__optim_destroy(o);
        return tst;
    }
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (src->buf[k]) memcpy(o->buf[k], src->buf[k], bytes);
    if (src->cfg.kind == NNC_OPT_LBFGS) {
        const nnc__lbfgs *a = &src->lb;
        nnc__lbfgs *b = &o->lb;
        nnc_status st = nnc__lbfgs_reserve(o, a->count);
        if (st != NNC_OK) {
            nnc__optim_destroy(o);
            return st;
        }
        b->n_iter = a->n_iter;
        b->func_evals = a->func_evals;
        b->t = a->t;
        b->h_diag = a->h_diag;
        b->prev_loss = a->prev_loss;
        memcpy(b->d, a->d, bytes);
        memcpy(b->prev_grad, a->prev_grad, bytes);
        for (int64_t i = 0; i < a->count; i++) {
            memcpy(b->hist[i].slot, a->hist[i].slot, 2 * nnc__optim_vec_stride(src));
            b->hist[i].ro = a->hist[i].ro;
        }
        b->count = a->count;
    }
    *out = o;
    return NNC_OK;
}

void nnc__optim_reset(nnc__optim *opt) {
    if (!opt) return;
    opt->step = 0;
    init_buffers(opt);
    if (opt->cfg.kind == NNC_OPT_LBFGS) {
        nnc__lbfgs_free_history(&opt->lb);
        lbfgs_init_scalars(&opt->lb);
        size_t bytes = (size_t)opt->n * nnc__dtype_size(opt->dtype);
        memset(opt->lb.d, 0, bytes);
        memset(opt->lb.prev_grad, 0, bytes);
    }
}

const nnc_optimizer_config *nnc__optim_config(const nnc__optim *opt) {
    return opt ? &opt->cfg : NULL;
}

nnc_status nnc__optim_set_learning_rate(nnc__optim *opt, double lr) {
    if (!opt) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: NULL argument");
    if (opt->cfg.schedule.kind != NNC_SCHEDULE_CONSTANT)
        return nnc__fail(NNC_ERR_STATE,
                         "learning_rate: the optimizer follows the schedule %s; its rate cannot "
                         "be set", nnc_schedule_name(opt->cfg.schedule.kind));
    nnc_optimizer_config changed = opt->cfg;
    changed.learning_rate = lr;
    NNC__TRY(nnc_optimizer_config_validate(&changed));
    opt->cfg.learning_rate = lr;
    return NNC_OK;
}

nnc_status nnc__optim_learning_rate(const nnc__optim *opt, double *lr) {
    if (!opt || !lr) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: NULL argument");
    if (opt->cfg.schedule.kind == NNC_SCHEDULE_CONSTANT) {
        *lr = opt->cfg.learning_rate;
        return NNC_OK;
    }
    return nnc_schedule_value(&opt->cfg.schedule, opt->step, lr);
}

nnc_status nnc__optim_set_tensors(nnc__optim *opt, int64_t n_tensors, const int64_t *lengths) {
    if (!opt || !lengths || n_tensors < 1)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer tensors: bad argument");
    int64_t sum = 0;
    for (int64_t t = 0; t < n_tensors; t++) {
        if (lengths[t] < 1 || lengths[t] > opt->n - sum)
            return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer tensors: lengths exceed %lld",
                             (long long)opt->n);
        sum += lengths[t];
    }
    if (sum != opt->n)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer tensors: lengths sum to %lld, not %lld",
                         (long long)sum, (long long)opt->n);
    int64_t *copy = malloc((size_t)n_tensors * sizeof *copy); /* n_tensors <= n <= 2^40 */
    if (!copy) return nnc__fail(NNC_ERR_NOMEM, "optimizer tensors: out of memory");
    memcpy(copy, lengths, (size_t)n_tensors * sizeof *copy);
    free(opt->tensor_len);
    opt->tensor_len = copy;
    opt->n_tensors = n_tensors;
    return NNC_OK;
}

/* --------------------------------------------------------------- step */

/* Adam, and AdamW (weight decay applied to the params before the update
 * instead of being added to the gradient): the step's constants, in double
 * as torch computes its Python scalars, then the kernel over every
 * parameter. */
static void adam_step(nnc__optim *o, void *params, const void *grad) {
    const nnc_optimizer_config *c = &o->cfg;
    o->step++;
    const double step = (double)o->step;
    const double bc1 = 1.0 - pow(c->beta1, step);
    const double bc2 = 1.0 - pow(c->beta2, step);
    const nnc__adam_desc d = {
        .p = params,
        .g = grad,
        .m = o->buf[0],
        .v = o->buf[1],
        .vmax = o->buf[2],
        .use_wd = c->weight_decay != 0,
        .decoupled = c->kind == NNC_OPT_ADAMW,
        .amsgrad = c->amsgrad != 0,
        .decay = 1.0 - o->lr * c->weight_decay,
        .wd = c->weight_decay,
        .w1 = 1.0 - c->beta1,
        .beta2 = c->beta2,
        .omb2 = 1.0 - c->beta2,
        .eps = c->eps,
        .bc2s = pow(bc2, 0.5), /* Python's bias_correction2 ** 0.5 */
        .nss = -(o->lr / bc1),
    };
    nnc__adam(o->dtype, &d, o->n);
}

static nnc_status first_order_step(nnc__optim *opt, void *params, const void *grad) {
    const int f32 = opt->dtype == NNC_FLOAT32;
    switch (opt->cfg.kind) {
    case NNC_OPT_SGD:
        if (f32) sgd_step_f32(opt, (float *)params, (const float *)grad);
        else sgd_step_f64(opt, (double *)params, (const double *)grad);
        return NNC_OK;
    case NNC_OPT_ADAGRAD:
        if (f32) adagrad_step_f32(opt, (float *)params, (const float *)grad);
        else adagrad_step_f64(opt, (double *)params, (const double *)grad);
        return NNC_OK;
    case NNC_OPT_RMSPROP:
        if (f32) rmsprop_step_f32(opt, (float *)params, (const float *)grad);
        else rmsprop_step_f64(opt, (double *)params, (const double *)grad);
        return NNC_OK;
    case NNC_OPT_ADAM:
    case NNC_OPT_ADAMW:
        adam_step(opt, params, grad);
        return NNC_OK;
    default:
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer step: unknown kind %d",
                         (int)opt->cfg.kind);
    }
}

nnc_status nnc__optim_step(nnc__optim *opt, void *params, void *grad) {
    if (!opt || !params || !grad)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer step: NULL argument");
    if (opt->cfg.kind == NNC_OPT_LBFGS)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "optimizer step: L-BFGS needs the objective (nnc__lbfgs_step)");
    /* The rate first: a schedule that fails leaves the model untouched. */
    NNC__TRY(nnc__optim_learning_rate(opt, &opt->lr));
    const unsigned fpmode = nnc__flush_subnormals_begin();
    if (nnc__optim_clips(&opt->cfg)) nnc__optim_clip(opt, grad);
    const nnc_status st = first_order_step(opt, params, grad);
    nnc__fpmode_set(fpmode);
    return st;
}
