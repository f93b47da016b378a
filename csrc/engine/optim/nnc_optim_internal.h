/*
 * nnc_optim_internal.h - the optimizer object, shared by the files of
 * engine/optim/: nnc_optim.c (life cycle, steps), nnc_optim_state.c
 * (serialization), nnc_optim_config.c (settings) and nnc_lbfgs.c (the
 * L-BFGS step). Nothing outside that folder includes it.
 */
#ifndef NNC_OPTIM_INTERNAL_H
#define NNC_OPTIM_INTERNAL_H

#include "nnc_internal.h"

#include <stddef.h>
#include <stdint.h>

/* C99 restrict; MSVC's C mode only knows its own spelling. */
#if defined(_MSC_VER) && !defined(__clang__)
#define NNC__RESTRICT __restrict
#else
#define NNC__RESTRICT restrict
#endif

/* First-order state buffers, indexed by role (NULL when the configuration
 * does not need them):
 *   SGD      0 momentum_buffer (momentum != 0)
 *   Adagrad  0 sum
 *   RMSprop  0 square_avg, 1 grad_avg (centered), 2 momentum_buffer (momentum > 0)
 *   Adam(W)  0 exp_avg, 1 exp_avg_sq, 2 max_exp_avg_sq (amsgrad) */
#define NNC__OPT_NBUF 3

/* One curvature pair of the L-BFGS history. */
typedef struct {
    void *slot; /* y (old_dirs) at offset 0, s (old_stps) at offset
                   nnc__optim_vec_stride: 2 strides in all */
    double ro;  /* 1 / (y . s) */
    double al;  /* scratch of the two-loop recursion */
} nnc__lbfgs_pair;

/* torch.optim.LBFGS state plus the scratch vectors of a step. */
typedef struct {
    int64_t n_iter;     /* torch state["n_iter"]: iterations over all steps */
    int64_t func_evals; /* torch state["func_evals"] */
    double t;           /* last step length */
    double h_diag;      /* scale of the initial inverse Hessian */
    double prev_loss;
    /* hist[0..count) is the history, oldest first; hist[count..n_slots)
     * hold allocated slots not in use; the array has room for `cap`. */
    nnc__lbfgs_pair *hist;
    int64_t count, n_slots, cap;
    /* One allocation behind every vector below (n elements each). */
    void *block;
    void *d;         /* search direction (meaningful once n_iter > 0) */
    void *prev_grad; /* gradient at the start of the last iteration */
    void *grad;      /* current gradient (torch's flat_grad) */
    void *x0;        /* params at the start of an iteration */
    void *ls[4];     /* strong-Wolfe scratch: g_new, g_prev, bracket 0/1 */
} nnc__lbfgs;

struct nnc__optim {
    nnc_optimizer_config cfg;
    nnc_dtype dtype;
    int64_t n;    /* number of parameters */
    int64_t step; /* torch's per-parameter "step" (SGD: steps taken) */
    void *block;  /* one allocation behind the buf[] that exist */
    void *buf[NNC__OPT_NBUF];
    nnc__lbfgs lb; /* all zero unless kind == NNC_OPT_LBFGS */
    double lr;     /* the rate of the step being taken (the schedule's, or cfg's) */
    /* Lengths of the parameter tensors in buffer order (clipnorm clips
     * each); NULL: one tensor of n. */
    int64_t n_tensors;
    int64_t *tensor_len;
};

/* Bytes of one n-element vector rounded up to the 64-byte alignment, so
 * that vectors carved out of one block all stay aligned. */
static inline size_t nnc__optim_vec_stride(const nnc__optim *opt) {
    size_t b = (size_t)opt->n * nnc__dtype_size(opt->dtype);
    return (b + 63u) & ~(size_t)63u;
}

/* Which buf[] roles a configuration needs (bit k: role k), and how many. */
unsigned nnc__optim_buffer_mask(const nnc_optimizer_config *cfg);
int nnc__optim_buffer_count(unsigned mask);

/* How many n-element vectors a configuration keeps besides the L-BFGS
 * history: L-BFGS's d, prev_grad, grad, x0 (and the strong-Wolfe line
 * search's four gradients), or the first-order optimizers' buf[]. */
static inline size_t nnc__optim_fixed_vectors(const nnc_optimizer_config *cfg) {
    if (cfg->kind == NNC_OPT_LBFGS) return cfg->line_search_strong_wolfe ? 8u : 4u;
    return (size_t)nnc__optim_buffer_count(nnc__optim_buffer_mask(cfg));
}

/* 1 when the configuration clips gradients; clip `grad` (n elements of
 * the optimizer's dtype) in place as it says (nnc_clip.c). */
int nnc__optim_clips(const nnc_optimizer_config *cfg);
void nnc__optim_clip(const nnc__optim *opt, void *grad);

/* Grow the L-BFGS pool to at least `want` allocated history slots (at
 * most history_size). On NNC_ERR_NOMEM the history itself is untouched;
 * slots allocated before the failure are kept as spares. */
nnc_status nnc__lbfgs_reserve(nnc__optim *opt, int64_t want);
/* Free every history slot and the history array. */
void nnc__lbfgs_free_history(nnc__lbfgs *lb);

#endif /* NNC_OPTIM_INTERNAL_H */
