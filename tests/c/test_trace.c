/*
 * test_trace.c - nnc_trace as a plain C call: agrees with nnc_predict and
 * with a hand computation, works across chunk boundaries, leaves RNG and
 * parameters alone, and refuses bad arguments and non-finite x with a
 * status.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nnc.h"

enum { ROWS = 1100, IN = 3, L = 3 };
static const int64_t UNITS[L] = {5, 4, 2};

static int run(nnc_dtype dtype) {
    const char *dn = dtype == NNC_FLOAT32 ? "f32" : "f64";
    const size_t es = dtype == NNC_FLOAT32 ? sizeof(float) : sizeof(double);
    nnc_layer_spec spec[L];
    nnc_layer_spec_default(&spec[0], UNITS[0], NNC_ACT_TANH);
    nnc_layer_spec_default(&spec[1], UNITS[1], NNC_ACT_RELU);
    spec[1].input_dropout = 0.5; /* must be off in a trace */
    nnc_layer_spec_default(&spec[2], UNITS[2], NNC_ACT_LINEAR);
    nnc_model *m = NULL;
    if (nnc_model_create(dtype, IN, L, spec, 7, &m) != NNC_OK) {
        printf("FAIL create: %s\n", nnc_last_error());
        return 1;
    }
    const int64_t np = nnc_model_num_params(m);
    void *x = malloc(ROWS * IN * es), *pred = malloc(ROWS * UNITS[L - 1] * es);
    void *params0 = malloc((size_t)np * es), *params1 = malloc((size_t)np * es);
    void *z[L], *a[L];
    for (int l = 0; l < L; l++) {
        z[l] = malloc((size_t)(ROWS * UNITS[l]) * es);
        a[l] = malloc((size_t)(ROWS * UNITS[l]) * es);
    }
    for (int i = 0; i < ROWS * IN; i++) {
        double v = sin(0.37 * i) * 2.0;
        if (dtype == NNC_FLOAT32) ((float *)x)[i] = (float)v;
        else ((double *)x)[i] = v;
    }
    uint64_t rng0[2], rng1[2];
    nnc_model_get_rng_state(m, rng0);
    nnc_model_get_params(m, params0, np);

    CHECK(nnc_trace(m, x, ROWS, z, a) == NNC_OK, "%s trace of %d rows", dn, ROWS);
    CHECK(nnc_predict(m, x, ROWS, pred) == NNC_OK, "%s predict", dn);
    CHECK(memcmp(pred, a[L - 1], (size_t)(ROWS * UNITS[L - 1]) * es) == 0,
          "%s last layer's a equals predict bit for bit", dn);
    /* Layer 0 by hand at the last row (past the 512-row chunk). */
    int64_t w_off, b_off, s_off;
    nnc_model_layer_offsets(m, 0, &w_off, &b_off, &s_off);
    double worst = 0.0;
    const int r = ROWS - 1;
    for (int j = 0; j < UNITS[0]; j++) {
        double acc, got_z, got_a;
        if (dtype == NNC_FLOAT32) {
            const float *p = params0, *xf = x;
            acc = p[b_off + j];
            for (int k = 0; k < IN; k++) acc += (double)xf[r * IN + k] * p[w_off + k * UNITS[0] + j];
            got_z = ((float *)z[0])[r * UNITS[0] + j];
            got_a = ((float *)a[0])[r * UNITS[0] + j];
        } else {
            const double *p = params0, *xd = x;
            acc = p[b_off + j];
            for (int k = 0; k < IN; k++) acc += xd[r * IN + k] * p[w_off + k * UNITS[0] + j];
            got_z = ((double *)z[0])[r * UNITS[0] + j];
            got_a = ((double *)a[0])[r * UNITS[0] + j];
        }
        worst = fmax(worst, fmax(fabs(got_z - acc), fabs(got_a - tanh(acc))));
    }
    CHECK(worst < (dtype == NNC_FLOAT32 ? 1e-5 : 1e-13), "%s layer 0 z, a by hand (err %.1e)",
          dn, worst);
    nnc_model_get_rng_state(m, rng1);
    nnc_model_get_params(m, params1, np);
    CHECK(rng0[0] == rng1[0] && rng0[1] == rng1[1], "%s RNG state untouched", dn);
    CHECK(memcmp(params0, params1, (size_t)np * es) == 0, "%s parameters untouched", dn);

    /* NaN or infinity in x is refused (from the first layer's output, in
     * whichever chunk it lies), with the facade's message. */
    const int64_t bad_at[3] = {0, 513 * IN + 1, ROWS * IN - 1};
    for (int b = 0; b < 3; b++) {
        const double kept = dtype == NNC_FLOAT32 ? (double)((float *)x)[bad_at[b]]
                                                 : ((double *)x)[bad_at[b]];
        for (int inf = 0; inf < 2; inf++) {
            const double bad = inf ? -INFINITY : NAN;
            if (dtype == NNC_FLOAT32) ((float *)x)[bad_at[b]] = (float)bad;
            else ((double *)x)[bad_at[b]] = bad;
            CHECK(nnc_predict(m, x, ROWS, pred) == NNC_ERR_NONFINITE &&
                      strcmp(nnc_last_error(), "x: contains NaN or infinity") == 0,
                  "%s predict refuses %s at element %lld", dn, inf ? "-inf" : "NaN",
                  (long long)bad_at[b]);
            CHECK(nnc_trace(m, x, ROWS, z, a) == NNC_ERR_NONFINITE,
                  "%s trace refuses %s at element %lld", dn, inf ? "-inf" : "NaN",
                  (long long)bad_at[b]);
            if (dtype == NNC_FLOAT32) ((float *)x)[bad_at[b]] = (float)kept;
            else ((double *)x)[bad_at[b]] = kept;
        }
    }

    CHECK(nnc_trace(m, x, 10, NULL, a) == NNC_OK, "%s z may be NULL", dn);
    CHECK(nnc_trace(m, x, 10, z, NULL) == NNC_OK, "%s a may be NULL", dn);
    CHECK(nnc_trace(m, x, 0, z, a) == NNC_OK, "%s zero rows is a no-op", dn);
    void *holes[L] = {z[0], NULL, z[2]};
    CHECK(nnc_trace(m, x, 10, holes, a) == NNC_ERR_INVALID_ARG, "%s NULL layer buffer refused",
          dn);
    CHECK(nnc_trace(m, NULL, 10, z, a) == NNC_ERR_INVALID_ARG, "%s NULL x refused", dn);
    CHECK(nnc_trace(NULL, x, 10, z, a) == NNC_ERR_INVALID_ARG, "%s NULL model refused", dn);
    CHECK(nnc_trace(m, x, -1, z, a) == NNC_ERR_SHAPE, "%s negative rows refused", dn);
    CHECK(nnc_trace(m, x, (int64_t)1 << 62, z, a) == NNC_ERR_OVERFLOW, "%s huge rows refused", dn);

    for (int l = 0; l < L; l++) {
        free(z[l]);
        free(a[l]);
    }
    free(x);
    free(pred);
    free(params0);
    free(params1);
    nnc_model_destroy(m);
    return 0;
}

int main(void) {
    if (run(NNC_FLOAT32) || run(NNC_FLOAT64)) return 1;
    nnc_thread_pool_shutdown();
    return check_summary();
}
