/*
 * nnc_optim_impl.h - first-order update kernels, written once for both
 * dtypes. nnc_optim.c includes this file twice, with
 *   NNC_REAL  the element type (float or double),
 *   NNC_SFX   a name suffix (f32 or f64),
 *   NNC_SQRT  the square root of that type.
 *
 * Each kernel is one fused pass over the flat buffers and follows the
 * single-tensor (foreach=False) code of torch.optim operation by operation:
 * the same association, the same intermediate roundings, every Python
 * scalar computed in double and then cast to the element type as torch
 * does when it hands a Scalar to a float kernel. (torch's CPU kernels use
 * fused multiply-adds and SLEEF square roots, so agreement is to rounding
 * error, not to the bit.)
 */
#ifndef NNC_REAL
#error "define NNC_REAL, NNC_SFX and NNC_SQRT before including nnc_optim_impl.h"
#endif

#define NNC_CAT_(a, b) a##_##b
#define NNC_CAT(a, b) NNC_CAT_(a, b)
#define NNC_FN(name) NNC_CAT(name, NNC_SFX)

#define real NNC_REAL

/* torch.lerp: self + w (end - self) for |w| < 0.5, else
 * end - (end - self)(1 - w); the two forms keep the endpoints exact. */
static inline real NNC_FN(lerp)(real self, real end, real w) {
    real wa = w < 0 ? -w : w;
    return wa < (real)0.5 ? self + w * (end - self) : end - (end - self) * ((real)1 - w);
}

/* torch.maximum: NaN wins. */
static inline real NNC_FN(maximum)(real a, real b) {
    if (a != a) return a;
    if (b != b) return b;
    return a > b ? a : b;
}

static void NNC_FN(sgd_step)(nnc__optim *o, real *NNC__RESTRICT p, const real *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    const int use_wd = c->weight_decay != 0, use_mom = c->momentum != 0;
    const int nesterov = c->nesterov != 0, first = o->step == 0;
    const real wd = (real)c->weight_decay, mom = (real)c->momentum;
    const real damp1 = (real)(1.0 - c->dampening), nlr = (real)(-c->learning_rate);
    real *NNC__RESTRICT buf = (real *)o->buf[0];
    for (int64_t i = 0; i < n; i++) {
        real gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        if (use_mom) {
            /* torch clones the first gradient into the buffer (no dampening). */
            real b = first ? gi : buf[i] * mom + damp1 * gi;
            buf[i] = b;
            gi = nesterov ? gi + mom * b : b;
        }
        p[i] = p[i] + nlr * gi;
    }
    o->step++;
}

static void NNC_FN(adagrad_step)(nnc__optim *o, real *NNC__RESTRICT p, const real *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    o->step++;
    const double clr = c->learning_rate / (1.0 + ((double)o->step - 1.0) * c->lr_decay);
    const int use_wd = c->weight_decay != 0;
    const real wd = (real)c->weight_decay, eps = (real)c->eps, nclr = (real)(-clr);
    real *NNC__RESTRICT sum = (real *)o->buf[0];
    for (int64_t i = 0; i < n; i++) {
        real gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        real s = sum[i] + gi * gi;
        sum[i] = s;
        real std = NNC_SQRT(s) + eps;
        p[i] = p[i] + nclr * gi / std; /* addcdiv: self + (value * t1) / t2 */
    }
}

static void NNC_FN(rmsprop_step)(nnc__optim *o, real *NNC__RESTRICT p, const real *NNC__RESTRICT g) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    const int use_wd = c->weight_decay != 0, centered = c->centered != 0;
    const int use_mom = c->momentum > 0;
    const real wd = (real)c->weight_decay, alpha = (real)c->alpha;
    const real oma = (real)(1.0 - c->alpha), eps = (real)c->eps;
    const real mom = (real)c->momentum, nlr = (real)(-c->learning_rate);
    real *NNC__RESTRICT sq = (real *)o->buf[0];
    real *NNC__RESTRICT ga = (real *)o->buf[1];
    real *NNC__RESTRICT mb = (real *)o->buf[2];
    o->step++;
    for (int64_t i = 0; i < n; i++) {
        real gi = g[i];
        if (use_wd) gi = gi + wd * p[i];
        real s = sq[i] * alpha;
        s = s + oma * gi * gi;
        sq[i] = s;
        real avg;
        if (centered) {
            real a = NNC_FN(lerp)(ga[i], gi, oma);
            ga[i] = a;
            avg = NNC_SQRT(s - a * a);
        } else {
            avg = NNC_SQRT(s);
        }
        avg = avg + eps;
        if (use_mom) {
            real b = mb[i] * mom;
            b = b + gi / avg;
            mb[i] = b;
            p[i] = p[i] + nlr * b;
        } else {
            p[i] = p[i] + nlr * gi / avg;
        }
    }
}

/* Adam, and AdamW when `decoupled` (weight decay applied to the params
 * before the update instead of being added to the gradient). */
static void NNC_FN(adam_step)(nnc__optim *o, real *NNC__RESTRICT p, const real *NNC__RESTRICT g,
                              int decoupled) {
    const nnc_optimizer_config *c = &o->cfg;
    const int64_t n = o->n;
    o->step++;
    const double step = (double)o->step;
    const double bc1 = 1.0 - pow(c->beta1, step);
    const double bc2 = 1.0 - pow(c->beta2, step);
    const double step_size = c->learning_rate / bc1;
    const double bc2_sqrt = pow(bc2, 0.5); /* Python's bias_correction2 ** 0.5 */
    const int use_wd = c->weight_decay != 0, amsgrad = c->amsgrad != 0;
    const real decay = (real)(1.0 - c->learning_rate * c->weight_decay);
    const real wd = (real)c->weight_decay;
    const real w1 = (real)(1.0 - c->beta1), beta2 = (real)c->beta2;
    const real omb2 = (real)(1.0 - c->beta2), eps = (real)c->eps;
    const real bc2s = (real)bc2_sqrt, nss = (real)(-step_size);
    real *NNC__RESTRICT m = (real *)o->buf[0];
    real *NNC__RESTRICT v = (real *)o->buf[1];
    real *NNC__RESTRICT vmax = (real *)o->buf[2];
    for (int64_t i = 0; i < n; i++) {
        real gi = g[i];
        real pi = p[i];
        if (use_wd) {
            if (decoupled)
                pi = pi * decay;
            else
                gi = gi + wd * pi;
        }
        real mi = NNC_FN(lerp)(m[i], gi, w1);
        m[i] = mi;
        real vi = v[i] * beta2;
        vi = vi + omb2 * gi * gi;
        v[i] = vi;
        if (amsgrad) {
            vi = NNC_FN(maximum)(vmax[i], vi);
            vmax[i] = vi;
        }
        real denom = NNC_SQRT(vi) / bc2s + eps;
        p[i] = pi + nss * mi / denom;
    }
}

#undef real
#undef NNC_FN
#undef NNC_CAT
#undef NNC_CAT_
