# Per-frame analysis, compiled: docs/frame-analysis.md, "What you get per mat frame":
# the result types (C-backed twins of kernels/results.py, same attributes). Declared
# here so that _frame.pyx and _frame_regions.pyx fill their fields directly.

cdef class FootResult:
    cdef readonly long track_id
    cdef readonly object side
    cdef readonly double force_n, contact_area_mm2, peak_kpa, axis_deg, length_mm
    cdef readonly double footprint_area_mm2
    cdef readonly long frames
    cdef double cx, cy, hx, hy, tx, ty, rear, mid, fore
    cdef bint has_regions
    cdef int b0, b1, b2, b3


cdef class FrameResult:
    cdef readonly double force_n, contact_area_mm2, peak_kpa, stray_force_n
    cdef readonly tuple feet
    cdef readonly long invalid_sensels, negative_sensels
    cdef double cx, cy
    cdef bint has_cop
