"""Drill 4, heel-to-toe (tandem) walk across the mat.

Every step the kernels detect on the mat (``kernels.detectors``, a "step"
event when a foot comes off) is judged against the step before it:

* heel-to-toe gap: from the toes of the previous footprint to this heel, along
  the previous foot's long axis (0 = heel against toes; negative = overlapping);
* step width: this heel's distance from the previous foot's long axis, positive
  on the foot's own side and negative when the feet cross (docs/metrics.md);
* foot roll: heel contact first (the COP at contact in the rear third of the
  footprint, Cavanagh & Lafortune 1980), a smooth heel-to-toe COP progression
  and a push-off (the COP reaching the front quarter of the foot).

A step is correct when the gap and the width are within the prescribed
tolerances and the heel touched first. Steps partly off the mat (at its ends)
cannot be measured and are not judged; neither is the first step of each pass
(it has no step before it on the mat). A step sideways wider than
``catch_step_mm`` is a balance-saving step: the drill stops for safety.
"""

from __future__ import annotations

import math

from drills import scoring
from drills.base import Drill
from drills.params import Param
from drills.safety import alert

HEEL_FIRST_PCT = 100.0 / 3.0  # strike index below this: the heel touched first
PUSH_OFF_FRACTION = 0.75  # the COP must reach this share of foot length
SMOOTH_PCT = 80.0  # net forward COP travel / total along-foot travel, %
PASS_GAP_S = 4.0  # a step more than this after the previous one starts a new pass
# A footprint is a whole foot when its length is within 80-120 % of the patient's foot length
# (given by the program as context["foot_length_mm"], else the median of the whole footprints so
# far once there are three), or 180-330 mm (adult feet) before that. Shorter ones are a foot only
# partly on the mat or the toes seen apart from the rest of the foot.
FOOT_LENGTH_TOLERANCE = 0.2
ADULT_FOOT_MM = (180.0, 330.0)
# Fewer judged steps than this (or than asked, if fewer were asked) give no score, not a low one.
MIN_SCORED_STEPS = 3


class TandemWalk(Drill):
    name = "tandem_walk"
    title = "Heel-to-toe walk"
    summary = "Walk along the mat placing each heel right against the toes of the other foot."
    INSTRUCTION = "Walk along the mat. Put each heel right against your other toes."
    HOME = ("Walk along a kitchen counter or a wall that you can touch with one hand. Put one foot right in "
            "front of the other, the heel touching the toes of the other foot, as if walking on a line. Look "
            "ahead, not at your feet.")
    NEEDS_STANCE = False
    PARAMS = (
        Param("steps", int, 10, "number of judged steps to walk", "", 3, 40),
        Param("max_gap_mm", float, 40.0, "largest allowed gap between heel and toes", "mm", 5, 150),
        Param("max_width_mm", float, 60.0, "largest allowed sideways distance from the other foot's line", "mm", 10, 150),
        Param("catch_step_mm", float, 200.0, "a step sideways wider than this stops the drill (balance lost)", "mm", 120, 400),
        Param("time_limit_s", float, 180.0, "the drill ends after this time even if steps are missing", "s", 30, 600),
    )
    PROGRESSION = ("max_gap_mm", (80.0, 60.0, 40.0, 25.0, 15.0))
    HEADLINE = (("Correct steps", "correct_pct", "%", "higher"),
                ("Heel-to-toe gap", "mean_gap_mm", "mm", "lower"),
                ("Foot roll", "mean_roll_quality_pct", "%", "higher"))

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.steps: list[dict] = []  # every measurable step, in contact order
        self.judged: list[dict] = []
        self.partial = 0
        self.live.attempted_steps = 0
        self.live.correct_steps = 0
        self.live.target_steps = self.params["steps"]

    def planned_duration(self):
        return None

    def home_details(self):
        return [f"{self.params['steps']} steps"]

    def progress(self):
        return min(1.0, len(self.judged) / self.params["steps"])

    def stopped_score(self, score, share):
        return score  # the formula's completion (judged / asked steps) already counts the steps not walked

    def on_frame(self, t, frame, events, insoles):
        for e in events:
            if e.kind == "step" and e.step is not None:
                self._step(t, e)
                if self.phase != "running":
                    return
        if len(self.judged) >= self.params["steps"]:
            self.finish(t)
        elif self.elapsed >= self.params["time_limit_s"]:
            self.finish(t)

    # --- one step -----------------------------------------------------------------------------

    def _on_mat(self, fp) -> bool:
        if fp is None or fp.points_mm is None or not len(fp.points_mm):
            return False
        if self.mat_shape is None or self.mat_pitch_mm is None:
            return True
        rows, cols = self.mat_shape
        pr, pc = self.mat_pitch_mm
        xs, ys = fp.points_mm[:, 0], fp.points_mm[:, 1]
        # Sensel centres in the outermost row or column: the foot may go on beyond the mat.
        return xs.min() > pc and xs.max() < (cols - 1) * pc and ys.min() > pr and ys.max() < (rows - 1) * pr

    def _whole_foot(self, length: float) -> bool:
        ref = self.context.get("foot_length_mm")
        if not ref and len(self.steps) >= 3:
            ref = sorted(s["length_mm"] for s in self.steps)[len(self.steps) // 2]
        if ref:
            return abs(length - ref) <= FOOT_LENGTH_TOLERANCE * ref
        return ADULT_FOOT_MM[0] <= length <= ADULT_FOOT_MM[1]

    def _step(self, t, event):
        step = event.step
        fp = step.footprint
        if not self._on_mat(fp) or event.foot not in ("left", "right") or not self._whole_foot(fp.length_mm):
            self.partial += 1
            return
        entry = {"foot": event.foot, "contact_s": step.contact_s, "heel_mm": fp.heel_mm, "axis": fp.axis,
                 "length_mm": fp.length_mm, **self._roll(step, fp, event.metrics)}
        previous = [s for s in self.steps if s["contact_s"] < step.contact_s]
        self.steps.append(entry)
        self.steps.sort(key=lambda s: s["contact_s"])
        if not previous:
            return
        prev = previous[-1]
        if step.contact_s - prev["contact_s"] > PASS_GAP_S or prev["foot"] == entry["foot"]:
            return  # a new pass, or the same foot twice (a shuffle): no heel-to-toe pair to judge
        ax, ay = prev["axis"]
        dx, dy = fp.heel_mm[0] - prev["heel_mm"][0], fp.heel_mm[1] - prev["heel_mm"][1]
        along = dx * ax + dy * ay
        left_of_line = -dx * ay + dy * ax  # toward the previous foot's left
        width = left_of_line if entry["foot"] == "left" else -left_of_line
        entry["gap_mm"] = along - prev["length_mm"]
        entry["width_mm"] = width
        entry["step_time_s"] = step.contact_s - prev["contact_s"]
        entry["step_length_mm"] = along
        if abs(width) > self.params["catch_step_mm"]:
            self.raise_alert(alert("side_step", t))
            return
        gap_ok = abs(entry["gap_mm"]) <= self.params["max_gap_mm"]
        width_ok = abs(width) <= self.params["max_width_mm"]
        entry["correct"] = bool(gap_ok and width_ok and entry["heel_first"])
        self.judged.append(entry)
        self.live.attempted_steps = len(self.judged)
        self.live.correct_steps = sum(s["correct"] for s in self.judged)
        if entry["correct"]:
            self.message = "Good step!"
            self._cue("step_ok", t)
        else:
            self._cue("step_bad", t)
            if not gap_ok:
                self.message = "Place your heel against your toes."
            elif not width_ok:
                self.message = "Keep your feet on one straight line."
            else:
                self.message = "Put your heel down first."
        self.live.values = {"gap_mm": entry["gap_mm"], "width_mm": width, "roll_quality_pct": entry["roll_quality_pct"]}

    @staticmethod
    def _roll(step, fp, metrics) -> dict:
        strike = (metrics or {}).get("strike_index_pct")
        along = []
        for x, y in step.cop_mm:
            if math.isfinite(x) and math.isfinite(y):
                along.append(fp.to_foot((x, y))[0])
        heel_first = strike is not None and strike < HEEL_FIRST_PCT
        smooth_pct = None
        push_off = False
        if len(along) >= 3:
            travel = sum(abs(b - a) for a, b in zip(along, along[1:], strict=False))
            smooth_pct = 100.0 * max(0.0, along[-1] - along[0]) / travel if travel > 0 else 0.0
            push_off = max(along) >= PUSH_OFF_FRACTION * fp.length_mm
        checks = (heel_first, smooth_pct is not None and smooth_pct >= SMOOTH_PCT, push_off)
        return {"strike_index_pct": strike, "heel_first": heel_first, "progression_pct": smooth_pct,
                "push_off": push_off, "roll_quality_pct": 100.0 * sum(checks) / 3.0}

    def measures(self):
        if not self.judged:
            return None, {"partial_steps": self.partial, "steps_seen": len(self.steps)} if self.steps else {}
        j = self.judged
        attempted = len(j)
        correct = sum(s["correct"] for s in j)
        accuracy = 100.0 * correct / attempted
        roll = scoring.mean(s["roll_quality_pct"] for s in j)
        completion = min(1.0, attempted / self.params["steps"])
        score = completion * scoring.weighted({"accuracy": (accuracy, 0.7), "roll": (roll, 0.3)})
        time = sum(s["step_time_s"] for s in j)
        speed = sum(s["step_length_mm"] for s in j) / time if time > 0 else None
        per_step = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items() if k != "axis"} for s in j]
        if attempted < min(MIN_SCORED_STEPS, self.params["steps"]):
            # One or two judged steps say too little to score: the patient may have walked on while the
            # mat could not measure their steps (partial_steps). The measures are kept; no score.
            score = None
        return score, {
            "attempted_steps": attempted, "correct_steps": correct, "correct_pct": accuracy,
            "mean_gap_mm": scoring.mean(s["gap_mm"] for s in j), "mean_width_mm": scoring.mean(s["width_mm"] for s in j),
            "mean_roll_quality_pct": roll, "speed_mm_s": speed, "partial_steps": self.partial, "steps": per_step,
            "score_parts": {"accuracy": accuracy, "roll": roll, "completion_pct": 100.0 * completion},
        }
