/*
 * nnc_loss_impl.h - loss values and output deltas, a template
 * (nnc_template.h) that nnc_loss.c instantiates. J = (1/m) sum_i s_i l_i;
 * the delta written is dJ/da, or dJ/dz for the fused cross-entropies
 * (flagged through *is_dz).
 */

#define LOSS_CHUNK 256

/* sum_k f(v_k - shift) over K values in order, in double, f = e^x or
 * softplus, the element-wise part by the kernel set's float64 map
 * (docs/design.md, "Vectorised activations"); when `each` is set it
 * receives the K values f(v_k - shift). */
static double NNC_SFX(loss_map_sum)(nnc__map_op op, const NNC_REAL *v, int64_t K, double shift,
                                    double *each) {
    double buf[LOSS_CHUNK], total = 0.0;
    const nnc__map_fn map = nnc__map_kernel(NNC_FLOAT64);
    for (int64_t k0 = 0; k0 < K; k0 += LOSS_CHUNK) {
        const int64_t len = K - k0 < LOSS_CHUNK ? K - k0 : LOSS_CHUNK;
        double *out = each ? each + k0 : buf;
        for (int64_t k = 0; k < len; k++) out[k] = (double)v[k0 + k];
        map(op, out, NULL, out, len, shift);
        for (int64_t k = 0; k < len; k++) total += out[k];
    }
    return total;
}

/* log-sum-exp of rows [r0, r0 + count) of z (K values each) into lse,
 * in double: lse = max + log(sum_k e^(z_k - max)), the exps by the kernel
 * set's float64 map. Rows short enough go to the kernel many at a time
 * (EXP_SUB, each value with its row's max), with the same bits as
 * loss_map_sum row by row (docs/design.md, "Small-data step"). Returns
 * the rows done (at least 1). */
static int64_t NNC_SFX(lse_rows)(const NNC_REAL *z, int64_t r0, int64_t count, int64_t K,
                                 double *lse) {
    double vals[LOSS_CHUNK], shifts[LOSS_CHUNK];
    const int64_t per_call = K <= LOSS_CHUNK ? LOSS_CHUNK / K : 1;
    const int64_t rows = count < per_call ? count : per_call;
    double mx[LOSS_CHUNK];
    for (int64_t r = 0; r < rows; r++) {
        const NNC_REAL *zi = z + (r0 + r) * K;
        double top = (double)zi[0];
        for (int64_t k = 1; k < K; k++)
            if ((double)zi[k] > top) top = (double)zi[k];
        mx[r] = top;
        if (per_call == 1) {
            lse[0] = top + log(NNC_SFX(loss_map_sum)(NNC__MAP_EXP, zi, K, top, NULL));
            return 1;
        }
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < K; k++) {
            vals[r * K + k] = (double)z[(r0 + r) * K + k];
            shifts[r * K + k] = mx[r];
        }
    nnc__map_kernel(NNC_FLOAT64)(NNC__MAP_EXP_SUB, vals, shifts, vals, rows * K, 0.0);
    for (int64_t r = 0; r < rows; r++) {
        double se = 0.0;
        for (int64_t k = 0; k < K; k++) se += vals[r * K + k];
        lse[r] = mx[r] + log(se);
    }
    return rows;
}

/* Sum over the m rows of s_i * l_i, divided by `denom` (m, or a global
 * batch's rows for a data-parallel shard), and the delta when `delta` is
 * set. */
static double NNC_SFX(loss_rows)(nnc_loss loss, const NNC_REAL *z, const NNC_REAL *a,
                                 const void *y, const NNC_REAL *sw, int64_t m, int64_t denom,
                                 int64_t K, NNC_REAL *delta, int *is_dz) {
    const NNC_REAL *yv = y;
    const int64_t *labels = y;
    const double inv_m = 1.0 / (double)denom;
    double total = 0.0;
    double lse_buf[LOSS_CHUNK];
    int64_t lse_from = 0, lse_to = 0; /* rows whose lse is in lse_buf */
    *is_dz = loss == NNC_LOSS_BINARY_CROSSENTROPY || loss == NNC_LOSS_CATEGORICAL_CROSSENTROPY ||
             loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY || loss == NNC_LOSS_POISSON;
    for (int64_t i = 0; i < m; i++) {
        const double s = sw ? (double)sw[i] : 1.0;
        const double scale = s * inv_m;
        const NNC_REAL *zi = z + i * K, *ai = a + i * K;
        NNC_REAL *di = delta ? delta + i * K : NULL;
        double li = 0.0;
        switch (loss) {
        case NNC_LOSS_MSE:
            for (int64_t k = 0; k < K; k++) {
                const double r = (double)ai[k] - (double)yv[i * K + k];
                li += 0.5 * r * r;
                if (di) di[k] = (NNC_REAL)(scale * r);
            }
            break;
        case NNC_LOSS_MAE:
            for (int64_t k = 0; k < K; k++) {
                const double r = (double)ai[k] - (double)yv[i * K + k];
                li += fabs(r);
                if (di) di[k] = (NNC_REAL)(scale * (r > 0 ? 1.0 : r < 0 ? -1.0 : 0.0));
            }
            break;
        case NNC_LOSS_HUBER:
            for (int64_t k = 0; k < K; k++) {
                const double r = (double)ai[k] - (double)yv[i * K + k];
                const double ar = fabs(r);
                li += ar <= 1.0 ? 0.5 * r * r : ar - 0.5;
                if (di) di[k] = (NNC_REAL)(scale * (ar <= 1.0 ? r : (r > 0 ? 1.0 : -1.0)));
            }
            break;
        case NNC_LOSS_BINARY_CROSSENTROPY:
            /* -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z, stable. */
            li = NNC_SFX(loss_map_sum)(NNC__MAP_SOFTPLUS, zi, K, 0.0, NULL);
            for (int64_t k = 0; k < K; k++) {
                const double zk = (double)zi[k], yk = (double)yv[i * K + k];
                li -= yk * zk;
                if (di) di[k] = (NNC_REAL)(scale * ((double)ai[k] - yk));
            }
            break;
        case NNC_LOSS_CATEGORICAL_CROSSENTROPY:
        case NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: {
            /* -sum_k y_k log softmax(z)_k = lse(z) sum_k y_k - sum_k y_k z_k. */
            if (i >= lse_to) {
                lse_from = i;
                lse_to = i + NNC_SFX(lse_rows)(z, i, m - i, K, lse_buf);
            }
            const double lse = lse_buf[i - lse_from];
            if (loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
                const int64_t c = labels[i];
                li = lse - (double)zi[c];
                if (di)
                    for (int64_t k = 0; k < K; k++)
                        di[k] = (NNC_REAL)(scale * ((double)ai[k] - (k == c ? 1.0 : 0.0)));
            } else {
                double ysum = 0.0, yz = 0.0;
                for (int64_t k = 0; k < K; k++) {
                    const double yk = (double)yv[i * K + k];
                    ysum += yk;
                    yz += yk * (double)zi[k];
                }
                li = lse * ysum - yz;
                /* Exact even when a row of y does not sum to 1. */
                if (di)
                    for (int64_t k = 0; k < K; k++)
                        di[k] = (NNC_REAL)(scale * ((double)ai[k] * ysum - (double)yv[i * K + k]));
            }
            break;
        }
        case NNC_LOSS_POISSON:
            /* Half the Poisson deviance of mu = exp(z) (docs/architecture.md,
             * Losses): y log(y/mu) - y + mu = y log y - y z - y + exp(z),
             * with 0 log 0 = 0; dJ/dz = exp(z) - y. */
            for (int64_t k = 0; k < K; k++) {
                const double zk = (double)zi[k], yk = (double)yv[i * K + k];
                double mu;
                nnc__map(NNC_FLOAT64, NNC__MAP_EXP, &zk, NULL, &mu, 1, 0.0);
                li += (yk > 0.0 ? yk * log(yk) : 0.0) - yk * zk - yk + mu;
                if (di) di[k] = (NNC_REAL)(scale * (mu - yk));
            }
            break;
        default:
            break;
        }
        total += s * li;
    }
    return total * inv_m;
}

#undef LOSS_CHUNK

/* sum over layers of sum(W^2): the L2 penalty before its lambda/(2m). */
static double NNC_SFX(weight_sq_sum)(const nnc_model *m) {
    const NNC_REAL *p = m->params;
    double total = 0.0;
    for (int l = 0; l < m->n_layers; l++) {
        const nnc__layer *L = &m->layers[l];
        const NNC_REAL *w = p + L->w_off;
        const int64_t count = L->fan_in * L->fan_out;
        for (int64_t i = 0; i < count; i++) total += (double)w[i] * (double)w[i];
    }
    return total;
}
