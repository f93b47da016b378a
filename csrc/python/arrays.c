/*
 * arrays.c - the wrapper's strict array checks. Arrays must already have
 * the model's dtype and be C-contiguous and aligned (the Python facade
 * converts), so they reach the engine without a copy.
 */
#include "core.h"

int core_typenum(nnc_dtype dtype) { return dtype == NNC_FLOAT32 ? NPY_FLOAT32 : NPY_FLOAT64; }

static const char *type_name(int typenum) {
    return typenum == NPY_FLOAT32 ? "float32" : typenum == NPY_FLOAT64 ? "float64" : "int64";
}

PyArrayObject *core_check_array(PyObject *obj, const char *name, int typenum, int ndim,
                                npy_intp cols) {
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a numpy array", name);
        return NULL;
    }
    PyArrayObject *arr = (PyArrayObject *)obj;
    if (PyArray_TYPE(arr) != typenum) {
        PyErr_Format(PyExc_TypeError, "%s must have dtype %s", name, type_name(typenum));
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

/* Whether the model's compiled loss takes int64 class labels as targets. */
static int takes_labels(const nnc_model *model) {
    nnc_loss loss;
    return nnc_model_compile_settings(model, &loss, NULL, NULL) == NNC_OK &&
           loss == NNC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
}

int core_parse_batch(const nnc_model *model, PyObject *x, PyObject *y, PyObject *sw,
                     core_batch *out) {
    const int t = core_typenum(nnc_model_dtype(model));
    out->x = core_check_array(x, "x", t, 2, (npy_intp)nnc_model_input_dim(model));
    if (!out->x) return -1;
    out->rows = (int64_t)PyArray_DIM(out->x, 0);
    if (takes_labels(model))
        out->y = core_check_array(y, "y", NPY_INT64, 1, -1);
    else
        out->y = core_check_array(y, "y", t, 2, (npy_intp)nnc_model_output_dim(model));
    if (!out->y) return -1;
    if (PyArray_DIM(out->y, 0) != out->rows) {
        PyErr_Format(PyExc_ValueError, "y has %zd rows but x has %lld",
                     (Py_ssize_t)PyArray_DIM(out->y, 0), (long long)out->rows);
        return -1;
    }
    out->sw = NULL;
    if (sw && sw != Py_None) {
        out->sw = core_check_array(sw, "sample_weight", t, 1, -1);
        if (!out->sw) return -1;
        if (PyArray_DIM(out->sw, 0) != out->rows) {
            PyErr_Format(PyExc_ValueError, "sample_weight has %zd values but x has %lld rows",
                         (Py_ssize_t)PyArray_DIM(out->sw, 0), (long long)out->rows);
            return -1;
        }
    }
    return 0;
}

void *core_data(PyArrayObject *array) { return array ? PyArray_DATA(array) : NULL; }
