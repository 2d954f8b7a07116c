# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 4 Pieces to feet (kernels/reference.py step 5).

from kernels._frame_state cimport FrameState

cdef void _assign(FrameState st, int n_pieces) noexcept nogil
