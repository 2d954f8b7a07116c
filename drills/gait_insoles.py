"""Drill 7, gait retraining with the insoles (treadmill or hallway, away from the mat).

Two parts: a baseline walk of ``baseline_s`` at the patient's own pace, whose
cadence sets the target, then ``training_s`` with a metronome at
``uplift_pct`` % above the baseline cadence (cadence retraining of +5 to +10 %,
the range the therapist prescribes from; in running, Heiderscheit et al. 2011
found that +5 to +10 % lowers the load at the hip and knee).
Live: cadence (the last ``CADENCE_WINDOW`` contacts), contact time of the last
step, its strike pattern (heel, midfoot or forefoot: the strike index in
thirds of foot length, Cavanagh & Lafortune 1980), its loading rate, and
left/right symmetry (Robinson et al. 1987 symmetry index of contact time).

Events are the insoles' foot streams (``kernels.detectors.FootStream``, source
"insole"); the strike index needs the foot length (``KernelFeed(...,
foot_length_mm=...)``).
"""

from __future__ import annotations

from drills import scoring
from drills.base import Drill
from drills.params import Param

CADENCE_WINDOW = 8  # contacts in the live cadence
SYMMETRY_WINDOW = 10  # steps per side in the live symmetry index


def strike_pattern(strike_index_pct: float | None) -> str | None:
    """Rearfoot < 33 % of foot length <= midfoot < 67 % <= forefoot (Cavanagh & Lafortune 1980)."""
    if strike_index_pct is None:
        return None
    if strike_index_pct < 100.0 / 3.0:
        return "heel"
    return "midfoot" if strike_index_pct < 200.0 / 3.0 else "forefoot"


def cadence(contacts: list[float]) -> float | None:
    """(contacts - 1) / (last - first) x 60, steps per minute (docs/metrics.md)."""
    if len(contacts) < 2 or not contacts[-1] > contacts[0]:
        return None
    return 60.0 * (len(contacts) - 1) / (contacts[-1] - contacts[0])


def robinson_si(right: float | None, left: float | None) -> float | None:
    if right is None or left is None or not (right + left) > 0:
        return None
    return 100.0 * (right - left) / (0.5 * (right + left))


class GaitInsoles(Drill):
    name = "gait_insoles"
    title = "Walk to the beat"
    summary = "Walk with the insoles: first at your own pace, then in time with a slightly faster beat."
    INSTRUCTION = "Walk at your usual pace. When the beat starts, step on each beat."
    HOME = ("Walk on level ground, in a hallway or outside, in your usual shoes and with your walking aid "
            "if you use one. First walk at your usual pace. Then walk a little faster for the rest of the time, "
            "in a steady rhythm: count your steps, or walk to music with a steady beat.")
    SENSORS = ("insoles",)
    NEEDS_STANCE = False
    PARAMS = (
        Param("baseline_s", float, 30.0, "walk at the patient's own pace to measure the cadence", "s", 10, 180),
        Param("training_s", float, 60.0, "walk with the metronome", "s", 20, 600),
        Param("uplift_pct", float, 5.0, "metronome above the baseline cadence", "%", 0, 15),
        Param("tolerance_pct", float, 3.0, "cadence within this share of the target counts as on the beat", "%", 1, 10),
    )
    PROGRESSION = ("uplift_pct", (5.0, 7.5, 10.0))
    HEADLINE = (("Cadence", "training.cadence_steps_min", "steps/min", "higher"),
                ("On the beat", "on_beat_pct", "%", "higher"),
                ("Left/right difference", "training.abs_symmetry_index_pct", "%", "lower"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.part = "baseline"
        self._parts = {"baseline": [], "training": []}  # step entries per part
        self._contacts: list[float] = []
        self.baseline_cadence = None
        self.target_cadence = None
        self._beat_t0 = None
        self._on_beat_s = self._training_time = 0.0
        self._last_t = None

    def planned_duration(self):
        return self.params["baseline_s"] + self.params["training_s"]

    def home_details(self):
        return [f"the first {self.params['baseline_s']:.0f} seconds at your usual pace"]

    def on_start(self, t):
        self._last_t = t
        self.message = "Walk at your usual pace."

    def on_resume(self, t):
        self._last_t = t
        self._contacts = []
        if self.part == "training":
            self._beat_t0 = t
            self.live.beats = 0

    def on_frame(self, t, frame, events, insoles):
        dt = t - self._last_t
        self._last_t = t
        for e in events:
            if e.kind == "contact":
                self._contacts.append(e.t)
                self._contacts = self._contacts[-CADENCE_WINDOW:]
            elif e.kind == "step" and e.metrics is not None:
                m = e.metrics
                entry = {"foot": e.foot, "contact_s": m["contact_s"], "stance_s": m["stance_s"],
                         "strike_index_pct": m["strike_index_pct"], "strike": strike_pattern(m["strike_index_pct"]),
                         "loading_rate_n_s": m["loading_rate_n_s"], "peak_force_n": m["peak_force_n"]}
                self._parts[self.part].append(entry)
                self.live.values = {"contact_ms": None if entry["stance_s"] is None else 1000.0 * entry["stance_s"],
                                    "strike": entry["strike"], "loading_rate_n_s": entry["loading_rate_n_s"],
                                    "symmetry_index_pct": self._symmetry(self._parts[self.part][-2 * SYMMETRY_WINDOW:])}
        self.live.cadence_steps_min = cadence(self._contacts)
        if self.part == "baseline" and self.elapsed >= self.timed(self.params["baseline_s"]):
            self._start_training(t)
        elif self.part == "training":
            self._beats(t)
            self._training_time += dt
            c = self.live.cadence_steps_min
            if c is not None and abs(c - self.target_cadence) <= self.params["tolerance_pct"] / 100.0 * self.target_cadence:
                self._on_beat_s += dt
            if self.elapsed >= self.planned_duration() - 1e-9:
                self.finish(t)

    def _start_training(self, t):
        self.part = "training"
        contacts = sorted(s["contact_s"] for s in self._parts["baseline"])
        self.baseline_cadence = cadence(contacts) or self.live.cadence_steps_min or 100.0
        self.target_cadence = self.baseline_cadence * (1.0 + self.params["uplift_pct"] / 100.0)
        self.live.target_cadence_steps_min = self.target_cadence
        self.live.metronome_period_s = 60.0 / self.target_cadence
        self._beat_t0 = t
        self.live.beats = 0
        self.message = "Now step on each beat."
        self._cue("target", t, "Now step on each beat.")

    def _beats(self, t):
        period = self.live.metronome_period_s
        while t - self._beat_t0 >= self.live.beats * period - 1e-9:
            self._cue("tick", self._beat_t0 + self.live.beats * period)
            self.live.beats += 1

    @staticmethod
    def _symmetry(steps) -> float | None:
        left = scoring.mean(s["stance_s"] for s in steps if s["foot"] == "left")
        right = scoring.mean(s["stance_s"] for s in steps if s["foot"] == "right")
        return robinson_si(right, left)

    def _summary(self, steps) -> dict:
        contacts = sorted(s["contact_s"] for s in steps)
        strikes = [s["strike"] for s in steps if s["strike"]]
        si = self._symmetry(steps)
        return {
            "steps": len(steps), "cadence_steps_min": cadence(contacts),
            "contact_time_s": scoring.mean(s["stance_s"] for s in steps),
            "loading_rate_n_s": scoring.mean(s["loading_rate_n_s"] for s in steps),
            "strike_pattern": {k: strikes.count(k) for k in ("heel", "midfoot", "forefoot")},
            "symmetry_index_pct": si, "abs_symmetry_index_pct": None if si is None else abs(si),
        }

    def measures(self):
        base, train = self._parts["baseline"], self._parts["training"]
        if not base and not train:
            return None, {}
        out = {"baseline": self._summary(base), "training": self._summary(train),
               "baseline_cadence_steps_min": self.baseline_cadence, "target_cadence_steps_min": self.target_cadence}
        if self.target_cadence is None or not train:
            return None, out
        achieved = out["training"]["cadence_steps_min"]
        tol = max(self.target_cadence - self.baseline_cadence, self.params["tolerance_pct"] / 100.0 * self.target_cadence)
        cadence_pct = scoring.closeness_pct(achieved, self.target_cadence, tol)
        on_beat = 100.0 * self._on_beat_s / self._training_time if self._training_time > 0 else 0.0
        si = out["training"]["abs_symmetry_index_pct"]
        symmetry_pct = scoring.clip(100.0 - 5.0 * si) if si is not None else 0.0
        out.update(on_beat_pct=on_beat, score_parts={"cadence": cadence_pct, "on_beat": on_beat, "symmetry": symmetry_pct})
        return scoring.weighted({"cadence": (cadence_pct, 0.4), "on_beat": (on_beat, 0.3),
                                 "symmetry": (symmetry_pct, 0.3)}), out
