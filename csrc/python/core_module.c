/*
 * _nnc_module.c - nnc._core, the CPython wrapper around the engine. The only
 * file that includes Python.h and NumPy. It is deliberately strict: arrays
 * must already have the model's dtype, be C-contiguous and aligned (the
 * Python facade converts), so they reach C without a copy. The GIL is
 * released around every engine call; a per-model lock serialises calls on
 * one model from several threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <string.h>

#include "nnc.h"

static PyObject *NonFiniteError;     /* ValueError subclass */
static PyObject *TrainingInterrupted; /* RuntimeError subclass */

/* Map an engine status to a Python exception carrying the engine's message. */
static PyObject *raise_status(nnc_status st) {
    PyObject *type = PyExc_ValueError;
    switch (st) {
    case NNC_ERR_NOMEM:
    case NNC_ERR_OVERFLOW: type = PyExc_MemoryError; break;
    case NNC_ERR_STATE: type = PyExc_RuntimeError; break;
    case NNC_ERR_NONFINITE: type = NonFiniteError; break;
    case NNC_ERR_INTERRUPTED: type = TrainingInterrupted; break;
    default: break;
    }
    PyErr_SetString(type, nnc_last_error());
    return NULL;
}

/* ---------------------------------------------------------------- Progress */

typedef struct {
    PyObject_HEAD
    nnc_progress progress;
} ProgressObject;

static PyObject *progress_get(ProgressObject *self, void *field) {
    const char *name = field;
    nnc_progress *p = &self->progress;
    if (strcmp(name, "batches_done") == 0) return PyLong_FromLongLong(p->batches_done);
    if (strcmp(name, "batches_total") == 0) return PyLong_FromLongLong(p->batches_total);
    if (strcmp(name, "samples_done") == 0) return PyLong_FromLongLong(p->samples_done);
    if (strcmp(name, "loss_sum") == 0) return PyFloat_FromDouble(p->loss_sum);
    return PyBool_FromLong(p->stop_requested);
}

static PyObject *progress_request_stop(ProgressObject *self, PyObject *Py_UNUSED(ignored)) {
    self->progress.stop_requested = 1;
    Py_RETURN_NONE;
}

static PyObject *progress_reset(ProgressObject *self, PyObject *Py_UNUSED(ignored)) {
    memset(&self->progress, 0, sizeof self->progress);
    Py_RETURN_NONE;
}

static PyGetSetDef progress_getset[] = {
    {"batches_done", (getter)progress_get, NULL, "batches finished in the running epoch",
     "batches_done"},
    {"batches_total", (getter)progress_get, NULL, "batches in the running epoch", "batches_total"},
    {"samples_done", (getter)progress_get, NULL, "rows finished in the running epoch",
     "samples_done"},
    {"loss_sum", (getter)progress_get, NULL, "sum of rows * batch loss so far", "loss_sum"},
    {"stop_requested", (getter)progress_get, NULL, "whether a stop was requested",
     "stop_requested"},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef progress_methods[] = {
    {"request_stop", (PyCFunction)progress_request_stop, METH_NOARGS,
     "Ask the running epoch to stop before its next batch (safe from any thread)."},
    {"reset", (PyCFunction)progress_reset, METH_NOARGS, "Clear all counters and the stop flag."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ProgressType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nnc._core.Progress",
    .tp_basicsize = sizeof(ProgressObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Progress of a running epoch, written by the engine without the GIL.",
    .tp_new = PyType_GenericNew,
    .tp_getset = progress_getset,
    .tp_methods = progress_methods,
};

/* ------------------------------------------------------------------- Model */

typedef struct {
    PyObject_HEAD
    nnc_model *model;
    PyThread_type_lock lock;
} ModelObject;

static PyTypeObject ModelType;

static int model_typenum(const ModelObject *self) {
    return nnc_model_dtype(self->model) == NNC_FLOAT32 ? NPY_FLOAT32 : NPY_FLOAT64;
}

/* Take the model's lock, waiting without the GIL if another thread has it. */
static void lock_model(ModelObject *self) {
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

static void unlock_model(ModelObject *self) { PyThread_release_lock(self->lock); }

/* Check (without converting) that `obj` is a C-contiguous, aligned ndarray
 * of `typenum` with `ndim` dimensions and, when cols >= 0, that many
 * columns. Returns a borrowed pointer or NULL with TypeError/ValueError. */
static PyArrayObject *check_array(PyObject *obj, const char *name, int typenum, int ndim,
                                  npy_intp cols) {
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a numpy array", name);
        return NULL;
    }
    PyArrayObject *arr = (PyArrayObject *)obj;
    if (PyArray_TYPE(arr) != typenum) {
        PyErr_Format(PyExc_TypeError, "%s must have dtype %s", name,
                     typenum == NPY_FLOAT32 ? "float32" : typenum == NPY_FLOAT64 ? "float64"
                                                                                  : "int64");
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISALIGNED(arr)) {
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous and aligned", name);
        return NULL;
    }
    if (PyArray_NDIM(arr) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must be %d-dimensional, got %d dimensions", name, ndim,
                     PyArray_NDIM(arr));
        return NULL;
    }
    if (cols >= 0 && PyArray_DIM(arr, 1) != cols) {
        PyErr_Format(PyExc_ValueError, "%s must have %zd columns, got %zd", name, (Py_ssize_t)cols,
                     (Py_ssize_t)PyArray_DIM(arr, 1));
        return NULL;
    }
    return arr;
}

/* The arrays of a (x, y, sample_weight) call, all checked against the model. */
typedef struct {
    PyArrayObject *x, *y, *sw;
    int64_t rows;
} batch_args;

static int parse_batch(ModelObject *self, PyObject *x, PyObject *y, PyObject *sw, int sparse,
                       batch_args *out) {
    const int t = model_typenum(self);
    out->x = check_array(x, "x", t, 2, (npy_intp)nnc_model_input_dim(self->model));
    if (!out->x) return -1;
    out->rows = (int64_t)PyArray_DIM(out->x, 0);
    if (sparse)
        out->y = check_array(y, "y", NPY_INT64, 1, -1);
    else
        out->y = check_array(y, "y", t, 2, (npy_intp)nnc_model_output_dim(self->model));
    if (!out->y) return -1;
    if (PyArray_DIM(out->y, 0) != out->rows) {
        PyErr_Format(PyExc_ValueError, "y has %zd rows but x has %lld",
                     (Py_ssize_t)PyArray_DIM(out->y, 0), (long long)out->rows);
        return -1;
    }
    out->sw = NULL;
    if (sw && sw != Py_None) {
        out->sw = check_array(sw, "sample_weight", t, 1, -1);
        if (!out->sw) return -1;
        if (PyArray_DIM(out->sw, 0) != out->rows) {
            PyErr_Format(PyExc_ValueError, "sample_weight has %zd values but x has %lld rows",
                         (Py_ssize_t)PyArray_DIM(out->sw, 0), (long long)out->rows);
            return -1;
        }
    }
    return 0;
}

static void *data_or_null(PyArrayObject *a) { return a ? PyArray_DATA(a) : NULL; }

/* Layers arrive as tuples (units, activation, use_bias, input_dropout,
 * kernel_init, kernel_param, bias_init, bias_param). */
static int parse_layer(PyObject *item, int index, nnc_layer_spec *spec) {
    long long units;
    const char *act, *kinit, *binit;
    int use_bias;
    double dropout, kparam, bparam;
    if (!PyTuple_Check(item) ||
        !PyArg_ParseTuple(item, "Lspdsdsd", &units, &act, &use_bias, &dropout, &kinit, &kparam,
                          &binit, &bparam)) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "layer %d must be a spec tuple", index);
        return -1;
    }
    nnc_activation a;
    nnc_init ki, bi;
    nnc_status st = nnc_activation_from_name(act, &a);
    if (!st) st = nnc_init_from_name(kinit, &ki);
    if (!st) st = nnc_init_from_name(binit, &bi);
    if (st) {
        raise_status(st);
        return -1;
    }
    nnc_layer_spec_default(spec, (int64_t)units, a);
    spec->use_bias = use_bias;
    spec->input_dropout = dropout;
    spec->kernel_init = ki;
    spec->kernel_init_param = kparam;
    spec->bias_init = bi;
    spec->bias_init_param = bparam;
    return 0;
}

static int model_init(ModelObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"dtype", "input_dim", "layers", "seed", NULL};
    const char *dtype_name;
    long long input_dim;
    PyObject *layers;
    unsigned long long seed;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sLOK", kwlist, &dtype_name, &input_dim, &layers,
                                     &seed))
        return -1;
    if (self->model) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialised");
        return -1;
    }
    nnc_dtype dtype;
    if (strcmp(dtype_name, "float32") == 0)
        dtype = NNC_FLOAT32;
    else if (strcmp(dtype_name, "float64") == 0)
        dtype = NNC_FLOAT64;
    else {
        PyErr_Format(PyExc_ValueError, "dtype must be 'float32' or 'float64', got '%s'",
                     dtype_name);
        return -1;
    }
    PyObject *seq = PySequence_Fast(layers, "layers must be a sequence of layer specs");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > 100000) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "a model needs 1 to 100000 Dense layers");
        return -1;
    }
    nnc_layer_spec *specs = PyMem_Calloc((size_t)n, sizeof *specs);
    int rc = -1;
    if (!specs) {
        PyErr_NoMemory();
        goto finally;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (parse_layer(PySequence_Fast_GET_ITEM(seq, i), (int)i, &specs[i])) goto finally;
    nnc_status st;
    nnc_model *model = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_model_create(dtype, (int64_t)input_dim, (int)n, specs, (uint64_t)seed, &model);
    Py_END_ALLOW_THREADS
    if (st) {
        raise_status(st);
        goto finally;
    }
    self->model = model;
    rc = 0;
finally:
    PyMem_Free(specs);
    Py_DECREF(seq);
    return rc;
}

static PyObject *model_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    ModelObject *self = (ModelObject *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void model_dealloc(ModelObject *self) {
    nnc_model_destroy(self->model);
    if (self->lock) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(ModelObject *self) {
    if (!self->model) {
        PyErr_SetString(PyExc_RuntimeError, "Model is not initialised");
        return 0;
    }
    return 1;
}

#define REQUIRE_READY(self) \
    if (!ready(self)) return NULL

static PyObject *model_get_num_params(ModelObject *self, void *closure) {
    (void)closure;
    REQUIRE_READY(self);
    return PyLong_FromLongLong(nnc_model_num_params(self->model));
}

static PyObject *model_get_dtype(ModelObject *self, void *closure) {
    (void)closure;
    REQUIRE_READY(self);
    return PyUnicode_FromString(nnc_model_dtype(self->model) == NNC_FLOAT32 ? "float32"
                                                                            : "float64");
}

static PyObject *model_get_input_dim(ModelObject *self, void *closure) {
    (void)closure;
    REQUIRE_READY(self);
    return PyLong_FromLongLong(nnc_model_input_dim(self->model));
}

static PyObject *model_get_output_dim(ModelObject *self, void *closure) {
    (void)closure;
    REQUIRE_READY(self);
    return PyLong_FromLongLong(nnc_model_output_dim(self->model));
}

static PyObject *model_get_compiled(ModelObject *self, void *closure) {
    (void)closure;
    REQUIRE_READY(self);
    return PyBool_FromLong(nnc_model_is_compiled(self->model));
}

static PyObject *model_layer_offsets(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    int i = (int)PyLong_AsLong(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    int64_t w, b, s;
    nnc_status st = nnc_model_layer_offsets(self->model, i, &w, &b, &s);
    if (st) return raise_status(st);
    return Py_BuildValue("LLL", (long long)w, (long long)b, (long long)s);
}

static PyObject *model_get_params(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    PyObject *out = PyArray_SimpleNew(1, &n, model_typenum(self));
    if (!out) return NULL;
    lock_model(self);
    nnc_status st = nnc_model_get_params(self->model, PyArray_DATA((PyArrayObject *)out), n);
    unlock_model(self);
    if (st) {
        Py_DECREF(out);
        return raise_status(st);
    }
    return out;
}

static PyObject *model_set_params(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *v = check_array(arg, "params", model_typenum(self), 1, -1);
    if (!v) return NULL;
    lock_model(self);
    nnc_status st = nnc_model_set_params(self->model, PyArray_DATA(v), (int64_t)PyArray_DIM(v, 0));
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

/* Read an optional float/int/bool field of the optimizer dict. */
static int opt_double(PyObject *d, const char *key, double *out) {
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None) return 0;
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred()) return -1;
    *out = x;
    return 0;
}

static int opt_int(PyObject *d, const char *key, int64_t *out) {
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None) return 0;
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    *out = (int64_t)x;
    return 0;
}

static int opt_bool(PyObject *d, const char *key, int *out) {
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None) return 0;
    int x = PyObject_IsTrue(v);
    if (x < 0) return -1;
    *out = x;
    return 0;
}

static const char *known_opt_keys[] = {
    "learning_rate", "momentum", "dampening", "nesterov", "weight_decay", "lr_decay",
    "initial_accumulator_value", "alpha", "centered", "beta1", "beta2", "amsgrad", "eps",
    "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size",
    "line_search_fn", NULL};

static int parse_optimizer(const char *name, PyObject *d, nnc_optimizer_config *cfg) {
    nnc_optimizer_kind kind;
    nnc_status st = nnc_optimizer_from_name(name, &kind);
    if (st) {
        raise_status(st);
        return -1;
    }
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "optimizer config must be a dict");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &key, &value)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        int known = 0;
        for (int i = 0; k && known_opt_keys[i]; i++) known |= strcmp(k, known_opt_keys[i]) == 0;
        if (!known) {
            PyErr_Format(PyExc_ValueError, "unknown optimizer option %R", key);
            return -1;
        }
    }
    nnc_optimizer_config_default(cfg, kind);
    int64_t max_iter = cfg->max_iter, max_eval = cfg->max_eval, history = cfg->history_size;
    if (opt_double(d, "learning_rate", &cfg->learning_rate) ||
        opt_double(d, "momentum", &cfg->momentum) ||
        opt_double(d, "dampening", &cfg->dampening) || opt_bool(d, "nesterov", &cfg->nesterov) ||
        opt_double(d, "weight_decay", &cfg->weight_decay) ||
        opt_double(d, "lr_decay", &cfg->lr_decay) ||
        opt_double(d, "initial_accumulator_value", &cfg->initial_accumulator_value) ||
        opt_double(d, "alpha", &cfg->alpha) || opt_bool(d, "centered", &cfg->centered) ||
        opt_double(d, "beta1", &cfg->beta1) || opt_double(d, "beta2", &cfg->beta2) ||
        opt_bool(d, "amsgrad", &cfg->amsgrad) || opt_double(d, "eps", &cfg->eps) ||
        opt_int(d, "max_iter", &max_iter) || opt_int(d, "max_eval", &max_eval) ||
        opt_double(d, "tolerance_grad", &cfg->tolerance_grad) ||
        opt_double(d, "tolerance_change", &cfg->tolerance_change) ||
        opt_int(d, "history_size", &history))
        return -1;
    cfg->max_iter = max_iter;
    cfg->max_eval = max_eval;
    cfg->history_size = history;
    PyObject *ls = PyDict_GetItemString(d, "line_search_fn");
    if (ls && ls != Py_None) {
        const char *s = PyUnicode_Check(ls) ? PyUnicode_AsUTF8(ls) : NULL;
        if (!s || strcmp(s, "strong_wolfe") != 0) {
            PyErr_SetString(PyExc_ValueError, "line_search_fn must be None or 'strong_wolfe'");
            return -1;
        }
        cfg->line_search_strong_wolfe = 1;
    }
    return 0;
}

static PyObject *model_compile(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    const char *loss_name, *opt_name;
    double l2;
    PyObject *opt_dict;
    if (!PyArg_ParseTuple(args, "sdsO", &loss_name, &l2, &opt_name, &opt_dict)) return NULL;
    nnc_loss loss;
    nnc_status st = nnc_loss_from_name(loss_name, &loss);
    if (st) return raise_status(st);
    nnc_optimizer_config cfg;
    if (parse_optimizer(opt_name, opt_dict, &cfg)) return NULL;
    lock_model(self);
    st = nnc_model_compile(self->model, loss, l2, &cfg);
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *model_set_learning_rate(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    double lr = PyFloat_AsDouble(arg);
    if (lr == -1.0 && PyErr_Occurred()) return NULL;
    lock_model(self);
    nnc_status st = nnc_model_set_learning_rate(self->model, lr);
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *model_get_learning_rate(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    double lr;
    lock_model(self);
    nnc_status st = nnc_model_get_learning_rate(self->model, &lr);
    unlock_model(self);
    if (st) return raise_status(st);
    return PyFloat_FromDouble(lr);
}

static PyObject *model_reset_optimizer(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    lock_model(self);
    nnc_status st = nnc_model_reset_optimizer(self->model);
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *model_get_optimizer_state(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    PyObject *out = NULL;
    int64_t n = 0;
    lock_model(self);
    nnc_status st = nnc_model_optimizer_state_size(self->model, &n);
    if (!st) {
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
        if (out) st = nnc_model_get_optimizer_state(self->model, PyBytes_AS_STRING(out), n);
    }
    unlock_model(self);
    if (st) {
        Py_XDECREF(out);
        return raise_status(st);
    }
    return out;
}

static PyObject *model_set_optimizer_state(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "optimizer state must be bytes");
        return NULL;
    }
    lock_model(self);
    nnc_status st = nnc_model_set_optimizer_state(self->model, PyBytes_AS_STRING(arg),
                                                  (int64_t)PyBytes_GET_SIZE(arg));
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *model_get_rng_state(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    uint64_t s[2];
    lock_model(self);
    nnc_model_get_rng_state(self->model, s);
    unlock_model(self);
    return Py_BuildValue("KK", (unsigned long long)s[0], (unsigned long long)s[1]);
}

static PyObject *model_set_rng_state(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    unsigned long long a, b;
    if (!PyArg_ParseTuple(arg, "KK", &a, &b)) return NULL;
    uint64_t s[2] = {(uint64_t)a, (uint64_t)b};
    lock_model(self);
    nnc_model_set_rng_state(self->model, s);
    unlock_model(self);
    Py_RETURN_NONE;
}

static PyObject *model_predict(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *x =
        check_array(arg, "x", model_typenum(self), 2, (npy_intp)nnc_model_input_dim(self->model));
    if (!x) return NULL;
    npy_intp dims[2] = {PyArray_DIM(x, 0), (npy_intp)nnc_model_output_dim(self->model)};
    PyObject *out = PyArray_SimpleNew(2, dims, model_typenum(self));
    if (!out) return NULL;
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_predict(self->model, PyArray_DATA(x), (int64_t)dims[0],
                     PyArray_DATA((PyArrayObject *)out));
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) {
        Py_DECREF(out);
        return raise_status(st);
    }
    return out;
}

/* trace(x) -> [(z, a) per layer]: one engine call fills every array. */
static PyObject *model_trace(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *x =
        check_array(arg, "x", model_typenum(self), 2, (npy_intp)nnc_model_input_dim(self->model));
    if (!x) return NULL;
    const int n_layers = nnc_model_num_layers(self->model);
    PyObject *result = PyList_New(n_layers);
    void **ptrs = PyMem_Calloc((size_t)n_layers * 2, sizeof *ptrs);
    if (!result || !ptrs) goto fail;
    for (int l = 0; l < n_layers; l++) {
        nnc_layer_spec spec;
        nnc_status st = nnc_model_layer_spec(self->model, l, &spec);
        if (st) {
            raise_status(st);
            goto fail;
        }
        npy_intp dims[2] = {PyArray_DIM(x, 0), (npy_intp)spec.units};
        PyObject *z = PyArray_SimpleNew(2, dims, model_typenum(self));
        PyObject *a = z ? PyArray_SimpleNew(2, dims, model_typenum(self)) : NULL;
        PyObject *pair = a ? PyTuple_Pack(2, z, a) : NULL;
        Py_XDECREF(z);
        Py_XDECREF(a);
        if (!pair) goto fail;
        ptrs[l] = PyArray_DATA((PyArrayObject *)z);
        ptrs[n_layers + l] = PyArray_DATA((PyArrayObject *)a);
        PyList_SET_ITEM(result, l, pair); /* the tuple keeps z and a alive */
    }
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_trace(self->model, PyArray_DATA(x), (int64_t)PyArray_DIM(x, 0), ptrs,
                   ptrs + n_layers);
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) {
        raise_status(st);
        goto fail;
    }
    PyMem_Free(ptrs);
    return result;
fail:
    if (!PyErr_Occurred()) PyErr_NoMemory();
    PyMem_Free(ptrs);
    Py_XDECREF(result);
    return NULL;
}

static int is_sparse(PyObject *flag) { return flag && PyObject_IsTrue(flag) == 1; }

static PyObject *model_loss(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw = Py_None, *sparse = Py_False;
    if (!PyArg_ParseTuple(args, "OO|OO", &x, &y, &sw, &sparse)) return NULL;
    batch_args b;
    if (parse_batch(self, x, y, sw, is_sparse(sparse), &b)) return NULL;
    double loss = 0.0;
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_loss_value(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), data_or_null(b.sw),
                        b.rows, &loss);
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) return raise_status(st);
    return PyFloat_FromDouble(loss);
}

static PyObject *model_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw = Py_None, *sparse = Py_False;
    if (!PyArg_ParseTuple(args, "OO|OO", &x, &y, &sw, &sparse)) return NULL;
    batch_args b;
    if (parse_batch(self, x, y, sw, is_sparse(sparse), &b)) return NULL;
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    PyObject *grad = PyArray_SimpleNew(1, &n, model_typenum(self));
    if (!grad) return NULL;
    double loss = 0.0;
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_gradients(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), data_or_null(b.sw),
                       b.rows, &loss, PyArray_DATA((PyArrayObject *)grad));
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) {
        Py_DECREF(grad);
        return raise_status(st);
    }
    return Py_BuildValue("dN", loss, grad);
}

static PyObject *model_numeric_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw = Py_None, *sparse = Py_False;
    double eps;
    if (!PyArg_ParseTuple(args, "OOOdO", &x, &y, &sw, &eps, &sparse)) return NULL;
    batch_args b;
    if (parse_batch(self, x, y, sw, is_sparse(sparse), &b)) return NULL;
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    PyObject *num = PyArray_SimpleNew(1, &n, model_typenum(self));
    if (!num) return NULL;
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_numeric_gradients(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y),
                               data_or_null(b.sw), b.rows, eps, PyArray_DATA((PyArrayObject *)num));
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) {
        Py_DECREF(num);
        return raise_status(st);
    }
    return num;
}

static PyObject *model_train_batch(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw = Py_None, *sparse = Py_False;
    if (!PyArg_ParseTuple(args, "OO|OO", &x, &y, &sw, &sparse)) return NULL;
    batch_args b;
    if (parse_batch(self, x, y, sw, is_sparse(sparse), &b)) return NULL;
    double loss = 0.0;
    nnc_status st;
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_train_batch(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), data_or_null(b.sw),
                         b.rows, &loss);
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) return raise_status(st);
    return PyFloat_FromDouble(loss);
}

static PyObject *model_train_epoch(ModelObject *self, PyObject *args, PyObject *kwds) {
    REQUIRE_READY(self);
    static char *kwlist[] = {"x", "y", "sample_weight", "batch_size", "shuffle", "sparse",
                             "progress", NULL};
    PyObject *x, *y, *sw = Py_None, *sparse = Py_False, *progress = Py_None;
    long long batch_size = 0;
    int shuffle = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OLpOO", kwlist, &x, &y, &sw, &batch_size,
                                     &shuffle, &sparse, &progress))
        return NULL;
    batch_args b;
    if (parse_batch(self, x, y, sw, is_sparse(sparse), &b)) return NULL;
    nnc_progress *p = NULL;
    if (progress != Py_None) {
        if (!PyObject_TypeCheck(progress, &ProgressType)) {
            PyErr_SetString(PyExc_TypeError, "progress must be a nnc._core.Progress");
            return NULL;
        }
        p = &((ProgressObject *)progress)->progress;
    }
    double loss = 0.0;
    nnc_status st;
    /* The Progress object stays alive: the args tuple holds it. */
    lock_model(self);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_train_epoch(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), data_or_null(b.sw),
                         b.rows, (int64_t)batch_size, shuffle, p, &loss);
    Py_END_ALLOW_THREADS
    unlock_model(self);
    if (st) return raise_status(st);
    return PyFloat_FromDouble(loss);
}

static PyObject *model_clone(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    ModelObject *copy = (ModelObject *)model_new(&ModelType, NULL, NULL);
    if (!copy) return NULL;
    lock_model(self);
    nnc_status st = nnc_model_clone(self->model, &copy->model);
    unlock_model(self);
    if (st) {
        Py_DECREF(copy);
        return raise_status(st);
    }
    return (PyObject *)copy;
}

static PyObject *model_reinitialize(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    lock_model(self);
    nnc_status st = nnc_model_reinitialize(self->model);
    unlock_model(self);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyGetSetDef model_getset[] = {
    {"num_params", (getter)model_get_num_params, NULL, "number of parameters", NULL},
    {"dtype", (getter)model_get_dtype, NULL, "'float32' or 'float64'", NULL},
    {"input_dim", (getter)model_get_input_dim, NULL, "input width", NULL},
    {"output_dim", (getter)model_get_output_dim, NULL, "output width", NULL},
    {"compiled", (getter)model_get_compiled, NULL, "whether compile() succeeded", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef model_methods[] = {
    {"layer_offsets", (PyCFunction)model_layer_offsets, METH_O,
     "(w, b, slopes) element offsets of layer i in the flat parameters; -1 if absent."},
    {"get_params", (PyCFunction)model_get_params, METH_NOARGS, "Copy of the flat parameters."},
    {"set_params", (PyCFunction)model_set_params, METH_O, "Overwrite the flat parameters."},
    {"compile", (PyCFunction)model_compile, METH_VARARGS,
     "compile(loss, l2, optimizer_name, optimizer_options_dict)"},
    {"set_learning_rate", (PyCFunction)model_set_learning_rate, METH_O, "Set the learning rate."},
    {"get_learning_rate", (PyCFunction)model_get_learning_rate, METH_NOARGS,
     "The optimizer's learning rate."},
    {"reset_optimizer", (PyCFunction)model_reset_optimizer, METH_NOARGS,
     "Zero the optimizer state."},
    {"get_optimizer_state", (PyCFunction)model_get_optimizer_state, METH_NOARGS,
     "Optimizer state as bytes."},
    {"set_optimizer_state", (PyCFunction)model_set_optimizer_state, METH_O,
     "Restore optimizer state from bytes."},
    {"get_rng_state", (PyCFunction)model_get_rng_state, METH_NOARGS, "(key, counter)"},
    {"set_rng_state", (PyCFunction)model_set_rng_state, METH_O, "Restore (key, counter)."},
    {"predict", (PyCFunction)model_predict, METH_O, "Forward pass without dropout."},
    {"trace", (PyCFunction)model_trace, METH_O,
     "trace(x) -> [(z, a) per layer]: forward pass without dropout, every layer kept."},
    {"loss", (PyCFunction)model_loss, METH_VARARGS, "loss(x, y, sample_weight=None, sparse=False)"},
    {"gradients", (PyCFunction)model_gradients, METH_VARARGS,
     "gradients(x, y, sample_weight=None, sparse=False) -> (loss, flat gradient)"},
    {"numeric_gradients", (PyCFunction)model_numeric_gradients, METH_VARARGS,
     "numeric_gradients(x, y, sample_weight, eps, sparse) -> flat central differences"},
    {"train_batch", (PyCFunction)model_train_batch, METH_VARARGS,
     "train_batch(x, y, sample_weight=None, sparse=False) -> loss before the step"},
    {"train_epoch", (PyCFunction)(void (*)(void))model_train_epoch, METH_VARARGS | METH_KEYWORDS,
     "train_epoch(x, y, sample_weight=None, batch_size=0, shuffle=True, sparse=False, "
     "progress=None) -> mean loss"},
    {"clone", (PyCFunction)model_clone, METH_NOARGS, "Deep copy."},
    {"reinitialize", (PyCFunction)model_reinitialize, METH_NOARGS,
     "Redraw the parameters from the model RNG."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nnc._core.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Model(dtype, input_dim, layers, seed): an engine model.",
    .tp_new = model_new,
    .tp_init = (initproc)model_init,
    .tp_dealloc = (destructor)model_dealloc,
    .tp_methods = model_methods,
    .tp_getset = model_getset,
};

/* ------------------------------------------------------------ module level */

static PyObject *core_names(PyObject *module, PyObject *arg) {
    (void)module;
    const char *kind = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!kind) {
        PyErr_SetString(PyExc_TypeError, "names() takes a kind string");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (int i = 0; i < 64; i++) {
        const char *name = NULL;
        if (strcmp(kind, "activation") == 0) name = nnc_activation_name((nnc_activation)i);
        else if (strcmp(kind, "loss") == 0) name = nnc_loss_name((nnc_loss)i);
        else if (strcmp(kind, "initializer") == 0) name = nnc_init_name((nnc_init)i);
        else if (strcmp(kind, "optimizer") == 0) name = nnc_optimizer_name((nnc_optimizer_kind)i);
        else {
            Py_DECREF(out);
            PyErr_Format(PyExc_ValueError, "unknown kind '%s'", kind);
            return NULL;
        }
        if (!name) break;
        PyObject *s = PyUnicode_FromString(name);
        if (!s || PyList_Append(out, s)) {
            Py_XDECREF(s);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(s);
    }
    return out;
}

/* The canonical name for a name or alias, or ValueError. */
static PyObject *core_canonical_name(PyObject *module, PyObject *args) {
    (void)module;
    const char *kind, *name;
    if (!PyArg_ParseTuple(args, "ss", &kind, &name)) return NULL;
    nnc_status st = NNC_ERR_INVALID_ARG;
    const char *canon = NULL;
    if (strcmp(kind, "activation") == 0) {
        nnc_activation v;
        if (!(st = nnc_activation_from_name(name, &v))) canon = nnc_activation_name(v);
    } else if (strcmp(kind, "loss") == 0) {
        nnc_loss v;
        if (!(st = nnc_loss_from_name(name, &v))) canon = nnc_loss_name(v);
    } else if (strcmp(kind, "initializer") == 0) {
        nnc_init v;
        if (!(st = nnc_init_from_name(name, &v))) canon = nnc_init_name(v);
    } else if (strcmp(kind, "optimizer") == 0) {
        nnc_optimizer_kind v;
        if (!(st = nnc_optimizer_from_name(name, &v))) canon = nnc_optimizer_name(v);
    } else {
        PyErr_Format(PyExc_ValueError, "unknown kind '%s'", kind);
        return NULL;
    }
    if (st) return raise_status(st);
    return PyUnicode_FromString(canon);
}

static PyObject *core_all_finite(PyObject *module, PyObject *arg) {
    (void)module;
    if (!PyArray_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "all_finite() takes a numpy array");
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)arg;
    int t = PyArray_TYPE(a);
    if ((t != NPY_FLOAT32 && t != NPY_FLOAT64) || !PyArray_IS_C_CONTIGUOUS(a) ||
        !PyArray_ISALIGNED(a)) {
        PyErr_SetString(PyExc_TypeError,
                        "all_finite() needs a C-contiguous float32 or float64 array");
        return NULL;
    }
    int finite = 1;
    nnc_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_all_finite(t == NPY_FLOAT32 ? NNC_FLOAT32 : NNC_FLOAT64, PyArray_DATA(a),
                        (int64_t)PyArray_SIZE(a), &finite);
    Py_END_ALLOW_THREADS
    if (st) return raise_status(st);
    return PyBool_FromLong(finite);
}

static PyObject *core_optimizer_defaults(PyObject *module, PyObject *arg) {
    (void)module;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!name) {
        PyErr_SetString(PyExc_TypeError, "optimizer_defaults() takes a name");
        return NULL;
    }
    nnc_optimizer_kind kind;
    nnc_status st = nnc_optimizer_from_name(name, &kind);
    if (st) return raise_status(st);
    nnc_optimizer_config c;
    nnc_optimizer_config_default(&c, kind);
    return Py_BuildValue(
        "{s:d,s:d,s:d,s:O,s:d,s:d,s:d,s:d,s:O,s:d,s:d,s:O,s:d,s:L,s:L,s:d,s:d,s:L}",
        "learning_rate", c.learning_rate, "momentum", c.momentum, "dampening", c.dampening,
        "nesterov", c.nesterov ? Py_True : Py_False, "weight_decay", c.weight_decay, "lr_decay",
        c.lr_decay, "initial_accumulator_value", c.initial_accumulator_value, "alpha", c.alpha,
        "centered", c.centered ? Py_True : Py_False, "beta1", c.beta1, "beta2", c.beta2,
        "amsgrad", c.amsgrad ? Py_True : Py_False, "eps", c.eps, "max_iter",
        (long long)c.max_iter, "max_eval", (long long)c.max_eval, "tolerance_grad",
        c.tolerance_grad, "tolerance_change", c.tolerance_change, "history_size",
        (long long)c.history_size);
}

static PyObject *core_set_num_threads(PyObject *module, PyObject *arg) {
    (void)module;
    const long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 1 || n > 256) {
        PyErr_Format(PyExc_ValueError, "the number of threads must be in [1, 256], got %ld", n);
        return NULL;
    }
    nnc_status st;
    Py_BEGIN_ALLOW_THREADS /* waits for a running parallel section */
    st = nnc_set_num_threads((int)n);
    Py_END_ALLOW_THREADS
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *core_get_num_threads(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    return PyLong_FromLong(nnc_get_num_threads());
}

static PyObject *core_set_kernel_arch(PyObject *module, PyObject *arg) {
    (void)module;
    const char *name = arg == Py_None ? NULL : PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (arg != Py_None && !name) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "set_kernel_arch() takes a name");
        return NULL;
    }
    nnc_status st = nnc_set_kernel_arch(name);
    if (st) return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *core_get_kernel_arch(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    return PyUnicode_FromString(nnc_kernel_arch());
}

static PyObject *core_supported_kernel_archs(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    static const char *names[] = {"ref", "avx2", "avx512"};
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out && i < sizeof names / sizeof names[0]; i++) {
        if (!nnc_kernel_arch_supported(names[i])) continue;
        PyObject *s = PyUnicode_FromString(names[i]);
        if (!s || PyList_Append(out, s) < 0) Py_CLEAR(out);
        Py_XDECREF(s);
    }
    return out;
}

static PyMethodDef core_methods[] = {
    {"set_num_threads", core_set_num_threads, METH_O,
     "Threads the engine uses (1..256); results do not depend on it."},
    {"get_num_threads", core_get_num_threads, METH_NOARGS, "Threads the engine uses."},
    {"set_kernel_arch", core_set_kernel_arch, METH_O,
     "Switch the kernel set: 'ref', 'avx2', 'avx512' or 'auto'/None (tests, benchmarks)."},
    {"get_kernel_arch", core_get_kernel_arch, METH_NOARGS, "The kernel set in use."},
    {"supported_kernel_archs", core_supported_kernel_archs, METH_NOARGS,
     "The kernel sets this CPU can run, e.g. ['ref', 'avx2', 'avx512']."},
    {"names", core_names, METH_O, "Canonical names of a kind: activation, loss, initializer, optimizer."},
    {"canonical_name", core_canonical_name, METH_VARARGS,
     "canonical_name(kind, name) -> canonical name; ValueError if unknown."},
    {"all_finite", core_all_finite, METH_O, "True if a float array has no NaN or infinity."},
    {"optimizer_defaults", core_optimizer_defaults, METH_O, "torch.optim defaults for a name."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "nnc._core", "The nnc engine (C) wrapped for Python.", -1,
    core_methods,          NULL,        NULL,                                     NULL,
    NULL};

static void shutdown_threads(void) { nnc_thread_pool_shutdown(); }

PyMODINIT_FUNC PyInit__core(void) {
    import_array();
    /* Join the engine's worker threads when the interpreter exits (if the
     * at-exit table is full they simply end with the process). */
    (void)Py_AtExit(shutdown_threads);
    if (PyType_Ready(&ModelType) < 0 || PyType_Ready(&ProgressType) < 0) return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    NonFiniteError = PyErr_NewExceptionWithDoc(
        "nnc._core.NonFiniteError", "A loss, gradient or input became NaN or infinite.",
        PyExc_ValueError, NULL);
    TrainingInterrupted = PyErr_NewExceptionWithDoc(
        "nnc._core.TrainingInterrupted", "An epoch was stopped on request.", PyExc_RuntimeError,
        NULL);
    if (!NonFiniteError || !TrainingInterrupted ||
        PyModule_AddObjectRef(m, "NonFiniteError", NonFiniteError) < 0 ||
        PyModule_AddObjectRef(m, "TrainingInterrupted", TrainingInterrupted) < 0 ||
        PyModule_AddObjectRef(m, "Model", (PyObject *)&ModelType) < 0 ||
        PyModule_AddObjectRef(m, "Progress", (PyObject *)&ProgressType) < 0 ||
        PyModule_AddStringConstant(m, "kernel_arch", nnc_kernel_arch()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
