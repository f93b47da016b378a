/*
 * test_engine.c - the engine tested as a plain C library, without Python:
 * gradients against central differences, XOR training, error statuses.
 * Prints one line per check and exits non-zero on the first failure.
 */
#define _DEFAULT_SOURCE /* mkdtemp, symlink, mkfifo, umask under -std=c11 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "nnc.h"

#define MUST(call)                                                                      \
    do {                                                                                \
        nnc_status st_ = (call);                                                        \
        if (st_ != NNC_OK) {                                                            \
            printf("FAIL %s -> %s: %s\n", #call, nnc_status_str(st_), nnc_last_error()); \
            return 1;                                                                   \
        }                                                                               \
    } while (0)

static double rel_error(const double *a, const double *b, int64_t n) {
    double diff = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < n; i++) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return (na + nb) > 0 ? sqrt(diff) / (sqrt(na) + sqrt(nb)) : 0.0;
}

/* *out = a new model compiled for `loss` with `cfg`, or plain SGD with its
 * defaults when cfg is NULL. */
static nnc_status compiled_model(nnc_dtype dtype, int64_t input_dim, int n_layers,
                                 const nnc_layer_spec *layers, uint64_t seed, nnc_loss loss,
                                 double l2, const nnc_optimizer_config *cfg, nnc_model **out) {
    nnc_optimizer_config sgd;
    nnc_optimizer_config_default(&sgd, NNC_OPT_SGD);
    nnc_status st = nnc_model_create(dtype, input_dim, n_layers, layers, seed, out);
    if (st == NNC_OK && (st = nnc_model_compile(*out, loss, l2, cfg ? cfg : &sgd)) != NNC_OK) {
        nnc_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

/* Backprop vs finite differences for one activation/loss on a 3-layer net. */
static int gradcheck_case(nnc_activation act, nnc_loss loss, double l2) {
    nnc_layer_spec layers[3];
    nnc_activation out = loss == NNC_LOSS_BINARY_CROSSENTROPY ? NNC_ACT_SIGMOID
                         : loss >= NNC_LOSS_CATEGORICAL_CROSSENTROPY ? NNC_ACT_SOFTMAX
                                                                     : act;
    nnc_layer_spec_default(&layers[0], 5, act);
    nnc_layer_spec_default(&layers[1], 4, act);
    layers[1].use_bias = 0;
    nnc_layer_spec_default(&layers[2], 3, out);
    nnc_model *m = NULL;
    MUST(compiled_model(NNC_FLOAT64, 4, 3, layers, 11, loss, l2, NULL, &m));
    double x[6 * 4], y[6 * 3];
    int64_t labels[6];
    for (int i = 0; i < 24; i++) x[i] = sin(1.7 * i + 0.3);
    for (int i = 0; i < 18; i++) y[i] = loss >= NNC_LOSS_BINARY_CROSSENTROPY ? (i % 3 == i / 6 % 3)
                                                                             : cos(0.9 * i);
    for (int i = 0; i < 6; i++) labels[i] = i % 3;
    const void *targets = loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? (void *)labels : y;
    int64_t n = nnc_model_num_params(m);
    double *g = malloc((size_t)n * sizeof *g), *num = malloc((size_t)n * sizeof *num);
    double j = 0;
    MUST(nnc_gradients(m, x, targets, NULL, 6, &j, g));
    MUST(nnc_numeric_gradients(m, x, targets, NULL, 6, 1e-6, num));
    double err = rel_error(g, num, n);
    CHECK(err <= 1e-7, "gradcheck %-10s %-32s l2=%.1f: relative error %.2e", nnc_activation_name(act),
          nnc_loss_name(loss), l2, err);
    free(g);
    free(num);
    nnc_model_destroy(m);
    return 0;
}

/* The four XOR points and their targets. */
static const double XOR_X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const double XOR_Y[4] = {0, 1, 1, 0};

/* A 4-unit hidden layer and a 1-unit output layer. */
static void xor_layers(nnc_layer_spec layers[2], nnc_activation hidden, nnc_activation out) {
    nnc_layer_spec_default(&layers[0], 4, hidden);
    nnc_layer_spec_default(&layers[1], 1, out);
}

static int xor_training(void) {
    const double *x = XOR_X, *y = XOR_Y;
    nnc_layer_spec layers[2];
    xor_layers(layers, NNC_ACT_SIGMOID, NNC_ACT_SIGMOID);
    nnc_optimizer_config cfg;
    nnc_optimizer_config_default(&cfg, NNC_OPT_SGD);
    cfg.learning_rate = 2.0;
    cfg.momentum = 0.9;
    nnc_model *m = NULL;
    MUST(compiled_model(NNC_FLOAT64, 2, 2, layers, 1, NNC_LOSS_BINARY_CROSSENTROPY, 0.0, &cfg,
                        &m));
    double loss = 0, first = 0;
    for (int epoch = 0; epoch < 500; epoch++) {
        MUST(nnc_train_epoch(m, x, y, NULL, 4, 0, 0, NULL, &loss));
        if (epoch == 0) first = loss;
    }
    double out[4];
    MUST(nnc_predict(m, x, 4, out));
    int correct = 0;
    for (int i = 0; i < 4; i++) correct += (out[i] > 0.5) == (y[i] > 0.5);
    CHECK(correct == 4 && loss < 0.05 && loss < first,
          "XOR learned: loss %.4f -> %.4f, outputs %.3f %.3f %.3f %.3f", first, loss, out[0],
          out[1], out[2], out[3]);
    nnc_model_destroy(m);
    return 0;
}

static int error_statuses(void) {
    nnc_layer_spec huge;
    nnc_layer_spec_default(&huge, (int64_t)1 << 39, NNC_ACT_RELU);
    nnc_model *m = NULL;
    nnc_status st = nnc_model_create(NNC_FLOAT32, 1 << 20, 1, &huge, 0, &m);
    CHECK(st == NNC_ERR_OVERFLOW && m == NULL, "2^59 weights refused with %s (%s)",
          nnc_status_str(st), nnc_last_error());
    nnc_layer_spec ok;
    nnc_layer_spec_default(&ok, 2, NNC_ACT_LINEAR);
    st = nnc_model_create(NNC_FLOAT64, 0, 1, &ok, 0, &m);
    CHECK(st == NNC_ERR_INVALID_ARG, "input_dim 0 refused: %s", nnc_last_error());
    MUST(nnc_model_create(NNC_FLOAT64, 2, 1, &ok, 0, &m));
    double x[2] = {1, 2}, y[2] = {0, 0}, loss;
    st = nnc_train_epoch(m, x, y, NULL, 1, 0, 0, NULL, &loss);
    CHECK(st == NNC_ERR_STATE, "training before compile refused: %s", nnc_last_error());
    nnc_optimizer_config cfg;
    nnc_optimizer_config_default(&cfg, NNC_OPT_ADAM);
    cfg.beta1 = 1.5;
    st = nnc_model_compile(m, NNC_LOSS_MSE, 0.0, &cfg);
    CHECK(st == NNC_ERR_INVALID_ARG, "beta1 = 1.5 refused: %s", nnc_last_error());
    st = nnc_model_compile(m, NNC_LOSS_CATEGORICAL_CROSSENTROPY, 0.0, &cfg);
    CHECK(st == NNC_ERR_INVALID_ARG, "cross-entropy on a linear output refused: %s",
          nnc_last_error());
    nnc_activation act;
    CHECK(nnc_activation_from_name("relux", &act) == NNC_ERR_INVALID_ARG,
          "unknown activation name refused: %s", nnc_last_error());
    nnc_model_destroy(m);
    nnc_model_destroy(NULL); /* a no-op */
    return 0;
}

/* Batches whose workspace would not fit in size_t (or in memory) are refused
 * before anything is allocated or read: x and y here hold one row only. */
static int huge_batches(void) {
    nnc_layer_spec layers[2];
    nnc_layer_spec_default(&layers[0], (int64_t)1 << 20, NNC_ACT_LINEAR);
    layers[0].use_bias = 0;
    nnc_layer_spec_default(&layers[1], 1, NNC_ACT_LINEAR);
    nnc_model *m = NULL;
    MUST(compiled_model(NNC_FLOAT32, 1, 2, layers, 0, NNC_LOSS_MSE, 0.0, NULL, &m));
    float x[1] = {1}, y[1] = {0};
    double loss = 0;
    const int64_t rows[] = {(int64_t)1 << 40, ((int64_t)1 << 40) + 1, INT64_MAX};
    for (int i = 0; i < 3; i++) {
        nnc_status a = nnc_loss_value(m, x, y, NULL, rows[i], &loss);
        nnc_status b = nnc_train_batch(m, x, y, NULL, rows[i], &loss);
        nnc_status c = nnc_train_epoch(m, x, y, NULL, rows[i], 64, 1, NULL, &loss);
        int refused = 1;
        nnc_status all[3] = {a, b, c};
        for (int k = 0; k < 3; k++)
            refused &= all[k] == NNC_ERR_OVERFLOW || all[k] == NNC_ERR_NOMEM;
        CHECK(refused, "%lld rows refused (%s, %s, %s): %s", (long long)rows[i],
              nnc_status_str(a), nnc_status_str(b), nnc_status_str(c), nnc_last_error());
    }
    nnc_model_destroy(m);
    return 0;
}

/* nnc_model_save replaces files by the rule of nnc_file_replace_begin
 * (nnc.h): nothing planted at a guessable temporary name is written
 * through, links are followed, modes kept, non-regular files refused (for
 * saving and for loading). */
static int file_replacement(void) {
    nnc_layer_spec layer;
    nnc_layer_spec_default(&layer, 2, NNC_ACT_TANH);
    nnc_model *m = NULL;
    MUST(nnc_model_create(NNC_FLOAT64, 3, 1, &layer, 7, &m));
    char dir[] = "/tmp/nnc-test-XXXXXX", path[256], other[256];
    CHECK(mkdtemp(dir) != NULL, "temporary directory %s", dir);

    snprintf(path, sizeof path, "%s/victim", dir);
    FILE *f = fopen(path, "w");
    fputs("precious", f);
    fclose(f);
    snprintf(other, sizeof other, "%s/m.nncb.tmp", dir); /* the old, guessable name */
    CHECK(symlink(path, other) == 0, "planted a link at %s", other);
    snprintf(other, sizeof other, "%s/m.nncb", dir);
    MUST(nnc_model_save(m, other));
    char text[16] = {0};
    f = fopen(path, "r");
    CHECK(f && fread(text, 1, sizeof text - 1, f) == 8 && strcmp(text, "precious") == 0,
          "a link planted at <path>.tmp is not written through");
    if (f) fclose(f);

    chmod(other, 0604);
    MUST(nnc_model_save(m, other));
    struct stat st;
    CHECK(stat(other, &st) == 0 && (st.st_mode & 07777) == 0604, "the file keeps its mode");

    snprintf(path, sizeof path, "%s/current.nncb", dir);
    CHECK(symlink("m.nncb", path) == 0, "a link current.nncb -> m.nncb");
    MUST(nnc_model_save(m, path));
    CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "saving through a link keeps the link");

    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0, "a FIFO");
    nnc_status s1 = nnc_model_save(m, path);
    const int e1 = errno;
    nnc_model *loaded = NULL;
    nnc_status s2 = nnc_model_load(path, &loaded);
    const int e2 = errno;
    CHECK(s1 == NNC_ERR_IO && e1 == EINVAL && s2 == NNC_ERR_IO && e2 == EINVAL && !loaded,
          "a FIFO is neither replaced nor read (%s errno %d, %s errno %d)", nnc_status_str(s1),
          e1, nnc_status_str(s2), e2);
    CHECK(nnc_model_save(m, dir) == NNC_ERR_IO && errno == EISDIR, "a directory is EISDIR");

    const char *names[] = {"victim", "m.nncb.tmp", "m.nncb", "current.nncb", "fifo"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CHECK(rmdir(dir) == 0, "no temporary file left behind");
    nnc_model_destroy(m);
    return 0;
}

/* Learning-rate schedules and gradient clipping through the public API. */
static int schedules_and_clipping(void) {
    nnc_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = NNC_SCHEDULE_STEP; /* torch StepLR: 0.1 * 0.5^(k // 3) */
    s.param[0] = 0.1;
    s.param[1] = 3;
    s.param[2] = 0.5;
    int ok = 1;
    for (int k = 0; k < 10; k++) {
        double rate = -1;
        ok &= nnc_schedule_value(&s, k, &rate) == NNC_OK && rate == 0.1 * pow(0.5, k / 3);
    }
    CHECK(ok, "step_lr rates 0.1 * 0.5^(k // 3) for k = 0..9");
    double rate;
    CHECK(nnc_schedule_value(&s, -1, &rate) == NNC_ERR_INVALID_ARG, "negative step refused: %s",
          nnc_last_error());
    s.param[1] = 0;
    CHECK(nnc_schedule_validate(&s) == NNC_ERR_INVALID_ARG &&
              strstr(nnc_last_error(), "step_size"),
          "step_size 0 refused: %s", nnc_last_error());
    s.param[1] = 3;

    const double *x = XOR_X, *y = XOR_Y;
    nnc_layer_spec layers[2];
    xor_layers(layers, NNC_ACT_TANH, NNC_ACT_LINEAR);
    nnc_optimizer_config cfg;
    nnc_optimizer_config_default(&cfg, NNC_OPT_SGD);
    cfg.schedule = s;
    nnc_model *m = NULL;
    MUST(compiled_model(NNC_FLOAT64, 2, 2, layers, 1, NNC_LOSS_MSE, 0.0, &cfg, &m));
    double loss, lr0 = 0, lr4 = 0;
    MUST(nnc_model_get_learning_rate(m, &lr0));
    MUST(nnc_train_epoch(m, x, y, NULL, 4, 1, 0, NULL, &loss)); /* 4 steps */
    MUST(nnc_model_get_learning_rate(m, &lr4));
    CHECK(lr0 == 0.1 && lr4 == 0.05, "the rate follows the step counter: %g, then %g", lr0, lr4);
    CHECK(nnc_model_set_learning_rate(m, 0.2) == NNC_ERR_STATE,
          "setting a scheduled rate refused: %s", nnc_last_error());
    nnc_model_destroy(m);

    /* clipvalue: an SGD step of rate 1 moves no parameter by more than it. */
    nnc_optimizer_config_default(&cfg, NNC_OPT_SGD);
    cfg.learning_rate = 1.0;
    cfg.clipvalue = 1e-3;
    MUST(compiled_model(NNC_FLOAT64, 2, 2, layers, 1, NNC_LOSS_MSE, 0.0, &cfg, &m));
    double before[17], after[17], moved = 0;
    MUST(nnc_model_get_params(m, before, 17));
    MUST(nnc_train_batch(m, x, y, NULL, 4, &loss));
    MUST(nnc_model_get_params(m, after, 17));
    for (int i = 0; i < 17; i++) moved = fmax(moved, fabs(after[i] - before[i]));
    CHECK(moved > 0 && moved <= 1e-3 * (1 + 1e-12), "clipvalue 1e-3 bounds the step: %g", moved);
    nnc_model_destroy(m);
    cfg.clipnorm = 1.0;
    CHECK(nnc_optimizer_config_validate(&cfg) == NNC_ERR_INVALID_ARG,
          "two clipping modes refused: %s", nnc_last_error());
    return 0;
}

/* Data-parallel shards (nnc_shard_gradients + nnc_apply_gradients): two
 * shards of a batch, each starting from the same RNG state as separate
 * processes would, summed and applied, take nnc_train_batch's step on the
 * whole batch, dropout masks and L2 included. */
static int data_parallel_shards(void) {
    nnc_layer_spec layers[2];
    nnc_layer_spec_default(&layers[0], 5, NNC_ACT_TANH);
    nnc_layer_spec_default(&layers[1], 2, NNC_ACT_LINEAR);
    layers[1].input_dropout = 0.25;
    nnc_optimizer_config adam;
    nnc_optimizer_config_default(&adam, NNC_OPT_ADAM);
    nnc_model *whole = NULL, *sharded = NULL;
    MUST(compiled_model(NNC_FLOAT64, 3, 2, layers, 5, NNC_LOSS_MSE, 0.1, &adam, &whole));
    MUST(nnc_model_clone(whole, &sharded));
    double x[6 * 3], y[6 * 2], p_whole[32], p_sharded[32], g0[32], g1[32];
    for (int i = 0; i < 18; i++) x[i] = sin(0.7 * i + 0.2);
    for (int i = 0; i < 12; i++) y[i] = cos(1.3 * i);
    const int64_t n = nnc_model_num_params(whole);
    CHECK(n <= 32, "data-parallel model has %lld parameters", (long long)n);
    double loss = 0, part0 = 0, part1 = 0, l2_loss = 0, worst = 0;
    uint64_t rng[2];
    for (int step = 0; step < 3; step++) {
        MUST(nnc_train_batch(whole, x, y, NULL, 6, &loss));
        nnc_model_get_rng_state(sharded, rng);
        MUST(nnc_shard_gradients(sharded, x, y, NULL, 2, 0, 6, &part0, g0));
        nnc_model_set_rng_state(sharded, rng);
        MUST(nnc_shard_gradients(sharded, x + 2 * 3, y + 2 * 2, NULL, 4, 2, 6, &part1, g1));
        for (int64_t i = 0; i < n; i++) g0[i] += g1[i];
        MUST(nnc_apply_gradients(sharded, g0, 6, &l2_loss));
        CHECK(fabs(part0 + part1 + l2_loss - loss) <= 1e-14 * fabs(loss),
              "data-parallel step %d: shard losses + L2 %.17g = J %.17g", step,
              part0 + part1 + l2_loss, loss);
    }
    MUST(nnc_model_get_params(whole, p_whole, n));
    MUST(nnc_model_get_params(sharded, p_sharded, n));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(p_whole[i] - p_sharded[i]));
    CHECK(worst <= 1e-15, "data-parallel: 3 sharded steps = 3 whole-batch steps (max diff %.1e)",
          worst);
    CHECK(nnc_shard_gradients(sharded, x, y, NULL, 4, 3, 6, &part0, g0) == NNC_ERR_INVALID_ARG,
          "a shard outside its global batch refused: %s", nnc_last_error());
    nnc_model_destroy(whole);
    nnc_model_destroy(sharded);
    nnc_optimizer_config lbfgs;
    nnc_optimizer_config_default(&lbfgs, NNC_OPT_LBFGS);
    layers[1].input_dropout = 0.0;
    MUST(compiled_model(NNC_FLOAT64, 3, 2, layers, 5, NNC_LOSS_MSE, 0.0, &lbfgs, &whole));
    CHECK(nnc_shard_gradients(whole, x, y, NULL, 6, 0, 6, &part0, g0) == NNC_ERR_UNSUPPORTED &&
              nnc_apply_gradients(whole, g0, 6, &l2_loss) == NNC_ERR_UNSUPPORTED,
          "data-parallel L-BFGS refused: %s", nnc_last_error());
    nnc_model_destroy(whole);
    return 0;
}

int main(void) {
    static const nnc_activation acts[] = {
        NNC_ACT_LINEAR, NNC_ACT_SIGMOID, NNC_ACT_TANH, NNC_ACT_RELU, NNC_ACT_LEAKY_RELU,
        NNC_ACT_PRELU,  NNC_ACT_ELU,     NNC_ACT_SELU, NNC_ACT_SWISH, NNC_ACT_GELU,
        NNC_ACT_SOFTPLUS, NNC_ACT_SOFTMAX};
    printf("nnc engine test (kernels: %s)\n", nnc_kernel_arch());
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        for (int l2 = 0; l2 < 2; l2++)
            if (gradcheck_case(acts[i], NNC_LOSS_MSE, 0.5 * l2)) return 1;
    if (gradcheck_case(NNC_ACT_TANH, NNC_LOSS_HUBER, 0.0) ||
        gradcheck_case(NNC_ACT_GELU, NNC_LOSS_BINARY_CROSSENTROPY, 0.3) ||
        gradcheck_case(NNC_ACT_ELU, NNC_LOSS_CATEGORICAL_CROSSENTROPY, 0.3) ||
        gradcheck_case(NNC_ACT_SWISH, NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0.0))
        return 1;
    if (xor_training() || error_statuses() || huge_batches() || file_replacement() ||
        schedules_and_clipping() || data_parallel_shards())
        return 1;
    nnc_thread_pool_shutdown(); /* joins the workers and frees every scratch: no leaks at exit */
    return check_summary();
}
