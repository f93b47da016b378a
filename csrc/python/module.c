/*
 * module.c - the nnc._core module: process-wide engine functions (names,
 * threads, kernel sets, finite check), the optimizer settings schema and
 * the compile checks a model makes before it exists, the exception
 * classes, and the Model and Progress types (model_type.c,
 * progress_type.c).
 */
#define NNC_CORE_IMPORTS_ARRAY
#include "core.h"

#include <limits.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

typedef struct {
    const char *kind;
    const char *(*name)(int value);
    nnc_status (*from_name)(const char *name, int *value);
} name_kind;

/* Adapters to one signature, so that one table serves every kind. */
#define NAME_KIND(kind, type, name_fn, from_fn)                                                \
    static const char *name_##kind(int v) { return name_fn((type)v); }                        \
    static nnc_status from_##kind(const char *s, int *v) {                                    \
        type out;                                                                              \
        nnc_status st = from_fn(s, &out);                                                     \
        *v = (int)out;                                                                         \
        return st;                                                                             \
    }
NAME_KIND(activation, nnc_activation, nnc_activation_name, nnc_activation_from_name)
NAME_KIND(loss, nnc_loss, nnc_loss_name, nnc_loss_from_name)
NAME_KIND(initializer, nnc_init, nnc_init_name, nnc_init_from_name)
NAME_KIND(optimizer, nnc_optimizer_kind, nnc_optimizer_name, nnc_optimizer_from_name)
#undef NAME_KIND

static const name_kind name_kinds[] = {
    {"activation", name_activation, from_activation},
    {"loss", name_loss, from_loss},
    {"initializer", name_initializer, from_initializer},
    {"optimizer", name_optimizer, from_optimizer},
};

static const name_kind *find_kind(const char *kind) {
    for (size_t i = 0; kind && i < sizeof name_kinds / sizeof name_kinds[0]; i++)
        if (strcmp(name_kinds[i].kind, kind) == 0) return &name_kinds[i];
    PyErr_Format(PyExc_ValueError, "unknown kind '%s'", kind ? kind : "?");
    return NULL;
}

static PyObject *core_names(PyObject *module, PyObject *arg) {
    (void)module;
    const name_kind *k = find_kind(PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL);
    if (!k) return NULL;
    PyObject *out = PyList_New(0);
    for (int i = 0; out; i++) {
        const char *name = k->name(i);
        if (!name) break;
        PyObject *s = PyUnicode_FromString(name);
        if (!s || PyList_Append(out, s) < 0) Py_CLEAR(out);
        Py_XDECREF(s);
    }
    return out;
}

/* The canonical name for a name or alias, or ValueError. */
static PyObject *core_canonical_name(PyObject *module, PyObject *args) {
    (void)module;
    const char *kind, *name;
    if (!PyArg_ParseTuple(args, "ss", &kind, &name)) return NULL;
    const name_kind *k = find_kind(kind);
    if (!k) return NULL;
    int value;
    nnc_status st = k->from_name(name, &value);
    return st ? core_raise(st) : PyUnicode_FromString(k->name(value));
}

/* ------------------------------------------------- optimizer and compile */

/* torch.optim's defaults of an optimizer: {field: value} for the fields it
 * reads. */
static PyObject *core_optimizer_defaults(PyObject *module, PyObject *arg) {
    (void)module;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!name) {
        PyErr_SetString(PyExc_TypeError, "optimizer_defaults() takes a name");
        return NULL;
    }
    nnc_optimizer_config cfg;
    PyObject *empty = PyDict_New();
    const int failed = !empty || core_parse_optimizer(name, empty, &cfg);
    Py_XDECREF(empty);
    return failed ? NULL : core_optimizer_options(&cfg);
}

/* check_optimizer(name, {field: value}) -> {field: value}: the engine's
 * checks of those settings before any model exists, and every field the
 * optimizer reads as the engine holds it (defaults filled in). */
static PyObject *core_check_optimizer(PyObject *module, PyObject *args) {
    (void)module;
    const char *name;
    PyObject *options;
    if (!PyArg_ParseTuple(args, "sO", &name, &options)) return NULL;
    nnc_optimizer_config cfg;
    if (core_parse_optimizer(name, options, &cfg)) return NULL;
    nnc_status st = nnc_optimizer_config_validate(&cfg);
    return st ? core_raise(st) : core_optimizer_options(&cfg);
}

/* schedule_value((name, params, points, values), step) -> the rate. */
static PyObject *core_schedule_value(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *spec;
    long long step;
    if (!PyArg_ParseTuple(args, "OL", &spec, &step)) return NULL;
    nnc_schedule s;
    if (core_parse_schedule(spec, &s)) return NULL;
    double rate;
    nnc_status st = nnc_schedule_value(&s, step, &rate);
    return st ? core_raise(st) : PyFloat_FromDouble(rate);
}

/* check_compile(output_activation, has_dropout, loss, l2, optimizer_name,
 * {field: value}): what compile would refuse, for a model not built yet. */
static PyObject *core_check_compile(PyObject *module, PyObject *args) {
    (void)module;
    const char *act_name, *loss_name, *opt_name;
    int has_dropout;
    double l2;
    PyObject *options;
    if (!PyArg_ParseTuple(args, "spsdsO", &act_name, &has_dropout, &loss_name, &l2, &opt_name,
                          &options))
        return NULL;
    nnc_activation act;
    nnc_loss loss;
    nnc_optimizer_config cfg;
    nnc_status st = nnc_activation_from_name(act_name, &act);
    if (!st) st = nnc_loss_from_name(loss_name, &loss);
    if (st) return core_raise(st);
    if (core_parse_optimizer(opt_name, options, &cfg)) return NULL;
    st = nnc_compile_check(act, has_dropout, loss, l2, &cfg);
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

/* count_params(input_dim, layer specs): the engine's layout, no model made. */
static PyObject *core_count_params(PyObject *module, PyObject *args) {
    (void)module;
    long long input_dim;
    PyObject *layers;
    if (!PyArg_ParseTuple(args, "LO", &input_dim, &layers)) return NULL;
    nnc_layer_spec *specs;
    int n;
    if (core_parse_specs(layers, &specs, &n)) return NULL;
    int64_t count = 0;
    nnc_status st = nnc_model_count_params((int64_t)input_dim, n, specs, &count);
    PyMem_Free(specs);
    return st ? core_raise(st) : PyLong_FromLongLong(count);
}

/* ------------------------------------------------------ process-wide */

static PyObject *core_all_finite(PyObject *module, PyObject *arg) {
    (void)module;
    if (!PyArray_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "all_finite() takes a numpy array");
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)arg;
    const int t = PyArray_TYPE(a);
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
    return st ? core_raise(st) : PyBool_FromLong(finite);
}

/* elementwise(op, x, a, out): nnc_elementwise over C-contiguous arrays of
 * one float dtype and size (a may be None); the accuracy tests' hook. */
static PyObject *core_elementwise(PyObject *module, PyObject *args) {
    (void)module;
    const char *op;
    PyObject *xo, *ao, *oo;
    if (!PyArg_ParseTuple(args, "sOOO:elementwise", &op, &xo, &ao, &oo)) return NULL;
    PyObject *arrays[3] = {xo, ao, oo};
    int type = -1;
    npy_intp size = 0;
    for (int i = 0; i < 3; i++) {
        if (i == 1 && ao == Py_None) continue;
        PyArrayObject *arr = (PyArrayObject *)arrays[i];
        if (!PyArray_Check(arrays[i]) || !PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISALIGNED(arr) ||
            (PyArray_TYPE(arr) != NPY_FLOAT32 && PyArray_TYPE(arr) != NPY_FLOAT64) ||
            (type >= 0 && (PyArray_TYPE(arr) != type || PyArray_SIZE(arr) != size)) ||
            (i == 2 && !PyArray_ISWRITEABLE(arr))) {
            PyErr_SetString(PyExc_TypeError, "elementwise() needs C-contiguous float arrays of one "
                                             "dtype and size (out writeable)");
            return NULL;
        }
        type = PyArray_TYPE(arr);
        size = PyArray_SIZE(arr);
    }
    nnc_status st;
    const void *a = ao == Py_None ? NULL : PyArray_DATA((PyArrayObject *)ao);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_elementwise(type == NPY_FLOAT32 ? NNC_FLOAT32 : NNC_FLOAT64, op,
                         PyArray_DATA((PyArrayObject *)xo), a, PyArray_DATA((PyArrayObject *)oo),
                         (int64_t)size);
    Py_END_ALLOW_THREADS
    return st ? core_raise(st) : Py_NewRef(Py_None);
}

static PyObject *core_after_fork_in_child(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    core_models_after_fork_in_child();
    Py_RETURN_NONE;
}

static PyObject *core_set_num_threads(PyObject *module, PyObject *arg) {
    (void)module;
    int overflow = 0;
    const long n = PyLong_AsLongAndOverflow(arg, &overflow);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (overflow || n < INT_MIN || n > INT_MAX)
        return PyErr_Format(PyExc_ValueError, "threads: %R is not a thread count", arg);
    nnc_status st;
    Py_BEGIN_ALLOW_THREADS /* waits for a running parallel section */
    st = nnc_set_num_threads((int)n);
    Py_END_ALLOW_THREADS
    return st ? core_raise(st) : Py_NewRef(Py_None);
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
    return st ? core_raise(st) : Py_NewRef(Py_None);
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

static PyObject *core_version(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    return PyUnicode_FromString(nnc_version());
}

static PyMethodDef core_methods[] = {
    {"version", core_version, METH_NOARGS, "The engine's version, nnc_version() of nnc.h."},
    {"set_num_threads", core_set_num_threads, METH_O,
     "Threads the engine uses (1..256); results do not depend on it."},
    {"get_num_threads", core_get_num_threads, METH_NOARGS, "Threads the engine uses."},
    {"set_kernel_arch", core_set_kernel_arch, METH_O,
     "Switch the kernel set: 'ref', 'avx2', 'avx512' or 'auto'/None (tests, benchmarks)."},
    {"get_kernel_arch", core_get_kernel_arch, METH_NOARGS, "The kernel set in use."},
    {"supported_kernel_archs", core_supported_kernel_archs, METH_NOARGS,
     "The kernel sets this CPU can run, e.g. ['ref', 'avx2', 'avx512']."},
    {"names", core_names, METH_O,
     "Canonical names of a kind: activation, loss, initializer, optimizer."},
    {"canonical_name", core_canonical_name, METH_VARARGS,
     "canonical_name(kind, name) -> canonical name; ValueError if unknown."},
    {"all_finite", core_all_finite, METH_O, "True if a float array has no NaN or infinity."},
    {"elementwise", core_elementwise, METH_VARARGS,
     "elementwise(op, x, a, out): the activations' element-wise kernel (accuracy tests)."},
    {"after_fork_in_child", core_after_fork_in_child, METH_NOARGS,
     "Run by os.fork in the child (nnc/model.py registers it): fresh model locks."},
    {"optimizer_defaults", core_optimizer_defaults, METH_O,
     "torch.optim's defaults of an optimizer: {field: value} for the fields it reads."},
    {"schedule_value", core_schedule_value, METH_VARARGS,
     "schedule_value((name, params, points, values), step) -> the learning rate at that step."},
    {"check_optimizer", core_check_optimizer, METH_VARARGS,
     "check_optimizer(name, {field: value}) -> the fields it reads; ValueError/TypeError naming a "
     "bad field."},
    {"check_compile", core_check_compile, METH_VARARGS,
     "check_compile(output_activation, has_dropout, loss, l2, optimizer_name, {field: value})."},
    {"count_params", core_count_params, METH_VARARGS,
     "count_params(input_dim, layer_specs) -> the parameter count, without building."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "nnc._core", "The nnc engine (C) wrapped for Python.", -1,
    core_methods,          NULL,        NULL,                                     NULL,
    NULL};

static int add_bytes(PyObject *module, const char *name, const char *data, size_t n) {
    PyObject *value = PyBytes_FromStringAndSize(data, (Py_ssize_t)n);
    const int rc = value ? PyModule_AddObjectRef(module, name, value) : -1;
    Py_XDECREF(value);
    return rc;
}

static void shutdown_threads(void) { nnc_thread_pool_shutdown(); }

PyMODINIT_FUNC PyInit__core(void) {
    import_array();
    /* Join the engine's worker threads when the interpreter exits (if the
     * at-exit table is full they simply end with the process). */
    (void)Py_AtExit(shutdown_threads);
    if (PyType_Ready(&core_ModelType) < 0 || PyType_Ready(&core_ProgressType) < 0 ||
        PyType_Ready(&core_FileReplacementType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    if (core_add_exceptions(m) < 0 ||
        PyModule_AddObjectRef(m, "Model", (PyObject *)&core_ModelType) < 0 ||
        PyModule_AddObjectRef(m, "Progress", (PyObject *)&core_ProgressType) < 0 ||
        PyModule_AddObjectRef(m, "FileReplacement", (PyObject *)&core_FileReplacementType) < 0 ||
        PyModule_AddIntConstant(m, "NNCB_FORMAT_VERSION", NNC_FORMAT_VERSION) < 0 ||
        add_bytes(m, "NNCB_MAGIC", NNC_FORMAT_MAGIC, sizeof NNC_FORMAT_MAGIC - 1) < 0 ||
        PyModule_AddStringConstant(m, "kernel_arch", nnc_kernel_arch()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
