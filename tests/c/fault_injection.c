/*
 * fault_injection.c - every allocation, file operation and thread creation
 * the engine makes along create -> compile -> train (2 threads) -> save ->
 * load -> predict is made to fail in turn: run k makes the k-th such call
 * fail, for k = 1, 2, ... until a run meets no injected failure.
 *
 * Linked with -Wl,--wrap=<fn> for each wrapped function (see WRAPPED in
 * tests/engine/test_fault_injection.py), so only the engine's own calls
 * (in libnnc.a) are counted and failed. Every run must
 *   - return a status from the call that met the failure (never crash:
 *     the sanitizer build stops at the first memory error), and
 *   - leave no allocation and no file descriptor behind, and
 *   - when it still succeeds (a worker thread that could not start, a
 *     worker without its packing buffer: the caller does the work), give
 *     exactly the reference run's parameters and predictions: a failure is
 *     an error or nothing, never a silent change of results.
 * Prints one line per run and "PASSED: 0 failure(s)" at the end.
 */
#define _GNU_SOURCE /* dirent, O_* flags under -std=c11 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "nnc.h"

/* ------------------------------------------------------------ the wraps */

/* Atomic: the engine's worker threads allocate too. */
static atomic_long calls = 0, live = 0;
static long fail_at = 0;
static atomic_int injected = 0;

static int fails_now(void) {
    if (fail_at > 0 && atomic_fetch_add(&calls, 1) + 1 == fail_at) {
        atomic_store(&injected, 1);
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
FILE *__real_fopen(const char *, const char *);
FILE *__real_fdopen(int, const char *);
size_t __real_fread(void *, size_t, size_t, FILE *);
int __real_open(const char *, int, ...);
ssize_t __real_write(int, const void *, size_t);
int __real_fsync(int);
int __real_rename(const char *, const char *);
int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

void *__wrap_malloc(size_t n) {
    if (fails_now()) return errno = ENOMEM, NULL;
    void *p = __real_malloc(n);
    if (p) live++;
    return p;
}
void *__wrap_calloc(size_t n, size_t size) {
    if (fails_now()) return errno = ENOMEM, NULL;
    void *p = __real_calloc(n, size);
    if (p) live++;
    return p;
}
void *__wrap_realloc(void *old, size_t n) {
    if (fails_now()) return errno = ENOMEM, NULL;
    void *p = __real_realloc(old, n);
    if (p && !old) live++;
    return p;
}
void __wrap_free(void *p) {
    if (p) live--;
    __real_free(p);
}
FILE *__wrap_fopen(const char *path, const char *mode) {
    if (fails_now()) return errno = EMFILE, NULL;
    return __real_fopen(path, mode);
}
FILE *__wrap_fdopen(int fd, const char *mode) {
    if (fails_now()) return errno = ENOMEM, NULL;
    return __real_fdopen(fd, mode);
}
size_t __wrap_fread(void *buf, size_t size, size_t n, FILE *f) {
    if (fails_now()) return errno = EIO, 0;
    return __real_fread(buf, size, n, f);
}
int __wrap_open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (fails_now()) return errno = EACCES, -1;
    return __real_open(path, flags, mode);
}
ssize_t __wrap_write(int fd, const void *buf, size_t n) {
    if (fails_now()) return errno = ENOSPC, -1;
    return __real_write(fd, buf, n);
}
int __wrap_fsync(int fd) {
    if (fails_now()) return errno = EIO, -1;
    return __real_fsync(fd);
}
int __wrap_rename(const char *a, const char *b) {
    if (fails_now()) return errno = EXDEV, -1;
    return __real_rename(a, b);
}
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg) {
    if (fails_now()) return EAGAIN;
    return __real_pthread_create(t, attr, fn, arg);
}

/* ------------------------------------------------------------ scenario */

/* Big enough that products run on both threads (> 2^17 multiply-adds each). */
enum { ROWS = 96, IN = 64, HIDDEN = 256, OUT = 3, BATCH = 32 };

static int open_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

typedef struct {
    nnc_status status;    /* of the first call that failed, NNC_OK if none */
    double params[IN * HIDDEN + HIDDEN + HIDDEN * OUT + OUT]; /* after training */
    double out[ROWS * OUT];
    int64_t n_params;
} outcome;

#define STEP(call)                                   \
    do {                                             \
        if (o->status == NNC_OK) o->status = (call); \
    } while (0)

static void scenario(const char *path, const double *x, const double *y, outcome *o) {
    memset(o, 0, sizeof *o);
    nnc_layer_spec layers[2];
    nnc_layer_spec_default(&layers[0], HIDDEN, NNC_ACT_TANH);
    nnc_layer_spec_default(&layers[1], OUT, NNC_ACT_SOFTMAX);
    nnc_optimizer_config cfg;
    nnc_optimizer_config_default(&cfg, NNC_OPT_ADAM);
    nnc_model *m = NULL, *loaded = NULL;
    double loss = 0;
    STEP(nnc_set_num_threads(2));
    STEP(nnc_model_create(NNC_FLOAT64, IN, 2, layers, 42, &m));
    STEP(nnc_model_compile(m, NNC_LOSS_CATEGORICAL_CROSSENTROPY, 0.01, &cfg));
    for (int epoch = 0; epoch < 2; epoch++)
        STEP(nnc_train_epoch(m, x, y, NULL, ROWS, BATCH, 1, NULL, &loss));
    STEP(nnc_model_save(m, path));
    STEP(nnc_model_load(path, &loaded));
    STEP(nnc_predict(loaded, x, ROWS, o->out));
    if (o->status == NNC_OK) {
        o->n_params = nnc_model_num_params(loaded);
        STEP(nnc_model_get_params(loaded, o->params, o->n_params));
    }
    nnc_model_destroy(loaded);
    nnc_model_destroy(m);
    nnc_thread_pool_shutdown(); /* the next run starts its workers again */
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fault_injection DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.nncb", argv[1]);
    double x[ROWS * IN], y[ROWS * OUT];
    for (int i = 0; i < ROWS; i++) {
        for (int j = 0; j < IN; j++) x[i * IN + j] = ((i * 7 + j * 3) % 11) / 5.0 - 1.0;
        for (int k = 0; k < OUT; k++) y[i * OUT + k] = (i % OUT) == k;
    }
    static outcome reference, run;
    scenario(path, x, y, &reference);
    const long live_before = atomic_load(&live); /* what a complete run leaves: nothing, or caches */
    const int fds_before = open_fds();
    CHECK(reference.status == NNC_OK, "reference run: %s", nnc_status_str(reference.status));
    if (reference.status) return check_summary();
    int runs = 0, errors = 0, same = 0;
    for (fail_at = 1;; fail_at++) {
        atomic_store(&calls, 0);
        atomic_store(&injected, 0);
        scenario(path, x, y, &run);
        if (!atomic_load(&injected)) break; /* every call of the scenario has failed once */
        runs++;
        const int leaked = atomic_load(&live) != live_before, fds = open_fds() != fds_before;
        if (leaked || fds)
            CHECK(0, "failure %ld: %ld allocations and %d descriptors left behind", fail_at,
                  (long)(atomic_load(&live) - live_before), open_fds() - fds_before);
        if (run.status != NNC_OK) {
            errors++;
            continue;
        }
        const int identical =
            run.n_params == reference.n_params &&
            memcmp(run.params, reference.params, sizeof(double) * (size_t)run.n_params) == 0 &&
            memcmp(run.out, reference.out, sizeof run.out) == 0;
        if (!identical) CHECK(0, "failure %ld: succeeded with different results", fail_at);
        same++;
    }
    CHECK(runs > 20, "%d injected failures (%d returned a status, %d gave the reference's "
          "exact results), none crashed, leaked or changed a result", runs, errors, same);
    unlink(path);
    return check_summary();
}
