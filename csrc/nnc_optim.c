/*
 * nnc_optim.c - the optimizer object: torch.optim defaults and validation,
 * creation / clone / reset / destruction, the first-order steps (SGD,
 * Adagrad, RMSprop, Adam, AdamW) and the serialized state blob. The L-BFGS
 * step and its history pool live in nnc_lbfgs.c.
 *
 * State is kept in the parameters' dtype, as torch keeps it; step counters
 * are int64. All first-order buffers are allocated at creation, so a step
 * never allocates.
 */
#include "nnc_optim_internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ kernels */

#define NNC_REAL float
#define NNC_SFX f32
#define NNC_SQRT sqrtf
#include "nnc_optim_impl.h"
#undef NNC_REAL
#undef NNC_SFX
#undef NNC_SQRT

#define NNC_REAL double
#define NNC_SFX f64
#define NNC_SQRT sqrt
#include "nnc_optim_impl.h"
#undef NNC_REAL
#undef NNC_SFX
#undef NNC_SQRT

/* ----------------------------------------------------------- defaults */

void nnc_optimizer_config_default(nnc_optimizer_config *cfg, nnc_optimizer_kind kind) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    switch (kind) {
    case NNC_OPT_SGD:
        cfg->learning_rate = 1e-3;
        break;
    case NNC_OPT_ADAGRAD:
        cfg->learning_rate = 1e-2;
        cfg->eps = 1e-10;
        break;
    case NNC_OPT_RMSPROP:
        cfg->learning_rate = 1e-2;
        cfg->alpha = 0.99;
        cfg->eps = 1e-8;
        break;
    case NNC_OPT_ADAM:
    case NNC_OPT_ADAMW:
        cfg->learning_rate = 1e-3;
        cfg->beta1 = 0.9;
        cfg->beta2 = 0.999;
        cfg->eps = 1e-8;
        cfg->weight_decay = kind == NNC_OPT_ADAMW ? 1e-2 : 0.0;
        break;
    case NNC_OPT_LBFGS:
        cfg->learning_rate = 1.0;
        cfg->max_iter = 20;
        cfg->max_eval = 0; /* max_iter * 5 / 4 */
        cfg->tolerance_grad = 1e-7;
        cfg->tolerance_change = 1e-9;
        cfg->history_size = 100;
        cfg->line_search_strong_wolfe = 0;
        break;
    default:
        break;
    }
}

/* --------------------------------------------------------- validation */

static nnc_status check_nonneg(double v, const char *name) {
    if (!(v >= 0.0) || isinf(v))
        return nnc__fail(NNC_ERR_INVALID_ARG, "%s must be >= 0 and finite, got %g", name, v);
    return NNC_OK;
}

static nnc_status check_unit(double v, const char *name) {
    if (!(v >= 0.0 && v < 1.0))
        return nnc__fail(NNC_ERR_INVALID_ARG, "%s must be in [0, 1), got %g", name, v);
    return NNC_OK;
}

static nnc_status check_flag(int v, const char *name) {
    if (v != 0 && v != 1)
        return nnc__fail(NNC_ERR_INVALID_ARG, "%s must be 0 or 1, got %d", name, v);
    return NNC_OK;
}

#define TRY(expr)                          \
    do {                                   \
        nnc_status try_st_ = (expr);       \
        if (try_st_ != NNC_OK) return try_st_; \
    } while (0)

static nnc_status validate_config(const nnc_optimizer_config *c) {
    if ((int)c->kind < 0 || c->kind >= NNC_OPT_COUNT_)
        return nnc__fail(NNC_ERR_INVALID_ARG, "unknown optimizer kind %d", (int)c->kind);
    TRY(check_nonneg(c->learning_rate, "learning_rate"));
    switch (c->kind) {
    case NNC_OPT_SGD:
        TRY(check_nonneg(c->momentum, "momentum"));
        if (!isfinite(c->dampening))
            return nnc__fail(NNC_ERR_INVALID_ARG, "dampening must be finite, got %g",
                             c->dampening);
        TRY(check_nonneg(c->weight_decay, "weight_decay"));
        TRY(check_flag(c->nesterov, "nesterov"));
        if (c->nesterov && (c->momentum <= 0.0 || c->dampening != 0.0))
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "nesterov momentum requires momentum > 0 and dampening == 0, "
                             "got momentum %g and dampening %g",
                             c->momentum, c->dampening);
        break;
    case NNC_OPT_ADAGRAD:
        TRY(check_nonneg(c->lr_decay, "lr_decay"));
        TRY(check_nonneg(c->weight_decay, "weight_decay"));
        TRY(check_nonneg(c->initial_accumulator_value, "initial_accumulator_value"));
        TRY(check_nonneg(c->eps, "eps"));
        break;
    case NNC_OPT_RMSPROP:
        TRY(check_unit(c->alpha, "alpha"));
        TRY(check_nonneg(c->eps, "eps"));
        TRY(check_nonneg(c->weight_decay, "weight_decay"));
        TRY(check_nonneg(c->momentum, "momentum"));
        TRY(check_flag(c->centered, "centered"));
        break;
    case NNC_OPT_ADAM:
    case NNC_OPT_ADAMW:
        TRY(check_unit(c->beta1, "beta1"));
        TRY(check_unit(c->beta2, "beta2"));
        TRY(check_nonneg(c->eps, "eps"));
        TRY(check_nonneg(c->weight_decay, "weight_decay"));
        TRY(check_flag(c->amsgrad, "amsgrad"));
        break;
    case NNC_OPT_LBFGS:
        if (c->max_iter < 1 || c->max_iter > NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_INVALID_ARG, "max_iter must be in [1, 2^40], got %lld",
                             (long long)c->max_iter);
        if (c->history_size < 1 || c->history_size > NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "history_size must be in [1, 2^40], got %lld",
                             (long long)c->history_size);
        if (isnan(c->tolerance_grad))
            return nnc__fail(NNC_ERR_INVALID_ARG, "tolerance_grad must not be NaN");
        if (isnan(c->tolerance_change))
            return nnc__fail(NNC_ERR_INVALID_ARG, "tolerance_change must not be NaN");
        TRY(check_flag(c->line_search_strong_wolfe, "line_search_strong_wolfe"));
        break;
    default:
        break;
    }
    return NNC_OK;
}

/* Which buf[] roles the configuration needs (see nnc_optim_internal.h). */
static unsigned buffer_mask(const nnc_optimizer_config *c) {
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

static int popcount3(unsigned m) {
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
    TRY(validate_config(cfg));

    nnc__optim *o = (nnc__optim *)nnc__aligned_alloc(sizeof *o);
    if (!o) return nnc__fail(NNC_ERR_NOMEM, "optimizer: out of memory");
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->dtype = dtype;
    o->n = n_params;
    lbfgs_init_scalars(&o->lb);

    size_t stride = nnc__optim_vec_stride(o), bytes;
    nnc_status st = NNC_OK;
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
        unsigned mask = buffer_mask(cfg);
        int nb = popcount3(mask);
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
    TRY(nnc__optim_create(&src->cfg, src->dtype, src->n, &o));
    size_t bytes = (size_t)src->n * nnc__dtype_size(src->dtype);
    o->step = src->step;
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
    TRY(check_nonneg(lr, "learning_rate"));
    opt->cfg.learning_rate = lr;
    return NNC_OK;
}

/* --------------------------------------------------------------- step */

nnc_status nnc__optim_step(nnc__optim *opt, void *params, const void *grad) {
    if (!opt || !params || !grad)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer step: NULL argument");
    int f32 = opt->dtype == NNC_FLOAT32;
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
    case NNC_OPT_ADAMW: {
        int decoupled = opt->cfg.kind == NNC_OPT_ADAMW;
        if (f32) adam_step_f32(opt, (float *)params, (const float *)grad, decoupled);
        else adam_step_f64(opt, (double *)params, (const double *)grad, decoupled);
        return NNC_OK;
    }
    case NNC_OPT_LBFGS:
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "optimizer step: L-BFGS needs the objective (nnc__lbfgs_step)");
    default:
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer step: unknown kind %d",
                         (int)opt->cfg.kind);
    }
}

/* ----------------------------------------------------- serialization */

/*
 * Blob, version 1. Every field is little-endian, whatever the host.
 *
 *   header: 16 words of 8 bytes
 *      0 magic "NNCOPTIM"        8 lbfgs n_iter
 *      1 version (1)             9 lbfgs func_evals
 *      2 kind                   10 lbfgs t           (IEEE double)
 *      3 dtype                  11 lbfgs H_diag      (IEEE double)
 *      4 n_params               12 lbfgs prev_loss   (IEEE double)
 *      5 total bytes            13 lbfgs history length
 *      6 buffer mask            14 lbfgs has d/prev_grad (0 or 1)
 *      7 step                   15 reserved (0)
 *   the first-order buffers whose bit is in the mask, by role, n elements each
 *   when has d/prev_grad: d, prev_grad (n elements each)
 *   the history, oldest first: ro (double), y (n elements), s (n elements)
 *   checksum: 8 bytes, hash of every byte before it
 */
#define BLOB_VERSION 1u
#define HDR_WORDS 16
#define HDR_BYTES (HDR_WORDS * 8)
static const unsigned char blob_magic[8] = {'N', 'N', 'C', 'O', 'P', 'T', 'I', 'M'};

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u64(unsigned char *dst, uint64_t v) {
    for (int k = 0; k < 8; k++) dst[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_u64(const unsigned char *src) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)src[k] << (8 * k);
    return v;
}

static uint64_t f64_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double bits_f64(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Copy n elements of size es between host order and little-endian. */
static void copy_le(unsigned char *dst, const unsigned char *src, int64_t n, size_t es, int le) {
    if (le) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        for (size_t k = 0; k < es; k++) dst[(size_t)i * es + k] = src[(size_t)i * es + es - 1 - k];
}

/* Whether n little-endian values of es (4 or 8) bytes hold a NaN. */
static int has_nan(const unsigned char *p, int64_t n, size_t es) {
    for (int64_t i = 0; i < n; i++, p += es) {
        if (es == 4) {
            const uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
            if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return 1;
        } else {
            const uint64_t u = get_u64(p);
            if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
                (u & 0x000fffffffffffffull))
                return 1;
        }
    }
    return 0;
}

/* FNV-1a over little-endian 64-bit words (zero-padded tail) and the
 * length: any change to a single word always changes the result. */
static uint64_t blob_hash(const unsigned char *p, size_t len) {
    const uint64_t prime = 0x100000001b3ull;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    int le = host_is_le();
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        if (le) memcpy(&w, p + i, 8);
        else w = get_u64(p + i);
        h = (h ^ w) * prime;
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < len; k++) tail |= (uint64_t)p[i + k] << (8 * k);
    h = (h ^ tail) * prime;
    h = (h ^ (uint64_t)len) * prime;
    return h ^ (h >> 32);
}

/* Total blob bytes for the given content; 0 on overflow. */
static size_t blob_bytes(size_t vec_bytes, int nbuf, int has_vec, uint64_t count) {
    const size_t max = (size_t)INT64_MAX;
    size_t total = HDR_BYTES + 8, nvec = (size_t)nbuf + (has_vec ? 2u : 0u);
    if (vec_bytes != 0 && nvec > max / vec_bytes) return 0;
    total += nvec * vec_bytes;
    if (count > 0) {
        if (vec_bytes > (max - 8) / 2) return 0;
        size_t per = 8 + 2 * vec_bytes;
        if (count > (uint64_t)(max / per)) return 0;
        size_t hist = (size_t)count * per;
        if (hist > max - total) return 0;
        total += hist;
    }
    return total;
}

nnc_status nnc__optim_state_size(const nnc__optim *opt, int64_t *n_bytes) {
    if (!opt || !n_bytes) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    int has_vec = opt->cfg.kind == NNC_OPT_LBFGS && opt->lb.n_iter > 0;
    size_t total = blob_bytes((size_t)opt->n * nnc__dtype_size(opt->dtype),
                              popcount3(buffer_mask(&opt->cfg)), has_vec,
                              (uint64_t)opt->lb.count);
    if (total == 0) return nnc__fail(NNC_ERR_OVERFLOW, "optimizer state size overflows");
    *n_bytes = (int64_t)total;
    return NNC_OK;
}

nnc_status nnc__optim_state_export(const nnc__optim *opt, void *out, int64_t n_bytes) {
    if (!opt || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    int64_t need;
    TRY(nnc__optim_state_size(opt, &need));
    if (n_bytes != need)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state needs %lld bytes, got %lld",
                         (long long)need, (long long)n_bytes);
    const nnc__lbfgs *lb = &opt->lb;
    unsigned mask = buffer_mask(&opt->cfg);
    int has_vec = opt->cfg.kind == NNC_OPT_LBFGS && lb->n_iter > 0;
    size_t es = nnc__dtype_size(opt->dtype), vb = (size_t)opt->n * es;
    int le = host_is_le();
    unsigned char *p = (unsigned char *)out;

    uint64_t w[HDR_WORDS] = {0};
    w[1] = BLOB_VERSION;
    w[2] = (uint64_t)opt->cfg.kind;
    w[3] = (uint64_t)opt->dtype;
    w[4] = (uint64_t)opt->n;
    w[5] = (uint64_t)need;
    w[6] = mask;
    w[7] = (uint64_t)opt->step;
    if (opt->cfg.kind == NNC_OPT_LBFGS) {
        w[8] = (uint64_t)lb->n_iter;
        w[9] = (uint64_t)lb->func_evals;
        w[10] = f64_bits(lb->t);
        w[11] = f64_bits(lb->h_diag);
        w[12] = f64_bits(lb->prev_loss);
        w[13] = (uint64_t)lb->count;
        w[14] = (uint64_t)has_vec;
    }
    memcpy(p, blob_magic, 8);
    for (int k = 1; k < HDR_WORDS; k++) put_u64(p + 8 * k, w[k]);
    size_t pos = HDR_BYTES;

    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (mask & (1u << k)) {
            copy_le(p + pos, (const unsigned char *)opt->buf[k], opt->n, es, le);
            pos += vb;
        }
    if (has_vec) {
        copy_le(p + pos, (const unsigned char *)lb->d, opt->n, es, le);
        pos += vb;
        copy_le(p + pos, (const unsigned char *)lb->prev_grad, opt->n, es, le);
        pos += vb;
    }
    for (int64_t i = 0; i < lb->count; i++) {
        put_u64(p + pos, f64_bits(lb->hist[i].ro));
        pos += 8;
        const unsigned char *slot = (const unsigned char *)lb->hist[i].slot;
        copy_le(p + pos, slot, opt->n, es, le);
        copy_le(p + pos + vb, slot + nnc__optim_vec_stride(opt), opt->n, es, le);
        pos += 2 * vb;
    }
    put_u64(p + pos, blob_hash(p, pos));
    return NNC_OK;
}

#define BAD(...) return nnc__fail(NNC_ERR_FORMAT, "optimizer state: " __VA_ARGS__)

nnc_status nnc__optim_state_import(nnc__optim *opt, const void *blob, int64_t n_bytes) {
    if (!opt || !blob) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    const unsigned char *p = (const unsigned char *)blob;
    if (n_bytes < HDR_BYTES + 8)
        BAD("%lld bytes is shorter than the %d-byte header", (long long)n_bytes, HDR_BYTES + 8);
    if (memcmp(p, blob_magic, 8) != 0) BAD("bad magic (not an nnc optimizer state)");
    uint64_t w[HDR_WORDS];
    for (int k = 1; k < HDR_WORDS; k++) w[k] = get_u64(p + 8 * k);
    if (w[1] != BLOB_VERSION)
        BAD("unsupported version %llu (expected %u)", (unsigned long long)w[1], BLOB_VERSION);
    if (w[5] != (uint64_t)n_bytes)
        BAD("blob records %llu bytes but %lld were given", (unsigned long long)w[5],
            (long long)n_bytes);
    size_t body = (size_t)n_bytes - 8;
    if (get_u64(p + body) != blob_hash(p, body)) BAD("checksum mismatch (corrupted data)");

    const nnc_optimizer_config *c = &opt->cfg;
    if (w[2] != (uint64_t)c->kind)
        BAD("saved for optimizer kind %llu, this optimizer is kind %d", (unsigned long long)w[2],
            (int)c->kind);
    if (w[3] != (uint64_t)opt->dtype)
        BAD("saved with dtype %llu, this optimizer has dtype %d", (unsigned long long)w[3],
            (int)opt->dtype);
    if (w[4] != (uint64_t)opt->n)
        BAD("saved for %llu parameters, this optimizer has %lld", (unsigned long long)w[4],
            (long long)opt->n);
    unsigned mask = buffer_mask(c);
    if (w[6] != mask)
        BAD("state buffers (mask %llu) do not match this configuration (mask %u: momentum, "
            "centered or amsgrad differ)",
            (unsigned long long)w[6], mask);
    if (w[15] != 0) BAD("reserved field is not zero");

    const uint64_t max_count = (uint64_t)1 << 53; /* counters stay exact as doubles */
    int is_lbfgs = c->kind == NNC_OPT_LBFGS;
    uint64_t step = w[7], n_iter = w[8], evals = w[9], count = w[13], has_vec = w[14];
    if (step > max_count || n_iter > max_count || evals > max_count)
        BAD("step counter out of range");
    if (is_lbfgs) {
        if (step != 0) BAD("L-BFGS state with a first-order step count");
        if (has_vec != (n_iter > 0 ? 1u : 0u)) BAD("inconsistent L-BFGS direction flag");
        if (count > (uint64_t)c->history_size)
            BAD("history holds %llu pairs but history_size is %lld", (unsigned long long)count,
                (long long)c->history_size);
        if (count > 0 && !has_vec) BAD("L-BFGS history without a direction");
    } else if (n_iter || evals || count || has_vec || w[10] || w[11] || w[12]) {
        BAD("L-BFGS fields set in a first-order state");
    }
    size_t es = nnc__dtype_size(opt->dtype), vb = (size_t)opt->n * es;
    size_t expect = blob_bytes(vb, popcount3(mask), (int)has_vec, count);
    if (expect == 0 || expect != (size_t)n_bytes)
        BAD("size %lld does not match its content (%zu bytes expected)", (long long)n_bytes,
            expect);

    /* No NaN in any state vector or history scalar: a real run never stores
     * one (a step with a non-finite gradient is not applied), and a crafted
     * one would poison the next steps. Infinities (an overflowing square
     * in float32) are possible and kept. */
    {
        size_t pos = HDR_BYTES;
        const int64_t n_vec = (int64_t)popcount3(mask) + (has_vec ? 2 : 0);
        if (has_nan(p + pos, opt->n * n_vec, es)) BAD("the state holds NaN values");
        pos += (size_t)n_vec * vb;
        for (uint64_t i = 0; is_lbfgs && i < count; i++) {
            if (has_nan(p + pos, 1, 8) || has_nan(p + pos + 8, 2 * opt->n, es))
                BAD("the L-BFGS history holds NaN values");
            pos += 8 + 2 * vb;
        }
    }

    /* Everything is checked; only the history pool can still fail, and it
     * grows without touching the live history. */
    nnc__lbfgs *lb = &opt->lb;
    if (is_lbfgs) TRY(nnc__lbfgs_reserve(opt, (int64_t)count));

    int le = host_is_le();
    size_t pos = HDR_BYTES;
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (mask & (1u << k)) {
            copy_le((unsigned char *)opt->buf[k], p + pos, opt->n, es, le);
            pos += vb;
        }
    opt->step = (int64_t)step;
    if (is_lbfgs) {
        lb->n_iter = (int64_t)n_iter;
        lb->func_evals = (int64_t)evals;
        lb->t = bits_f64(w[10]);
        lb->h_diag = bits_f64(w[11]);
        lb->prev_loss = bits_f64(w[12]);
        if (has_vec) {
            copy_le((unsigned char *)lb->d, p + pos, opt->n, es, le);
            pos += vb;
            copy_le((unsigned char *)lb->prev_grad, p + pos, opt->n, es, le);
            pos += vb;
        } else {
            memset(lb->d, 0, vb);
            memset(lb->prev_grad, 0, vb);
        }
        for (uint64_t i = 0; i < count; i++) {
            lb->hist[i].ro = bits_f64(get_u64(p + pos));
            pos += 8;
            unsigned char *slot = (unsigned char *)lb->hist[i].slot;
            copy_le(slot, p + pos, opt->n, es, le);
            copy_le(slot + nnc__optim_vec_stride(opt), p + pos + vb, opt->n, es, le);
            pos += 2 * vb;
        }
        lb->count = (int64_t)count;
    }
    return NNC_OK;
}
