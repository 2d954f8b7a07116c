# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# Per-frame analysis, compiled: docs/frame-analysis.md, "What you get per mat frame":
# FrameResult and FootResult, read-only and cheap to create at 100+ frames a second
# (fields declared in _frame_results.pxd; the Python twins are in kernels/results.py).

cimport cython

from kernels.results import FOOT_FIELDS, FRAME_FIELDS, LEFT, RIGHT


@cython.no_gc  # holds no Python containers that could form a cycle: skip GC tracking
cdef class FootResult:
    """One foot in one frame (C-backed twin of :class:`kernels.results.FootResult`;
    same attributes and meaning, see there). Read-only."""

    def __init__(self, track_id, side, force_n, cop_mm, contact_area_mm2, peak_kpa, regions_n,
                 axis_deg, length_mm, heel_mm, toe_mm, bbox_rc, footprint_area_mm2, frames):
        self.track_id = track_id
        self.side = side
        self.force_n = force_n
        self.cx, self.cy = cop_mm
        self.contact_area_mm2 = contact_area_mm2
        self.peak_kpa = peak_kpa
        self.has_regions = regions_n is not None
        if self.has_regions:
            self.rear, self.mid, self.fore = regions_n
        self.axis_deg = axis_deg
        self.length_mm = length_mm
        self.hx, self.hy = heel_mm
        self.tx, self.ty = toe_mm
        self.b0, self.b1, self.b2, self.b3 = bbox_rc
        self.footprint_area_mm2 = footprint_area_mm2
        self.frames = frames

    @property
    def cop_mm(self):
        return (self.cx, self.cy)

    @property
    def regions_n(self):
        return (self.rear, self.mid, self.fore) if self.has_regions else None

    @property
    def heel_mm(self):
        return (self.hx, self.hy)

    @property
    def toe_mm(self):
        return (self.tx, self.ty)

    @property
    def bbox_rc(self):
        return (self.b0, self.b1, self.b2, self.b3)

    def as_dict(self):
        return {name: getattr(self, name) for name in FOOT_FIELDS}

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in FOOT_FIELDS)
        return f"FootResult({inner})"


@cython.no_gc  # holds no Python containers that could form a cycle: skip GC tracking
cdef class FrameResult:
    """Everything from one mat frame (C-backed twin of :class:`kernels.results.FrameResult`;
    same attributes and meaning, see there). Read-only."""

    def __init__(self, force_n, cop_mm, feet, contact_area_mm2, peak_kpa, stray_force_n,
                 invalid_sensels, negative_sensels):
        self.force_n = force_n
        self.has_cop = cop_mm is not None
        if self.has_cop:
            self.cx, self.cy = cop_mm
        self.feet = tuple(feet)
        self.contact_area_mm2 = contact_area_mm2
        self.peak_kpa = peak_kpa
        self.stray_force_n = stray_force_n
        self.invalid_sensels = invalid_sensels
        self.negative_sensels = negative_sensels

    @property
    def cop_mm(self):
        return (self.cx, self.cy) if self.has_cop else None

    @property
    def left(self):
        for foot in self.feet:
            if foot.side == LEFT:
                return foot
        return None

    @property
    def right(self):
        for foot in self.feet:
            if foot.side == RIGHT:
                return foot
        return None

    def as_dict(self):
        out = {name: getattr(self, name) for name in FRAME_FIELDS}
        out["feet"] = [foot.as_dict() for foot in self.feet]
        return out

    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in FRAME_FIELDS)
        return f"FrameResult({inner})"

