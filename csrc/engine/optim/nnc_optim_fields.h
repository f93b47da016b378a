/*
 * nnc_optim_fields.h - the one table of optimizer hyper-parameters: every
 * field of nnc_optimizer_config but `kind`, with its type, its range and
 * torch.optim's default for each optimizer that reads it.
 *
 *   X(name, type, rule, SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS)
 *
 * name   the nnc_optimizer_config member, also the Python keyword
 * type   REAL (double), INT (int64_t) or FLAG (int, 0 or 1)
 * rule   the range nnc_optimizer_config_validate checks (nnc_optim_config.c):
 *        NONNEG finite and >= 0, FINITE, UNIT in [0, 1), NOT_NAN,
 *        COUNT an integer in [1, 2^40], ANY, FLAG 0 or 1
 * NA     the optimizer does not read the field (it is left at 0)
 *
 * The order is the order of the nncb compile record (docs/nncb-format.md:
 * the reals, then the integers, then the flags, then the clipping reals,
 * which version-1 files hold as zeros, i.e. off); a new field goes at the
 * end. The clipping fields are 0 for off (Keras's None); L-BFGS refuses
 * them (its line search needs the true gradient, docs/design.md). Everything else (defaults, validation, names, the Python wrapper's
 * parsing, the file formats) is generated from this table.
 */
#ifndef NNC_OPTIM_FIELDS_H
#define NNC_OPTIM_FIELDS_H

#define NNC__OPTIMIZER_FIELDS(X)                                                               \
    /* name                   type  rule     SGD   Adagrad RMSprop Adam   AdamW  LBFGS */       \
    X(learning_rate,             REAL, NONNEG,  1e-3, 1e-2,   1e-2,   1e-3,  1e-3,  1.0)        \
    X(momentum,                  REAL, NONNEG,  0.0,  NA,     0.0,    NA,    NA,    NA)         \
    X(dampening,                 REAL, FINITE,  0.0,  NA,     NA,     NA,    NA,    NA)         \
    X(weight_decay,              REAL, NONNEG,  0.0,  0.0,    0.0,    0.0,   1e-2,  NA)         \
    X(lr_decay,                  REAL, NONNEG,  NA,   0.0,    NA,     NA,    NA,    NA)         \
    X(initial_accumulator_value, REAL, NONNEG,  NA,   0.0,    NA,     NA,    NA,    NA)         \
    X(alpha,                     REAL, UNIT,    NA,   NA,     0.99,   NA,    NA,    NA)         \
    X(beta1,                     REAL, UNIT,    NA,   NA,     NA,     0.9,   0.9,   NA)         \
    X(beta2,                     REAL, UNIT,    NA,   NA,     NA,     0.999, 0.999, NA)         \
    X(eps,                       REAL, NONNEG,  NA,   1e-10,  1e-8,   1e-8,  1e-8,  NA)         \
    X(tolerance_grad,            REAL, NOT_NAN, NA,   NA,     NA,     NA,    NA,    1e-7)       \
    X(tolerance_change,          REAL, NOT_NAN, NA,   NA,     NA,     NA,    NA,    1e-9)       \
    X(max_iter,                  INT,  COUNT,   NA,   NA,     NA,     NA,    NA,    20)         \
    X(max_eval,                  INT,  ANY,     NA,   NA,     NA,     NA,    NA,    0)          \
    X(history_size,              INT,  COUNT,   NA,   NA,     NA,     NA,    NA,    100)        \
    X(nesterov,                  FLAG, FLAG,    0,    NA,     NA,     NA,    NA,    NA)         \
    X(centered,                  FLAG, FLAG,    NA,   NA,     0,      NA,    NA,    NA)         \
    X(amsgrad,                   FLAG, FLAG,    NA,   NA,     NA,     0,     0,     NA)         \
    X(line_search_strong_wolfe,  FLAG, FLAG,    NA,   NA,     NA,     NA,    NA,    0)          \
    X(clipnorm,                  REAL, NONNEG,  0.0,  0.0,    0.0,    0.0,   0.0,   NA)         \
    X(global_clipnorm,           REAL, NONNEG,  0.0,  0.0,    0.0,    0.0,   0.0,   NA)         \
    X(clipvalue,                 REAL, NONNEG,  0.0,  0.0,    0.0,    0.0,   0.0,   NA)

#endif /* NNC_OPTIM_FIELDS_H */
