/*
 * model_type.c - nnc._core.Model: one engine model. Every engine call runs
 * without the GIL while holding the model's lock (ENGINE_CALL), so that
 * calls on one model from several Python threads are serialised and
 * different models run in parallel.
 */
#include "core.h"

#include <sched.h>

#include <pythread.h>

typedef struct ModelObject {
    PyObject_HEAD
    nnc_model *model;
    PyThread_type_lock lock;
    /* Set in a fork() child when another thread of the parent was inside an
     * engine call on this model: its state may be half updated here. */
    int busy_at_fork;
    /* Threads blocked in lock_model (atomic): train_epochs lets them in
     * between epochs. */
    int waiters;
    struct ModelObject *prev, *next; /* every live Model, for after_fork_in_child */
} ModelObject;

/* The live Models (changed under the GIL only). */
static ModelObject *live_models = NULL;

/* Take the model's lock, waiting without the GIL if another thread has it. */
static void lock_model(ModelObject *self) {
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        __atomic_add_fetch(&self->waiters, 1, __ATOMIC_SEQ_CST);
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
        __atomic_sub_fetch(&self->waiters, 1, __ATOMIC_SEQ_CST);
    }
}

static void unlock_model(ModelObject *self) { PyThread_release_lock(self->lock); }

/* st = call (an nnc_status expression on self->model), with the lock held
 * and the GIL released: the one way this file calls the engine. */
#define ENGINE_CALL(self, st, call)   \
    do {                              \
        lock_model(self);             \
        Py_BEGIN_ALLOW_THREADS        \
        (st) = (call);                \
        Py_END_ALLOW_THREADS          \
        unlock_model(self);           \
    } while (0)

/* ------------------------------------------------------------ lifetime */

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
    self->next = live_models;
    if (live_models) live_models->prev = self;
    live_models = self;
    return (PyObject *)self;
}

/* A new Model object owning `model` (destroyed here on failure). */
static PyObject *wrap_model(nnc_model *model) {
    ModelObject *self = (ModelObject *)model_new(&core_ModelType, NULL, NULL);
    if (!self) {
        nnc_model_destroy(model);
        return NULL;
    }
    self->model = model;
    return (PyObject *)self;
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
    nnc_layer_spec *specs;
    int n;
    if (core_parse_specs(layers, &specs, &n)) return -1;
    nnc_status st;
    nnc_model *model = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_model_create(dtype, (int64_t)input_dim, n, specs, (uint64_t)seed, &model);
    Py_END_ALLOW_THREADS
    PyMem_Free(specs);
    if (st) {
        core_raise(st);
        return -1;
    }
    self->model = model;
    return 0;
}

static void model_dealloc(ModelObject *self) {
    if (self->lock) { /* it is in the list once model_new allocated its lock */
        if (self->prev) self->prev->next = self->next;
        else if (live_models == self) live_models = self->next;
        if (self->next) self->next->prev = self->prev;
    }
    nnc_model_destroy(self->model);
    if (self->lock) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(ModelObject *self) {
    if (!self->model) {
        PyErr_SetString(PyExc_RuntimeError, "Model is not initialised");
        return 0;
    }
    if (self->busy_at_fork) {
        core_raise_message(NNC_ERR_STATE,
                           "this model was in use by another thread when the process forked: "
                           "its state in this child process may be half updated (load a saved "
                           "copy, or fork while no other thread uses the model)");
        return 0;
    }
    return 1;
}

void core_models_after_fork_in_child(void) {
    /* The threads that held locks do not exist in the child: a lock still
     * held was held by one of them. Give every model a usable lock, and
     * refuse the models such a thread was changing. */
    for (ModelObject *m = live_models; m; m = m->next) {
        if (PyThread_acquire_lock(m->lock, NOWAIT_LOCK)) {
            PyThread_release_lock(m->lock);
            continue;
        }
        PyThread_type_lock fresh = PyThread_allocate_lock();
        if (fresh) m->lock = fresh; /* the old one cannot be freed while held */
        m->busy_at_fork = 1;
    }
}

#define REQUIRE_READY(self) \
    if (!ready(self)) return NULL

/* `out` when the engine call that filled it succeeded, else NULL with the
 * status raised (and `out` released). */
static PyObject *filled(nnc_status st, PyObject *out) {
    if (!st) return out;
    Py_DECREF(out);
    return core_raise(st);
}

static PyObject *model_deserialize(PyObject *cls, PyObject *arg) {
    (void)cls;
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0) return NULL;
    nnc_status st;
    nnc_model *model = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_model_deserialize(data.buf, (int64_t)data.len, &model);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return st ? core_raise(st) : wrap_model(model);
}

static PyObject *model_load(PyObject *cls, PyObject *arg) {
    (void)cls;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    nnc_status st;
    nnc_model *model = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_model_load(PyBytes_AS_STRING(path), &model);
    Py_END_ALLOW_THREADS
    PyObject *out = st ? core_raise_for_path(st, arg) : wrap_model(model);
    Py_DECREF(path);
    return out;
}

/* ----------------------------------------------------------- structure */

/* The model's read-only attributes, by the closure of their getset entry. */
enum { NUM_PARAMS, DTYPE, INPUT_DIM, OUTPUT_DIM, COMPILED, SEED };

static PyObject *model_attribute(ModelObject *self, void *closure) {
    REQUIRE_READY(self);
    const nnc_model *m = self->model;
    switch ((int)(intptr_t)closure) {
    case NUM_PARAMS: return PyLong_FromLongLong(nnc_model_num_params(m));
    case DTYPE: return PyUnicode_FromString(nnc_model_dtype(m) == NNC_FLOAT32 ? "float32" : "float64");
    case INPUT_DIM: return PyLong_FromLongLong(nnc_model_input_dim(m));
    case OUTPUT_DIM: return PyLong_FromLongLong(nnc_model_output_dim(m));
    case COMPILED: return PyBool_FromLong(nnc_model_is_compiled(m));
    default: return PyLong_FromUnsignedLongLong(nnc_model_seed(m));
    }
}

/* [(fan_in, fan_out, w_off, b_off, slope_off) per layer]; -1: absent. */
static PyObject *model_layout(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    const int n = nnc_model_num_layers(self->model);
    PyObject *out = PyList_New(n);
    int64_t fan_in = nnc_model_input_dim(self->model);
    for (int i = 0; out && i < n; i++) {
        nnc_layer_spec spec;
        int64_t w, b, s;
        nnc_model_layer_spec(self->model, i, &spec);
        nnc_model_layer_offsets(self->model, i, &w, &b, &s);
        PyObject *item = Py_BuildValue("(LLLLL)", (long long)fan_in, (long long)spec.units,
                                       (long long)w, (long long)b, (long long)s);
        if (!item) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, item);
        fan_in = spec.units;
    }
    return out;
}

static PyObject *model_layer_specs(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    const int n = nnc_model_num_layers(self->model);
    PyObject *out = PyList_New(n);
    for (int i = 0; out && i < n; i++) {
        nnc_layer_spec spec;
        nnc_model_layer_spec(self->model, i, &spec);
        PyObject *item = core_spec_tuple(&spec);
        if (!item) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, item);
    }
    return out;
}

/* ---------------------------------------------------------- parameters */

static PyObject *model_get_params(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    PyObject *out = PyArray_SimpleNew(1, &n, core_typenum(nnc_model_dtype(self->model)));
    if (!out) return NULL;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_model_get_params(self->model, PyArray_DATA((PyArrayObject *)out), n));
    return filled(st, out);
}

/* (params, (rng0, rng1), optimizer state bytes or None, learning rate or
 * None), all read under one hold of the lock: a snapshot from one
 * completed step even while another thread trains (docs/design.md
 * "Snapshots"). */
static PyObject *model_training_state(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    PyObject *params = PyArray_SimpleNew(1, &n, core_typenum(nnc_model_dtype(self->model)));
    if (!params) return NULL;
    PyObject *blob = NULL;
    uint64_t rng[2];
    double lr = 0.0;
    lock_model(self);
    nnc_status st = nnc_model_get_params(self->model, PyArray_DATA((PyArrayObject *)params), n);
    nnc_model_get_rng_state(self->model, rng);
    const int compiled = nnc_model_is_compiled(self->model);
    if (!st && compiled) {
        int64_t size = 0;
        st = nnc_model_optimizer_state_size(self->model, &size);
        if (!st) blob = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
        if (!st && blob)
            st = nnc_model_get_optimizer_state(self->model, PyBytes_AS_STRING(blob), size);
        if (!st && blob) st = nnc_model_get_learning_rate(self->model, &lr);
    }
    unlock_model(self);
    if (st || (compiled && !blob)) {
        Py_DECREF(params);
        Py_XDECREF(blob);
        return st ? core_raise(st) : NULL;
    }
    PyObject *rate = compiled ? PyFloat_FromDouble(lr) : Py_NewRef(Py_None);
    if (!blob) blob = Py_NewRef(Py_None);
    return Py_BuildValue("(N(KK)NN)", params, (unsigned long long)rng[0],
                         (unsigned long long)rng[1], blob, rate);
}

static PyObject *model_set_params(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *v =
        core_check_array(arg, "params", core_typenum(nnc_model_dtype(self->model)), 1, -1);
    if (!v) return NULL;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_model_set_params(self->model, PyArray_DATA(v), (int64_t)PyArray_DIM(v, 0)));
    return st ? core_raise(st) : Py_NewRef(Py_None);
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
    const uint64_t s[2] = {(uint64_t)a, (uint64_t)b};
    lock_model(self);
    nnc_model_set_rng_state(self->model, s);
    unlock_model(self);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------- compile */

static PyObject *model_compile(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    const char *loss_name, *opt_name;
    double l2;
    PyObject *options;
    if (!PyArg_ParseTuple(args, "sdsO", &loss_name, &l2, &opt_name, &options)) return NULL;
    nnc_loss loss;
    nnc_status st = nnc_loss_from_name(loss_name, &loss);
    if (st) return core_raise(st);
    nnc_optimizer_config cfg;
    if (core_parse_optimizer(opt_name, options, &cfg)) return NULL;
    ENGINE_CALL(self, st, nnc_model_compile(self->model, loss, l2, &cfg));
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

/* (loss, l2, optimizer name, {field: value}) or None before compile. */
static PyObject *model_compile_settings(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    nnc_loss loss;
    double l2;
    nnc_optimizer_config cfg;
    nnc_status st;
    ENGINE_CALL(self, st, nnc_model_compile_settings(self->model, &loss, &l2, &cfg));
    if (st == NNC_ERR_STATE) Py_RETURN_NONE;
    if (st) return core_raise(st);
    PyObject *options = core_optimizer_options(&cfg);
    return options ? Py_BuildValue("(sdsN)", nnc_loss_name(loss), l2,
                                   nnc_optimizer_name(cfg.kind), options)
                   : NULL;
}

/* After fork(), for a model whose training run (in a thread that the child
 * does not have) was between engine calls: refuse it like one caught
 * inside a call (core_models_after_fork_in_child). */
static PyObject *model_refuse_after_fork(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    self->busy_at_fork = 1;
    Py_RETURN_NONE;
}

static PyObject *model_set_learning_rate(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    const double lr = PyFloat_AsDouble(arg);
    if (lr == -1.0 && PyErr_Occurred()) return NULL;
    nnc_status st;
    ENGINE_CALL(self, st, nnc_model_set_learning_rate(self->model, lr));
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

static PyObject *model_get_learning_rate(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    double lr = 0.0;
    nnc_status st;
    ENGINE_CALL(self, st, nnc_model_get_learning_rate(self->model, &lr));
    return st ? core_raise(st) : PyFloat_FromDouble(lr);
}

/* The bytes an engine function writes into a buffer of the size another
 * one reports, both under one hold of the lock: a consistent snapshot. */
static PyObject *engine_bytes(ModelObject *self, nnc_status (*size)(const nnc_model *, int64_t *),
                              nnc_status (*fill)(const nnc_model *, void *, int64_t)) {
    PyObject *out = NULL;
    int64_t n = 0;
    lock_model(self);
    nnc_status st = size(self->model, &n);
    if (!st) {
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
        if (out) st = fill(self->model, PyBytes_AS_STRING(out), n);
    }
    unlock_model(self);
    if (st) {
        Py_XDECREF(out);
        return core_raise(st);
    }
    return out;
}

static PyObject *model_get_optimizer_state(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    return engine_bytes(self, nnc_model_optimizer_state_size, nnc_model_get_optimizer_state);
}

static PyObject *model_set_optimizer_state(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "optimizer state must be bytes");
        return NULL;
    }
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_model_set_optimizer_state(self->model, PyBytes_AS_STRING(arg),
                                              (int64_t)PyBytes_GET_SIZE(arg)));
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

static PyObject *model_serialize(ModelObject *self, PyObject *Py_UNUSED(ignored)) {
    REQUIRE_READY(self);
    return engine_bytes(self, nnc_model_serialized_size, nnc_model_serialize);
}

/* ------------------------------------------------------------ compute */

/* The input rows of predict/trace, checked against the model. */
static PyArrayObject *input_rows(ModelObject *self, PyObject *arg) {
    return core_check_array(arg, "x", core_typenum(nnc_model_dtype(self->model)), 2,
                            (npy_intp)nnc_model_input_dim(self->model));
}

static PyObject *new_rows(ModelObject *self, npy_intp rows, npy_intp cols) {
    npy_intp dims[2] = {rows, cols};
    return PyArray_SimpleNew(2, dims, core_typenum(nnc_model_dtype(self->model)));
}

static PyObject *model_predict(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *x = input_rows(self, arg);
    if (!x) return NULL;
    PyObject *out = new_rows(self, PyArray_DIM(x, 0), (npy_intp)nnc_model_output_dim(self->model));
    if (!out) return NULL;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_predict(self->model, PyArray_DATA(x), (int64_t)PyArray_DIM(x, 0),
                            PyArray_DATA((PyArrayObject *)out)));
    return filled(st, out);
}

/* trace(x) -> [(z, a) per layer]: one engine call fills every array. */
static PyObject *model_trace(ModelObject *self, PyObject *arg) {
    REQUIRE_READY(self);
    PyArrayObject *x = input_rows(self, arg);
    if (!x) return NULL;
    const int n_layers = nnc_model_num_layers(self->model);
    PyObject *result = PyList_New(n_layers);
    void **ptrs = PyMem_Calloc((size_t)n_layers * 2, sizeof *ptrs);
    if (!result || !ptrs) goto fail;
    for (int l = 0; l < n_layers; l++) {
        nnc_layer_spec spec;
        nnc_model_layer_spec(self->model, l, &spec);
        PyObject *z = new_rows(self, PyArray_DIM(x, 0), (npy_intp)spec.units);
        PyObject *a = z ? new_rows(self, PyArray_DIM(x, 0), (npy_intp)spec.units) : NULL;
        PyObject *pair = a ? PyTuple_Pack(2, z, a) : NULL;
        Py_XDECREF(z);
        Py_XDECREF(a);
        if (!pair) goto fail;
        ptrs[l] = PyArray_DATA((PyArrayObject *)z);
        ptrs[n_layers + l] = PyArray_DATA((PyArrayObject *)a);
        PyList_SET_ITEM(result, l, pair); /* the tuple keeps z and a alive */
    }
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_trace(self->model, PyArray_DATA(x), (int64_t)PyArray_DIM(x, 0), ptrs,
                          ptrs + n_layers));
    if (st) {
        core_raise(st);
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

/* Parse (x, y, sample_weight=None) and check them against the model. */
static int batch_args(ModelObject *self, PyObject *args, core_batch *b) {
    PyObject *x, *y, *sw = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O", &x, &y, &sw)) return -1;
    return core_parse_batch(self->model, x, y, sw, b);
}

/* fn(x, y, sample_weight) -> a loss: nnc_loss_value and nnc_train_batch. */
typedef nnc_status (*batch_loss_fn)(nnc_model *, const void *, const void *, const void *, int64_t,
                                    double *);

static PyObject *batch_loss(ModelObject *self, PyObject *args, batch_loss_fn fn) {
    REQUIRE_READY(self);
    core_batch b;
    if (batch_args(self, args, &b)) return NULL;
    double loss = 0.0;
    nnc_status st;
    ENGINE_CALL(self, st,
                fn(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), core_data(b.sw), b.rows,
                   &loss));
    return st ? core_raise(st) : PyFloat_FromDouble(loss);
}

static PyObject *model_loss(ModelObject *self, PyObject *args) {
    return batch_loss(self, args, nnc_loss_value);
}

static PyObject *new_flat(ModelObject *self) {
    npy_intp n = (npy_intp)nnc_model_num_params(self->model);
    return PyArray_SimpleNew(1, &n, core_typenum(nnc_model_dtype(self->model)));
}

static PyObject *model_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    core_batch b;
    if (batch_args(self, args, &b)) return NULL;
    PyObject *grad = new_flat(self);
    if (!grad) return NULL;
    double loss = 0.0;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_gradients(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), core_data(b.sw),
                              b.rows, &loss, PyArray_DATA((PyArrayObject *)grad)));
    return filled(st, grad) ? Py_BuildValue("dN", loss, grad) : NULL;
}

static PyObject *model_numeric_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw;
    double eps;
    if (!PyArg_ParseTuple(args, "OOOd", &x, &y, &sw, &eps)) return NULL;
    core_batch b;
    if (core_parse_batch(self->model, x, y, sw, &b)) return NULL;
    PyObject *num = new_flat(self);
    if (!num) return NULL;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_numeric_gradients(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y),
                                      core_data(b.sw), b.rows, eps,
                                      PyArray_DATA((PyArrayObject *)num)));
    return filled(st, num);
}

/* shard_gradients(x, y, sample_weight, row_offset, global_rows) ->
 * (loss_part, grad): nnc_shard_gradients. */
static PyObject *model_shard_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw;
    long long row_offset, global_rows;
    if (!PyArg_ParseTuple(args, "OOOLL", &x, &y, &sw, &row_offset, &global_rows)) return NULL;
    core_batch b;
    if (core_parse_batch(self->model, x, y, sw, &b)) return NULL;
    PyObject *grad = new_flat(self);
    if (!grad) return NULL;
    double loss = 0.0;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_shard_gradients(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y),
                                    core_data(b.sw), b.rows, (int64_t)row_offset,
                                    (int64_t)global_rows, &loss,
                                    PyArray_DATA((PyArrayObject *)grad)));
    return filled(st, grad) ? Py_BuildValue("dN", loss, grad) : NULL;
}

/* apply_gradients(grad, global_rows) -> the L2 term: nnc_apply_gradients. */
static PyObject *model_apply_gradients(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *grad;
    long long global_rows;
    if (!PyArg_ParseTuple(args, "OL", &grad, &global_rows)) return NULL;
    PyArrayObject *g = (PyArrayObject *)core_check_array(
        grad, "grad", core_typenum(nnc_model_dtype(self->model)), 1, -1);
    if (!g) return NULL;
    if (PyArray_DIM(g, 0) != (npy_intp)nnc_model_num_params(self->model)) {
        PyErr_Format(PyExc_ValueError,
                     "grad: expected %lld values (the model's parameters), got %lld",
                     (long long)nnc_model_num_params(self->model), (long long)PyArray_DIM(g, 0));
        return NULL;
    }
    double l2_loss = 0.0;
    nnc_status st;
    ENGINE_CALL(self, st,
                nnc_apply_gradients(self->model, PyArray_DATA(g), (int64_t)global_rows, &l2_loss));
    return st ? core_raise(st) : PyFloat_FromDouble(l2_loss);
}

static PyObject *model_train_batch(ModelObject *self, PyObject *args) {
    return batch_loss(self, args, nnc_train_batch);
}

static PyObject *model_train_epoch(ModelObject *self, PyObject *args, PyObject *kwds) {
    REQUIRE_READY(self);
    static char *kwlist[] = {"x", "y", "sample_weight", "batch_size", "shuffle", "progress", NULL};
    PyObject *x, *y, *sw = Py_None, *progress = Py_None;
    long long batch_size = 0;
    int shuffle = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OLpO", kwlist, &x, &y, &sw, &batch_size,
                                     &shuffle, &progress))
        return NULL;
    core_batch b;
    if (core_parse_batch(self->model, x, y, sw, &b)) return NULL;
    nnc_progress *p = NULL;
    if (progress != Py_None) {
        if (!PyObject_TypeCheck(progress, &core_ProgressType)) {
            PyErr_SetString(PyExc_TypeError, "progress must be a nnc._core.Progress");
            return NULL;
        }
        p = &((core_ProgressObject *)progress)->progress;
    }
    double loss = 0.0;
    nnc_status st;
    /* The Progress object stays alive: the args tuple holds it. */
    ENGINE_CALL(self, st,
                nnc_train_epoch(self->model, PyArray_DATA(b.x), PyArray_DATA(b.y), core_data(b.sw),
                                b.rows, (int64_t)batch_size, shuffle, p, &loss));
    return st ? core_raise(st) : PyFloat_FromDouble(loss);
}

/* A float64 vector the engine fills in place (train_epochs' outputs). */
static double *out_vector(PyObject *obj, const char *name, int64_t *n) {
    if (!PyArray_Check(obj) || PyArray_TYPE((PyArrayObject *)obj) != NPY_FLOAT64 ||
        PyArray_NDIM((PyArrayObject *)obj) != 1 ||
        !PyArray_ISCARRAY((PyArrayObject *)obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a writeable contiguous 1-D float64 array",
                     name);
        return NULL;
    }
    *n = (int64_t)PyArray_DIM((PyArrayObject *)obj, 0);
    return PyArray_DATA((PyArrayObject *)obj);
}

/* One of train_epochs' epochs: exactly nnc_train_epoch, then the learning
 * rate after it. */
static nnc_status train_one_epoch(nnc_model *m, const core_batch *b, int64_t batch_size,
                                  int shuffle, nnc_progress *p, double *loss, double *rate) {
    nnc_status st = nnc_train_epoch(m, PyArray_DATA(b->x), PyArray_DATA(b->y), core_data(b->sw),
                                    b->rows, batch_size, shuffle, p, loss);
    return st ? st : nnc_model_get_learning_rate(m, rate);
}

static PyObject *model_train_epochs(ModelObject *self, PyObject *args) {
    REQUIRE_READY(self);
    PyObject *x, *y, *sw, *progress, *loss_out, *rate_out;
    long long batch_size;
    int shuffle;
    if (!PyArg_ParseTuple(args, "OOOLpO!OO", &x, &y, &sw, &batch_size, &shuffle,
                          &core_ProgressType, &progress, &loss_out, &rate_out))
        return NULL;
    int64_t epochs = 0, n_rates = 0;
    double *losses = out_vector(loss_out, "losses", &epochs);
    double *rates = losses ? out_vector(rate_out, "rates", &n_rates) : NULL;
    if (!rates) return NULL;
    if (n_rates != epochs) {
        PyErr_SetString(PyExc_ValueError, "losses and rates must have the same length");
        return NULL;
    }
    core_batch b;
    if (core_parse_batch(self->model, x, y, sw, &b)) return NULL;
    nnc_progress *p = &((core_ProgressObject *)progress)->progress;
    /* Epochs back to back in one call (docs/design.md, Step and fit
     * overhead): each is exactly nnc_train_epoch, so the results are those
     * of one call per epoch. The model's lock is released between epochs,
     * so a snapshot taken meanwhile (training_state, pickle) sees the state
     * after some whole epoch, as with one call per epoch. losses[e] and
     * rates[e] are written as each epoch ends: after an error or a stop
     * request the finished epochs are the entries already written. */
    nnc_status st = NNC_OK;
    for (int64_t e = 0; e < epochs && !st; e++) {
        double loss = 0.0, rate = 0.0;
        ENGINE_CALL(self, st, train_one_epoch(self->model, &b, (int64_t)batch_size, shuffle, p,
                                              &loss, &rate));
        if (!st) {
            losses[e] = loss;
            rates[e] = rate;
        }
        /* A thread waiting for the lock (a snapshot) gets it before the
         * next epoch: the lock is not fair, so without this the loop would
         * take it back at once. */
        if (__atomic_load_n(&self->waiters, __ATOMIC_SEQ_CST) > 0) {
            Py_BEGIN_ALLOW_THREADS
            while (__atomic_load_n(&self->waiters, __ATOMIC_SEQ_CST) > 0) sched_yield();
            Py_END_ALLOW_THREADS
        }
    }
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

/* ---------------------------------------------------------------- type */

#define ATTRIBUTE(name, id, doc) {name, (getter)model_attribute, NULL, doc, (void *)(intptr_t)(id)}
static PyGetSetDef model_getset[] = {
    ATTRIBUTE("num_params", NUM_PARAMS, "number of parameters"),
    ATTRIBUTE("dtype", DTYPE, "'float32' or 'float64'"),
    ATTRIBUTE("input_dim", INPUT_DIM, "input width"),
    ATTRIBUTE("output_dim", OUTPUT_DIM, "output width"),
    ATTRIBUTE("compiled", COMPILED, "whether compile() succeeded"),
    ATTRIBUTE("seed", SEED, "the seed the model was created with"),
    {NULL, NULL, NULL, NULL, NULL}};
#undef ATTRIBUTE

static PyMethodDef model_methods[] = {
    {"deserialize", (PyCFunction)model_deserialize, METH_O | METH_CLASS,
     "Model.deserialize(data) -> Model: a model from nncb bytes (FormatError if malformed)."},
    {"load", (PyCFunction)model_load, METH_O | METH_CLASS,
     "Model.load(path) -> Model: nnc_model_load of an nncb file."},
    {"serialize", (PyCFunction)model_serialize, METH_NOARGS, "The model as nncb bytes."},
    {"layout", (PyCFunction)model_layout, METH_NOARGS,
     "[(fan_in, fan_out, w_off, b_off, slope_off) per layer] in the flat parameters; -1: absent."},
    {"layer_specs", (PyCFunction)model_layer_specs, METH_NOARGS,
     "[(units, activation, use_bias, dropout, kernel_init, param, bias_init, param)]."},
    {"get_params", (PyCFunction)model_get_params, METH_NOARGS, "Copy of the flat parameters."},
    {"set_params", (PyCFunction)model_set_params, METH_O, "Overwrite the flat parameters."},
    {"compile", (PyCFunction)model_compile, METH_VARARGS,
     "compile(loss, l2, optimizer_name, {field: value})"},
    {"compile_settings", (PyCFunction)model_compile_settings, METH_NOARGS,
     "(loss, l2, optimizer_name, {field: value}) or None before compile."},
    {"set_learning_rate", (PyCFunction)model_set_learning_rate, METH_O, "Set the learning rate."},
    {"training_state", (PyCFunction)model_training_state, METH_NOARGS,
     "(params, rng_state, optimizer_state or None, learning_rate or None) in one snapshot."},
    {"refuse_after_fork", (PyCFunction)model_refuse_after_fork, METH_NOARGS,
     "In a fork() child: refuse every later call (the parent was training it)."},
    {"get_learning_rate", (PyCFunction)model_get_learning_rate, METH_NOARGS,
     "The optimizer's learning rate."},
    {"get_optimizer_state", (PyCFunction)model_get_optimizer_state, METH_NOARGS,
     "Optimizer state as bytes."},
    {"set_optimizer_state", (PyCFunction)model_set_optimizer_state, METH_O,
     "Restore optimizer state from bytes."},
    {"get_rng_state", (PyCFunction)model_get_rng_state, METH_NOARGS, "(key, counter)"},
    {"set_rng_state", (PyCFunction)model_set_rng_state, METH_O, "Restore (key, counter)."},
    {"predict", (PyCFunction)model_predict, METH_O, "Forward pass without dropout."},
    {"trace", (PyCFunction)model_trace, METH_O,
     "trace(x) -> [(z, a) per layer]: forward pass without dropout, every layer kept."},
    {"loss", (PyCFunction)model_loss, METH_VARARGS, "loss(x, y, sample_weight=None)"},
    {"gradients", (PyCFunction)model_gradients, METH_VARARGS,
     "gradients(x, y, sample_weight=None) -> (loss, flat gradient)"},
    {"numeric_gradients", (PyCFunction)model_numeric_gradients, METH_VARARGS,
     "numeric_gradients(x, y, sample_weight, eps) -> flat central differences"},
    {"shard_gradients", (PyCFunction)model_shard_gradients, METH_VARARGS,
     "shard_gradients(x, y, sample_weight, row_offset, global_rows) -> (loss_part, grad): "
     "a data-parallel shard's gradient (nnc_shard_gradients)."},
    {"apply_gradients", (PyCFunction)model_apply_gradients, METH_VARARGS,
     "apply_gradients(grad, global_rows) -> l2_loss: one optimizer step from the summed "
     "shard gradients (nnc_apply_gradients)."},
    {"train_batch", (PyCFunction)model_train_batch, METH_VARARGS,
     "train_batch(x, y, sample_weight=None) -> loss before the step"},
    {"train_epochs", (PyCFunction)model_train_epochs, METH_VARARGS,
     "train_epochs(x, y, sample_weight, batch_size, shuffle, progress, losses, rates): "
     "len(losses) epochs in one call; fills losses and rates (float64) as epochs end."},
    {"train_epoch", (PyCFunction)(void (*)(void))model_train_epoch, METH_VARARGS | METH_KEYWORDS,
     "train_epoch(x, y, sample_weight=None, batch_size=0, shuffle=True, progress=None) -> mean "
     "loss"},
    {NULL, NULL, 0, NULL}};

PyTypeObject core_ModelType = {
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
