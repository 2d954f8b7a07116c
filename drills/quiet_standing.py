"""Drill 1, quiet standing: stand still in a given stance, eyes open and/or closed.

The patient sees their centre of pressure as a dot and a target zone around
where they stood at the start; the score is the share of time the dot stayed
in the zone. At the end the sway set of ``kernels.sway`` (docs/metrics.md) is
computed for each condition, of the COP low-passed as the report does it; with
``eyes=both`` the drill runs eyes open, then eyes closed, and reports the Romberg ratios (eyes closed / eyes open) of the
95 % ellipse area and the mean COP velocity.
"""

from __future__ import annotations

import math

import numpy as np

from drills.base import Drill, Target
from drills.geometry import FootGeometry
from drills.params import Param
from drills.safety import SafetyMonitor

STANCES = ("apart", "together", "semi_tandem", "tandem", "single_left", "single_right")

# Short enough to read at arm's length: "<stance>. <eyes>." stays within 80 characters (tested).
_STANCE_WORDS = {
    "apart": "Stand with your feet apart",
    "together": "Stand with your feet together",
    "semi_tandem": "Put one heel beside your other big toe",
    "tandem": "Put one foot right in front of the other",
    "single_left": "Stand on your left foot only",
    "single_right": "Stand on your right foot only",
}


class QuietStanding(Drill):
    name = "quiet_standing"
    title = "Stand still"
    summary = "Stand as still as possible in a given stance; eyes open, closed or both (Romberg)."
    PARAMS = (
        Param("stance", str, "apart", "foot position", choices=STANCES),
        Param("eyes", str, "open", "eyes open, closed, or both one after the other (Romberg ratio)",
              choices=("open", "closed", "both")),
        Param("duration_s", float, 30.0, "how long to stand still, per eyes condition", "s", 10, 120),
        Param("zone_radius_mm", float, 20.0, "radius of the target zone around the starting point", "mm", 5, 60),
    )
    MEASURES_VERSION = 2  # 2: sway from the mat's COP low-passed at 10 Hz (metrics version 3)
    HEADLINE = (("Sway area", "headline.ellipse95_area_mm2", "mm²", "lower"),
                ("Sway speed", "headline.mean_velocity_mm_s", "mm/s", "lower"))
    PROGRESSION = ("stance", ("apart", "together", "semi_tandem", "tandem", "single_left"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        p = self.params
        self.conditions = ["open", "closed"] if p["eyes"] == "both" else [p["eyes"]]
        self.cond_index = 0
        self.single = p["stance"] if p["stance"].startswith("single") else None
        self.stance_side = None if self.single is None else self.single.split("_")[1]
        self._samples: list[list] = [[] for _ in self.conditions]  # (t, x, y) per condition
        self._inside: list[list[float]] = [[0.0, 0.0] for _ in self.conditions]  # seconds in zone, total
        self._cond_elapsed = 0.0
        self._last_t = None
        self.instruction = self._words()

    @property
    def condition(self) -> dict:
        """The current condition (stance, eyes), for the screen's picture and the virtual patient."""
        return {"stance": self.params["stance"], "eyes": self.conditions[self.cond_index]}

    def _words(self) -> str:
        eyes = self.conditions[self.cond_index]
        what = _STANCE_WORDS[self.params["stance"]]
        tail = "Close your eyes and stand still." if eyes == "closed" else "Stand still and watch the dot."
        return f"{what}. {tail}"

    def home_instructions(self) -> str:
        what = _STANCE_WORDS[self.params["stance"]]
        lift = " Lift the other foot just off the floor." if self.single else ""
        eyes = {"open": "Look at a spot on the wall in front of you and stand as still as you can.",
                "closed": "Close your eyes and stand as still as you can. Open them at once if you start to tip.",
                "both": "Look at a spot on the wall and stand as still as you can; then do the same with your eyes "
                        "closed. Open them at once if you start to tip."}[self.params["eyes"]]
        return (f"Stand in the corner of a room, or with a sturdy chair in front of you, close enough to hold on. "
                f"{what}.{lift} {eyes}")

    def home_details(self) -> list[str]:
        return [{"open": "eyes open", "closed": "eyes closed",
                 "both": "first half with your eyes open, second half with your eyes closed"}[self.params["eyes"]]]

    def make_safety(self):
        if self.single:
            return SafetyMonitor("single_leg", stance_side=self.stance_side, mat_shape=self.mat_shape)
        return SafetyMonitor("two_feet", mat_shape=self.mat_shape)

    def ready(self, frame):
        if not self.single:
            ok, why = super().ready(frame)
            return ok, why or self.stance_hint(frame)
        if frame is None or frame.cop_mm is None or frame.force_n < 100.0:
            return False, "Stand in the middle of the mat."
        free = frame.right if self.stance_side == "left" else frame.left
        stand = frame.left if self.stance_side == "left" else frame.right
        if stand is None:
            return False, f"Stand on your {self.stance_side} leg."
        if free is not None and free.force_n > 0.1 * frame.force_n:
            return False, "Now lift the other foot."
        if self.at_mat_edge(frame):
            return False, "Move to the middle of the mat."
        return True, ""

    def stance_hint(self, frame) -> str:
        """A gentle reminder when the feet are not in the prescribed position ('' when they are)."""
        stance = self.params["stance"]
        if stance in ("apart",) or self.single or frame is None or len(frame.feet) < 2:
            return ""
        a, b = (FootGeometry.from_foot(f) for f in frame.feet[:2])
        if a is None or b is None:
            return ""
        (ax, ay), (bx, by) = a.centre(), b.centre()
        side_gap = abs(ax - bx) - 0.5 * (a.width_mm + b.width_mm)
        if stance == "together" and side_gap > 30.0:
            return "Bring your feet together."
        if stance in ("semi_tandem", "tandem") and abs(ay - by) < 0.3 * min(a.length_mm, b.length_mm):
            return "Put one foot in front of the other."
        return ""

    def reference_feet(self, frame):
        if not self.single:
            return frame.feet
        return tuple(f for f in frame.feet if f.side == self.stance_side)

    def planned_duration(self):
        return self.params["duration_s"] * len(self.conditions)

    def on_start(self, t):
        self._zone()
        self._last_t = t

    def on_resume(self, t):
        self._zone()  # around where the patient stands now (and for the eyes-closed part)
        self._last_t = t

    def _zone(self):
        cx, cy = self.stance.centre_mm
        self.live.zone = Target(cx, cy, self.params["zone_radius_mm"], "zone")

    def on_frame(self, t, frame, events, insoles):
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        i = self.cond_index
        cop = frame.cop_mm
        self._samples[i].append((t, cop[0], cop[1]))
        self._inside[i][1] += dt
        if self.live.zone.contains(cop):
            self._inside[i][0] += dt
        self._cond_elapsed += dt
        if self._cond_elapsed >= self.timed(self.params["duration_s"]) - 1e-9:
            if i + 1 < len(self.conditions):
                self.cond_index += 1
                self._cond_elapsed = 0.0
                self.instruction = self._words()
                self._cue("target", t, "Now close your eyes and stand still.")
                self.safety.disarm()
                self._to_countdown()
                self.countdown_total = max(self.countdown_total, 5.0)
                self._countdown_left = self.countdown_total
            else:
                self.finish(t)

    def measures(self):
        from kernels.sway import SENSOR_COP_LOWPASS_HZ, filtered_sway

        per = {}
        scores = []
        for eyes, samples, (inside, total) in zip(self.conditions, self._samples, self._inside, strict=True):
            if len(samples) < 10 or not total > 0:
                continue
            a = np.asarray(samples, dtype=np.float64)
            span = a[-1, 0] - a[0, 0]
            rate = (len(a) - 1) / span if span > 0 else 100.0
            # The mat's COP, low-passed as the report does it (docs/metrics.md section 2), so the
            # sway speed the therapist sees is the report's and not the sensor's read noise.
            sway, _, filt, _ = filtered_sway(a[:, 1:], rate, SENSOR_COP_LOWPASS_HZ, strict=False)
            in_zone = 100.0 * inside / total
            scores.append(in_zone)
            per[f"eyes_{eyes}"] = {"time_in_zone_pct": in_zone, "duration_s": total, "rate_hz": rate, "sway": sway,
                                   "filter": filt}
        if not scores:
            return None, {}
        out = {"stance": self.params["stance"], "conditions": per, "feet": _placement(self.stance)}
        op, cl = per.get("eyes_open"), per.get("eyes_closed")
        if op and cl:
            out["romberg"] = {
                "ellipse_area_ratio": _ratio(cl["sway"]["ellipse95_area_mm2"], op["sway"]["ellipse95_area_mm2"]),
                "mean_velocity_ratio": _ratio(cl["sway"]["mean_velocity_mm_s"], op["sway"]["mean_velocity_mm_s"]),
            }
        first = next(iter(per.values()))["sway"]
        out["headline"] = {"ellipse95_area_mm2": first["ellipse95_area_mm2"],
                           "mean_velocity_mm_s": first["mean_velocity_mm_s"]}
        return sum(scores) / len(scores), out


def _placement(stance) -> dict:
    """Where the feet stood: heel-to-heel distance sideways and front-back (mm), for the record."""
    feet = stance.feet if stance else ()
    if len(feet) < 2:
        return {"feet": len(feet)}
    (ax, ay), (bx, by) = feet[0].heel_mm, feet[1].heel_mm
    return {"feet": len(feet), "heels_sideways_mm": abs(ax - bx), "heels_front_back_mm": abs(ay - by)}


def _ratio(a, b):
    if a is None or b is None or not b > 0 or not math.isfinite(a):
        return None
    return float(a) / float(b)
