/*
 * nnc_elementwise.c - nnc_elementwise: the element-wise kernel of the
 * activations (nnc__map) by name, so tests can sweep it over inputs of
 * their choosing (docs/accuracy.md).
 */
#include <string.h>

#include "nnc_internal.h"
#include "nnc_kernels.h"

static const char *const op_names[NNC__MAP_COUNT] = {
    [NNC__MAP_EXP] = "exp",
    [NNC__MAP_EXP_SUB] = "exp_sub",
    [NNC__MAP_SIGMOID] = "sigmoid",
    [NNC__MAP_TANH] = "tanh",
    [NNC__MAP_RELU] = "relu",
    [NNC__MAP_LEAKY_RELU] = "leaky_relu",
    [NNC__MAP_ELU] = "elu",
    [NNC__MAP_SELU] = "selu",
    [NNC__MAP_SWISH] = "swish",
    [NNC__MAP_SOFTPLUS] = "softplus",
    [NNC__MAP_STEP] = "step",
    [NNC__MAP_GELU] = "gelu",
    [NNC__MAP_D_SIGMOID] = "d_sigmoid",
    [NNC__MAP_D_TANH] = "d_tanh",
    [NNC__MAP_D_RELU] = "d_relu",
    [NNC__MAP_D_LEAKY_RELU] = "d_leaky_relu",
    [NNC__MAP_D_ELU] = "d_elu",
    [NNC__MAP_D_SELU] = "d_selu",
    [NNC__MAP_D_SWISH] = "d_swish",
    [NNC__MAP_D_SOFTPLUS] = "d_softplus",
    [NNC__MAP_D_GELU] = "d_gelu",
};

nnc_status nnc_elementwise(nnc_dtype dtype, const char *op, const void *x, const void *a,
                           void *out, int64_t n) {
    if (!op) return nnc__fail(NNC_ERR_INVALID_ARG, "op is NULL");
    if (n < 0) return nnc__fail(NNC_ERR_INVALID_ARG, "n must be >= 0, got %lld", (long long)n);
    if (n > 0 && (!x || !out)) return nnc__fail(NNC_ERR_INVALID_ARG, "x or out is NULL");
    if (dtype != NNC_FLOAT32 && dtype != NNC_FLOAT64)
        return nnc__fail(NNC_ERR_INVALID_ARG, "dtype must be float32 or float64");
    for (int i = 0; i < NNC__MAP_COUNT; i++) {
        if (strcmp(op, op_names[i]) != 0) continue;
        const int needs_a = i == NNC__MAP_EXP_SUB || i == NNC__MAP_D_SIGMOID || i == NNC__MAP_D_TANH;
        if (needs_a && n > 0 && !a)
            return nnc__fail(NNC_ERR_INVALID_ARG, "a: op '%s' needs a second input", op);
        if (n > 0) nnc__map(dtype, (nnc__map_op)i, x, needs_a ? a : NULL, out, n, 0.0);
        return NNC_OK;
    }
    return nnc__fail(NNC_ERR_INVALID_ARG, "op: unknown element-wise operation '%s'", op);
}
