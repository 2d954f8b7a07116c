"""Result types of the per-frame mat analysis (pure-Python face).

:class:`FootResult` and :class:`FrameResult` are what ``FrameAnalyzer.analyze``
returns. When the compiled kernel is built, ``kernels.frame`` exports its
C-backed twins instead (same attribute names, units and meaning, built in a
fraction of the time); code should rely only on the attributes below, on
``as_dict()`` and on ``left`` / ``right``. Treat results as read-only.

Units and coordinates: DESIGN 3 (mm on the mat, x to the patient's right, y
forward; force N; pressure kPa).
"""

from __future__ import annotations

from dataclasses import dataclass

LEFT = "left"
RIGHT = "right"

#: Attribute names of a foot result, in constructor order.
FOOT_FIELDS = (
    "track_id", "side", "force_n", "cop_mm", "contact_area_mm2", "peak_kpa", "regions_n",
    "axis_deg", "length_mm", "heel_mm", "toe_mm", "bbox_rc", "footprint_area_mm2", "frames",
)
#: Attribute names of a frame result, in constructor order.
FRAME_FIELDS = (
    "force_n", "cop_mm", "feet", "contact_area_mm2", "peak_kpa", "stray_force_n",
    "invalid_sensels", "negative_sensels",
)


@dataclass(slots=True)
class FootResult:
    """One foot in one frame.

    ``regions_n``, ``axis_deg``, ``length_mm``, ``heel_mm``, ``toe_mm`` and
    ``footprint_area_mm2`` describe the foot's *stance footprint*: every sensel
    the foot has loaded since this contact began (so a heel strike loads the
    rearfoot and a toe-off the forefoot). ``regions_n`` is None while that
    footprint is shorter than ``min_region_length_mm`` (a heel alone cannot be
    split) and no longer footprint of the same side is known.
    """

    track_id: int  # stable while the foot stays on the mat; a new contact gets a new id
    side: str | None  # 'left', 'right' or None while unknown
    force_n: float
    cop_mm: tuple[float, float]  # (x, y) on the mat
    contact_area_mm2: float  # sensels at or above threshold in this frame
    peak_kpa: float
    regions_n: tuple[float, float, float] | None  # (rearfoot, midfoot, forefoot) N
    axis_deg: float  # heel-to-toe direction, degrees from +x, in [0, 180) (90 = straight ahead)
    length_mm: float  # stance footprint length along the axis
    heel_mm: tuple[float, float]  # rear end of the footprint on its long axis
    toe_mm: tuple[float, float]  # front end of the footprint on its long axis
    bbox_rc: tuple[int, int, int, int]  # (row_min, col_min, row_max, col_max), inclusive, this frame
    footprint_area_mm2: float  # area of the stance footprint
    frames: int  # frames since this contact began (1 on the first)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in FOOT_FIELDS}


@dataclass(slots=True)
class FrameResult:
    """Everything the kiosk needs from one mat frame."""

    force_n: float  # all sensels at or above threshold
    cop_mm: tuple[float, float] | None  # None when force_n < min_force_n
    feet: tuple[FootResult, ...]  # 0..2 feet: left, right, then side unknown (by COP x)
    contact_area_mm2: float
    peak_kpa: float  # highest valid pressure anywhere on the frame
    stray_force_n: float  # force in blobs that belong to no foot (noise, a cane tip...)
    invalid_sensels: int  # NaN or infinite values, treated as 0
    negative_sensels: int  # negative values, treated as 0

    @property
    def left(self) -> FootResult | None:
        for foot in self.feet:
            if foot.side == LEFT:
                return foot
        return None

    @property
    def right(self) -> FootResult | None:
        for foot in self.feet:
            if foot.side == RIGHT:
                return foot
        return None

    def as_dict(self) -> dict:
        out = {name: getattr(self, name) for name in FRAME_FIELDS}
        out["feet"] = [foot.as_dict() for foot in self.feet]
        return out
