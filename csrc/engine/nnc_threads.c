/*
 * nnc_threads.c - the engine's thread pool (see nnc_threads.h) and the
 * public nnc_set_num_threads / nnc_get_num_threads /
 * nnc_thread_pool_shutdown.
 *
 * POSIX threads. Each worker has a mailbox (sequence number, task); the
 * submitter fills the mailboxes of the workers it needs, bumps their
 * sequence numbers, runs task 0 itself and spins until the workers have
 * reported back. Idle workers spin briefly (the next product of a training
 * step follows within microseconds) and then sleep on a condition
 * variable, so an idle pool costs no CPU. Without POSIX threads everything
 * runs serially in the caller.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif

#include "nnc_threads.h"

#include "nnc_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256

#if defined(__unix__) || defined(__APPLE__)
#define NNC_POSIX_THREADS 1
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif
#endif

/* ------------------------------------------------- default thread count */

#ifdef NNC_POSIX_THREADS
/* Hardware threads per core from Linux sysfs ("0,16" or "0-1"), else 1. */
static int smt_width(void) {
    int width = 1;
#ifdef __linux__
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "r");
    if (!f) return 1;
    char buf[128];
    if (fgets(buf, sizeof buf, f)) {
        width = 0;
        char *p = buf;
        while (*p && *p != '\n') {
            long lo = strtol(p, &p, 10), hi = lo;
            if (*p == '-') hi = strtol(p + 1, &p, 10);
            width += hi >= lo ? (int)(hi - lo + 1) : 1;
            if (*p == ',') p++;
            else break;
        }
        if (width < 1) width = 1;
    }
    fclose(f);
#endif
    return width;
}
#endif

/* CPUs this process may run on, divided by the SMT width (the FMA units
 * are per core: a second hardware thread per core adds nothing). */
static int default_threads(void) {
#ifdef NNC_POSIX_THREADS
    long cpus = 0;
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
#endif
    if (cpus <= 0) cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus <= 0) cpus = 1;
    const int smt = smt_width();
    if (smt > 1 && cpus >= smt) cpus /= smt;
    return cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
#else
    return 1;
#endif
}

#ifdef NNC_POSIX_THREADS

/* ------------------------------------------------------- thread scratch */

typedef struct {
    size_t size;
    void *buf;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_free(void *p) {
    scratch_t *s = p;
    if (!s) return;
    nnc__aligned_free(s->buf);
    free(s);
}

static void scratch_init(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0; }

void *nnc__thread_scratch(size_t bytes) {
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_key_ok) return NULL;
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->size < bytes) {
        void *buf = nnc__aligned_alloc(bytes);
        if (!buf) return NULL;
        nnc__aligned_free(s->buf);
        s->buf = buf;
        s->size = bytes;
    }
    return s->buf;
}

/* ----------------------------------------------------------------- pool */

typedef struct {
    _Alignas(64) atomic_uint_fast64_t seq; /* jobs posted to this worker */
    nnc__task_fn fn;
    void *ctx;
    int index, count;
    unsigned fpmode; /* the submitter's floating-point mode (nnc_fpmode.c) */
    int sleeping; /* guarded by mu */
    uint_fast64_t start_seq; /* seq when the thread was created: jobs after it are new */
    pthread_cond_t cv;
    pthread_t thread;
} mailbox;

static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER; /* one submitter at a time */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;        /* sleep / wake */
static mailbox boxes[MAX_THREADS];  /* boxes[w] serves worker w, 1 <= w < MAX_THREADS */
static int n_workers;               /* started workers: boxes[1..n_workers] (submit_mu) */
static atomic_int stopping;
static atomic_int pending;          /* tasks handed out and not yet finished */
static atomic_int configured;       /* nnc_set_num_threads value, 0 = default */
static atomic_int detected;         /* cached default_threads(), 0 = not yet */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* An idle worker spins this long after a task before it sleeps: a training
 * step's products follow each other within microseconds, and a worker that
 * sleeps must be woken through the kernel, which also tends to place it on
 * the waker's CPU. */
#ifndef SPIN_NS
#define SPIN_NS 2000000LL
#endif
/* Spinning threads yield the CPU this often, so that a thread they wait
 * for gets to run even when the OS put both on one CPU. */
#ifndef YIELD_NS
#define YIELD_NS 20000LL
#endif

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker_main(void *arg) {
    mailbox *box = arg;
    uint_fast64_t seen = box->start_seq;
    for (;;) {
        uint_fast64_t s = atomic_load_explicit(&box->seq, memory_order_acquire);
        if (s == seen && !atomic_load_explicit(&stopping, memory_order_relaxed)) {
            long long t = now_ns();
            const long long deadline = t + SPIN_NS;
            long long next_yield = t + YIELD_NS;
            do {
                for (int i = 0; i < 16 && s == seen; i++) {
                    CPU_RELAX();
                    s = atomic_load_explicit(&box->seq, memory_order_acquire);
                }
                if (s != seen) break;
                t = now_ns();
                if (t >= next_yield) {
                    sched_yield();
                    next_yield = t + YIELD_NS;
                }
            } while (!atomic_load_explicit(&stopping, memory_order_relaxed) && t < deadline);
        }
        if (s == seen) {
            pthread_mutex_lock(&mu);
            box->sleeping = 1;
            while ((s = atomic_load_explicit(&box->seq, memory_order_acquire)) == seen &&
                   !atomic_load_explicit(&stopping, memory_order_relaxed))
                pthread_cond_wait(&box->cv, &mu);
            box->sleeping = 0;
            pthread_mutex_unlock(&mu);
        }
        if (s == seen) break; /* stopping, no job pending */
        seen = s;
        /* A task computes as its submitter's own part does: same bits. */
        nnc__fpmode_set(box->fpmode);
        box->fn(box->ctx, box->index, box->count);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* In a child of fork() the workers do not exist: forget them. */
static void after_fork_child(void) {
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    submit_mu = fresh;
    mu = fresh;
    n_workers = 0;
    atomic_store(&stopping, 0);
    atomic_store(&pending, 0);
}

static void register_fork_handler(void) { pthread_atfork(NULL, NULL, after_fork_child); }

/* Start workers until there are `want` (submit_mu held). Returns how many run. */
static int ensure_workers(int want) {
    if (want > MAX_THREADS - 1) want = MAX_THREADS - 1;
    if (n_workers >= want) return n_workers;
    pthread_once(&fork_once, register_fork_handler);
    /* Workers block every signal: the process's handlers run elsewhere. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (n_workers < want) {
        mailbox *box = &boxes[n_workers + 1];
        if (pthread_cond_init(&box->cv, NULL) != 0) break;
        box->sleeping = 0;
        box->start_seq = atomic_load(&box->seq);
        if (pthread_create(&box->thread, NULL, worker_main, box) != 0) {
            pthread_cond_destroy(&box->cv);
            break;
        }
        n_workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n_workers;
}

/* Stop and join every worker (submit_mu held). */
static void stop_workers(void) {
    if (n_workers == 0) return;
    pthread_mutex_lock(&mu);
    atomic_store(&stopping, 1);
    for (int w = 1; w <= n_workers; w++) pthread_cond_signal(&boxes[w].cv);
    pthread_mutex_unlock(&mu);
    for (int w = 1; w <= n_workers; w++) {
        pthread_join(boxes[w].thread, NULL);
        pthread_cond_destroy(&boxes[w].cv);
    }
    n_workers = 0;
    atomic_store(&stopping, 0);
}

int nnc__thread_count(void) {
    int n = atomic_load_explicit(&configured, memory_order_relaxed);
    if (n > 0) return n;
    n = atomic_load_explicit(&detected, memory_order_relaxed);
    if (n > 0) return n;
    n = default_threads();
    atomic_store(&detected, n);
    return n;
}

void nnc__parallel(nnc__task_fn fn, void *ctx, int n) {
    if (n <= 1 || pthread_mutex_trylock(&submit_mu) != 0) {
        for (int i = 0; i < n; i++) fn(ctx, i, n);
        return;
    }
    const int workers = ensure_workers(n - 1);
    const int helpers = workers < n - 1 ? workers : n - 1;
    atomic_store_explicit(&pending, helpers, memory_order_relaxed);
    const unsigned fpmode = nnc__fpmode_get();
    for (int w = 1; w <= helpers; w++) {
        mailbox *box = &boxes[w];
        box->fpmode = fpmode;
        box->fn = fn;
        box->ctx = ctx;
        box->index = w;
        box->count = n;
        atomic_fetch_add_explicit(&box->seq, 1, memory_order_release);
    }
    pthread_mutex_lock(&mu);
    for (int w = 1; w <= helpers; w++)
        if (boxes[w].sleeping) pthread_cond_signal(&boxes[w].cv);
    pthread_mutex_unlock(&mu);
    fn(ctx, 0, n);
    for (int i = helpers + 1; i < n; i++) fn(ctx, i, n);
    if (atomic_load_explicit(&pending, memory_order_acquire) > 0) {
        long long next_yield = now_ns() + YIELD_NS;
        for (unsigned spins = 1; atomic_load_explicit(&pending, memory_order_acquire) > 0; spins++) {
            CPU_RELAX();
            if ((spins & 31) == 0 && now_ns() >= next_yield) {
                sched_yield();
                next_yield = now_ns() + YIELD_NS;
            }
        }
    }
    pthread_mutex_unlock(&submit_mu);
}

typedef struct {
    nnc__item_fn fn;
    void *ctx;
    int items;
    atomic_int next;
} item_job;

static void take_items(void *vctx, int index, int count) {
    item_job *j = vctx;
    (void)index;
    (void)count;
    for (;;) {
        const int i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->items) break;
        j->fn(j->ctx, i);
    }
}

void nnc__parallel_items(nnc__item_fn fn, void *ctx, int items, int threads) {
    if (threads > items) threads = items;
    if (threads <= 1) {
        for (int i = 0; i < items; i++) fn(ctx, i);
        return;
    }
    item_job j;
    j.fn = fn;
    j.ctx = ctx;
    j.items = items;
    atomic_init(&j.next, 0);
    nnc__parallel(take_items, &j, threads);
}

nnc_status nnc_set_num_threads(int n) {
    if (n < 1 || n > MAX_THREADS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "the number of threads must be in [1, %d], got %d",
                         MAX_THREADS, n);
    pthread_mutex_lock(&submit_mu);
    if (n_workers > n - 1) stop_workers();
    atomic_store(&configured, n);
    pthread_mutex_unlock(&submit_mu);
    return NNC_OK;
}

void nnc_thread_pool_shutdown(void) {
    pthread_mutex_lock(&submit_mu);
    stop_workers();
    pthread_mutex_unlock(&submit_mu);
    /* The caller's own scratch too: key destructors never run for the main
     * thread, so without this a leak checker reports it at exit. */
    if (scratch_key_ok) {
        scratch_free(pthread_getspecific(scratch_key));
        pthread_setspecific(scratch_key, NULL);
    }
}

#else /* no POSIX threads: everything runs in the caller */

static int configured;

void *nnc__thread_scratch(size_t bytes) {
    static _Thread_local void *buf;
    static _Thread_local size_t size;
    if (size < bytes) {
        void *p = nnc__aligned_alloc(bytes);
        if (!p) return NULL;
        nnc__aligned_free(buf);
        buf = p;
        size = bytes;
    }
    return buf;
}

int nnc__thread_count(void) { return configured > 0 ? configured : default_threads(); }

void nnc__parallel(nnc__task_fn fn, void *ctx, int n) {
    for (int i = 0; i < n; i++) fn(ctx, i, n);
}

void nnc__parallel_items(nnc__item_fn fn, void *ctx, int items, int threads) {
    (void)threads;
    for (int i = 0; i < items; i++) fn(ctx, i);
}

nnc_status nnc_set_num_threads(int n) {
    if (n < 1 || n > MAX_THREADS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "the number of threads must be in [1, %d], got %d",
                         MAX_THREADS, n);
    configured = n;
    return NNC_OK;
}

void nnc_thread_pool_shutdown(void) {}

#endif

int nnc_get_num_threads(void) { return nnc__thread_count(); }
