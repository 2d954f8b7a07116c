"""Weight distribution: left/right shares, per-foot rearfoot/midfoot/forefoot shares,
and the net COP of two feet.

Shares are of the force summed over the analysed samples (equivalently the
ratio of mean forces), in percent. Region boundaries along the footprint's
long axis (DESIGN 4.2): rearfoot 0-27 %, midfoot 27-55 %, forefoot 55-100 %
of footprint length from the heel; the per-frame region loads come from
:class:`kernels.frame.FrameAnalyzer` / :class:`kernels.insole.InsoleAnalyzer`.
"""

from __future__ import annotations

import numpy as np

REGIONS = ("rearfoot", "midfoot", "forefoot")
REGION_CUTS = (0.27, 0.55)  # fractions of footprint length from the heel


def fuse_cop(cop_left_mm, force_left_n, cop_right_mm, force_right_n) -> np.ndarray:
    """Net COP of two feet: the force-weighted mean of the per-foot COPs.

    COP_net = (F_L * COP_L + F_R * COP_R) / (F_L + F_R), per sample, float64.
    A foot without load (force 0, its COP NaN) simply drops out; a sample with
    no load at all gives NaN (no COP).
    """
    fl = np.asarray(force_left_n, dtype=np.float64)
    fr = np.asarray(force_right_n, dtype=np.float64)
    cl = np.asarray(cop_left_mm, dtype=np.float64)
    cr = np.asarray(cop_right_mm, dtype=np.float64)
    wl = np.where(fl > 0, fl, 0.0)[:, None]
    wr = np.where(fr > 0, fr, 0.0)[:, None]
    num = np.where(wl > 0, cl * wl, 0.0) + np.where(wr > 0, cr * wr, 0.0)
    total = wl + wr
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / np.where(total > 0, total, 1.0), np.nan)


def left_right(force_left_n, force_right_n) -> tuple[dict, dict]:
    """``({"left_pct", "right_pct"}, reasons)`` from per-sample foot forces (N)."""
    fl = np.nan_to_num(np.asarray(force_left_n, dtype=np.float64), nan=0.0)
    fr = np.nan_to_num(np.asarray(force_right_n, dtype=np.float64), nan=0.0)
    total = float(fl.sum() + fr.sum())
    if not total > 0:
        why = "no load on either foot in the analysed samples"
        return {"left_pct": None, "right_pct": None}, {"left_pct": why, "right_pct": why}
    left = 100.0 * float(fl.sum()) / total
    return {"left_pct": left, "right_pct": 100.0 * float(fr.sum()) / total}, {}


def region_shares(regions_n, foot_force_n=None) -> tuple[dict, dict]:
    """Per-foot ``{"rearfoot_pct", "midfoot_pct", "forefoot_pct"}`` from (N, 3) region loads.

    Shares are of the summed region loads (they add to 100 %). NaN rows (the
    foot unseen in that sample) are skipped.
    """
    r = np.asarray(regions_n, dtype=np.float64).reshape(-1, 3)
    r = r[np.all(np.isfinite(r), axis=1)]
    keys = [f"{name}_pct" for name in REGIONS]
    total = float(r.sum()) if len(r) else 0.0
    if not total > 0:
        why = "this foot carried no load in the analysed samples"
        return dict.fromkeys(keys), dict.fromkeys(keys, why)
    sums = r.sum(axis=0)
    return {k: 100.0 * float(s) / total for k, s in zip(keys, sums, strict=True)}, {}


def region_of(fraction_from_heel: float) -> int:
    """0 rearfoot, 1 midfoot, 2 forefoot for a position along the foot (0 heel .. 1 toe)."""
    if fraction_from_heel < REGION_CUTS[0]:
        return 0
    if fraction_from_heel < REGION_CUTS[1]:
        return 1
    return 2
