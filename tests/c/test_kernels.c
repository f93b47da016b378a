/*
 * test_kernels.c - the kernel sets tested against each other, without
 * Python. For every SIMD set the CPU runs (avx2, avx512):
 *  - GEMM in every mode (forward with bias and relu, weight gradient with
 *    the bias row, delta with relu', accumulate) on odd sizes (1, 3, 17,
 *    129, sizes past the cache blocks, non-multiples of the vector width):
 *    within rounding of the reference kernels, and bit-identical to a
 *    sequential fma() chain (the numerical contract of nnc_kernels.h);
 *  - the same product cut into arbitrary blocks and run on 1..4 threads,
 *    and from two threads at once: bit-identical;
 *  - the finite check on every length and position of a NaN or infinity;
 *  - Adam/AdamW: nnc__optim_step with the SIMD set against the same step
 *    with the reference set (the scalar kernel), bit for bit.
 * Prints one line per check; exits non-zero when any fails.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nnc.h"
#include "nnc_internal.h"
#include "nnc_kernels.h"
#include "nnc_optim_internal.h"

/* Deterministic values in [-1, 1). */
static uint64_t rng_state = 88172645463325252ULL;
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

typedef struct {
    int64_t M, N, K;
    int mode; /* 0 forward (bias, relu), 1 weight gradient (ones row), 2 delta (relu'),
                 3 plain NN accumulate, 4 NT plain, 5 TN accumulate */
} gemm_case;

static const char *mode_name[] = {"nn+bias+relu", "tn+ones_row", "nt+relu'", "nn+accumulate",
                                  "nt", "tn+accumulate"};

/* Buffers of one test product in double; converted per dtype. */
typedef struct {
    int64_t M, N, K, rows; /* rows = M + ones_row */
    int64_t lda, ldb, ldc, ldd, ldz;
    double *A, *B, *C0, *bias, *Z;
    nnc__gemm_desc d;
} problem;

static void problem_init(problem *p, const gemm_case *c) {
    memset(p, 0, sizeof *p);
    p->M = c->M;
    p->N = c->N;
    p->K = c->K;
    nnc__gemm_desc *d = &p->d;
    d->M = c->M;
    d->N = c->N;
    d->K = c->K;
    d->trans_a = c->mode == 1 || c->mode == 5;
    d->trans_b = c->mode == 2 || c->mode == 4;
    d->accumulate = c->mode == 3 || c->mode == 5;
    d->ones_row = c->mode == 1;
    d->epilogue = c->mode == 0 ? NNC__EPI_RELU : c->mode == 2 ? NNC__EPI_RELU_GRAD : NNC__EPI_NONE;
    p->rows = c->M + d->ones_row;
    /* Padded strides: kernels must honour them. */
    p->lda = (d->trans_a ? c->M : c->K) + 3;
    p->ldb = (d->trans_b ? c->K : c->N) + 5;
    p->ldc = c->N + 2;
    p->ldd = c->N + 7;
    p->ldz = c->N + 1;
    const int64_t a_rows = d->trans_a ? c->K : c->M, b_rows = d->trans_b ? c->N : c->K;
    p->A = malloc(sizeof(double) * (size_t)(a_rows * p->lda + 1));
    p->B = malloc(sizeof(double) * (size_t)(b_rows * p->ldb + 1));
    p->C0 = malloc(sizeof(double) * (size_t)(p->rows * p->ldc + 1));
    p->bias = malloc(sizeof(double) * (size_t)(c->N + 1));
    p->Z = malloc(sizeof(double) * (size_t)(c->M * p->ldz + 1));
    for (int64_t i = 0; i < a_rows * p->lda; i++) p->A[i] = urand();
    for (int64_t i = 0; i < b_rows * p->ldb; i++) p->B[i] = urand();
    for (int64_t i = 0; i < p->rows * p->ldc; i++) p->C0[i] = urand();
    for (int64_t i = 0; i < c->N; i++) p->bias[i] = urand();
    for (int64_t i = 0; i < c->M * p->ldz; i++) p->Z[i] = urand();
    if (c->M * p->ldz > 2) p->Z[1] = 0.0; /* relu'(0) = 0 */
}

static void problem_free(problem *p) {
    free(p->A);
    free(p->B);
    free(p->C0);
    free(p->bias);
    free(p->Z);
}

/* Operand storage in one dtype. */
typedef struct {
    void *A, *B, *C, *D, *bias, *Z;
    size_t es;
} operands;

static void *convert(const double *src, int64_t n, int f32) {
    void *out = malloc((size_t)(n + 1) * (f32 ? sizeof(float) : sizeof(double)));
    for (int64_t i = 0; i < n; i++) {
        if (f32)
            ((float *)out)[i] = (float)src[i];
        else
            ((double *)out)[i] = src[i];
    }
    return out;
}

static void operands_init(operands *o, const problem *p, int f32) {
    const nnc__gemm_desc *d = &p->d;
    const int64_t a_rows = d->trans_a ? p->K : p->M, b_rows = d->trans_b ? p->N : p->K;
    o->es = f32 ? sizeof(float) : sizeof(double);
    o->A = convert(p->A, a_rows * p->lda, f32);
    o->B = convert(p->B, b_rows * p->ldb, f32);
    o->C = convert(p->C0, p->rows * p->ldc, f32);
    o->D = calloc((size_t)(p->M * p->ldd + 1), o->es);
    o->bias = convert(p->bias, p->N, f32);
    o->Z = convert(p->Z, p->M * p->ldz, f32);
}

static void operands_free(operands *o) {
    free(o->A);
    free(o->B);
    free(o->C);
    free(o->D);
    free(o->bias);
    free(o->Z);
}

static nnc__gemm_desc desc_for(const problem *p, const operands *o) {
    nnc__gemm_desc d = p->d;
    d.A = o->A;
    d.lda = p->lda;
    d.B = o->B;
    d.ldb = p->ldb;
    d.C = o->C;
    d.ldc = p->ldc;
    d.bias = p->d.epilogue == NNC__EPI_RELU ? o->bias : NULL; /* the forward mode */
    d.D = o->D;
    d.ldd = p->ldd;
    d.Z = o->Z;
    d.ldz = p->ldz;
    return d;
}

static double get(const void *base, int64_t i, int f32) {
    return f32 ? (double)((const float *)base)[i] : ((const double *)base)[i];
}

/* The contract's exact twin: a sequential fma() chain per element. Also
 * returns sum |a b| + |init| per element (for the rounding bound). */
static void fma_chain(const nnc__gemm_desc *d, int f32, int64_t i, int64_t j, double *out,
                      double *mag) {
    const int ones = i == d->M;
    double init = d->accumulate ? get(d->C, i * d->ldc + j, f32) : d->bias ? get(d->bias, j, f32) : 0.0;
    float accf = (float)init;
    double accd = init, m = fabs(init);
    for (int64_t k = 0; k < d->K; k++) {
        const double a = ones ? 1.0 : d->trans_a ? get(d->A, k * d->lda + i, f32) : get(d->A, i * d->lda + k, f32);
        const double b = d->trans_b ? get(d->B, j * d->ldb + k, f32) : get(d->B, k * d->ldb + j, f32);
        if (f32)
            accf = fmaf((float)a, (float)b, accf);
        else
            accd = fma(a, b, accd);
        m += fabs(a * b);
    }
    double z = f32 ? (double)accf : accd;
    if (d->epilogue == NNC__EPI_RELU_GRAD) {
        const double zz = get(d->Z, i * d->ldz + j, f32);
        z = f32 ? (double)((float)z * (zz > 0 ? 1.0f : 0.0f)) : z * (zz > 0 ? 1.0 : 0.0);
    }
    *out = z;
    *mag = m;
}

static int same_bits(double a, double b, int f32) {
    if (f32) {
        float x = (float)a, y = (float)b;
        return memcmp(&x, &y, sizeof x) == 0;
    }
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Run kernel set k on the whole of C in one block; return a copy of C and D. */
static void run_block(const nnc__kernels *k, const problem *p, int f32, void *scratch, void **c_out,
                      void **d_out) {
    operands o;
    operands_init(&o, p, f32);
    nnc__gemm_desc d = desc_for(p, &o);
    (f32 ? k->gemm_f32 : k->gemm_f64)(&d, 0, p->rows, 0, p->N, scratch);
    *c_out = o.C;
    *d_out = o.D;
    o.C = o.D = NULL;
    operands_free(&o);
}

static void check_gemm_case(const nnc__kernels *k, const gemm_case *c, int f32, void *scratch) {
    problem p;
    problem_init(&p, c);
    void *simd_c, *simd_d, *ref_c, *ref_d;
    run_block(k, &p, f32, scratch, &simd_c, &simd_d);
    run_block(&nnc__kernels_ref, &p, f32, scratch, &ref_c, &ref_d);
    /* The chain needs the operands in this dtype, with C at its start value. */
    operands o;
    operands_init(&o, &p, f32);
    nnc__gemm_desc d = desc_for(&p, &o);
    const double eps = f32 ? 5.96e-8 : 1.11e-16;
    double worst_ref = 0.0;
    int64_t not_exact = 0, bad_d = 0, bad_pad = 0;
    for (int64_t i = 0; i < p.rows; i++) {
        for (int64_t j = 0; j < p.N; j++) {
            double want, mag;
            fma_chain(&d, f32, i, j, &want, &mag);
            const double got = get(simd_c, i * p.ldc + j, f32), ref = get(ref_c, i * p.ldc + j, f32);
            if (!same_bits(got, want, f32)) not_exact++;
            /* FMA chain vs plain chain: each differs from the exact sum by
             * at most K+1 roundings of the magnitudes. */
            const double bound = 2.0 * (double)(p.K + 2) * eps * (mag + 1e-300);
            const double err = fabs(got - ref) / bound;
            if (err > worst_ref) worst_ref = err;
            if (p.d.epilogue == NNC__EPI_RELU && i < p.M) {
                const double a = get(simd_d, i * p.ldd + j, f32);
                if (!same_bits(a, got > 0 ? got : 0.0, f32)) bad_d++;
                if (!same_bits(get(ref_d, i * p.ldd + j, f32), ref > 0 ? ref : 0.0, f32)) bad_d++;
            }
        }
        /* Padding columns of C are never written. */
        for (int64_t j = p.N; j < p.ldc && i * p.ldc + j < p.rows * p.ldc; j++)
            if (!same_bits(get(simd_c, i * p.ldc + j, f32), get(o.C, i * p.ldc + j, f32), f32))
                bad_pad++;
    }
    CHECK(not_exact == 0 && worst_ref <= 1.0 && bad_d == 0 && bad_pad == 0,
          "%-6s %s %-13s M=%-4lld N=%-4lld K=%-4lld: fma-chain mismatches %lld, vs ref %.3f of "
          "bound, relu out %lld, padding %lld",
          k->name, f32 ? "f32" : "f64", mode_name[c->mode], (long long)c->M, (long long)c->N,
          (long long)c->K, (long long)not_exact, worst_ref, (long long)bad_d, (long long)bad_pad);
    free(simd_c);
    free(simd_d);
    free(ref_c);
    free(ref_d);
    operands_free(&o);
    problem_free(&p);
}

/* NNC_TEST_QUICK=1: fewer and smaller cases, for runs under valgrind. */
static int quick;

/* The same product computed in arbitrary blocks equals the one-block result. */
static void check_blocks(const nnc__kernels *k, int f32, void *scratch) {
    gemm_case cases[] = {{131, 149, 300, 0}, {70, 97, 45, 1}, {77, 301, 66, 2}};
    const size_t n_cases = quick ? 1 : sizeof cases / sizeof cases[0];
    for (size_t t = 0; t < n_cases; t++) {
        problem p;
        problem_init(&p, &cases[t]);
        void *whole_c, *whole_d;
        run_block(k, &p, f32, scratch, &whole_c, &whole_d);
        operands o;
        operands_init(&o, &p, f32);
        nnc__gemm_desc d = desc_for(&p, &o);
        const int64_t mcuts[] = {0, 1, 7, 50, p.rows}, ncuts[] = {0, 3, 64, 65, p.N};
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                (f32 ? k->gemm_f32 : k->gemm_f64)(&d, mcuts[a], mcuts[a + 1], ncuts[b],
                                                  ncuts[b + 1], scratch);
        const size_t bytes = (size_t)(p.rows * p.ldc) * o.es;
        CHECK(memcmp(whole_c, o.C, bytes) == 0 &&
                  memcmp(whole_d, o.D, (size_t)(p.M * p.ldd) * o.es) == 0,
              "%-6s %s %-13s: 16 blocks give the one-block bits", k->name, f32 ? "f32" : "f64",
              mode_name[cases[t].mode]);
        free(whole_c);
        free(whole_d);
        operands_free(&o);
        problem_free(&p);
    }
}

/* nnc__gemm on 1..4 threads, and from two threads at once. */
typedef struct {
    const problem *p;
    int f32;
    void *c;
} gemm_job;

static void *gemm_thread(void *arg) {
    gemm_job *j = arg;
    operands o;
    operands_init(&o, j->p, j->f32);
    nnc__gemm_desc d = desc_for(j->p, &o);
    /* The product does not read C (no accumulate): repeating it is idempotent. */
    for (int rep = 0; rep < (quick ? 2 : 20); rep++) nnc__gemm(j->f32 ? NNC_FLOAT32 : NNC_FLOAT64, &d);
    j->c = o.C;
    o.C = NULL;
    operands_free(&o);
    return NULL;
}

static void check_threads(int f32) {
    gemm_case c = {200, 300, 150, 0};
    problem p;
    problem_init(&p, &c);
    void *first = NULL;
    int identical = 1;
    for (int t = 1; t <= 4; t++) {
        nnc_set_num_threads(t);
        operands o;
        operands_init(&o, &p, f32);
        nnc__gemm_desc d = desc_for(&p, &o);
        nnc__gemm(f32 ? NNC_FLOAT32 : NNC_FLOAT64, &d);
        if (!first) {
            first = o.C;
            o.C = NULL;
        } else if (memcmp(first, o.C, (size_t)(p.rows * p.ldc) * o.es) != 0) {
            identical = 0;
        }
        operands_free(&o);
    }
    CHECK(identical, "%s %s: nnc__gemm on 1, 2, 3, 4 threads gives the same bits",
          nnc_kernel_arch(), f32 ? "f32" : "f64");
    nnc_set_num_threads(2);
    gemm_job jobs[2] = {{&p, f32, NULL}, {&p, f32, NULL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, gemm_thread, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    const size_t bytes = (size_t)(p.rows * p.ldc) * (f32 ? sizeof(float) : sizeof(double));
    CHECK(memcmp(first, jobs[0].c, bytes) == 0 && memcmp(first, jobs[1].c, bytes) == 0,
          "%s %s: two threads submitting products at once get the same bits", nnc_kernel_arch(),
          f32 ? "f32" : "f64");
    free(jobs[0].c);
    free(jobs[1].c);
    free(first);
    problem_free(&p);
}

/* Narrow products (a few columns of C: a small classifier's output layer)
 * take nnc__gemm's transposed path: the same bits as the active set's
 * direct product, in every mode without an epilogue, past KC included. */
static void check_narrow(const nnc__kernels *k, int f32, void *scratch) {
    const gemm_case cases[] = {{32, 2, 64, 0}, {64, 2, 32, 1}, {12, 1, 5, 3}, {100, 4, 3, 4},
                               {512, 4, 7, 5}, {31, 3, 300, 1}, {13, 1, 1, 0}, {40, 3, 2, 4}};
    nnc_set_num_threads(1);
    int64_t differ = 0;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        problem p;
        problem_init(&p, &cases[t]);
        const int with_bias = p.d.epilogue == NNC__EPI_RELU; /* the forward mode, minus relu */
        p.d.epilogue = NNC__EPI_NONE;
        operands direct, via;
        operands_init(&direct, &p, f32);
        operands_init(&via, &p, f32);
        nnc__gemm_desc dd = desc_for(&p, &direct), dv = desc_for(&p, &via);
        dd.bias = with_bias ? direct.bias : NULL;
        dv.bias = with_bias ? via.bias : NULL;
        (f32 ? k->gemm_f32 : k->gemm_f64)(&dd, 0, p.rows, 0, p.N, scratch);
        nnc__gemm(f32 ? NNC_FLOAT32 : NNC_FLOAT64, &dv);
        if (memcmp(direct.C, via.C, (size_t)(p.rows * p.ldc) * direct.es) != 0) differ++;
        operands_free(&direct);
        operands_free(&via);
        problem_free(&p);
    }
    CHECK(differ == 0, "%-6s %s: narrow products through nnc__gemm give the direct bits (%lld differ)",
          k->name, f32 ? "f32" : "f64", (long long)differ);
}

static void check_finite(const nnc__kernels *k) {
    int ok = 1;
    const double specials[] = {NAN, INFINITY, -INFINITY};
    for (int64_t n = 0; n <= 70 && ok; n++) {
        float *f = malloc(sizeof(float) * (size_t)(n + 1));
        double *d = malloc(sizeof(double) * (size_t)(n + 1));
        for (int64_t i = 0; i < n; i++) f[i] = (float)(d[i] = urand() * 1e30);
        if (k->all_finite_f32(f, n) != 1 || k->all_finite_f64(d, n) != 1) ok = 0;
        for (int64_t pos = 0; pos < n && ok; pos++)
            for (int s = 0; s < 3; s++) {
                const float fs = f[pos];
                const double ds = d[pos];
                f[pos] = (float)specials[s];
                d[pos] = specials[s];
                if (k->all_finite_f32(f, n) != 0 || k->all_finite_f64(d, n) != 0) ok = 0;
                f[pos] = fs;
                d[pos] = ds;
            }
        free(f);
        free(d);
    }
    CHECK(ok, "%-6s finite check: every length 0..70, NaN/inf at every position", k->name);
}

/* 1 when this CPU honours the engine's flush-to-zero mode. valgrind's
 * emulated CPU ignores MXCSR's FTZ/DAZ bits (the memcheck run of this
 * program then checks memory only; the native run checks the flushing). */
static int fpmode_flushes(void) {
    const unsigned saved = nnc__flush_subnormals_begin();
    volatile float tiny = 1.1754944e-38f; /* FLT_MIN */
    tiny = tiny * 0.5f;
    nnc__fpmode_set(saved);
    return tiny == 0.0f;
}

/* Adam/AdamW: nnc__optim_step with kernel set `arch` against the same step
 * with the reference kernels (nnc_set_kernel_arch), bit for bit. */
static void check_adam(const char *arch, nnc_dtype dt, nnc_optimizer_kind kind, double wd,
                       int amsgrad, int64_t n) {
    nnc_optimizer_config cfg;
    nnc_optimizer_config_default(&cfg, kind);
    cfg.weight_decay = wd;
    cfg.amsgrad = amsgrad;
    cfg.beta1 = kind == NNC_OPT_ADAMW ? 0.3 : 0.9; /* both forms of torch.lerp */
    nnc__optim *a = NULL, *b = NULL;
    nnc__optim_create(&cfg, dt, n, &a);
    nnc__optim_create(&cfg, dt, n, &b);
    const size_t es = nnc__dtype_size(dt);
    char *pa = malloc(es * (size_t)n), *pb = malloc(es * (size_t)n), *g = malloc(es * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        const double v = urand();
        if (dt == NNC_FLOAT32)
            ((float *)pa)[i] = (float)v;
        else
            ((double *)pa)[i] = v;
    }
    memcpy(pb, pa, es * (size_t)n);
    /* Every third gradient is so small that m becomes subnormal, the next
     * third makes v subnormal: both are stored as zero. */
    const int f32 = dt == NNC_FLOAT32;
    const double tiny_m = f32 ? 1e-38 : 1e-308, tiny_v = f32 ? 1e-20 : 1e-160;
    for (int step = 0; step < 4; step++) {
        for (int64_t i = 0; i < n; i++) {
            const double v = urand() * (i % 3 == 0   ? tiny_m
                                        : i % 3 == 1 ? tiny_v
                                        : step == 2  ? 1e-3
                                                     : 1.0);
            if (dt == NNC_FLOAT32)
                ((float *)g)[i] = (float)v;
            else
                ((double *)g)[i] = v;
        }
        nnc_set_kernel_arch("ref");
        nnc__optim_step(a, pa, g);
        nnc_set_kernel_arch(arch);
        nnc__optim_step(b, pb, g);
    }
    int64_t sa = 0, sb = 0;
    nnc__optim_state_size(a, &sa);
    nnc__optim_state_size(b, &sb);
    char *ba = malloc((size_t)sa), *bb = malloc((size_t)sb);
    nnc__optim_state_export(a, ba, sa);
    nnc__optim_state_export(b, bb, sb);
    int64_t subnormal = 0, flushed_m = 0;
    for (int64_t i = 0; i < n; i++)
        for (int role = 0; role < 2; role++) {
            const double x = f32 ? ((float *)a->buf[role])[i] : ((double *)a->buf[role])[i];
            const int cls = f32 ? fpclassify(((float *)a->buf[role])[i]) : fpclassify(x);
            subnormal += cls == FP_SUBNORMAL;
            flushed_m += role == 0 && i % 3 == 0 && x == 0;
        }
    /* (Adam's coupled weight decay adds wd * p to the tiny gradients.) */
    const int m_stays_tiny = !(kind == NNC_OPT_ADAM && wd != 0);
    CHECK(!fpmode_flushes() || (subnormal == 0 && (flushed_m > n / 6) == m_stays_tiny),
          "%-6s %s %-5s n=%lld: no subnormal m or v (%lld of the tiny m flushed to 0)", arch,
          f32 ? "f32" : "f64", kind == NNC_OPT_ADAM ? "adam" : "adamw", (long long)n,
          (long long)flushed_m);
    CHECK(memcmp(pa, pb, es * (size_t)n) == 0 && sa == sb && memcmp(ba, bb, (size_t)sa) == 0,
          "%-6s %s %-5s wd=%g amsgrad=%d n=%lld: 4 steps bit-identical to the reference kernels",
          arch, dt == NNC_FLOAT32 ? "f32" : "f64", kind == NNC_OPT_ADAM ? "adam" : "adamw", wd,
          amsgrad, (long long)n);
    free(ba);
    free(bb);
    free(pa);
    free(pb);
    free(g);
    nnc__optim_destroy(a);
    nnc__optim_destroy(b);
}

/* Every first-order optimizer stores its state with subnormals flushed to
 * zero (docs/design.md, Subnormal optimizer state): gradients of 1e-38
 * (f32; 1e-308 f64) make first moments and momentum buffers subnormal,
 * gradients of 1e-20 (1e-160) make squared averages subnormal. */
static void check_state_flush(nnc_dtype dt) {
    const int f32 = dt == NNC_FLOAT32;
    const double tiny[2] = {f32 ? 1e-38 : 1e-308, f32 ? 1e-20 : 1e-160};
    const int64_t n = 99;
    for (int variant = 0; variant < 6; variant++) {
        nnc_optimizer_config cfg;
        const nnc_optimizer_kind kinds[] = {NNC_OPT_SGD,     NNC_OPT_SGD,  NNC_OPT_ADAGRAD,
                                            NNC_OPT_RMSPROP, NNC_OPT_ADAM, NNC_OPT_ADAMW};
        nnc_optimizer_config_default(&cfg, kinds[variant]);
        cfg.momentum = variant <= 1 || variant == 3 ? 0.9 : 0.0;
        cfg.nesterov = variant == 0;
        cfg.centered = variant == 3;
        cfg.amsgrad = variant == 5;
        nnc__optim *o = NULL;
        nnc__optim_create(&cfg, dt, n, &o);
        const size_t es = nnc__dtype_size(dt);
        char *p = calloc((size_t)n, es), *g = malloc(es * (size_t)n);
        for (int step = 0; step < 5; step++) {
            for (int64_t i = 0; i < n; i++) {
                const double v = urand() * tiny[i % 2];
                if (f32)
                    ((float *)g)[i] = (float)v;
                else
                    ((double *)g)[i] = v;
            }
            nnc__optim_step(o, p, g);
        }
        int64_t subnormal = 0, buffers = 0;
        for (int role = 0; role < NNC__OPT_NBUF; role++) {
            if (!o->buf[role]) continue;
            buffers++;
            for (int64_t i = 0; i < n; i++)
                subnormal += f32 ? fpclassify(((float *)o->buf[role])[i]) == FP_SUBNORMAL
                                 : fpclassify(((double *)o->buf[role])[i]) == FP_SUBNORMAL;
        }
        CHECK(buffers > 0 && (!fpmode_flushes() || subnormal == 0),
              "%s %-7s variant %d: no subnormal in %lld state buffers after tiny gradients",
              f32 ? "f32" : "f64", nnc_optimizer_name(kinds[variant]), variant,
              (long long)buffers);
        free(p);
        free(g);
        nnc__optim_destroy(o);
    }
}

/* The element-wise kernel: every op, both dtypes, every length 0..70 (all
 * tail sizes of both sets) on random inputs spanning the saturation
 * ranges plus the special values, bit-identical to the reference set. */
static void check_map(const nnc__kernels *k) {
    const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-310, -1e-310,
                               5e-324, 709.7, -745.1, 88.7, -103.9, 19.1, -19.1, 40.0};
    const int n_specials = (int)(sizeof specials / sizeof specials[0]);
    int ok = 1;
    for (int op = 0; op < NNC__MAP_COUNT && ok; op++)
        for (int f32 = 0; f32 < 2 && ok; f32++)
            for (int64_t n = 0; n <= 70 && ok; n++) {
                const size_t es = f32 ? sizeof(float) : sizeof(double);
                char *x = malloc(es * (size_t)(n + 1)), *a = malloc(es * (size_t)(n + 1));
                char *o1 = malloc(es * (size_t)(n + 1)), *o2 = malloc(es * (size_t)(n + 1));
                for (int64_t i = 0; i < n; i++) {
                    const double v = i % 5 == 4 ? specials[(i / 5 + n) % n_specials]
                                                : (urand() - 0.5) * (i % 3 ? 12.0 : 1600.0);
                    const double av = urand(), gv = urand() - 0.5;
                    if (f32) {
                        ((float *)x)[i] = (float)v;
                        ((float *)a)[i] = (float)av;
                        ((float *)o1)[i] = ((float *)o2)[i] = (float)gv;
                    } else {
                        ((double *)x)[i] = v;
                        ((double *)a)[i] = av;
                        ((double *)o1)[i] = ((double *)o2)[i] = gv;
                    }
                }
                nnc__map_fn ref = f32 ? nnc__kernels_ref.map_f32 : nnc__kernels_ref.map_f64;
                nnc__map_fn fast = f32 ? k->map_f32 : k->map_f64;
                ref((nnc__map_op)op, x, a, o1, n, 0.25);
                fast((nnc__map_op)op, x, a, o2, n, 0.25);
                if (memcmp(o1, o2, es * (size_t)n) != 0) ok = 0;
                free(x);
                free(a);
                free(o1);
                free(o2);
            }
    CHECK(ok, "%-6s element-wise map: %d ops x f32/f64 x lengths 0..70, specials, bit-identical "
              "to the reference", k->name, (int)NNC__MAP_COUNT);
}

int main(void) {
    const char *archs[] = {"avx2", "avx512"};
    const char *quick_env = getenv("NNC_TEST_QUICK");
    quick = quick_env && strcmp(quick_env, "1") == 0;
    void *scratch = nnc__aligned_alloc(NNC__GEMM_SCRATCH_BYTES);
    int tested = 0;
    printf("nnc kernel test (default kernels: %s)\n", nnc_kernel_arch());
    check_finite(&nnc__kernels_ref);
    for (int a = 0; a < 2; a++) {
        const nnc__kernels *k = nnc__kernels_supported(archs[a]);
        if (!k) {
            printf("skip %s: not supported by this CPU or build\n", archs[a]);
            continue;
        }
        tested++;
        const int64_t sizes[] = {1, 3, 17, 129};
        const int n_sizes = quick ? 3 : 4;
        for (int f32 = 1; f32 >= 0; f32--) {
            for (int mode = 0; mode < 6; mode++)
                for (int si = 0; si < n_sizes; si++)
                    for (int sj = 0; sj < n_sizes; sj++)
                        for (int sk = 0; sk < n_sizes; sk++) {
                            gemm_case c = {sizes[si], sizes[sj], sizes[sk], mode};
                            check_gemm_case(k, &c, f32, scratch);
                        }
            /* Past the cache blocks (KC 128 AVX-512, 256 AVX2; NC 512) and the register tile. */
            const gemm_case big[] = {{70, 600, 530, 0}, {785, 130, 257, 1}, {64, 520, 300, 2},
                                     {6, 64, 1000, 0},   {7, 1030, 9, 3},    {300, 10, 700, 5},
                                     {1, 1000, 784, 0},  {2, 77, 513, 4}};
            /* Quick runs keep one case past KC and one past NC. */
            const size_t first = quick ? 3 : 0, end = quick ? 5 : sizeof big / sizeof big[0];
            for (size_t t = first; t < end; t++) check_gemm_case(k, &big[t], f32, scratch);
            check_blocks(k, f32, scratch);
        }
        check_finite(k);
        check_map(k);
        nnc_set_kernel_arch(archs[a]);
        check_narrow(k, 1, scratch);
        check_narrow(k, 0, scratch);
        check_threads(1);
        check_threads(0);
        for (int dt = 0; dt < 2; dt++) {
            const nnc_dtype dtype = dt ? NNC_FLOAT64 : NNC_FLOAT32;
            check_adam(archs[a], dtype, NNC_OPT_ADAM, 0.0, 0, 1);
            check_adam(archs[a], dtype, NNC_OPT_ADAM, 0.0, 0, quick ? 1003 : 100003);
            check_adam(archs[a], dtype, NNC_OPT_ADAM, 0.01, 1, 1037);
            check_adam(archs[a], dtype, NNC_OPT_ADAMW, 0.01, 0, quick ? 701 : 70001);
            check_adam(archs[a], dtype, NNC_OPT_ADAMW, 0.1, 1, 17);
        }
    }
    nnc_set_kernel_arch("ref");
    check_narrow(&nnc__kernels_ref, 1, scratch);
    check_narrow(&nnc__kernels_ref, 0, scratch);
    nnc_set_kernel_arch("auto");
    if (!fpmode_flushes()) printf("note: this CPU ignores flush-to-zero: subnormal checks off\n");
    check_state_flush(NNC_FLOAT32);
    check_state_flush(NNC_FLOAT64);
    nnc_thread_pool_shutdown();
    nnc__aligned_free(scratch);
    printf("kernel sets tested: %d, checks: %d\n", tested, checks);
    return check_summary();
}
