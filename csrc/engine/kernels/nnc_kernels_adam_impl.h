/*
 * nnc_kernels_adam_impl.h - Adam / AdamW over a range of the flat buffers
 * for one dtype and instruction set: part of the SIMD kernel template,
 * nnc_kernels_simd_impl.h (V_MAXNAN(a, b) is torch.maximum).
 *
 * It is the reference kernel's adam (nnc_kernels_ref_impl.h), operation by
 * operation, on vectors: the same products, fused multiply-adds and
 * quotients in the same order, each correctly rounded, so every lane gets
 * the bits the scalar loop gets (the kernel tests check this bit for bit). */

static void NNC_SFX(adam)(const nnc__adam_desc *d, int64_t begin, int64_t end) {
    NNC_REAL *p = d->p, *m = d->m, *v = d->v, *vmax = d->vmax;
    const NNC_REAL *g = d->g;
    const VEC decay = V_SET1((NNC_REAL)d->decay), wd = V_SET1((NNC_REAL)d->wd);
    const NNC_REAL w1s = (NNC_REAL)d->w1;
    const VEC w1 = V_SET1(w1s), one_minus_w1 = V_SET1((NNC_REAL)1 - w1s);
    const int lerp_low = (w1s < 0 ? -w1s : w1s) < (NNC_REAL)0.5; /* torch.lerp's two forms */
    const VEC beta2 = V_SET1((NNC_REAL)d->beta2), omb2 = V_SET1((NNC_REAL)d->omb2);
    const VEC eps = V_SET1((NNC_REAL)d->eps), inv_bc2s = V_SET1((NNC_REAL)(1.0 / d->bc2s));
    const VEC nss = V_SET1((NNC_REAL)d->nss);
    for (int64_t i = begin; i < end; i += VL) {
        const int full = end - i >= VL;
        const MASK mask = MASK_FIRST(full ? VL : (int)(end - i));
#define LD(ptr) (full ? V_LOADU((ptr) + i) : V_LOADM((ptr) + i, mask))
#define ST(ptr, x)                            \
    do {                                      \
        if (full)                             \
            V_STOREU((ptr) + i, (x));         \
        else                                  \
            V_STOREM((ptr) + i, mask, (x));   \
    } while (0)
        VEC gi = LD(g), pi = LD(p);
        if (d->use_wd) {
            if (d->decoupled)
                pi = V_MUL(pi, decay);
            else
                gi = V_FMA(wd, pi, gi);
        }
        const VEC mo = LD(m);
        const VEC mi = lerp_low ? V_FMA(w1, V_SUB(gi, mo), mo)
                                : V_FMA(V_SUB(mo, gi), one_minus_w1, gi);
        ST(m, mi);
        VEC vi = V_FMA(V_MUL(omb2, gi), gi, V_MUL(LD(v), beta2));
        ST(v, vi);
        if (d->amsgrad) {
            vi = V_MAXNAN(LD(vmax), vi);
            ST(vmax, vi);
        }
        const VEC denom = V_FMA(V_SQRT(vi), inv_bc2s, eps);
        ST(p, V_FMA(nss, V_DIV(mi, denom), pi));
#undef LD
#undef ST
    }
}
