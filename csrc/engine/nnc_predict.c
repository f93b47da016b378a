/*
 * nnc_predict.c - inference: the forward pass of a batch without dropout,
 * in chunks of rows so that the workspace stays bounded for big inputs.
 * nnc_predict hands back the output layer; nnc_trace (for inspection)
 * every layer's pre-activations z and activations a. Neither touches
 * parameters, optimizer state or the RNG.
 */
#include "nnc_internal.h"

#include <string.h>

/* Rows per forward pass: bounds workspace memory for big inputs. */
#define CHUNK 512

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
        st = nnc__forward(m, (const char *)x + (size_t)(start * m->input_dim) * es, n, 0);
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
