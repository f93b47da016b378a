/*
 * nnc_forward.c - forward propagation, z = a.W + b and a = g(z), vectorised
 * over the batch, for float32 and float64 (docs/architecture.md, Forward
 * propagation).
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#define NNC_TEMPLATE "nnc_forward_impl.h"
#include "nnc_template.h"

nnc_status nnc__forward_shard(nnc_model *m, const void *x, int64_t rows, int training,
                              int64_t row_offset, int64_t global_rows) {
    if (rows > m->ws.rows)
        return nnc__fail(NNC_ERR_STATE, "workspace holds %lld rows, forward needs %lld",
                         (long long)m->ws.rows, (long long)rows);
    const unsigned fpmode = nnc__flush_subnormals_begin();
    const int stopped =
        m->dtype == NNC_FLOAT32 ? forward_f32(m, x, rows, training, row_offset, global_rows)
                                : forward_f64(m, x, rows, training, row_offset, global_rows);
    nnc__fpmode_set(fpmode);
    if (stopped) return nnc__fail(NNC_ERR_INTERRUPTED, "training stopped on request");
    return NNC_OK;
}

nnc_status nnc__forward(nnc_model *m, const void *x, int64_t rows, int training) {
    return nnc__forward_shard(m, x, rows, training, 0, rows);
}
