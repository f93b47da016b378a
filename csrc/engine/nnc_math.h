/*
 * nnc_math.h - scalar constants and numerically stable helpers shared by
 * the activations and the losses.
 */
#ifndef NNC_MATH_H
#define NNC_MATH_H

#include <math.h>

#define NNC_LEAKY_SLOPE 0.01
#define NNC_SELU_LAMBDA 1.0507009873554804934193349852946
#define NNC_SELU_ALPHA 1.6732632423543772848170429916717
#define NNC_INV_SQRT2 0.70710678118654752440084436210485
#define NNC_INV_SQRT_2PI 0.39894228040143267793994605993438

static inline double nnc__sigmoid(double z) {
    /* Never exponentiate a large positive number. */
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* log(1 + e^z) without overflow or cancellation. */
static inline double nnc__softplus(double z) {
    return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

#endif /* NNC_MATH_H */
