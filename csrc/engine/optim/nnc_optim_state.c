/*
 * nnc_optim_state.c - the optimizer state as a versioned, self-checking
 * byte blob (what nnc_model_get/set_optimizer_state move and the model
 * files store), written and read through the cursors of nnc_bytes.h.
 *
 * Blob version 2, little-endian whatever the host (docs/nncb-format.md,
 * "Optimizer state"):
 *   header     the magic "NNCOPTIM", then the u64 words of BLOB_HEADER
 *              below, in that order (128 bytes in all)
 *   buffers    the first-order buffers whose bit is in the mask, by role,
 *              n values of the dtype each
 *   direction  when has_direction: d, then prev_grad (n values each)
 *   history    the L-BFGS pairs, oldest first: ro (f64), y, s (n values each)
 *   trailer    u32 CRC-32 of every byte before it (the nncb file's)
 * Version 1 ended with an 8-byte FNV hash instead; it is refused.
 */
#include "nnc_optim_internal.h"

#include "nnc_bytes.h"

#include <string.h>

#define BLOB_VERSION 2u
#define BLOB_MAGIC_BYTES 8u
#define BLOB_TRAILER_BYTES 4u
static const unsigned char blob_magic[BLOB_MAGIC_BYTES] = {'N', 'N', 'C', 'O',
                                                          'P', 'T', 'I', 'M'};

/* The header words after the magic, in blob order. The L-BFGS words are 0
 * in a first-order state; t, h_diag and prev_loss hold IEEE-754 bits. */
#define BLOB_HEADER(X)                                                                       \
    X(version)                                                                               \
    X(kind)                                                                                  \
    X(dtype)                                                                                 \
    X(n_params)                                                                              \
    X(total_bytes)                                                                           \
    X(buffer_mask)                                                                           \
    X(step)                                                                                  \
    X(n_iter)        /* L-BFGS from here on */                                               \
    X(func_evals)                                                                            \
    X(t)                                                                                     \
    X(h_diag)                                                                                \
    X(prev_loss)                                                                             \
    X(history_count)                                                                         \
    X(has_direction) /* d and prev_grad stored: 0 or 1 */                                     \
    X(reserved)      /* 0 */

typedef struct {
#define X(name) uint64_t name;
    BLOB_HEADER(X)
#undef X
} blob_header;

#define X(name) +1
enum { HDR_WORDS = 0 BLOB_HEADER(X) };
#undef X
#define HDR_BYTES (BLOB_MAGIC_BYTES + 8u * HDR_WORDS)

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

/* Total blob bytes for the given content; 0 on overflow. */
static size_t blob_bytes(size_t vec_bytes, int nbuf, int has_vec, uint64_t count) {
    const size_t max = (size_t)INT64_MAX;
    size_t total = HDR_BYTES + BLOB_TRAILER_BYTES, nvec = (size_t)nbuf + (has_vec ? 2u : 0u);
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

static int has_direction(const nnc__optim *opt) {
    return opt->cfg.kind == NNC_OPT_LBFGS && opt->lb.n_iter > 0;
}

nnc_status nnc__optim_state_size(const nnc__optim *opt, int64_t *n_bytes) {
    if (!opt || !n_bytes) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    size_t total = blob_bytes((size_t)opt->n * nnc__dtype_size(opt->dtype),
                              nnc__optim_buffer_count(nnc__optim_buffer_mask(&opt->cfg)),
                              has_direction(opt), (uint64_t)opt->lb.count);
    if (total == 0) return nnc__fail(NNC_ERR_OVERFLOW, "optimizer state size overflows");
    *n_bytes = (int64_t)total;
    return NNC_OK;
}

nnc_status nnc__optim_state_export(const nnc__optim *opt, void *out, int64_t n_bytes) {
    if (!opt || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    int64_t need;
    NNC__TRY(nnc__optim_state_size(opt, &need));
    if (n_bytes != need)
        return nnc__fail(NNC_ERR_SHAPE, "optimizer state needs %lld bytes, got %lld",
                         (long long)need, (long long)n_bytes);
    const nnc__lbfgs *lb = &opt->lb;
    const unsigned mask = nnc__optim_buffer_mask(&opt->cfg);
    const nnc_dtype dt = opt->dtype;
    blob_header h = {0};
    h.version = BLOB_VERSION;
    h.kind = (uint64_t)opt->cfg.kind;
    h.dtype = (uint64_t)dt;
    h.n_params = (uint64_t)opt->n;
    h.total_bytes = (uint64_t)need;
    h.buffer_mask = mask;
    h.step = (uint64_t)opt->step;
    if (opt->cfg.kind == NNC_OPT_LBFGS) {
        h.n_iter = (uint64_t)lb->n_iter;
        h.func_evals = (uint64_t)lb->func_evals;
        h.t = f64_bits(lb->t);
        h.h_diag = f64_bits(lb->h_diag);
        h.prev_loss = f64_bits(lb->prev_loss);
        h.history_count = (uint64_t)lb->count;
        h.has_direction = (uint64_t)has_direction(opt);
    }

    nnc__writer w = nnc__writer_at(out, (size_t)need);
    nnc__put_bytes(&w, blob_magic, BLOB_MAGIC_BYTES);
#define X(name) nnc__put_u64(&w, h.name);
    BLOB_HEADER(X)
#undef X
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (mask & (1u << k)) nnc__put_reals(&w, dt, opt->buf[k], opt->n);
    if (h.has_direction) {
        nnc__put_reals(&w, dt, lb->d, opt->n);
        nnc__put_reals(&w, dt, lb->prev_grad, opt->n);
    }
    for (int64_t i = 0; i < lb->count; i++) {
        const unsigned char *slot = (const unsigned char *)lb->hist[i].slot;
        nnc__put_f64(&w, lb->hist[i].ro);
        nnc__put_reals(&w, dt, slot, opt->n);
        nnc__put_reals(&w, dt, slot + nnc__optim_vec_stride(opt), opt->n);
    }
    nnc__put_u32(&w, nnc__crc32(w.p, w.pos));
    return nnc__writer_end(&w);
}

#define BAD(...) return nnc__fail(NNC_ERR_FORMAT, "optimizer state: " __VA_ARGS__)

/* The header's agreement with this optimizer and with itself. */
static nnc_status check_header(const nnc__optim *opt, const blob_header *h) {
    const nnc_optimizer_config *c = &opt->cfg;
    if (h->kind != (uint64_t)c->kind)
        BAD("saved for optimizer kind %llu, this optimizer is kind %d", (unsigned long long)h->kind,
            (int)c->kind);
    if (h->dtype != (uint64_t)opt->dtype)
        BAD("saved with dtype %llu, this optimizer has dtype %d", (unsigned long long)h->dtype,
            (int)opt->dtype);
    if (h->n_params != (uint64_t)opt->n)
        BAD("saved for %llu parameters, this optimizer has %lld",
            (unsigned long long)h->n_params, (long long)opt->n);
    const unsigned mask = nnc__optim_buffer_mask(c);
    if (h->buffer_mask != mask)
        BAD("state buffers (mask %llu) do not match this configuration (mask %u: momentum, "
            "centered or amsgrad differ)",
            (unsigned long long)h->buffer_mask, mask);
    if (h->reserved != 0) BAD("reserved field is not zero");

    const uint64_t max_count = (uint64_t)1 << 53; /* counters stay exact as doubles */
    if (h->step > max_count || h->n_iter > max_count || h->func_evals > max_count)
        BAD("step counter out of range");
    if (c->kind == NNC_OPT_LBFGS) {
        if (h->step != 0) BAD("L-BFGS state with a first-order step count");
        if (h->has_direction != (h->n_iter > 0 ? 1u : 0u))
            BAD("inconsistent L-BFGS direction flag");
        if (h->history_count > (uint64_t)c->history_size)
            BAD("history holds %llu pairs but history_size is %lld",
                (unsigned long long)h->history_count, (long long)c->history_size);
        if (h->history_count > 0 && !h->has_direction) BAD("L-BFGS history without a direction");
    } else if (h->n_iter || h->func_evals || h->history_count || h->has_direction || h->t ||
               h->h_diag || h->prev_loss) {
        BAD("L-BFGS fields set in a first-order state");
    }
    const size_t expect = blob_bytes((size_t)opt->n * nnc__dtype_size(opt->dtype),
                                     nnc__optim_buffer_count(mask), (int)h->has_direction,
                                     h->history_count);
    if (expect == 0 || expect != h->total_bytes)
        BAD("size %llu does not match its content (%zu bytes expected)",
            (unsigned long long)h->total_bytes, expect);
    return NNC_OK;
}

/* No NaN in any state vector or history scalar: a real run never stores
 * one (a step with a non-finite gradient is not applied), and a crafted
 * one would poison the next steps. Infinities (an overflowing square in
 * float32) are possible and kept. `r` is a copy of the reader, at the
 * first buffer. */
static nnc_status check_no_nan(const nnc__optim *opt, const blob_header *h, nnc__reader r) {
    const int64_t n_vec = (int64_t)nnc__optim_buffer_count((unsigned)h->buffer_mask) +
                          (h->has_direction ? 2 : 0);
    int nan = 0, ro_nan = 0;
    NNC__TRY(nnc__scan_reals(&r, opt->dtype, opt->n * n_vec, &nan));
    if (nan) BAD("the state holds NaN values");
    for (uint64_t i = 0; i < h->history_count; i++) {
        NNC__TRY(nnc__scan_reals(&r, NNC_FLOAT64, 1, &ro_nan));
        NNC__TRY(nnc__scan_reals(&r, opt->dtype, 2 * opt->n, &nan));
        if (ro_nan || nan) BAD("the L-BFGS history holds NaN values");
    }
    return NNC_OK;
}

nnc_status nnc__optim_state_import(nnc__optim *opt, const void *blob, int64_t n_bytes) {
    if (!opt || !blob) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    if (n_bytes < (int64_t)(HDR_BYTES + BLOB_TRAILER_BYTES))
        BAD("%lld bytes is shorter than the %d-byte header", (long long)n_bytes,
            (int)(HDR_BYTES + BLOB_TRAILER_BYTES));
    nnc__reader r = nnc__reader_at(blob, (size_t)n_bytes, "optimizer state");
    unsigned char magic[BLOB_MAGIC_BYTES];
    blob_header h = {0};
    NNC__TRY(nnc__get_bytes(&r, magic, BLOB_MAGIC_BYTES));
    if (memcmp(magic, blob_magic, BLOB_MAGIC_BYTES) != 0)
        BAD("bad magic (not an nnc optimizer state)");
#define X(name) NNC__TRY(nnc__get_u64(&r, &h.name));
    BLOB_HEADER(X)
#undef X
    if (h.version == 1)
        BAD("version 1 (with an FNV checksum, written by an older nnc) is no longer read; this "
            "build reads version %u, with a CRC-32",
            BLOB_VERSION);
    if (h.version != BLOB_VERSION)
        BAD("unsupported version %llu (expected %u)", (unsigned long long)h.version, BLOB_VERSION);
    if (h.total_bytes != (uint64_t)n_bytes)
        BAD("blob records %llu bytes but %lld were given", (unsigned long long)h.total_bytes,
            (long long)n_bytes);
    const size_t body = (size_t)n_bytes - BLOB_TRAILER_BYTES;
    nnc__reader trailer =
        nnc__reader_at((const unsigned char *)blob + body, BLOB_TRAILER_BYTES, "optimizer state");
    uint32_t crc = 0;
    NNC__TRY(nnc__get_u32(&trailer, &crc));
    if (crc != nnc__crc32(blob, body)) BAD("checksum mismatch (corrupted data)");
    NNC__TRY(check_header(opt, &h));
    NNC__TRY(check_no_nan(opt, &h, r));

    /* Everything is checked; only the history pool can still fail, and it
     * grows without touching the live history. */
    const int is_lbfgs = opt->cfg.kind == NNC_OPT_LBFGS;
    nnc__lbfgs *lb = &opt->lb;
    if (is_lbfgs) NNC__TRY(nnc__lbfgs_reserve(opt, (int64_t)h.history_count));

    const nnc_dtype dt = opt->dtype;
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (h.buffer_mask & (1u << k)) NNC__TRY(nnc__get_reals(&r, dt, opt->buf[k], opt->n));
    opt->step = (int64_t)h.step;
    if (is_lbfgs) {
        lb->n_iter = (int64_t)h.n_iter;
        lb->func_evals = (int64_t)h.func_evals;
        lb->t = bits_f64(h.t);
        lb->h_diag = bits_f64(h.h_diag);
        lb->prev_loss = bits_f64(h.prev_loss);
        if (h.has_direction) {
            NNC__TRY(nnc__get_reals(&r, dt, lb->d, opt->n));
            NNC__TRY(nnc__get_reals(&r, dt, lb->prev_grad, opt->n));
        } else {
            const size_t vb = (size_t)opt->n * nnc__dtype_size(dt);
            memset(lb->d, 0, vb);
            memset(lb->prev_grad, 0, vb);
        }
        for (uint64_t i = 0; i < h.history_count; i++) {
            unsigned char *slot = (unsigned char *)lb->hist[i].slot;
            NNC__TRY(nnc__get_f64(&r, &lb->hist[i].ro));
            NNC__TRY(nnc__get_reals(&r, dt, slot, opt->n));
            NNC__TRY(nnc__get_reals(&r, dt, slot + nnc__optim_vec_stride(opt), opt->n));
        }
        lb->count = (int64_t)h.history_count;
    }
    return NNC_OK;
}
