/*
 * nnc_bytes.c - little-endian fields through a cursor, and the CRC-32
 * (see nnc_bytes.h).
 */
#include "nnc_bytes.h"

#include <string.h>

static int host_is_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Copy n elements of es bytes between host order and little-endian. */
static void copy_le(unsigned char *dst, const unsigned char *src, size_t n, size_t es) {
    if (host_is_le()) {
        memcpy(dst, src, n * es);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < es; k++) dst[i * es + k] = src[i * es + es - 1 - k];
}

static uint64_t load_le(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t k = n; k-- > 0;) v = (v << 8) | p[k];
    return v;
}

static void store_le(unsigned char *p, uint64_t v, size_t n) {
    for (size_t k = 0; k < n; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* ------------------------------------------------------------ writing */

nnc__writer nnc__writer_at(void *buf, size_t size) {
    nnc__writer w = {buf, size, 0, 0};
    return w;
}

nnc_status nnc__writer_end(const nnc__writer *w) {
    if (w->overflow || w->pos != w->size)
        return nnc__fail(NNC_ERR_STATE, "internal error: %zu of %zu bytes written%s", w->pos,
                         w->size, w->overflow ? ", then a write did not fit" : "");
    return NNC_OK;
}

unsigned char *nnc__put_view(nnc__writer *w, size_t n) {
    if (w->overflow || n > w->size - w->pos) {
        w->overflow = 1;
        return NULL;
    }
    unsigned char *at = w->p + w->pos;
    w->pos += n;
    return at;
}

void nnc__put_bytes(nnc__writer *w, const void *src, size_t n) {
    unsigned char *at = nnc__put_view(w, n);
    if (at && n) memcpy(at, src, n);
}

void nnc__put_zeros(nnc__writer *w, size_t n) {
    unsigned char *at = nnc__put_view(w, n);
    if (at && n) memset(at, 0, n);
}

void nnc__put_zeros_to(nnc__writer *w, size_t end) {
    if (end < w->pos)
        w->overflow = 1;
    else
        nnc__put_zeros(w, end - w->pos);
}

static void put_le(nnc__writer *w, uint64_t v, size_t n) {
    unsigned char *at = nnc__put_view(w, n);
    if (at) store_le(at, v, n);
}

void nnc__put_u32(nnc__writer *w, uint32_t v) { put_le(w, v, 4); }
void nnc__put_u64(nnc__writer *w, uint64_t v) { put_le(w, v, 8); }

void nnc__put_i64(nnc__writer *w, int64_t v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_le(w, u, 8);
}

void nnc__put_f64(nnc__writer *w, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(w, bits, 8);
}

void nnc__put_name(nnc__writer *w, size_t width, const char *name) {
    unsigned char *at = nnc__put_view(w, width);
    if (!at) return;
    const size_t len = strlen(name);
    memset(at, 0, width);
    memcpy(at, name, len < width - 1 ? len : width - 1);
}

void nnc__put_reals(nnc__writer *w, nnc_dtype dtype, const void *src, int64_t n) {
    const size_t es = nnc__dtype_size(dtype);
    if (n < 0 || (uint64_t)n > (w->size - w->pos) / es) {
        w->overflow = 1;
        return;
    }
    unsigned char *at = nnc__put_view(w, (size_t)n * es);
    if (at) copy_le(at, src, (size_t)n, es);
}

/* ------------------------------------------------------------ reading */

nnc__reader nnc__reader_at(const void *buf, size_t size, const char *what) {
    nnc__reader r = {buf, size, 0, what};
    return r;
}

nnc_status nnc__get_view(nnc__reader *r, size_t n, const unsigned char **view) {
    if (n > r->size - r->pos)
        return nnc__fail(NNC_ERR_FORMAT, "%s: truncated: %zu bytes needed at byte %zu, %zu left",
                         r->what, n, r->pos, r->size - r->pos);
    *view = r->p + r->pos;
    r->pos += n;
    return NNC_OK;
}

nnc_status nnc__get_bytes(nnc__reader *r, void *dst, size_t n) {
    const unsigned char *at = NULL;
    NNC__TRY(nnc__get_view(r, n, &at));
    if (n) memcpy(dst, at, n);
    return NNC_OK;
}

nnc_status nnc__get_zeros(nnc__reader *r, size_t n, int *all_zero) {
    const unsigned char *at = NULL;
    NNC__TRY(nnc__get_view(r, n, &at));
    *all_zero = 1;
    for (size_t i = 0; i < n; i++)
        if (at[i]) *all_zero = 0;
    return NNC_OK;
}

nnc_status nnc__get_zeros_to(nnc__reader *r, size_t end, int *all_zero) {
    if (end < r->pos)
        return nnc__fail(NNC_ERR_STATE, "internal error: %s read past byte %zu", r->what, end);
    return nnc__get_zeros(r, end - r->pos, all_zero);
}

static nnc_status get_le(nnc__reader *r, uint64_t *v, size_t n) {
    const unsigned char *at = NULL;
    NNC__TRY(nnc__get_view(r, n, &at));
    *v = load_le(at, n);
    return NNC_OK;
}

nnc_status nnc__get_u32(nnc__reader *r, uint32_t *v) {
    uint64_t u;
    NNC__TRY(get_le(r, &u, 4));
    *v = (uint32_t)u;
    return NNC_OK;
}

nnc_status nnc__get_u64(nnc__reader *r, uint64_t *v) { return get_le(r, v, 8); }

nnc_status nnc__get_i64(nnc__reader *r, int64_t *v) {
    uint64_t u;
    NNC__TRY(get_le(r, &u, 8));
    memcpy(v, &u, sizeof *v);
    return NNC_OK;
}

nnc_status nnc__get_f64(nnc__reader *r, double *v) {
    uint64_t bits;
    NNC__TRY(get_le(r, &bits, 8));
    memcpy(v, &bits, sizeof *v);
    return NNC_OK;
}

nnc_status nnc__get_name(nnc__reader *r, size_t width, char *out, const char *what) {
    const unsigned char *p = NULL;
    NNC__TRY(nnc__get_view(r, width, &p));
    size_t len = 0;
    while (len < width && p[len] != 0) {
        const unsigned char c = p[len];
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

/* The bytes of n values of `dtype`, bounds- and overflow-checked. */
static nnc_status reals_view(nnc__reader *r, nnc_dtype dtype, int64_t n,
                             const unsigned char **view) {
    const size_t es = nnc__dtype_size(dtype);
    if (n < 0 || (uint64_t)n > (r->size - r->pos) / es)
        return nnc__fail(NNC_ERR_FORMAT, "%s: truncated: %lld values needed at byte %zu, %zu "
                         "bytes left", r->what, (long long)n, r->pos, r->size - r->pos);
    return nnc__get_view(r, (size_t)n * es, view);
}

nnc_status nnc__get_reals(nnc__reader *r, nnc_dtype dtype, void *dst, int64_t n) {
    const unsigned char *at = NULL;
    NNC__TRY(reals_view(r, dtype, n, &at));
    copy_le(dst, at, (size_t)n, nnc__dtype_size(dtype));
    return NNC_OK;
}

nnc_status nnc__scan_reals(nnc__reader *r, nnc_dtype dtype, int64_t n, int *any_nan) {
    const unsigned char *p = NULL;
    NNC__TRY(reals_view(r, dtype, n, &p));
    const int f32 = dtype == NNC_FLOAT32;
    const size_t es = f32 ? 4 : 8;
    /* A NaN: every exponent bit set and a non-zero fraction. */
    const uint64_t exp_bits = f32 ? 0x7f800000u : 0x7ff0000000000000ull;
    const uint64_t frac_bits = f32 ? 0x007fffffu : 0x000fffffffffffffull;
    *any_nan = 0;
    for (int64_t i = 0; i < n; i++, p += es) {
        const uint64_t u = load_le(p, es);
        if ((u & exp_bits) == exp_bits && (u & frac_bits)) {
            *any_nan = 1;
            break;
        }
    }
    return NNC_OK;
}

/* ------------------------------------------------------------- CRC-32 */

/* Four bits at a time: a small constant table, no lazy initialisation to
 * race on. */
uint32_t nnc__crc32(const void *data, size_t n) {
    static const uint32_t table[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15u];
        crc = (crc >> 4) ^ table[crc & 15u];
    }
    return crc ^ 0xffffffffu;
}
