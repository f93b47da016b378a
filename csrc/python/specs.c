/*
 * specs.c - layer specs between the facade's tuples and nnc_layer_spec:
 * (units, activation, use_bias, input_dropout, kernel_init, kernel_param,
 * bias_init, bias_param), names as the engine spells them.
 */
#include "core.h"

static int parse_spec(PyObject *item, int index, nnc_layer_spec *spec) {
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
        core_raise(st);
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

int core_parse_specs(PyObject *layers, nnc_layer_spec **specs, int *n_layers) {
    *specs = NULL;
    PyObject *seq = PySequence_Fast(layers, "layers must be a sequence of layer specs");
    if (!seq) return -1;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int rc = -1;
    if (n < 1 || n > 100000) {
        PyErr_SetString(PyExc_ValueError, "a model needs 1 to 100000 Dense layers");
        goto finally;
    }
    *specs = PyMem_Calloc((size_t)n, sizeof **specs);
    if (!*specs) {
        PyErr_NoMemory();
        goto finally;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (parse_spec(PySequence_Fast_GET_ITEM(seq, i), (int)i, &(*specs)[i])) goto finally;
    *n_layers = (int)n;
    rc = 0;
finally:
    if (rc) {
        PyMem_Free(*specs);
        *specs = NULL;
    }
    Py_DECREF(seq);
    return rc;
}

PyObject *core_spec_tuple(const nnc_layer_spec *s) {
    return Py_BuildValue("(LsOdsdsd)", (long long)s->units, nnc_activation_name(s->activation),
                         s->use_bias ? Py_True : Py_False, s->input_dropout,
                         nnc_init_name(s->kernel_init), s->kernel_init_param,
                         nnc_init_name(s->bias_init), s->bias_init_param);
}
