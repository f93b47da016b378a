/*
 * nnc_kernels_ref_impl.h - the reference kernels for one dtype, a template
 * (nnc_template.h) that nnc_kernels_ref.c instantiates.
 */

/* No register tile: the thread split cuts C into blocks of 4 rows or of
 * one cache line of columns. */
enum { NNC_SFX(tile_mr) = 4, NNC_SFX(tile_nr) = 64 / sizeof(NNC_REAL) };

/* acc[j - n0] for row i of op(A) . op(B), started from `init`. */
static void NNC_SFX(row)(const nnc__gemm_desc *d, int64_t i, int64_t n0, int64_t n1,
                         NNC_REAL *acc) {
    const NNC_REAL *A = d->A, *B = d->B;
    const int ones = i == d->M;
    for (int64_t k = 0; k < d->K; k++) {
        const NNC_REAL a = ones         ? (NNC_REAL)1
                           : d->trans_a ? A[k * d->lda + i]
                                        : A[i * d->lda + k];
        if (d->trans_b) {
            for (int64_t j = n0; j < n1; j++) acc[j - n0] += a * B[j * d->ldb + k];
        } else {
            const NNC_REAL *b = B + k * d->ldb;
            for (int64_t j = n0; j < n1; j++) acc[j - n0] += a * b[j];
        }
    }
}

static void NNC_SFX(gemm)(const nnc__gemm_desc *d, int64_t m0, int64_t m1, int64_t n0,
                          int64_t n1, void *scratch) {
    (void)scratch;
    const NNC_REAL *bias = d->bias, *Z = d->Z;
    for (int64_t i = m0; i < m1; i++) {
        NNC_REAL *c = (NNC_REAL *)d->C + i * d->ldc;
        /* Accumulate in place in C's row: it is the output anyway. */
        for (int64_t j = n0; j < n1; j++)
            c[j] = d->accumulate ? c[j] : bias ? bias[j] : (NNC_REAL)0;
        NNC_SFX(row)(d, i, n0, n1, c + n0);
        if (d->epilogue == NNC__EPI_RELU) {
            NNC_REAL *out = (NNC_REAL *)d->D + i * d->ldd;
            for (int64_t j = n0; j < n1; j++) out[j] = c[j] > 0 ? c[j] : (NNC_REAL)0;
        } else if (d->epilogue == NNC__EPI_RELU_GRAD) {
            const NNC_REAL *z = Z + i * d->ldz;
            for (int64_t j = n0; j < n1; j++) c[j] = c[j] * (z[j] > 0 ? (NNC_REAL)1 : (NNC_REAL)0);
        } else if (d->epilogue == NNC__EPI_FINITE) {
            for (int64_t j = n0; j < n1; j++)
                if (!(c[j] - c[j] == 0)) __atomic_store_n(d->nonfinite, 1, __ATOMIC_RELAXED);
        }
    }
}

/* Adam / AdamW, torch.optim's single-tensor formulas in one pass with
 * fused multiply-adds (docs/design.md, Step and fit overhead): each
 * product-and-sum of torch's code is one fma(), the division by
 * sqrt(bias_correction2) a product with its reciprocal, so a step costs
 * one square root and one division per element; the double constants of
 * nnc__adam_desc are cast to the element type as torch casts a Python
 * scalar. The SIMD kernels repeat these operations lane by lane (fma() is
 * their fused multiply-add, bit for bit). */
static void NNC_SFX(adam)(const nnc__adam_desc *d, int64_t begin, int64_t end) {
    NNC_REAL *p = d->p, *m = d->m, *v = d->v, *vmax = d->vmax;
    const NNC_REAL *g = d->g;
    const NNC_REAL decay = (NNC_REAL)d->decay, wd = (NNC_REAL)d->wd, w1 = (NNC_REAL)d->w1;
    const NNC_REAL beta2 = (NNC_REAL)d->beta2, omb2 = (NNC_REAL)d->omb2, eps = (NNC_REAL)d->eps;
    const NNC_REAL inv_bc2s = (NNC_REAL)(1.0 / d->bc2s), nss = (NNC_REAL)d->nss;
    /* torch.lerp(m, g, w1): two forms that keep the endpoints exact */
    const int lerp_low = (w1 < 0 ? -w1 : w1) < (NNC_REAL)0.5;
    for (int64_t i = begin; i < end; i++) {
        NNC_REAL gi = g[i], pi = p[i];
        if (d->use_wd) {
            if (d->decoupled)
                pi = pi * decay;
            else
                gi = NNC_FMA(wd, pi, gi);
        }
        const NNC_REAL mi = lerp_low ? NNC_FMA(w1, gi - m[i], m[i])
                                     : NNC_FMA(m[i] - gi, (NNC_REAL)1 - w1, gi);
        m[i] = mi;
        NNC_REAL vi = NNC_FMA(omb2 * gi, gi, v[i] * beta2);
        v[i] = vi;
        if (d->amsgrad) { /* torch.maximum: a NaN wins */
            const NNC_REAL a = vmax[i];
            vi = a != a ? a : vi != vi ? vi : a > vi ? a : vi;
            vmax[i] = vi;
        }
        const NNC_REAL denom = NNC_FMA(NNC_SQRT(vi), inv_bc2s, eps);
        p[i] = NNC_FMA(nss, mi / denom, pi);
    }
}

static int NNC_SFX(all_finite)(const NNC_REAL *v, int64_t n) {
    /* x * 0 is 0 for finite x, NaN for NaN and inf. */
    for (int64_t i = 0; i < n; i++)
        if (v[i] * (NNC_REAL)0 != (NNC_REAL)0) return 0;
    return 1;
}
