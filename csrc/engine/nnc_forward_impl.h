/*
 * nnc_forward_impl.h - the forward pass, a template (nnc_template.h) that
 * nnc_forward.c instantiates. For each layer: optional inverted dropout on
 * its input, z = in . W + b, a = g(z), all over the whole batch at once.
 */
#include "nnc_activations_impl.h"

/* The masks of rows [row_offset, row_offset + rows) of a batch of
 * global_rows rows, as the whole batch would draw them (data-parallel
 * shards, docs/design.md "Data-parallel training"). */
static void NNC_SFX(draw_dropout)(nnc_model *m, int layer, const NNC_REAL *in, int64_t rows,
                                  int64_t row_offset, int64_t global_rows) {
    const int64_t fi = m->layers[layer].fan_in, count = rows * fi;
    const double p = m->layers[layer].spec.input_dropout;
    const NNC_REAL scale = (NNC_REAL)(1.0 / (1.0 - p));
    NNC_REAL *keep = m->ws.keep[layer];
    NNC_REAL *dropped = m->ws.dropped[layer];
    /* Reserve `count` values of the stream: element i's mask depends only on
     * (key, base + i), whatever the order of evaluation. */
    const uint64_t base = m->rng.counter + (uint64_t)(row_offset * fi);
    m->rng.counter += (uint64_t)(global_rows * fi);
    for (int64_t i = 0; i < count; i++) {
        const double u = nnc__u64_to_unit(nnc__rng_at(m->rng.key, base + (uint64_t)i));
        keep[i] = u >= p ? scale : (NNC_REAL)0;
        dropped[i] = in[i] * keep[i];
    }
}

/* Returns 1 when a stop request (m->stop) cut the pass short. */
static int NNC_SFX(forward)(nnc_model *m, const NNC_REAL *x, int64_t rows, int training,
                            int64_t row_offset, int64_t global_rows) {
    const NNC_REAL *params = m->params;
    const NNC_REAL *in = x;
    m->ws.dropout_active = training;
    for (int l = 0; l < m->n_layers; l++) {
        if (m->stop && *m->stop) return 1;
        const nnc__layer *L = &m->layers[l];
        const int64_t fi = L->fan_in, fo = L->fan_out;
        if (training && L->spec.input_dropout > 0) {
            NNC_SFX(draw_dropout)(m, l, in, rows, row_offset, global_rows);
            in = m->ws.dropped[l];
        }
        NNC_REAL *z = m->ws.z[l];
        NNC_REAL *a = m->ws.a[l];
        /* z = in . W + b in one product (the bias starts the sums); relu is
         * applied on the registers, writing z and a together. */
        const int relu = L->spec.activation == NNC_ACT_RELU;
        const nnc__gemm_desc d = {.M = rows, .N = fo, .K = fi,
                                  .A = in, .lda = fi,
                                  .B = params + L->w_off, .ldb = fo,
                                  .C = z, .ldc = fo,
                                  .bias = L->b_off >= 0 ? params + L->b_off : NULL,
                                  .epilogue = relu ? NNC__EPI_RELU : NNC__EPI_NONE,
                                  .D = a, .ldd = fo};
        nnc__gemm(NNC_DTYPE, &d);
        if (!relu)
            NNC_SFX(act_forward)(L->spec.activation, z, a, rows, fo,
                                 L->s_off >= 0 ? params + L->s_off : NULL);
        in = a;
    }
    return 0;
}
