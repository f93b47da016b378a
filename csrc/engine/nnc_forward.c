/*
 * nnc_forward.c - forward propagation (notes 000/004: z = a.W + b, a = g(z))
 * vectorised over the batch, for float32 and float64.
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#define NNC_REAL float
#define NNC_SFX(name) name##_f32
static const nnc_dtype dtype_f32 = NNC_FLOAT32;
#include "nnc_activations_impl.h"
#include "nnc_forward_impl.h"
#undef NNC_REAL
#undef NNC_SFX

#define NNC_REAL double
#define NNC_SFX(name) name##_f64
static const nnc_dtype dtype_f64 = NNC_FLOAT64;
#include "nnc_activations_impl.h"
#include "nnc_forward_impl.h"
#undef NNC_REAL
#undef NNC_SFX

nnc_status nnc__forward(nnc_model *m, const void *x, int64_t rows, int training) {
    if (rows > m->ws.rows)
        return nnc__fail(NNC_ERR_STATE, "workspace holds %lld rows, forward needs %lld",
                         (long long)m->ws.rows, (long long)rows);
    const int stopped = m->dtype == NNC_FLOAT32 ? forward_f32(m, x, rows, training)
                                                : forward_f64(m, x, rows, training);
    if (stopped) return nnc__fail(NNC_ERR_INTERRUPTED, "training stopped on request");
    return NNC_OK;
}
