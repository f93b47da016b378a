/*
 * nnc_model.c - model lifetime, the contiguous parameter buffer and its
 * layout, compile settings and the optimizer state blob.
 */
#include "nnc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 100000

void nnc_layer_spec_default(nnc_layer_spec *spec, int64_t units, nnc_activation act) {
    memset(spec, 0, sizeof *spec);
    spec->units = units;
    spec->activation = act;
    spec->use_bias = 1;
    spec->input_dropout = 0.0;
    spec->kernel_init = NNC_INIT_AUTO;
    spec->bias_init = NNC_INIT_FAN_IN_UNIFORM;
}

static int bias_init_ok(nnc_init init) {
    return init == NNC_INIT_ZEROS || init == NNC_INIT_ONES || init == NNC_INIT_CONSTANT ||
           init == NNC_INIT_UNIFORM || init == NNC_INIT_NORMAL ||
           init == NNC_INIT_FAN_IN_UNIFORM;
}

static nnc_status check_spec(const nnc_layer_spec *s, int i) {
    if (s->units < 1 || s->units > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: units must be in [1, 2^40], got %lld",
                         i, (long long)s->units);
    if ((int)s->activation < 0 || s->activation >= NNC_ACT_COUNT_)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: unknown activation %d", i,
                         (int)s->activation);
    if (s->use_bias != 0 && s->use_bias != 1)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: use_bias must be 0 or 1", i);
    if (!(s->input_dropout >= 0.0 && s->input_dropout < 1.0))
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: dropout rate must be in [0, 1), got %g",
                         i, s->input_dropout);
    if ((int)s->kernel_init < 0 || s->kernel_init >= NNC_INIT_COUNT_)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: unknown kernel initializer %d", i,
                         (int)s->kernel_init);
    if ((int)s->bias_init < 0 || s->bias_init >= NNC_INIT_COUNT_ || !bias_init_ok(s->bias_init))
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "layer %d: bias initializer must be zeros, ones, constant, uniform, "
                         "normal or fan_in_uniform",
                         i);
    if (!isfinite(s->kernel_init_param) || !isfinite(s->bias_init_param))
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: initializer parameter is not finite", i);
    if ((s->kernel_init == NNC_INIT_UNIFORM || s->kernel_init == NNC_INIT_NORMAL) &&
        s->kernel_init_param < 0)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer %d: initializer limit/stddev must be >= 0",
                         i);
    if ((s->bias_init == NNC_INIT_UNIFORM || s->bias_init == NNC_INIT_NORMAL) &&
        s->bias_init_param < 0)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "layer %d: bias initializer limit/stddev must be >= 0", i);
    return NNC_OK;
}

/* Lay out every layer's W, b and slopes in the flat buffer, with overflow
 * checks, before anything is allocated. `out` (optional) receives each
 * layer's sizes and offsets. */
static nnc_status plan_layout(int64_t input_dim, int n_layers, const nnc_layer_spec *specs,
                              nnc__layer *out, int64_t *n_params, int64_t *max_width) {
    int64_t offset = 0;
    int64_t fan_in = input_dim;
    int64_t widest = 0; /* of the layers' outputs: no pass needs dJ/dx */
    for (int i = 0; i < n_layers; i++) {
        const int64_t units = specs[i].units;
        size_t w_elems;
        nnc_status st = nnc__mul_size((size_t)fan_in, (size_t)units, &w_elems, "weights");
        if (st) return st;
        if (w_elems > (size_t)NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_OVERFLOW,
                             "layer %d: %lld x %lld weights exceed the engine's limit of 2^40",
                             i, (long long)fan_in, (long long)units);
        nnc__layer L = {.spec = specs[i], .fan_in = fan_in, .fan_out = units, .w_off = offset,
                        .b_off = -1, .s_off = -1};
        offset += (int64_t)w_elems;
        if (specs[i].use_bias) {
            L.b_off = offset;
            offset += units;
        }
        if (specs[i].activation == NNC_ACT_PRELU) {
            L.s_off = offset;
            offset += units;
        }
        L.n_params = offset - L.w_off;
        if (offset > NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_OVERFLOW, "the model's %lld+ parameters exceed 2^40",
                             (long long)offset);
        if (out) out[i] = L;
        if (units > widest) widest = units;
        fan_in = units;
    }
    *n_params = offset;
    if (max_width) *max_width = widest;
    return NNC_OK;
}

/* What nnc_model_create checks of its arguments before it allocates. */
static nnc_status check_model_args(nnc_dtype dtype, int64_t input_dim, int n_layers,
                                   const nnc_layer_spec *layers) {
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_INVALID_ARG, "dtype must be NNC_FLOAT32 or NNC_FLOAT64");
    if (input_dim < 1 || input_dim > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "input_dim must be in [1, 2^40], got %lld",
                         (long long)input_dim);
    if (n_layers < 1 || n_layers > MAX_LAYERS || !layers)
        return nnc__fail(NNC_ERR_INVALID_ARG, "a model needs 1 to %d layers, got %d", MAX_LAYERS,
                         n_layers);
    for (int i = 0; i < n_layers; i++) {
        nnc_status st = check_spec(&layers[i], i);
        if (st) return st;
    }
    return NNC_OK;
}

nnc_status nnc_model_count_params(int64_t input_dim, int n_layers, const nnc_layer_spec *layers,
                                  int64_t *n_params) {
    if (!n_params) return nnc__fail(NNC_ERR_INVALID_ARG, "n_params is NULL");
    nnc_status st = check_model_args(NNC_FLOAT64, input_dim, n_layers, layers);
    return st ? st : plan_layout(input_dim, n_layers, layers, NULL, n_params, NULL);
}

static nnc_status alloc_params(nnc_model *m) {
    size_t bytes;
    nnc_status st = nnc__mul_size((size_t)m->n_params, nnc__dtype_size(m->dtype), &bytes,
                                  "parameters");
    if (st) return st;
    /* Parameters and their gradient live side by side: refuse at once a
     * model that cannot fit in the machine, rather than let the first
     * touch of overcommitted pages kill the process. */
    const size_t ram = nnc__memory_limit();
    if (bytes > ram / 2)
        return nnc__fail(NNC_ERR_NOMEM,
                         "%lld parameters need %zu bytes (with their gradient), more than the "
                         "%zu bytes this process may use",
                         (long long)m->n_params, 2 * bytes, ram);
    m->params = nnc__aligned_alloc(bytes);
    m->grad = nnc__aligned_alloc(bytes);
    if (!m->params || !m->grad)
        return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %zu bytes for %lld parameters", 2 * bytes,
                         (long long)m->n_params);
    return NNC_OK;
}

nnc_status nnc_model_create(nnc_dtype dtype, int64_t input_dim, int n_layers,
                            const nnc_layer_spec *layers, uint64_t seed, nnc_model **out) {
    if (!out) return nnc__fail(NNC_ERR_INVALID_ARG, "out is NULL");
    *out = NULL;
    nnc_status st = check_model_args(dtype, input_dim, n_layers, layers);
    if (st) return st;
    nnc_model *m = calloc(1, sizeof *m);
    if (!m) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate a model");
    m->dtype = dtype;
    m->input_dim = input_dim;
    m->n_layers = n_layers;
    m->seed = seed;
    nnc__rng_seed(&m->rng, seed);
    m->layers = calloc((size_t)n_layers, sizeof *m->layers);
    if (!m->layers) st = nnc__fail(NNC_ERR_NOMEM, "cannot allocate %d layers", n_layers);
    if (st == NNC_OK)
        st = plan_layout(input_dim, n_layers, layers, m->layers, &m->n_params, &m->max_width);
    if (st == NNC_OK) st = alloc_params(m);
    if (st == NNC_OK) st = nnc__init_params(m);
    if (st != NNC_OK) {
        nnc_model_destroy(m);
        return st;
    }
    *out = m;
    return NNC_OK;
}

void nnc_model_destroy(nnc_model *m) {
    if (!m) return;
    nnc__workspace_free(&m->ws);
    nnc__optim_destroy(m->optim);
    free(m->perm);
    nnc__aligned_free(m->params);
    nnc__aligned_free(m->grad);
    free(m->layers);
    free(m);
}

nnc_status nnc_model_clone(const nnc_model *src, nnc_model **out) {
    if (!src || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "model or out is NULL");
    *out = NULL;
    nnc_layer_spec *specs = malloc((size_t)src->n_layers * sizeof *specs);
    if (!specs) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate layer specs");
    for (int i = 0; i < src->n_layers; i++) specs[i] = src->layers[i].spec;
    nnc_model *m = NULL;
    nnc_status st = nnc_model_create(src->dtype, src->input_dim, src->n_layers, specs, src->seed, &m);
    free(specs);
    if (st) return st;
    memcpy(m->params, src->params, (size_t)src->n_params * nnc__dtype_size(src->dtype));
    m->rng = src->rng;
    m->compiled = src->compiled;
    m->loss = src->loss;
    m->l2 = src->l2;
    if (src->optim) {
        st = nnc__optim_clone(src->optim, &m->optim);
        if (st) {
            nnc_model_destroy(m);
            return st;
        }
    }
    *out = m;
    return NNC_OK;
}

nnc_dtype nnc_model_dtype(const nnc_model *m) { return m->dtype; }
int64_t nnc_model_input_dim(const nnc_model *m) { return m->input_dim; }
int64_t nnc_model_output_dim(const nnc_model *m) { return m->layers[m->n_layers - 1].fan_out; }
int nnc_model_num_layers(const nnc_model *m) { return m->n_layers; }
uint64_t nnc_model_seed(const nnc_model *m) { return m->seed; }
int64_t nnc_model_num_params(const nnc_model *m) { return m->n_params; }

nnc_status nnc_model_layer_spec(const nnc_model *m, int i, nnc_layer_spec *out) {
    if (!m || !out || i < 0 || i >= m->n_layers)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer index %d out of range", i);
    *out = m->layers[i].spec;
    return NNC_OK;
}

nnc_status nnc_model_layer_offsets(const nnc_model *m, int i, int64_t *w_off, int64_t *b_off,
                                   int64_t *slope_off) {
    if (!m || i < 0 || i >= m->n_layers)
        return nnc__fail(NNC_ERR_INVALID_ARG, "layer index %d out of range", i);
    if (w_off) *w_off = m->layers[i].w_off;
    if (b_off) *b_off = m->layers[i].b_off;
    if (slope_off) *slope_off = m->layers[i].s_off;
    return NNC_OK;
}

nnc_status nnc_model_get_params(const nnc_model *m, void *out, int64_t n) {
    if (!m || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "model or out is NULL");
    if (n != m->n_params)
        return nnc__fail(NNC_ERR_SHAPE, "expected %lld parameters, got %lld",
                         (long long)m->n_params, (long long)n);
    memcpy(out, m->params, (size_t)n * nnc__dtype_size(m->dtype));
    return NNC_OK;
}

nnc_status nnc_model_set_params(nnc_model *m, const void *values, int64_t n) {
    if (!m || !values) return nnc__fail(NNC_ERR_INVALID_ARG, "model or values is NULL");
    if (n != m->n_params)
        return nnc__fail(NNC_ERR_SHAPE, "expected %lld parameters, got %lld",
                         (long long)m->n_params, (long long)n);
    int finite = 0;
    nnc_all_finite(m->dtype, values, n, &finite);
    if (!finite) return nnc__fail(NNC_ERR_NONFINITE, "parameters contain NaN or infinity");
    memcpy(m->params, values, (size_t)n * nnc__dtype_size(m->dtype));
    return NNC_OK;
}

nnc_status nnc_model_reinitialize(nnc_model *m) {
    if (!m) return nnc__fail(NNC_ERR_INVALID_ARG, "model is NULL");
    return nnc__init_params(m);
}

void nnc_model_get_rng_state(const nnc_model *m, uint64_t state[2]) {
    state[0] = m->rng.key;
    state[1] = m->rng.counter;
}

void nnc_model_set_rng_state(nnc_model *m, const uint64_t state[2]) {
    m->rng.key = state[0];
    m->rng.counter = state[1];
}

static int has_dropout(const nnc_model *m) {
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].spec.input_dropout > 0) return 1;
    return 0;
}

nnc_status nnc_model_compile(nnc_model *m, nnc_loss loss, double l2,
                             const nnc_optimizer_config *cfg) {
    if (!m || !cfg) return nnc__fail(NNC_ERR_INVALID_ARG, "model or optimizer config is NULL");
    nnc_status st = nnc_compile_check(m->layers[m->n_layers - 1].spec.activation, has_dropout(m),
                                      loss, l2, cfg);
    if (st) return st;
    nnc__optim *opt = NULL;
    st = nnc__optim_create(cfg, m->dtype, m->n_params, &opt);
    if (st) return st;
    {
        /* clipnorm clips each parameter tensor: a layer's W, b and slopes. */
        int64_t *len = malloc((size_t)m->n_layers * 3 * sizeof *len), n = 0;
        if (!len) st = nnc__fail(NNC_ERR_NOMEM, "compile: out of memory");
        for (int i = 0; !st && i < m->n_layers; i++) {
            const nnc__layer *L = &m->layers[i];
            len[n++] = L->fan_in * L->fan_out;
            if (L->b_off >= 0) len[n++] = L->fan_out;
            if (L->s_off >= 0) len[n++] = L->fan_out;
        }
        if (!st) st = nnc__optim_set_tensors(opt, n, len);
        free(len);
        if (st) {
            nnc__optim_destroy(opt);
            return st;
        }
    }
    nnc__optim_destroy(m->optim);
    m->optim = opt;
    m->loss = loss;
    m->l2 = l2;
    m->compiled = 1;
    return NNC_OK;
}

int nnc_model_is_compiled(const nnc_model *m) { return m && m->compiled; }

static nnc_status need_compiled(const nnc_model *m) {
    if (!m) return nnc__fail(NNC_ERR_INVALID_ARG, "model is NULL");
    if (!m->compiled) return nnc__fail(NNC_ERR_STATE, "the model is not compiled");
    return NNC_OK;
}

nnc_status nnc_model_compile_settings(const nnc_model *m, nnc_loss *loss, double *l2,
                                      nnc_optimizer_config *optimizer) {
    nnc_status st = need_compiled(m);
    if (st) return st;
    if (loss) *loss = m->loss;
    if (l2) *l2 = m->l2;
    if (optimizer) *optimizer = *nnc__optim_config(m->optim);
    return NNC_OK;
}

nnc_status nnc_model_set_learning_rate(nnc_model *m, double lr) {
    nnc_status st = need_compiled(m);
    return st ? st : nnc__optim_set_learning_rate(m->optim, lr);
}

nnc_status nnc_model_get_learning_rate(const nnc_model *m, double *out) {
    nnc_status st = need_compiled(m);
    if (st) return st;
    if (!out) return nnc__fail(NNC_ERR_INVALID_ARG, "out is NULL");
    return nnc__optim_learning_rate(m->optim, out);
}

nnc_status nnc_model_reset_optimizer(nnc_model *m) {
    nnc_status st = need_compiled(m);
    if (st == NNC_OK) nnc__optim_reset(m->optim);
    return st;
}

nnc_status nnc_model_optimizer_state_size(const nnc_model *m, int64_t *n_bytes) {
    nnc_status st = need_compiled(m);
    return st ? st : nnc__optim_state_size(m->optim, n_bytes);
}

nnc_status nnc_model_get_optimizer_state(const nnc_model *m, void *out, int64_t n_bytes) {
    nnc_status st = need_compiled(m);
    return st ? st : nnc__optim_state_export(m->optim, out, n_bytes);
}

nnc_status nnc_model_set_optimizer_state(nnc_model *m, const void *blob, int64_t n_bytes) {
    nnc_status st = need_compiled(m);
    return st ? st : nnc__optim_state_import(m->optim, blob, n_bytes);
}
