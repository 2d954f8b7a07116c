"""Verification with a known weight: the calibration's error today, in %.

A plate of known weight on the mat (or the patient standing on one foot for
an insole) is measured with the device's active calibration. The error is
stored with the date (``gaitkiosk calibrate verify``), so the history of
errors shows the drift of each device; calibration/health.py turns the last
one into "ok" / "out of spec".
"""

from __future__ import annotations

import numpy as np

from calibration.base import Procedure
from calibration.bodyweight import G, force_series
from calibration.errors import NotCalibratedError, WrongLoadError
from calibration.known_load import check_on_area
from calibration.steps import Step


class Verification(Procedure):
    """Measure ``weight_n`` (a plate; or ``weight_kg`` standing on the insole's foot) and report the error."""

    name = "verify"

    def __init__(self, weight_n: float = 200.0, weight_kg: float | None = None, plate_mm=(100.0, 100.0),
                 window_s: float = 2.0, settle_s: float = 1.5, timeout_s: float = 30.0, tolerance_pct: float = 3.0):
        self.weight_n = float(weight_n)
        self.weight_kg = None if weight_kg is None else float(weight_kg)
        if self.weight_n <= 0 or (self.weight_kg is not None and self.weight_kg <= 0):
            raise ValueError("the verification weight must be positive")
        self.plate_mm = (float(plate_mm[0]), float(plate_mm[1]))
        self.window_s, self.settle_s, self.timeout_s = float(window_s), float(settle_s), float(timeout_s)
        self.tolerance_pct = float(tolerance_pct)

    def known_n(self) -> float:
        return self.weight_kg * G if self.weight_kg is not None else self.weight_n

    def steps(self, model) -> list[Step]:
        if self.weight_kg is not None:
            if model.kind == "mat":
                text, stance = "Stand still in the middle of the mat on both feet.", "both"
            else:
                stance = "left" if model.kind == "insole_left" else "right"
                text = f"Stand still on the {stance} foot only; hold the rail lightly without leaning on it."
            return [Step("known", text, {"load": "person", "stance": stance}, 2.5, self.window_s, self.timeout_s)]
        return [Step("known",
                     f"Place the {self.weight_n:g} N verification weight on its plate in the middle of the mat, "
                     "fully inside the sensing area, and step away.",
                     {"load": "plate", "force_n": self.weight_n, "size_mm": list(self.plate_mm)},
                     self.settle_s, self.window_s, self.timeout_s)]

    def check(self, step, capture, model) -> None:
        if not model.complete:
            raise NotCalibratedError(f"device {model.device_serial} is not calibrated: nothing to verify")
        if self.weight_kg is None and model.kind == "mat":
            check_on_area(model, capture.mean(), "the verification weight")

    def fit(self, captures, model) -> Verification:
        f = force_series(model, captures["known"].counts)
        measured = float(np.mean(f))
        if measured <= 0:
            raise WrongLoadError("the verification load read 0 N: put it on the sensor and run again")
        self.measured_force_n_ = measured
        self.error_pct_ = float(100.0 * (measured / self.known_n() - 1.0))
        self.accuracy_pct_ = abs(self.error_pct_)
        self.passed_ = self.accuracy_pct_ <= self.tolerance_pct
        self.message_ = (f"read {measured:.1f} N for {self.known_n():.1f} N: {self.error_pct_:+.2f} % "
                         f"({'within' if self.passed_ else 'OUTSIDE'} +-{self.tolerance_pct:g} %)")
        return self
