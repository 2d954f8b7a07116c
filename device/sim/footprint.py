"""Anatomical plantar-pressure footprint and the foot's roll-over.

A foot is modelled as eight pressure "components" (heel, lateral midfoot band,
three groups of metatarsal heads, hallux, two groups of lesser toes), each a
compact dome ``(1 - r^2)^q`` over an ellipse. The medial arch has no component,
so it stays unloaded, and the toes are separate blobs with a gap behind them.

Everything is in the *foot frame* of DESIGN 3 (the insole frame): origin at the
heel centre, y toward the toes, x to the patient's right. Dimensions scale with
the foot length L; the rear edge of the foot is at y = -0.11 L and the tip of
the longest toe at y = +0.89 L. Component positions follow the usual plantar
anatomy (heel pad, lateral column, metatarsal heads at ~62-74 % of foot length,
toes at ~78-90 %): see e.g. Cavanagh & Rodgers 1987 for the regions.

How the load is spread over the components: a foot carrying force F with its
centre of pressure at c (foot frame) gets component loads F * w_k, where
w_k = b_k exp(lam . p_k) / Z is the exponential tilt of the resting weights b_k
that puts the weighted mean of the component centres p_k exactly on c (the
maximum-entropy spread with that mean). Each component's pressure integrates
to its load, so the foot's COP *is* c by construction; roll-over is a path of c
from the heel to the hallux.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

REAR_EDGE = -0.11  # rear edge of the foot, in foot lengths from the heel centre
TOE_TIP = 0.89  # tip of the hallux
REGION_CUTS = (0.27, 0.55)  # rear/mid/fore boundaries, fraction of length from the rear edge (DESIGN 4.2)
REGIONS = ("rear", "mid", "fore")
DOME_Q = 1.2  # dome exponent: flat-ish top, soft edge
LAMBDA_GRID_MM = 2.0  # grid of cached load-spreading solutions (starting points only)

# name, u (fraction of length from the rear edge), x (L, + = lateral on the RIGHT foot),
# half-width (L), half-length (L), resting weight (share of the foot's load in quiet stance)
_COMPONENTS = (
    ("heel", 0.115, 0.000, 0.115, 0.115, 0.52),
    ("midfoot_lateral", 0.400, 0.105, 0.050, 0.170, 0.10),
    ("mth1", 0.700, -0.125, 0.065, 0.065, 0.10),
    ("mth23", 0.715, -0.025, 0.068, 0.065, 0.12),
    ("mth45", 0.655, 0.100, 0.060, 0.070, 0.08),
    ("hallux", 0.885, -0.105, 0.050, 0.055, 0.05),
    ("toes23", 0.865, -0.020, 0.035, 0.040, 0.02),
    ("toes45", 0.810, 0.065, 0.030, 0.035, 0.01),
)
COMPONENT_NAMES = tuple(c[0] for c in _COMPONENTS)


def dome(dx: np.ndarray, dy: np.ndarray, ax: float, ay: float) -> np.ndarray:
    """Unnormalised dome ``(1 - r^2)^q`` on an ellipse with half-axes (ax, ay)."""
    r2 = (dx / ax) ** 2 + (dy / ay) ** 2
    return np.power(np.clip(1.0 - r2, 0.0, None), DOME_Q)


def dome_integral(ax: float, ay: float) -> float:
    """Exact area integral of :func:`dome` (pi a b / (q + 1))."""
    return float(np.pi * ax * ay / (DOME_Q + 1.0))


@dataclass(frozen=True)
class FootTemplate:
    """The pressure components of one foot (side "left" or "right") of length L mm."""

    length_mm: float
    side: str
    width_scale: float = 1.0
    centres: np.ndarray = field(init=False, repr=False)  # (K, 2) mm, foot frame
    half_axes: np.ndarray = field(init=False, repr=False)  # (K, 2) mm
    base_weights: np.ndarray = field(init=False, repr=False)  # (K,), sums to 1
    region_fractions: np.ndarray = field(init=False, repr=False)  # (K, 3) rear/mid/fore
    support: np.ndarray = field(init=False, repr=False)  # (M, 2) convex polygon of reachable COPs
    _neutral: np.ndarray = field(init=False, repr=False)
    _dual: tuple = field(init=False, repr=False)
    _edges: list = field(init=False, repr=False)
    _lambda_cache: dict = field(init=False, repr=False)  # grid cell corner -> Newton multipliers

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"foot side must be 'left' or 'right', not {self.side!r}")
        L = float(self.length_mm)
        mirror = 1.0 if self.side == "right" else -1.0  # lateral is +x on the right foot only
        comp = np.array([c[1:] for c in _COMPONENTS], dtype=np.float64)
        centres = np.column_stack([mirror * comp[:, 1] * L * self.width_scale, (comp[:, 0] + REAR_EDGE) * L])
        half = np.column_stack([comp[:, 2] * L * self.width_scale, comp[:, 3] * L])
        weights = comp[:, 4] / comp[:, 4].sum()
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "half_axes", half)
        object.__setattr__(self, "base_weights", weights)
        object.__setattr__(self, "region_fractions", self._region_fractions())
        object.__setattr__(self, "support", _shrink(_convex_hull(centres), 0.9))
        object.__setattr__(self, "_neutral", weights @ centres)
        rel = (centres - self._neutral) / L
        object.__setattr__(self, "_dual", (rel[:, 0].tolist(), rel[:, 1].tolist(), np.log(weights).tolist()))
        sup = self.support
        nxt = np.roll(sup, -1, axis=0)
        object.__setattr__(self, "_edges", [tuple(map(float, (a[0], a[1], b[0], b[1]))) for a, b in zip(sup, nxt, strict=True)])
        object.__setattr__(self, "_lambda_cache", {})

    @property
    def rear_edge_mm(self) -> float:
        return REAR_EDGE * self.length_mm

    @property
    def toe_tip_mm(self) -> float:
        return TOE_TIP * self.length_mm

    def neutral_cop(self) -> np.ndarray:
        """Foot-frame COP of quiet stance (the resting weights)."""
        return self._neutral.copy()

    def _region_fractions(self) -> np.ndarray:
        # Integrate each dome along y on a fine grid and split at the 27 % / 55 % cuts.
        L = self.length_mm
        cuts = [(REAR_EDGE + c) * L for c in REGION_CUTS]
        out = np.zeros((len(self.centres), 3))
        for k, ((cx, cy), (ax, ay)) in enumerate(zip(self.centres, self.half_axes, strict=True)):
            ys = np.linspace(cy - ay, cy + ay, 801)
            xs = np.linspace(cx - ax, cx + ax, 81)
            prof = dome(xs[None, :] - cx, ys[:, None] - cy, ax, ay).sum(axis=1)
            total = prof.sum()
            rear = prof[ys < cuts[0]].sum() / total
            fore = prof[ys >= cuts[1]].sum() / total
            out[k] = (rear, 1.0 - rear - fore, fore)
        return out

    def clip_cop(self, cop: np.ndarray) -> np.ndarray:
        """The nearest COP this foot can produce (inside its support polygon)."""
        x, y = float(cop[0]), float(cop[1])
        # plain floats for the common case (inside): numpy's call overhead would dominate
        for ax, ay, bx, by in self._edges:
            if (bx - ax) * (y - ay) - (by - ay) * (x - ax) < -1e-9:
                return project_to_polygon(np.array((x, y)), self.support)
        return np.array((x, y))

    def weights_for_cop(self, cop: np.ndarray) -> np.ndarray:
        """Component load shares (K,) whose weighted centre is ``cop`` (clipped to the support)."""
        target = self.clip_cop(cop)
        gx = (float(target[0]) - self._neutral[0]) / self.length_mm
        gy = (float(target[1]) - self._neutral[1]) / self.length_mm
        # Start Newton from the multipliers of the surrounding grid cell's corners (solved once
        # each, from zero, so the start -- and the answer -- depend only on the target).
        cell = LAMBDA_GRID_MM / self.length_mm
        i, j = math.floor(gx / cell), math.floor(gy / cell)
        fx, fy = gx / cell - i, gy / cell - j
        c00, c10, c01, c11 = (self._corner(i + di, j + dj) for di, dj in ((0, 0), (1, 0), (0, 1), (1, 1)))
        lx = (c00[0] * (1 - fx) + c10[0] * fx) * (1 - fy) + (c01[0] * (1 - fx) + c11[0] * fx) * fy
        ly = (c00[1] * (1 - fx) + c10[1] * fx) * (1 - fy) + (c01[1] * (1 - fx) + c11[1] * fx) * fy
        w, _, _ = self._newton(gx, gy, lx, ly)
        return np.array(w)

    def _corner(self, i: int, j: int) -> tuple[float, float]:
        hit = self._lambda_cache.get((i, j))
        if hit is None:
            cell = LAMBDA_GRID_MM / self.length_mm
            corner = self._neutral + np.array((i * cell, j * cell)) * self.length_mm
            c = self.clip_cop(corner)
            _, lx, ly = self._newton((c[0] - self._neutral[0]) / self.length_mm, (c[1] - self._neutral[1]) / self.length_mm, 0.0, 0.0)
            hit = self._lambda_cache[(i, j)] = (lx, ly)
        return hit

    def _newton(self, gx: float, gy: float, lx: float, ly: float) -> tuple[list[float], float, float]:
        """Exponential tilt of the resting weights with mean (gx, gy) (relative, in foot lengths)."""
        px, py, logb = self._dual
        w: list[float] = []
        for _ in range(60):  # Newton on the convex dual
            z = [b + x * lx + y * ly for b, x, y in zip(logb, px, py, strict=True)]
            top = max(z)
            e = [math.exp(v - top) for v in z]
            total = sum(e)
            w = [v / total for v in e]
            mx = sum([wi * x for wi, x in zip(w, px, strict=True)])
            my = sum([wi * y for wi, y in zip(w, py, strict=True)])
            rx, ry = mx - gx, my - gy
            if abs(rx) + abs(ry) < 1e-9:  # 1e-9 foot lengths: far below a micrometre
                break
            dxs = [x - mx for x in px]
            dys = [y - my for y in py]
            sxx = sum([wi * d * d for wi, d in zip(w, dxs, strict=True)])
            syy = sum([wi * d * d for wi, d in zip(w, dys, strict=True)])
            sxy = sum([wi * a * b for wi, a, b in zip(w, dxs, dys, strict=True)])
            det = sxx * syy - sxy * sxy + 1e-18
            sx, sy = (syy * rx - sxy * ry) / det, (sxx * ry - sxy * rx) / det
            # damp large steps: near the hull the dual is flat and a full step overshoots
            norm = math.hypot(sx, sy)
            if norm > 5.0:
                sx, sy = sx * 5.0 / norm, sy * 5.0 / norm
            lx, ly = lx - sx, ly - sy
        return w, lx, ly

    def unit_pressure(self, points: np.ndarray) -> np.ndarray:
        """(K, ...) pressure (kPa) at foot-frame points (..., 2) per newton of each component's load."""
        pts = np.asarray(points, dtype=np.float64)
        out = np.empty((len(self.centres),) + pts.shape[:-1])
        for k in range(len(self.centres)):
            ax, ay = self.half_axes[k]
            shape = dome(pts[..., 0] - self.centres[k, 0], pts[..., 1] - self.centres[k, 1], ax, ay)
            out[k] = shape / dome_integral(ax, ay) * 1e3  # N/mm^2 -> kPa
        return out

    def pressure(self, points: np.ndarray, loads_n: np.ndarray) -> np.ndarray:
        """Exact pressure (kPa) at foot-frame points (..., 2) for component loads (K,) in N."""
        return np.tensordot(np.asarray(loads_n, dtype=np.float64), self.unit_pressure(points), axes=1)

    def outline(self, n: int = 64) -> np.ndarray:
        """Convex outline (M, 2) of the loaded footprint, for drawing and tests."""
        ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
        pts = [c + h * np.column_stack([np.cos(ang), np.sin(ang)]) for c, h in zip(self.centres, self.half_axes, strict=True)]
        return _convex_hull(np.vstack(pts))


# --- small plane geometry -------------------------------------------------------------


def foot_to_mat(points: np.ndarray, heel_mm: tuple[float, float], angle_deg: float) -> np.ndarray:
    """Foot-frame points (..., 2) to the mat frame; ``angle_deg`` turns the long axis toward +x."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    x, y = points[..., 0], points[..., 1]
    return np.stack([heel_mm[0] + x * c + y * s, heel_mm[1] - x * s + y * c], axis=-1)


def mat_to_foot(points: np.ndarray, heel_mm: tuple[float, float], angle_deg: float) -> np.ndarray:
    """Inverse of :func:`foot_to_mat`."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    dx, dy = points[..., 0] - heel_mm[0], points[..., 1] - heel_mm[1]
    return np.stack([dx * c - dy * s, dx * s + dy * c], axis=-1)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull vertices, no repeated end point (Qhull via scipy; 2-D output is CCW)."""
    pts = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    if len(pts) <= 2:
        return pts
    from scipy.spatial import ConvexHull

    return pts[ConvexHull(pts).vertices]


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull polygon (counter-clockwise) of points (N, 2)."""
    return _convex_hull(points)


def _shrink(poly: np.ndarray, factor: float) -> np.ndarray:
    centre = poly.mean(axis=0)
    return centre + (poly - centre) * factor


def inside_polygon(point: np.ndarray, poly: np.ndarray) -> bool:
    """True if ``point`` is inside (or on) the convex counter-clockwise polygon."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    cross = (b[:, 0] - a[:, 0]) * (point[1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (point[0] - a[:, 0])
    return bool(np.all(cross >= -1e-9))


def project_to_polygon(point: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """The point itself if inside the convex polygon, else the nearest point of its boundary."""
    if inside_polygon(point, poly):
        return point.copy()
    a = poly
    b = np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(((point - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-12), 0.0, 1.0)
    near = a + ab * t[:, None]
    d = ((near - point) ** 2).sum(axis=1)
    return near[int(np.argmin(d))]


def distance_to_edge(point: np.ndarray, poly: np.ndarray) -> float:
    """Signed distance from ``point`` to the polygon's boundary (+ inside, - outside)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(((point - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-12), 0.0, 1.0)
    near = a + ab * t[:, None]
    d = float(np.sqrt(((near - point) ** 2).sum(axis=1).min()))
    return d if inside_polygon(point, poly) else -d
