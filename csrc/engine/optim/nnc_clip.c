/*
 * nnc_clip.c - gradient clipping before a first-order step (clipnorm per
 * parameter tensor as Keras, global_clipnorm as torch's clip_grad_norm_,
 * clipvalue as torch's clip_grad_value_; docs/design.md, Gradient
 * clipping). The gradient is clipped in place, as torch clips .grad.
 */
#include "nnc_optim_internal.h"

#include <math.h>

#define NNC_TEMPLATE "nnc_clip_impl.h"
#include "nnc_template.h"

int nnc__optim_clips(const nnc_optimizer_config *c) {
    return c->clipnorm != 0.0 || c->global_clipnorm != 0.0 || c->clipvalue != 0.0;
}

void nnc__optim_clip(const nnc__optim *o, void *grad) {
    const int64_t whole = o->n;
    const int64_t *len = o->tensor_len ? o->tensor_len : &whole;
    const int64_t count = o->tensor_len ? o->n_tensors : 1;
    if (o->dtype == NNC_FLOAT32)
        clip_f32(&o->cfg, (float *)grad, len, count);
    else
        clip_f64(&o->cfg, (double *)grad, len, count);
}
