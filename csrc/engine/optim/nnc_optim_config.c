/*
 * nnc_optim_config.c - the optimizer settings (nnc_optimizer_config) as
 * the field table of nnc_optim_fields.h describes them: torch.optim's
 * defaults, the range of every field, access by name or index, and the
 * checks a compile makes before a model exists.
 */
#include "nnc_optim_fields.h"
#include "nnc_optim_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

typedef enum { NONNEG, FINITE, UNIT, NOT_NAN, COUNT, ANY, FLAG } field_rule;

typedef struct {
    const char *name;
    nnc_field_type type;
    field_rule rule;
    size_t offset;                   /* of the member in nnc_optimizer_config */
    double defaults[NNC_OPT_COUNT_]; /* by kind; NAN: that kind does not read it */
} field;

#define NA NAN
static const field fields[] = {
#define X(name, type, rule, sgd, adagrad, rmsprop, adam, adamw, lbfgs)                        \
    {#name, NNC_FIELD_##type, rule, offsetof(nnc_optimizer_config, name),                     \
     {[NNC_OPT_SGD] = sgd, [NNC_OPT_ADAGRAD] = adagrad, [NNC_OPT_RMSPROP] = rmsprop,         \
      [NNC_OPT_ADAM] = adam, [NNC_OPT_ADAMW] = adamw, [NNC_OPT_LBFGS] = lbfgs}},
    NNC__OPTIMIZER_FIELDS(X)
#undef X
};
#undef NA

#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))
#define MAX_COUNT ((double)NNC__MAX_ELEMS)

static int kind_ok(nnc_optimizer_kind kind) { return (int)kind >= 0 && kind < NNC_OPT_COUNT_; }

static double read_field(const nnc_optimizer_config *cfg, const field *f) {
    const char *p = (const char *)cfg + f->offset;
    switch (f->type) {
    case NNC_FIELD_REAL: return *(const double *)p;
    case NNC_FIELD_INT: return (double)*(const int64_t *)p;
    default: return (double)*(const int *)p;
    }
}

static void write_field(nnc_optimizer_config *cfg, const field *f, double v) {
    char *p = (char *)cfg + f->offset;
    switch (f->type) {
    case NNC_FIELD_REAL: *(double *)p = v; break;
    case NNC_FIELD_INT: *(int64_t *)p = (int64_t)v; break;
    default: *(int *)p = (int)v; break;
    }
}

int nnc_optimizer_num_fields(void) { return N_FIELDS; }

nnc_status nnc_optimizer_field_info(int i, const char **name, nnc_field_type *type) {
    if (i < 0 || i >= N_FIELDS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field index %d is out of range", i);
    if (name) *name = fields[i].name;
    if (type) *type = fields[i].type;
    return NNC_OK;
}

nnc_status nnc_optimizer_field_index(const char *name, int *i) {
    if (!name || !i) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field: NULL argument");
    for (int k = 0; k < N_FIELDS; k++)
        if (strcmp(fields[k].name, name) == 0) {
            *i = k;
            return NNC_OK;
        }
    return nnc__fail(NNC_ERR_INVALID_ARG, "unknown optimizer option '%.100s'", name);
}

int nnc_optimizer_uses_field(nnc_optimizer_kind kind, int i) {
    return kind_ok(kind) && i >= 0 && i < N_FIELDS && !isnan(fields[i].defaults[kind]);
}

void nnc_optimizer_config_default(nnc_optimizer_config *cfg, nnc_optimizer_kind kind) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    for (int i = 0; i < N_FIELDS; i++)
        if (nnc_optimizer_uses_field(kind, i)) write_field(cfg, &fields[i], fields[i].defaults[kind]);
}

nnc_status nnc_optimizer_config_get(const nnc_optimizer_config *cfg, int i, double *value) {
    if (!cfg || !value) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field: NULL argument");
    if (i < 0 || i >= N_FIELDS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field index %d is out of range", i);
    *value = read_field(cfg, &fields[i]);
    return NNC_OK;
}

nnc_status nnc_optimizer_config_set(nnc_optimizer_config *cfg, int i, double value) {
    if (!cfg) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field: NULL argument");
    if (i < 0 || i >= N_FIELDS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer field index %d is out of range", i);
    const field *f = &fields[i];
    /* What the member's type can hold; the range is validate's job. */
    if (f->type == NNC_FIELD_INT && !(value == floor(value) && fabs(value) < 0x1p63))
        return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected an integer, got %g", f->name, value);
    if (f->type == NNC_FIELD_FLAG && value != 0.0 && value != 1.0)
        return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected 0 or 1, got %g", f->name, value);
    write_field(cfg, f, value);
    return NNC_OK;
}

static nnc_status check_field(const field *f, double v) {
    switch (f->rule) {
    case NONNEG:
        if (!(v >= 0.0) || isinf(v))
            return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected a finite number >= 0, got %g",
                             f->name, v);
        break;
    case FINITE:
        if (!isfinite(v))
            return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected a finite number, got %g", f->name,
                             v);
        break;
    case UNIT:
        if (!(v >= 0.0 && v < 1.0))
            return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected a number in [0, 1), got %g",
                             f->name, v);
        break;
    case NOT_NAN:
        if (isnan(v)) return nnc__fail(NNC_ERR_INVALID_ARG, "%s: must not be NaN", f->name);
        break;
    case COUNT:
        if (!(v >= 1.0 && v <= MAX_COUNT))
            return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected an integer in [1, 2^40], got %.0f",
                             f->name, v);
        break;
    case FLAG:
        if (v != 0.0 && v != 1.0)
            return nnc__fail(NNC_ERR_INVALID_ARG, "%s: expected 0 or 1, got %g", f->name, v);
        break;
    case ANY: break;
    }
    return NNC_OK;
}

nnc_status nnc_optimizer_config_validate(const nnc_optimizer_config *cfg) {
    if (!cfg) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer config is NULL");
    if (!kind_ok(cfg->kind))
        return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer: unknown optimizer kind %d",
                         (int)cfg->kind);
    for (int i = 0; i < N_FIELDS; i++) {
        if (!nnc_optimizer_uses_field(cfg->kind, i)) continue;
        nnc_status st = check_field(&fields[i], read_field(cfg, &fields[i]));
        if (st) return st;
    }
    /* The one rule across fields (torch's). */
    if (cfg->kind == NNC_OPT_SGD && cfg->nesterov && (cfg->momentum <= 0.0 || cfg->dampening != 0.0))
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "nesterov: needs momentum > 0 and dampening == 0, got momentum %g and "
                         "dampening %g",
                         cfg->momentum, cfg->dampening);
    /* Keras's rule: one clipping mode at a time. */
    if ((cfg->clipnorm != 0.0) + (cfg->global_clipnorm != 0.0) + (cfg->clipvalue != 0.0) > 1)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "clipnorm: only one of clipnorm, global_clipnorm and clipvalue can be "
                         "set, got %g, %g and %g",
                         cfg->clipnorm, cfg->global_clipnorm, cfg->clipvalue);
    if (cfg->schedule.kind != NNC_SCHEDULE_CONSTANT && cfg->kind == NNC_OPT_LBFGS)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "learning_rate: L-BFGS takes a constant learning rate, not a schedule "
                         "(one of its steps is a whole epoch of line searches)");
    return nnc_schedule_validate(&cfg->schedule);
}

nnc_status nnc_compile_check(nnc_activation output, int has_dropout, nnc_loss loss, double l2,
                             const nnc_optimizer_config *cfg) {
    if (!cfg) return nnc__fail(NNC_ERR_INVALID_ARG, "optimizer config is NULL");
    const char *needed = NULL;
    switch (loss) {
    case NNC_LOSS_MSE:
    case NNC_LOSS_MAE:
    case NNC_LOSS_HUBER: break;
    case NNC_LOSS_BINARY_CROSSENTROPY:
        if (output != NNC_ACT_SIGMOID) needed = "sigmoid";
        break;
    case NNC_LOSS_CATEGORICAL_CROSSENTROPY:
    case NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (output != NNC_ACT_SOFTMAX) needed = "softmax";
        break;
    case NNC_LOSS_POISSON: /* the exp link is part of the loss */
        if (output != NNC_ACT_LINEAR) needed = "linear";
        break;
    default: return nnc__fail(NNC_ERR_INVALID_ARG, "loss: unknown loss %d", (int)loss);
    }
    if (needed)
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "loss: '%s' needs a '%s' output layer, the model ends with '%s'",
                         nnc_loss_name(loss), needed,
                         nnc_activation_name(output) ? nnc_activation_name(output) : "?");
    if (!(l2 >= 0.0) || !isfinite(l2))
        return nnc__fail(NNC_ERR_INVALID_ARG, "l2: expected a finite number >= 0, got %g", l2);
    nnc_status st = nnc_optimizer_config_validate(cfg);
    if (st) return st;
    if (cfg->kind == NNC_OPT_LBFGS && has_dropout)
        return nnc__fail(NNC_ERR_UNSUPPORTED,
                         "optimizer: L-BFGS needs a deterministic objective for its line search; "
                         "remove Dropout or pick another optimizer");
    return NNC_OK;
}
