"""Plane geometry for drills: where the feet stand and the zone the COP may use.

All in mat millimetres (DESIGN 3: x to the patient's right, y forward). The
"stance" is taken from the kernels' per-foot stance footprint (heel and toe
ends, footprint area) while the patient stands still before a drill starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The part of each foot the COP may use before the kiosk calls it a loss of
# balance: from 20 % to 85 % of foot length from the heel, and the middle 80 %
# of its width. A standing person's COP cannot reach the rim of the contact
# area, and a COP held near the rim means the centre of mass is already at or
# beyond the edge of the base of support (the functional base of support is
# smaller than the footprint; see docs/drills.md, "Safety"). These cut-offs are
# the kiosk's own, checked with the virtual patient: they fire on each kind of
# simulated fall and stay quiet in every drill's ordinary movement.
ZONE_ALONG = (0.20, 0.85)
ZONE_ACROSS = 0.80
# Forefoot width as a share of foot length for adults (foot breadth is about
# 0.37-0.40 of foot length in anthropometric surveys). The loaded footprint area
# over its length would understate it badly: the medial arch and the gaps
# between the toes carry no load.
WIDTH_PER_LENGTH = 0.38
# Default limits of stability stay at least this far inside the safe zone (quiet sway is a few mm).
LIMIT_MARGIN_MM = 15.0


@dataclass(frozen=True)
class FootGeometry:
    """One foot's placement: heel point, unit heel-to-toe axis, length and width (mm)."""

    side: str | None
    heel_mm: tuple[float, float]
    axis: tuple[float, float]
    length_mm: float
    width_mm: float

    @classmethod
    def from_foot(cls, foot) -> FootGeometry | None:
        """From a :class:`kernels.frame.FootResult` (its stance footprint), or None if too short."""
        hx, hy = foot.heel_mm
        tx, ty = foot.toe_mm
        d = math.hypot(tx - hx, ty - hy)
        if not d > 0 or not foot.length_mm > 0:
            return None
        width = WIDTH_PER_LENGTH * float(foot.length_mm)
        return cls(foot.side, (hx, hy), ((tx - hx) / d, (ty - hy) / d), float(foot.length_mm), float(width))

    def point(self, along: float, across: float) -> tuple[float, float]:
        """Mat point at ``along`` mm from the heel on the axis and ``across`` mm to the axis' right."""
        ax, ay = self.axis
        rx, ry = ay, -ax  # the axis turned clockwise: the foot's right
        return (self.heel_mm[0] + ax * along + rx * across, self.heel_mm[1] + ay * along + ry * across)

    def centre(self) -> tuple[float, float]:
        return self.point(0.5 * self.length_mm, 0.0)

    def zone_corners(self) -> list[tuple[float, float]]:
        a0, a1 = (f * self.length_mm for f in ZONE_ALONG)
        half = 0.5 * ZONE_ACROSS * self.width_mm
        return [self.point(a0, -half), self.point(a1, -half), self.point(a1, half), self.point(a0, half)]


def convex_hull(points) -> list[tuple[float, float]]:
    """Counter-clockwise convex hull (Andrew's monotone chain)."""
    pts = sorted(set((float(x), float(y)) for x, y in points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def inside(poly, p) -> bool:
    """True if ``p`` is inside (or on) the counter-clockwise convex polygon ``poly``."""
    if len(poly) < 3:
        return False
    x, y = p
    for i in range(len(poly)):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % len(poly)]
        if (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) < -1e-9:
            return False
    return True


def reach(poly, origin, direction) -> float:
    """Distance (mm) from ``origin`` along ``direction`` to the edge of the convex polygon (0 if outside)."""
    dx, dy = direction
    n = math.hypot(dx, dy)
    if not n > 0 or not inside(poly, origin):
        return 0.0
    dx, dy = dx / n, dy / n
    best = math.inf
    ox, oy = origin
    for i in range(len(poly)):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % len(poly)]
        ex, ey = x1 - x0, y1 - y0
        den = dx * ey - dy * ex
        if abs(den) < 1e-12:
            continue
        s = ((x0 - ox) * ey - (y0 - oy) * ex) / den  # along the ray
        u = ((x0 - ox) * dy - (y0 - oy) * dx) / den  # along the edge
        if s >= 0 and -1e-9 <= u <= 1 + 1e-9:
            best = min(best, s)
    return 0.0 if best is math.inf else best


@dataclass(frozen=True)
class Stance:
    """The reference stance measured before a drill runs: body weight, feet, resting COP, safe zone."""

    weight_n: float
    feet: tuple[FootGeometry, ...]  # as the kernels saw them, left first
    centre_mm: tuple[float, float]  # mean COP while standing still
    zone: tuple[tuple[float, float], ...]  # counter-clockwise polygon

    def foot(self, side: str) -> FootGeometry | None:
        for f in self.feet:
            if f.side == side:
                return f
        return None

    def reach(self, direction) -> float:
        """How far (mm) the COP may go from the resting centre in ``direction`` inside the zone."""
        return reach(self.zone, self.centre_mm, direction)

    def limit(self, direction) -> float:
        """Default limit of stability (mm from the resting centre) in ``direction``, before any was measured.

        Feet side by side: 90 % of the way to the edge of a box whose sides lie
        80 % of the way from the midline to each foot's centre line and whose
        front and back are the safe zone's (20 % and 85 % of foot length): leaning
        sideways onto one foot unloads the other, and a drill that asks for that
        would trip the safety stop. Other stances: the safe zone. Never closer than
        ``LIMIT_MARGIN_MM`` to the safe zone's edge, so that sway at a target at
        100 % does not stop the drill.
        """
        r = self.reach(direction)
        centres = sorted(f.centre() for f in self.feet)
        (xl, _), (xr, _) = centres[0], centres[-1]
        if len(self.feet) >= 2 and xr - xl >= 100.0:  # side by side (not tandem or semi-tandem)
            r = min(r, self._box_reach(direction, xl, xr))
        return max(0.0, min(0.9 * r, r - LIMIT_MARGIN_MM))

    def _box_reach(self, direction, xl, xr) -> float:
        a0, a1 = ZONE_ALONG
        back = max(f.point(a0 * f.length_mm, 0.0)[1] for f in self.feet)
        front = min(f.point(a1 * f.length_mm, 0.0)[1] for f in self.feet)
        mid = 0.5 * (xl + xr)
        half = 0.8 * 0.5 * (xr - xl)
        box = convex_hull([(mid - half, back), (mid + half, back), (mid + half, front), (mid - half, front)])
        return reach(box, self.centre_mm, direction)

    def to_dict(self) -> dict:
        return {"weight_n": self.weight_n, "centre_mm": list(self.centre_mm),
                "zone": [list(p) for p in self.zone],
                "feet": [{"side": f.side, "heel_mm": list(f.heel_mm), "axis": list(f.axis),
                          "length_mm": f.length_mm, "width_mm": f.width_mm} for f in self.feet]}


def stance_from(weight_n: float, feet, centre_mm) -> Stance | None:
    """A :class:`Stance` from the feet the kernels report (FootResult), or None without a usable foot."""
    geoms = tuple(g for g in (FootGeometry.from_foot(f) for f in feet) if g is not None)
    if not geoms:
        return None
    corners = [c for g in geoms for c in g.zone_corners()]
    return Stance(float(weight_n), geoms, (float(centre_mm[0]), float(centre_mm[1])), tuple(convex_hull(corners)))


# A typical adult stance, for pictures of a drill before the patient's own stance is measured:
# feet 250 mm long, heel centres 170 mm apart, each foot turned out 7 degrees (McIlroy & Maki
# 1997, preferred stance: about 17 cm between the heel centres, about 14 degrees between the
# feet), the COP resting midway between them at 40 % of foot length from the heels.
TYPICAL_FOOT_MM = 250.0
TYPICAL_HEEL_GAP_MM = 170.0
TYPICAL_TOE_OUT_DEG = 7.0
TYPICAL_COP_ALONG = 0.40


def typical_stance(centre_mm: tuple[float, float] = (0.0, 0.0)) -> Stance:
    """The typical stance above around ``centre_mm`` (the resting COP), in mat millimetres."""
    a = math.radians(TYPICAL_TOE_OUT_DEG)
    length, width = TYPICAL_FOOT_MM, WIDTH_PER_LENGTH * TYPICAL_FOOT_MM
    cx, cy = centre_mm
    heel_y = cy - TYPICAL_COP_ALONG * length * math.cos(a)
    feet = tuple(
        FootGeometry(side, (cx + sign * TYPICAL_HEEL_GAP_MM / 2, heel_y), (sign * math.sin(a), math.cos(a)), length, width)
        for side, sign in (("left", -1.0), ("right", 1.0)))
    corners = [c for f in feet for c in f.zone_corners()]
    return Stance(0.0, feet, (float(cx), float(cy)), tuple(convex_hull(corners)))
