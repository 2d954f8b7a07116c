# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""counts -> kPa, compiled. The specification is calibration/apply_reference.py.

The per-model arrays are held by a ``Kernel`` so a frame costs two memoryview
acquisitions (counts in, kPa out), not ten.
"""

import numpy as np


cdef class Kernel:
    cdef const float[::1] offset
    cdef const float[::1] inv_gain
    cdef const float[::1] floor_n
    cdef const float[::1] table
    cdef double inv_step
    cdef const int[::1] fill_idx
    cdef const int[::1] nb_ptr
    cdef const int[::1] nb_idx

    def __init__(self, offset, inv_gain, floor_n, table, double inv_step, fill_idx, nb_ptr, nb_idx):
        self.offset = offset
        self.inv_gain = inv_gain
        self.floor_n = floor_n
        self.table = table
        self.inv_step = inv_step
        self.fill_idx = fill_idx
        self.nb_ptr = nb_ptr
        self.nb_idx = nb_idx

    def run(self, const unsigned short[::1] counts, float[::1] out):
        cdef Py_ssize_t n = counts.shape[0]
        cdef Py_ssize_t last = self.table.shape[0] - 1
        cdef Py_ssize_t s, i, j, k, nf = self.fill_idx.shape[0]
        cdef float v, pos, frac
        cdef double acc
        if self.offset.shape[0] != n or out.shape[0] != n:
            raise ValueError("counts, out and the calibration must have the same number of sensels")
        if n == 0:
            return
        # raw pointers: the compiler cannot hoist memoryview fields of self out of the loop
        cdef const unsigned short* c = &counts[0]
        cdef float* o = &out[0]
        cdef const float* off = &self.offset[0]
        cdef const float* ig = &self.inv_gain[0]
        cdef const float* fl = &self.floor_n[0]
        cdef const float* tab = &self.table[0]
        cdef float inv_step = <float>self.inv_step
        cdef const int* fi
        cdef const int* ptr
        cdef const int* nb
        with nogil:
            for s in range(n):
                v = (<float>c[s] - off[s]) * ig[s]
                # most sensels of a frame are unloaded: this branch is well predicted
                if v <= fl[s]:
                    o[s] = 0.0
                    continue
                pos = v * inv_step
                if pos >= last:
                    o[s] = tab[last]
                    continue
                i = <Py_ssize_t>pos
                frac = pos - <float>i
                o[s] = tab[i] + (tab[i + 1] - tab[i]) * frac
            if nf > 0:
                fi = &self.fill_idx[0]
                ptr = &self.nb_ptr[0]
                nb = &self.nb_idx[0] if self.nb_idx.shape[0] > 0 else NULL
                for j in range(nf):
                    acc = 0.0
                    for k in range(ptr[j], ptr[j + 1]):
                        acc += o[nb[k]]
                    if ptr[j + 1] > ptr[j]:
                        o[fi[j]] = <float>(acc / (ptr[j + 1] - ptr[j]))
                    else:
                        o[fi[j]] = 0.0
