/*
 * progress_type.c - nnc._core.Progress: the nnc_progress record a running
 * epoch writes without the GIL (batches done, running loss) and reads
 * (the stop request), readable from Python while it runs.
 */
#include "core.h"

#include <stddef.h>
#include <structmember.h>

#define FIELD(member) offsetof(core_ProgressObject, progress) + offsetof(nnc_progress, member)

static PyMemberDef progress_members[] = {
    {"batches_done", T_LONGLONG, FIELD(batches_done), READONLY,
     "batches finished in the running epoch"},
    {"batches_total", T_LONGLONG, FIELD(batches_total), READONLY, "batches in the running epoch"},
    {"samples_done", T_LONGLONG, FIELD(samples_done), READONLY,
     "rows finished in the running epoch"},
    {"loss_sum", T_DOUBLE, FIELD(loss_sum), READONLY, "sum over finished batches of rows * loss"},
    {"stop_requested", T_INT, FIELD(stop_requested), READONLY, "1 once a stop was requested"},
    {NULL, 0, 0, 0, NULL}};

static PyObject *progress_request_stop(core_ProgressObject *self, PyObject *Py_UNUSED(ignored)) {
    self->progress.stop_requested = 1;
    Py_RETURN_NONE;
}

static PyMethodDef progress_methods[] = {
    {"request_stop", (PyCFunction)progress_request_stop, METH_NOARGS,
     "Ask the running epoch to stop before its next batch (safe from any thread)."},
    {NULL, NULL, 0, NULL}};

PyTypeObject core_ProgressType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nnc._core.Progress",
    .tp_basicsize = sizeof(core_ProgressObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Progress of a running epoch, written by the engine without the GIL.",
    .tp_new = PyType_GenericNew,
    .tp_members = progress_members,
    .tp_methods = progress_methods,
};
