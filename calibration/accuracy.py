"""How right a counts -> kPa conversion is, against known true pressure frames.

Used on the virtual patient (whose true kPa is known) by the tests and by
``bench/bench_calibration.py``, and usable on any bench rig that records the
true load. Pure: frames in, numbers out.

* per-sensel error: |kPa - true| / true over sensels carrying at least
  ``min_kpa`` (lighter ones are dominated by read noise, and no metric uses
  them), median and 95th percentile, %;
* total-force error: |F - F_true| / F_true per frame with F_true >= ``min_force_n``,
  mean and 95th percentile, %;
* COP error: distance between the calibrated and the true pressure centroid, mm.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def cop_mm(kpa: np.ndarray, pitch_mm: tuple[float, float]) -> np.ndarray:
    """(T, 2) pressure centroids (x, y) of (T, rows, cols) frames; NaN for empty frames."""
    rows, cols = kpa.shape[1:]
    xs = (np.arange(cols) + 0.5) * pitch_mm[1]
    ys = (np.arange(rows) + 0.5) * pitch_mm[0]
    w = kpa.astype(np.float64)
    tot = w.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (w.sum(axis=1) * xs).sum(axis=1) / tot
        y = (w.sum(axis=2) * ys).sum(axis=1) / tot
    return np.column_stack([x, y])


def accuracy(convert: Callable[[np.ndarray], np.ndarray], counts: np.ndarray, truth_kpa: np.ndarray,
             sensel_area_mm2: float, pitch_mm: tuple[float, float] | None = None, *,
             min_kpa: float = 10.0, min_force_n: float = 50.0) -> dict:
    """Errors of ``convert`` (one frame of counts -> kPa) over frames with known true kPa."""
    kpa = np.stack([convert(c) for c in counts]).astype(np.float64)
    truth = np.asarray(truth_kpa, dtype=np.float64)
    sel = truth >= min_kpa
    rel = np.abs(kpa[sel] - truth[sel]) / truth[sel] * 100.0
    axes = tuple(range(1, truth.ndim))
    f = kpa.sum(axis=axes) * sensel_area_mm2 * 1e-3
    ft = truth.sum(axis=axes) * sensel_area_mm2 * 1e-3
    use = ft >= min_force_n
    ferr = np.abs(f[use] - ft[use]) / ft[use] * 100.0
    signed = (f[use] - ft[use]) / ft[use] * 100.0
    out = {
        "frames": int(len(counts)),
        "sensels_compared": int(sel.sum()),
        "sensel_median_pct": float(np.median(rel)) if rel.size else None,
        "sensel_p95_pct": float(np.percentile(rel, 95)) if rel.size else None,
        "force_mean_abs_pct": float(ferr.mean()) if ferr.size else None,
        "force_p95_pct": float(np.percentile(ferr, 95)) if ferr.size else None,
        "force_bias_pct": float(signed.mean()) if signed.size else None,
    }
    if pitch_mm is not None and truth.ndim == 3:
        d = np.linalg.norm(cop_mm(kpa[use], pitch_mm) - cop_mm(truth[use], pitch_mm), axis=1)
        d = d[np.isfinite(d)]
        out["cop_mean_mm"] = float(d.mean()) if d.size else None
        out["cop_p95_mm"] = float(np.percentile(d, 95)) if d.size else None
    return out
