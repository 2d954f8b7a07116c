"""Body-weight calibration: scale the calibrated pressure so total force = the patient's weight.

*point*: the patient stands still -- on both feet on the mat, or on one foot
for that foot's insole -- and the factor is weight / mean measured force.
*step*: the patient walks; each stance phase an insole sees carries an
impulse, and over a stride the two feet together carry weight x stride time,
so for a symmetric gait one stance's impulse is weight x stride / 2 (vertical
momentum is the same at the start and the end of each stride; e.g. Winter,
*Biomechanics and Motor Control of Human Movement*, ch. 5). The factor is
weight x median stride / 2 / median impulse. A mat only sees the steps that
land on it, rarely two in a row, so step calibration is for insoles; mats use
the point method.

Insoles measure only at their sensors, so their summed force needs this
factor even after equilibration; on a mat it absorbs what the curve leaves.
"""

from __future__ import annotations

import numpy as np

from calibration.base import Procedure
from calibration.errors import CalibrationError, NotCalibratedError, WrongLoadError
from calibration.steps import Step

G = 9.80665
# Plausible factors: a mat's pressure integral is close to the force already; 16 insole
# sensors cover a third or less of the foot, so their summed force reads low by 2-4x.
RATIO_LIMITS = {"mat": (0.5, 2.0), "insole": (0.5, 6.0)}


def force_series(model, counts: np.ndarray) -> np.ndarray:
    to_kpa = model.converter()
    return np.array([float(model.force_n(to_kpa(c))) for c in counts])


class BodyWeightCalibration(Procedure):
    """Body-weight factor from a person of ``weight_kg`` standing still (point) or walking (step)."""

    name = "bodyweight"

    def __init__(self, weight_kg: float = 70.0, method: str = "point", window_s: float = 3.0, settle_s: float = 2.5,
                 timeout_s: float = 30.0, walk_s: float = 20.0, min_steps: int = 4, ratio_limits=None,
                 tolerance_pct: float = 5.0):
        if not 10.0 <= float(weight_kg) <= 350.0:
            raise ValueError(f"body weight {weight_kg} kg is outside 10..350 kg")
        if method not in ("point", "step"):
            raise ValueError(f"body-weight method must be 'point' or 'step', not {method!r}")
        self.weight_kg, self.method = float(weight_kg), method
        self.window_s, self.settle_s, self.timeout_s = float(window_s), float(settle_s), float(timeout_s)
        self.walk_s, self.min_steps = float(walk_s), int(min_steps)
        self.ratio_limits = None if ratio_limits is None else (float(ratio_limits[0]), float(ratio_limits[1]))
        self.tolerance_pct = float(tolerance_pct)

    @property
    def weight_n(self) -> float:
        return self.weight_kg * G

    def steps(self, model) -> list[Step]:
        if self.method == "step":
            if model.kind == "mat":
                raise CalibrationError(
                    "step calibration needs insoles (a mat rarely sees two successive steps); "
                    "calibrate the mat with --method point")
            return [Step("walk", f"Walk normally, at your usual pace, for about {self.walk_s:g} s.",
                         {"load": "person", "stance": "walk"}, 2.0, self.walk_s, self.walk_s + 10.0, stable=False)]
        if model.kind == "mat":
            text, stance = ("Stand still in the middle of the mat on both feet, arms by your sides, looking ahead.",
                            "both")
        else:
            stance = "left" if model.kind == "insole_left" else "right"
            text = (f"Stand still on the {stance} foot only; hold the rail lightly for balance without leaning on it.")
        return [Step("stand", text, {"load": "person", "stance": stance}, self.settle_s, self.window_s, self.timeout_s)]

    def check(self, step, capture, model) -> None:
        if not model.complete:
            raise NotCalibratedError(f"device {model.device_serial} has no response curve yet: "
                                     "equilibrate (or run the known-load calibration) before the body-weight one")
        if model.kind == "mat":
            from calibration.known_load import check_on_area

            check_on_area(model, capture.mean(), "the person",
                          "ask them to stand in the middle of the mat with both feet fully on it")

    def fit(self, captures, model) -> BodyWeightCalibration:
        if self.method == "point":
            cap = captures["stand"]
            f = force_series(model, cap.counts)
            measured = float(f.mean())
            factor = self.weight_n / measured if measured > 0 else np.inf
            self.measured_force_n_ = measured
            self.accuracy_pct_ = float(100.0 * f.std() / measured) if measured > 0 else None
            self.steps_ = 0
        else:
            cap = captures["walk"]
            f = force_series(model, cap.counts)
            t = cap.t
            on = f > 0.1 * max(float(f.max()), 1e-9)
            edges = np.diff(on.astype(np.int8))
            rises, falls = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1) + 1
            impulses, contacts = [], []
            for r in rises:
                later = falls[falls > r]
                if len(later):
                    sl = slice(r - 1, later[0] + 1)
                    y, x = f[sl], t[sl]
                    impulses.append(float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0))
                    contacts.append(float(t[r]))
            if len(impulses) < self.min_steps:
                raise WrongLoadError(f"only {len(impulses)} complete step(s) were seen in {self.walk_s:g} s; "
                                     f"walk for longer (at least {self.min_steps} steps on this foot) and run again")
            stride = float(np.median(np.diff(contacts)))
            per_step = self.weight_n * stride / 2.0 / np.asarray(impulses)
            factor = float(np.median(per_step))
            measured = self.weight_n / factor
            self.measured_force_n_ = measured
            self.steps_ = len(impulses)
            self.stride_s_ = stride
            self.accuracy_pct_ = float(100.0 * np.std(per_step) / factor)
        lo, hi = self.ratio_limits or RATIO_LIMITS["mat" if model.kind == "mat" else "insole"]
        if not lo <= factor <= hi:
            raise WrongLoadError(
                f"the sensor read {measured:.0f} N for a {self.weight_kg:g} kg person ({self.weight_n:.0f} N): "
                "too far off to be a calibration error. Check the weight entered, that the person is fully on "
                "the sensor (the right foot for an insole), and equilibrate first if the sensor is new")
        self.factor_ = float(factor)
        self.scale_ = float(model.scale * factor)
        self.passed_ = self.accuracy_pct_ is not None and self.accuracy_pct_ <= self.tolerance_pct
        self.message_ = (f"read {measured:.0f} N for {self.weight_n:.0f} N; factor {factor:.3f}"
                         + (f" over {self.steps_} steps" if self.method == "step" else ""))
        return self

    def update(self, model):
        new = super().update(model)
        new.scale = self.scale_
        return new
