"""Known-load calibration: plates of known weight -> the response curve (mat).

Each plate (a rigid flat plate on a foam pad, ``plate_mm`` wide) is put in the
middle of the mat in turn. The curve is fitted so that the force each plate
produces -- the sum over the loaded sensels of curve(n) times the sensel area
-- equals its weight (calibration/curves.py); no assumption about how evenly a
plate presses is needed. A plate whose footprint touches the edge of the
sensing area is refused (:class:`OffAreaError`): part of its weight would rest
off the sensels and the curve would be wrong.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from calibration.base import Procedure
from calibration.curves import Observation, curve_from_json, fit_curve
from calibration.errors import OffAreaError, WrongLoadError
from calibration.steps import Step


def loaded_region(model, mean_counts: np.ndarray) -> np.ndarray:
    """Live sensels above their noise floor, grown by one sensel (partly covered edges)."""
    n = model.normalised(mean_counts)
    loaded = (n > model.floor()) & (model.mask == 0)
    if loaded.ndim == 2 and loaded.any():
        # keep the largest patch: isolated flickers are noise, not the plate
        labels, count = ndimage.label(loaded, structure=np.ones((3, 3)))
        if count > 1:
            sizes = ndimage.sum(loaded, labels, range(1, count + 1))
            loaded = labels == (int(np.argmax(sizes)) + 1)
        loaded = ndimage.binary_dilation(loaded, structure=np.ones((3, 3))) & (model.mask == 0)
    return loaded


def check_on_area(model, mean_counts: np.ndarray, what: str,
                  fix: str = "move it to the middle of the mat, fully inside the sensing area") -> np.ndarray:
    """The loaded region, or OffAreaError if it reaches the edge of the sensing area."""
    n = model.normalised(mean_counts)
    core = (n > model.floor()) & (model.mask == 0)
    if not core.any():
        raise WrongLoadError(f"{what}: nothing is loaded; put it on the mat and run again")
    if core.ndim == 2:
        edge = np.zeros_like(core)
        edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
        if (core & edge).sum() >= 2:
            raise OffAreaError(
                f"{what} lies partly off the sensing area (it reaches the mat's edge), so part of its weight is "
                f"not measured: {fix}, and run again")
    return loaded_region(model, mean_counts)


class KnownLoadCalibration(Procedure):
    """Response curve from plates of known weight ``weights_n`` (N)."""

    name = "known_load"

    def __init__(self, weights_n=(100.0, 200.0, 400.0, 800.0), plate_mm=(100.0, 100.0), window_s: float = 1.0,
                 settle_s: float = 1.5, timeout_s: float = 30.0, curve_kinds=("power", "piecewise"),
                 tolerance_pct: float = 3.0):
        self.weights_n = tuple(float(w) for w in weights_n)
        if not self.weights_n or min(self.weights_n) <= 0:
            raise ValueError("known-load calibration needs positive weights")
        self.plate_mm = (float(plate_mm[0]), float(plate_mm[1]))
        self.window_s, self.settle_s, self.timeout_s = float(window_s), float(settle_s), float(timeout_s)
        self.curve_kinds = tuple(curve_kinds)
        self.tolerance_pct = float(tolerance_pct)

    def steps(self, model) -> list[Step]:
        return [
            Step(f"weight-{k + 1}",
                 f"Place the {w:g} N weight ({w / 9.80665:.1f} kg) on its {self.plate_mm[0]:g} x {self.plate_mm[1]:g} mm "
                 f"plate in the middle of the mat, fully inside the sensing area, and step away "
                 f"({k + 1} of {len(self.weights_n)}).",
                 {"load": "plate", "force_n": w, "size_mm": list(self.plate_mm)},
                 self.settle_s, self.window_s, self.timeout_s)
            for k, w in enumerate(self.weights_n)
        ]

    def check(self, step, capture, model) -> None:
        check_on_area(model, capture.mean(), f"the weight of step '{step.id}'")

    def observations(self, captures, model) -> list[Observation]:
        obs = []
        for k, w in enumerate(self.weights_n):
            mean = captures[f"weight-{k + 1}"].mean()
            region = loaded_region(model, mean)
            n = model.normalised(mean)[region]
            obs.append(Observation(np.clip(n, 0, None), model.sensel_area_mm2, w * 1e3, f"{w:g} N"))
        return obs

    def fit(self, captures, model) -> KnownLoadCalibration:
        obs = self.observations(captures, model)
        curve, self.curve_report_ = fit_curve(obs, self.curve_kinds, what="weight")
        self.curve_ = curve.to_json()
        forces = [float(np.sum(o.weights() * curve(o.n)) * 1e-3) for o in obs]
        self.force_n_ = forces
        self.error_pct_ = [100.0 * (f / w - 1.0) for f, w in zip(forces, self.weights_n, strict=True)]
        loo = self.curve_report_[self.curve_report_["chosen"]]["loo_pct"]
        self.accuracy_pct_ = float(loo if loo is not None else max(abs(e) for e in self.error_pct_))
        self.passed_ = self.accuracy_pct_ <= self.tolerance_pct
        self.message_ = (f"{self.curve_report_['chosen']} curve; weights read "
                         + ", ".join(f"{f:.0f} N ({e:+.1f} %)" for f, e in zip(forces, self.error_pct_, strict=True)))
        return self

    def update(self, model):
        new = super().update(model)
        new.curve = curve_from_json(self.curve_)
        new.scale = 1.0
        return new
