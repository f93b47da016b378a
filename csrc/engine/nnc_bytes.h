/*
 * nnc_bytes.h - the engine's one byte codec: little-endian fields written
 * and read through a cursor, and the CRC-32. The model file (nnc_nncb.c)
 * and the optimizer state blob (optim/nnc_optim_state.c) are written and
 * read with these, field after field, in order.
 *
 * Every value is encoded byte by byte, little-endian whatever the host
 * (reals as their IEEE-754 bits), never copied from host structs. A cursor
 * is a buffer, its size and a position:
 *  - a write that would pass the end writes nothing and marks the writer;
 *    nnc__writer_end reports it. Callers size the buffer first, so this is
 *    an engine bug caught, never memory overrun.
 *  - a read that would pass the end reads nothing, leaves its output
 *    untouched and fails with NNC_ERR_FORMAT ("<what>: truncated ...").
 */
#ifndef NNC_BYTES_H
#define NNC_BYTES_H

#include "nnc_internal.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *p;
    size_t size, pos;
    int overflow; /* a write did not fit */
} nnc__writer;

typedef struct {
    const unsigned char *p;
    size_t size, pos;
    const char *what; /* the data, for messages: "nncb model", "optimizer state" */
} nnc__reader;

/* ------------------------------------------------------------ writing */

nnc__writer nnc__writer_at(void *buf, size_t size);
/* NNC_OK when the writes filled the buffer exactly. */
nnc_status nnc__writer_end(const nnc__writer *w);

void nnc__put_bytes(nnc__writer *w, const void *src, size_t n);
void nnc__put_zeros(nnc__writer *w, size_t n);
/* Zeros up to position `end` (the end of a record with reserved bytes). */
void nnc__put_zeros_to(nnc__writer *w, size_t end);
void nnc__put_u32(nnc__writer *w, uint32_t v);
void nnc__put_u64(nnc__writer *w, uint64_t v);
void nnc__put_i64(nnc__writer *w, int64_t v); /* two's complement */
void nnc__put_f64(nnc__writer *w, double v);
/* A name field of `width` bytes: the name, then NUL bytes (at least one;
 * a longer name is cut). Names follow the nncb rules: [a-z0-9_]. */
void nnc__put_name(nnc__writer *w, size_t width, const char *name);
/* n values of `dtype` (float or double) from host memory. */
void nnc__put_reals(nnc__writer *w, nnc_dtype dtype, const void *src, int64_t n);
/* The next n bytes, for a caller that fills them itself (NULL when they
 * do not fit). */
unsigned char *nnc__put_view(nnc__writer *w, size_t n);

/* ------------------------------------------------------------ reading */

nnc__reader nnc__reader_at(const void *buf, size_t size, const char *what);

nnc_status nnc__get_bytes(nnc__reader *r, void *dst, size_t n);
/* Step over n bytes; *all_zero says whether they were all zero. */
nnc_status nnc__get_zeros(nnc__reader *r, size_t n, int *all_zero);
/* The same up to position `end`. */
nnc_status nnc__get_zeros_to(nnc__reader *r, size_t end, int *all_zero);
nnc_status nnc__get_u32(nnc__reader *r, uint32_t *v);
nnc_status nnc__get_u64(nnc__reader *r, uint64_t *v);
nnc_status nnc__get_i64(nnc__reader *r, int64_t *v);
nnc_status nnc__get_f64(nnc__reader *r, double *v);
/* A name field of `width` bytes into out[width], checked: [a-z0-9_]
 * characters, at least one, then NUL bytes only (NNC_ERR_FORMAT naming
 * `what` otherwise). */
nnc_status nnc__get_name(nnc__reader *r, size_t width, char *out, const char *what);
/* n values of `dtype` into host memory. */
nnc_status nnc__get_reals(nnc__reader *r, nnc_dtype dtype, void *dst, int64_t n);
/* Step over n values of `dtype`; *any_nan says whether one is a NaN. */
nnc_status nnc__scan_reals(nnc__reader *r, nnc_dtype dtype, int64_t n, int *any_nan);
/* The next n bytes in place. */
nnc_status nnc__get_view(nnc__reader *r, size_t n, const unsigned char **view);

/* ------------------------------------------------------------- CRC-32 */

/* CRC-32/ISO-HDLC (zlib's crc32, the nncb trailer and the optimizer
 * state's). */
uint32_t nnc__crc32(const void *p, size_t n);

#endif /* NNC_BYTES_H */
