/*
 * fma_peak.c - the FMA peak of one core: many independent chains of fused
 * multiply-adds held in registers (enough of them to cover the FMA latency
 * on every FMA port), fp32 and fp64, on the widest vectors the CPU has
 * (AVX-512 if it has it, else AVX2+FMA). Also estimates the clock from a
 * chain of dependent integer adds (one cycle each), so that the peak can
 * be read as FLOP per cycle. bench/compare.py builds and runs it; every
 * figure there is also given as a fraction of this peak.
 *
 * Only this file is built with the vector target attributes (never with
 * -march=native): cc -O2 bench/fma_peak.c -o fma_peak
 * Output, one "key value" per line: isa, fp32_gflops, fp64_gflops, ghz.
 * Argument: seconds per measurement (default 0.3); each figure is the best
 * of 5 measurements (the machine's peak, not its average load).
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

#include "best_time.h"

/* Independent accumulators: 16 cover 2 FMA ports x 4-cycle latency with
 * room to spare and fit in the 32 zmm registers; AVX2 has 16 ymm registers,
 * so 12. The empty asm that "uses and changes" each accumulator keeps it in
 * a register and stops the compiler from merging or hoisting the chains. */
#define KERNEL(NAME, TARGET, VEC, SET1, FMA, ADD, STORE, CHAINS, LANES, T)    \
    __attribute__((target(TARGET))) static double NAME(long iters, T seed) { \
        VEC acc[CHAINS];                                                     \
        VEC b = SET1((T)0.999999), c = SET1((T)1e-7);                        \
        _Pragma("GCC unroll 16")                                             \
        for (int j = 0; j < CHAINS; j++) acc[j] = SET1(seed + (T)j);         \
        for (long i = 0; i < iters; i++) {                                   \
            _Pragma("GCC unroll 16")                                         \
            for (int j = 0; j < CHAINS; j++) {                               \
                acc[j] = FMA(acc[j], b, c);                                  \
                __asm__("" : "+v"(acc[j]));                                  \
            }                                                                \
        }                                                                    \
        VEC s = acc[0];                                                      \
        _Pragma("GCC unroll 16")                                             \
        for (int j = 1; j < CHAINS; j++) s = ADD(s, acc[j]);                 \
        T out[LANES];                                                        \
        STORE(out, s);                                                       \
        return (double)out[0];                                               \
    }

KERNEL(fma512_ps, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
       _mm512_storeu_ps, 16, 16, float)
KERNEL(fma512_pd, "avx512f", __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd,
       _mm512_storeu_pd, 16, 8, double)
KERNEL(fma256_ps, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps,
       _mm256_storeu_ps, 12, 8, float)
KERNEL(fma256_pd, "avx2,fma", __m256d, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd,
       _mm256_storeu_pd, 12, 4, double)

typedef double (*kernel_fn)(long, double);
static double run_ps512(long n, double s) { return fma512_ps(n, (float)s); }
static double run_pd512(long n, double s) { return fma512_pd(n, s); }
static double run_ps256(long n, double s) { return fma256_ps(n, (float)s); }
static double run_pd256(long n, double s) { return fma256_pd(n, s); }

static volatile double sink;

static void run_kernel(void *kernel, long iters, int round) {
    sink = (*(kernel_fn *)kernel)(iters, 1.0 + round);
}

/* Best GFLOP/s of 5 runs of about `seconds` each. */
static double gflops(kernel_fn fn, double flops_per_iter, double seconds) {
    return flops_per_iter / best_seconds_per_unit(run_kernel, &fn, seconds, 5) / 1e9;
}

/* Dependent register-register integer adds take one cycle each: adds per
 * second ~ clock. (Adds of an immediate are not used: some cores fold
 * those at rename, without the one-cycle latency.) */
static void dependent_adds(void *ctx, long iters, int round) {
    long v = round, one = 1;
    (void)ctx;
    for (long i = 0; i < iters; i++) {
        __asm__ volatile(
            "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
            "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
            "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
            "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
            : "+r"(v) : "r"(one));
    }
    sink = (double)v;
}

static double clock_ghz(double seconds) {
    return 16.0 / best_seconds_per_unit(dependent_adds, NULL, seconds, 5) / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 0.3;
    if (seconds <= 0) seconds = 0.3;
    __builtin_cpu_init();
    const char *isa;
    double f32, f64;
    if (__builtin_cpu_supports("avx512f")) {
        isa = "avx512";
        f32 = gflops(run_ps512, 16 * 16 * 2, seconds);
        f64 = gflops(run_pd512, 16 * 8 * 2, seconds);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        isa = "avx2";
        f32 = gflops(run_ps256, 12 * 8 * 2, seconds);
        f64 = gflops(run_pd256, 12 * 4 * 2, seconds);
    } else {
        printf("isa none\n");
        return 2;
    }
    printf("isa %s\nfp32_gflops %.2f\nfp64_gflops %.2f\nghz %.3f\n", isa, f32, f64,
           clock_ghz(seconds));
    return 0;
}
