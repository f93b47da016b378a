/*
 * nnc_clip_impl.h - gradient clipping, a template (nnc_template.h) that
 * nnc_clip.c instantiates. Sums of squares are accumulated in double in
 * index order (one thread), so the result is the same for every kernel set
 * and thread count.
 */

static double NNC_SFX(sum_squares)(const NNC_REAL *g, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

static void NNC_SFX(scale)(NNC_REAL *g, int64_t n, double factor) {
    const NNC_REAL f = (NNC_REAL)factor;
    for (int64_t i = 0; i < n; i++) g[i] = g[i] * f;
}

/* torch.nn.utils.clip_grad_value_: clamp to [-v, v]. */
static void NNC_SFX(clip_value)(NNC_REAL *g, int64_t n, double value) {
    const NNC_REAL hi = (NNC_REAL)value, lo = -hi;
    for (int64_t i = 0; i < n; i++) g[i] = g[i] < lo ? lo : g[i] > hi ? hi : g[i];
}

/* Keras's clip_by_norm on one tensor: g * c / max(||g||, c), applied
 * whatever the norm (as Keras does), ||g|| = 0 for an all-zero tensor. */
static void NNC_SFX(clip_tensor_norm)(NNC_REAL *g, int64_t n, double c) {
    const double norm = sqrt(NNC_SFX(sum_squares)(g, n));
    const NNC_REAL num = (NNC_REAL)c, den = (NNC_REAL)(norm > c ? norm : c);
    for (int64_t i = 0; i < n; i++) g[i] = g[i] * num / den;
}

/* torch.nn.utils.clip_grad_norm_: the norm of the tensors' norms, and
 * every gradient times min(1, max_norm / (total + 1e-6)). */
static void NNC_SFX(clip_global_norm)(NNC_REAL *g, const int64_t *len, int64_t n_tensors,
                                      double max_norm) {
    double total = 0.0;
    int64_t off = 0;
    for (int64_t t = 0; t < n_tensors; t++) {
        const double norm = sqrt(NNC_SFX(sum_squares)(g + off, len[t]));
        total += norm * norm;
        off += len[t];
    }
    const double coef = max_norm / (sqrt(total) + 1e-6);
    if (coef < 1.0) NNC_SFX(scale)(g, off, coef); /* times 1 would change nothing */
}

static void NNC_SFX(clip)(const nnc_optimizer_config *c, NNC_REAL *g, const int64_t *len,
                          int64_t n_tensors) {
    if (c->clipvalue != 0.0) {
        int64_t n = 0;
        for (int64_t t = 0; t < n_tensors; t++) n += len[t];
        NNC_SFX(clip_value)(g, n, c->clipvalue);
    } else if (c->global_clipnorm != 0.0) {
        NNC_SFX(clip_global_norm)(g, len, n_tensors, c->global_clipnorm);
    } else if (c->clipnorm != 0.0) {
        for (int64_t t = 0, off = 0; t < n_tensors; off += len[t], t++)
            NNC_SFX(clip_tensor_norm)(g + off, len[t], c->clipnorm);
    }
}
