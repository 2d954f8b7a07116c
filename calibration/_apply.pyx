# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""counts -> kPa, compiled. The specification is calibration/apply_reference.py."""

from libc.math cimport floor as c_floor

import numpy as np


def apply_counts(const unsigned short[::1] counts, const float[::1] offset, const float[::1] inv_gain,
                 const float[::1] floor_n, const float[::1] table, double inv_step,
                 const int[::1] fill_idx, const int[::1] nb_ptr, const int[::1] nb_idx, float[::1] out):
    cdef Py_ssize_t n = counts.shape[0]
    cdef Py_ssize_t last = table.shape[0] - 1
    cdef Py_ssize_t s, i, j, k
    cdef float v
    cdef double pos, frac, acc
    with nogil:
        for s in range(n):
            v = (<float>counts[s] - offset[s]) * inv_gain[s]
            if v <= floor_n[s]:
                out[s] = 0.0
                continue
            pos = <double>v * inv_step
            if pos >= last:
                out[s] = table[last]
                continue
            i = <Py_ssize_t>c_floor(pos)
            frac = pos - i
            out[s] = <float>(table[i] + (table[i + 1] - table[i]) * frac)
        for j in range(fill_idx.shape[0]):
            acc = 0.0
            for k in range(nb_ptr[j], nb_ptr[j + 1]):
                acc += out[nb_idx[k]]
            if nb_ptr[j + 1] > nb_ptr[j]:
                out[fill_idx[j]] = <float>(acc / (nb_ptr[j + 1] - nb_ptr[j]))
            else:
                out[fill_idx[j]] = 0.0
