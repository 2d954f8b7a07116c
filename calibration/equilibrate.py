"""Equilibration under a uniform load: per-sensel gains, and the response curve from its levels.

The mat (or an insole) goes into an air bladder inflated to known pressures.
At each level k every live sensel's counts above zero r_ik should be the same
function of the one pressure; the relative gain of sensel i is the median
over levels of r_ik / median_i(r_ik). Sensels whose gain is outside
``gain_limits`` do not respond like the others: below, they are dead (masked
and filled from neighbours); above, hot. With two or more levels the median
normalised counts per level and the known pressures are the points of the
response curve (calibration/curves.py); with one level only the gains are
kept and the existing curve stays.
"""

from __future__ import annotations

import warnings

import numpy as np

from calibration.base import Procedure
from calibration.curves import Observation, curve_from_json, fit_curve
from calibration.errors import CurveFitError, WrongLoadError
from calibration.model import MASK_DEAD, MASK_HOT
from calibration.steps import Step


class EquilibrationCalibration(Procedure):
    """Per-sensel gains (and the curve) from uniform pressures ``levels_kpa``."""

    name = "equilibrate"

    def __init__(self, levels_kpa=(50.0, 100.0, 200.0, 300.0), window_s: float = 1.0, settle_s: float = 1.5,
                 timeout_s: float = 30.0, gain_limits=(0.5, 2.0), min_loaded_fraction: float = 0.95,
                 curve_kinds=("power", "piecewise"), tolerance_pct: float = 5.0):
        self.levels_kpa = tuple(float(v) for v in levels_kpa)
        if not self.levels_kpa or min(self.levels_kpa) <= 0:
            raise ValueError("equilibration needs at least one positive bladder pressure")
        self.window_s, self.settle_s, self.timeout_s = float(window_s), float(settle_s), float(timeout_s)
        self.gain_limits = (float(gain_limits[0]), float(gain_limits[1]))
        self.min_loaded_fraction = float(min_loaded_fraction)
        self.curve_kinds = tuple(curve_kinds)
        self.tolerance_pct = float(tolerance_pct)

    def steps(self, model) -> list[Step]:
        what = "mat" if model.kind == "mat" else "insole"
        return [
            Step(f"level-{k + 1}",
                 f"Put the {what} in the equilibration bladder and inflate it to {p:g} kPa; keep it there "
                 f"({k + 1} of {len(self.levels_kpa)}).",
                 {"load": "uniform", "kpa": p}, self.settle_s, self.window_s, self.timeout_s)
            for k, p in enumerate(self.levels_kpa)
        ]

    def check(self, step, capture, model) -> None:
        n = model.normalised(capture.mean())
        live = model.mask == 0
        loaded = (n > model.floor()) & live
        frac = float(loaded.sum() / max(int(live.sum()), 1))
        if frac < self.min_loaded_fraction:
            raise WrongLoadError(
                f"step '{step.id}': only {100 * frac:.0f} % of the sensing area is loaded; the bladder must cover "
                "the whole sensor evenly. Check it is inflated and lies flat, and run again")

    def fit(self, captures, model) -> EquilibrationCalibration:
        live = model.mask == 0
        ratios, medians = [], []
        for k in range(len(self.levels_kpa)):
            mean = captures[f"level-{k + 1}"].mean()
            r = mean - model.offset
            saturated = mean >= 0.98 * model.max_counts
            ok = live & ~saturated & (r > 0)
            med = float(np.median(r[ok])) if ok.any() else 0.0
            if med <= 0:
                raise WrongLoadError(f"bladder level {self.levels_kpa[k]:g} kPa produced no counts above zero; "
                                     "is the sensor in the bladder and the bladder inflated?")
            ratio = np.where(live & ~saturated, r / med, np.nan)
            ratios.append(ratio)
            medians.append(med)
        with warnings.catch_warnings():  # a sensel saturated at every level has no ratio: NaN, masked below
            warnings.simplefilter("ignore", RuntimeWarning)
            gain = np.nanmedian(np.stack(ratios), axis=0)
        gain = np.where(np.isfinite(gain), gain, 0.0)
        lo, hi = self.gain_limits
        self.dead_ = live & (gain < lo)
        self.hot_ = live & (gain > hi)
        good = live & ~self.dead_ & ~self.hot_
        gain = gain / np.median(gain[good])  # median 1 over the good sensels
        self.gain_ = np.round(np.where(good, gain, 1.0), 6).astype(np.float32)
        # points of the curve: the median normalised count at each level (medians are robust to stragglers)
        self.points_ = []
        for k, p in enumerate(self.levels_kpa):
            n = (captures[f"level-{k + 1}"].mean() - model.offset) / np.where(good, self.gain_, 1.0)
            self.points_.append([float(np.median(n[good])), p])
        self.curve_report_ = None
        self.curve_ = None
        if len(self.levels_kpa) >= 2:
            obs = [Observation(np.array([n]), 1.0, p, f"{p:g} kPa") for n, p in self.points_]
            curve, self.curve_report_ = fit_curve(obs, self.curve_kinds, what="bladder pressure")
            self.curve_ = curve.to_json()
        elif model.curve is None:
            raise CurveFitError(
                "one bladder pressure gives the gains but not the response curve, and this device has no curve yet; "
                "equilibrate at two or more pressures (e.g. 50,100,200 kPa) or run 'calibrate load' afterwards")
        # accuracy: mean and spread of the calibrated pressure at each level
        curve = curve_from_json(self.curve_) if self.curve_ else model.curve
        self.level_error_pct_ = []
        self.level_spread_pct_ = []
        for k, p in enumerate(self.levels_kpa):
            n = (captures[f"level-{k + 1}"].mean() - model.offset) / np.where(good, self.gain_, 1.0)
            kpa = curve(n[good]) * model.scale
            self.level_error_pct_.append(float(100 * (kpa.mean() / p - 1)))
            self.level_spread_pct_.append(float(100 * kpa.std() / p))
        self.dead_count_, self.hot_count_ = int(self.dead_.sum()), int(self.hot_.sum())
        self.accuracy_pct_ = float(max(abs(e) for e in self.level_error_pct_))
        self.passed_ = self.accuracy_pct_ <= self.tolerance_pct
        self.message_ = (f"gains {float(self.gain_[good].min()):.2f}..{float(self.gain_[good].max()):.2f}; "
                         f"{self.dead_count_} dead and {self.hot_count_} hot sensel(s) masked; "
                         f"level errors {', '.join(f'{e:+.1f} %' for e in self.level_error_pct_)}")
        return self

    def update(self, model):
        new = super().update(model)
        new.gain = np.asarray(self.gain_, dtype=np.float32).reshape(model.shape)
        mask = new.mask.copy()
        mask[np.asarray(self.dead_, dtype=bool).reshape(model.shape)] = MASK_DEAD
        mask[np.asarray(self.hot_, dtype=bool).reshape(model.shape)] = MASK_HOT
        new.mask = mask
        if self.curve_ is not None:
            new.curve = curve_from_json(self.curve_)
            new.scale = 1.0  # an absolute curve replaces any earlier body-weight factor
        return new
