/*
 * nnc_kernels_gemm_impl.h - the SIMD GEMM of nnc_kernels.h and the finite
 * check, for one dtype and one instruction set: part of the SIMD kernel
 * template, nnc_kernels_simd_impl.h, which defines the vector macros it
 * uses (VEC, VL, NVMAX, KC, NC, V_FMA, ...).
 *
 * Design (BLIS/GotoBLAS blocking, written for row-major C):
 *  - Register tile MR x NR (MR = 6 rows of C, NR = NVMAX vectors): the
 *    micro-kernel keeps MR*NVMAX accumulators in registers; per k it loads
 *    NVMAX vectors of op(B) and broadcasts MR scalars of op(A).
 *  - op(B) is packed per KC x NC block into NR-wide panels (contiguous per
 *    k, zero padded to whole vectors); every row tile of C sweeps one
 *    panel before the next, so the KC x NR panel stays in L1 and only
 *    op(A)'s MR scalars per k come from L2. op(A) is read in place, so
 *    nothing is packed twice when threads split C by columns. With a
 *    single row tile op(B) is read in place too (batch-1 predict: no
 *    packing at all).
 *  - Each element is one chain of FMAs over k in order, started from C,
 *    the bias or 0; a KC block ends by storing the float and the next one
 *    reloads it, which is exact, so blocking never changes a bit.
 *  - The epilogue (relu and its derivative) runs on the registers after the
 *    last KC block; the bias is the accumulators' starting value; the bias
 *    gradient is one more row of C computed with a broadcast 1.
 */

#define MR 6
/* op(B) up to this size is read in place by every row tile (a third of a
 * 48 KB L1). */
#define IN_PLACE_B_BYTES 16384
#define NR (NVMAX * VL)
/* k steps ahead that a transposed op(A) is prefetched (bench/README.md,
 * "GEMM products"). */
#define PREFETCH_K 8
/* Elements per 64-byte cache line. */
#define LINE (64 / (int64_t)sizeof(NNC_REAL))

/* The register tile, for the kernel table (NNC__KERNEL_SET): the thread
 * split cuts C into whole tiles. */
enum { NNC_SFX(tile_mr) = MR, NNC_SFX(tile_nr) = NR };
_Static_assert((size_t)KC * NC * sizeof(NNC_REAL) <= NNC__GEMM_SCRATCH_BYTES,
               "a packed KC x NC block of op(B) must fit the per-thread scratch");

#define INIT_ZERO 0
#define INIT_C 1
#define INIT_BIAS 2

typedef struct {
    int64_t kc;
    const NNC_REAL *a;    /* op(A)(row 0 of the tile, k 0 of the block) */
    int64_t rs, cs; /* op(A)(r, k) = a[r*rs + k*cs] */
    const NNC_REAL *b;    /* op(B)(k 0, column 0 of the tile), k stride bs */
    int64_t bs;
    NNC_REAL *c;
    int64_t ldc;
    MASK mask;     /* lanes of the tile's last vector that lie inside C */
    int partial;   /* 0: the last vector is whole (plain loads and stores:
                      AVX2's masked ones are slow) */
    int init;
    const NNC_REAL *bias; /* at the tile's first column */
    int epi;
    NNC_REAL *d;
    int64_t ldd;
    const NNC_REAL *z;
    int64_t ldz;
    int *nonfinite;
    const NNC_REAL *a_next; /* the next row tile's op(A) at k 0, to prefetch, or NULL */
} NNC_SFX(ukr_args);

/* NNC__EPI_FINITE's verdict on a tile: s sums x * 0 of every stored
 * vector (0 for finite x, NaN for NaN and inf; lanes outside C hold 0 * 0
 * or a product of the same NaN or inf as a lane inside). */
static inline __attribute__((always_inline)) void NNC_SFX(flag_nonfinite)(
    const NNC_SFX(ukr_args) *u, VEC s) {
    if (!V_ALLZERO(s)) __atomic_store_n(u->nonfinite, 1, __ATOMIC_RELAXED);
}

/* One MR x (nv vectors) tile, mr <= MR rows; `packed` says whether b is a
 * zero-padded panel (plain loads) or op(B) in place (last vector masked).
 * Always inlined with constant mr/nv/packed so the accumulators live in
 * registers. */
static inline __attribute__((always_inline)) void NNC_SFX(ukr_body)(const NNC_SFX(ukr_args) *u,
                                                                 const int mr, const int nv,
                                                                 const int packed) {
    VEC acc[MR][NVMAX];
    const MASK mask = u->mask;
    const int partial = u->partial;
    const int64_t ldc = u->ldc;
    NNC_REAL *const c = u->c;
    if (u->init == INIT_C) {
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = v == nv - 1 && partial ? V_LOADM(c + r * ldc + v * VL, mask)
                                                   : V_LOADU(c + r * ldc + v * VL);
    } else if (u->init == INIT_BIAS) {
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            const VEC bv = v == nv - 1 && partial ? V_LOADM(u->bias + v * VL, mask)
                                                  : V_LOADU(u->bias + v * VL);
#pragma GCC unroll 8
            for (int r = 0; r < mr; r++) acc[r][v] = bv;
        }
    } else {
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) acc[r][v] = V_ZERO();
    }

    const NNC_REAL *ap[MR];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) ap[r] = u->a + r * u->rs;
    const NNC_REAL *b = u->b;
    const int64_t kc = u->kc, cs = u->cs, bs = u->bs;
    int64_t ak = 0;
    for (int64_t k = 0; k < kc; k++) {
        VEC bv[NVMAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            bv[v] = (!packed && v == nv - 1 && partial) ? V_LOADM(b + v * VL, mask)
                                                        : V_LOADU(b + v * VL);
        /* Transposed op(A) (the weight gradient's in^T) takes a new row
         * of A per k, lda apart: more than the hardware's stride
         * prefetcher follows (2 KiB) on the first layer. A prefetch past
         * the end of A never faults. */
        if (cs != 1) __builtin_prefetch(ap[0] + ak + PREFETCH_K * cs);
        /* The next row tile's rows, a cache line each per LINE k steps:
         * its op(A) (a batch of X read in place, prediction's rows) then
         * arrives from memory while this tile computes (bench/README.md,
         * "GEMM products"). */
        if (u->a_next && k % LINE == 0)
#pragma GCC unroll 8
            for (int r = 0; r < MR; r++) __builtin_prefetch(u->a_next + r * u->rs + k);
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            const VEC av = V_SET1(ap[r][ak]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) acc[r][v] = V_FMA(av, bv[v], acc[r][v]);
        }
        ak += cs;
        b += bs;
    }

    const int epi = u->epi;
    VEC finite_sum = V_ZERO();
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            VEC x = acc[r][v];
            const int last = v == nv - 1 && partial;
            if (epi == NNC__EPI_FINITE) finite_sum = V_ADD(finite_sum, V_MUL0(x));
            if (epi == NNC__EPI_RELU_GRAD) {
                const NNC_REAL *zp = u->z + r * u->ldz + v * VL;
                x = V_RELU_GRAD(x, last ? V_LOADM(zp, mask) : V_LOADU(zp));
            }
            NNC_REAL *cp = c + r * ldc + v * VL;
            if (last)
                V_STOREM(cp, mask, x);
            else
                V_STOREU(cp, x);
            if (epi == NNC__EPI_RELU) {
                NNC_REAL *dp = u->d + r * u->ldd + v * VL;
                if (last)
                    V_STOREM(dp, mask, V_RELU(x));
                else
                    V_STOREU(dp, V_RELU(x));
            }
        }
    }
    if (epi == NNC__EPI_FINITE) NNC_SFX(flag_nonfinite)(u, finite_sum);
}

typedef void (*NNC_SFX(ukr_fn))(const NNC_SFX(ukr_args) *u);

/* One row of C against op(B) in place, up to ROW_NV vectors wide: the
 * batch-1 case (predict on one sample), where op(B) is streamed once,
 * row by row, with ROW_NV independent FMA chains in flight. Same
 * arithmetic per element as the tile kernel. */
#define ROW_NV 8
static inline __attribute__((always_inline)) void NNC_SFX(ukr_row_body)(const NNC_SFX(ukr_args) *u,
                                                                     const int nv) {
    VEC acc[ROW_NV];
    const MASK mask = u->mask;
    const int partial = u->partial;
    NNC_REAL *const c = u->c;
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
        const int last = v == nv - 1 && partial;
        if (u->init == INIT_C)
            acc[v] = last ? V_LOADM(c + v * VL, mask) : V_LOADU(c + v * VL);
        else if (u->init == INIT_BIAS)
            acc[v] = last ? V_LOADM(u->bias + v * VL, mask) : V_LOADU(u->bias + v * VL);
        else
            acc[v] = V_ZERO();
    }
    const NNC_REAL *a = u->a, *b = u->b;
    const int64_t kc = u->kc, cs = u->cs, bs = u->bs;
    for (int64_t k = 0; k < kc; k++, a += cs, b += bs) {
        const VEC av = V_SET1(*a);
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++)
            acc[v] = V_FMA(av, v == nv - 1 && partial ? V_LOADM(b + v * VL, mask)
                                                      : V_LOADU(b + v * VL),
                           acc[v]);
    }
    VEC finite_sum = V_ZERO();
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) {
        VEC x = acc[v];
        const int last = v == nv - 1 && partial;
        if (u->epi == NNC__EPI_FINITE) finite_sum = V_ADD(finite_sum, V_MUL0(x));
        if (u->epi == NNC__EPI_RELU_GRAD)
            x = V_RELU_GRAD(x, last ? V_LOADM(u->z + v * VL, mask) : V_LOADU(u->z + v * VL));
        if (last)
            V_STOREM(c + v * VL, mask, x);
        else
            V_STOREU(c + v * VL, x);
        if (u->epi == NNC__EPI_RELU) {
            if (last)
                V_STOREM(u->d + v * VL, mask, V_RELU(x));
            else
                V_STOREU(u->d + v * VL, V_RELU(x));
        }
    }
    if (u->epi == NNC__EPI_FINITE) NNC_SFX(flag_nonfinite)(u, finite_sum);
}

#define ROW_DEF(nv) \
    static void NNC_SFX(ukr_row_##nv)(const NNC_SFX(ukr_args) *u) { NNC_SFX(ukr_row_body)(u, nv); }
ROW_DEF(1)
ROW_DEF(2)
ROW_DEF(3)
ROW_DEF(4)
ROW_DEF(5)
ROW_DEF(6)
ROW_DEF(7)
ROW_DEF(8)
#undef ROW_DEF
static const NNC_SFX(ukr_fn) NNC_SFX(row_table)[ROW_NV] = {
    NNC_SFX(ukr_row_1), NNC_SFX(ukr_row_2), NNC_SFX(ukr_row_3), NNC_SFX(ukr_row_4),
    NNC_SFX(ukr_row_5), NNC_SFX(ukr_row_6), NNC_SFX(ukr_row_7), NNC_SFX(ukr_row_8)};

#define UKR_DEF(mr, nv, packed)                                                 \
    static void NNC_SFX(ukr_##mr##_##nv##_##packed)(const NNC_SFX(ukr_args) *u) {       \
        NNC_SFX(ukr_body)(u, mr, nv, packed);                                       \
    }
#define UKR_DEFS_NV(nv, packed) \
    UKR_DEF(1, nv, packed)      \
    UKR_DEF(2, nv, packed)      \
    UKR_DEF(3, nv, packed)      \
    UKR_DEF(4, nv, packed)      \
    UKR_DEF(5, nv, packed)      \
    UKR_DEF(6, nv, packed)

UKR_DEFS_NV(1, 0)
UKR_DEFS_NV(1, 1)
UKR_DEFS_NV(2, 0)
UKR_DEFS_NV(2, 1)
#if NVMAX == 4
UKR_DEFS_NV(3, 0)
UKR_DEFS_NV(3, 1)
UKR_DEFS_NV(4, 0)
UKR_DEFS_NV(4, 1)
#define UKR_ROW(mr, packed)                                                      \
    {NNC_SFX(ukr_##mr##_1_##packed), NNC_SFX(ukr_##mr##_2_##packed),                       \
     NNC_SFX(ukr_##mr##_3_##packed), NNC_SFX(ukr_##mr##_4_##packed)}
#elif NVMAX == 2
#define UKR_ROW(mr, packed) {NNC_SFX(ukr_##mr##_1_##packed), NNC_SFX(ukr_##mr##_2_##packed)}
#else
#error "NVMAX must be 2 or 4"
#endif
#define UKR_TABLE(packed)                                                                   \
    {UKR_ROW(1, packed), UKR_ROW(2, packed), UKR_ROW(3, packed), UKR_ROW(4, packed),        \
     UKR_ROW(5, packed), UKR_ROW(6, packed)}

/* [packed][mr - 1][nv - 1] */
static const NNC_SFX(ukr_fn) NNC_SFX(ukr_table)[2][MR][NVMAX] = {UKR_TABLE(0), UKR_TABLE(1)};

#undef UKR_TABLE
#undef UKR_ROW
#undef UKR_DEFS_NV
#undef UKR_DEF

/* Pack op(B)(pc.., jc..) (trans_b 0: rows of B) as panels of NR columns:
 * panel jr at dst + jr*kc, k stride nv*VL, zeros past column nc. Each row
 * of B is read once, front to back, and dealt out to the panels. */
static void NNC_SFX(pack_bn)(const NNC_REAL *B, int64_t ldb, int64_t pc, int64_t kc,
                             int64_t jc, int64_t nc, NNC_REAL *dst) {
    const int64_t full = nc / NR;           /* whole panels */
    const int64_t rest = nc - full * NR;    /* columns of the last, narrower one */
    const int nv_last = (int)((rest + VL - 1) / VL);
    const MASK mask = MASK_FIRST(rest % VL ? (int)(rest % VL) : VL);
    const NNC_REAL *s = B + pc * ldb + jc;
    for (int64_t k = 0; k < kc; k++, s += ldb) {
        NNC_REAL *p = dst + k * NR;
        for (int64_t q = 0; q < full; q++, p += NR * kc)
            for (int v = 0; v < NVMAX; v++) V_STOREU(p + v * VL, V_LOADU(s + q * NR + v * VL));
        if (rest) {
            NNC_REAL *pl = dst + full * NR * kc + k * (int64_t)nv_last * VL;
            const NNC_REAL *sl = s + full * NR;
            for (int v = 0; v < nv_last - 1; v++) V_STOREU(pl + v * VL, V_LOADU(sl + v * VL));
            V_STOREU(pl + (nv_last - 1) * VL, V_LOADM(sl + (nv_last - 1) * VL, mask));
        }
    }
}

/* Same for trans_b 1: column j of op(B) is row j of B, so this transposes. */
static void NNC_SFX(pack_bt)(const NNC_REAL *B, int64_t ldb, int64_t pc, int64_t kc,
                             int64_t jc, int64_t nc, NNC_REAL *dst) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        const int64_t w = nc - jr < NR ? nc - jr : NR;
        const int nv = (int)((w + VL - 1) / VL);
        const int64_t bs = (int64_t)nv * VL;
        NNC_REAL *p = dst + jr * kc;
        const NNC_REAL *s = B + (jc + jr) * ldb + pc;
        int64_t c = 0;
#ifdef PACK_BT
        /* Whole VL x VL squares with the in-register transpose. */
        for (; c + VL <= w; c += VL) {
            int64_t k = 0;
            for (; k + VL <= kc; k += VL) PACK_BT(p + k * bs + c, bs, s + c * ldb + k, ldb);
            for (; k < kc; k++)
                for (int64_t i = 0; i < VL; i++) p[k * bs + c + i] = s[(c + i) * ldb + k];
        }
#endif
        for (; c < w; c++)
            for (int64_t k = 0; k < kc; k++) p[k * bs + c] = s[c * ldb + k];
        for (; c < bs; c++)
            for (int64_t k = 0; k < kc; k++) p[k * bs + c] = 0;
    }
}

/* Point u at the row tile of op(A) that starts at row ir (the ones row
 * when ir >= M) and return where it ends. */
static inline int64_t NNC_SFX(row_tile)(const nnc__gemm_desc *d, NNC_SFX(ukr_args) *u, int64_t ir,
                                        int64_t m1, int64_t pc, int64_t rs, int64_t cs) {
    static const NNC_REAL one = 1;
    if (ir >= d->M) {
        u->a = &one;
        u->rs = 0;
        u->cs = 0;
        u->a_next = NULL;
        return ir + 1;
    }
    int64_t iend = ir + MR < m1 ? ir + MR : m1;
    if (iend > d->M) iend = d->M;
    u->a = (const NNC_REAL *)d->A + ir * rs + pc * cs;
    u->rs = rs;
    u->cs = cs;
    /* Rows along k (cs 1) are streams worth prefetching; a transposed
     * op(A) is prefetched by k (PREFETCH_K) instead. */
    u->a_next = cs == 1 && iend < d->M && iend < m1
                    ? (const NNC_REAL *)d->A + iend * rs + pc * cs : NULL;
    return iend;
}

static void NNC_SFX(gemm)(const nnc__gemm_desc *d, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                      void *scratch) {
    if (m0 >= m1 || n0 >= n1) return;
    const NNC_REAL *B = d->B, *bias = d->bias;
    NNC_REAL *C = d->C;
    const int64_t K = d->K, ldc = d->ldc, ldb = d->ldb;
    const int64_t rs = d->trans_a ? 1 : d->lda, cs = d->trans_a ? d->lda : 1;
    /* op(B) is reused by every row tile: pack it unless there is one tile
     * or it is small enough to stay in L1 where it is (a small net's
     * weights: packing would cost as much as the product) in whole
     * vectors (no masked loads, slow on AVX2), and it is not transposed,
     * which only the packing can undo. */
    const int small_b = K * (n1 - n0) * (int64_t)sizeof(NNC_REAL) <= IN_PLACE_B_BYTES &&
                        (n1 - n0) % VL == 0;
    const int packed = d->trans_b || (m1 - m0 > MR && !small_b);
    NNC_REAL *bp = scratch;
    /* K in equal blocks of at most KC (784 = 4 x 196, not 3 x 256 + 16). */
    const int64_t kblocks = K > KC ? (K + KC - 1) / KC : 1;
    const int64_t kstep = (K + kblocks - 1) / kblocks;
    for (int64_t jc = n0; jc < n1; jc += NC) {
        const int64_t nc = n1 - jc < NC ? n1 - jc : NC;
        int64_t pc = 0;
        do {
            const int64_t kc = K - pc < kstep ? K - pc : kstep;
            const int first = pc == 0, last = pc + kc >= K;
            if (packed) {
                if (d->trans_b)
                    NNC_SFX(pack_bt)(B, ldb, pc, kc, jc, nc, bp);
                else
                    NNC_SFX(pack_bn)(B, ldb, pc, kc, jc, nc, bp);
            }
            NNC_SFX(ukr_args) u = {0};
            u.kc = kc;
            u.ldc = ldc;
            u.init = first ? (d->accumulate ? INIT_C : bias ? INIT_BIAS : INIT_ZERO) : INIT_C;
            u.epi = last ? (int)d->epilogue : NNC__EPI_NONE;
            u.ldd = d->ldd;
            u.ldz = d->ldz;
            u.nonfinite = d->nonfinite;
            if (packed) {
                /* Panel by panel: one KC x NR panel stays in L1 while every
                 * row tile of C sweeps it (only op(A)'s MR scalars per k
                 * come from L2). */
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const int64_t w = nc - jr < NR ? nc - jr : NR;
                    const int nv = (int)((w + VL - 1) / VL);
                    const int64_t j = jc + jr;
                    u.mask = MASK_FIRST((int)(w - (int64_t)(nv - 1) * VL));
                    u.partial = w < (int64_t)nv * VL;
                    u.b = bp + jr * kc;
                    u.bs = (int64_t)nv * VL;
                    u.bias = bias ? bias + j : NULL;
                    for (int64_t ir = m0; ir < m1;) {
                        const int64_t iend = NNC_SFX(row_tile)(d, &u, ir, m1, pc, rs, cs);
                        u.c = C + ir * ldc + j;
                        if (d->epilogue == NNC__EPI_RELU) u.d = (NNC_REAL *)d->D + ir * d->ldd + j;
                        if (d->epilogue == NNC__EPI_RELU_GRAD)
                            u.z = (const NNC_REAL *)d->Z + ir * d->ldz + j;
                        NNC_SFX(ukr_table)[1][iend - ir - 1][nv - 1](&u);
                        ir = iend;
                    }
                }
            } else {
                /* One row tile of op(A) (plus the ones row), or op(B)
                 * small: op(B) read in place; a single row streams it once. */
                for (int64_t ir = m0; ir < m1;) {
                    const int64_t iend = NNC_SFX(row_tile)(d, &u, ir, m1, pc, rs, cs);
                    const int mr = (int)(iend - ir);
                    const int row = mr == 1;
                    const int64_t step = row ? (int64_t)ROW_NV * VL : NR;
                    for (int64_t jr = 0; jr < nc; jr += step) {
                        const int64_t w = nc - jr < step ? nc - jr : step;
                        const int nv = (int)((w + VL - 1) / VL);
                        const int64_t j = jc + jr;
                        u.mask = MASK_FIRST((int)(w - (int64_t)(nv - 1) * VL));
                        u.partial = w < (int64_t)nv * VL;
                        u.b = B + pc * ldb + j;
                        u.bs = ldb;
                        u.c = C + ir * ldc + j;
                        u.bias = bias ? bias + j : NULL;
                        if (d->epilogue == NNC__EPI_RELU) u.d = (NNC_REAL *)d->D + ir * d->ldd + j;
                        if (d->epilogue == NNC__EPI_RELU_GRAD)
                            u.z = (const NNC_REAL *)d->Z + ir * d->ldz + j;
                        if (row)
                            NNC_SFX(row_table)[nv - 1](&u);
                        else
                            NNC_SFX(ukr_table)[0][mr - 1][nv - 1](&u);
                    }
                    ir = iend;
                }
            }
            pc += kc;
        } while (pc < K);
    }
}

static int NNC_SFX(all_finite)(const NNC_REAL *v, int64_t n) {
    /* x * 0 is 0 for finite x, NaN for NaN and inf; NaN survives the sums. */
    VEC s0 = V_ZERO(), s1 = V_ZERO(), s2 = V_ZERO(), s3 = V_ZERO();
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        s0 = V_ADD(s0, V_MUL0(V_LOADU(v + i)));
        s1 = V_ADD(s1, V_MUL0(V_LOADU(v + i + VL)));
        s2 = V_ADD(s2, V_MUL0(V_LOADU(v + i + 2 * VL)));
        s3 = V_ADD(s3, V_MUL0(V_LOADU(v + i + 3 * VL)));
    }
    for (; i + VL <= n; i += VL) s0 = V_ADD(s0, V_MUL0(V_LOADU(v + i)));
    if (i < n) s0 = V_ADD(s0, V_MUL0(V_LOADM(v + i, MASK_FIRST((int)(n - i)))));
    return V_ALLZERO(V_ADD(V_ADD(s0, s1), V_ADD(s2, s3)));
}

#undef INIT_ZERO
#undef INIT_C
#undef INIT_BIAS
#undef MR
#undef IN_PLACE_B_BYTES
#undef NR
#undef PREFETCH_K
#undef LINE
#undef ROW_NV
