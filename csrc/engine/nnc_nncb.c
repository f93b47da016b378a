/*
 * nnc_format.c - the "nncb" binary model format, version 1 (specified in
 * docs/nncb-format.md; nnc/nncb.py is the independent Python reader and
 * writer of the same bytes).
 *
 * Every multi-byte field is little-endian whatever the host: fields are
 * encoded byte by byte, never memcpy'd from host structs. A reader trusts
 * nothing: the declared file size must equal the real one, the CRC-32 must
 * match, every count is range- and overflow-checked before anything is
 * allocated, names must be known, and the model is built through the
 * public constructors, which validate everything again.
 */
#include "nnc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 96u
#define LAYER_BYTES 128u
#define COMPILE_BYTES 256u
#define TRAILER_BYTES 4u
#define NAME_BYTES 24u
#define LOSS_NAME_BYTES 40u
#define OPT_NAME_BYTES 16u
#define MAX_LAYERS 100000u
#define BYTE_ORDER_MARK 0x01020304u

#define FLAG_COMPILED 1u
#define FLAG_OPTIMIZER_STATE 2u

static const unsigned char MAGIC[8] = {0x89, 'N', 'N', 'C', 'B', '\r', '\n', 0x1a};

/* ------------------------------------------------------------ CRC-32 */

/* CRC-32/ISO-HDLC (zlib's crc32), four bits at a time: small constant
 * table, no lazy initialisation to race on. */
static uint32_t crc32_bytes(const unsigned char *p, size_t n) {
    static const uint32_t table[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15u];
        crc = (crc >> 4) ^ table[crc & 15u];
    }
    return crc ^ 0xffffffffu;
}

/* ------------------------------------------------- little-endian fields */

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u64(p, bits);
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static double get_f64(const unsigned char *p) {
    uint64_t bits = get_u64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
/* Signed 64-bit value stored as two's complement. */
static int64_t get_i64(const unsigned char *p) {
    uint64_t u = get_u64(p);
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* A name field: ASCII, NUL-padded to `width` bytes (at least one NUL). */
static void put_name(unsigned char *p, size_t width, const char *name) {
    size_t len = strlen(name);
    memset(p, 0, width);
    memcpy(p, name, len < width - 1 ? len : width - 1);
}

/* Copy a name field into `out` (width bytes) after checking it: [a-z0-9_]
 * characters, then NUL bytes only. */
static nnc_status get_name(const unsigned char *p, size_t width, char *out, const char *what) {
    size_t len = 0;
    while (len < width && p[len] != 0) {
        unsigned char c = p[len];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return nnc__fail(NNC_ERR_FORMAT, "%s name holds an invalid byte 0x%02x", what, c);
        len++;
    }
    if (len == 0 || len == width)
        return nnc__fail(NNC_ERR_FORMAT, "%s name is empty or not NUL-terminated", what);
    for (size_t i = len; i < width; i++)
        if (p[i] != 0) return nnc__fail(NNC_ERR_FORMAT, "%s name has bytes after its end", what);
    memcpy(out, p, width);
    return NNC_OK;
}

/* Re-label the last failure as NNC_ERR_FORMAT: inside a file, a value the
 * constructors reject means a malformed file, not a bad argument. The
 * message is copied first because nnc__fail writes the same buffer. */
static nnc_status as_format_error(const char *context) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", nnc_last_error());
    return nnc__fail(NNC_ERR_FORMAT, "%s%s", context, msg);
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------ layout */

typedef struct {
    size_t layers, compile, params, optimizer, total; /* byte counts */
    size_t params_off, optimizer_off;
} layout;

static nnc_status plan(uint32_t n_layers, int compiled, int64_t n_params, size_t itemsize,
                       uint64_t opt_bytes, layout *out) {
    nnc_status st;
    size_t total = HEADER_BYTES;
    out->layers = (size_t)n_layers * LAYER_BYTES; /* n_layers <= MAX_LAYERS: no overflow */
    out->compile = compiled ? COMPILE_BYTES : 0;
    if (n_params < 1 || n_params > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_FORMAT, "parameter count %lld is out of range",
                         (long long)n_params);
    if ((st = nnc__mul_size((size_t)n_params, itemsize, &out->params, "parameters"))) return st;
    if (opt_bytes > (uint64_t)SIZE_MAX)
        return nnc__fail(NNC_ERR_OVERFLOW, "optimizer state of %llu bytes is too large",
                         (unsigned long long)opt_bytes);
    out->optimizer = (size_t)opt_bytes;
    if ((st = nnc__add_size(total, out->layers, &total, "file size"))) return st;
    if ((st = nnc__add_size(total, out->compile, &total, "file size"))) return st;
    out->params_off = total;
    if ((st = nnc__add_size(total, out->params, &total, "file size"))) return st;
    out->optimizer_off = total;
    if ((st = nnc__add_size(total, out->optimizer, &total, "file size"))) return st;
    if ((st = nnc__add_size(total, TRAILER_BYTES, &total, "file size"))) return st;
    out->total = total;
    return NNC_OK;
}

/* ----------------------------------------------------------- writing */

static nnc_status optimizer_bytes(const nnc_model *m, int64_t *n) {
    *n = 0;
    return m->compiled ? nnc__optim_state_size(m->optim, n) : NNC_OK;
}

nnc_status nnc_model_serialized_size(const nnc_model *model, int64_t *n_bytes) {
    if (!model || !n_bytes) return nnc__fail(NNC_ERR_INVALID_ARG, "model or n_bytes is NULL");
    int64_t opt = 0;
    nnc_status st = optimizer_bytes(model, &opt);
    if (st) return st;
    layout lay;
    st = plan((uint32_t)model->n_layers, model->compiled, model->n_params,
              nnc__dtype_size(model->dtype), (uint64_t)opt, &lay);
    if (st) return st;
    if (lay.total > (size_t)INT64_MAX)
        return nnc__fail(NNC_ERR_OVERFLOW, "the serialized model exceeds 2^63 bytes");
    *n_bytes = (int64_t)lay.total;
    return NNC_OK;
}

static void write_layer(unsigned char *p, const nnc_layer_spec *s) {
    memset(p, 0, LAYER_BYTES);
    put_u64(p + 0, (uint64_t)s->units);
    put_name(p + 8, NAME_BYTES, nnc_activation_name(s->activation));
    put_f64(p + 32, s->input_dropout);
    put_u32(p + 40, (uint32_t)(s->use_bias != 0));
    put_name(p + 48, NAME_BYTES, nnc_init_name(s->kernel_init));
    put_f64(p + 72, s->kernel_init_param);
    put_name(p + 80, NAME_BYTES, nnc_init_name(s->bias_init));
    put_f64(p + 104, s->bias_init_param);
}

static void write_compile(unsigned char *p, const nnc_model *m) {
    const nnc_optimizer_config *c = nnc__optim_config(m->optim);
    memset(p, 0, COMPILE_BYTES);
    put_name(p + 0, LOSS_NAME_BYTES, nnc_loss_name(m->loss));
    put_f64(p + 40, m->l2);
    put_name(p + 48, OPT_NAME_BYTES, nnc_optimizer_name(c->kind));
    const double reals[12] = {c->learning_rate, c->momentum,  c->dampening,
                              c->weight_decay,  c->lr_decay,  c->initial_accumulator_value,
                              c->alpha,         c->beta1,     c->beta2,
                              c->eps,           c->tolerance_grad, c->tolerance_change};
    for (int i = 0; i < 12; i++) put_f64(p + 64 + 8 * i, reals[i]);
    put_u64(p + 160, (uint64_t)c->max_iter);
    put_u64(p + 168, (uint64_t)c->max_eval);
    put_u64(p + 176, (uint64_t)c->history_size);
    put_u32(p + 184, (uint32_t)(c->nesterov != 0));
    put_u32(p + 188, (uint32_t)(c->centered != 0));
    put_u32(p + 192, (uint32_t)(c->amsgrad != 0));
    put_u32(p + 196, (uint32_t)(c->line_search_strong_wolfe != 0));
}

nnc_status nnc_model_serialize(const nnc_model *model, void *out, int64_t n_bytes) {
    if (!model || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "model or out is NULL");
    int64_t opt = 0, need = 0;
    nnc_status st = nnc_model_serialized_size(model, &need);
    if (st) return st;
    if (n_bytes != need)
        return nnc__fail(NNC_ERR_SHAPE, "the serialized model takes %lld bytes, got a buffer of %lld",
                         (long long)need, (long long)n_bytes);
    if ((st = optimizer_bytes(model, &opt))) return st;
    layout lay;
    if ((st = plan((uint32_t)model->n_layers, model->compiled, model->n_params,
                   nnc__dtype_size(model->dtype), (uint64_t)opt, &lay)))
        return st;
    unsigned char *p = out;
    /* The optimizer blob first: it is the only part that can fail. */
    if (opt > 0 && (st = nnc__optim_state_export(model->optim, p + lay.optimizer_off, opt)))
        return st;
    memset(p, 0, HEADER_BYTES);
    memcpy(p, MAGIC, sizeof MAGIC);
    put_u32(p + 8, NNC_FORMAT_VERSION);
    put_u32(p + 12, BYTE_ORDER_MARK);
    put_u32(p + 16, HEADER_BYTES);
    put_u32(p + 20, (uint32_t)model->dtype);
    put_u32(p + 24, (model->compiled ? FLAG_COMPILED : 0u) | (opt > 0 ? FLAG_OPTIMIZER_STATE : 0u));
    put_u32(p + 28, (uint32_t)model->n_layers);
    put_u64(p + 32, (uint64_t)model->input_dim);
    put_u64(p + 40, (uint64_t)model->n_params);
    put_u64(p + 48, model->seed);
    put_u64(p + 56, model->rng.key);
    put_u64(p + 64, model->rng.counter);
    put_u64(p + 72, (uint64_t)opt);
    put_u64(p + 80, (uint64_t)lay.total);
    unsigned char *q = p + HEADER_BYTES;
    for (int i = 0; i < model->n_layers; i++, q += LAYER_BYTES)
        write_layer(q, &model->layers[i].spec);
    if (model->compiled) write_compile(q, model);
    q = p + lay.params_off;
    if (model->dtype == NNC_FLOAT32) {
        const float *w = model->params;
        for (int64_t i = 0; i < model->n_params; i++, q += 4) {
            uint32_t bits;
            memcpy(&bits, &w[i], 4);
            put_u32(q, bits);
        }
    } else {
        const double *w = model->params;
        for (int64_t i = 0; i < model->n_params; i++, q += 8) put_f64(q, w[i]);
    }
    put_u32(p + lay.total - TRAILER_BYTES, crc32_bytes(p, lay.total - TRAILER_BYTES));
    return NNC_OK;
}

/* ----------------------------------------------------------- reading */

static nnc_status read_layer(const unsigned char *p, int i, nnc_layer_spec *s) {
    char name[NAME_BYTES];
    nnc_status st;
    int64_t units = get_i64(p);
    if (units < 1 || units > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: units %lld out of range", i, (long long)units);
    nnc_layer_spec_default(s, units, NNC_ACT_LINEAR);
    if ((st = get_name(p + 8, NAME_BYTES, name, "activation"))) return st;
    if (nnc_activation_from_name(name, &s->activation))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown activation '%s'", i, name);
    s->input_dropout = get_f64(p + 32);
    uint32_t bias = get_u32(p + 40);
    if (bias > 1) return nnc__fail(NNC_ERR_FORMAT, "layer %d: use_bias must be 0 or 1", i);
    s->use_bias = (int)bias;
    if ((st = get_name(p + 48, NAME_BYTES, name, "kernel initializer"))) return st;
    if (nnc_init_from_name(name, &s->kernel_init))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown kernel initializer '%s'", i, name);
    s->kernel_init_param = get_f64(p + 72);
    if ((st = get_name(p + 80, NAME_BYTES, name, "bias initializer"))) return st;
    if (nnc_init_from_name(name, &s->bias_init))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown bias initializer '%s'", i, name);
    s->bias_init_param = get_f64(p + 104);
    if (!all_zero(p + 44, 4) || !all_zero(p + 112, LAYER_BYTES - 112))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: reserved bytes are not zero", i);
    return NNC_OK;
}

static nnc_status read_compile(const unsigned char *p, nnc_model *m) {
    char loss_name[LOSS_NAME_BYTES], opt_name[OPT_NAME_BYTES];
    nnc_loss loss;
    nnc_optimizer_kind kind;
    nnc_status st;
    if ((st = get_name(p, LOSS_NAME_BYTES, loss_name, "loss"))) return st;
    if (nnc_loss_from_name(loss_name, &loss))
        return nnc__fail(NNC_ERR_FORMAT, "unknown loss '%s'", loss_name);
    if ((st = get_name(p + 48, OPT_NAME_BYTES, opt_name, "optimizer"))) return st;
    if (nnc_optimizer_from_name(opt_name, &kind))
        return nnc__fail(NNC_ERR_FORMAT, "unknown optimizer '%s'", opt_name);
    if (!all_zero(p + 200, COMPILE_BYTES - 200))
        return nnc__fail(NNC_ERR_FORMAT, "compile record: reserved bytes are not zero");
    nnc_optimizer_config c;
    nnc_optimizer_config_default(&c, kind);
    double *reals[12] = {&c.learning_rate, &c.momentum,  &c.dampening,
                         &c.weight_decay,  &c.lr_decay,  &c.initial_accumulator_value,
                         &c.alpha,         &c.beta1,     &c.beta2,
                         &c.eps,           &c.tolerance_grad, &c.tolerance_change};
    for (int i = 0; i < 12; i++) {
        *reals[i] = get_f64(p + 64 + 8 * i);
        if (!isfinite(*reals[i]))
            return nnc__fail(NNC_ERR_FORMAT, "optimizer hyper-parameter %d is not finite", i);
    }
    c.max_iter = get_i64(p + 160);
    c.max_eval = get_i64(p + 168);
    c.history_size = get_i64(p + 176);
    uint32_t flags[4];
    for (int i = 0; i < 4; i++) {
        flags[i] = get_u32(p + 184 + 4 * i);
        if (flags[i] > 1) return nnc__fail(NNC_ERR_FORMAT, "optimizer flag %d is not 0 or 1", i);
    }
    c.nesterov = (int)flags[0];
    c.centered = (int)flags[1];
    c.amsgrad = (int)flags[2];
    c.line_search_strong_wolfe = (int)flags[3];
    /* nnc_model_compile validates l2 and every hyper-parameter again. */
    return nnc_model_compile(m, loss, get_f64(p + 40), &c);
}

/* Parameter count the layer sizes imply, overflow-checked. */
static nnc_status count_params(int64_t input_dim, const nnc_layer_spec *specs, uint32_t n,
                               int64_t *out) {
    int64_t total = 0, fan_in = input_dim;
    for (uint32_t i = 0; i < n; i++) {
        size_t w;
        nnc_status st = nnc__mul_size((size_t)fan_in, (size_t)specs[i].units, &w, "weights");
        if (st) return st;
        if (w > (size_t)NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_FORMAT, "layer %u: weight matrix exceeds 2^40 elements", i);
        total += (int64_t)w + (specs[i].use_bias ? specs[i].units : 0) +
                 (specs[i].activation == NNC_ACT_PRELU ? specs[i].units : 0);
        if (total > NNC__MAX_ELEMS)
            return nnc__fail(NNC_ERR_FORMAT, "the model exceeds 2^40 parameters");
        fan_in = specs[i].units;
    }
    *out = total;
    return NNC_OK;
}

/* Check the fixed header against the buffer size; fill what it declares. */
typedef struct {
    nnc_dtype dtype;
    uint32_t flags, n_layers;
    int64_t input_dim, n_params;
    uint64_t seed, rng[2], opt_bytes, total;
} header;

static nnc_status read_header(const unsigned char *p, uint64_t n_bytes, header *h) {
    if (n_bytes < HEADER_BYTES + TRAILER_BYTES || memcmp(p, MAGIC, sizeof MAGIC) != 0)
        return nnc__fail(NNC_ERR_FORMAT, "not an nncb model (bad magic bytes)");
    uint32_t version = get_u32(p + 8);
    if (version != NNC_FORMAT_VERSION)
        return nnc__fail(NNC_ERR_FORMAT, "unsupported nncb version %u (this reader knows %d)",
                         version, NNC_FORMAT_VERSION);
    if (get_u32(p + 12) != BYTE_ORDER_MARK)
        return nnc__fail(NNC_ERR_FORMAT, "bad byte-order mark (not little-endian nncb)");
    if (get_u32(p + 16) != HEADER_BYTES)
        return nnc__fail(NNC_ERR_FORMAT, "bad header size %u", get_u32(p + 16));
    uint32_t dtype = get_u32(p + 20);
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_FORMAT, "unknown dtype code %u", dtype);
    h->dtype = (nnc_dtype)dtype;
    h->flags = get_u32(p + 24);
    if (h->flags & ~(FLAG_COMPILED | FLAG_OPTIMIZER_STATE))
        return nnc__fail(NNC_ERR_FORMAT, "unknown flags 0x%x", h->flags);
    if ((h->flags & FLAG_OPTIMIZER_STATE) && !(h->flags & FLAG_COMPILED))
        return nnc__fail(NNC_ERR_FORMAT, "optimizer state without compile settings");
    h->n_layers = get_u32(p + 28);
    if (h->n_layers < 1 || h->n_layers > MAX_LAYERS)
        return nnc__fail(NNC_ERR_FORMAT, "layer count %u out of range [1, %u]", h->n_layers,
                         MAX_LAYERS);
    h->input_dim = get_i64(p + 32);
    if (h->input_dim < 1 || h->input_dim > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_FORMAT, "input_dim %lld out of range", (long long)h->input_dim);
    h->n_params = get_i64(p + 40);
    h->seed = get_u64(p + 48);
    h->rng[0] = get_u64(p + 56);
    h->rng[1] = get_u64(p + 64);
    h->opt_bytes = get_u64(p + 72);
    if ((h->opt_bytes > 0) != ((h->flags & FLAG_OPTIMIZER_STATE) != 0))
        return nnc__fail(NNC_ERR_FORMAT, "optimizer state size disagrees with the flags");
    h->total = get_u64(p + 80);
    if (!all_zero(p + 88, HEADER_BYTES - 88))
        return nnc__fail(NNC_ERR_FORMAT, "header: reserved bytes are not zero");
    if (h->total != n_bytes)
        return nnc__fail(NNC_ERR_FORMAT, "the header declares %llu bytes, the data has %llu",
                         (unsigned long long)h->total, (unsigned long long)n_bytes);
    return NNC_OK;
}

nnc_status nnc_model_deserialize(const void *data, int64_t n_bytes, nnc_model **out) {
    if (!data || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "data or out is NULL");
    *out = NULL;
    if (n_bytes < 0) return nnc__fail(NNC_ERR_INVALID_ARG, "n_bytes is negative");
    const unsigned char *p = data;
    header h;
    nnc_status st = read_header(p, (uint64_t)n_bytes, &h);
    if (st) return st;
    layout lay;
    if ((st = plan(h.n_layers, (h.flags & FLAG_COMPILED) != 0, h.n_params,
                   nnc__dtype_size(h.dtype), h.opt_bytes, &lay)))
        return st == NNC_ERR_OVERFLOW ? as_format_error("") : st;
    if (lay.total != (uint64_t)n_bytes)
        return nnc__fail(NNC_ERR_FORMAT, "section sizes add up to %zu bytes, the data has %lld",
                         lay.total, (long long)n_bytes);
    uint32_t crc = get_u32(p + lay.total - TRAILER_BYTES);
    if (crc != crc32_bytes(p, lay.total - TRAILER_BYTES))
        return nnc__fail(NNC_ERR_FORMAT, "checksum mismatch (the data is corrupt)");

    nnc_layer_spec *specs = malloc(h.n_layers * sizeof *specs);
    if (!specs) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %u layer specs", h.n_layers);
    for (uint32_t i = 0; st == NNC_OK && i < h.n_layers; i++)
        st = read_layer(p + HEADER_BYTES + i * LAYER_BYTES, (int)i, &specs[i]);
    int64_t implied = 0;
    if (st == NNC_OK) st = count_params(h.input_dim, specs, h.n_layers, &implied);
    if (st == NNC_OK && implied != h.n_params)
        st = nnc__fail(NNC_ERR_FORMAT, "the layers imply %lld parameters, the header says %lld",
                       (long long)implied, (long long)h.n_params);
    nnc_model *m = NULL;
    if (st == NNC_OK) {
        st = nnc_model_create(h.dtype, h.input_dim, (int)h.n_layers, specs, h.seed, &m);
        if (st == NNC_ERR_INVALID_ARG) st = as_format_error("invalid layer: ");
    }
    free(specs);
    if (st == NNC_OK) {
        const unsigned char *q = p + lay.params_off;
        if (h.dtype == NNC_FLOAT32) {
            float *w = m->params;
            for (int64_t i = 0; i < m->n_params; i++, q += 4) {
                uint32_t bits = get_u32(q);
                memcpy(&w[i], &bits, 4);
            }
        } else {
            double *w = m->params;
            for (int64_t i = 0; i < m->n_params; i++, q += 8) w[i] = get_f64(q);
        }
        int finite = 0;
        nnc_all_finite(m->dtype, m->params, m->n_params, &finite);
        if (!finite) st = nnc__fail(NNC_ERR_FORMAT, "the parameters contain NaN or infinity");
    }
    if (st == NNC_OK) {
        m->rng.key = h.rng[0];
        m->rng.counter = h.rng[1];
        if (h.flags & FLAG_COMPILED)
            st = read_compile(p + HEADER_BYTES + lay.layers, m);
        if (st == NNC_ERR_INVALID_ARG || st == NNC_ERR_UNSUPPORTED)
            st = as_format_error("invalid compile settings: ");
    }
    if (st == NNC_OK && h.opt_bytes > 0) {
        st = nnc_model_set_optimizer_state(m, p + lay.optimizer_off, (int64_t)h.opt_bytes);
        if (st != NNC_OK && st != NNC_ERR_NOMEM)
            st = as_format_error("invalid optimizer state: ");
    }
    if (st != NNC_OK) {
        nnc_model_destroy(m);
        return st;
    }
    *out = m;
    return NNC_OK;
}

/* -------------------------------------------------------------- files */

nnc_status nnc_model_save(const nnc_model *model, const char *path) {
    if (!model || !path) return nnc__fail(NNC_ERR_INVALID_ARG, "model or path is NULL");
    int64_t n = 0;
    nnc_status st = nnc_model_serialized_size(model, &n);
    if (st) return st;
    unsigned char *buf = malloc((size_t)n);
    if (!buf) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %lld bytes", (long long)n);
    st = nnc_model_serialize(model, buf, n);
    size_t plen = strlen(path);
    char *tmp = st == NNC_OK ? malloc(plen + 5) : NULL;
    if (st == NNC_OK && !tmp) st = nnc__fail(NNC_ERR_NOMEM, "cannot allocate a file name");
    if (st == NNC_OK) {
        /* Write next to the target, then rename over it: readers never see
         * a half-written model. */
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp", 5);
        FILE *f = fopen(tmp, "wb");
        if (!f) {
            st = nnc__fail(NNC_ERR_IO, "cannot open '%s' for writing", tmp);
        } else {
            int ok = fwrite(buf, 1, (size_t)n, f) == (size_t)n;
            ok = fflush(f) == 0 && ok;
            ok = fclose(f) == 0 && ok;
            if (!ok || rename(tmp, path) != 0) {
                remove(tmp);
                st = nnc__fail(NNC_ERR_IO, "cannot write '%s'", path);
            }
        }
    }
    free(tmp);
    free(buf);
    return st;
}

nnc_status nnc_model_load(const char *path, nnc_model **out) {
    if (!path || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "path or out is NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return nnc__fail(NNC_ERR_IO, "cannot open '%s'", path);
    unsigned char head[HEADER_BYTES];
    nnc_status st = NNC_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        st = nnc__fail(NNC_ERR_IO, "cannot determine the size of '%s'", path);
    /* The header's declared size must match the file before the whole file
     * is read: nothing is allocated beyond what is really on disk. */
    if (st == NNC_OK && (size < (long)(HEADER_BYTES + TRAILER_BYTES) ||
                         fread(head, 1, HEADER_BYTES, f) != HEADER_BYTES))
        st = nnc__fail(NNC_ERR_FORMAT, "'%s' is too short to be an nncb model", path);
    header h;
    if (st == NNC_OK) st = read_header(head, (uint64_t)size, &h);
    unsigned char *buf = NULL;
    if (st == NNC_OK && (uint64_t)size > (uint64_t)SIZE_MAX)
        st = nnc__fail(NNC_ERR_OVERFLOW, "'%s' does not fit in memory", path);
    if (st == NNC_OK && !(buf = malloc((size_t)size)))
        st = nnc__fail(NNC_ERR_NOMEM, "cannot allocate %ld bytes for '%s'", size, path);
    if (st == NNC_OK) {
        memcpy(buf, head, HEADER_BYTES);
        size_t rest = (size_t)size - HEADER_BYTES;
        if (fread(buf + HEADER_BYTES, 1, rest, f) != rest)
            st = nnc__fail(NNC_ERR_IO, "cannot read '%s'", path);
    }
    fclose(f);
    if (st == NNC_OK) st = nnc_model_deserialize(buf, (int64_t)size, out);
    free(buf);
    return st;
}
