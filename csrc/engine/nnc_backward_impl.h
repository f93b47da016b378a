/*
 * nnc_backward_impl.h - backpropagation, a template (nnc_template.h) that
 * nnc_backward.c instantiates: the delta recursion vectorised over the
 * batch,
 *   dW_l = in_l^T . delta_l (+ (lambda/m) W_l),  db_l = sum_rows delta_l,
 *   delta_{l-1} = (delta_l . W_l^T) (* dropout mask) (*) g'(z_{l-1}).
 */
#include "nnc_activations_impl.h"

/* dw += s * w: the L2 gradient of one weight matrix. */
/* dw += s w; returns 0 when a sum is NaN or inf (checked as it is made). */
static int NNC_SFX(add_l2)(const NNC_REAL *w, NNC_REAL s, int64_t count, NNC_REAL *dw) {
    int finite = 1;
    for (int64_t i = 0; i < count; i++) {
        const NNC_REAL v = dw[i] + s * w[i];
        dw[i] = v;
        finite &= v - v == 0;
    }
    return finite;
}

/* 0 when one of the n values is NaN or inf (the few gradients no product
 * forms: a separate bias, PReLU's slopes). */
static int NNC_SFX(finite)(const NNC_REAL *v, int64_t n) {
    int finite = 1;
    for (int64_t i = 0; i < n; i++) finite &= v[i] - v[i] == 0;
    return finite;
}

/* Returns 1 when a stop request (m->stop) cut the pass short. Sets
 * ws->grad_nonfinite when a NaN or inf went into the gradient: each part
 * is checked where it is formed, the weights' and biases' in the
 * product's registers (NNC__EPI_FINITE), so no pass reads the gradient
 * again (docs/design.md, "The gradient's finite check"). */
static int NNC_SFX(backward)(nnc_model *m, const NNC_REAL *x, int64_t rows, double l2_scale,
                             NNC_REAL *grad) {
    const NNC_REAL *params = m->params;
    nnc__workspace *ws = &m->ws;
    NNC_REAL *delta = ws->delta, *delta_prev = ws->delta_prev;
    const int last = m->n_layers - 1;
    ws->grad_nonfinite = 0;

    if (!ws->delta_is_dz) {
        const nnc__layer *L = &m->layers[last];
        NNC_SFX(act_backward)(L->spec.activation, ws->z[last], ws->a[last], delta, rows,
                              L->fan_out, L->s_off >= 0 ? params + L->s_off : NULL,
                              L->s_off >= 0 ? grad + L->s_off : NULL);
        if (L->s_off >= 0 && !NNC_SFX(finite)(grad + L->s_off, L->fan_out))
            ws->grad_nonfinite = 1;
    }
    for (int l = last; l >= 0; l--) {
        if (m->stop && *m->stop) return 1;
        const nnc__layer *L = &m->layers[l];
        const int64_t fi = L->fan_in, fo = L->fan_out;
        const int dropped = ws->dropout_active && L->spec.input_dropout > 0;
        const NNC_REAL *in = dropped ? ws->dropped[l] : (l == 0 ? x : ws->a[l - 1]);
        NNC_REAL *dw = grad + L->w_off;
        /* [dW; db] = [in 1]^T . delta: the bias gradient is the product's
         * extra row of ones, stored where the layout keeps b (after W). */
        const int fused_db = L->b_off >= 0 && L->b_off == L->w_off + fi * fo;
        const nnc__gemm_desc g = {.M = fi, .N = fo, .K = rows, .trans_a = 1,
                                  .A = in, .lda = fi,
                                  .B = delta, .ldb = fo,
                                  .C = dw, .ldc = fo,
                                  .ones_row = fused_db,
                                  .epilogue = NNC__EPI_FINITE, .nonfinite = &ws->grad_nonfinite};
        nnc__gemm(NNC_DTYPE, &g);
        if (l2_scale > 0 && !NNC_SFX(add_l2)(params + L->w_off, (NNC_REAL)l2_scale, fi * fo, dw))
            ws->grad_nonfinite = 1;
        if (L->b_off >= 0 && !fused_db) {
            NNC_REAL *db = grad + L->b_off;
            for (int64_t j = 0; j < fo; j++) db[j] = 0;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < fo; j++) db[j] += delta[r * fo + j];
            if (!NNC_SFX(finite)(db, fo)) ws->grad_nonfinite = 1;
        }
        if (l == 0) break;
        /* delta_prev = delta . W^T, times relu'(z) on the registers when
         * nothing (dropout) comes in between. */
        const nnc__layer *B = &m->layers[l - 1];
        const int relu = B->spec.activation == NNC_ACT_RELU && !dropped;
        const nnc__gemm_desc t = {.M = rows, .N = fi, .K = fo, .trans_b = 1,
                                  .A = delta, .lda = fo,
                                  .B = params + L->w_off, .ldb = fo,
                                  .C = delta_prev, .ldc = fi,
                                  .epilogue = relu ? NNC__EPI_RELU_GRAD : NNC__EPI_NONE,
                                  .Z = ws->z[l - 1], .ldz = fi};
        nnc__gemm(NNC_DTYPE, &t);
        if (dropped) {
            const NNC_REAL *keep = ws->keep[l];
            for (int64_t i = 0; i < rows * fi; i++) delta_prev[i] *= keep[i];
        }
        if (!relu)
            NNC_SFX(act_backward)(B->spec.activation, ws->z[l - 1], ws->a[l - 1], delta_prev, rows,
                                  fi, B->s_off >= 0 ? params + B->s_off : NULL,
                                  B->s_off >= 0 ? grad + B->s_off : NULL);
        if (!relu && B->s_off >= 0 && !NNC_SFX(finite)(grad + B->s_off, fi))
            ws->grad_nonfinite = 1;
        NNC_REAL *tmp = delta;
        delta = delta_prev;
        delta_prev = tmp;
    }
    return 0;
}
