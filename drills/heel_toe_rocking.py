"""Drill 5, heel-toe rocking: rock the COP from the heels to the toes and back, within a band.

Two targets on the patient's forward-back line, at ``excursion_pct`` % of the
limits of stability toward the heels and toward the toes, joined by a band
``band_mm`` wide on each side. The lit target alternates each time it is
reached (self-paced); the drill ends after ``cycles`` round trips or
``cycles`` x ``max_cycle_s``.

Measures: excursion (the forward-back range of each cycle, mm and % of the
range asked for), the share of time inside the band, and smoothness: the
spectral arc length (SPARC, Balasubramanian et al. 2015) of the forward-back
COP speed of each movement (heels to toes, toes to heels), 0 for a perfectly smooth movement and more negative
for a jerkier one.
"""

from __future__ import annotations

import math

import numpy as np

from drills import scoring
from drills.base import Band, Drill, Target
from drills.params import Param

# SPARC settings (Balasubramanian et al. 2015): cut-off frequency and magnitude threshold, zero padding.
SPARC_FC_HZ = 10.0
SPARC_THRESHOLD = 0.05
SPARC_PAD = 4
# Map SPARC to 0-100: one minimum-jerk movement (the smoothest reach) gives -1.41 with these
# settings (tests/test_drills_targets.py computes it); -4 is a jerky, hesitant movement.
SPARC_BEST, SPARC_WORST = -1.41, -4.0


def sparc(speed, rate_hz: float) -> float | None:
    """Spectral arc length of a speed profile (Balasubramanian, Melendez-Calderon, Roby-Brami & Burdet 2015).

    The magnitude spectrum of the speed, normalised to its value at 0 Hz, is
    cut where it last exceeds ``SPARC_THRESHOLD`` below ``SPARC_FC_HZ``; SPARC
    is minus the arc length of that curve with frequency normalised to the
    cut-off.
    """
    v = np.asarray(speed, dtype=np.float64)
    if len(v) < 8 or not np.any(v > 0):
        return None
    nfft = int(2 ** (math.ceil(math.log2(len(v))) + SPARC_PAD))
    f = np.arange(nfft) * rate_hz / nfft
    mag = np.abs(np.fft.fft(v, nfft))
    mag = mag / mag[0]
    keep = f <= SPARC_FC_HZ
    f, mag = f[keep], mag[keep]
    above = np.flatnonzero(mag >= SPARC_THRESHOLD)
    end = int(above[-1]) + 1 if len(above) else len(f)
    f, mag = f[:end], mag[:end]
    if len(f) < 2:
        return None
    df = np.diff(f) / (f[-1] - f[0])
    return float(-np.sum(np.sqrt(df ** 2 + np.diff(mag) ** 2)))


class HeelToeRocking(Drill):
    name = "heel_toe_rocking"
    title = "Rock heel to toe"
    summary = "Rock slowly from the heels to the toes and back, keeping the dot inside the band."
    INSTRUCTION = "Rock slowly forward onto your toes, then back onto your heels."
    HOME = ("Stand with your feet apart, both hands on the back of a sturdy chair or on a kitchen counter. "
            "Rock slowly forward onto your toes, then back onto your heels. Keep your body straight and move "
            "from the ankles. Go only as far as feels safe.")
    PARAMS = (
        Param("excursion_pct", float, 70.0, "targets at this share of the forward and backward limits", "%", 30, 100),
        Param("band_mm", float, 25.0, "half-width of the band the dot should stay in", "mm", 10, 60),
        Param("cycles", int, 8, "number of heel-toe-heel round trips", "", 3, 30),
        Param("max_cycle_s", float, 8.0, "time allowed per round trip", "s", 3, 20),
        Param("target_radius_mm", float, 15.0, "radius of the heel and toe targets", "mm", 8, 30),
    )
    PROGRESSION = ("excursion_pct", (50.0, 60.0, 70.0, 80.0, 90.0))
    HEADLINE = (("Rocking range", "excursion_pct", "%", "higher"),
                ("Smoothness", "smoothness_sparc", "", "higher"),
                ("Time in the band", "time_in_band_pct", "%", "higher"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self._last_t = None
        self._in = self._total = 0.0
        self._cycle: list = []  # (t, y) of the current round trip
        self.cycles: list[dict] = []
        self._reached_toe = False
        self._toe_index = 0

    def planned_duration(self):
        return None

    def home_details(self):
        n = self.params["cycles"]
        return [f"{n} times from your heels to your toes and back"]

    def progress(self):
        return len(self.cycles) / self.params["cycles"]

    def on_start(self, t):
        self._place_targets()
        self.live.active_target = 0
        self.message = "Rock forward onto your toes."
        self._last_t = t

    def _place_targets(self):
        c = self.stance.centre_mm
        measured = self.context.get("limits_mm") or {}
        reach = {}
        for name, d in (("forward", (0.0, 1.0)), ("back", (0.0, -1.0))):
            default = self.stance.limit(d)
            reach[name] = min(float(measured[name]), default) if measured.get(name) else default
        k = self.params["excursion_pct"] / 100.0
        toe_y, heel_y = c[1] + k * reach["forward"], c[1] - k * reach["back"]
        r = self.params["target_radius_mm"]
        self.live.targets = (Target(c[0], toe_y, r, "toes"), Target(c[0], heel_y, r, "heels"))
        self.live.band = Band("ap", heel_y, toe_y, c[0], self.params["band_mm"])
        self.asked_mm = toe_y - heel_y

    def on_resume(self, t):
        self._place_targets()
        self._last_t = t
        self._cycle = []
        self._reached_toe = False
        self.live.active_target = 0

    def on_frame(self, t, frame, events, insoles):
        dt = t - self._last_t
        self._last_t = t
        x, y = frame.cop_mm
        band = self.live.band
        self._total += dt
        if abs(x - band.centre_mm) <= band.half_width_mm:
            self._in += dt
        self._cycle.append((t, y))
        target = self.live.targets[self.live.active_target]
        if target.contains(frame.cop_mm):
            self._cue("hit", t)
            if self.live.active_target == 0:
                self._reached_toe = True
                self._toe_index = len(self._cycle) - 1
                self.live.active_target = 1
                self.message = "Now rock back onto your heels."
            else:
                self._close_cycle(t, complete=True)
        elif self._cycle and t - self._cycle[0][0] >= self.params["max_cycle_s"]:
            self._close_cycle(t, complete=False)
        if len(self.cycles) >= self.params["cycles"]:
            self.finish(t)

    def _close_cycle(self, t, complete: bool):
        a = np.asarray(self._cycle, dtype=np.float64)
        entry = {"complete": complete, "duration_s": float(a[-1, 0] - a[0, 0]),
                 "range_mm": float(a[:, 1].max() - a[:, 1].min()), "sparc": None}
        # SPARC per movement (heels to toes, toes to heels): each is one reach, as in its definition.
        cut = self._toe_index if self._reached_toe else len(a)
        values = []
        for part in (a[: cut + 1], a[cut:]):
            if len(part) >= 8 and part[-1, 0] > part[0, 0]:
                rate = (len(part) - 1) / (part[-1, 0] - part[0, 0])
                values.append(sparc(np.abs(np.gradient(part[:, 1], part[:, 0])), rate))
        entry["sparc"] = scoring.mean(values)
        self.cycles.append(entry)
        self._cycle = [self._cycle[-1]]
        self._reached_toe = False
        self._toe_index = 0
        self.live.active_target = 0
        self.message = "Rock forward onto your toes."

    def measures(self):
        if not self.cycles or not self._total > 0:
            return None, {}
        rng = scoring.mean(c["range_mm"] for c in self.cycles)
        smooth = scoring.mean(c["sparc"] for c in self.cycles)
        excursion = 100.0 * rng / self.asked_mm if self.asked_mm > 0 else 0.0
        in_band = 100.0 * self._in / self._total
        smooth_pct = 0.0 if smooth is None else scoring.clip(100.0 * (smooth - SPARC_WORST) / (SPARC_BEST - SPARC_WORST))
        score = scoring.weighted({"excursion": (excursion, 0.4), "band": (in_band, 0.3), "smoothness": (smooth_pct, 0.3)})
        return score, {"asked_range_mm": self.asked_mm, "range_mm": rng, "excursion_pct": excursion,
                       "time_in_band_pct": in_band, "smoothness_sparc": smooth, "smoothness_pct": smooth_pct,
                       "cycles_complete": sum(c["complete"] for c in self.cycles), "cycles": self.cycles,
                       "score_parts": {"excursion": scoring.clip(excursion), "band": in_band, "smoothness": smooth_pct}}
