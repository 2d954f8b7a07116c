"""Drill 3, rhythmic weight shift: sway side to side (or forward and back) with a metronome.

Two targets at ``amplitude_pct`` % of the patient's limits of stability on
either side of the resting centre, along ``axis`` ("ml" left-right, "ap"
forward-back). A tick sounds every half cycle and the other target lights; the
patient moves the dot from one to the other in time, for ``cycles`` cycles of
``period_s`` seconds (3, 2, 1 s per cycle from easy to hard).

Measures (NeuroCom Rhythmic Weight Shift, on the COP in mm; docs/drills.md):
on-axis velocity (mean speed along the axis), directional control (movement
along the axis against movement across it), and the on-axis velocity the
rhythm asks for (4 x amplitude / period).
"""

from __future__ import annotations

from drills import scoring
from drills.base import Drill, Target
from drills.params import Param


class RhythmicShift(Drill):
    name = "rhythmic_shift"
    title = "Sway in time"
    summary = "Shift weight left-right or forward-back between two targets in time with a metronome."
    INSTRUCTION = "Keep your feet flat. Sway the dot to the lit target on each beat."
    HOME = ("Stand with your feet apart, with a sturdy chair or a kitchen counter in front of you to hold on "
            "to. Keep both feet flat on the floor and shift your weight slowly {way}, in a steady rhythm: "
            "count slowly as you sway.")
    PARAMS = (
        Param("axis", str, "ml", "direction of the shift: ml = left-right, ap = forward-back", choices=("ml", "ap")),
        Param("period_s", float, 3.0, "seconds per full cycle (there and back)", "s", 1, 4),
        Param("cycles", int, 10, "number of cycles", "", 3, 30),
        Param("amplitude_pct", float, 60.0, "targets at this share of the patient's limits of stability", "%", 30, 90),
        Param("target_radius_mm", float, 20.0, "radius of each target", "mm", 10, 40),
    )
    PROGRESSION = ("period_s", (3.0, 2.0, 1.0))
    HEADLINE = (("Speed in time", "on_axis_velocity_pct", "%", "higher"),
                ("Control", "directional_control_pct", "%", "higher"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self._beat_t0 = None
        self._beats_offset = 0
        self._last = None
        self._along = self._across = self._time = 0.0
        self._hits = 0
        self._hit_this_beat = False
        self.amplitude_mm = None

    def planned_duration(self):
        return self.params["period_s"] * self.params["cycles"]

    def home_instructions(self):
        way = ("onto your left foot, then onto your right foot" if self.params["axis"] == "ml"
               else "forward towards your toes, then back towards your heels")
        return self.HOME.format(way=way)

    def home_details(self):
        p = self.params
        return [f"{p['cycles']} times there and back, about {p['period_s']:g} seconds each time"]

    def _axis(self):
        return (1.0, 0.0) if self.params["axis"] == "ml" else (0.0, 1.0)

    def on_start(self, t):
        self._place_targets()
        self._start_beats(t)

    def _place_targets(self):
        u = self._axis()
        c = self.stance.centre_mm
        measured = self.context.get("limits_mm") or {}
        names = ("left", "right") if self.params["axis"] == "ml" else ("back", "forward")
        reach = []
        for name, sign in zip(names, (-1.0, 1.0), strict=True):
            default = self.stance.limit((sign * u[0], sign * u[1]))
            reach.append(min(float(measured[name]), default) if measured.get(name) else default)
        # One amplitude for both sides: the smaller limit, so that both targets are reachable.
        self.amplitude_mm = self.params["amplitude_pct"] / 100.0 * min(reach)
        a, r = self.amplitude_mm, self.params["target_radius_mm"]
        self.live.targets = (Target(c[0] - u[0] * a, c[1] - u[1] * a, r, names[0]),
                             Target(c[0] + u[0] * a, c[1] + u[1] * a, r, names[1]))
        self.live.metronome_period_s = self.params["period_s"] / 2.0

    def on_resume(self, t):
        self._place_targets()
        self._start_beats(t)

    def on_pause(self, t):
        self._last = None

    def _start_beats(self, t):
        self._beat_t0 = t
        self._beats_offset = self.live.beats
        self._beat(t)

    def _beat(self, t):
        self.live.beats += 1
        self.live.active_target = 1 - (self.live.active_target or 0) if self.live.active_target is not None else 0
        self._hit_this_beat = False
        self._cue("tick", t)

    def on_frame(self, t, frame, events, insoles):
        half = self.params["period_s"] / 2.0
        while t - self._beat_t0 >= (self.live.beats - self._beats_offset) * half - 1e-9:
            self._beat(self._beat_t0 + (self.live.beats - self._beats_offset) * half)
        cop = frame.cop_mm
        u = self._axis()
        if self._last is not None:
            dx, dy = cop[0] - self._last[1], cop[1] - self._last[2]
            self._along += abs(dx * u[0] + dy * u[1])
            self._across += abs(-dx * u[1] + dy * u[0])
            self._time += t - self._last[0]
        self._last = (t, cop[0], cop[1])
        if not self._hit_this_beat and self.live.targets[self.live.active_target].contains(cop):
            self._hit_this_beat = True
            self._hits += 1
        if self.elapsed >= self.planned_duration() - 1e-9:
            self.finish(t)

    def measures(self):
        if not self._time > 0 or not self._along > 0 or not self.amplitude_mm > 0:
            return None, {}
        v = self._along / self._time
        wanted = 4.0 * self.amplitude_mm / self.params["period_s"]
        dcl = 100.0 * (self._along - self._across) / self._along
        timing = 100.0 * min(v / wanted, wanted / v) if v > 0 else 0.0
        score = scoring.weighted({"control": (dcl, 0.5), "timing": (timing, 0.5)})
        return score, {
            "axis": self.params["axis"], "period_s": self.params["period_s"], "amplitude_mm": self.amplitude_mm,
            "on_axis_velocity_mm_s": v, "wanted_velocity_mm_s": wanted, "on_axis_velocity_pct": 100.0 * v / wanted,
            "directional_control_pct": dcl, "targets_hit": self._hits, "beats": self.live.beats,
            "score_parts": {"control": dcl, "timing": timing},
        }
