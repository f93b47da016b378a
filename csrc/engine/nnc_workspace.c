/*
 * nnc_workspace.c - the scratch memory of forward and backward passes:
 * one allocation sized for a number of rows, carved into per-layer buffers,
 * grown between calls and never per batch.
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"
#include "nnc_threads.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64

typedef struct {
    size_t total;
    nnc_status status;
} planner;

/* Reserve `elems` elements of `size` bytes at a 64-byte aligned offset. */
static size_t plan(planner *p, size_t elems, size_t size) {
    size_t bytes = 0, offset = p->total;
    if (p->status) return 0;
    p->status = nnc__mul_size(elems, size, &bytes, "workspace");
    if (!p->status) p->status = nnc__add_size(bytes, ALIGN - 1, &bytes, "workspace");
    if (!p->status) {
        bytes &= ~(size_t)(ALIGN - 1);
        p->status = nnc__add_size(p->total, bytes, &p->total, "workspace");
    }
    return offset;
}

void nnc__workspace_free(nnc__workspace *ws) {
    nnc__aligned_free(ws->block);
    free(ws->z); /* z, a, keep and dropped share one pointer array */
    memset(ws, 0, sizeof *ws);
}

nnc_status nnc__workspace_reserve(nnc_model *m, int64_t rows) {
    /* The calling thread's GEMM packing buffer, before any product: a
     * worker without one hands its chunks to this thread, so the kernels
     * (and the results) never change with memory pressure (nnc_kernels_parallel.c). */
    if (!nnc__thread_scratch(NNC__GEMM_SCRATCH_BYTES))
        return nnc__fail(NNC_ERR_NOMEM, "cannot allocate the %d-byte matrix-product buffer",
                         (int)NNC__GEMM_SCRATCH_BYTES);
    if (rows <= m->ws.rows) return NNC_OK;
    const size_t es = nnc__dtype_size(m->dtype);
    const size_t r = (size_t)rows;
    const int L = m->n_layers;
    planner p = {0, NNC_OK};
    size_t *z_off = calloc((size_t)L * 4, sizeof *z_off);
    void **ptrs = calloc((size_t)L * 4, sizeof *ptrs);
    if (!z_off || !ptrs) {
        free(z_off);
        free(ptrs);
        return nnc__fail(NNC_ERR_NOMEM, "cannot allocate workspace tables");
    }
    size_t *a_off = z_off + L, *keep_off = z_off + 2 * L, *drop_off = z_off + 3 * L;
    for (int i = 0; i < L; i++) {
        const nnc__layer *ly = &m->layers[i];
        size_t out_elems = 0, in_elems = 0;
        if (!p.status) p.status = nnc__mul_size(r, (size_t)ly->fan_out, &out_elems, "workspace");
        if (!p.status) p.status = nnc__mul_size(r, (size_t)ly->fan_in, &in_elems, "workspace");
        z_off[i] = plan(&p, out_elems, es);
        a_off[i] = plan(&p, out_elems, es);
        if (ly->spec.input_dropout > 0) {
            keep_off[i] = plan(&p, in_elems, es);
            drop_off[i] = plan(&p, in_elems, es);
        }
    }
    size_t wide = 0, xin = 0, yout = 0;
    const size_t out_dim = (size_t)nnc_model_output_dim(m);
    if (!p.status) p.status = nnc__mul_size(r, (size_t)m->max_width, &wide, "workspace");
    if (!p.status) p.status = nnc__mul_size(r, (size_t)m->input_dim, &xin, "workspace");
    if (!p.status) p.status = nnc__mul_size(r, out_dim, &yout, "workspace");
    size_t delta_off = plan(&p, wide, es);
    size_t delta_prev_off = plan(&p, wide, es);
    size_t xb_off = plan(&p, xin, es);
    /* Targets are m x out values, or m int64 labels: reserve the larger. */
    size_t yb_off = plan(&p, yout > r ? yout : r, es > sizeof(int64_t) ? es : sizeof(int64_t));
    size_t swb_off = plan(&p, r, es);
    if (p.status) {
        free(z_off);
        free(ptrs);
        return p.status;
    }
    char *block = nnc__aligned_alloc(p.total);
    if (!block) {
        free(z_off);
        free(ptrs);
        return nnc__fail(NNC_ERR_NOMEM, "cannot allocate %zu bytes of workspace for %lld rows",
                         p.total, (long long)rows);
    }
    nnc__workspace_free(&m->ws);
    nnc__workspace *ws = &m->ws;
    ws->rows = rows;
    ws->block = block;
    ws->z = ptrs;
    ws->a = ptrs + L;
    ws->keep = ptrs + 2 * L;
    ws->dropped = ptrs + 3 * L;
    for (int i = 0; i < L; i++) {
        ws->z[i] = block + z_off[i];
        ws->a[i] = block + a_off[i];
        if (m->layers[i].spec.input_dropout > 0) {
            ws->keep[i] = block + keep_off[i];
            ws->dropped[i] = block + drop_off[i];
        }
    }
    ws->delta = block + delta_off;
    ws->delta_prev = block + delta_prev_off;
    ws->xb = block + xb_off;
    ws->yb = block + yb_off;
    ws->swb = block + swb_off;
    free(z_off);
    return NNC_OK;
}
