# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# Per-frame analysis, compiled: docs/frame-analysis.md, "Insoles": force, COP, peak and
# region loads of one insole frame (compiled twin of kernels.reference.InsoleKernel).

cimport numpy as cnp
from libc.math cimport INFINITY

from kernels.errors import FrameError
from kernels.insole import InsoleResult, check_insole_frame

cnp.import_array()


cdef class InsoleKernel:
    """Compiled twin of :class:`kernels.reference.InsoleKernel`."""

    cdef int n
    cdef double[::1] x, y, area
    cdef int[::1] region
    cdef double thr, min_force

    def __init__(self, geometry):
        self.n = geometry.n
        self.x = geometry.x_mm
        self.y = geometry.y_mm
        self.area = geometry.area_mm2
        self.region = geometry.region
        self.thr = geometry.threshold_kpa
        self.min_force = geometry.min_force_n

    def analyze(self, frame):
        if not (cnp.PyArray_Check(frame)
                and cnp.PyArray_TYPE(<cnp.ndarray>frame) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(<cnp.ndarray>frame) == 1
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 0) == self.n
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>frame)):
            check_insole_frame(frame, self.n)
            raise FrameError("unsupported insole frame")
        cdef const float* f = <const float*>cnp.PyArray_DATA(<cnp.ndarray>frame)
        cdef int i, n_inv = 0, n_neg = 0
        cdef double v, load, total = 0.0, sx = 0.0, sy = 0.0, peak = 0.0
        cdef double reg[3]
        reg[0] = 0.0
        reg[1] = 0.0
        reg[2] = 0.0
        for i in range(self.n):
            v = f[i]
            if v != v or v == INFINITY or v == -INFINITY:
                n_inv += 1
                continue
            if v < 0:
                n_neg += 1
                continue
            if v > peak:
                peak = v
            if v < self.thr:
                continue
            load = v * self.area[i]
            total += load
            sx += load * self.x[i]
            sy += load * self.y[i]
            reg[self.region[i]] += load
        force = total * 1e-3
        cop = None
        if force >= self.min_force and total > 0:
            cop = (sx / total, sy / total)
        return InsoleResult(force, cop, (reg[0] * 1e-3, reg[1] * 1e-3, reg[2] * 1e-3), peak,
                            n_inv, n_neg)
