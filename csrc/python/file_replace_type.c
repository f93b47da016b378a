/*
 * file_replace_type.c - nnc._core.FileReplacement: the engine's safe file
 * replacement (nnc_file_replace_begin in nnc.h) for Python's savers, so
 * the .npz and .nncb writers follow the one rule the C library follows.
 *
 *     r = FileReplacement(path)    # the temporary file is created
 *     os.write(r.fileno(), data)   # (or os.fdopen(os.dup(r.fileno())))
 *     r.commit()                   # fsync, rename over path, fsync dir
 *
 * abort() (or dropping an uncommitted object) removes the temporary file.
 */
#include "core.h"

#include <errno.h>

typedef struct {
    PyObject_HEAD
    nnc_file_replace *replacement; /* NULL once committed or aborted */
    PyObject *path;                /* the target as given, for error messages */
} ReplacementObject;

static int replacement_init(ReplacementObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"path", NULL};
    PyObject *path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&:FileReplacement", kwlist,
                                     PyUnicode_FSConverter, &path))
        return -1;
    if (self->replacement) {
        nnc_file_replace_abort(self->replacement);
        self->replacement = NULL;
    }
    PyObject *shown = PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(path),
                                                       PyBytes_GET_SIZE(path));
    if (!shown) {
        Py_DECREF(path);
        return -1;
    }
    Py_XSETREF(self->path, shown);
    nnc_file_replace *r = NULL;
    nnc_status st;
    const char *c_path = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    st = nnc_file_replace_begin(c_path, &r);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st) {
        core_raise_for_path(st, self->path);
        return -1;
    }
    self->replacement = r;
    return 0;
}

static PyObject *finished(void) {
    PyErr_SetString(PyExc_ValueError, "FileReplacement: already committed or aborted");
    return NULL;
}

static PyObject *replacement_fileno(ReplacementObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!self->replacement) return finished();
    return PyLong_FromLong(nnc_file_replace_fd(self->replacement));
}

static PyObject *replacement_commit(ReplacementObject *self, PyObject *Py_UNUSED(ignored)) {
    if (!self->replacement) return finished();
    nnc_file_replace *r = self->replacement;
    self->replacement = NULL;
    nnc_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nnc_file_replace_commit(r);
    Py_END_ALLOW_THREADS
    return st ? core_raise_for_path(st, self->path) : Py_NewRef(Py_None);
}

static PyObject *replacement_abort(ReplacementObject *self, PyObject *Py_UNUSED(ignored)) {
    if (self->replacement) {
        nnc_file_replace_abort(self->replacement);
        self->replacement = NULL;
    }
    Py_RETURN_NONE;
}

static void replacement_dealloc(ReplacementObject *self) {
    if (self->replacement) nnc_file_replace_abort(self->replacement);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef replacement_methods[] = {
    {"fileno", (PyCFunction)replacement_fileno, METH_NOARGS,
     "The descriptor of the temporary file to write the new contents to."},
    {"commit", (PyCFunction)replacement_commit, METH_NOARGS,
     "fsync the temporary file, rename it over the target, fsync the directory."},
    {"abort", (PyCFunction)replacement_abort, METH_NOARGS,
     "Remove the temporary file; the target stays as it was."},
    {NULL, NULL, 0, NULL}};

PyTypeObject core_FileReplacementType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nnc._core.FileReplacement",
    .tp_basicsize = sizeof(ReplacementObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "FileReplacement(path): replace `path` safely (nnc_file_replace_begin in nnc.h).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)replacement_init,
    .tp_dealloc = (destructor)replacement_dealloc,
    .tp_methods = replacement_methods,
};
