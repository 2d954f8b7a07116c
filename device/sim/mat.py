"""The simulated pressure mat: its geometry and how a foot's pressure lands on its sensels.

A sensel reports the mean pressure over its area, so each foot component is
rendered by averaging its dome over a 3 x 3 sub-grid per sensel and then
normalised so that the sensels of the (unclipped) window carry exactly the
component's load. A foot that is only partly on the mat therefore puts exactly
the on-mat part of its force on the mat. The rendered component shapes depend
only on the foot's pose, and a foot does not slide while it is loaded, so they
are cached per pose: a frame is then K small weighted sums per foot.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from device.sim.footprint import FootTemplate, dome, foot_to_mat, mat_to_foot

SUBSAMPLE = 3
MAX_SIDE = 256  # rows or columns: docs/protocol.md's largest frame (256 x 256 u16)


@dataclass(frozen=True)
class MatGeometry:
    """A rows x cols sensel grid (DESIGN 3: row 0 rearmost, column 0 leftmost).

    ``pitch_mm`` is (row pitch along y, column pitch along x), as the recording file's
    ``mat_pitch_mm``.
    """

    rows: int = 48
    cols: int = 48
    pitch_mm: tuple[float, float] = (8.47, 8.47)
    rate_hz: float = 100.0

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= MAX_SIDE and 1 <= self.cols <= MAX_SIDE):
            raise ValueError(f"a mat has 1 to {MAX_SIDE} rows and columns (the wire protocol's largest frame), "
                             f"got {self.rows} x {self.cols}")
        pitch = tuple(float(p) for p in np.broadcast_to(np.asarray(self.pitch_mm, dtype=float), (2,)))
        if not all(math.isfinite(p) and p > 0 for p in pitch):
            raise ValueError(f"mat pitch must be a positive number of mm, got {self.pitch_mm}")
        if not (math.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"mat rate must be a positive number of Hz, got {self.rate_hz}")
        object.__setattr__(self, "pitch_mm", pitch)

    @property
    def width_mm(self) -> float:
        return self.cols * self.pitch_mm[1]

    @property
    def length_mm(self) -> float:
        return self.rows * self.pitch_mm[0]

    @property
    def sensel_area_mm2(self) -> float:
        return self.pitch_mm[0] * self.pitch_mm[1]

    @property
    def centre_mm(self) -> tuple[float, float]:
        return (self.width_mm / 2.0, self.length_mm / 2.0)

    def sensel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(x of each column, y of each row), mm."""
        return ((np.arange(self.cols) + 0.5) * self.pitch_mm[1], (np.arange(self.rows) + 0.5) * self.pitch_mm[0])

    def contains(self, x: float, y: float) -> bool:
        return 0.0 <= x <= self.width_mm and 0.0 <= y <= self.length_mm


@dataclass(frozen=True)
class Stamp:
    """A foot's component shapes at one pose, clipped to the mat."""

    rows: slice
    cols: slice
    shapes: np.ndarray  # (K, h, w) float32, kPa per N of component load
    on_fraction: np.ndarray  # (K,) share of each component's load that lands on the mat
    on_centroid: np.ndarray  # (K, 2) mat-frame COP of each component's on-mat part

    @property
    def empty(self) -> bool:
        return self.shapes.size == 0


class MatRenderer:
    """Renders foot templates onto one mat, caching the shapes per pose."""

    def __init__(self, mat: MatGeometry, cache_size: int = 256) -> None:
        self.mat = mat
        self._cache: OrderedDict[tuple, Stamp] = OrderedDict()
        self._cache_size = cache_size

    def stamp(self, foot: FootTemplate, heel_mm: tuple[float, float], angle_deg: float) -> Stamp:
        key = (id(foot), round(heel_mm[0], 3), round(heel_mm[1], 3), round(angle_deg, 4))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        stamp = self._render(foot, heel_mm, angle_deg)
        self._cache[key] = stamp
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return stamp

    def _render(self, foot: FootTemplate, heel_mm: tuple[float, float], angle_deg: float) -> Stamp:
        py, px = self.mat.pitch_mm
        k = len(foot.centres)
        # window of (virtual, unclipped) sensels covering the foot's outline
        outline = foot_to_mat(foot.outline(), heel_mm, angle_deg)
        c0 = int(np.floor(outline[:, 0].min() / px)) - 1
        c1 = int(np.ceil(outline[:, 0].max() / px)) + 1
        r0 = int(np.floor(outline[:, 1].min() / py)) - 1
        r1 = int(np.ceil(outline[:, 1].max() / py)) + 1
        h, w = r1 - r0, c1 - c0
        if r1 <= 0 or c1 <= 0 or r0 >= self.mat.rows or c0 >= self.mat.cols:
            # wholly off the mat (a walker's step before or after it): nothing to render
            return Stamp(slice(0, 0), slice(0, 0), np.zeros((k, 0, 0), np.float32), np.zeros(k), np.full((k, 2), np.nan))
        sub = (np.arange(SUBSAMPLE) + 0.5) / SUBSAMPLE
        xs = (c0 + (np.arange(w)[:, None] + sub[None, :]).ravel()) * px
        ys = (r0 + (np.arange(h)[:, None] + sub[None, :]).ravel()) * py
        gx, gy = np.meshgrid(xs, ys)
        pts = mat_to_foot(np.stack([gx, gy], axis=-1), heel_mm, angle_deg)
        shapes = np.empty((k, h, w))
        cx = (c0 + np.arange(w) + 0.5) * px
        cy = (r0 + np.arange(h) + 0.5) * py
        area = self.mat.sensel_area_mm2
        for i in range(k):
            ax, ay = foot.half_axes[i]
            d = dome(pts[..., 0] - foot.centres[i, 0], pts[..., 1] - foot.centres[i, 1], ax, ay)
            s = d.reshape(h, SUBSAMPLE, w, SUBSAMPLE).mean(axis=(1, 3))
            total = s.sum() * area
            # kPa per N: a load of 1 N spread as s gives s / (sum s * area) N/mm^2 = *1e3 kPa
            shapes[i] = s / total * 1e3 if total > 0 else 0.0
        # clip to the mat
        rr0, rr1 = max(r0, 0), min(r1, self.mat.rows)
        cc0, cc1 = max(c0, 0), min(c1, self.mat.cols)
        if rr0 >= rr1 or cc0 >= cc1:
            return Stamp(slice(0, 0), slice(0, 0), np.zeros((k, 0, 0), np.float32), np.zeros(k), np.full((k, 2), np.nan))
        clipped = shapes[:, rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0]
        mass = clipped.sum(axis=(1, 2))
        on_fraction = mass * area * 1e-3
        with np.errstate(invalid="ignore", divide="ignore"):
            cen_x = (clipped.sum(axis=1) * cx[cc0 - c0 : cc1 - c0]).sum(axis=1) / mass
            cen_y = (clipped.sum(axis=2) * cy[rr0 - r0 : rr1 - r0]).sum(axis=1) / mass
        return Stamp(
            slice(rr0, rr1),
            slice(cc0, cc1),
            clipped.astype(np.float32),
            on_fraction,
            np.column_stack([cen_x, cen_y]),
        )
