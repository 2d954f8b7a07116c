"""Synthetic two-foot mat frames from the MUN104 mean footprints (tests and bench).

A template (63 x 27, row 0 at the heel end, column index toward the patient's
right) is resampled bilinearly onto the mat's sensel centres after scaling it
to a chosen footprint length and placing its heel point and long axis on the
mat. The template's pixel pitch is not published, so "length" here is simply
the template footprint's extent (rows 5-56) mapped onto ``length_mm``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "mun104"
HEEL_ROW = 4.5  # rear edge of the footprint in template rows (first loaded row is 5)
TOE_ROW = 56.5  # front edge (last loaded row is 56)
TOE_GAP_ROWS = (46.5, 50.5)  # template rows cleared by separate_toes (between forefoot and toes)


@cache
def template(side: str) -> np.ndarray:
    name = {"left": "MUN104L.csv", "right": "MUN104R.csv"}[side]
    t = np.loadtxt(DATA / name, delimiter=",")
    return t / t.max()


def _centre_col(t: np.ndarray) -> float:
    cols = np.arange(t.shape[1])
    return float((t.sum(axis=0) * cols).sum() / t.sum())


def foot(rows: int, cols: int, pitch_mm: tuple[float, float], side: str, heel_mm: tuple[float, float],
         angle_deg: float = 90.0, length_mm: float = 250.0, peak_kpa: float = 300.0,
         separate_toes: bool = False, keep: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """One foot as a float32 (rows, cols) kPa frame.

    ``heel_mm`` is the rear end of the foot on its axis, ``angle_deg`` the heel-to-toe
    direction from +x (90 = straight ahead). ``keep`` = (from, to) fractions of the
    foot length that touch the mat (e.g. (0, 0.3) for a heel strike, (0.55, 1) at toe-off).
    """
    t = template(side).copy()
    if separate_toes:
        t[int(np.ceil(TOE_GAP_ROWS[0])):int(np.floor(TOE_GAP_ROWS[1])) + 1, :] = 0.0
    scale = length_mm / (TOE_ROW - HEEL_ROW)  # mm per template pixel
    row_pitch, col_pitch = pitch_mm
    y = (np.arange(rows) + 0.5) * row_pitch
    x = (np.arange(cols) + 0.5) * col_pitch
    X, Y = np.meshgrid(x, y)
    a = np.radians(angle_deg)
    ux, uy = np.cos(a), np.sin(a)
    dx, dy = X - heel_mm[0], Y - heel_mm[1]
    along = dx * ux + dy * uy  # mm from the heel toward the toes
    right = dx * uy - dy * ux  # mm to the foot's right
    ti = HEEL_ROW + along / scale
    tj = _centre_col(t) + right / scale
    out = _bilinear(t, ti, tj) * peak_kpa
    frac = along / length_mm
    out[(frac < keep[0]) | (frac > keep[1])] = 0.0
    return out.astype(np.float32)


def _bilinear(t: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    h, w = t.shape
    i0 = np.floor(i).astype(int)
    j0 = np.floor(j).astype(int)
    fi, fj = i - i0, j - j0
    out = np.zeros(i.shape)
    for di, wi in ((0, 1 - fi), (1, fi)):
        for dj, wj in ((0, 1 - fj), (1, fj)):
            ii, jj = i0 + di, j0 + dj
            ok = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < w)
            out[ok] += (wi * wj * t[np.clip(ii, 0, h - 1), np.clip(jj, 0, w - 1)])[ok]
    return out


def two_feet(rows: int = 64, cols: int = 64, pitch_mm: tuple[float, float] = (8.47, 8.47),
             stance_mm: float = 200.0, heel_y_mm: float = 60.0, toe_out_deg: float = 8.0,
             **kwargs) -> np.ndarray:
    """Quiet stance: both feet, heels level, centres ``stance_mm`` apart around the mat's middle."""
    mid = cols * pitch_mm[1] / 2
    left = foot(rows, cols, pitch_mm, "left", (mid - stance_mm / 2, heel_y_mm), 90.0 + toe_out_deg, **kwargs)
    right = foot(rows, cols, pitch_mm, "right", (mid + stance_mm / 2, heel_y_mm), 90.0 - toe_out_deg, **kwargs)
    return np.maximum(left, right)
