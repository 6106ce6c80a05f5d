/*
 * aqe_ci.ingest.stream._stream_c -- C twin of aqe_ci.ingest.stream.surrogates.find_escape.
 *
 * find_escape(data, start) is the index of the first "\u" followed by 'd' or 'D' in the bytes
 * `data` at or after `start` (the start of every possible surrogate escape of JSON), or -1. The
 * lone-surrogate filter calls it on every block of every JSON report: with no such escape the
 * block passes unchanged, and scanning is the filter's whole cost, so it runs at memchr speed here.
 * The Python twin (two bytes.find calls) is the reference; tests/ingest/fuzz_accel.py compares them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *find_escape(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start = 0;
    if (!PyArg_ParseTuple(args, "y*|n", &view, &start))
        return NULL;
    const char *data = view.buf;
    Py_ssize_t n = view.len, found = -1;
    if (start < 0)
        start = 0;
    const char *p = start < n ? data + start : NULL;
    while (p != NULL) {
        Py_ssize_t left = n - (p - data);
        p = memchr(p, '\\', (size_t)left);
        if (p == NULL)
            break;
        Py_ssize_t i = p - data;
        if (i + 2 < n && data[i + 1] == 'u' && (data[i + 2] == 'd' || data[i + 2] == 'D')) {
            found = i;
            break;
        }
        p = i + 1 < n ? p + 1 : NULL;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(found);
}

static PyMethodDef methods[] = {
    {"find_escape", find_escape, METH_VARARGS,
     "find_escape(data, start=0) -> index of the first b'\\\\ud'/b'\\\\uD' at or after start, or -1"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_stream_c",
    "C twin of aqe_ci.ingest.stream.surrogates.find_escape (the Python code is the reference).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__stream_c(void)
{
    return PyModule_Create(&module_def);
}
