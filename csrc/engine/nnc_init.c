/*
 * nnc_init.c - weight initialisation (docs/architecture.md, Initializers).
 * Values are drawn in double from the model's RNG, layer by layer (W
 * row-major, then b), and rounded to the model's dtype.
 */
#include "nnc_internal.h"

#include <math.h>

typedef enum { DIST_CONSTANT, DIST_UNIFORM, DIST_NORMAL } dist_kind;

typedef struct {
    dist_kind kind;
    double param; /* constant value, uniform limit or normal stddev */
} distribution;

/* The lecture notes' table of activation and initializer pairs
 * (docs/architecture.md, Initializers), Glorot for the rest; SELU keeps
 * its self-normalising LeCun normal. */
static distribution auto_for(nnc_activation act, double fan_in, double fan_out) {
    distribution d = {DIST_UNIFORM, sqrt(6.0 / (fan_in + fan_out))};
    switch (act) {
    case NNC_ACT_SIGMOID:
        d.param = 4.0 * sqrt(6.0 / (fan_in + fan_out));
        break;
    case NNC_ACT_RELU:
    case NNC_ACT_LEAKY_RELU:
    case NNC_ACT_PRELU:
    case NNC_ACT_ELU:
        d.param = sqrt(12.0 / (fan_in + fan_out));
        break;
    case NNC_ACT_SELU:
        d.kind = DIST_NORMAL;
        d.param = sqrt(1.0 / fan_in);
        break;
    default:
        break;
    }
    return d;
}

static distribution distribution_for(nnc_init init, double param, nnc_activation act,
                                     double fan_in, double fan_out) {
    distribution d = {DIST_CONSTANT, 0.0};
    switch (init) {
    case NNC_INIT_AUTO: return auto_for(act, fan_in, fan_out);
    case NNC_INIT_ZEROS: break;
    case NNC_INIT_ONES: d.param = 1.0; break;
    case NNC_INIT_CONSTANT: d.param = param; break;
    case NNC_INIT_UNIFORM: d.kind = DIST_UNIFORM; d.param = param; break;
    case NNC_INIT_NORMAL: d.kind = DIST_NORMAL; d.param = param; break;
    case NNC_INIT_GLOROT_NORMAL: d.kind = DIST_NORMAL; d.param = sqrt(2.0 / (fan_in + fan_out)); break;
    case NNC_INIT_GLOROT_UNIFORM: d.kind = DIST_UNIFORM; d.param = sqrt(6.0 / (fan_in + fan_out)); break;
    case NNC_INIT_HE_NORMAL: d.kind = DIST_NORMAL; d.param = sqrt(2.0 / fan_in); break;
    case NNC_INIT_HE_UNIFORM: d.kind = DIST_UNIFORM; d.param = sqrt(6.0 / fan_in); break;
    case NNC_INIT_LECUN_NORMAL: d.kind = DIST_NORMAL; d.param = sqrt(1.0 / fan_in); break;
    case NNC_INIT_LECUN_UNIFORM: d.kind = DIST_UNIFORM; d.param = sqrt(3.0 / fan_in); break;
    case NNC_INIT_FAN_IN_UNIFORM: d.kind = DIST_UNIFORM; d.param = sqrt(1.0 / fan_in); break;
    default: break;
    }
    return d;
}

static double draw(const distribution *d, nnc__rng *rng) {
    switch (d->kind) {
    case DIST_UNIFORM: return d->param * (2.0 * nnc__rng_uniform(rng) - 1.0);
    case DIST_NORMAL: return d->param * nnc__rng_normal(rng);
    default: return d->param;
    }
}

static void fill(nnc_model *m, int64_t offset, int64_t count, const distribution *d) {
    if (m->dtype == NNC_FLOAT32) {
        float *p = (float *)m->params + offset;
        for (int64_t i = 0; i < count; i++) p[i] = (float)draw(d, &m->rng);
    } else {
        double *p = (double *)m->params + offset;
        for (int64_t i = 0; i < count; i++) p[i] = draw(d, &m->rng);
    }
}

nnc_status nnc__init_params(nnc_model *m) {
    for (int i = 0; i < m->n_layers; i++) {
        const nnc__layer *L = &m->layers[i];
        double fi = (double)L->fan_in, fo = (double)L->fan_out;
        distribution dw = distribution_for(L->spec.kernel_init, L->spec.kernel_init_param,
                                           L->spec.activation, fi, fo);
        fill(m, L->w_off, L->fan_in * L->fan_out, &dw);
        if (L->b_off >= 0) {
            /* A bias's fan-in is its layer's (fan_in_uniform, as torch). */
            distribution db = distribution_for(L->spec.bias_init, L->spec.bias_init_param,
                                               L->spec.activation, fi, fo);
            fill(m, L->b_off, L->fan_out, &db);
        }
        if (L->s_off >= 0) {
            distribution ds = {DIST_CONSTANT, 0.25}; /* PReLU's initial slope */
            fill(m, L->s_off, L->fan_out, &ds);
        }
    }
    return NNC_OK;
}
