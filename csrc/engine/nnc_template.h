/*
 * nnc_template.h - the engine's one way to write code once for float32
 * and float64.
 *
 * A source file names the header that holds the code and includes this
 * file:
 *
 *     #define NNC_TEMPLATE "nnc_forward_impl.h"
 *     #include "nnc_template.h"
 *
 * The header is then included twice, first for float32, then for float64,
 * each time with these names defined:
 *
 *     NNC_REAL        the element type: float, double
 *     NNC_SFX(name)   the name with the dtype's suffix: name_f32, name_f64
 *     NNC_DTYPE       the nnc_dtype value: NNC_FLOAT32, NNC_FLOAT64
 *     NNC_SQRT(x)     the type's square root: sqrtf, sqrt
 *     NNC_IS_F32      1, 0 (for #if)
 *
 * Afterwards all of them and NNC_TEMPLATE are undefined again, so a file
 * may instantiate several templates one after the other. A template header
 * has no include guard (it is meant to be included once per dtype) and
 * defines its functions static, with NNC_SFX names; the including file
 * calls the _f32 or the _f64 one by the model's dtype. Macros a template
 * defines for itself it undefines at its end.
 */

#ifndef NNC_IS_F32 /* included by a source file: one instance per dtype */

#ifndef NNC_TEMPLATE
#error "define NNC_TEMPLATE (the header to instantiate) before including nnc_template.h"
#endif

#include <math.h>

#define NNC_IS_F32 1
#include "nnc_template.h"
#define NNC_IS_F32 0
#include "nnc_template.h"
#undef NNC_TEMPLATE

#else /* included by the lines above: the instance NNC_IS_F32 says */

#if NNC_IS_F32
#define NNC_REAL float
#define NNC_SFX(name) name##_f32
#define NNC_DTYPE NNC_FLOAT32
#define NNC_SQRT sqrtf
#define NNC_FMA fmaf /* a*b + c, one rounding */
#else
#define NNC_REAL double
#define NNC_SFX(name) name##_f64
#define NNC_DTYPE NNC_FLOAT64
#define NNC_SQRT sqrt
#define NNC_FMA fma
#endif

#include NNC_TEMPLATE

#undef NNC_REAL
#undef NNC_SFX
#undef NNC_DTYPE
#undef NNC_FMA
#undef NNC_SQRT
#undef NNC_IS_F32

#endif
