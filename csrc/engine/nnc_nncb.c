/*
 * nnc_nncb.c - the "nncb" binary model format, versions 1 and 2 (specified in
 * docs/nncb-format.md; nnc/nncb.py is the independent Python reader and
 * writer of the same bytes).
 *
 * Sections are written and read in order through the cursors of
 * nnc_bytes.h (little-endian whatever the host). A reader trusts nothing:
 * the declared file size must equal the real one, the CRC-32 must match,
 * every count is range- and overflow-checked before anything is
 * allocated, names must be known, and the model is built through the
 * public constructors, which validate everything again.
 */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* open, fdopen, fileno, fstat under -std=c11 */
#endif

#include "nnc_bytes.h"
#include "nnc_internal.h"
#include "nnc_optim_fields.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* Section and field sizes (docs/nncb-format.md). */
#define HEADER_BYTES 96u
#define LAYER_BYTES 128u
#define COMPILE_BYTES 256u
#define SCHEDULE_BYTES 640u
#define SCHEDULE_NAME_BYTES 24u
#define TRAILER_BYTES 4u
#define NAME_BYTES 24u
#define LOSS_NAME_BYTES 40u
#define OPT_NAME_BYTES 16u
#define LAYER_GAP_BYTES 4u /* reserved, after use_bias: the next name starts 8-aligned */
#define MAX_LAYERS 100000u
#define BYTE_ORDER_MARK 0x01020304u

#define FLAG_COMPILED 1u
#define FLAG_OPTIMIZER_STATE 2u
#define FLAG_SCHEDULE 4u /* version 2: a schedule record follows the compile record */

static const char MAGIC[] = NNC_FORMAT_MAGIC; /* 8 bytes and a NUL */

/* Re-label the last failure as NNC_ERR_FORMAT: inside a file, a value the
 * constructors reject means a malformed file, not a bad argument. The
 * message is copied first because nnc__fail writes the same buffer. */
static nnc_status as_format_error(const char *context) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", nnc_last_error());
    return nnc__fail(NNC_ERR_FORMAT, "%s%s", context, msg);
}

/* ------------------------------------------------------------ layout */

typedef struct {
    size_t layers, compile, schedule, params, optimizer, total; /* byte counts */
} layout;

static nnc_status plan(uint32_t n_layers, int compiled, int scheduled, int64_t n_params,
                       size_t itemsize, uint64_t opt_bytes, layout *out) {
    nnc_status st;
    size_t total = HEADER_BYTES;
    out->layers = (size_t)n_layers * LAYER_BYTES; /* n_layers <= MAX_LAYERS: no overflow */
    out->compile = compiled ? COMPILE_BYTES : 0;
    out->schedule = scheduled ? SCHEDULE_BYTES : 0;
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
    if ((st = nnc__add_size(total, out->schedule, &total, "file size"))) return st;
    if ((st = nnc__add_size(total, out->params, &total, "file size"))) return st;
    if ((st = nnc__add_size(total, out->optimizer, &total, "file size"))) return st;
    if ((st = nnc__add_size(total, TRAILER_BYTES, &total, "file size"))) return st;
    out->total = total;
    return NNC_OK;
}

/* --------------------------------------------------- the compile record */

/* The optimizer's fields follow its field table (nnc_optim_fields.h) in
 * the table's order, each encoded by its type: REAL as f64, INT as i64,
 * FLAG as u32. The table lists the reals, then the integers, then the
 * flags, which is the record's layout; a field added to the table is
 * written and read with no change here. */
#define PUT_REAL(w, v) nnc__put_f64((w), (v))
#define PUT_INT(w, v) nnc__put_i64((w), (v))
#define PUT_FLAG(w, v) nnc__put_u32((w), (uint32_t)((v) != 0))

/* Fields of each type read so far: the messages number them. */
typedef struct {
    int reals, flags;
} field_counts;

static nnc_status get_real_field(nnc__reader *r, double *v, field_counts *n) {
    NNC__TRY(nnc__get_f64(r, v));
    if (!isfinite(*v))
        return nnc__fail(NNC_ERR_FORMAT, "optimizer hyper-parameter %d is not finite", n->reals);
    n->reals++;
    return NNC_OK;
}

static nnc_status get_int_field(nnc__reader *r, int64_t *v, field_counts *n) {
    (void)n;
    return nnc__get_i64(r, v);
}

static nnc_status get_flag_field(nnc__reader *r, int *v, field_counts *n) {
    uint32_t raw;
    NNC__TRY(nnc__get_u32(r, &raw));
    if (raw > 1) return nnc__fail(NNC_ERR_FORMAT, "optimizer flag %d is not 0 or 1", n->flags);
    *v = (int)raw;
    n->flags++;
    return NNC_OK;
}

#define GET_REAL get_real_field
#define GET_INT get_int_field
#define GET_FLAG get_flag_field

static void write_compile(nnc__writer *w, const nnc_model *m) {
    const size_t start = w->pos;
    const nnc_optimizer_config *c = nnc__optim_config(m->optim);
    nnc__put_name(w, LOSS_NAME_BYTES, nnc_loss_name(m->loss));
    nnc__put_f64(w, m->l2);
    nnc__put_name(w, OPT_NAME_BYTES, nnc_optimizer_name(c->kind));
#define X(name, type, ...) PUT_##type(w, c->name);
    NNC__OPTIMIZER_FIELDS(X)
#undef X
    nnc__put_zeros_to(w, start + COMPILE_BYTES);
}

/* The compile settings of a file, applied once the model exists. */
typedef struct {
    nnc_loss loss;
    double l2;
    nnc_optimizer_config cfg;
} compile_record;

static nnc_status read_compile(nnc__reader *r, uint32_t version, compile_record *rec) {
    const size_t start = r->pos;
    char loss_name[LOSS_NAME_BYTES], opt_name[OPT_NAME_BYTES];
    nnc_optimizer_kind kind;
    NNC__TRY(nnc__get_name(r, LOSS_NAME_BYTES, loss_name, "loss"));
    if (nnc_loss_from_name(loss_name, &rec->loss))
        return nnc__fail(NNC_ERR_FORMAT, "unknown loss '%s'", loss_name);
    NNC__TRY(nnc__get_f64(r, &rec->l2)); /* nnc_model_compile checks it */
    NNC__TRY(nnc__get_name(r, OPT_NAME_BYTES, opt_name, "optimizer"));
    if (nnc_optimizer_from_name(opt_name, &kind))
        return nnc__fail(NNC_ERR_FORMAT, "unknown optimizer '%s'", opt_name);
    nnc_optimizer_config_default(&rec->cfg, kind);
    field_counts n = {0, 0};
#define X(name, type, ...) NNC__TRY(GET_##type(r, &rec->cfg.name, &n));
    NNC__OPTIMIZER_FIELDS(X)
#undef X
    int zero;
    NNC__TRY(nnc__get_zeros_to(r, start + COMPILE_BYTES, &zero));
    if (!zero) return nnc__fail(NNC_ERR_FORMAT, "compile record: reserved bytes are not zero");
    const nnc_optimizer_config *c = &rec->cfg;
    if (version < 2 && (c->clipnorm != 0 || c->global_clipnorm != 0 || c->clipvalue != 0))
        return nnc__fail(NNC_ERR_FORMAT, "compile record: reserved bytes are not zero");
    /* nnc_model_compile validates l2 and every hyper-parameter again. */
    return NNC_OK;
}

/* -------------------------------------------------- the schedule record */

/* Version 2: the learning-rate schedule (nnc_schedule): its name, the
 * point count, then every param, point and value as f64, zero-padded. */
static void write_schedule(nnc__writer *w, const nnc_schedule *s) {
    const size_t start = w->pos;
    nnc__put_name(w, SCHEDULE_NAME_BYTES, nnc_schedule_name(s->kind));
    nnc__put_u32(w, (uint32_t)s->n_points);
    nnc__put_u32(w, 0u);
    for (int i = 0; i < NNC_SCHEDULE_PARAMS; i++) nnc__put_f64(w, s->param[i]);
    for (int i = 0; i < NNC_SCHEDULE_MAX_POINTS; i++) nnc__put_f64(w, s->points[i]);
    for (int i = 0; i <= NNC_SCHEDULE_MAX_POINTS; i++) nnc__put_f64(w, s->values[i]);
    nnc__put_zeros_to(w, start + SCHEDULE_BYTES);
}

static nnc_status read_schedule(nnc__reader *r, nnc_schedule *s) {
    const size_t start = r->pos;
    char name[SCHEDULE_NAME_BYTES];
    uint32_t n_points, reserved;
    int zero;
    NNC__TRY(nnc__get_name(r, SCHEDULE_NAME_BYTES, name, "schedule"));
    if (nnc_schedule_from_name(name, &s->kind) || s->kind == NNC_SCHEDULE_CONSTANT)
        return nnc__fail(NNC_ERR_FORMAT, "unknown learning-rate schedule '%s'", name);
    NNC__TRY(nnc__get_u32(r, &n_points));
    NNC__TRY(nnc__get_u32(r, &reserved));
    if (n_points > NNC_SCHEDULE_MAX_POINTS || reserved != 0)
        return nnc__fail(NNC_ERR_FORMAT, "schedule record: bad point count %u", n_points);
    s->n_points = (int)n_points;
    for (int i = 0; i < NNC_SCHEDULE_PARAMS; i++) NNC__TRY(nnc__get_f64(r, &s->param[i]));
    for (int i = 0; i < NNC_SCHEDULE_MAX_POINTS; i++) NNC__TRY(nnc__get_f64(r, &s->points[i]));
    for (int i = 0; i <= NNC_SCHEDULE_MAX_POINTS; i++) NNC__TRY(nnc__get_f64(r, &s->values[i]));
    NNC__TRY(nnc__get_zeros_to(r, start + SCHEDULE_BYTES, &zero));
    if (!zero) return nnc__fail(NNC_ERR_FORMAT, "schedule record: reserved bytes are not zero");
    /* nnc_model_compile validates the schedule (nnc_schedule_validate). */
    return NNC_OK;
}

/* ----------------------------------------------------------- writing */

static int scheduled(const nnc_model *m) {
    return m->compiled && nnc__optim_config(m->optim)->schedule.kind != NNC_SCHEDULE_CONSTANT;
}

/* Version 2 is written only when the model needs it (a schedule, or
 * clipping, whose fields version 1 keeps reserved), so that every other
 * file still reads with a version-1 reader. */
static uint32_t version_needed(const nnc_model *m) {
    const nnc_optimizer_config *c = m->compiled ? nnc__optim_config(m->optim) : NULL;
    const int clips = c && (c->clipnorm != 0 || c->global_clipnorm != 0 || c->clipvalue != 0);
    return scheduled(m) || clips ? 2u : 1u;
}

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
    st = plan((uint32_t)model->n_layers, model->compiled, scheduled(model), model->n_params,
              nnc__dtype_size(model->dtype), (uint64_t)opt, &lay);
    if (st) return st;
    if (lay.total > (size_t)INT64_MAX)
        return nnc__fail(NNC_ERR_OVERFLOW, "the serialized model exceeds 2^63 bytes");
    *n_bytes = (int64_t)lay.total;
    return NNC_OK;
}

static void write_header(nnc__writer *w, const nnc_model *m, int64_t opt, int64_t total) {
    const size_t start = w->pos;
    nnc__put_bytes(w, MAGIC, sizeof MAGIC - 1);
    nnc__put_u32(w, version_needed(m));
    nnc__put_u32(w, BYTE_ORDER_MARK);
    nnc__put_u32(w, HEADER_BYTES);
    nnc__put_u32(w, (uint32_t)m->dtype);
    nnc__put_u32(w, (m->compiled ? FLAG_COMPILED : 0u) | (opt > 0 ? FLAG_OPTIMIZER_STATE : 0u) |
                        (scheduled(m) ? FLAG_SCHEDULE : 0u));
    nnc__put_u32(w, (uint32_t)m->n_layers);
    nnc__put_i64(w, m->input_dim);
    nnc__put_i64(w, m->n_params);
    nnc__put_u64(w, m->seed);
    nnc__put_u64(w, m->rng.key);
    nnc__put_u64(w, m->rng.counter);
    nnc__put_u64(w, (uint64_t)opt);
    nnc__put_u64(w, (uint64_t)total);
    nnc__put_zeros_to(w, start + HEADER_BYTES);
}

static void write_layer(nnc__writer *w, const nnc_layer_spec *s) {
    const size_t start = w->pos;
    nnc__put_i64(w, s->units);
    nnc__put_name(w, NAME_BYTES, nnc_activation_name(s->activation));
    nnc__put_f64(w, s->input_dropout);
    nnc__put_u32(w, (uint32_t)(s->use_bias != 0));
    nnc__put_zeros(w, LAYER_GAP_BYTES);
    nnc__put_name(w, NAME_BYTES, nnc_init_name(s->kernel_init));
    nnc__put_f64(w, s->kernel_init_param);
    nnc__put_name(w, NAME_BYTES, nnc_init_name(s->bias_init));
    nnc__put_f64(w, s->bias_init_param);
    nnc__put_zeros_to(w, start + LAYER_BYTES);
}

nnc_status nnc_model_serialize(const nnc_model *model, void *out, int64_t n_bytes) {
    if (!model || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "model or out is NULL");
    int64_t opt = 0, need = 0;
    nnc_status st = nnc_model_serialized_size(model, &need);
    if (st) return st;
    if (n_bytes != need)
        return nnc__fail(NNC_ERR_SHAPE,
                         "the serialized model takes %lld bytes, got a buffer of %lld",
                         (long long)need, (long long)n_bytes);
    if ((st = optimizer_bytes(model, &opt))) return st;
    nnc__writer w = nnc__writer_at(out, (size_t)need);
    write_header(&w, model, opt, need);
    for (int i = 0; i < model->n_layers; i++) write_layer(&w, &model->layers[i].spec);
    if (model->compiled) write_compile(&w, model);
    if (scheduled(model)) write_schedule(&w, &nnc__optim_config(model->optim)->schedule);
    nnc__put_reals(&w, model->dtype, model->params, model->n_params);
    if (opt > 0) {
        /* Sized from the same state just above: the export cannot fail. */
        unsigned char *blob = nnc__put_view(&w, (size_t)opt);
        if (blob && (st = nnc__optim_state_export(model->optim, blob, opt))) return st;
    }
    nnc__put_u32(&w, nnc__crc32(w.p, w.pos));
    return nnc__writer_end(&w);
}

/* ----------------------------------------------------------- reading */

static nnc_status read_layer(nnc__reader *r, int i, nnc_layer_spec *s) {
    const size_t start = r->pos;
    char name[NAME_BYTES];
    int64_t units;
    uint32_t bias;
    int gap_zero, end_zero;
    NNC__TRY(nnc__get_i64(r, &units));
    if (units < 1 || units > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: units %lld out of range", i, (long long)units);
    nnc_layer_spec_default(s, units, NNC_ACT_LINEAR);
    NNC__TRY(nnc__get_name(r, NAME_BYTES, name, "activation"));
    if (nnc_activation_from_name(name, &s->activation))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown activation '%s'", i, name);
    NNC__TRY(nnc__get_f64(r, &s->input_dropout));
    NNC__TRY(nnc__get_u32(r, &bias));
    if (bias > 1) return nnc__fail(NNC_ERR_FORMAT, "layer %d: use_bias must be 0 or 1", i);
    s->use_bias = (int)bias;
    NNC__TRY(nnc__get_zeros(r, LAYER_GAP_BYTES, &gap_zero));
    NNC__TRY(nnc__get_name(r, NAME_BYTES, name, "kernel initializer"));
    if (nnc_init_from_name(name, &s->kernel_init))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown kernel initializer '%s'", i, name);
    NNC__TRY(nnc__get_f64(r, &s->kernel_init_param));
    NNC__TRY(nnc__get_name(r, NAME_BYTES, name, "bias initializer"));
    if (nnc_init_from_name(name, &s->bias_init))
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: unknown bias initializer '%s'", i, name);
    NNC__TRY(nnc__get_f64(r, &s->bias_init_param));
    NNC__TRY(nnc__get_zeros_to(r, start + LAYER_BYTES, &end_zero));
    if (!gap_zero || !end_zero)
        return nnc__fail(NNC_ERR_FORMAT, "layer %d: reserved bytes are not zero", i);
    return NNC_OK;
}

/* What the fixed header declares. */
typedef struct {
    nnc_dtype dtype;
    uint32_t version, flags, n_layers;
    int64_t input_dim, n_params;
    uint64_t seed, rng[2], opt_bytes, total;
} header;

/* Read and check the header against the data's real size, n_bytes. */
static nnc_status read_header(nnc__reader *r, uint64_t n_bytes, header *h) {
    const size_t start = r->pos;
    unsigned char magic[sizeof MAGIC - 1];
    uint32_t version, mark, header_bytes, dtype;
    int zero;
    if (n_bytes < HEADER_BYTES + TRAILER_BYTES || nnc__get_bytes(r, magic, sizeof magic) ||
        memcmp(magic, MAGIC, sizeof magic) != 0)
        return nnc__fail(NNC_ERR_FORMAT, "not an nncb model (bad magic bytes)");
    NNC__TRY(nnc__get_u32(r, &version));
    h->version = version;
    if (version < 1 || version > NNC_FORMAT_VERSION)
        return nnc__fail(NNC_ERR_FORMAT, "unsupported nncb version %u (this reader knows 1 to %d)",
                         version, NNC_FORMAT_VERSION);
    NNC__TRY(nnc__get_u32(r, &mark));
    if (mark != BYTE_ORDER_MARK)
        return nnc__fail(NNC_ERR_FORMAT, "bad byte-order mark (not little-endian nncb)");
    NNC__TRY(nnc__get_u32(r, &header_bytes));
    if (header_bytes != HEADER_BYTES)
        return nnc__fail(NNC_ERR_FORMAT, "bad header size %u", header_bytes);
    NNC__TRY(nnc__get_u32(r, &dtype));
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_FORMAT, "unknown dtype code %u", dtype);
    h->dtype = (nnc_dtype)dtype;
    NNC__TRY(nnc__get_u32(r, &h->flags));
    const uint32_t known = FLAG_COMPILED | FLAG_OPTIMIZER_STATE | (version >= 2 ? FLAG_SCHEDULE : 0u);
    if (h->flags & ~known)
        return nnc__fail(NNC_ERR_FORMAT, "unknown flags 0x%x", h->flags);
    if ((h->flags & FLAG_SCHEDULE) && !(h->flags & FLAG_COMPILED))
        return nnc__fail(NNC_ERR_FORMAT, "a schedule without compile settings");
    if ((h->flags & FLAG_OPTIMIZER_STATE) && !(h->flags & FLAG_COMPILED))
        return nnc__fail(NNC_ERR_FORMAT, "optimizer state without compile settings");
    NNC__TRY(nnc__get_u32(r, &h->n_layers));
    if (h->n_layers < 1 || h->n_layers > MAX_LAYERS)
        return nnc__fail(NNC_ERR_FORMAT, "layer count %u out of range [1, %u]", h->n_layers,
                         MAX_LAYERS);
    NNC__TRY(nnc__get_i64(r, &h->input_dim));
    if (h->input_dim < 1 || h->input_dim > NNC__MAX_ELEMS)
        return nnc__fail(NNC_ERR_FORMAT, "input_dim %lld out of range", (long long)h->input_dim);
    NNC__TRY(nnc__get_i64(r, &h->n_params)); /* plan checks its range */
    NNC__TRY(nnc__get_u64(r, &h->seed));
    NNC__TRY(nnc__get_u64(r, &h->rng[0]));
    NNC__TRY(nnc__get_u64(r, &h->rng[1]));
    NNC__TRY(nnc__get_u64(r, &h->opt_bytes));
    if ((h->opt_bytes > 0) != ((h->flags & FLAG_OPTIMIZER_STATE) != 0))
        return nnc__fail(NNC_ERR_FORMAT, "optimizer state size disagrees with the flags");
    NNC__TRY(nnc__get_u64(r, &h->total));
    NNC__TRY(nnc__get_zeros_to(r, start + HEADER_BYTES, &zero));
    if (!zero) return nnc__fail(NNC_ERR_FORMAT, "header: reserved bytes are not zero");
    if (h->total != n_bytes)
        return nnc__fail(NNC_ERR_FORMAT, "the header declares %llu bytes, the data has %llu",
                         (unsigned long long)h->total, (unsigned long long)n_bytes);
    return NNC_OK;
}

/* The trailer against the CRC-32 of everything before it. */
static nnc_status check_crc(const unsigned char *p, size_t total) {
    nnc__reader trailer = nnc__reader_at(p + total - TRAILER_BYTES, TRAILER_BYTES, "nncb model");
    uint32_t crc;
    NNC__TRY(nnc__get_u32(&trailer, &crc));
    if (crc != nnc__crc32(p, total - TRAILER_BYTES))
        return nnc__fail(NNC_ERR_FORMAT, "checksum mismatch (the data is corrupt)");
    return NNC_OK;
}

/* The model of the file's layer records, or NNC_ERR_FORMAT. */
static nnc_status read_layers(nnc__reader *r, const header *h, nnc_model **out) {
    nnc_layer_spec *specs = malloc(h->n_layers * sizeof *specs);
    if (!specs) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %u layer specs", h->n_layers);
    nnc_status st = NNC_OK;
    for (uint32_t i = 0; st == NNC_OK && i < h->n_layers; i++)
        st = read_layer(r, (int)i, &specs[i]);
    int64_t implied = 0;
    if (st == NNC_OK) {
        st = nnc_model_count_params(h->input_dim, (int)h->n_layers, specs, &implied);
        if (st == NNC_ERR_INVALID_ARG || st == NNC_ERR_OVERFLOW) st = as_format_error("invalid layer: ");
    }
    if (st == NNC_OK && implied != h->n_params)
        st = nnc__fail(NNC_ERR_FORMAT, "the layers imply %lld parameters, the header says %lld",
                       (long long)implied, (long long)h->n_params);
    if (st == NNC_OK) {
        st = nnc_model_create(h->dtype, h->input_dim, (int)h->n_layers, specs, h->seed, out);
        if (st == NNC_ERR_INVALID_ARG) st = as_format_error("invalid layer: ");
    }
    free(specs);
    return st;
}

nnc_status nnc_model_deserialize(const void *data, int64_t n_bytes, nnc_model **out) {
    if (!data || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "data or out is NULL");
    *out = NULL;
    if (n_bytes < 0) return nnc__fail(NNC_ERR_INVALID_ARG, "n_bytes is negative");
    nnc__reader r = nnc__reader_at(data, (size_t)n_bytes, "nncb model");
    header h;
    nnc_status st = read_header(&r, (uint64_t)n_bytes, &h);
    if (st) return st;
    const int compiled = (h.flags & FLAG_COMPILED) != 0;
    const int has_schedule = (h.flags & FLAG_SCHEDULE) != 0;
    layout lay;
    if ((st = plan(h.n_layers, compiled, has_schedule, h.n_params, nnc__dtype_size(h.dtype),
                   h.opt_bytes, &lay)))
        return st == NNC_ERR_OVERFLOW ? as_format_error("") : st;
    if (lay.total != (uint64_t)n_bytes)
        return nnc__fail(NNC_ERR_FORMAT, "section sizes add up to %zu bytes, the data has %lld",
                         lay.total, (long long)n_bytes);
    if ((st = check_crc(data, lay.total))) return st;

    nnc_model *m = NULL;
    compile_record rec;
    st = read_layers(&r, &h, &m);
    if (st == NNC_OK && compiled) st = read_compile(&r, h.version, &rec);
    if (st == NNC_OK && has_schedule) st = read_schedule(&r, &rec.cfg.schedule);
    if (st == NNC_OK) {
        st = nnc__get_reals(&r, h.dtype, m->params, m->n_params);
        int finite = 0;
        if (st == NNC_OK) nnc_all_finite(m->dtype, m->params, m->n_params, &finite);
        if (st == NNC_OK && !finite)
            st = nnc__fail(NNC_ERR_FORMAT, "the parameters contain NaN or infinity");
    }
    if (st == NNC_OK) {
        m->rng.key = h.rng[0];
        m->rng.counter = h.rng[1];
        if (compiled) st = nnc_model_compile(m, rec.loss, rec.l2, &rec.cfg);
        if (st == NNC_ERR_INVALID_ARG || st == NNC_ERR_UNSUPPORTED)
            st = as_format_error("invalid compile settings: ");
    }
    if (st == NNC_OK && h.opt_bytes > 0) {
        const unsigned char *blob = NULL;
        st = nnc__get_view(&r, (size_t)h.opt_bytes, &blob);
        if (st == NNC_OK) st = nnc_model_set_optimizer_state(m, blob, (int64_t)h.opt_bytes);
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

/* The errno of the stdio call that just failed (set to 0 before it), or
 * EIO when it set none (a short read at an unexpected end of file). Save
 * and load return NNC_ERR_IO with errno at this value (nnc.h). */
static int failed_errno(void) { return errno ? errno : EIO; }

nnc_status nnc_model_save(const nnc_model *model, const char *path) {
    if (!model || !path) return nnc__fail(NNC_ERR_INVALID_ARG, "model or path is NULL");
    int64_t n = 0;
    nnc_status st = nnc_model_serialized_size(model, &n);
    if (st) return st;
    unsigned char *buf = malloc((size_t)n);
    if (!buf) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %lld bytes", (long long)n);
    st = nnc_model_serialize(model, buf, n);
    if (st == NNC_OK) st = nnc__write_file(path, buf, (size_t)n);
    const int err = errno;
    free(buf);
    errno = err;
    return st;
}

nnc_status nnc_model_load(const char *path, nnc_model **out) {
    if (!path || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "path or out is NULL");
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
     * below; on a regular file the flag changes nothing). */
    errno = 0;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f && fd >= 0) {
        const int err = errno;
        close(fd);
        errno = err;
    }
    if (!f) {
        const int err = failed_errno();
        nnc_status st = nnc__fail(NNC_ERR_IO, "cannot open '%s'", path);
        errno = err;
        return st;
    }
    unsigned char head[HEADER_BYTES];
    nnc_status st = NNC_OK;
    int err = 0;
    long size = -1;
    /* Only a regular file has a size to check before reading: a device,
     * FIFO or socket could stream without end. */
    struct stat info;
    if (fstat(fileno(f), &info) != 0) {
        err = failed_errno();
        st = nnc__fail(NNC_ERR_IO, "cannot read '%s'", path);
    } else if (!S_ISREG(info.st_mode)) {
        err = S_ISDIR(info.st_mode) ? EISDIR : EINVAL;
        st = nnc__fail(NNC_ERR_IO, "cannot load '%s': not a regular file", path);
    }
    errno = 0;
    if (st == NNC_OK &&
        (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)) {
        err = failed_errno();
        st = nnc__fail(NNC_ERR_IO, "cannot determine the size of '%s'", path);
    }
    /* The header's declared size must match the file before the whole file
     * is read: nothing is allocated beyond what is really on disk. */
    if (st == NNC_OK && size < (long)(HEADER_BYTES + TRAILER_BYTES))
        st = nnc__fail(NNC_ERR_FORMAT, "'%s' is too short to be an nncb model", path);
    errno = 0;
    if (st == NNC_OK && fread(head, 1, HEADER_BYTES, f) != HEADER_BYTES) {
        err = failed_errno(); /* EIO: the file ended sooner than its size said */
        st = nnc__fail(NNC_ERR_IO, "cannot read '%s'", path);
    }
    header h;
    nnc__reader r = nnc__reader_at(head, HEADER_BYTES, "nncb model");
    if (st == NNC_OK) st = read_header(&r, (uint64_t)size, &h);
    unsigned char *buf = NULL;
    if (st == NNC_OK && (uint64_t)size > (uint64_t)SIZE_MAX)
        st = nnc__fail(NNC_ERR_OVERFLOW, "'%s' does not fit in memory", path);
    if (st == NNC_OK && !(buf = malloc((size_t)size)))
        st = nnc__fail(NNC_ERR_NOMEM, "cannot allocate %ld bytes for '%s'", size, path);
    if (st == NNC_OK) {
        memcpy(buf, head, HEADER_BYTES);
        size_t rest = (size_t)size - HEADER_BYTES;
        errno = 0;
        if (fread(buf + HEADER_BYTES, 1, rest, f) != rest) {
            err = failed_errno();
            st = nnc__fail(NNC_ERR_IO, "cannot read '%s'", path);
        }
    }
    fclose(f);
    if (st == NNC_OK) st = nnc_model_deserialize(buf, (int64_t)size, out);
    free(buf);
    if (st == NNC_ERR_IO) errno = err;
    return st;
}
