/*
 * elementwise_ops.c - seconds per call of the engine's element-wise kernel
 * (nnc__map: the kernel set named on the command line, one thread) on N
 * values spread over [-4, 4), where tanh and sigmoid take both of their
 * branches, for bench/elementwise.py. Built against the static library of
 * csrc/Makefile (bench/c_driver.py); not part of nnc.
 *
 *   elementwise_ops SET float32|float64 N SECONDS OP ...
 *
 * OP is one of the names below; prints one line per op, "OP seconds", the
 * best of 7 rounds of about SECONDS/7 each (best_time.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "best_time.h"
#include "nnc_internal.h"
#include "nnc_kernels.h"

static const struct {
    const char *name;
    nnc__map_op op;
} OPS[] = {{"tanh", NNC__MAP_TANH},       {"sigmoid", NNC__MAP_SIGMOID},
           {"d_tanh", NNC__MAP_D_TANH},   {"d_sigmoid", NNC__MAP_D_SIGMOID},
           {"exp", NNC__MAP_EXP},         {"gelu", NNC__MAP_GELU},
           {"swish", NNC__MAP_SWISH},     {"softplus", NNC__MAP_SOFTPLUS},
           {"elu", NNC__MAP_ELU},         {"relu", NNC__MAP_RELU}};

typedef struct {
    nnc_dtype dtype;
    nnc__map_op op;
    const void *x, *a;
    void *out;
    int64_t n;
} job;

static void run_map(void *ctx, long count, int round) {
    const job *j = ctx;
    (void)round;
    for (long r = 0; r < count; r++) nnc__map(j->dtype, j->op, j->x, j->a, j->out, j->n, 0.0);
}

static void *filled(int64_t n, size_t size, double lo, double span) {
    unsigned char *p = aligned_alloc(64, ((size_t)n * size + 63) / 64 * 64);
    if (!p) return NULL;
    for (int64_t i = 0; i < n; i++) { /* scattered over [lo, lo + span) */
        const double v = lo + span * (double)(((uint64_t)i * 2654435761u) % 4096u) / 4096.0;
        if (size == sizeof(float)) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s SET float32|float64 N SECONDS OP ...\n", argv[0]);
        return 2;
    }
    if (nnc_set_kernel_arch(argv[1]) != NNC_OK || nnc_set_num_threads(1) != NNC_OK) {
        fprintf(stderr, "%s\n", nnc_last_error());
        return 3;
    }
    const nnc_dtype dtype = strcmp(argv[2], "float32") == 0 ? NNC_FLOAT32 : NNC_FLOAT64;
    const size_t size = dtype == NNC_FLOAT32 ? sizeof(float) : sizeof(double);
    const int64_t n = atoll(argv[3]);
    const double budget = atof(argv[4]) / 7.0;
    /* Subnormals flushed, as in the engine's calls: a derivative op scales
     * `out` in place on every repetition, which decays towards zero. */
    nnc__flush_subnormals_begin();
    /* x the pre-activation; a an activation value in (0, 1) and out a
     * gradient, as a derivative op reads them */
    void *x = filled(n, size, -4.0, 8.0), *a = filled(n, size, 0.05, 0.9);
    void *out = filled(n, size, -1.0, 2.0);
    if (n <= 0 || !x || !a || !out) return 4;
    for (int i = 5; i < argc; i++) {
        size_t k = 0;
        while (k < sizeof OPS / sizeof OPS[0] && strcmp(OPS[k].name, argv[i]) != 0) k++;
        if (k == sizeof OPS / sizeof OPS[0]) {
            fprintf(stderr, "unknown op %s\n", argv[i]);
            return 2;
        }
        job j = {dtype, OPS[k].op, x, a, out, n};
        printf("%s %.9g\n", argv[i], best_seconds_per_unit(run_map, &j, budget, 7));
    }
    free(x);
    free(a);
    free(out);
    return 0;
}
