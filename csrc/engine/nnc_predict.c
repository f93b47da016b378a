/*
 * nnc_predict.c - inference: the forward pass of a batch without dropout,
 * in chunks of rows so that the workspace stays bounded for big inputs.
 * nnc_predict hands back the output layer; nnc_trace (for inspection)
 * every layer's pre-activations z and activations a. Neither touches
 * parameters, optimizer state or the RNG. Both refuse NaN or infinity in
 * x without a pass of their own over it (docs/design.md, "Prediction
 * checks its input in the first layer's output").
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#include <string.h>

/* Rows per forward pass: bounds workspace memory for big inputs. */
#define CHUNK 512

/* NNC_ERR_NONFINITE when rows x of the chunk just computed hold a NaN or
 * infinity. A non-finite x(i, k) makes every z(i, j) of the first layer
 * non-finite (NaN * w and inf * 0 are NaN, inf * w is inf, and every
 * kernel set multiplies every x(i, k) into every z(i, j)), so a finite z,
 * which is small and still in cache, proves x finite. A non-finite z from
 * a finite x (an overflow) is not an input error: only then is x itself
 * read. */
static nnc_status check_chunk_input(const nnc_model *m, const void *x, int64_t n) {
    /* A first layer wider than x (2-64-...): x itself is the smaller read,
     * and the product just brought it into cache. */
    if (m->layers[0].fan_out < m->input_dim &&
        nnc__all_finite(m->dtype, m->ws.z[0], n * m->layers[0].fan_out))
        return NNC_OK;
    if (nnc__all_finite(m->dtype, x, n * m->input_dim)) return NNC_OK;
    return nnc__fail(NNC_ERR_NONFINITE, "x: contains NaN or infinity");
}

/* Forward passes over `rows` rows of x in chunks; after each chunk, copy
 * every layer's z and a into z[l] and a[l] (when those arrays are given)
 * and the output layer's a into `out` (when given). */
static nnc_status forward_chunks(nnc_model *m, const void *x, int64_t rows, void *const *z,
                                 void *const *a, void *out) {
    int64_t chunk = rows < CHUNK ? rows : CHUNK;
    if (m->ws.rows > chunk) chunk = m->ws.rows < rows ? m->ws.rows : rows;
    nnc_status st = nnc__workspace_reserve(m, chunk);
    if (st) return st;
    const size_t es = nnc__dtype_size(m->dtype);
    const int last = m->n_layers - 1;
    for (int64_t start = 0; start < rows; start += chunk) {
        const int64_t n = rows - start < chunk ? rows - start : chunk;
        const char *xs = (const char *)x + (size_t)(start * m->input_dim) * es;
        st = nnc__forward(m, xs, n, 0);
        if (!st) st = check_chunk_input(m, xs, n);
        if (st) return st;
        for (int l = 0; l < m->n_layers; l++) {
            const int64_t fo = m->layers[l].fan_out;
            const size_t off = (size_t)(start * fo) * es, bytes = (size_t)(n * fo) * es;
            if (z) memcpy((char *)z[l] + off, m->ws.z[l], bytes);
            if (a) memcpy((char *)a[l] + off, m->ws.a[l], bytes);
            if (out && l == last) memcpy((char *)out + off, m->ws.a[l], bytes);
        }
    }
    return NNC_OK;
}

nnc_status nnc_predict(nnc_model *m, const void *x, int64_t rows, void *out) {
    if (!m || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "model or out is NULL");
    if (rows == 0) return NNC_OK;
    nnc_status st = nnc__check_batch(m, x, NULL, NULL, rows, 0);
    return st ? st : forward_chunks(m, x, rows, NULL, NULL, out);
}

nnc_status nnc_trace(nnc_model *m, const void *x, int64_t rows, void *const *z, void *const *a) {
    if (!m) return nnc__fail(NNC_ERR_INVALID_ARG, "model is NULL");
    if (rows == 0) return NNC_OK;
    nnc_status st = nnc__check_batch(m, x, NULL, NULL, rows, 0);
    if (st) return st;
    for (int l = 0; l < m->n_layers; l++) {
        if ((z && !z[l]) || (a && !a[l]))
            return nnc__fail(NNC_ERR_INVALID_ARG, "trace: output buffer of layer %d is NULL", l);
        /* The caller's buffers hold rows x fan_out: keep that in range. */
        if (rows > NNC__MAX_ELEMS / m->layers[l].fan_out)
            return nnc__fail(NNC_ERR_OVERFLOW, "trace: %lld rows x %lld units of layer %d are "
                             "too many", (long long)rows, (long long)m->layers[l].fan_out, l);
    }
    return forward_chunks(m, x, rows, z, a, NULL);
}
