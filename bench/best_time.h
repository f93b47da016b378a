/*
 * best_time.h - the timing rule of the bench's C probes (fma_peak.c,
 * gemm_products.c, elementwise_ops.c): calibrate how many units of work fill about `seconds`,
 * then keep the best of `rounds` rounds of that many (the machine's speed,
 * not its average load). Header-only: each probe is one file built alone.
 */
#ifndef NNC_BENCH_BEST_TIME_H
#define NNC_BENCH_BEST_TIME_H

#include <time.h>

static double best_time_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Does `count` units of work; `round` varies the inputs where that keeps
 * the compiler from reusing a previous round's result (0 in calibration). */
typedef void (*best_time_work)(void *ctx, long count, int round);

/* Seconds per unit of `work`: the fewest seconds of `rounds` rounds of
 * about `seconds` each, divided by the units per round. */
static double best_seconds_per_unit(best_time_work work, void *ctx, double seconds, int rounds) {
    long count = 1;
    for (;;) { /* calibrate: grow until a run is long enough to scale from */
        const double t0 = best_time_now();
        work(ctx, count, 0);
        const double t = best_time_now() - t0;
        if (t > seconds / 4) {
            count = (long)((double)count * seconds / t) + 1;
            break;
        }
        count *= 4;
    }
    double best = 1e300;
    for (int r = 0; r < rounds; r++) {
        const double t0 = best_time_now();
        work(ctx, count, r + 1);
        const double t = (best_time_now() - t0) / (double)count;
        if (t < best) best = t;
    }
    return best;
}

#endif
