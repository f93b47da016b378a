/*
 * errors.c - engine statuses as Python exceptions. Each status has its own
 * class, a subclass of EngineError and of the built-in exception the facade
 * raised for it before (so `except ValueError` keeps working), with the
 * status code as the class attribute `status`. I/O failures are OSError
 * with the errno the engine left (FileNotFoundError, PermissionError, ...)
 * and `status` set on the instance.
 */
#include "core.h"

#include <errno.h>

typedef struct {
    nnc_status status;
    const char *name; /* nnc._core.<name>, re-exported by nnc.errors */
    const char *doc;
} error_kind;

static const error_kind kinds[] = {
    {NNC_ERR_INVALID_ARG, "InvalidArgumentError", "An argument the engine refuses."},
    {NNC_ERR_NOMEM, "OutOfMemoryError", "The engine could not allocate memory."},
    {NNC_ERR_OVERFLOW, "SizeOverflowError", "A size beyond the engine's limits."},
    {NNC_ERR_SHAPE, "ShapeError", "Array sizes inconsistent with the model."},
    {NNC_ERR_UNSUPPORTED, "UnsupportedError", "A valid request the engine cannot honour."},
    {NNC_ERR_STATE, "StateError", "Calls in the wrong order (e.g. training before compile)."},
    {NNC_ERR_NONFINITE, "NonFiniteError", "A loss, gradient or input became NaN or infinite."},
    {NNC_ERR_INTERRUPTED, "TrainingInterrupted", "An epoch was stopped on request."},
    {NNC_ERR_FORMAT, "FormatError", "A serialized model or optimizer state is malformed."},
};
#define N_KINDS ((int)(sizeof kinds / sizeof kinds[0]))

/* The built-in each status raised before the statuses had classes. */
static PyObject *builtin_for(nnc_status status) {
    switch (status) {
    case NNC_ERR_NOMEM:
    case NNC_ERR_OVERFLOW: return PyExc_MemoryError;
    case NNC_ERR_STATE:
    case NNC_ERR_INTERRUPTED: return PyExc_RuntimeError;
    default: return PyExc_ValueError;
    }
}

static PyObject *classes[N_KINDS];

int core_add_exceptions(PyObject *module) {
    PyObject *base = PyErr_NewExceptionWithDoc(
        "nnc._core.EngineError",
        "An error status of the C engine; `status` is its nnc_status code.", NULL, NULL);
    if (!base || PyObject_SetAttrString(base, "status", Py_None) < 0 ||
        PyModule_AddObjectRef(module, "EngineError", base) < 0)
        goto fail;
    for (int i = 0; i < N_KINDS; i++) {
        char qualified[64];
        PyOS_snprintf(qualified, sizeof qualified, "nnc._core.%s", kinds[i].name);
        PyObject *bases = PyTuple_Pack(2, base, builtin_for(kinds[i].status));
        PyObject *status = bases ? PyLong_FromLong((long)kinds[i].status) : NULL;
        PyObject *cls = status ? PyErr_NewExceptionWithDoc(qualified, kinds[i].doc, bases, NULL)
                               : NULL;
        Py_XDECREF(bases);
        if (!cls || PyObject_SetAttrString(cls, "status", status) < 0 ||
            PyModule_AddObjectRef(module, kinds[i].name, cls) < 0) {
            Py_XDECREF(status);
            Py_XDECREF(cls);
            goto fail;
        }
        Py_DECREF(status);
        classes[i] = cls; /* the module keeps a reference; this one is ours */
    }
    Py_DECREF(base);
    return 0;
fail:
    Py_XDECREF(base);
    return -1;
}

static PyObject *raise_os_error(nnc_status status, int err, PyObject *path) {
    PyObject *exc = path ? PyObject_CallFunction(PyExc_OSError, "isO", err, nnc_last_error(), path)
                         : PyObject_CallFunction(PyExc_OSError, "is", err, nnc_last_error());
    PyObject *code = exc ? PyLong_FromLong((long)status) : NULL;
    if (code && PyObject_SetAttrString(exc, "status", code) == 0)
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_XDECREF(code);
    Py_XDECREF(exc);
    return NULL;
}

PyObject *core_raise_message(nnc_status status, const char *message) {
    for (int i = 0; i < N_KINDS; i++)
        if (kinds[i].status == status && classes[i]) {
            PyErr_SetString(classes[i], message);
            return NULL;
        }
    PyErr_Format(PyExc_RuntimeError, "engine status %d: %s", (int)status, message);
    return NULL;
}

PyObject *core_raise_for_path(nnc_status status, PyObject *path) {
    if (status == NNC_ERR_IO) return raise_os_error(status, errno, path);
    return core_raise_message(status, nnc_last_error());
}

PyObject *core_raise(nnc_status status) { return core_raise_for_path(status, NULL); }
