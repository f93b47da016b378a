/*
 * nnc_optim_fast.c - the optimizer step the training loop calls: Adam and
 * AdamW with the SIMD kernel of the active kernel set, split over the
 * thread pool by ranges of parameters (element-wise, so the split never
 * changes a bit); every other optimizer, and the reference kernel set, go
 * to nnc__optim_step.
 *
 * The scalar Adam of nnc_optim_impl.h is bound by the divider (about
 * 11 cycles per parameter); the vector kernels compute exactly the same
 * operations (see nnc_kernels_optim_impl.h) on 8 or 16 lanes. This file
 * derives the step's constants with the same double expressions as
 * nnc_optim_impl.h's adam_step; the kernel tests check the two paths
 * agree bit for bit.
 *
 * It reads the optimizer object through nnc_optim_internal.h (the state
 * buffers and the step count) because the optimizer's own files are not
 * this file's to change; the natural home of this dispatch is
 * nnc__optim_step itself.
 */
#include "nnc_optim_internal.h"

#include "nnc_kernels.h"
#include "nnc_threads.h"

#include <math.h>

/* Parameters per thread below which threads are not worth waking. */
#define MIN_PER_THREAD ((int64_t)1 << 15)
/* Ranges start on multiples of this (whole cache lines, whole vectors). */
#define ALIGN_ELEMS 64

typedef struct {
    const nnc__adam_desc *d;
    nnc__adam_fn fn;
    int64_t n;
} adam_split;

static void adam_task(void *vctx, int index, int count) {
    const adam_split *s = vctx;
    const int64_t blocks = (s->n + ALIGN_ELEMS - 1) / ALIGN_ELEMS;
    const int64_t b0 = blocks * index / count, b1 = blocks * (index + 1) / count;
    const int64_t lo = b0 * ALIGN_ELEMS, hi = b1 * ALIGN_ELEMS < s->n ? b1 * ALIGN_ELEMS : s->n;
    if (lo < hi) s->fn(s->d, lo, hi);
}

nnc_status nnc__optim_step_fast(nnc__optim *opt, void *params, const void *grad) {
    const nnc__kernels *k = nnc__kernels_active();
    if (!opt || !params || !grad || k == &nnc__kernels_ref ||
        (opt->cfg.kind != NNC_OPT_ADAM && opt->cfg.kind != NNC_OPT_ADAMW))
        return nnc__optim_step(opt, params, grad);
    const nnc_optimizer_config *c = &opt->cfg;
    /* nnc_optim_impl.h adam_step's prologue, expression for expression. */
    opt->step++;
    const double step = (double)opt->step;
    const double bc1 = 1.0 - pow(c->beta1, step);
    const double bc2 = 1.0 - pow(c->beta2, step);
    const double step_size = c->learning_rate / bc1;
    const double bc2_sqrt = pow(bc2, 0.5);
    nnc__adam_desc d;
    d.p = params;
    d.g = grad;
    d.m = opt->buf[0];
    d.v = opt->buf[1];
    d.vmax = opt->buf[2];
    d.use_wd = c->weight_decay != 0;
    d.decoupled = c->kind == NNC_OPT_ADAMW;
    d.amsgrad = c->amsgrad != 0;
    d.decay = 1.0 - c->learning_rate * c->weight_decay;
    d.wd = c->weight_decay;
    d.w1 = 1.0 - c->beta1;
    d.beta2 = c->beta2;
    d.omb2 = 1.0 - c->beta2;
    d.eps = c->eps;
    d.bc2s = bc2_sqrt;
    d.nss = -step_size;
    adam_split s = {&d, opt->dtype == NNC_FLOAT32 ? k->adam_f32 : k->adam_f64, opt->n};
    int64_t n = nnc__thread_count();
    if (n > opt->n / MIN_PER_THREAD) n = opt->n / MIN_PER_THREAD;
    if (n < 1) n = 1;
    nnc__parallel(adam_task, &s, (int)n);
    return NNC_OK;
}
