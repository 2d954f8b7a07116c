# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled per-frame mat and insole analysis.

The specification is ``kernels/reference.py``: the same steps, in the same
order, with the same tie-breaks, so results agree to rounding (the tests hold
them to 1e-6 relative). Use ``kernels.FrameAnalyzer`` / ``kernels.InsoleAnalyzer``,
not this module.

This module runs the steps of docs/frame-analysis.md in order; each step is a
file of its own, included here (the list is in ``_frame.pxd``, which declares
what they share). Speed notes: every buffer is allocated once per analyzer; a
frame is read once (full scan), after which all work runs over the list of
active sensels only. Labels and the previous frame's foot map are reset sensel
by sensel from the lists that set them, not by clearing whole images.
"""

cimport numpy as cnp
from libc.math cimport INFINITY, nextafterf
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

# The C types under other names: the Python names are this module's exports
# (kernels.frame takes FootResult / FrameResult from here), a cimport would hide them.
from kernels._frame_results cimport FootResult as CFootResult
from kernels._frame_results cimport FrameResult as CFrameResult

from kernels._frame_insole import InsoleKernel
from kernels._frame_results import FootResult, FrameResult
from kernels.errors import FrameError

cnp.import_array()

include "_frame_scan.pxi"
include "_frame_split.pxi"
include "_frame_assign.pxi"
include "_frame_tandem.pxi"
include "_frame_footprint.pxi"
include "_frame_sides.pxi"
include "_frame_regions.pxi"

#: True when the row scan uses AVX2 (picked once, at import, from what the CPU supports).
AVX2 = bool(select_rows(1))


def _use_avx2(on):
    """Tests: switch the empty-row scan to AVX2 (if the CPU has it) or to the baseline
    SSE2 / plain path; returns whether AVX2 is now used. Not for the live kiosk."""
    global AVX2
    AVX2 = bool(select_rows(1 if on else 0))
    return AVX2


cdef class FrameKernel:
    """Compiled twin of :class:`kernels.reference.FrameKernel` (fields: _frame.pxd)."""

    def __cinit__(self, params):
        cdef int n = params.rows * params.cols
        cdef int m = max(params.rows, params.cols)
        self.N = n
        self.xs = <double*>malloc(params.cols * sizeof(double))
        self.ys = <double*>malloc(params.rows * sizeof(double))
        self.act = <int*>malloc(n * sizeof(int))
        self.ar = <int*>malloc(n * sizeof(int))
        self.ac = <int*>malloc(n * sizeof(int))
        self.run_r = <int*>malloc(n * sizeof(int))
        self.run_c0 = <int*>malloc(n * sizeof(int))
        self.run_c1 = <int*>malloc(n * sizeof(int))
        self.run_k0 = <int*>malloc(n * sizeof(int))
        self.run_lab = <int*>malloc(n * sizeof(int))
        self.run_pid = <int*>malloc(n * sizeof(int))
        self.run_f = <double*>malloc(n * sizeof(double))
        self.run_sx = <double*>malloc(n * sizeof(double))
        self.run_pk = <double*>malloc(n * sizeof(double))
        self.foot_len = <int*>malloc(n * sizeof(int))
        self.parent = <int*>malloc(n * sizeof(int))
        self.root_id = <int*>malloc(n * sizeof(int))
        self.pid = <int*>malloc(n * sizeof(int))
        self.cfirst = <int*>malloc(n * sizeof(int))
        self.cr0 = <int*>malloc(n * sizeof(int))
        self.cr1 = <int*>malloc(n * sizeof(int))
        self.cc0 = <int*>malloc(n * sizeof(int))
        self.cc1 = <int*>malloc(n * sizeof(int))
        self.pn = <int*>malloc(n * sizeof(int))
        self.pforce = <double*>malloc(n * sizeof(double))
        self.pov0 = <int*>malloc(n * sizeof(int))
        self.pov1 = <int*>malloc(n * sizeof(int))
        self.pin0 = <int*>malloc(n * sizeof(int))
        self.pin1 = <int*>malloc(n * sizeof(int))
        self.gbuf = <int*>malloc(n * sizeof(int))
        self.pbuf = <int*>malloc(n * sizeof(int))
        self.plist = <int*>malloc(n * sizeof(int))
        self.owner = <int*>malloc(n * sizeof(int))
        self.released = <int*>malloc(n * sizeof(int))
        self.keys = <PieceKey*>malloc(n * sizeof(PieceKey))
        self.profile = <int*>malloc(m * sizeof(int))
        self.row_flag = <unsigned char*>malloc(params.rows)
        self.prev_slot = <signed char*>malloc(n * sizeof(signed char))
        self.foot_list = <int*>malloc(n * sizeof(int))
        self.fp = <unsigned char*>malloc(SLOTS * n * sizeof(unsigned char))
        if (self.xs == NULL or self.ys == NULL or self.act == NULL
                or self.ar == NULL or self.ac == NULL or self.run_r == NULL or self.run_c0 == NULL
                or self.run_c1 == NULL or self.run_k0 == NULL or self.run_lab == NULL
                or self.run_pid == NULL or self.run_f == NULL or self.run_sx == NULL
                or self.run_pk == NULL or self.foot_len == NULL
                or self.parent == NULL or self.root_id == NULL
                or self.pid == NULL or self.cfirst == NULL
                or self.cr0 == NULL or self.cr1 == NULL or self.cc0 == NULL or self.cc1 == NULL
                or self.pn == NULL or self.pforce == NULL or self.pov0 == NULL or self.pov1 == NULL
                or self.pin0 == NULL or self.pin1 == NULL or self.gbuf == NULL or self.pbuf == NULL
                or self.plist == NULL
                or self.owner == NULL or self.released == NULL or self.keys == NULL
                or self.profile == NULL or self.row_flag == NULL or self.prev_slot == NULL
                or self.foot_list == NULL or self.fp == NULL):
            raise MemoryError("FrameKernel buffers")

    def __dealloc__(self):
        free(self.xs); free(self.ys); free(self.act)
        free(self.ar); free(self.ac); free(self.run_r); free(self.run_c0); free(self.run_c1)
        free(self.run_k0); free(self.run_lab); free(self.run_pid); free(self.run_f)
        free(self.run_sx); free(self.run_pk); free(self.foot_len)
        free(self.parent); free(self.root_id); free(self.pid)
        free(self.cfirst); free(self.cr0); free(self.cr1); free(self.cc0)
        free(self.cc1); free(self.pn); free(self.pforce)
        free(self.pov0); free(self.pov1)
        free(self.pin0); free(self.pin1); free(self.gbuf); free(self.pbuf); free(self.plist)
        free(self.owner); free(self.released); free(self.keys)
        free(self.profile); free(self.row_flag); free(self.prev_slot); free(self.foot_list)
        free(self.fp)

    def __init__(self, params):
        cdef int i
        self.params = params
        self.R = params.rows
        self.C = params.cols
        self.py = params.row_pitch_mm
        self.px = params.col_pitch_mm
        self.thr = params.threshold_kpa
        self.thr_f = <float>self.thr
        if <double>self.thr_f < self.thr:
            self.thr_f = nextafterf(self.thr_f, INFINITY)
        self.min_force = params.min_force_n
        self.min_foot_force = params.min_foot_force_n
        self.max_len = params.max_foot_length_mm
        self.max_wid = params.max_foot_width_mm
        self.valley_ratio = params.valley_ratio
        self.side_min_dx = params.side_min_dx_mm
        self.min_region_len = params.min_region_length_mm
        self.fragment_gap = params.fragment_gap_mm
        self.full_footprint = params.full_footprint_mm
        self.arch_offset = params.arch_offset_mm
        self.area = self.py * self.px
        self.scale = self.area * 1e-3
        self.max_pitch = self.py if self.py > self.px else self.px
        for i in range(self.C):
            self.xs[i] = (i + 0.5) * self.px
        for i in range(self.R):
            self.ys[i] = (i + 0.5) * self.py
        self.reset()

    cpdef reset(self):
        cdef int s, i
        for i in range(self.N):
            self.prev_slot[i] = -1
        self.n_foot = 0
        for s in range(SLOTS):
            _clear_slot(self, s)
            self.new_track[s] = False
        self.next_track_id = 1
        for s in range(2):
            self.has_last_x[s] = False
            self.last_x[s] = 0.0
            self.foot_length[s] = 0.0
            self.stance_length[s] = 0.0

    def foot_labels(self):
        out = np.empty((self.R, self.C), dtype=np.int32)
        cdef int[:, ::1] view = out
        cdef int i
        for i in range(self.N):
            view[i // self.C, i % self.C] = (
                0 if self.prev_slot[i] < 0 else <int>self.slots[self.prev_slot[i]].track_id)
        return out

    def footprint(self, track_id):
        cdef int s
        cdef unsigned char[:, ::1] view
        for s in range(SLOTS):
            if self.slots[s].live and self.slots[s].track_id == track_id:
                out = np.empty((self.R, self.C), dtype=np.bool_)
                view = out.view(np.uint8)
                memcpy(&view[0, 0], &self.fp[s * self.N], self.N)
                return out
        return None

    def analyze(self, frame):
        cdef cnp.ndarray arr
        if not (cnp.PyArray_Check(frame)
                and cnp.PyArray_TYPE(<cnp.ndarray>frame) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(<cnp.ndarray>frame) == 2
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 0) == self.R
                and cnp.PyArray_DIM(<cnp.ndarray>frame, 1) == self.C
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>frame)):
            from kernels.frame import check_frame

            check_frame(frame, self.R, self.C)
            raise FrameError("unsupported frame")  # check_frame names the problem
        arr = <cnp.ndarray>frame
        cdef const float* f = <const float*>cnp.PyArray_DATA(arr)
        cdef int n_inv = 0, n_neg = 0, K = 0, n_pieces = 0
        cdef double total = 0.0, spx = 0.0, spy = 0.0, peak = 0.0, stray = 0.0
        self.fr = f
        # The GIL stays held: a frame takes a few µs, less than releasing and taking it
        # back costs (two mutex operations), and no other thread could use the gap.
        _scan(self, f, &n_inv, &n_neg, &total, &spx, &spy, &peak)  # 1 Threshold, 2 Blobs
        K = _label(self)
        n_pieces = _split(self, K)  # 3 Two feet in one blob
        self.split = n_pieces != K
        _piece_stats(self, K, n_pieces)
        _assign(self, n_pieces)  # 4 Pieces to feet, 5 Tandem walking
        stray = _update_feet(self, n_pieces)  # stance footprints and tracks
        _decide_sides(self)  # Sides
        cdef CFrameResult res = CFrameResult.__new__(CFrameResult)
        res.force_n = total * self.scale
        res.has_cop = res.force_n >= self.min_force and total > 0
        if res.has_cop:
            res.cx = spx / total
            res.cy = spy / total
        res.feet = _feet(self)  # Regions, per-foot results
        res.contact_area_mm2 = self.n_act * self.area
        res.peak_kpa = peak
        res.stray_force_n = stray * self.scale
        res.invalid_sensels = n_inv
        res.negative_sensels = n_neg
        return res
