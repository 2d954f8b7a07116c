# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 3 Two feet in one blob (kernels/reference.py step 4).

from kernels._frame_state cimport FrameState

cdef int _split(FrameState st, int K) noexcept nogil
cdef void _piece_stats(FrameState st, int K, int n_pieces) noexcept nogil
