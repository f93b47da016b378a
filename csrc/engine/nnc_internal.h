/*
 * nnc_internal.h - declarations shared by the engine's source files.
 * Not installed, not part of the public API. Internal symbols start with
 * `nnc__` (double underscore).
 */
#ifndef NNC_INTERNAL_H
#define NNC_INTERNAL_H

#include "nnc.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ errors */

/* Record a printf-style message for nnc_last_error() and return `status`. */
nnc_status nnc__fail(nnc_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Return the status of `expr` when it is not NNC_OK. */
#define NNC__TRY(expr)                         \
    do {                                       \
        nnc_status try_st_ = (expr);           \
        if (try_st_ != NNC_OK) return try_st_; \
    } while (0)

/* ------------------------------------------------------------- files */

/* Replace `path` with n bytes of `data` by the rule of
 * nnc_file_replace_begin (nnc_file_replace.c). NNC_ERR_IO with errno set. */
nnc_status nnc__write_file(const char *path, const void *data, size_t n);

/* ------------------------------------------------------ checked sizes */

/* *out = a * b, or NNC_ERR_OVERFLOW (with a message naming `what`). */
nnc_status nnc__mul_size(size_t a, size_t b, size_t *out, const char *what);
/* *out = a + b, or NNC_ERR_OVERFLOW. */
nnc_status nnc__add_size(size_t a, size_t b, size_t *out, const char *what);
/* Largest element count any single buffer may have: keeps every byte size
 * and every int64 index computation far from overflow. */
#define NNC__MAX_ELEMS ((int64_t)1 << 40)

/* 64-byte aligned allocation; NULL on failure or when bytes == 0. */
void *nnc__aligned_alloc(size_t bytes); /* NULL above nnc__memory_limit() */
/* Bytes this process may use: the machine's RAM, lowered by a cgroup v2
 * memory.max and by RLIMIT_AS / RLIMIT_DATA (SIZE_MAX when unknown). With
 * overcommit, malloc can say yes to more and the first touch then gets
 * the process killed: sizes are checked against this first. */
size_t nnc__memory_limit(void);
/* NNC_ERR_NOMEM (message naming `what`) when `held` bytes already in use
 * plus `more` would exceed nnc__memory_limit(). */
nnc_status nnc__check_total(size_t held, size_t more, const char *what);
void nnc__aligned_free(void *p);

static inline size_t nnc__dtype_size(nnc_dtype dtype) {
    return dtype == NNC_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* --------------------------------------------------------------- RNG */

/* Counter-based generator: value i of the stream is splitmix64(key, i).
 * Identical on every platform; any element can be drawn independently
 * (needed for reproducible dropout masks). */
typedef struct {
    uint64_t key;
    uint64_t counter;
} nnc__rng;

void nnc__rng_seed(nnc__rng *rng, uint64_t seed);
uint64_t nnc__rng_next(nnc__rng *rng);
/* Value `index` of the stream `key`, without touching any state. */
uint64_t nnc__rng_at(uint64_t key, uint64_t index);
/* Uniform double in [0, 1) with 53 random bits. */
double nnc__rng_uniform(nnc__rng *rng);
/* Standard normal (Box-Muller, one value per two draws). */
double nnc__rng_normal(nnc__rng *rng);
/* Uniform integer in [0, bound), bound >= 1, without modulo bias. */
uint64_t nnc__rng_below(nnc__rng *rng, uint64_t bound);
/* Map 64 random bits to a double in [0, 1). */
static inline double nnc__u64_to_unit(uint64_t r) {
    return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------------------------------------------------------- optimizer */

typedef struct nnc__optim nnc__optim; /* defined in nnc_optim.c */

/* Evaluate J and dJ/dtheta at the parameters currently in the model's
 * buffer (the buffer nnc__optim_step / nnc__lbfgs_step update in place).
 * `grad` has n_params elements of the optimizer's dtype. */
typedef nnc_status (*nnc__objective)(void *ctx, double *loss, void *grad);

/* Validate `cfg` (nnc_optimizer_config_validate) and create zeroed state
 * for n_params parameters. */
nnc_status nnc__optim_create(const nnc_optimizer_config *cfg, nnc_dtype dtype,
                             int64_t n_params, nnc__optim **out);
nnc_status nnc__optim_clone(const nnc__optim *src, nnc__optim **out);
void nnc__optim_destroy(nnc__optim *opt);
/* Zero the state as if freshly created (config kept). */
void nnc__optim_reset(nnc__optim *opt);
const nnc_optimizer_config *nnc__optim_config(const nnc__optim *opt);
nnc_status nnc__optim_set_learning_rate(nnc__optim *opt, double lr);
/* The rate the next step uses: the schedule's at the step counter, else
 * the config's learning_rate. */
nnc_status nnc__optim_learning_rate(const nnc__optim *opt, double *lr);
/* Tell the optimizer the lengths of the parameter tensors, in buffer
 * order, summing to n_params (clipnorm clips each one); copied. */
nnc_status nnc__optim_set_tensors(nnc__optim *opt, int64_t n_tensors, const int64_t *lengths);

/* One torch.optim step of a first-order optimizer (every kind but LBFGS)
 * in a single pass over the flat buffers: params -= update(grad), at the
 * schedule's rate for this step, after clipping `grad` in place when the
 * config asks. Adam and
 * AdamW run the active kernel set's adam on the thread pool; the results
 * are the same for every kernel set and thread count, bit for bit. */
nnc_status nnc__optim_step(nnc__optim *opt, void *params, void *grad);

/* One torch.optim.LBFGS.step(closure): up to max_iter iterations, calling
 * `f` for J and its gradient at the current params. *first_loss receives
 * the loss of the first evaluation (what torch's step returns). */
nnc_status nnc__lbfgs_step(nnc__optim *opt, void *params, nnc__objective f,
                           void *ctx, double *first_loss);

/* Serialized state (versioned, checked on import against kind, dtype and
 * n_params). */
nnc_status nnc__optim_state_size(const nnc__optim *opt, int64_t *n_bytes);
nnc_status nnc__optim_state_export(const nnc__optim *opt, void *out, int64_t n_bytes);
nnc_status nnc__optim_state_import(nnc__optim *opt, const void *blob, int64_t n_bytes);

/* ------------------------------------------------------------- model */

typedef struct {
    nnc_layer_spec spec;
    int64_t fan_in, fan_out;
    int64_t w_off, b_off, s_off; /* element offsets into params; -1 if absent */
    int64_t n_params;
} nnc__layer;

/* Scratch memory for a batch of up to `rows` rows; reused across batches
 * and grown (never per batch) when a call needs more rows. */
typedef struct {
    int64_t rows;
    void *block;     /* the single allocation behind every pointer below */
    void **z;        /* per layer: rows x fan_out pre-activations */
    void **a;        /* per layer: rows x fan_out activations */
    void **keep;     /* per layer: rows x fan_in dropout scale (0 or 1/(1-p)), or NULL */
    void **dropped;  /* per layer: rows x fan_in dropped input, or NULL */
    void *delta;     /* rows x max_width: dJ/dz of the current layer */
    void *delta_prev;/* rows x max_width: dJ/da, then dJ/dz, of the layer below */
    void *xb;        /* rows x input_dim gathered inputs */
    void *yb;        /* rows x output_dim gathered targets (or int64 labels) */
    void *swb;       /* rows gathered sample weights */
    int delta_is_dz; /* set by the loss: ws.delta holds dJ/dz (fused) or dJ/da */
    int dropout_active; /* set by the forward pass: masks in keep/dropped are live */
    int grad_nonfinite; /* set by the backward pass: a NaN or inf went into the gradient */
} nnc__workspace;

struct nnc_model {
    nnc_dtype dtype;
    int64_t input_dim;
    int n_layers;
    nnc__layer *layers;
    int64_t n_params;
    int64_t max_width; /* max fan_out of the layers (the deltas' width) */
    void *params;      /* n_params elements, 64-byte aligned */
    void *grad;        /* n_params elements: scratch for gradients */
    uint64_t seed;
    nnc__rng rng;

    int compiled;
    nnc_loss loss;
    double l2;
    nnc__optim *optim;

    nnc__workspace ws;
    /* While nnc_train_epoch runs: its progress stop flag, checked between
     * the products of a step so that Ctrl-C on a large batch waits for one
     * product, not a whole step. A step that sees it set is abandoned and
     * not applied. NULL otherwise. */
    const volatile int *stop;
    int64_t *perm;     /* epoch permutation, perm_cap entries */
    int64_t perm_cap;
};

/* Make sure the workspace holds `rows` rows (grows, never shrinks). */
nnc_status nnc__workspace_reserve(nnc_model *model, int64_t rows);
void nnc__workspace_free(nnc__workspace *ws);

/* Initialise every parameter of the model from its RNG (nnc_init.c). */
nnc_status nnc__init_params(nnc_model *model);

/* The calling thread's floating-point mode (nnc_fpmode.c). The engine's
 * arithmetic runs between `saved = nnc__flush_subnormals_begin()` (which
 * flushes subnormals to zero) and `nnc__fpmode_set(saved)`; pool tasks run
 * in their submitter's mode. */
unsigned nnc__fpmode_get(void);
void nnc__fpmode_set(unsigned mode);
unsigned nnc__flush_subnormals_begin(void);

/* Forward pass over m rows of x (workspace reserved for m rows). With
 * `training`, dropout masks are drawn from the model RNG. The output is
 * ws.a[n_layers-1]. */
nnc_status nnc__forward(nnc_model *model, const void *x, int64_t m, int training);

/* Loss of the last forward pass and dJ/dz of the output layer into
 * ws.delta; `want_delta` 0 computes the value only. Includes the L2 term. */
nnc_status nnc__loss_and_delta(nnc_model *model, const void *y, const void *sample_weight,
                               int64_t m, int want_delta, double *loss);

/* Backward pass after nnc__loss_and_delta: writes dJ/dtheta to `grad`
 * (including the L2 gradient). `x` is the input of the forward pass. */
nnc_status nnc__backward(nnc_model *model, const void *x, int64_t m, void *grad);

/* Data-parallel shards (nnc_data_parallel.c, docs/design.md
 * "Data-parallel training"): the forward pass of rows [row_offset,
 * row_offset + m) of a global batch of global_rows rows (dropout masks and
 * RNG advance as for the whole batch); the data part of J with the sum
 * divided by `denom` (returned; delta written as nnc__loss_and_delta); the
 * L2 term l2 / (2 rows) sum W^2 on its own; backpropagation with an
 * explicit L2 scale (0: none); grad += l2_scale * W on every weight
 * matrix, as backpropagation adds it. */
nnc_status nnc__forward_shard(nnc_model *model, const void *x, int64_t m, int training,
                              int64_t row_offset, int64_t global_rows);
double nnc__data_loss_and_delta(nnc_model *model, const void *y, const void *sample_weight,
                                int64_t m, int64_t denom, int want_delta);
double nnc__l2_loss(const nnc_model *model, int64_t rows);
nnc_status nnc__backward_l2(nnc_model *model, const void *x, int64_t m, double l2_scale,
                            void *grad);
void nnc__add_l2_gradient(const nnc_model *model, double l2_scale, void *grad);

/* NNC_ERR_UNSUPPORTED when a layer cannot be differentiated (step). */
nnc_status nnc__check_trainable(const nnc_model *model);

/* nnc_checks.c: validation of caller data before any state changes. */
nnc_status nnc__check_labels(const int64_t *labels, int64_t n, int64_t n_classes);
nnc_status nnc__check_sample_weights(nnc_dtype dtype, const void *sw, int64_t n);
/* x non-NULL with 1..limit rows; with need_y: compiled, y non-NULL, labels
 * in range and sample weights finite and >= 0. */
nnc_status nnc__check_batch(const nnc_model *model, const void *x, const void *y,
                            const void *sw, int64_t n, int need_y);

#endif /* NNC_INTERNAL_H */
