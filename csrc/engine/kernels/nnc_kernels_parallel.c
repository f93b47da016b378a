/*
 * nnc_kernels_parallel.c - the kernels of the active set, split over the
 * thread pool.
 *
 * A matrix product: C is cut into blocks of whole register tiles, by
 * columns (each block packs only its own part of op(B) and reads all of
 * op(A)) or by rows (each reads its own rows of op(A) and packs all of
 * op(B)), whichever duplicates the smaller operand; never along K.
 * Threads take the blocks as they become free. Every element is
 * computed by the same sequence of operations whatever the cut, so the
 * result is bit-identical for any number of threads.
 *
 * The finite check: ranges of the vector, one verdict per range, combined.
 *
 * Adam: ranges of the parameters, each updated by one thread. The update
 * is element-wise, so the split never changes a bit; the vector kernels
 * make it memory-bound rather than bound by the divider (the scalar loop
 * takes about 11 cycles a parameter).
 */
#include "nnc_kernels.h"

#include <string.h>
#include "nnc_threads.h"

/* Below this many multiply-adds per thread, waking a thread costs more
 * than it saves. */
#define MIN_MACS_PER_THREAD ((int64_t)1 << 17)

#define MAX_CHUNKS 256 /* >= the pool's maximum thread count */

typedef struct {
    const nnc__gemm_desc *d;
    nnc__gemm_block_fn fn;
    int by_cols;
    int64_t unit, extent;
    int chunks;
    int64_t bounds[MAX_CHUNKS + 1]; /* chunk c: units [bounds[c], bounds[c + 1]) */
    unsigned char skipped[MAX_CHUNKS]; /* a worker had no packing buffer for it */
} split;

static void run_chunk(void *vctx, int c) {
    const split *s = vctx;
    const int64_t lo = s->bounds[c] * s->unit;
    const int64_t hi = s->bounds[c + 1] * s->unit < s->extent ? s->bounds[c + 1] * s->unit
                                                                 : s->extent;
    void *scratch = nnc__thread_scratch(NNC__GEMM_SCRATCH_BYTES);
    nnc__gemm_block_fn fn = s->fn;
    if (!scratch) {
        /* A worker without its packing buffer leaves the chunk to the
         * caller (whose buffer nnc__workspace_reserve guaranteed): the same
         * kernel computes it, so results never depend on memory pressure. */
        ((split *)vctx)->skipped[c] = 1;
        return;
    }
    const nnc__gemm_desc *d = s->d;
    if (s->by_cols)
        fn(d, 0, d->M + d->ones_row, lo, hi, scratch);
    else
        fn(d, lo, hi, 0, d->N, scratch);
}

/* ceil(units / n) * n / units: how much the busiest of n threads exceeds
 * the average, as a ratio >= 1. */
static double imbalance(int64_t units, int n) {
    return (double)((units + n - 1) / n * n) / (double)units;
}

/* Cut `units` into chunks for n threads, taken by whichever thread is
 * free. `guided`: chunks shrink as the work runs out (half of what is left,
 * spread over the threads), so that a thread slowed down by other work on
 * its core takes fewer of them; else n equal chunks. */
static void plan(split *s, int64_t units, int n, int guided) {
    int c = 0;
    s->bounds[0] = 0;
    if (!guided) {
        for (c = 0; c < n; c++) s->bounds[c + 1] = units * (c + 1) / n;
        s->chunks = n;
        return;
    }
    int64_t done = 0;
    while (done < units) {
        int64_t size = (units - done + 2 * n - 1) / (2 * n);
        if (c == MAX_CHUNKS - 1 || size > units - done) size = units - done;
        done += size;
        s->bounds[++c] = done;
    }
    s->chunks = c;
}

/* A narrow product - C a few columns wide and many rows, as the output
 * layer of a small classifier and its weight gradient - fills a few lanes
 * of each register tile, one short tile after another, each a chain of
 * FMAs waiting on the one before. Computed transposed, C^T = op(B)^T .
 * op(A)^T into a buffer, C's columns become the tile's vectors. Each
 * element is still its initial value followed by the products over k in
 * order (a product does not depend on the order of its factors), and the
 * ones row (the bias gradient) is a plain sum in order, as the kernels'
 * ones row is: the same bits as the direct product (docs/design.md,
 * "Small-data step"). NNC__EPI_FINITE passes to the transposed product
 * (the same values) and checks the ones row's sums. Returns 0 when the product is not narrow or a
 * packing buffer is missing (the caller then runs it directly). */
#define NARROW_MAX_COLS 4
#define NARROW_MIN_ROWS 12
#define NARROW_MAX_ELEMS 2048

#define NARROW_DEF(T, sfx)                                                                      \
    static int narrow_gemm_##sfx(nnc__gemm_block_fn fn, const nnc__gemm_desc *d) {              \
        _Alignas(64) T ct[NARROW_MAX_ELEMS]; /* C^T: N rows of M */                              \
        const int64_t M = d->M, N = d->N, K = d->K;                                              \
        const T *bias = d->bias, *B = d->B;                                                      \
        T *C = d->C;                                                                             \
        void *scratch = nnc__thread_scratch(NNC__GEMM_SCRATCH_BYTES);                            \
        if (!scratch) return 0;                                                                  \
        for (int64_t j = 0; j < N; j++)                                                          \
            for (int64_t i = 0; i < M; i++)                                                      \
                ct[j * M + i] = d->accumulate ? C[i * d->ldc + j] : bias ? bias[j] : (T)0;       \
        const nnc__gemm_desc t = {.M = N, .N = M, .K = K,                                        \
                                  .trans_a = !d->trans_b, .A = d->B, .lda = d->ldb,              \
                                  .trans_b = !d->trans_a, .B = d->A, .ldb = d->lda,              \
                                  .C = ct, .ldc = M, .accumulate = 1,                            \
                                  .epilogue = d->epilogue, .nonfinite = d->nonfinite};           \
        fn(&t, 0, N, 0, M, scratch);                                                             \
        for (int64_t i = 0; i < M; i++)                                                          \
            for (int64_t j = 0; j < N; j++) C[i * d->ldc + j] = ct[j * M + i];                   \
        if (d->ones_row) {                                                                       \
            T *c1 = C + M * d->ldc;                                                              \
            for (int64_t j = 0; j < N; j++) {                                                    \
                T acc = d->accumulate ? c1[j] : bias ? bias[j] : (T)0;                           \
                for (int64_t k = 0; k < K; k++)                                                  \
                    acc += d->trans_b ? B[j * d->ldb + k] : B[k * d->ldb + j];                   \
                c1[j] = acc;                                                                     \
                if (d->epilogue == NNC__EPI_FINITE && !(acc - acc == 0))                         \
                    __atomic_store_n(d->nonfinite, 1, __ATOMIC_RELAXED);                         \
            }                                                                                    \
        }                                                                                        \
        return 1;                                                                                \
    }
NARROW_DEF(float, f32)
NARROW_DEF(double, f64)
#undef NARROW_DEF

static int is_narrow(const nnc__gemm_desc *d) {
    return (d->epilogue == NNC__EPI_NONE || d->epilogue == NNC__EPI_FINITE) &&
           d->N <= NARROW_MAX_COLS && d->M >= NARROW_MIN_ROWS &&
           d->K >= 1 && d->M * d->N <= NARROW_MAX_ELEMS;
}

void nnc__gemm(nnc_dtype dtype, const nnc__gemm_desc *d) {
    const nnc__kernels *k = nnc__kernels_active();
    const int f32 = dtype == NNC_FLOAT32;
    const int64_t rows = d->M + (d->ones_row ? 1 : 0);
    if (rows <= 0 || d->N <= 0) return;
    split s;
    s.d = d;
    s.fn = f32 ? k->gemm_f32 : k->gemm_f64;
    const int64_t mr = f32 ? k->mr_f32 : k->mr_f64, nr = f32 ? k->nr_f32 : k->nr_f64;
    const int64_t row_units = (rows + mr - 1) / mr, col_units = (d->N + nr - 1) / nr;
    const int64_t macs = rows * d->N * (d->K > 0 ? d->K : 1);
    int64_t n = nnc__thread_count();
    if (n > macs / MIN_MACS_PER_THREAD) n = macs / MIN_MACS_PER_THREAD;
    if (n > row_units && n > col_units) n = row_units > col_units ? row_units : col_units;
    if (n < 1) n = 1;
    if (n == 1) {
        if (is_narrow(d) && (f32 ? narrow_gemm_f32(s.fn, d) : narrow_gemm_f64(s.fn, d))) return;
        s.by_cols = 1;
        s.unit = d->N;
        s.extent = d->N;
        s.chunks = 1;
        s.bounds[0] = 0;
        s.bounds[1] = 1;
        s.skipped[0] = 0;
        run_chunk(&s, 0);
        return;
    }
    /* A column split makes every thread read all of op(A) (M x K), a row
     * split makes every thread pack all of op(B) (K x N): cut along the
     * dimension whose operand that duplicates is the smaller (the weight
     * gradient X^T delta of a wide first layer, M = fan_in > N, by rows:
     * 1.98x on 2 threads against 1.82x by columns, bench/README.md "GEMM
     * products"), unless the other cut balances clearly better. */
    const double col_imb = imbalance(col_units, (int)n), row_imb = imbalance(row_units, (int)n);
    if (d->M <= d->N)
        s.by_cols = col_units >= n && col_imb <= 1.1 * row_imb;
    else
        s.by_cols = !(row_units >= n && row_imb <= 1.1 * col_imb);
    if (!s.by_cols && row_units < n) s.by_cols = 1;
    s.unit = s.by_cols ? nr : mr;
    s.extent = s.by_cols ? d->N : rows;
    const int64_t units = s.by_cols ? col_units : row_units;
    if (units < n) n = units;
    if (n > MAX_CHUNKS) n = MAX_CHUNKS;
    /* Column chunks pack only their own columns: guided. Row chunks each
     * pack all of op(B): as few as possible. */
    plan(&s, units, (int)n, s.by_cols);
    memset(s.skipped, 0, (size_t)s.chunks);
    nnc__parallel_items(run_chunk, &s, s.chunks, (int)n);
    for (int c = 0; c < s.chunks; c++)
        if (s.skipped[c]) {
            s.skipped[c] = 0;
            run_chunk(&s, c);
            if (s.skipped[c]) { /* unreachable after nnc__workspace_reserve; never garbage */
                s.fn = f32 ? nnc__kernels_ref.gemm_f32 : nnc__kernels_ref.gemm_f64;
                void *none = NULL;
                const int64_t lo = s.bounds[c] * s.unit;
                const int64_t hi = s.bounds[c + 1] * s.unit < s.extent ? s.bounds[c + 1] * s.unit
                                                                       : s.extent;
                if (s.by_cols)
                    s.fn(d, 0, d->M + d->ones_row, lo, hi, none);
                else
                    s.fn(d, lo, hi, 0, d->N, none);
            }
        }
}

/* ------------------------------------------------------- finite check */

#define FINITE_MIN_PER_THREAD ((int64_t)1 << 16)

typedef struct {
    nnc_dtype dtype;
    const void *v;
    int64_t n;
    int verdict[64];
} finite_split;

static void run_finite(void *vctx, int index, int count) {
    finite_split *s = vctx;
    const nnc__kernels *k = nnc__kernels_active();
    const int64_t lo = s->n * index / count, hi = s->n * (index + 1) / count;
    s->verdict[index] = s->dtype == NNC_FLOAT32
                            ? k->all_finite_f32((const float *)s->v + lo, hi - lo)
                            : k->all_finite_f64((const double *)s->v + lo, hi - lo);
}

int nnc__all_finite(nnc_dtype dtype, const void *v, int64_t n) {
    finite_split s;
    s.dtype = dtype;
    s.v = v;
    s.n = n;
    int64_t parts = nnc__thread_count();
    if (parts > n / FINITE_MIN_PER_THREAD) parts = n / FINITE_MIN_PER_THREAD;
    if (parts > 64) parts = 64;
    if (parts < 1) parts = 1;
    nnc__parallel(run_finite, &s, (int)parts);
    for (int i = 0; i < parts; i++)
        if (!s.verdict[i]) return 0;
    return 1;
}

/* --------------------------------------------------------------- Adam */

/* Parameters per thread below which threads are not worth waking. */
#define ADAM_MIN_PER_THREAD ((int64_t)1 << 15)
/* Ranges start on multiples of this (whole cache lines, whole vectors). */
#define ADAM_ALIGN_ELEMS 64

typedef struct {
    const nnc__adam_desc *d;
    nnc__adam_fn fn;
    int64_t n;
} adam_split;

static void run_adam(void *vctx, int index, int count) {
    const adam_split *s = vctx;
    const int64_t blocks = (s->n + ADAM_ALIGN_ELEMS - 1) / ADAM_ALIGN_ELEMS;
    const int64_t b0 = blocks * index / count, b1 = blocks * (index + 1) / count;
    const int64_t lo = b0 * ADAM_ALIGN_ELEMS;
    const int64_t hi = b1 * ADAM_ALIGN_ELEMS < s->n ? b1 * ADAM_ALIGN_ELEMS : s->n;
    if (lo < hi) s->fn(s->d, lo, hi);
}

void nnc__adam(nnc_dtype dtype, const nnc__adam_desc *d, int64_t n) {
    const nnc__kernels *k = nnc__kernels_active();
    adam_split s = {d, dtype == NNC_FLOAT32 ? k->adam_f32 : k->adam_f64, n};
    int64_t parts = nnc__thread_count();
    if (parts > n / ADAM_MIN_PER_THREAD) parts = n / ADAM_MIN_PER_THREAD;
    if (parts < 1) parts = 1;
    nnc__parallel(run_adam, &s, (int)parts);
}

/* Element-wise maps: ranges of the values, each computed by one thread;
 * every element gets the same operations wherever the cut falls. Ranges
 * are whole multiples of 16 values (a vector of any set). */
#define MAP_MIN_PER_THREAD ((int64_t)1 << 14)

typedef struct {
    nnc__map_fn fn;
    nnc__map_op op;
    const char *x, *a;
    char *out;
    int64_t n, per;
    size_t size;
    double shift;
} map_split;

static void run_map(void *vctx, int c, int count) {
    (void)count;
    const map_split *s = vctx;
    const int64_t lo = (int64_t)c * s->per;
    const int64_t hi = lo + s->per < s->n ? lo + s->per : s->n;
    if (lo >= hi) return;
    const size_t off = (size_t)lo * s->size;
    s->fn(s->op, s->x + off, s->a ? s->a + off : NULL, s->out + off, hi - lo, s->shift);
}

nnc__map_fn nnc__map_kernel(nnc_dtype dtype) {
    const nnc__kernels *k = nnc__kernels_active();
    return dtype == NNC_FLOAT32 ? k->map_f32 : k->map_f64;
}

void nnc__map(nnc_dtype dtype, nnc__map_op op, const void *x, const void *a, void *out, int64_t n,
              double shift) {
    const nnc__kernels *k = nnc__kernels_active();
    nnc__map_fn fn = dtype == NNC_FLOAT32 ? k->map_f32 : k->map_f64;
    int64_t parts = nnc__thread_count();
    if (parts > n / MAP_MIN_PER_THREAD) parts = n / MAP_MIN_PER_THREAD;
    if (parts <= 1) {
        fn(op, x, a, out, n, shift);
        return;
    }
    map_split s = {fn, op, x, a, out, n, 0, dtype == NNC_FLOAT32 ? sizeof(float) : sizeof(double),
                   shift};
    s.per = ((n + parts - 1) / parts + 15) / 16 * 16;
    nnc__parallel(run_map, &s, (int)parts);
}
