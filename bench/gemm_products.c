/*
 * gemm_products.c - seconds per call of the engine's matrix product
 * (nnc__gemm: the kernel set named on the command line, on THREADS threads
 * of the engine's pool, split as in training) on the products given as
 * arguments, for bench/gemm.py. Built against the static library of
 * csrc/Makefile (which keeps the engine's internals); not part of nnc.
 *
 *   gemm_products SET THREADS DTYPE SECONDS M,N,K,TA,TB ...
 *
 * prints one line per product: "M,N,K,TA,TB seconds", the best of 7
 * rounds of about SECONDS/7 each (best_time.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "best_time.h"
#include "nnc_kernels.h"

typedef struct {
    nnc_dtype dtype;
    const nnc__gemm_desc *desc;
} product;

static void run_product(void *ctx, long count, int round) {
    const product *p = ctx;
    (void)round;
    for (long r = 0; r < count; r++) nnc__gemm(p->dtype, p->desc);
}

static void *filled(size_t n, size_t size) {
    /* 64-byte aligned, as the engine's own buffers (nnc__aligned_alloc) */
    unsigned char *p = aligned_alloc(64, (n * size + 63) / 64 * 64);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) { /* values in [-0.5, 0.5) */
        const double v = (double)((i * 2654435761u) % 1000u) / 1000.0 - 0.5;
        if (size == sizeof(float)) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s SET THREADS float32|float64 SECONDS M,N,K,TA,TB ...\n",
                argv[0]);
        return 2;
    }
    if (nnc_set_kernel_arch(argv[1]) != NNC_OK || nnc_set_num_threads(atoi(argv[2])) != NNC_OK) {
        fprintf(stderr, "%s\n", nnc_last_error());
        return 3;
    }
    const nnc_dtype dtype = strcmp(argv[3], "float32") == 0 ? NNC_FLOAT32 : NNC_FLOAT64;
    const size_t size = dtype == NNC_FLOAT32 ? sizeof(float) : sizeof(double);
    const double budget = atof(argv[4]) / 7.0;
    for (int a = 5; a < argc; a++) {
        long long M, N, K;
        int ta, tb;
        if (sscanf(argv[a], "%lld,%lld,%lld,%d,%d", &M, &N, &K, &ta, &tb) != 5) return 2;
        void *A = filled((size_t)(M * K), size), *B = filled((size_t)(K * N), size);
        void *C = filled((size_t)(M * N), size);
        if (!A || !B || !C) return 4;
        const nnc__gemm_desc d = {.M = M, .N = N, .K = K, .trans_a = ta, .trans_b = tb,
                                  .A = A, .lda = ta ? M : K, .B = B, .ldb = tb ? K : N,
                                  .C = C, .ldc = N};
        nnc__gemm(dtype, &d); /* warm-up: pages, caches, the pool's threads */
        product p = {dtype, &d};
        const double best = best_seconds_per_unit(run_product, &p, budget, 7);
        printf("%s %.9g\n", argv[a], best);
        free(A);
        free(B);
        free(C);
    }
    return 0;
}
