/*
 * core.h - what the files of the CPython wrapper nnc._core share. The
 * wrapper is the only code that includes Python.h and NumPy; it calls the
 * engine through the public header nnc.h alone.
 *
 *   module.c          the module: functions, constants, initialisation
 *   errors.c          engine statuses as Python exceptions carrying .status
 *   arrays.c          the strict NumPy array checks (the facade converts)
 *   specs.c           layer specs between tuples and nnc_layer_spec
 *   optimizer.c       optimizer settings between dicts and nnc_optimizer_config
 *   model_type.c      nnc._core.Model, one engine model
 *   progress_type.c   nnc._core.Progress, the record a running epoch updates
 *   file_replace_type.c  nnc._core.FileReplacement, the safe way to replace a file
 */
#ifndef NNC_PYTHON_CORE_H
#define NNC_PYTHON_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* One NumPy C-API table for the whole extension; module.c imports it. */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL nnc_core_ARRAY_API
#ifndef NNC_CORE_IMPORTS_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "nnc.h"

/* ---------------------------------------------------------- errors.c */

/* Create the exception classes and add them to the module; -1 on failure. */
int core_add_exceptions(PyObject *module);
/* Raise the exception for `status` with the engine's nnc_last_error()
 * message; returns NULL. `path` (or NULL) names the file of an I/O error. */
PyObject *core_raise(nnc_status status);
PyObject *core_raise_for_path(nnc_status status, PyObject *path);
/* Raise the exception class of `status` with the wrapper's own message. */
PyObject *core_raise_message(nnc_status status, const char *message);

/* ---------------------------------------------------------- arrays.c */

int core_typenum(nnc_dtype dtype);
/* `obj` as a C-contiguous, aligned ndarray of `typenum` with `ndim`
 * dimensions (and `cols` columns when cols >= 0), without converting;
 * a borrowed pointer, or NULL with TypeError/ValueError naming `name`. */
PyArrayObject *core_check_array(PyObject *obj, const char *name, int typenum, int ndim,
                                npy_intp cols);
/* The arrays of an (x, y, sample_weight) call, checked against the model:
 * y holds int64 class labels when the compiled loss takes them. */
typedef struct {
    PyArrayObject *x, *y, *sw;
    int64_t rows;
} core_batch;
int core_parse_batch(const nnc_model *model, PyObject *x, PyObject *y, PyObject *sw,
                     core_batch *out);
void *core_data(PyArrayObject *array); /* its data, or NULL for NULL */

/* ----------------------------------------------------------- specs.c */

/* A sequence of (units, activation, use_bias, input_dropout, kernel_init,
 * kernel_param, bias_init, bias_param) tuples as a PyMem_Free'd array. */
int core_parse_specs(PyObject *layers, nnc_layer_spec **specs, int *n_layers);
PyObject *core_spec_tuple(const nnc_layer_spec *spec);

/* ------------------------------------------------------- optimizer.c */

/* cfg = the defaults of optimizer `name` with the fields of `options` (a
 * dict keyed by field name) set; TypeError/ValueError naming the field. */
int core_parse_optimizer(const char *name, PyObject *options, nnc_optimizer_config *cfg);
/* The fields cfg->kind reads, as a dict of Python numbers and bools. */
PyObject *core_optimizer_options(const nnc_optimizer_config *cfg);
/* A schedule from its (name, params, points, values) tuple, validated;
 * and back. */
int core_parse_schedule(PyObject *spec, nnc_schedule *out);
PyObject *core_schedule_tuple(const nnc_schedule *schedule);

/* ----------------------------------------------- model and progress types */

extern PyTypeObject core_ModelType;
extern PyTypeObject core_ProgressType;
extern PyTypeObject core_FileReplacementType;

/* In a fork() child: every Model gets a working lock again; the ones
 * another thread was inside at the fork refuse every call (StateError). */
void core_models_after_fork_in_child(void);

typedef struct {
    PyObject_HEAD
    nnc_progress progress;
} core_ProgressObject;

#endif /* NNC_PYTHON_CORE_H */
