# Per-frame analysis, compiled: docs/frame-analysis.md, "How the feet are found",
# step 5 Tandem walking (part of kernels/reference.py step 5).

from kernels._frame_state cimport FrameState

cdef bint _beside(FrameState st, int s, int np_) noexcept nogil
cdef bint _beyond_toes(FrameState st, int s, int np_) noexcept nogil
