/* CPython bindings for a few libdemo functions. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <demo.h>

static PyObject *py_gcd(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(demo_gcd(a, b));
}

static PyObject *py_is_prime(PyObject *self, PyObject *args) {
    unsigned long n;
    if (!PyArg_ParseTuple(args, "k", &n)) return NULL;
    return PyBool_FromLong(demo_is_prime(n));
}

static PyObject *py_libversion(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(demo_version());
}

static PyMethodDef methods[] = {
    {"gcd", py_gcd, METH_VARARGS, "gcd(a, b): greatest common divisor (libdemo)"},
    {"is_prime", py_is_prime, METH_VARARGS, "is_prime(n): primality test (libdemo)"},
    {"libversion", py_libversion, METH_NOARGS, "version of the libdemo linked against"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pydemo", "libdemo bindings", -1, methods};

PyMODINIT_FUNC PyInit__pydemo(void) { return PyModule_Create(&module); }
