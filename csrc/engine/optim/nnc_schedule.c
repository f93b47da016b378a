/*
 * nnc_schedule.c - learning-rate schedules (nnc_schedule, nnc.h): the rate
 * of optimizer step `step` as a function of that step alone, so that the
 * engine evaluates it before every step of an epoch and a model restored
 * from a file (whose optimizer state holds the step counter) continues the
 * schedule where it stopped.
 *
 * The formulas are Keras's keras.optimizers.schedules classes, operation by
 * operation in double, and the closed forms of torch's StepLR, MultiStepLR,
 * OneCycleLR and LinearLR (docs/design.md, Learning-rate schedules).
 */
#include "nnc_internal.h"

#include <math.h>
#include <string.h>

/* Keras multiplies by math.pi; C11 has no PI. */
#define PI 3.14159265358979323846

static const char *const names[NNC_SCHEDULE_COUNT_] = {
    [NNC_SCHEDULE_CONSTANT] = "constant",
    [NNC_SCHEDULE_EXPONENTIAL] = "exponential_decay",
    [NNC_SCHEDULE_INVERSE_TIME] = "inverse_time_decay",
    [NNC_SCHEDULE_PIECEWISE] = "piecewise_constant_decay",
    [NNC_SCHEDULE_POLYNOMIAL] = "polynomial_decay",
    [NNC_SCHEDULE_COSINE] = "cosine_decay",
    [NNC_SCHEDULE_COSINE_RESTARTS] = "cosine_decay_restarts",
    [NNC_SCHEDULE_STEP] = "step_lr",
    [NNC_SCHEDULE_MULTI_STEP] = "multi_step_lr",
    [NNC_SCHEDULE_ONE_CYCLE] = "one_cycle_lr",
    [NNC_SCHEDULE_LINEAR] = "linear_lr",
};

/* Parameters each kind reads (the rest must be 0), for messages. */
static const char *const param_names[NNC_SCHEDULE_COUNT_][NNC_SCHEDULE_PARAMS] = {
    [NNC_SCHEDULE_EXPONENTIAL] = {"initial_learning_rate", "decay_steps", "decay_rate",
                                  "staircase"},
    [NNC_SCHEDULE_INVERSE_TIME] = {"initial_learning_rate", "decay_steps", "decay_rate",
                                   "staircase"},
    [NNC_SCHEDULE_POLYNOMIAL] = {"initial_learning_rate", "decay_steps", "end_learning_rate",
                                 "power", "cycle"},
    [NNC_SCHEDULE_COSINE] = {"initial_learning_rate", "decay_steps", "alpha", "warmup_target",
                             "warmup_steps", "has_warmup"},
    [NNC_SCHEDULE_COSINE_RESTARTS] = {"initial_learning_rate", "first_decay_steps", "t_mul",
                                      "m_mul", "alpha"},
    [NNC_SCHEDULE_STEP] = {"initial_learning_rate", "step_size", "gamma"},
    [NNC_SCHEDULE_MULTI_STEP] = {"initial_learning_rate", "gamma"},
    [NNC_SCHEDULE_ONE_CYCLE] = {"max_lr", "total_steps", "pct_start", "anneal_cos",
                                "div_factor", "final_div_factor", "three_phase"},
    [NNC_SCHEDULE_LINEAR] = {"initial_learning_rate", "start_factor", "end_factor",
                             "total_iters"},
};

nnc_status nnc_schedule_from_name(const char *name, nnc_schedule_kind *out) {
    if (!name || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "schedule name: NULL argument");
    for (int k = 0; k < NNC_SCHEDULE_COUNT_; k++)
        if (strcmp(names[k], name) == 0) {
            *out = (nnc_schedule_kind)k;
            return NNC_OK;
        }
    return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: unknown schedule '%.100s'", name);
}

const char *nnc_schedule_name(nnc_schedule_kind kind) {
    return (int)kind >= 0 && kind < NNC_SCHEDULE_COUNT_ ? names[kind] : NULL;
}

/* ---------------------------------------------------------- validation */

typedef enum { RATE, POSITIVE, NONNEG_REAL, FINITE_REAL, STEPS, FLAG, FACTOR, UNIT_OPEN } rule;

static nnc_status check(const nnc_schedule *s, int i, rule r) {
    const double v = s->param[i];
    const char *name = param_names[s->kind][i];
    const char *want = NULL;
    switch (r) {
    case RATE:
    case NONNEG_REAL:
        if (!(v >= 0.0) || isinf(v)) want = "a finite number >= 0";
        break;
    case POSITIVE:
        if (!(v > 0.0) || isinf(v)) want = "a finite number > 0";
        break;
    case FINITE_REAL:
        if (!isfinite(v)) want = "a finite number";
        break;
    case STEPS:
        if (!(v >= 1.0 && v <= 0x1p53 && v == floor(v))) want = "an integer >= 1";
        break;
    case FLAG:
        if (v != 0.0 && v != 1.0) want = "0 or 1";
        break;
    case FACTOR:
        if (!(v >= 0.0 && v <= 1.0)) want = "a number in [0, 1]";
        break;
    case UNIT_OPEN:
        if (!(v > 0.0 && v < 1.0)) want = "a number in (0, 1)";
        break;
    }
    if (want)
        return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: %s %s: expected %s, got %g",
                         names[s->kind], name, want, v);
    return NNC_OK;
}

static nnc_status check_points(const nnc_schedule *s, const char *what, int need_integers) {
    if (s->n_points < 1 || s->n_points > NNC_SCHEDULE_MAX_POINTS)
        return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: %s takes 1 to %d %s, got %d",
                         names[s->kind], NNC_SCHEDULE_MAX_POINTS, what, s->n_points);
    for (int i = 0; i < s->n_points; i++) {
        const double p = s->points[i];
        if (!isfinite(p) || (need_integers && (p < 0.0 || p != floor(p))))
            return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: %s %s[%d]: expected %s, got %g",
                             names[s->kind], what, i,
                             need_integers ? "an integer >= 0" : "a finite number", p);
        if (i > 0 && !(p > s->points[i - 1]))
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "learning_rate: %s %s must be strictly increasing", names[s->kind],
                             what);
    }
    return NNC_OK;
}

/* OneCycleLR's phase end steps (torch's _schedule_phases): n of them. */
static int one_cycle_phases(const nnc_schedule *s, double end[3]) {
    const double total = s->param[1], pct = s->param[2];
    end[0] = pct * total - 1.0;
    if (s->param[6] != 0.0) {
        end[1] = 2.0 * pct * total - 2.0;
        end[2] = total - 1.0;
        return 3;
    }
    end[1] = total - 1.0;
    return 2;
}

nnc_status nnc_schedule_validate(const nnc_schedule *s) {
    if (!s) return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: schedule is NULL");
    if ((int)s->kind < 0 || s->kind >= NNC_SCHEDULE_COUNT_)
        return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: unknown schedule kind %d",
                         (int)s->kind);
    const int uses_points = s->kind == NNC_SCHEDULE_PIECEWISE || s->kind == NNC_SCHEDULE_MULTI_STEP;
    if (!uses_points && s->n_points != 0)
        return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: %s takes no boundaries",
                         names[s->kind]);
    switch (s->kind) {
    case NNC_SCHEDULE_CONSTANT: break;
    case NNC_SCHEDULE_EXPONENTIAL:
    case NNC_SCHEDULE_INVERSE_TIME:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, POSITIVE));
        NNC__TRY(check(s, 2, NONNEG_REAL));
        NNC__TRY(check(s, 3, FLAG));
        break;
    case NNC_SCHEDULE_PIECEWISE:
        NNC__TRY(check_points(s, "boundaries", 0));
        for (int i = 0; i <= s->n_points; i++)
            if (!(s->values[i] >= 0.0) || isinf(s->values[i]))
                return nnc__fail(NNC_ERR_INVALID_ARG,
                                 "learning_rate: piecewise_constant_decay values[%d]: expected a "
                                 "finite number >= 0, got %g",
                                 i, s->values[i]);
        break;
    case NNC_SCHEDULE_POLYNOMIAL:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, POSITIVE));
        NNC__TRY(check(s, 2, RATE));
        NNC__TRY(check(s, 3, NONNEG_REAL));
        NNC__TRY(check(s, 4, FLAG));
        break;
    case NNC_SCHEDULE_COSINE:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, POSITIVE));
        NNC__TRY(check(s, 2, FINITE_REAL));
        NNC__TRY(check(s, 5, FLAG));
        if (s->param[5] != 0.0) {
            NNC__TRY(check(s, 3, RATE));
            NNC__TRY(check(s, 4, NONNEG_REAL));
        }
        break;
    case NNC_SCHEDULE_COSINE_RESTARTS:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, POSITIVE));
        NNC__TRY(check(s, 2, POSITIVE));
        NNC__TRY(check(s, 3, NONNEG_REAL));
        NNC__TRY(check(s, 4, FINITE_REAL));
        break;
    case NNC_SCHEDULE_STEP:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, STEPS));
        NNC__TRY(check(s, 2, NONNEG_REAL));
        break;
    case NNC_SCHEDULE_MULTI_STEP:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, NONNEG_REAL));
        NNC__TRY(check_points(s, "milestones", 1));
        break;
    case NNC_SCHEDULE_ONE_CYCLE: {
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, STEPS));
        NNC__TRY(check(s, 2, UNIT_OPEN));
        NNC__TRY(check(s, 3, FLAG));
        NNC__TRY(check(s, 4, POSITIVE));
        NNC__TRY(check(s, 5, POSITIVE));
        NNC__TRY(check(s, 6, FLAG));
        double end[3];
        const int n = one_cycle_phases(s, end);
        double start = 0.0;
        for (int i = 0; i < n; i++) {
            if (!(end[i] > start))
                return nnc__fail(NNC_ERR_INVALID_ARG,
                                 "learning_rate: one_cycle_lr: total_steps %g with pct_start %g "
                                 "leaves phase %d without steps",
                                 s->param[1], s->param[2], i + 1);
            start = end[i];
        }
        break;
    }
    case NNC_SCHEDULE_LINEAR:
        NNC__TRY(check(s, 0, RATE));
        NNC__TRY(check(s, 1, FACTOR));
        if (s->param[1] == 0.0)
            return nnc__fail(NNC_ERR_INVALID_ARG,
                             "learning_rate: linear_lr start_factor: expected a number in (0, 1], "
                             "got 0");
        NNC__TRY(check(s, 2, FACTOR));
        NNC__TRY(check(s, 3, STEPS));
        break;
    default: break;
    }
    for (int i = 0; i < NNC_SCHEDULE_PARAMS; i++)
        if (!param_names[s->kind][i] && s->param[i] != 0.0)
            return nnc__fail(NNC_ERR_INVALID_ARG, "learning_rate: %s takes no parameter %d",
                             names[s->kind], i);
    return NNC_OK;
}

/* ---------------------------------------------------------- evaluation */

static double cosine_decay(const double *p, double step) {
    /* Keras CosineDecay: the decay from `from` over decay_steps, after the
     * optional linear warmup from initial to warmup_target. */
    const double decay_steps = p[1], alpha = p[2];
    double from = p[0];
    if (p[5] != 0.0) {
        const double warmup_steps = p[4], target = p[3];
        step = fmin(step, decay_steps + warmup_steps);
        if (step < warmup_steps) return (target - p[0]) * (step / warmup_steps) + p[0];
        step = step - warmup_steps;
        from = target;
    } else {
        step = fmin(step, decay_steps);
    }
    const double completed = step / decay_steps;
    const double cosine = 0.5 * (1.0 + cos(PI * completed));
    return from * ((1.0 - alpha) * cosine + alpha);
}

static double cosine_restarts(const double *p, double step) {
    const double t_mul = p[2], m_mul = p[3], alpha = p[4];
    double completed = step / p[1], i_restart;
    if (t_mul == 1.0) {
        i_restart = floor(completed);
        completed -= i_restart;
    } else {
        i_restart = floor(log(1.0 - completed * (1.0 - t_mul)) / log(t_mul));
        const double sum_r = (1.0 - pow(t_mul, i_restart)) / (1.0 - t_mul);
        completed = (completed - sum_r) / pow(t_mul, i_restart);
    }
    const double cosine = 0.5 * pow(m_mul, i_restart) * (1.0 + cos(PI * completed));
    return p[0] * ((1.0 - alpha) * cosine + alpha);
}

static double one_cycle(const nnc_schedule *s, double step) {
    const double *p = s->param;
    const double initial = p[0] / p[4], min_lr = initial / p[5];
    double end[3];
    const int n = one_cycle_phases(s, end);
    /* torch raises past total_steps; nnc stays at the last step's rate. */
    step = fmin(step, p[1] - 1.0);
    const double from[3] = {initial, p[0], n == 3 ? initial : min_lr};
    const double to[3] = {p[0], n == 3 ? initial : min_lr, min_lr};
    double start = 0.0;
    for (int i = 0; i < n; i++) {
        if (step <= end[i] || i == n - 1) {
            const double pct = (step - start) / (end[i] - start);
            if (p[3] != 0.0) return to[i] + (from[i] - to[i]) / 2.0 * (cos(PI * pct) + 1.0);
            return (to[i] - from[i]) * pct + from[i];
        }
        start = end[i];
    }
    return min_lr; /* not reached */
}

static double rate_at(const nnc_schedule *s, double step) {
    const double *p = s->param;
    switch (s->kind) {
    case NNC_SCHEDULE_EXPONENTIAL: {
        double e = step / p[1];
        if (p[3] != 0.0) e = floor(e);
        return p[0] * pow(p[2], e);
    }
    case NNC_SCHEDULE_INVERSE_TIME: {
        double e = step / p[1];
        if (p[3] != 0.0) e = floor(e);
        return p[0] / (1.0 + p[2] * e);
    }
    case NNC_SCHEDULE_PIECEWISE: {
        int i = 0;
        while (i < s->n_points && step > s->points[i]) i++;
        return s->values[i];
    }
    case NNC_SCHEDULE_POLYNOMIAL: {
        double steps = p[1];
        if (p[4] != 0.0)
            steps = steps * (step == 0.0 ? 1.0 : ceil(step / p[1]));
        else
            step = fmin(step, steps);
        return (p[0] - p[2]) * pow(1.0 - step / steps, p[3]) + p[2];
    }
    case NNC_SCHEDULE_COSINE: return cosine_decay(p, step);
    case NNC_SCHEDULE_COSINE_RESTARTS: return cosine_restarts(p, step);
    case NNC_SCHEDULE_STEP: return p[0] * pow(p[2], floor(step / p[1]));
    case NNC_SCHEDULE_MULTI_STEP: {
        int passed = 0; /* bisect_right(milestones, step) */
        while (passed < s->n_points && s->points[passed] <= step) passed++;
        return p[0] * pow(p[1], (double)passed);
    }
    case NNC_SCHEDULE_ONE_CYCLE: return one_cycle(s, step);
    case NNC_SCHEDULE_LINEAR:
        return p[0] * (p[1] + (p[2] - p[1]) * fmin(p[3], step) / p[3]);
    default: return NAN;
    }
}

nnc_status nnc_schedule_value(const nnc_schedule *s, int64_t step, double *rate) {
    if (!s || !rate) return nnc__fail(NNC_ERR_INVALID_ARG, "schedule value: NULL argument");
    if (step < 0)
        return nnc__fail(NNC_ERR_INVALID_ARG, "schedule value: step %lld is negative",
                         (long long)step);
    if (s->kind == NNC_SCHEDULE_CONSTANT)
        return nnc__fail(NNC_ERR_INVALID_ARG, "schedule value: a constant schedule has no rate");
    NNC__TRY(nnc_schedule_validate(s));
    const double r = rate_at(s, (double)step);
    if (!(r >= 0.0) || isinf(r))
        return nnc__fail(NNC_ERR_NONFINITE, "the learning-rate schedule %s gave %g at step %lld",
                         names[s->kind], r, (long long)step);
    *rate = r;
    return NNC_OK;
}
