/*
 * nnc_backward_impl.h - backpropagation for one dtype (see nnc_backward.c):
 * the notes' delta recursion vectorised over the batch,
 *   dW_l = in_l^T . delta_l (+ (lambda/m) W_l),  db_l = sum_rows delta_l,
 *   delta_{l-1} = (delta_l . W_l^T) (* dropout mask) (*) g'(z_{l-1}).
 */

static void NNC_SFX(backward)(nnc_model *m, const NNC_REAL *x, int64_t rows, NNC_REAL *grad) {
    const nnc__kernels *k = nnc__kernels_active();
    const NNC_REAL *params = m->params;
    nnc__workspace *ws = &m->ws;
    NNC_REAL *delta = ws->delta, *delta_prev = ws->delta_prev;
    const int last = m->n_layers - 1;
    const double l2_scale = m->l2 / (double)rows;

    if (!ws->delta_is_dz) {
        const nnc__layer *L = &m->layers[last];
        NNC_SFX(act_backward)(L->spec.activation, ws->z[last], ws->a[last], delta, rows,
                              L->fan_out, L->s_off >= 0 ? params + L->s_off : NULL,
                              L->s_off >= 0 ? grad + L->s_off : NULL);
    }
    for (int l = last; l >= 0; l--) {
        const nnc__layer *L = &m->layers[l];
        const int64_t fi = L->fan_in, fo = L->fan_out;
        const int dropped = ws->dropout_active && L->spec.input_dropout > 0;
        const NNC_REAL *in = dropped ? ws->dropped[l] : (l == 0 ? x : ws->a[l - 1]);
        NNC_REAL *dw = grad + L->w_off;
        k->NNC_SFX(gemm_tn)(fi, fo, rows, in, fi, delta, fo, dw, fo, 0);
        if (l2_scale > 0) {
            const NNC_REAL *w = params + L->w_off;
            const NNC_REAL s = (NNC_REAL)l2_scale;
            for (int64_t i = 0; i < fi * fo; i++) dw[i] += s * w[i];
        }
        if (L->b_off >= 0) {
            NNC_REAL *db = grad + L->b_off;
            for (int64_t j = 0; j < fo; j++) db[j] = 0;
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < fo; j++) db[j] += delta[r * fo + j];
        }
        if (l == 0) break;
        k->NNC_SFX(gemm_nt)(rows, fi, fo, delta, fo, params + L->w_off, fo, delta_prev, fi, 0);
        if (dropped) {
            const NNC_REAL *keep = ws->keep[l];
            for (int64_t i = 0; i < rows * fi; i++) delta_prev[i] *= keep[i];
        }
        const nnc__layer *B = &m->layers[l - 1];
        NNC_SFX(act_backward)(B->spec.activation, ws->z[l - 1], ws->a[l - 1], delta_prev, rows, fi,
                              B->s_off >= 0 ? params + B->s_off : NULL,
                              B->s_off >= 0 ? grad + B->s_off : NULL);
        NNC_REAL *t = delta;
        delta = delta_prev;
        delta_prev = t;
    }
}
