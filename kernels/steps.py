"""One step (one foot's stance) and its metrics.

A :class:`Step` is what the streaming detectors hand over when a foot comes
off: its contact and off times, the force and COP samples of the stance, and
(on the mat) the footprint it left. :func:`step_metrics` turns it into the
per-step entries of the report (DESIGN 4.2 ``steps``), each defined in
``docs/metrics.md``:

* stance time, peak force, gait-line length (COP path over the stance);
* heel position (mat coordinates, mm): the rear end of the footprint on its
  long axis (for the strike index and the footprint's regions), and the heel
  centre, the centroid of the heel area (GAITRite; for step length and width);
* CPEI, the centre-of-pressure excursion index (Song et al. 1996);
* strike index, heel-to-COP at contact over foot length (Cavanagh & Lafortune 1980);
* vertical loading rate, the mean slope of force from 20 % to 80 % of the
  first (loading) force peak.

Fields that a step cannot support (an insole has no heel position in the
room, a stance too short has no loading peak) are None with a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Loading rate between these fractions of the first force peak.
LOADING_RATE_FRACTIONS = (0.2, 0.8)
# CPEI is read at the anterior third of the foot (Song et al. 1996).
CPEI_LEVEL = 2.0 / 3.0
# The heel area: the rear quarter of the footprint along its long axis. An adult heel pad
# covers about the rear quarter of the foot; the lateral midfoot band begins just in front
# of it, so a longer area would pull the centroid toward the lateral border (docs/metrics.md).
HEEL_AREA_FRACTION = 0.25


@dataclass
class Footprint:
    """Where a foot stood: heel point, unit long axis (heel to toe), length, outline.

    ``heel_mm`` is the rear end of the footprint on its long axis (lengths along the
    foot are measured from it); :meth:`heel_centre` is the GAITRite heel centre.
    ``points_mm`` are the centres of the loaded sensels (any order) and
    ``pitch_mm`` the sensel size along the axis and across it, used to give
    lengths and widths edge to edge rather than centre to centre.
    """

    heel_mm: tuple[float, float]
    axis: tuple[float, float]
    length_mm: float
    points_mm: np.ndarray | None = None
    pitch_mm: float = 0.0

    @classmethod
    def from_points(cls, points_mm, pitch_mm: float, toward=None) -> Footprint | None:
        """Footprint of loaded sensel centres: principal axis, oriented toward ``toward``
        (a point nearer the toes, e.g. the last COP of the stance) or +y if not given."""
        pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            return None
        centre = pts.mean(axis=0)
        cov = np.cov((pts - centre).T)
        _, vec = np.linalg.eigh(cov)
        axis = vec[:, 1]
        ref = np.asarray(toward, dtype=np.float64) - centre if toward is not None else np.array([0.0, 1.0])
        if float(axis @ ref) < 0:
            axis = -axis
        along = (pts - centre) @ axis
        across = (pts - centre) @ np.array([-axis[1], axis[0]])
        rear = along.min()
        # The heel point: the rearmost edge, on the centre line of the rearmost sensels.
        near_rear = along <= rear + pitch_mm / 2  # the rearmost row (half a pitch absorbs rounding)
        heel = centre + axis * (rear - pitch_mm / 2) + np.array([-axis[1], axis[0]]) * float(across[near_rear].mean())
        length = float(along.max() - rear + pitch_mm)
        return cls(heel_mm=(float(heel[0]), float(heel[1])), axis=(float(axis[0]), float(axis[1])),
                   length_mm=length, points_mm=pts, pitch_mm=pitch_mm)

    @classmethod
    def from_mat(cls, heel_mm, toe_mm, length_mm: float, mask: np.ndarray | None,
                 pitch_mm: tuple[float, float]) -> Footprint | None:
        """Footprint from the per-frame analysis of a mat: the stance footprint's heel
        and toe ends (mm) and its bool sensel mask (rows, cols); ``pitch_mm`` (row, column)."""
        heel = np.asarray(heel_mm, dtype=np.float64)
        d = np.asarray(toe_mm, dtype=np.float64) - heel
        norm = float(np.hypot(*d))
        if not norm > 0 or not length_mm > 0:
            return None
        points = None
        if mask is not None:
            r, c = np.nonzero(mask)
            points = np.column_stack([(c + 0.5) * pitch_mm[1], (r + 0.5) * pitch_mm[0]])
        return cls(heel_mm=(float(heel[0]), float(heel[1])), axis=(float(d[0] / norm), float(d[1] / norm)),
                   length_mm=float(length_mm), points_mm=points, pitch_mm=float(np.mean(pitch_mm)))

    def to_foot(self, p) -> tuple[float, float]:
        """(along the axis from the heel, across it toward the axis' left) of a point, mm."""
        d = np.asarray(p, dtype=np.float64) - self.heel_mm
        ax = np.asarray(self.axis)
        return float(d @ ax), float(d @ np.array([-ax[1], ax[0]]))

    def heel_centre(self) -> tuple[float, float] | None:
        """The heel centre (mm, mat frame): the centroid of the heel area, the footprint's
        loaded sensels within the rear :data:`HEEL_AREA_FRACTION` of its length.

        GAITRite's heel centre is the centroid of the footprint's heel area (CIR Systems
        2006, sections 2 and 3.1). The sensels count by area (each the same), not by
        pressure, so where the load is during the stance does not move it. None without
        the footprint's sensels.
        """
        if self.points_mm is None or not len(self.points_mm) or not self.length_mm > 0:
            return None
        ax = np.asarray(self.axis)
        # Sensel centres lie half a pitch inside the footprint's edge-to-edge extent.
        along = (self.points_mm - self.heel_mm) @ ax
        area = self.points_mm[along <= HEEL_AREA_FRACTION * self.length_mm]
        if not len(area):
            return None
        c = area.mean(axis=0)
        return float(c[0]), float(c[1])

    def width_at(self, fraction: float) -> float | None:
        """Footprint width across the axis at ``fraction`` of its length from the heel."""
        if self.points_mm is None:
            return None
        level = fraction * self.length_mm
        rel = self.points_mm - self.heel_mm
        ax = np.asarray(self.axis)
        along = rel @ ax
        across = rel @ np.array([-ax[1], ax[0]])
        band = np.abs(along - level) <= max(self.pitch_mm, 1e-9) / 2 + 1e-9
        if not band.any():
            return None
        return float(across[band].max() - across[band].min() + self.pitch_mm)


@dataclass
class Step:
    """One stance of one foot, as assembled by :mod:`kernels.detectors`."""

    foot: str | None  # 'left', 'right' or None (unknown)
    contact_s: float
    off_s: float
    t: np.ndarray  # (n,) s, samples of the stance
    force_n: np.ndarray  # (n,)
    cop_mm: np.ndarray  # (n, 2), NaN where unknown
    footprint: Footprint | None = None
    source: str = "mat"  # 'mat' or 'insole'
    foot_length_mm: float | None = None  # for insoles, when the meta data give it
    heel_edge_y_mm: float | None = None  # for insoles: the heel's rear edge in the insole frame
    regions_n: np.ndarray | None = None  # (n, 3) rearfoot, midfoot, forefoot
    extra: dict = field(default_factory=dict)

    @property
    def stance_s(self) -> float:
        return self.off_s - self.contact_s


def loading_rate(t: np.ndarray, force: np.ndarray) -> float | None:
    """Mean slope (N/s) between 20 % and 80 % of the first force peak.

    The first peak is the largest force in the first half of the stance
    (the loading response); crossing times are interpolated linearly.
    """
    n = len(force)
    if n < 4:
        return None
    half = max(2, n // 2)
    i_peak = int(np.argmax(force[:half]))
    peak = float(force[i_peak])
    if i_peak < 1 or not peak > 0:
        return None
    lo, hi = (f * peak for f in LOADING_RATE_FRACTIONS)

    def crossing(level: float) -> float | None:
        rising = force[: i_peak + 1]
        above = np.flatnonzero(rising >= level)
        if not len(above):
            return None
        j = int(above[0])
        if j == 0:
            return float(t[0])  # already above at the first sample: the rise was before it
        f0, f1 = float(rising[j - 1]), float(rising[j])
        return float(t[j - 1] + (level - f0) / (f1 - f0) * (t[j] - t[j - 1]))

    t_lo, t_hi = crossing(lo), crossing(hi)
    if t_lo is None or t_hi is None or not t_hi > t_lo:
        return None
    return (hi - lo) / (t_hi - t_lo)


def gait_line_length(cop: np.ndarray) -> float | None:
    """Path length (mm) of the COP over the stance, skipping unknown samples."""
    c = np.asarray(cop, dtype=np.float64)
    c = c[np.all(np.isfinite(c), axis=1)]
    if len(c) < 2:
        return None
    return float(np.sum(np.hypot(*np.diff(c, axis=0).T)))


def cpei(cop: np.ndarray, fp: Footprint, side: str | None) -> float | None:
    """Centre-of-pressure excursion index, % of foot width (Song et al. 1996).

    Construction line: from the first to the last COP point of the stance.
    CPE: the distance, across the foot axis, from that line to the COP
    trajectory where it crosses the anterior third (2/3 of the footprint
    length from the heel), positive when the COP lies lateral of the line.
    CPEI = CPE / footprint width at that level x 100.
    """
    c = np.asarray(cop, dtype=np.float64)
    c = c[np.all(np.isfinite(c), axis=1)]
    if len(c) < 3 or side not in ("left", "right"):
        return None
    foot = np.array([fp.to_foot(p) for p in c])  # (along, across-left)
    along, across = foot[:, 0], foot[:, 1]
    level = CPEI_LEVEL * fp.length_mm
    if not (along[0] < level < along.max()):
        return None
    j = int(np.flatnonzero(along >= level)[0])
    a0, a1 = along[j - 1], along[j]
    w = 0.0 if a1 == a0 else (level - a0) / (a1 - a0)
    cop_across = across[j - 1] + w * (across[j] - across[j - 1])
    (s0, c0), (s1, c1) = (along[0], across[0]), (along[-1], across[-1])
    if s1 == s0:
        return None
    line_across = c0 + (level - s0) / (s1 - s0) * (c1 - c0)
    # "across" grows toward the foot's left: lateral for the left foot, medial for the right.
    lateral = (cop_across - line_across) * (1.0 if side == "left" else -1.0)
    width = fp.width_at(CPEI_LEVEL)
    if not width:
        return None
    return 100.0 * lateral / width


def strike_index(cop_at_contact, fp: Footprint) -> float | None:
    """COP at contact along the foot from the heel, % of foot length (0 heel .. 100 toe)."""
    if cop_at_contact is None or not np.all(np.isfinite(cop_at_contact)) or not fp.length_mm > 0:
        return None
    return 100.0 * fp.to_foot(cop_at_contact)[0] / fp.length_mm


def step_metrics(step: Step) -> tuple[dict, dict]:
    """``(entry, reasons)``: the report's per-step dict and why any field is None."""
    entry: dict = {
        "foot": step.foot,
        "source": step.source,
        "contact_s": float(step.contact_s),
        "off_s": float(step.off_s),
        "stance_s": float(step.stance_s),
        "peak_force_n": float(np.max(step.force_n)) if len(step.force_n) else None,
        "heel_mm": None,
        "heel_centre_mm": None,
        "foot_length_mm": None,
        "gait_line_length_mm": gait_line_length(step.cop_mm),
        "cpei_pct": None,
        "strike_index_pct": None,
        "loading_rate_n_s": loading_rate(step.t, step.force_n),
    }
    reasons: dict = {}
    if entry["gait_line_length_mm"] is None:
        reasons["gait_line_length_mm"] = "fewer than two COP samples in this stance"
    if entry["loading_rate_n_s"] is None:
        reasons["loading_rate_n_s"] = "no rising loading peak in the first half of the stance"
    finite = np.all(np.isfinite(step.cop_mm), axis=1) if len(step.cop_mm) else np.zeros(0, bool)
    cop0 = step.cop_mm[int(np.argmax(finite))] if finite.any() else None
    fp = step.footprint
    if fp is not None:
        entry["heel_mm"] = [fp.heel_mm[0], fp.heel_mm[1]]
        centre = fp.heel_centre()
        entry["heel_centre_mm"] = None if centre is None else [centre[0], centre[1]]
        if centre is None:
            reasons["heel_centre_mm"] = "no sensels of the footprint in its heel area"
        entry["foot_length_mm"] = fp.length_mm
        entry["cpei_pct"] = cpei(step.cop_mm, fp, step.foot)
        if entry["cpei_pct"] is None:
            reasons["cpei_pct"] = ("side unknown or the COP did not reach the anterior third of the footprint"
                                   if step.foot in ("left", "right") else "side of the foot unknown")
        entry["strike_index_pct"] = strike_index(cop0, fp)
        if entry["strike_index_pct"] is None:
            reasons["strike_index_pct"] = "no COP at contact"
    elif step.source == "insole":
        reasons["heel_mm"] = reasons["heel_centre_mm"] = "insoles do not know where the foot is in the room"
        reasons["cpei_pct"] = "CPEI needs the footprint's width; insoles do not measure it"
        if step.foot_length_mm and step.heel_edge_y_mm is not None and cop0 is not None:
            # Insole frame: origin at the heel centre, y toward the toes (DESIGN 3); the
            # strike index is measured from the heel's rear edge.
            entry["foot_length_mm"] = float(step.foot_length_mm)
            entry["strike_index_pct"] = 100.0 * (float(cop0[1]) - step.heel_edge_y_mm) / step.foot_length_mm
        else:
            why = ("needs the foot length and the heel edge in the insole frame "
                   "(recording meta 'foot_length_mm' and 'heel_edge_y_mm')")
            if cop0 is None:
                why = "no COP at contact"
            reasons["strike_index_pct"] = why
            if not step.foot_length_mm or step.heel_edge_y_mm is None:
                reasons["foot_length_mm"] = why
    else:
        for key in ("heel_mm", "heel_centre_mm", "foot_length_mm", "cpei_pct", "strike_index_pct"):
            reasons[key] = "no footprint for this step (too few loaded sensels)"
    if math.isnan(entry["stance_s"]):
        entry["stance_s"] = None
        reasons["stance_s"] = "contact or off time unknown"
    return entry, reasons
