/*
 * gemm_products.c - seconds per call of the engine's own block GEMM (one
 * thread, the kernel set named on the command line) on the products given
 * as arguments, for bench/gemm.py. Built against the static library of
 * csrc/Makefile (which keeps the engine's internals); not part of nnc.
 *
 *   gemm_products SET DTYPE SECONDS M,N,K,TA,TB ...
 *
 * prints one line per product: "M,N,K,TA,TB seconds", the best of 7
 * rounds of about SECONDS/7 each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnc_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *filled(size_t n, size_t size) {
    unsigned char *p = malloc(n * size);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) { /* values in [-0.5, 0.5) */
        const double v = (double)((i * 2654435761u) % 1000u) / 1000.0 - 0.5;
        if (size == sizeof(float)) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s SET float32|float64 SECONDS M,N,K,TA,TB ...\n", argv[0]);
        return 2;
    }
    const nnc__kernels *k = nnc__kernels_supported(argv[1]);
    if (!k) {
        fprintf(stderr, "kernel set %s is not supported here\n", argv[1]);
        return 3;
    }
    const int f32 = strcmp(argv[2], "float32") == 0;
    const size_t size = f32 ? sizeof(float) : sizeof(double);
    const double budget = atof(argv[3]) / 7.0;
    void *scratch = aligned_alloc(64, NNC__GEMM_SCRATCH_BYTES);
    for (int a = 4; a < argc; a++) {
        long long M, N, K;
        int ta, tb;
        if (sscanf(argv[a], "%lld,%lld,%lld,%d,%d", &M, &N, &K, &ta, &tb) != 5) return 2;
        void *A = filled((size_t)(M * K), size), *B = filled((size_t)(K * N), size);
        void *C = filled((size_t)(M * N), size);
        if (!A || !B || !C || !scratch) return 4;
        const nnc__gemm_desc d = {.M = M, .N = N, .K = K, .trans_a = ta, .trans_b = tb,
                                  .A = A, .lda = ta ? M : K, .B = B, .ldb = tb ? K : N,
                                  .C = C, .ldc = N};
        nnc__gemm_block_fn fn = f32 ? k->gemm_f32 : k->gemm_f64;
        fn(&d, 0, M, 0, N, scratch); /* warm-up: pages, caches */
        double t0 = now();
        fn(&d, 0, M, 0, N, scratch);
        const double once = now() - t0;
        const long reps = once > 0 ? (long)(budget / once) + 1 : 1000;
        double best = 1e30;
        for (int round = 0; round < 7; round++) {
            t0 = now();
            for (long r = 0; r < reps; r++) fn(&d, 0, M, 0, N, scratch);
            const double t = (now() - t0) / (double)reps;
            if (t < best) best = t;
        }
        printf("%s %.9g\n", argv[a], best);
        free(A);
        free(B);
        free(C);
    }
    free(scratch);
    return 0;
}
