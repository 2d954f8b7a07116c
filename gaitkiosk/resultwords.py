"""A drill result in words a patient reads at a glance: what they did, and how it went against last time.

The result screen shows the score out of 100 with stars, one comparison with
last time ("Steadier than last time.") and one or two plain sentences ("You
stood still for 30 seconds."). No units, no measure names: the detailed
measures (sway area, gap in mm, Romberg ratios, ...) stay in the stored trial
results for the therapist (``gaitkiosk session show``, exports, reports).

Each drill names the one measure a patient cares about (:data:`MEASURE`) and
how to say better or worse; :func:`comparison` compares it with the same
drill's previous result, and falls back to the score when the measure is
missing. Changes smaller than :data:`SAME_FRACTION` of the value are "about
the same": a patient should not be told they got worse by noise. Only like is
compared with like (``drills.scoring.not_comparable``): a stopped run is never
compared, and a run at another level is "a new starting point".

A drill stopped early (docs/drills.md) says so and that it counts as practice
when the patient did some of it; the goodbye counts the same exercises
(:func:`practised`).
"""

from __future__ import annotations

import math

from drills.scoring import lookup, not_comparable

SAME_FRACTION = 0.05  # a change under 5 % of the measure (or 3 points of score) is "about the same"
SAME_POINTS = 3.0

# drill -> (dotted path in measures, "lower"/"higher" is better, better words, worse words, same words)
MEASURE = {
    "quiet_standing": ("headline.ellipse95_area_mm2", "lower",
                       "Steadier than last time.", "A little less steady than last time.", "As steady as last time."),
    "limits_of_stability": ("summary.max_excursion_pct", "higher",
                            "You leaned further than last time.", "Not quite as far as last time.",
                            "As far as last time."),
    "rhythmic_shift": ("score", "higher", "Better in time than last time.", "Not quite as good as last time.",
                       "As good as last time."),
    "tandem_walk": ("correct_pct", "higher", "More good steps than last time.", "Fewer good steps than last time.",
                    "As many good steps as last time."),
    "heel_toe_rocking": ("excursion_pct", "higher", "You rocked further than last time.",
                         "Not quite as far as last time.", "As far as last time."),
    "weight_symmetry": ("time_in_band_pct", "higher", "More even than last time.", "A little less even than last time.",
                        "As even as last time."),
    "gait_insoles": ("on_beat_pct", "higher", "More on the beat than last time.", "Less on the beat than last time.",
                     "As much on the beat as last time."),
}


def stars(score: float | None) -> int:
    """0 to 5 stars for a 0-100 score (one per 20 points, rounded: 70 -> 4, 89 -> 4, 90 -> 5)."""
    if score is None or not math.isfinite(score):
        return 0
    return int(max(0, min(5, math.floor(score / 20.0 + 0.5))))


def _value(result: dict | None, path: str):
    if not result:
        return None
    if path == "score":
        v = result.get("score")
        return float(v) if isinstance(v, int | float) else None
    return lookup(result.get("measures") or {}, path)


def comparison(current: dict, previous: dict | None) -> dict | None:
    """``{"text", "direction"}`` (+1 better, 0 about the same, -1 worse) against last time, or None.

    ``current`` and ``previous`` are ``DrillResult.to_dict()`` dicts of the same drill; None
    unless they are like for like (both complete, same parameters and length).
    """
    if not_comparable(current, previous):
        return None
    spec = MEASURE.get(current.get("drill"))
    if spec is not None:
        path, better, up, down, same = spec
        now, before = _value(current, path), _value(previous, path)
        if now is not None and before is not None:
            scale = max(abs(now), abs(before))
            if abs(now - before) <= (SAME_POINTS if path == "score" else SAME_FRACTION * scale):
                return {"text": same, "direction": 0}
            improved = now < before if better == "lower" else now > before
            return {"text": up if improved else down, "direction": 1 if improved else -1}
    now, before = _value(current, "score"), _value(previous, "score")
    if now is None or before is None:
        return None
    if abs(now - before) <= SAME_POINTS:
        return {"text": "About the same as last time.", "direction": 0}
    return ({"text": "Better than last time.", "direction": 1} if now > before
            else {"text": "Not quite as good as last time.", "direction": -1})


def _often(pct) -> str | None:
    if not isinstance(pct, int | float):
        return None
    if pct >= 90:
        return "almost all the time"
    if pct >= 60:
        return "most of the time"
    if pct >= 30:
        return "some of the time"
    return None


def _seconds(s: float) -> str:
    n = int(round(s))
    return f"{n} second{'s' if n != 1 else ''}"


def what_you_did(result: dict) -> list[str]:
    """One or two plain sentences about what the patient did (no units but seconds and counts)."""
    drill, m = result.get("drill"), result.get("measures") or {}
    lines: list[str] = []
    if drill == "quiet_standing":
        conds = m.get("conditions") or {}
        secs = sum(c.get("duration_s") or 0.0 for c in conds.values())
        zone = [c.get("time_in_zone_pct") for c in conds.values()]
        both = "eyes_closed" in conds and "eyes_open" in conds
        if secs > 0:
            lines.append(f"You stood still for {_seconds(secs)}" + (", eyes open and closed." if both else "."))
        often = _often(min(zone)) if zone else None
        lines.append(f"The dot stayed in the circle {often}." if often else "Next time, try to keep the dot in the circle.")
    elif drill == "limits_of_stability":
        s = m.get("summary") or {}
        if s.get("targets"):
            lines.append(f"You reached {s.get('targets_reached', 0)} of {s['targets']} targets.")
    elif drill == "rhythmic_shift":
        if m.get("beats"):
            lines.append(f"You reached the lit target on {m.get('targets_hit', 0)} of {m['beats']} beats.")
    elif drill == "tandem_walk":
        if result.get("score") is None:  # too few judged steps to score (drills.tandem_walk.MIN_SCORED_STEPS)
            lines.append("The mat could not count enough steps to give points this time.")
        if m.get("attempted_steps"):
            n, k = m["attempted_steps"], m.get("correct_steps", 0)
            lines.append(f"{k} of {n} step{'s' if n != 1 else ''} had the heel right against the toes.")
    elif drill == "heel_toe_rocking":
        n = m.get("cycles_complete")
        if n:
            lines.append(f"You rocked from heel to toe and back {n} time{'s' if n != 1 else ''}.")
        often = _often(m.get("time_in_band_pct"))
        if often:
            lines.append(f"The dot stayed in the band {often}.")
    elif drill == "weight_symmetry":
        often = _often(m.get("time_in_band_pct"))
        lines.append(f"Your weight was where it should be {often}." if often
                     else "Next time, try to keep the bar in the green band.")
        if m.get("stands"):
            lines.append(f"You stood up {m['stands']} time{'s' if m['stands'] != 1 else ''}.")
    elif drill == "gait_insoles":
        steps = sum((m.get(part) or {}).get("steps") or 0 for part in ("baseline", "training"))
        if steps:
            lines.append(f"You walked {steps} steps.")
        often = _often(m.get("on_beat_pct"))
        if often:
            lines.append(f"You kept to the beat {often}.")
        elif (m.get("training") or {}).get("steps"):
            lines.append("Next time, try to step on each beat.")
        elif steps:
            lines.append("There was not enough walking to the beat to give points this time.")
    return lines


STOPPED_SCORED = "The points are for the part you did. It still counts as practice."
STOPPED_UNSCORED = "No points: less than half of it was done. That is fine: it still counts as practice."
STOPPED_PRACTICE = "You stopped before the end. That is fine: it still counts as practice."
STOPPED_BEFORE_START = "You stopped before the exercise began."
MAX_LINES = 3  # sentences under the score: what fits the 7-inch screen (tests/test_ui_fit.py)


def ran(result: dict) -> bool:
    """Whether the patient did any of the drill (it ran for some time): what counts as practice."""
    d = result.get("duration_s")
    return isinstance(d, int | float) and d > 0


def practised(items) -> int:
    """How many of today's exercises count as practised: ``items`` are (status, results or None)
    with the visit's status ('done', 'stopped', 'skipped', 'todo'): complete ones, and stopped
    ones that ran (the result screen told the patient "it still counts as practice")."""
    return sum(1 for status, result in items
               if status == "done" or (status == "stopped" and result is not None and ran(result)))


def patient_lines(result: dict, alerts: int = 0) -> list[str]:
    """The sentences under the score (at most :data:`MAX_LINES`): an early stop without points
    first, what was done, safety pauses, and what an early stop means."""
    stopped = result.get("status") != "complete"
    if stopped and not ran(result):
        return [STOPPED_BEFORE_START]
    early = stopped and result.get("score") is None and (result.get("done_pct") or 0.0) < 50.0
    first = [STOPPED_UNSCORED] if early else []
    last = [f"The exercise paused {'once' if alerts == 1 else f'{alerts} times'} to keep you safe."] if alerts else []
    if stopped and not early:
        last.append(STOPPED_SCORED if result.get("score") is not None else STOPPED_PRACTICE)
    room = max(1, MAX_LINES - len(first) - len(last))
    return first + what_you_did(result)[:room] + last


def screen_result(results: dict, previous: dict | None, *, index: int, count: int, title: str,
                  last: bool, recalibrated: bool = False) -> dict:
    """What the result screen (``ui.screens.result``) gets for one drill: plain words, no measures.

    ``results`` is the trial's stored results (``DrillResult.to_dict()`` and more), ``previous``
    last time's (``PlannedDrill.previous``). Last time's score and the comparison come only like
    for like; ``new_start`` says a complete run has a last time that is not alike (another level,
    or ``recalibrated``: last time was measured on another calibration footing, so the visit passes
    no ``previous`` and the screen says why this is a new starting point).
    """
    status = "complete" if results.get("status") == "complete" else "stopped"
    why = not_comparable(results, previous)
    score = results.get("score")
    return {
        "index": index, "count": count, "title": title, "status": status, "score": score,
        "stars": stars(score), "previous_score": None if why else previous.get("score"),
        "compare": comparison(results, previous), "first": previous is None and not recalibrated,
        "new_start": status == "complete" and (recalibrated or (previous is not None and bool(why))),
        "new_start_why": "calibration" if recalibrated else "update" if "definition" in why else "level",
        "lines": patient_lines(results, len(results.get("alerts") or ())), "last": last,
    }
