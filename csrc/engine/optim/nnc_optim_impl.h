/*
 * nnc_optim_impl.h - the SGD, Adagrad and RMSprop updates, a template
 * (nnc_template.h) that nnc_optim.c instantiates. (Adam and AdamW are the
 * kernel sets' adam: kernels/nnc_kernels_ref_impl.h.)
 *
 * Each kernel is one fused pass over the flat buffers and follows the
 * single-tensor (foreach=False) code of torch.optim operation by operation:
 * the same association, the same intermediate roundings, every Python
 * scalar computed in double and then cast to the element type as torch
 * does when it hands a Scalar to a float kernel. (torch's CPU kernels use
 * fused multiply-adds and SLEEF square roots, so agreement is to rounding
 * error, not to the bit.)
 */

/* torch.lerp: self + w (end - self) for |w| < 0.5, else
 * end - (end - self)(1 - w); the two forms keep the endpoints exact. */
static inline NNC_REAL NNC_SFX(lerp)(NNC_REAL self, NNC_REAL end, NNC_REAL w) {
    NNC_REAL wa = w < 0 ? -w : w;
    return wa < (NNC_REAL)0.5 ? self + w * (end - self)
                              : end - (end - self) * ((NNC_REAL)1 - w);
}

static void NNC_SFX(sgd_step)(nnc__optim *o, NNC_REAL *NNC__RESTRICT p,
                              const NNC_REAL *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    const int use_wd = c->weight_decay != 0, use_mom = c->momentum != 0;
    const int nesterov = c->nesterov != 0, first = o->step == 0;
    const NNC_REAL wd = (NNC_REAL)c->weight_decay, mom = (NNC_REAL)c->momentum;
    const NNC_REAL damp1 = (NNC_REAL)(1.0 - c->dampening), nlr = (NNC_REAL)(-o->lr);
    NNC_REAL *NNC__RESTRICT buf = (NNC_REAL *)o->buf[0];
    for (int64_t i = 0; i < n; i++) {
        NNC_REAL gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        if (use_mom) {
            /* torch clones the first gradient into the buffer (no dampening). */
            NNC_REAL b = first ? gi : buf[i] * mom + damp1 * gi;
            buf[i] = b;
            gi = nesterov ? gi + mom * b : b;
        }
        p[i] = p[i] + nlr * gi;
    }
    o->step++;
}

static void NNC_SFX(adagrad_step)(nnc__optim *o, NNC_REAL *NNC__RESTRICT p,
                                  const NNC_REAL *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    o->step++;
    const double clr = o->lr / (1.0 + ((double)o->step - 1.0) * c->lr_decay);
    const int use_wd = c->weight_decay != 0;
    const NNC_REAL wd = (NNC_REAL)c->weight_decay, eps = (NNC_REAL)c->eps, nclr = (NNC_REAL)(-clr);
    NNC_REAL *NNC__RESTRICT sum = (NNC_REAL *)o->buf[0];
    for (int64_t i = 0; i < n; i++) {
        NNC_REAL gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        NNC_REAL s = sum[i] + gi * gi;
        sum[i] = s;
        NNC_REAL std = NNC_SQRT(s) + eps;
        p[i] = p[i] + nclr * gi / std; /* addcdiv: self + (value * t1) / t2 */
    }
}

static void NNC_SFX(rmsprop_step)(nnc__optim *o, NNC_REAL *NNC__RESTRICT p,
                                  const NNC_REAL *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    const int use_wd = c->weight_decay != 0, centered = c->centered != 0;
    const int use_mom = c->momentum > 0;
    const NNC_REAL wd = (NNC_REAL)c->weight_decay, alpha = (NNC_REAL)c->alpha;
    const NNC_REAL oma = (NNC_REAL)(1.0 - c->alpha), eps = (NNC_REAL)c->eps;
    const NNC_REAL mom = (NNC_REAL)c->momentum, nlr = (NNC_REAL)(-o->lr);
    NNC_REAL *NNC__RESTRICT sq = (NNC_REAL *)o->buf[0];
    NNC_REAL *NNC__RESTRICT ga = (NNC_REAL *)o->buf[1];
    NNC_REAL *NNC__RESTRICT mb = (NNC_REAL *)o->buf[2];
    o->step++;
    for (int64_t i = 0; i < n; i++) {
        NNC_REAL gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        NNC_REAL s = sq[i] * alpha;
        s = s + oma * gi * gi;
        sq[i] = s;
        NNC_REAL avg;
        if (centered) {
            NNC_REAL a = NNC_SFX(lerp)(ga[i], gi, oma);
            ga[i] = a;
            avg = NNC_SQRT(s - a * a);
        } else {
            avg = NNC_SQRT(s);
        }
        avg = avg + eps;
        if (use_mom) {
            NNC_REAL b = mb[i] * mom;
            b = b + gi / avg;
            mb[i] = b;
            p[i] = p[i] + nlr * b;
        } else {
            p[i] = p[i] + nlr * gi / avg;
        }
    }
}
