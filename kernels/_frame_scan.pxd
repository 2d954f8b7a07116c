# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# steps 1 Threshold and 2 Blobs (kernels/reference.py steps 1-3: clean, totals, blobs).

from kernels._frame_state cimport FrameState

cdef void _scan(FrameState st, const float* f, int* n_inv, int* n_neg, double* total, double* spx,
                double* spy, double* peak) noexcept nogil
cdef int _label(FrameState st) noexcept nogil
cdef int select_rows(int avx2) noexcept nogil
