"""Dead- and hot-sensel detection from a sweep: load the whole sensor slowly, see who responds.

During the sweep (a bladder inflated slowly, or a roller pushed over every
row) each live sensel's reading should rise like its neighbours'. A sensel
whose range over the sweep is under ``min_response`` of the typical range
is dead; one that sits at full scale throughout is hot. Both are masked and
their pressure is filled from their neighbours (calibration/apply.py).
"""

from __future__ import annotations

import numpy as np

from calibration.base import Procedure
from calibration.errors import WrongLoadError
from calibration.model import MASK_DEAD, MASK_HOT
from calibration.steps import Step


class DeadSenselDetection(Procedure):
    """Mask sensels that do not follow a sweep to ``sweep_kpa`` over ``sweep_s``."""

    name = "sweep"

    def __init__(self, sweep_kpa: float = 100.0, sweep_s: float = 5.0, min_response: float = 0.25,
                 hot_fraction: float = 0.98, max_masked_fraction: float = 0.05):
        self.sweep_kpa, self.sweep_s = float(sweep_kpa), float(sweep_s)
        self.min_response, self.hot_fraction = float(min_response), float(hot_fraction)
        self.max_masked_fraction = float(max_masked_fraction)

    def steps(self, model) -> list[Step]:
        return [Step("sweep",
                     f"Load the whole sensor slowly: inflate the bladder from 0 to {self.sweep_kpa:g} kPa over about "
                     f"{self.sweep_s:g} s (or roll the test roller slowly over every row).",
                     {"load": "uniform", "kpa": self.sweep_kpa, "rise_s": self.sweep_s},
                     0.0, self.sweep_s + 0.5, self.sweep_s + 10.0, stable=False)]

    def fit(self, captures, model) -> DeadSenselDetection:
        c = captures["sweep"].counts.astype(np.float64)
        lo, hi = np.percentile(c, 5, axis=0), np.percentile(c, 95, axis=0)
        span = hi - lo
        live = model.mask == 0
        typical = float(np.median(span[live])) if live.any() else 0.0
        if typical <= 10 * float(np.median(model.noise)):
            raise WrongLoadError("the sweep barely changed the readings; load the whole sensor (bladder or roller) "
                                 "during the sweep and run again")
        self.hot_ = c.min(axis=0) >= self.hot_fraction * model.max_counts
        self.dead_ = (span < self.min_response * typical) & ~self.hot_
        self.response_ = np.round(span / typical, 4).astype(np.float32)
        masked = (self.hot_ | self.dead_).mean()
        self.dead_count_, self.hot_count_ = int(self.dead_.sum()), int(self.hot_.sum())
        self.passed_ = bool(masked <= self.max_masked_fraction)
        self.accuracy_pct_ = float(100 * masked)
        self.message_ = (f"{self.dead_count_} dead and {self.hot_count_} hot sensel(s) "
                         f"({100 * masked:.1f} % of the sensor)"
                         + ("" if self.passed_ else ": too many for neighbour filling; have the sensor repaired"))
        return self

    def update(self, model):
        new = super().update(model)
        mask = new.mask.copy()
        mask[np.asarray(self.dead_, bool).reshape(model.shape)] = MASK_DEAD
        mask[np.asarray(self.hot_, bool).reshape(model.shape)] = MASK_HOT
        new.mask = mask
        return new
