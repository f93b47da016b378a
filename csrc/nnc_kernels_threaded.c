/*
 * nnc_kernels_threaded.c - the kernels of the active set, split over the
 * thread pool.
 *
 * A matrix product: C is cut into blocks of whole register tiles, by
 * columns (each thread packs only its own part of op(B)) or, when C is too
 * narrow, by rows; never along K. Every element is computed by the same
 * sequence of operations whatever the cut, so the result is bit-identical
 * for any number of threads.
 *
 * The finite check: ranges of the vector, one verdict per range, combined.
 */
#include "nnc_kernels.h"
#include "nnc_threads.h"

/* Below this many multiply-adds per thread, waking a thread costs more
 * than it saves. */
#define MIN_MACS_PER_THREAD ((int64_t)1 << 17)

typedef struct {
    const nnc__gemm_desc *d;
    nnc__gemm_block_fn fn, fallback;
    int by_cols;
    int64_t unit, units, extent;
} split;

static void run_block(void *vctx, int index, int count) {
    const split *s = vctx;
    const int64_t u0 = s->units * index / count, u1 = s->units * (index + 1) / count;
    const int64_t lo = u0 * s->unit;
    const int64_t hi = u1 * s->unit < s->extent ? u1 * s->unit : s->extent;
    void *scratch = nnc__thread_scratch(NNC__GEMM_SCRATCH_BYTES);
    /* Out of memory for the packing buffer: the reference kernels need none. */
    nnc__gemm_block_fn fn = scratch ? s->fn : s->fallback;
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

void nnc__gemm(nnc_dtype dtype, const nnc__gemm_desc *d) {
    const nnc__kernels *k = nnc__kernels_active();
    const int f32 = dtype == NNC_FLOAT32;
    const int64_t rows = d->M + (d->ones_row ? 1 : 0);
    if (rows <= 0 || d->N <= 0) return;
    split s;
    s.d = d;
    s.fn = f32 ? k->gemm_f32 : k->gemm_f64;
    s.fallback = f32 ? nnc__kernels_ref.gemm_f32 : nnc__kernels_ref.gemm_f64;
    const int64_t mr = f32 ? k->mr_f32 : k->mr_f64, nr = f32 ? k->nr_f32 : k->nr_f64;
    const int64_t row_units = (rows + mr - 1) / mr, col_units = (d->N + nr - 1) / nr;
    const int64_t macs = rows * d->N * (d->K > 0 ? d->K : 1);
    int64_t n = nnc__thread_count();
    if (n > macs / MIN_MACS_PER_THREAD) n = macs / MIN_MACS_PER_THREAD;
    if (n > row_units && n > col_units) n = row_units > col_units ? row_units : col_units;
    if (n < 1) n = 1;
    /* Columns unless rows balance clearly better (a row split makes every
     * thread pack all of op(B)). */
    s.by_cols = n == 1 || (col_units >= n && imbalance(col_units, (int)n) <=
                                                 1.1 * imbalance(row_units, (int)n));
    if (!s.by_cols && row_units < n) s.by_cols = 1;
    s.unit = s.by_cols ? nr : mr;
    s.units = s.by_cols ? col_units : row_units;
    s.extent = s.by_cols ? d->N : rows;
    if (s.units < n) n = s.units;
    nnc__parallel(run_block, &s, (int)n);
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
