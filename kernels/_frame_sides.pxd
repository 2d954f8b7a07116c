# Per-frame analysis, compiled: docs/frame-analysis.md, "Sides"
# (kernels/reference.py step 7).

from kernels._frame_state cimport FrameState

cdef void _decide_sides(FrameState st) noexcept nogil
