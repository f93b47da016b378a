/*
 * nnc.h - the only public header of the nnc engine.
 *
 * nnc trains and runs multilayer perceptrons (stacks of Dense layers) on the
 * CPU in float32 or float64. This header is plain C99; it knows nothing of
 * Python.
 *
 * Conventions
 * -----------
 * - Every fallible function returns an nnc_status; results come back through
 *   out-parameters. On failure, nnc_last_error() returns a message for the
 *   calling thread and no output or model state has been modified unless the
 *   function says otherwise.
 * - Matrices are dense, row-major and C-contiguous. A batch X has m rows of
 *   input_dim values. Layer l has weights W (fan_in x fan_out) and bias b
 *   (fan_out): z = a_prev . W + b, a = g(z).
 * - Pointers to caller data (X, y, sample weights, output buffers) are only
 *   read or written during the call; the engine never keeps them.
 * - A model is not safe to use from two threads at once; different models
 *   are independent. Functions that only take the model const (nnc_predict
 *   with its own workspace, the getters) are still not concurrency-safe with
 *   a call that mutates the same model; callers serialise per model.
 * - Nothing in the engine calls exit/abort or prints; sizes are checked for
 *   overflow before any allocation; a failed allocation leaks nothing.
 * - Status codes common to every function taking pointers:
 *   NNC_ERR_INVALID_ARG for a NULL model/pointer argument, NNC_ERR_NOMEM when
 *   an allocation fails; the others are listed with each function. Functions
 *   that return a value directly (getters, void functions) take a non-NULL
 *   model and cannot fail.
 * - Process-wide functions (names, status strings, nnc_last_error, thread
 *   and kernel settings, nnc_all_finite) may be called from any thread;
 *   nnc_set_kernel_arch is the exception noted at its declaration.
 * - Build: `make -C csrc` gives libnnc.a, libnnc.so and this header
 *   (examples/c/README.md); link with -lm -pthread.
 */
#ifndef NNC_H
#define NNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of nnc, defined here and nowhere else: setup.py reads these
 * three lines for the Python package's metadata, and nnc.__version__ is
 * nnc_version() (docs/design.md, "Packaging"). */
#define NNC_VERSION_MAJOR 0
#define NNC_VERSION_MINOR 1
#define NNC_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library that is linked (static, never NULL);
 * compare with the NNC_VERSION_* macros of the header compiled against. */
const char *nnc_version(void);

/* ------------------------------------------------------------------ status */

typedef enum {
    NNC_OK = 0,
    NNC_ERR_INVALID_ARG = 1,  /* a NULL pointer, a negative size, an unknown enum */
    NNC_ERR_NOMEM = 2,        /* an allocation failed */
    NNC_ERR_OVERFLOW = 3,     /* a size computation would overflow size_t */
    NNC_ERR_SHAPE = 4,        /* array sizes inconsistent with the model */
    NNC_ERR_UNSUPPORTED = 5,  /* a valid request the engine cannot honour
                                 (e.g. training through a step activation) */
    NNC_ERR_STATE = 6,        /* wrong order of calls (e.g. train before compile) */
    NNC_ERR_NONFINITE = 7,    /* NaN or infinity in input or in the loss */
    NNC_ERR_INTERRUPTED = 8,  /* stopped on request through nnc_progress */
    NNC_ERR_FORMAT = 9,       /* a serialized blob or model file is malformed */
    NNC_ERR_IO = 10           /* a file could not be opened, read or written */
} nnc_status;

/* Static, never NULL. */
const char *nnc_status_str(nnc_status status);
/* Message describing the last failure in this thread (thread-local storage,
 * valid until the next failing call in the same thread). Never NULL.
 * Recording the message leaves errno alone. */
const char *nnc_last_error(void);

/* ----------------------------------------------------------------- enums */

typedef enum { NNC_FLOAT32 = 0, NNC_FLOAT64 = 1 } nnc_dtype;

typedef enum {
    NNC_ACT_LINEAR = 0,
    NNC_ACT_SIGMOID,
    NNC_ACT_TANH,
    NNC_ACT_RELU,
    NNC_ACT_LEAKY_RELU, /* slope 0.01 for z <= 0 */
    NNC_ACT_PRELU,      /* learnable slope per unit, initial 0.25 */
    NNC_ACT_ELU,        /* alpha = 1 */
    NNC_ACT_SELU,
    NNC_ACT_SWISH,      /* z * sigmoid(z), a.k.a. silu */
    NNC_ACT_GELU,       /* exact: z * Phi(z) */
    NNC_ACT_SOFTPLUS,
    NNC_ACT_SOFTMAX,    /* over the units of a row */
    NNC_ACT_STEP,       /* 1 if z >= 0 else 0; forward only */
    NNC_ACT_COUNT_
} nnc_activation;

typedef enum {
    NNC_LOSS_MSE = 0,                   /* (1/2m) sum |a - y|^2 */
    NNC_LOSS_MAE,                       /* (1/m) sum |a - y| */
    NNC_LOSS_HUBER,                     /* delta = 1 */
    NNC_LOSS_BINARY_CROSSENTROPY,       /* needs a sigmoid output */
    NNC_LOSS_CATEGORICAL_CROSSENTROPY,  /* needs a softmax output */
    NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, /* softmax output, int64 labels */
    NNC_LOSS_POISSON,                   /* half Poisson deviance of exp(z); linear output */
    NNC_LOSS_COUNT_
} nnc_loss;

typedef enum {
    NNC_INIT_AUTO = 0,   /* chosen by activation (docs/architecture.md, Initializers) */
    NNC_INIT_ZEROS,
    NNC_INIT_ONES,
    NNC_INIT_CONSTANT,   /* param = value */
    NNC_INIT_UNIFORM,    /* U(-param, param) */
    NNC_INIT_NORMAL,     /* N(0, param^2) */
    NNC_INIT_GLOROT_NORMAL,
    NNC_INIT_GLOROT_UNIFORM,
    NNC_INIT_HE_NORMAL,
    NNC_INIT_HE_UNIFORM,
    NNC_INIT_LECUN_NORMAL,
    NNC_INIT_LECUN_UNIFORM,
    NNC_INIT_FAN_IN_UNIFORM, /* U(+-1/sqrt(fan_in)), torch.nn.Linear's rule; kernel or bias */
    NNC_INIT_COUNT_
} nnc_init;

typedef enum {
    NNC_OPT_SGD = 0,
    NNC_OPT_ADAGRAD,
    NNC_OPT_RMSPROP,
    NNC_OPT_ADAM,
    NNC_OPT_ADAMW,
    NNC_OPT_LBFGS,
    NNC_OPT_COUNT_
} nnc_optimizer_kind;

/* Name <-> enum. Names are the Python facade's ("relu", "glorot_uniform",
 * "categorical_crossentropy", "adamw"...; aliases "silu", "xavier_uniform",
 * "kaiming_normal", "sparse_categorical_crossentropy" are accepted).
 * Return NNC_ERR_INVALID_ARG for an unknown name. */
nnc_status nnc_activation_from_name(const char *name, nnc_activation *out);
nnc_status nnc_loss_from_name(const char *name, nnc_loss *out);
nnc_status nnc_init_from_name(const char *name, nnc_init *out);
nnc_status nnc_optimizer_from_name(const char *name, nnc_optimizer_kind *out);
/* Canonical name, or NULL for an out-of-range value. Static storage. */
const char *nnc_activation_name(nnc_activation act);
const char *nnc_loss_name(nnc_loss loss);
const char *nnc_init_name(nnc_init init);
const char *nnc_optimizer_name(nnc_optimizer_kind kind);

/* ------------------------------------------------------------------ model */

typedef struct nnc_model nnc_model; /* opaque */

/* Static description of one Dense layer. */
typedef struct {
    int64_t units;              /* fan_out, >= 1 */
    nnc_activation activation;
    int use_bias;               /* 0 or 1 */
    double input_dropout;       /* inverted dropout rate on this layer's
                                   input during training, in [0, 1) */
    nnc_init kernel_init;
    double kernel_init_param;   /* value/limit/stddev for CONSTANT/UNIFORM/NORMAL */
    nnc_init bias_init;         /* ZEROS, ONES, CONSTANT, UNIFORM or NORMAL */
    double bias_init_param;
} nnc_layer_spec;

/* Fill a spec with defaults: linear, bias, no dropout, AUTO kernel init,
 * FAN_IN_UNIFORM bias (docs/design.md, Default initialisation). */
void nnc_layer_spec_default(nnc_layer_spec *spec, int64_t units, nnc_activation act);

/* Create a model and initialise its parameters from `seed`. On success the
 * caller owns *out and frees it with nnc_model_destroy; on failure *out is
 * NULL. The engine copies `layers`. NNC_ERR_INVALID_ARG for a bad dtype,
 * input_dim outside [1, 2^40], n_layers outside [1, 100000] or an invalid
 * spec (message names the layer); NNC_ERR_OVERFLOW when a weight matrix or
 * the whole model exceeds 2^40 elements; NNC_ERR_NOMEM. */
nnc_status nnc_model_create(nnc_dtype dtype, int64_t input_dim, int n_layers,
                            const nnc_layer_spec *layers, uint64_t seed,
                            nnc_model **out);
/* *n_params = the number of parameters nnc_model_create would lay out for
 * these layers, without creating a model or allocating anything; the same
 * argument checks and statuses (NNC_ERR_INVALID_ARG, NNC_ERR_OVERFLOW). */
nnc_status nnc_model_count_params(int64_t input_dim, int n_layers, const nnc_layer_spec *layers,
                                  int64_t *n_params);
/* Deep copy: parameters, compile settings, optimizer state, RNG state.
 * The caller owns *out (NULL on failure). NNC_ERR_NOMEM. The source is only
 * read. */
nnc_status nnc_model_clone(const nnc_model *model, nnc_model **out);
/* Free everything the model owns. NULL is a no-op. */
void nnc_model_destroy(nnc_model *model);

nnc_dtype nnc_model_dtype(const nnc_model *model);
int64_t nnc_model_input_dim(const nnc_model *model);
int64_t nnc_model_output_dim(const nnc_model *model);
int nnc_model_num_layers(const nnc_model *model);
/* The seed the model was created with (its RNG has moved on since). */
uint64_t nnc_model_seed(const nnc_model *model);
/* Getters above: `model` must not be NULL; they cannot fail. */
/* Copy of layer i's spec (NNC_ERR_INVALID_ARG when i is out of range). */
nnc_status nnc_model_layer_spec(const nnc_model *model, int i, nnc_layer_spec *out);

/* Parameters live in one contiguous buffer of nnc_model_num_params elements
 * of the model's dtype. For each layer in order: W (fan_in x fan_out,
 * row-major), then b (fan_out) when the layer has a bias, then the PReLU
 * slopes (fan_out) when it has them. This flat vector is the lecture notes'
 * "unrolled" parameter vector (docs/architecture.md, Notation and parameter
 * layout). */
int64_t nnc_model_num_params(const nnc_model *model);
/* Offsets (in elements) of layer i's W, b and slopes; -1 when absent. */
nnc_status nnc_model_layer_offsets(const nnc_model *model, int i, int64_t *w_off,
                                   int64_t *b_off, int64_t *slope_off);
/* Copy n elements out of / into the parameter buffer (the engine keeps no
 * pointer to the caller's array). n must equal nnc_model_num_params, else
 * NNC_ERR_SHAPE. set_params refuses non-finite values with
 * NNC_ERR_NONFINITE and then leaves the parameters unchanged. */
nnc_status nnc_model_get_params(const nnc_model *model, void *out, int64_t n);
nnc_status nnc_model_set_params(nnc_model *model, const void *values, int64_t n);
/* Re-draw every parameter from the model's RNG (advancing it) with the
 * layers' initializers. */
nnc_status nnc_model_reinitialize(nnc_model *model);

/* The model's RNG drives initialisation, shuffling and dropout. Its whole
 * state is two 64-bit words; saving and restoring them makes training
 * resumable bit for bit. */
/* `model` and `state` must not be NULL; these cannot fail. */
void nnc_model_get_rng_state(const nnc_model *model, uint64_t state[2]);
void nnc_model_set_rng_state(nnc_model *model, const uint64_t state[2]);

/* --------------------------------------------------------------- compile */

/* A learning-rate schedule: the rate of optimizer step `step` (0 for the
 * first step, the optimizer's step counter) as a function of the step
 * alone, evaluated by the engine before every step (docs/design.md,
 * Learning-rate schedules). The formulas are Keras's
 * (keras.optimizers.schedules) and torch.optim.lr_scheduler's closed forms;
 * param[] holds, by kind:
 *   EXPONENTIAL     initial, decay_steps, decay_rate, staircase
 *   INVERSE_TIME    initial, decay_steps, decay_rate, staircase
 *   PIECEWISE       points: n_points boundaries; values: n_points + 1 rates
 *   POLYNOMIAL      initial, decay_steps, end_learning_rate, power, cycle
 *   COSINE          initial, decay_steps, alpha, warmup_target, warmup_steps,
 *                   has_warmup (0: Keras's warmup_target=None)
 *   COSINE_RESTARTS initial, first_decay_steps, t_mul, m_mul, alpha
 *   STEP            initial, step_size, gamma                (torch StepLR)
 *   MULTI_STEP      initial, gamma; points: n_points milestones (MultiStepLR)
 *   ONE_CYCLE       max_lr, total_steps, pct_start, cos (1) or linear (0),
 *                   div_factor, final_div_factor, three_phase (OneCycleLR)
 *   LINEAR          initial, start_factor, end_factor, total_iters (LinearLR)
 * Flags are 0 or 1, step counts integers. Unused entries are 0. */
typedef enum {
    NNC_SCHEDULE_CONSTANT = 0, /* no schedule: the config's learning_rate */
    NNC_SCHEDULE_EXPONENTIAL,
    NNC_SCHEDULE_INVERSE_TIME,
    NNC_SCHEDULE_PIECEWISE,
    NNC_SCHEDULE_POLYNOMIAL,
    NNC_SCHEDULE_COSINE,
    NNC_SCHEDULE_COSINE_RESTARTS,
    NNC_SCHEDULE_STEP,
    NNC_SCHEDULE_MULTI_STEP,
    NNC_SCHEDULE_ONE_CYCLE,
    NNC_SCHEDULE_LINEAR,
    NNC_SCHEDULE_COUNT_
} nnc_schedule_kind;

#define NNC_SCHEDULE_PARAMS 8
#define NNC_SCHEDULE_MAX_POINTS 32

typedef struct {
    nnc_schedule_kind kind;
    int n_points;
    double param[NNC_SCHEDULE_PARAMS];
    double points[NNC_SCHEDULE_MAX_POINTS];     /* boundaries / milestones */
    double values[NNC_SCHEDULE_MAX_POINTS + 1]; /* PIECEWISE rates */
} nnc_schedule;

/* Name <-> kind ("exponential_decay", "inverse_time_decay",
 * "piecewise_constant_decay", "polynomial_decay", "cosine_decay",
 * "cosine_decay_restarts", "step_lr", "multi_step_lr", "one_cycle_lr",
 * "linear_lr", "constant"). */
nnc_status nnc_schedule_from_name(const char *name, nnc_schedule_kind *out);
const char *nnc_schedule_name(nnc_schedule_kind kind);
/* Check the kind and its parameters (rates finite and >= 0, step counts
 * positive integers, boundaries strictly increasing...). NNC_ERR_INVALID_ARG
 * with a message that starts with "learning_rate" and the parameter. */
nnc_status nnc_schedule_validate(const nnc_schedule *schedule);
/* *rate = the schedule's rate at `step` (>= 0). NNC_ERR_INVALID_ARG for a
 * NULL argument, an invalid schedule or a negative step; NNC_ERR_NONFINITE
 * when the rate is not a finite number >= 0. CONSTANT has no rate of its
 * own (NNC_ERR_INVALID_ARG). */
nnc_status nnc_schedule_value(const nnc_schedule *schedule, int64_t step, double *rate);

/* Hyper-parameters of every optimizer, with torch.optim's meanings.
 * Fields an optimizer does not use are ignored. */
typedef struct {
    nnc_optimizer_kind kind;
    double learning_rate;
    /* SGD */
    double momentum;          /* also RMSprop */
    double dampening;
    int nesterov;
    double weight_decay;      /* torch's: added to every gradient (AdamW: decoupled) */
    /* Adagrad */
    double lr_decay;
    double initial_accumulator_value;
    /* RMSprop */
    double alpha;
    int centered;
    /* Adam / AdamW */
    double beta1, beta2;
    int amsgrad;
    double eps;               /* Adagrad, RMSprop, Adam, AdamW */
    /* L-BFGS */
    int64_t max_iter;
    int64_t max_eval;         /* <= 0 means max_iter * 5 / 4 */
    double tolerance_grad;
    double tolerance_change;
    int64_t history_size;
    int line_search_strong_wolfe; /* 0: fixed step, 1: strong Wolfe */
    /* Gradient clipping before a first-order step (0: off; at most one on):
     * clipnorm scales each parameter tensor (a layer's W, b, slopes) to L2
     * norm <= clipnorm (Keras); global_clipnorm scales all of them together
     * (torch.nn.utils.clip_grad_norm_); clipvalue clamps every component to
     * [-clipvalue, clipvalue] (torch.nn.utils.clip_grad_value_). */
    double clipnorm;
    double global_clipnorm;
    double clipvalue;
    /* The learning rate as a function of the step (kind CONSTANT: none;
     * learning_rate is then the rate). Not a field of the table below. */
    nnc_schedule schedule;
} nnc_optimizer_config;

/* torch.optim's defaults for `kind` (learning rates: SGD 1e-3, Adagrad 1e-2,
 * RMSprop 1e-2, Adam 1e-3, AdamW 1e-3 with weight_decay 1e-2, LBFGS 1);
 * the fields `kind` does not read are 0. */
void nnc_optimizer_config_default(nnc_optimizer_config *cfg, nnc_optimizer_kind kind);

/* The hyper-parameters as a table of fields, for callers that handle them
 * generically (the Python wrapper, file formats): every member of
 * nnc_optimizer_config but `kind`, in a fixed order, each with its name
 * (the member's name) and type. */
typedef enum { NNC_FIELD_REAL = 0, NNC_FIELD_INT = 1, NNC_FIELD_FLAG = 2 } nnc_field_type;
int nnc_optimizer_num_fields(void);
/* Name (static storage) and type of field i; NNC_ERR_INVALID_ARG when i is
 * outside [0, nnc_optimizer_num_fields()). Either out-pointer may be NULL. */
nnc_status nnc_optimizer_field_info(int i, const char **name, nnc_field_type *type);
/* *i = the index of the field called `name`; NNC_ERR_INVALID_ARG (message
 * "unknown optimizer option ...") for any other name. */
nnc_status nnc_optimizer_field_index(const char *name, int *i);
/* 1 when optimizer `kind` reads field i, else 0 (also for bad arguments). */
int nnc_optimizer_uses_field(nnc_optimizer_kind kind, int i);
/* Field i of cfg as a double (INT and FLAG fields converted exactly for
 * values below 2^53). NNC_ERR_INVALID_ARG for a bad index or NULL. */
nnc_status nnc_optimizer_config_get(const nnc_optimizer_config *cfg, int i, double *value);
/* Set field i: any double for REAL, an integer below 2^63 in magnitude for
 * INT, 0 or 1 for FLAG (else NNC_ERR_INVALID_ARG and cfg is unchanged).
 * Ranges are checked by nnc_optimizer_config_validate. */
nnc_status nnc_optimizer_config_set(nnc_optimizer_config *cfg, int i, double value);
/* Check the kind and every field it reads against its range (learning
 * rates, momenta, decays and eps finite and >= 0; alpha and the betas in
 * [0, 1); max_iter and history_size in [1, 2^40]; tolerances not NaN;
 * flags 0 or 1; nesterov needs momentum > 0 and dampening 0; at most one
 * clipping field set; the schedule valid, and none for L-BFGS).
 * NNC_ERR_INVALID_ARG with a message that starts with the field's name. */
nnc_status nnc_optimizer_config_validate(const nnc_optimizer_config *cfg);

/* Set the loss, the L2 coefficient lambda (J += lambda/(2m) * sum W^2,
 * biases and PReLU slopes excluded) and the optimizer; (re)creates zeroed
 * optimizer state. Checks that the loss pairs with the output activation:
 * binary cross-entropy needs sigmoid, (sparse) categorical cross-entropy
 * needs softmax. NNC_ERR_INVALID_ARG for an unknown loss, a bad pairing,
 * l2 < 0 or not finite, or a hyper-parameter out of range (the message
 * names it); NNC_ERR_UNSUPPORTED for L-BFGS on a model with dropout;
 * NNC_ERR_NOMEM. On failure the previous compile state is kept. `optimizer`
 * is copied. */
nnc_status nnc_model_compile(nnc_model *model, nnc_loss loss, double l2,
                             const nnc_optimizer_config *optimizer);
/* The checks nnc_model_compile makes, for callers that know the layers but
 * have no model yet: the loss pairs with the output layer's activation, l2
 * is finite and >= 0, the optimizer config is valid, and L-BFGS is not
 * asked to train a model with dropout (`has_dropout` nonzero). Same statuses
 * and messages as nnc_model_compile; changes nothing. */
nnc_status nnc_compile_check(nnc_activation output, int has_dropout, nnc_loss loss, double l2,
                             const nnc_optimizer_config *optimizer);
/* 1 when compiled, 0 otherwise (also for NULL). */
int nnc_model_is_compiled(const nnc_model *model);
/* The compile settings: the loss, l2 and a copy of the optimizer config
 * (with the current learning rate). Each out-pointer may be NULL.
 * NNC_ERR_STATE before compile. */
nnc_status nnc_model_compile_settings(const nnc_model *model, nnc_loss *loss, double *l2,
                                      nnc_optimizer_config *optimizer);
/* Change the learning rate of the compiled optimizer; state is kept; the
 * next step uses it. NNC_ERR_STATE before compile or when the optimizer
 * follows a schedule; NNC_ERR_INVALID_ARG for a negative or non-finite
 * rate. get: the rate the next step uses (a schedule's value at the
 * optimizer's step counter). */
nnc_status nnc_model_set_learning_rate(nnc_model *model, double learning_rate);
nnc_status nnc_model_get_learning_rate(const nnc_model *model, double *out);
/* Forget the optimizer's accumulated state (moments, step counts).
 * NNC_ERR_STATE before compile. */
nnc_status nnc_model_reset_optimizer(nnc_model *model);

/* Optimizer state as an opaque, versioned, self-checking byte blob, in the
 * caller's buffer of exactly nnc_model_optimizer_state_size bytes.
 * NNC_ERR_STATE before compile; get: NNC_ERR_SHAPE for a wrong n_bytes;
 * set: NNC_ERR_FORMAT when the blob is corrupt or was saved for another
 * optimizer kind, configuration, dtype or parameter count (the state is
 * then unchanged). The engine keeps no pointer to the blob. */
nnc_status nnc_model_optimizer_state_size(const nnc_model *model, int64_t *n_bytes);
nnc_status nnc_model_get_optimizer_state(const nnc_model *model, void *out, int64_t n_bytes);
nnc_status nnc_model_set_optimizer_state(nnc_model *model, const void *blob, int64_t n_bytes);

/* ------------------------------------------------------ compute and train */

/* Targets: for sparse categorical cross-entropy `y` points to m int64 class
 * indices in [0, output_dim); for every other loss to m x output_dim values
 * of the model's dtype. `sample_weight` is NULL or m values of the model's
 * dtype; the loss is (1/m) sum_i s_i l_i + L2 term.
 *
 * Statuses shared by the functions below: NNC_ERR_INVALID_ARG for NULL
 * x/y/outputs, class labels outside [0, output_dim) or sample weights that
 * are negative or not finite; NNC_ERR_SHAPE for m < 1 (nnc_predict and
 * nnc_trace have nothing to do for m == 0 and return NNC_OK);
 * NNC_ERR_OVERFLOW for more rows than the engine's 2^40-element buffers
 * allow; NNC_ERR_STATE
 * when a function that needs targets is called before compile;
 * NNC_ERR_NOMEM when the workspace cannot grow. The model's workspace is
 * reused (and grown) across calls, so even nnc_predict mutates the model
 * object: serialise calls per model. */

/* out (m x output_dim) = forward pass without dropout. Needs no compile.
 * NNC_ERR_NONFINITE (message "x: contains NaN or infinity") when x holds a
 * NaN or infinity; the contents of out are then unspecified (nnc_trace
 * likewise for its arrays). */
nnc_status nnc_predict(nnc_model *model, const void *x, int64_t m, void *out);

/* Forward pass without dropout that also hands back every layer's
 * pre-activations and activations (for inspection). z and a are arrays of
 * nnc_model_num_layers pointers; z[l] and a[l] each receive m x fan_out(l)
 * values of the model's dtype (row-major). Either array may be NULL to skip
 * it. Needs no compile; parameters, optimizer state and RNG are untouched. */
nnc_status nnc_trace(nnc_model *model, const void *x, int64_t m, void *const *z,
                     void *const *a);

/* J on a batch, without dropout. Parameters are unchanged. */
nnc_status nnc_loss_value(nnc_model *model, const void *x, const void *y,
                          const void *sample_weight, int64_t m, double *loss);

/* J and dJ/dtheta (nnc_model_num_params elements, layout of the parameter
 * buffer) on a batch, without dropout. NNC_ERR_UNSUPPORTED when a layer
 * uses the step activation (no derivative). */
nnc_status nnc_gradients(nnc_model *model, const void *x, const void *y,
                         const void *sample_weight, int64_t m, double *loss,
                         void *grad);

/* Central finite differences of J, parameter by parameter:
 * numeric[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps).
 * The parameters are restored exactly. NNC_ERR_INVALID_ARG for eps not
 * finite and > 0. */
nnc_status nnc_numeric_gradients(nnc_model *model, const void *x, const void *y,
                                 const void *sample_weight, int64_t m, double eps,
                                 void *numeric);

/* Shared progress record for a long call. The engine writes batches_done and
 * loss_sum after each batch and reads stop_requested before each batch; any
 * thread may read or set them meanwhile (relaxed atomics). */
typedef struct {
    volatile int64_t batches_done;
    volatile int64_t batches_total;
    volatile double loss_sum;       /* sum over finished batches of m_b * J_b */
    volatile int64_t samples_done;
    volatile int stop_requested;
} nnc_progress;

/* One optimizer step on one batch (dropout active). *loss receives J on the
 * batch before the step. L-BFGS takes its full step (up to max_iter inner
 * iterations) on this batch. NNC_ERR_UNSUPPORTED when a layer uses the step
 * activation (no derivative); NNC_ERR_NONFINITE when the loss or gradient
 * is not finite (the step is then not applied). */
nnc_status nnc_train_batch(nnc_model *model, const void *x, const void *y,
                           const void *sample_weight, int64_t m, double *loss);

/* One epoch over n rows: shuffle (when `shuffle`) with the model's RNG,
 * gather each batch of `batch_size` rows (batch_size <= 0 or >= n: full
 * batch), forward, backward, step. *mean_loss receives sum_b m_b J_b / n,
 * J_b measured before step b. `progress` may be NULL. On
 * NNC_ERR_INTERRUPTED or NNC_ERR_NONFINITE the parameters and optimizer
 * state are those after the last completed, finite step. NNC_ERR_UNSUPPORTED
 * as for nnc_train_batch. `progress` is only used during the call. */
nnc_status nnc_train_epoch(nnc_model *model, const void *x, const void *y,
                           const void *sample_weight, int64_t n, int64_t batch_size,
                           int shuffle, nnc_progress *progress, double *mean_loss);

/* Synchronous data-parallel training (docs/design.md, Data-parallel
 * training): every process holds a shard of each global batch of
 * `global_rows` rows; the caller sums the shards' gradients across
 * processes and every process applies the same step.
 *
 * nnc_shard_gradients: the gradient of this shard's part of J on the
 * global batch, sum over its m rows of s_i dl_i/dtheta / global_rows, L2
 * excluded, into `grad` (nnc_model_num_params elements); *loss_part =
 * sum_i s_i l_i / global_rows. Dropout is active, with the masks the whole
 * batch would draw for its rows [row_offset, row_offset + m), and the RNG
 * advances as for the whole batch. Parameters and optimizer state are
 * unchanged. NNC_ERR_UNSUPPORTED for L-BFGS and as for nnc_train_batch.
 *
 * nnc_apply_gradients: one optimizer step from `grad`, the sum of every
 * shard's gradient: adds the L2 gradient (l2 / global_rows) W once, then
 * clips and follows the schedule as nnc_train_batch does. *l2_loss
 * receives the L2 term of J before the step (J = the sum of the shards'
 * loss parts + *l2_loss). `grad` is not modified. NNC_ERR_NONFINITE (step
 * not applied) for a non-finite gradient; NNC_ERR_UNSUPPORTED for L-BFGS. */
nnc_status nnc_shard_gradients(nnc_model *model, const void *x, const void *y,
                               const void *sample_weight, int64_t m, int64_t row_offset,
                               int64_t global_rows, double *loss_part, void *grad);
nnc_status nnc_apply_gradients(nnc_model *model, const void *grad, int64_t global_rows,
                               double *l2_loss);

/* Name of the kernel set in use: "ref", "avx2" or "avx512" (chosen at first
 * use from the CPU, or forced with the environment variable NNC_ARCH).
 * Static string. */
const char *nnc_kernel_arch(void);
/* 1 when the kernel set `name` is built and this CPU/OS can run it. */
int nnc_kernel_arch_supported(const char *name);
/* Switch the kernel set for the whole process: "ref", "avx2", "avx512", or
 * "auto"/NULL for the best supported one. NNC_ERR_UNSUPPORTED when the CPU
 * cannot run it, NNC_ERR_INVALID_ARG for an unknown name. Meant for tests
 * and benchmarks: do not call it while another thread computes. */
nnc_status nnc_set_kernel_arch(const char *name);

/* ---------------------------------------------------------------- threads */

/* The engine's own thread pool (it changes no process-wide setting and
 * leaves other libraries' threads alone). Results are bit-identical for
 * any number of threads: work is split over independent outputs only.
 * The default is the number of CPU cores available to the process. */
/* NNC_ERR_INVALID_ARG outside 1 <= n <= 256; waits for a running parallel
 * section before resizing the pool. */
nnc_status nnc_set_num_threads(int n);
int nnc_get_num_threads(void);
/* Stop and join the pool's worker threads (they restart on demand) and
 * free the calling thread's scratch memory. Safe to call at exit; waits for
 * a running parallel section to finish. */
void nnc_thread_pool_shutdown(void);

/* Check that n values of `dtype` are all finite. *all_finite is 1 or 0.
 * NNC_ERR_INVALID_ARG for an unknown dtype, a NULL out-pointer, n < 0, or
 * NULL values with n > 0. */
nnc_status nnc_all_finite(nnc_dtype dtype, const void *values, int64_t n, int *all_finite);

/* The activations' element-wise kernel of the active kernel set, for the
 * accuracy tests: out[i] = f(x[i]) for op "exp", "sigmoid", "tanh",
 * "relu", "leaky_relu", "elu", "selu", "swish", "softplus", "step"; for
 * "d_" + one of sigmoid, tanh, relu, leaky_relu, elu, selu, swish,
 * softplus, out[i] (dJ/da on entry) becomes dJ/da * g'(x[i]) with
 * a[i] = g(x[i]) (a is read by d_sigmoid and d_tanh only; NULL otherwise
 * is fine). out may be x. NNC_ERR_INVALID_ARG for an unknown op or dtype,
 * n < 0, or a NULL array with n > 0. */
nnc_status nnc_elementwise(nnc_dtype dtype, const char *op, const void *x, const void *a,
                           void *out, int64_t n);

/* ------------------------------------------------------------ model files */

/* The "nncb" binary model format (docs/nncb-format.md): a fixed
 * little-endian header (magic "\x89NNCB\r\n\x1a", format version, dtype,
 * flags, sizes, seed, RNG state), one record per layer (units, activation,
 * bias flag, dropout, initializers), the compile settings (loss, l2,
 * optimizer hyper-parameters) when compiled, the parameter buffer, the
 * optimizer state when compiled, and a CRC-32 of everything before it.
 * Python reads and writes the same bytes (nnc.save_binary / load_binary),
 * so a model trained in Python can be served from C and back.
 *
 * Readers refuse (NNC_ERR_FORMAT, model untouched, nothing leaked) any
 * other version, a declared size that differs from the real one, a bad
 * checksum, unknown names or flags, non-zero reserved bytes, counts out of
 * range or whose products overflow, parameters that are not finite, and
 * compile settings or optimizer state the engine rejects. Nothing is
 * allocated before the sizes have been checked against the data's length.
 * All of these functions only read `model`; like every other call they
 * must not run concurrently with a call that mutates the same model. */
/* Files are written in version 1 unless the optimizer follows a schedule
 * (version 2 adds the schedule record); both are read. */
#define NNC_FORMAT_VERSION 2
/* The first 8 bytes of every nncb file. */
#define NNC_FORMAT_MAGIC "\x89NNCB\r\n\x1a"

/* *n_bytes = the exact size nnc_model_serialize needs.
 * NNC_ERR_INVALID_ARG (NULL), NNC_ERR_OVERFLOW. */
nnc_status nnc_model_serialized_size(const nnc_model *model, int64_t *n_bytes);
/* Write the model into the caller's buffer of exactly n_bytes
 * (nnc_model_serialized_size); the engine keeps no pointer to it.
 * NNC_ERR_INVALID_ARG (NULL), NNC_ERR_SHAPE (wrong n_bytes),
 * NNC_ERR_OVERFLOW (as nnc_model_serialized_size). */
nnc_status nnc_model_serialize(const nnc_model *model, void *out, int64_t n_bytes);
/* Build a new model from n_bytes of serialized data (the engine does not
 * keep `data`). On success the caller owns *out (nnc_model_destroy); on
 * failure *out is NULL. NNC_ERR_INVALID_ARG (NULL or negative n_bytes),
 * NNC_ERR_FORMAT (malformed data, with the reason in nnc_last_error()),
 * NNC_ERR_NOMEM. */
nnc_status nnc_model_deserialize(const void *data, int64_t n_bytes, nnc_model **out);
/* Serialize to `path`, replacing it by the rule of nnc_file_replace_begin
 * (so `path` never holds a half-written model, and a link, device, FIFO or
 * planted temporary file is never written through). NNC_ERR_IO when the
 * file cannot be written, with errno left as the call that failed set it,
 * plus the statuses of nnc_model_serialize. */
nnc_status nnc_model_save(const nnc_model *model, const char *path);
/* nnc_model_deserialize of a whole file; the header is checked against
 * the file's size before the rest is read. NNC_ERR_IO when the file cannot
 * be opened or read, with errno left as the fopen, fseek or fread that
 * failed set it (ENOENT for a missing file, EISDIR for a directory; EIO
 * when the file ends sooner than its size said); a file shorter than a
 * header is NNC_ERR_FORMAT. Plus the statuses of nnc_model_deserialize. */
nnc_status nnc_model_load(const char *path, nnc_model **out);

/* Replacing a file safely, the rule nnc_model_save and nnc's Python savers
 * share (docs/design.md "Replacing files"): a symbolic link is followed
 * (its target is replaced, the link stays; a dangling link is ENOENT);
 * only a regular file is replaced (a directory is EISDIR, a device, FIFO
 * or socket EINVAL, before anything is written); the data goes to a new
 * temporary file ".<name>.nnc-<pid>-<random>.tmp" in the target's
 * directory, created with O_EXCL|O_NOFOLLOW; commit fsyncs it, renames it
 * over the target and fsyncs the directory. The replaced file keeps its
 * mode (and owner where allowed); a new file gets 0666 less the umask.
 * Temporaries of the same target left by dead processes are removed.
 *
 * begin: on success *out holds an open file descriptor
 * (nnc_file_replace_fd) to write the new contents to; on failure *out is
 * NULL and the status is NNC_ERR_IO (errno set), NNC_ERR_NOMEM or
 * NNC_ERR_INVALID_ARG. commit and abort always free the replacement;
 * commit returns NNC_ERR_IO (errno set, target untouched, temporary
 * removed) when the data cannot be made durable; abort removes the
 * temporary and leaves the target as it was. */
typedef struct nnc_file_replace nnc_file_replace;
nnc_status nnc_file_replace_begin(const char *path, nnc_file_replace **out);
int nnc_file_replace_fd(const nnc_file_replace *replacement);
nnc_status nnc_file_replace_commit(nnc_file_replace *replacement);
void nnc_file_replace_abort(nnc_file_replace *replacement);

#ifdef __cplusplus
}
#endif

#endif /* NNC_H */
