# Per-frame analysis, compiled: docs/frame-analysis.md, the stance footprint and
# track_id of each foot ("What you get per mat frame"; kernels/reference.py step 6).

from kernels._frame_state cimport FrameState

cdef void _clear_slot(FrameState st, int s) noexcept nogil
cdef double _update_feet(FrameState st, int n_pieces) noexcept nogil
