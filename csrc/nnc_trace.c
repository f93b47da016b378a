/*
 * nnc_trace.c - inspection: the forward pass of a batch in inference mode
 * (no dropout), with every layer's pre-activations z and activations a
 * copied out in one call. Reuses the forward pass and workspace of
 * predict; never touches parameters, optimizer state or the RNG.
 */
#include "nnc_internal.h"

#include <string.h>

/* Rows per forward pass: bounds workspace memory for big inputs (as predict). */
#define TRACE_CHUNK 512

nnc_status nnc_trace(nnc_model *m, const void *x, int64_t rows, void *const *z, void *const *a) {
    if (!m) return nnc__fail(NNC_ERR_INVALID_ARG, "model is NULL");
    if (rows < 0) return nnc__fail(NNC_ERR_INVALID_ARG, "rows is negative");
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
    int64_t chunk = rows < TRACE_CHUNK ? rows : TRACE_CHUNK;
    if (m->ws.rows > chunk) chunk = m->ws.rows < rows ? m->ws.rows : rows;
    st = nnc__workspace_reserve(m, chunk);
    if (st) return st;
    const size_t es = nnc__dtype_size(m->dtype);
    const int64_t in_dim = m->input_dim;
    for (int64_t start = 0; start < rows; start += chunk) {
        const int64_t n = rows - start < chunk ? rows - start : chunk;
        st = nnc__forward(m, (const char *)x + (size_t)(start * in_dim) * es, n, 0);
        if (st) return st;
        for (int l = 0; l < m->n_layers; l++) {
            const int64_t fo = m->layers[l].fan_out;
            const size_t off = (size_t)(start * fo) * es, bytes = (size_t)(n * fo) * es;
            if (z) memcpy((char *)z[l] + off, m->ws.z[l], bytes);
            if (a) memcpy((char *)a[l] + off, m->ws.a[l], bytes);
        }
    }
    return NNC_OK;
}
