"""Drill 6, weight-bearing symmetry: hold an even (or prescribed) share of weight on each foot.

A live left/right bar shows the left foot's share of the load with the target
band (``target_left_pct`` ± ``tolerance_pct``). Postures: standing, a held
squat (knees bent), or repeated sit-to-stand (the share counts only while the
feet carry more than half the body weight, and the stands are counted).
Healthy adults stand within about 7 % of equal (left and right within 7 % of
body weight of each other, i.e. a left share of 46.5-53.5 %), so the default
tolerance is 3.5 percentage points on the left share.

Score: the share of (loaded) time the bar stayed inside the band.
"""

from __future__ import annotations

import dataclasses

from drills import scoring
from drills.base import Drill
from drills.params import Param
from drills.safety import SafetyMonitor

POSTURES = ("standing", "squat", "sit_to_stand")
_WORDS = {
    "standing": "Stand tall. Keep the marker in the green band.",
    "squat": "Bend your knees halfway and hold. Keep the marker in the green band.",
    "sit_to_stand": "Stand up and sit down slowly. Keep the marker in the green band.",
}
# Without the live bar at home: a mirror and the feel of the feet.
_HOME = {
    "standing": "Stand tall with your feet apart, a sturdy chair beside you, in front of a mirror if you have one. "
                "Share your weight between your feet as practised and hold it there.",
    "squat": "Stand with your feet apart, holding on to a sturdy chair or a kitchen counter. Bend your knees "
             "halfway and hold, with your weight shared between your feet as practised.",
    "sit_to_stand": "Sit on a firm chair without wheels, its back against a wall, your feet apart and flat on the "
                    "floor. Stand up and sit down slowly, pushing through both feet as practised. Use the "
                    "armrests if you need to.",
}
LOADED_FRACTION = 0.5  # sit-to-stand: the share counts only above half body weight
STAND_UP_FRACTION = 0.8  # a stand is counted when the load rises through this after sitting


class WeightSymmetry(Drill):
    name = "weight_symmetry"
    title = "Even weight"
    summary = "Hold the prescribed share of weight on each foot (standing, squat or sit-to-stand) with a live bar."
    INSTRUCTION = _WORDS["standing"]
    HOME = _HOME["standing"]
    PARAMS = (
        Param("posture", str, "standing", "what the patient does while holding the share", choices=POSTURES),
        Param("target_left_pct", float, 50.0, "share of the weight on the left foot", "%", 30, 70),
        Param("tolerance_pct", float, 3.5, "allowed difference from the target share (percentage points)", "%", 1, 15),
        Param("duration_s", float, 30.0, "how long the drill runs", "s", 10, 180),
    )
    PROGRESSION = ("tolerance_pct", (7.0, 5.0, 3.5, 2.5, 1.5))
    HEADLINE = (("Time in the band", "time_in_band_pct", "%", "higher"),
                ("Off by", "mean_abs_deviation_pct", "points", "lower"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        p = self.params
        self.instruction = _WORDS[p["posture"]]
        self.live.target_left_pct = p["target_left_pct"]
        self.live.tolerance_pct = p["tolerance_pct"]
        self._last_t = None
        self._in = self._loaded = self._dev = self._share_t = 0.0
        self.stands = 0
        self._seated = False
        self._peak = 0.0

    def make_safety(self):
        mode = "seated" if self.params["posture"] == "sit_to_stand" else "two_feet"
        return SafetyMonitor(mode, mat_shape=self.mat_shape)

    def ready(self, frame):
        if self.params["posture"] != "sit_to_stand":
            return super().ready(frame)
        if frame is None or frame.cop_mm is None or frame.force_n < 50.0 or len(frame.feet) < 2:
            return False, "Sit on the chair with both feet flat on the mat."
        return True, ""

    def planned_duration(self):
        return self.params["duration_s"]

    def home_instructions(self):
        return _HOME[self.params["posture"]]

    def home_details(self):
        left = self.params["target_left_pct"]
        if abs(left - 50.0) < 0.5:
            return ["the same weight on both feet"]
        side, share = ("left", left) if left > 50.0 else ("right", 100.0 - left)
        return [f"a little more weight on your {side} foot (about {share:.0f} %)"]

    def on_start(self, t):
        self._last_t = t
        self._peak = self.stance.weight_n

    def on_resume(self, t):
        self._last_t = t
        if self.stance.weight_n < self._peak:
            # Measured again, perhaps seated: keep the standing weight seen before.
            self.stance = dataclasses.replace(self.stance, weight_n=self._peak)
            self.safety.stance = self.stance

    def on_frame(self, t, frame, events, insoles):
        dt = t - self._last_t
        self._last_t = t
        force = frame.force_n
        if self.params["posture"] == "sit_to_stand":
            self._track_stands(force)
        w = self.stance.weight_n
        share = self.live.left_pct
        loaded = share is not None and (self.params["posture"] != "sit_to_stand" or force > LOADED_FRACTION * w)
        if loaded:
            dev = abs(share - self.params["target_left_pct"])
            self._loaded += dt
            self._dev += dev * dt
            self._share_t += share * dt
            if dev <= self.params["tolerance_pct"]:
                self._in += dt
        if self.elapsed >= self.params["duration_s"] - 1e-9:
            self.finish(t)

    def _track_stands(self, force):
        # The weight seen while seated understates body weight: follow the highest standing load.
        if force > self._peak * 1.02:
            self._peak = force
            self.stance = dataclasses.replace(self.stance, weight_n=force)
            self.safety.stance = self.stance
        w = self.stance.weight_n
        if force < LOADED_FRACTION * w:
            self._seated = True
        elif self._seated and force > STAND_UP_FRACTION * w:
            self._seated = False
            self.stands += 1
            self._cue("step_ok", self.t)

    def measures(self):
        if not self._loaded > 0:
            return None, {}
        in_band = 100.0 * self._in / self._loaded
        out = {"posture": self.params["posture"], "target_left_pct": self.params["target_left_pct"],
               "tolerance_pct": self.params["tolerance_pct"], "mean_left_pct": self._share_t / self._loaded,
               "mean_abs_deviation_pct": self._dev / self._loaded, "time_in_band_pct": in_band,
               "loaded_s": self._loaded}
        if self.params["posture"] == "sit_to_stand":
            out["stands"] = self.stands
        return scoring.clip(in_band), out
