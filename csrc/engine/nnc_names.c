/*
 * nnc_names.c - the names of activations, losses, initializers and
 * optimizers, shared by the Python facade and C callers.
 */
#include "nnc_internal.h"

#include <string.h>

typedef struct {
    const char *name;
    int value;
} name_entry;

/* Canonical names first; aliases after. */
static const name_entry activations[] = {
    {"linear", NNC_ACT_LINEAR},      {"sigmoid", NNC_ACT_SIGMOID},
    {"tanh", NNC_ACT_TANH},          {"relu", NNC_ACT_RELU},
    {"leaky_relu", NNC_ACT_LEAKY_RELU}, {"prelu", NNC_ACT_PRELU},
    {"elu", NNC_ACT_ELU},            {"selu", NNC_ACT_SELU},
    {"swish", NNC_ACT_SWISH},        {"gelu", NNC_ACT_GELU},
    {"softplus", NNC_ACT_SOFTPLUS},  {"softmax", NNC_ACT_SOFTMAX},
    {"step", NNC_ACT_STEP},          {"silu", NNC_ACT_SWISH},
    {"identity", NNC_ACT_LINEAR},    {NULL, 0}};

static const name_entry losses[] = {
    {"mse", NNC_LOSS_MSE},
    {"mae", NNC_LOSS_MAE},
    {"huber", NNC_LOSS_HUBER},
    {"binary_crossentropy", NNC_LOSS_BINARY_CROSSENTROPY},
    {"categorical_crossentropy", NNC_LOSS_CATEGORICAL_CROSSENTROPY},
    {"sparse_categorical_crossentropy", NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY},
    {"mean_squared_error", NNC_LOSS_MSE},
    {"mean_absolute_error", NNC_LOSS_MAE},
    {"poisson", NNC_LOSS_POISSON},
    {NULL, 0}};

static const name_entry inits[] = {
    {"auto", NNC_INIT_AUTO},
    {"zeros", NNC_INIT_ZEROS},
    {"ones", NNC_INIT_ONES},
    {"constant", NNC_INIT_CONSTANT},
    {"uniform", NNC_INIT_UNIFORM},
    {"normal", NNC_INIT_NORMAL},
    {"glorot_normal", NNC_INIT_GLOROT_NORMAL},
    {"glorot_uniform", NNC_INIT_GLOROT_UNIFORM},
    {"he_normal", NNC_INIT_HE_NORMAL},
    {"he_uniform", NNC_INIT_HE_UNIFORM},
    {"lecun_normal", NNC_INIT_LECUN_NORMAL},
    {"lecun_uniform", NNC_INIT_LECUN_UNIFORM},
    {"fan_in_uniform", NNC_INIT_FAN_IN_UNIFORM},
    {"xavier_normal", NNC_INIT_GLOROT_NORMAL},
    {"xavier_uniform", NNC_INIT_GLOROT_UNIFORM},
    {"kaiming_normal", NNC_INIT_HE_NORMAL},
    {"kaiming_uniform", NNC_INIT_HE_UNIFORM},
    {NULL, 0}};

static const name_entry optimizers[] = {
    {"sgd", NNC_OPT_SGD},         {"adagrad", NNC_OPT_ADAGRAD},
    {"rmsprop", NNC_OPT_RMSPROP}, {"adam", NNC_OPT_ADAM},
    {"adamw", NNC_OPT_ADAMW},     {"lbfgs", NNC_OPT_LBFGS},
    {NULL, 0}};

static nnc_status lookup(const name_entry *table, const char *kind, const char *name,
                         int *out) {
    if (!name) return nnc__fail(NNC_ERR_INVALID_ARG, "%s name is NULL", kind);
    for (const name_entry *e = table; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            *out = e->value;
            return NNC_OK;
        }
    }
    return nnc__fail(NNC_ERR_INVALID_ARG, "unknown %s '%.200s'", kind, name);
}

static const char *name_of(const name_entry *table, int value, int count) {
    if (value < 0 || value >= count) return NULL;
    for (const name_entry *e = table; e->name; e++)
        if (e->value == value) return e->name;
    return NULL;
}

/* The public name -> enum lookups; *out is set only on success. */
#define FROM_NAME(fn, type, table, kind)                                                   \
    nnc_status fn(const char *name, type *out) {                                           \
        int v = 0;                                                                         \
        nnc_status st = out ? lookup(table, kind, name, &v)                                \
                            : nnc__fail(NNC_ERR_INVALID_ARG, "%s: out is NULL", kind);     \
        if (st == NNC_OK) *out = (type)v;                                                  \
        return st;                                                                         \
    }
FROM_NAME(nnc_activation_from_name, nnc_activation, activations, "activation")
FROM_NAME(nnc_loss_from_name, nnc_loss, losses, "loss")
FROM_NAME(nnc_init_from_name, nnc_init, inits, "initializer")
FROM_NAME(nnc_optimizer_from_name, nnc_optimizer_kind, optimizers, "optimizer")
#undef FROM_NAME

const char *nnc_activation_name(nnc_activation act) {
    return name_of(activations, (int)act, NNC_ACT_COUNT_);
}
const char *nnc_loss_name(nnc_loss loss) { return name_of(losses, (int)loss, NNC_LOSS_COUNT_); }
const char *nnc_init_name(nnc_init init) { return name_of(inits, (int)init, NNC_INIT_COUNT_); }
const char *nnc_optimizer_name(nnc_optimizer_kind kind) {
    return name_of(optimizers, (int)kind, NNC_OPT_COUNT_);
}
