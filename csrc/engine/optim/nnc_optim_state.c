/*
 * nnc_optim_state.c - the optimizer state as a versioned, self-checking
 * byte blob (what nnc_model_get/set_optimizer_state move and the model
 * files store).
 */
#include "nnc_optim_internal.h"

#include <math.h>
#include <string.h>


/* ----------------------------------------------------- serialization */

/*
 * Blob, version 1. Every field is little-endian, whatever the host.
 *
 *   header: 16 words of 8 bytes
 *      0 magic "NNCOPTIM"        8 lbfgs n_iter
 *      1 version (1)             9 lbfgs func_evals
 *      2 kind                   10 lbfgs t           (IEEE double)
 *      3 dtype                  11 lbfgs H_diag      (IEEE double)
 *      4 n_params               12 lbfgs prev_loss   (IEEE double)
 *      5 total bytes            13 lbfgs history length
 *      6 buffer mask            14 lbfgs has d/prev_grad (0 or 1)
 *      7 step                   15 reserved (0)
 *   the first-order buffers whose bit is in the mask, by role, n elements each
 *   when has d/prev_grad: d, prev_grad (n elements each)
 *   the history, oldest first: ro (double), y (n elements), s (n elements)
 *   checksum: 8 bytes, hash of every byte before it
 */
#define BLOB_VERSION 1u
#define HDR_WORDS 16
#define HDR_BYTES (HDR_WORDS * 8)
static const unsigned char blob_magic[8] = {'N', 'N', 'C', 'O', 'P', 'T', 'I', 'M'};

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u64(unsigned char *dst, uint64_t v) {
    for (int k = 0; k < 8; k++) dst[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_u64(const unsigned char *src) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v |= (uint64_t)src[k] << (8 * k);
    return v;
}

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

/* Copy n elements of size es between host order and little-endian. */
static void copy_le(unsigned char *dst, const unsigned char *src, int64_t n, size_t es, int le) {
    if (le) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        for (size_t k = 0; k < es; k++) dst[(size_t)i * es + k] = src[(size_t)i * es + es - 1 - k];
}

/* Whether n little-endian values of es (4 or 8) bytes hold a NaN. */
static int has_nan(const unsigned char *p, int64_t n, size_t es) {
    for (int64_t i = 0; i < n; i++, p += es) {
        if (es == 4) {
            const uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
            if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return 1;
        } else {
            const uint64_t u = get_u64(p);
            if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
                (u & 0x000fffffffffffffull))
                return 1;
        }
    }
    return 0;
}

/* FNV-1a over little-endian 64-bit words (zero-padded tail) and the
 * length: any change to a single word always changes the result. */
static uint64_t blob_hash(const unsigned char *p, size_t len) {
    const uint64_t prime = 0x100000001b3ull;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    int le = host_is_le();
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        if (le) memcpy(&w, p + i, 8);
        else w = get_u64(p + i);
        h = (h ^ w) * prime;
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < len; k++) tail |= (uint64_t)p[i + k] << (8 * k);
    h = (h ^ tail) * prime;
    h = (h ^ (uint64_t)len) * prime;
    return h ^ (h >> 32);
}

/* Total blob bytes for the given content; 0 on overflow. */
static size_t blob_bytes(size_t vec_bytes, int nbuf, int has_vec, uint64_t count) {
    const size_t max = (size_t)INT64_MAX;
    size_t total = HDR_BYTES + 8, nvec = (size_t)nbuf + (has_vec ? 2u : 0u);
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

nnc_status nnc__optim_state_size(const nnc__optim *opt, int64_t *n_bytes) {
    if (!opt || !n_bytes) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    int has_vec = opt->cfg.kind == NNC_OPT_LBFGS && opt->lb.n_iter > 0;
    size_t total = blob_bytes((size_t)opt->n * nnc__dtype_size(opt->dtype),
                              nnc__optim_buffer_count(nnc__optim_buffer_mask(&opt->cfg)), has_vec,
                              (uint64_t)opt->lb.count);
    if (total == 0) return nnc__fail(NNC_ERR_OVERFLOW, "optimizer state size overflows");
    *n_bytes = (int64_t)total;
    return NNC_OK;
}

nnc_status nnc__optim_state_export(const nnc__optim *opt, void *out, int64_t n_bytes) {
    if (!opt || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    int64_t need;
    NNC__TRY(nnc__optim_state_size(opt, &need));
    if (n_bytes != need)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state needs %lld bytes, got %lld",
                         (long long)need, (long long)n_bytes);
    const nnc__lbfgs *lb = &opt->lb;
    unsigned mask = nnc__optim_buffer_mask(&opt->cfg);
    int has_vec = opt->cfg.kind == NNC_OPT_LBFGS && lb->n_iter > 0;
    size_t es = nnc__dtype_size(opt->dtype), vb = (size_t)opt->n * es;
    int le = host_is_le();
    unsigned char *p = (unsigned char *)out;

    uint64_t w[HDR_WORDS] = {0};
    w[1] = BLOB_VERSION;
    w[2] = (uint64_t)opt->cfg.kind;
    w[3] = (uint64_t)opt->dtype;
    w[4] = (uint64_t)opt->n;
    w[5] = (uint64_t)need;
    w[6] = mask;
    w[7] = (uint64_t)opt->step;
    if (opt->cfg.kind == NNC_OPT_LBFGS) {
        w[8] = (uint64_t)lb->n_iter;
        w[9] = (uint64_t)lb->func_evals;
        w[10] = f64_bits(lb->t);
        w[11] = f64_bits(lb->h_diag);
        w[12] = f64_bits(lb->prev_loss);
        w[13] = (uint64_t)lb->count;
        w[14] = (uint64_t)has_vec;
    }
    memcpy(p, blob_magic, 8);
    for (int k = 1; k < HDR_WORDS; k++) put_u64(p + 8 * k, w[k]);
    size_t pos = HDR_BYTES;

    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (mask & (1u << k)) {
            copy_le(p + pos, (const unsigned char *)opt->buf[k], opt->n, es, le);
            pos += vb;
        }
    if (has_vec) {
        copy_le(p + pos, (const unsigned char *)lb->d, opt->n, es, le);
        pos += vb;
        copy_le(p + pos, (const unsigned char *)lb->prev_grad, opt->n, es, le);
        pos += vb;
    }
    for (int64_t i = 0; i < lb->count; i++) {
        put_u64(p + pos, f64_bits(lb->hist[i].ro));
        pos += 8;
        const unsigned char *slot = (const unsigned char *)lb->hist[i].slot;
        copy_le(p + pos, slot, opt->n, es, le);
        copy_le(p + pos + vb, slot + nnc__optim_vec_stride(opt), opt->n, es, le);
        pos += 2 * vb;
    }
    put_u64(p + pos, blob_hash(p, pos));
    return NNC_OK;
}

#define BAD(...) return nnc__fail(NNC_ERR_FORMAT, "optimizer state: " __VA_ARGS__)

nnc_status nnc__optim_state_import(nnc__optim *opt, const void *blob, int64_t n_bytes) {
    if (!opt || !blob) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer state: NULL argument");
    const unsigned char *p = (const unsigned char *)blob;
    if (n_bytes < HDR_BYTES + 8)
        BAD("%lld bytes is shorter than the %d-byte header", (long long)n_bytes, HDR_BYTES + 8);
    if (memcmp(p, blob_magic, 8) != 0) BAD("bad magic (not an nnc optimizer state)");
    uint64_t w[HDR_WORDS];
    for (int k = 1; k < HDR_WORDS; k++) w[k] = get_u64(p + 8 * k);
    if (w[1] != BLOB_VERSION)
        BAD("unsupported version %llu (expected %u)", (unsigned long long)w[1], BLOB_VERSION);
    if (w[5] != (uint64_t)n_bytes)
        BAD("blob records %llu bytes but %lld were given", (unsigned long long)w[5],
            (long long)n_bytes);
    size_t body = (size_t)n_bytes - 8;
    if (get_u64(p + body) != blob_hash(p, body)) BAD("checksum mismatch (corrupted data)");

    const nnc_optimizer_config *c = &opt->cfg;
    if (w[2] != (uint64_t)c->kind)
        BAD("saved for optimizer kind %llu, this optimizer is kind %d", (unsigned long long)w[2],
            (int)c->kind);
    if (w[3] != (uint64_t)opt->dtype)
        BAD("saved with dtype %llu, this optimizer has dtype %d", (unsigned long long)w[3],
            (int)opt->dtype);
    if (w[4] != (uint64_t)opt->n)
        BAD("saved for %llu parameters, this optimizer has %lld", (unsigned long long)w[4],
            (long long)opt->n);
    unsigned mask = nnc__optim_buffer_mask(c);
    if (w[6] != mask)
        BAD("state buffers (mask %llu) do not match this configuration (mask %u: momentum, "
            "centered or amsgrad differ)",
            (unsigned long long)w[6], mask);
    if (w[15] != 0) BAD("reserved field is not zero");

    const uint64_t max_count = (uint64_t)1 << 53; /* counters stay exact as doubles */
    int is_lbfgs = c->kind == NNC_OPT_LBFGS;
    uint64_t step = w[7], n_iter = w[8], evals = w[9], count = w[13], has_vec = w[14];
    if (step > max_count || n_iter > max_count || evals > max_count)
        BAD("step counter out of range");
    if (is_lbfgs) {
        if (step != 0) BAD("L-BFGS state with a first-order step count");
        if (has_vec != (n_iter > 0 ? 1u : 0u)) BAD("inconsistent L-BFGS direction flag");
        if (count > (uint64_t)c->history_size)
            BAD("history holds %llu pairs but history_size is %lld", (unsigned long long)count,
                (long long)c->history_size);
        if (count > 0 && !has_vec) BAD("L-BFGS history without a direction");
    } else if (n_iter || evals || count || has_vec || w[10] || w[11] || w[12]) {
        BAD("L-BFGS fields set in a first-order state");
    }
    size_t es = nnc__dtype_size(opt->dtype), vb = (size_t)opt->n * es;
    size_t expect = blob_bytes(vb, nnc__optim_buffer_count(mask), (int)has_vec, count);
    if (expect == 0 || expect != (size_t)n_bytes)
        BAD("size %lld does not match its content (%zu bytes expected)", (long long)n_bytes,
            expect);

    /* No NaN in any state vector or history scalar: a real run never stores
     * one (a step with a non-finite gradient is not applied), and a crafted
     * one would poison the next steps. Infinities (an overflowing square
     * in float32) are possible and kept. */
    {
        size_t pos = HDR_BYTES;
        const int64_t n_vec = (int64_t)nnc__optim_buffer_count(mask) + (has_vec ? 2 : 0);
        if (has_nan(p + pos, opt->n * n_vec, es)) BAD("the state holds NaN values");
        pos += (size_t)n_vec * vb;
        for (uint64_t i = 0; is_lbfgs && i < count; i++) {
            if (has_nan(p + pos, 1, 8) || has_nan(p + pos + 8, 2 * opt->n, es))
                BAD("the L-BFGS history holds NaN values");
            pos += 8 + 2 * vb;
        }
    }

    /* Everything is checked; only the history pool can still fail, and it
     * grows without touching the live history. */
    nnc__lbfgs *lb = &opt->lb;
    if (is_lbfgs) NNC__TRY(nnc__lbfgs_reserve(opt, (int64_t)count));

    int le = host_is_le();
    size_t pos = HDR_BYTES;
    for (int k = 0; k < NNC__OPT_NBUF; k++)
        if (mask & (1u << k)) {
            copy_le((unsigned char *)opt->buf[k], p + pos, opt->n, es, le);
            pos += vb;
        }
    opt->step = (int64_t)step;
    if (is_lbfgs) {
        lb->n_iter = (int64_t)n_iter;
        lb->func_evals = (int64_t)evals;
        lb->t = bits_f64(w[10]);
        lb->h_diag = bits_f64(w[11]);
        lb->prev_loss = bits_f64(w[12]);
        if (has_vec) {
            copy_le((unsigned char *)lb->d, p + pos, opt->n, es, le);
            pos += vb;
            copy_le((unsigned char *)lb->prev_grad, p + pos, opt->n, es, le);
            pos += vb;
        } else {
            memset(lb->d, 0, vb);
            memset(lb->prev_grad, 0, vb);
        }
        for (uint64_t i = 0; i < count; i++) {
            lb->hist[i].ro = bits_f64(get_u64(p + pos));
            pos += 8;
            unsigned char *slot = (unsigned char *)lb->hist[i].slot;
            copy_le(slot, p + pos, opt->n, es, le);
            copy_le(slot + nnc__optim_vec_stride(opt), p + pos + vb, opt->n, es, le);
            pos += 2 * vb;
        }
        lb->count = (int64_t)count;
    }
    return NNC_OK;
}
