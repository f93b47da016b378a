/*
 * optimizer.c - optimizer settings between Python dicts and
 * nnc_optimizer_config, driven by the engine's field table (names and
 * types from nnc_optimizer_field_info): nothing here lists the fields.
 * The engine checks the ranges; this file only checks Python types.
 *
 * The one key outside the table is "schedule": the learning-rate schedule
 * as (name, params, points, values), nnc_schedule's members (nnc.h), or
 * None for a constant rate.
 */
#include "core.h"

#include <math.h>
#include <string.h>

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

/* Up to `cap` floats of the sequence `seq` into out[]; *count = how many. */
static int parse_reals(PyObject *seq, double *out, int cap, int *count, const char *what) {
    PyObject *fast = PySequence_Fast(seq, "learning_rate: schedule parts must be sequences");
    if (!fast) return -1;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > cap) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "learning_rate: at most %d schedule %s, got %zd", cap,
                     what, n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        out[i] = PyBool_Check(item) ? (item == Py_True ? 1.0 : 0.0) : PyFloat_AsDouble(item);
        if (out[i] == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "learning_rate: schedule %s[%zd]: expected a number, "
                         "got %R", what, i, item);
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    *count = (int)n;
    return 0;
}

int core_parse_schedule(PyObject *spec, nnc_schedule *out) {
    memset(out, 0, sizeof *out);
    const char *name;
    PyObject *params, *points, *values;
    if (!PyTuple_Check(spec) || !PyArg_ParseTuple(spec, "sOOO", &name, &params, &points, &values)) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "learning_rate: expected a schedule (name, params, points, values), "
                         "got %R", spec);
        }
        return -1;
    }
    nnc_status st = nnc_schedule_from_name(name, &out->kind);
    if (st) return core_raise(st), -1;
    int n_params, n_values;
    if (parse_reals(params, out->param, NNC_SCHEDULE_PARAMS, &n_params, "params") ||
        parse_reals(points, out->points, NNC_SCHEDULE_MAX_POINTS, &out->n_points, "points") ||
        parse_reals(values, out->values, NNC_SCHEDULE_MAX_POINTS + 1, &n_values, "values"))
        return -1;
    if (out->kind == NNC_SCHEDULE_PIECEWISE && n_values != out->n_points + 1) {
        PyErr_Format(PyExc_ValueError,
                     "learning_rate: piecewise_constant_decay needs one value more than "
                     "boundaries, got %d boundaries and %d values", out->n_points, n_values);
        return -1;
    }
    if (out->kind != NNC_SCHEDULE_PIECEWISE && n_values != 0) {
        PyErr_SetString(PyExc_ValueError, "learning_rate: only piecewise_constant_decay takes values");
        return -1;
    }
    st = nnc_schedule_validate(out);
    return st ? (core_raise(st), -1) : 0;
}

PyObject *core_schedule_tuple(const nnc_schedule *s) {
    const int n_values = s->kind == NNC_SCHEDULE_PIECEWISE ? s->n_points + 1 : 0;
    PyObject *params = PyList_New(NNC_SCHEDULE_PARAMS), *points = PyList_New(s->n_points);
    PyObject *values = PyList_New(n_values);
    if (!params || !points || !values) goto fail;
    for (int i = 0; i < NNC_SCHEDULE_PARAMS; i++) {
        PyObject *f = PyFloat_FromDouble(s->param[i]);
        if (!f) goto fail;
        PyList_SET_ITEM(params, i, f);
    }
    for (int i = 0; i < s->n_points; i++) {
        PyObject *f = PyFloat_FromDouble(s->points[i]);
        if (!f) goto fail;
        PyList_SET_ITEM(points, i, f);
    }
    for (int i = 0; i < n_values; i++) {
        PyObject *f = PyFloat_FromDouble(s->values[i]);
        if (!f) goto fail;
        PyList_SET_ITEM(values, i, f);
    }
    return Py_BuildValue("(sNNN)", nnc_schedule_name(s->kind), params, points, values);
fail:
    Py_XDECREF(params);
    Py_XDECREF(points);
    Py_XDECREF(values);
    return NULL;
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
        if (strcmp(field, "schedule") == 0) {
            if (value != Py_None && core_parse_schedule(value, &cfg->schedule)) return -1;
            continue;
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
    if (out && cfg->schedule.kind != NNC_SCHEDULE_CONSTANT) {
        PyObject *spec = core_schedule_tuple(&cfg->schedule);
        if (!spec || PyDict_SetItemString(out, "schedule", spec) < 0) Py_CLEAR(out);
        Py_XDECREF(spec);
    }
    return out;
}
