/*
 * optimizer.c - optimizer settings between Python dicts and
 * nnc_optimizer_config, driven by the engine's field table (names and
 * types from nnc_optimizer_field_info): nothing here lists the fields.
 * The engine checks the ranges; this file only checks Python types.
 */
#include "core.h"

#include <math.h>

static int set_field(nnc_optimizer_config *cfg, int i, const char *name, nnc_field_type type,
                     PyObject *value) {
    double v;
    if (type == NNC_FIELD_FLAG) {
        if (!PyBool_Check(value)) {
            PyErr_Format(PyExc_TypeError, "%s: expected True or False, got %R", name, value);
            return -1;
        }
        v = value == Py_True ? 1.0 : 0.0;
    } else if (PyBool_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a number, got %R", name, value);
        return -1;
    } else if (type == NNC_FIELD_INT) {
        PyObject *index = PyNumber_Index(value);
        if (!index) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s: expected an integer, got %R", name, value);
            return -1;
        }
        v = PyLong_AsDouble(index); /* exact below 2^53; beyond, the range check refuses */
        Py_DECREF(index);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            v = HUGE_VAL;
        }
    } else {
        v = PyFloat_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s: expected a number, got %R", name, value);
            return -1;
        }
    }
    nnc_status st = nnc_optimizer_config_set(cfg, i, v);
    return st ? (core_raise(st), -1) : 0;
}

int core_parse_optimizer(const char *name, PyObject *options, nnc_optimizer_config *cfg) {
    nnc_optimizer_kind kind;
    nnc_status st = nnc_optimizer_from_name(name, &kind);
    if (st) {
        core_raise(st);
        return -1;
    }
    if (!PyDict_Check(options)) {
        PyErr_SetString(PyExc_TypeError, "optimizer options must be a dict");
        return -1;
    }
    nnc_optimizer_config_default(cfg, kind);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(options, &pos, &key, &value)) {
        const char *field = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        if (!field) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "unknown optimizer option %R", key);
            return -1;
        }
        int i;
        nnc_field_type type;
        if ((st = nnc_optimizer_field_index(field, &i)) ||
            (st = nnc_optimizer_field_info(i, NULL, &type))) {
            core_raise(st);
            return -1;
        }
        if (value != Py_None && set_field(cfg, i, field, type, value)) return -1;
    }
    return 0;
}

PyObject *core_optimizer_options(const nnc_optimizer_config *cfg) {
    PyObject *out = PyDict_New();
    for (int i = 0; out && i < nnc_optimizer_num_fields(); i++) {
        const char *name;
        nnc_field_type type;
        double v;
        if (!nnc_optimizer_uses_field(cfg->kind, i)) continue;
        nnc_optimizer_field_info(i, &name, &type);
        nnc_optimizer_config_get(cfg, i, &v);
        PyObject *item = type == NNC_FIELD_REAL  ? PyFloat_FromDouble(v)
                         : type == NNC_FIELD_INT ? PyLong_FromDouble(v)
                                                 : PyBool_FromLong(v != 0.0);
        if (!item || PyDict_SetItemString(out, name, item) < 0) Py_CLEAR(out);
        Py_XDECREF(item);
    }
    return out;
}
