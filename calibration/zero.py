"""Zero / tare: the unloaded reading of every sensel (mat cleared, or the insole's foot lifted).

Offsets are the mean counts of each sensel over the window, read noise its
standard deviation. A sensel pinned at full scale with nothing on it is hot
and masked. Someone standing on the mat, or a foot left on an insole, shows
as a patch of sensels far above the others' zero: that is refused
(:class:`LoadedDuringZeroError`) before anything is kept.
"""

from __future__ import annotations

import numpy as np

from calibration.base import Procedure
from calibration.errors import LoadedDuringZeroError
from calibration.model import MASK_HOT
from calibration.steps import Step


def zero_instruction(kind: str) -> tuple[str, dict]:
    if kind == "mat":
        return ("Step off the mat and keep it clear: nothing and nobody on it while it is zeroed.", {"load": "empty"})
    side = "left" if kind == "insole_left" else "right"
    other = "right" if side == "left" else "left"
    return (f"Stand on the {other} foot (hold the rail) and lift the {side} foot off the floor, "
            f"so nothing presses on the {side} insole.", {"load": "person", "stance": other})


class ZeroCalibration(Procedure):
    """Zero offsets and read noise from the unloaded sensor.

    ``loaded_counts``: a sensel this far above the typical zero is loaded;
    ``max_loaded_fraction``: refuse when more of the live sensels than this are loaded
    (mat 0.5 %: a single forefoot covers ~3 %; insoles 10 %: two of 16 sensors).
    """

    name = "zero"

    def __init__(self, window_s: float = 1.0, settle_s: float = 1.0, timeout_s: float = 20.0,
                 loaded_counts: float = 40.0, max_loaded_fraction: float | None = None, hot_fraction: float = 0.98):
        self.window_s, self.settle_s, self.timeout_s = float(window_s), float(settle_s), float(timeout_s)
        self.loaded_counts = float(loaded_counts)
        self.max_loaded_fraction = None if max_loaded_fraction is None else float(max_loaded_fraction)
        self.hot_fraction = float(hot_fraction)

    def steps(self, model) -> list[Step]:
        text, request = zero_instruction(model.kind)
        return [Step("unloaded", text, request, self.settle_s, self.window_s, self.timeout_s)]

    def _limit(self, model) -> float:
        if self.max_loaded_fraction is not None:
            return self.max_loaded_fraction
        return 0.005 if model.kind == "mat" else 0.1

    def check(self, step, capture, model) -> None:
        mean = capture.mean()
        hot = mean >= self.hot_fraction * model.max_counts
        live = ~hot & (model.mask == 0)
        typical = float(np.median(mean[live])) if live.any() else 0.0
        loaded = live & (mean - typical > self.loaded_counts)
        frac = float(loaded.sum() / max(int(live.sum()), 1))
        if frac > self._limit(model):
            what = "the mat" if model.kind == "mat" else "the insole"
            ask = ("step off the mat (and take everything off it)" if model.kind == "mat"
                   else "lift that foot off the floor (or take the insole out of the shoe)")
            raise LoadedDuringZeroError(
                f"{what} is loaded while zeroing ({loaded.sum()} sensels, {100 * frac:.1f} % of the sensing area, "
                f"read up to {mean[loaded].max() - typical:.0f} counts above zero): {ask}, then zero again. "
                "The previous zero is kept.")

    def fit(self, captures, model) -> ZeroCalibration:
        cap = captures["unloaded"]
        c = cap.counts.astype(np.float64)
        mean = c.mean(axis=0)
        self.offset_ = np.round(mean, 3).astype(np.float32)
        # a 0.5-count floor: a sensel that happened not to flicker still has quantisation noise
        self.noise_ = np.round(np.maximum(c.std(axis=0), 0.5), 3).astype(np.float32)
        self.hot_ = mean >= self.hot_fraction * model.max_counts
        self.frames_ = int(c.shape[0])
        self.hot_count_ = int(self.hot_.sum())
        self.median_noise_counts_ = float(np.median(self.noise_))
        self.passed_ = True
        self.accuracy_pct_ = None
        self.message_ = (f"zeroed {c.shape[0]} frames; median read noise {self.median_noise_counts_:.1f} counts; "
                         f"{self.hot_count_} hot sensel(s) masked")
        return self

    def update(self, model):
        new = super().update(model)
        hot = np.asarray(self.hot_, dtype=bool).reshape(model.shape)
        new.offset = np.where(hot, model.offset, self.offset_).astype(np.float32)
        new.noise = np.where(hot, model.noise, self.noise_).astype(np.float32)
        new.mask = np.where(hot, MASK_HOT, new.mask).astype(np.uint8)
        return new
