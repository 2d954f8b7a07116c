# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled IIR recursion; the specification is kernels.iir.lfilter_reference (same
arithmetic in the same order). Use kernels.iir, not this module."""

import numpy as np

cimport numpy as cnp


def lfilter_columns(double[::1] b, double[::1] a, double[:, ::1] x, double[:, ::1] zi):
    """Direct form II transposed along axis 0 of ``x`` (samples x columns), ``a[0] == 1``.

    ``zi`` (order x columns) is the initial state; returns the filtered copy of ``x``.
    """
    cdef Py_ssize_t n = x.shape[0], cols = x.shape[1], order = b.shape[0] - 1
    cdef Py_ssize_t t, c, i
    cdef double xv, yv
    out = np.empty((n, cols), dtype=np.float64)
    cdef double[:, ::1] y = out
    cdef double[::1] z = np.empty(order, dtype=np.float64)
    for c in range(cols):
        for i in range(order):
            z[i] = zi[i, c]
        for t in range(n):
            xv = x[t, c]
            yv = z[0] + b[0] * xv
            for i in range(order - 1):
                z[i] = z[i + 1] + xv * b[i + 1] - yv * a[i + 1]
            z[order - 1] = xv * b[order] - yv * a[order]
            y[t, c] = yv
    return out
