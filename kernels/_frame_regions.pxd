# Per-frame analysis, compiled: docs/frame-analysis.md, "Regions" and the per-foot
# fields of "What you get per mat frame" (kernels/reference.py step 6, per foot).

from kernels._frame_state cimport FrameState

cdef tuple _feet(FrameState st)
