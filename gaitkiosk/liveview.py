"""Translate a drill's state (drills.base.DrillView) into the plain dict the live screen draws.

The UI package never imports drills (it draws dicts and lists), and the
drills never know how they are drawn; this module is the seam. It runs on
the analysis thread after each drill update, so the UI only ever sees a
finished, immutable snapshot.
"""

from __future__ import annotations

PHASES = {"paused_safety": "alert", "instruction": "countdown"}

# Pictures of the instruction screen (ui.pictures), by drill and condition.
_STANCE_PICTURES = {"apart": "stand", "together": "feet_together", "semi_tandem": "semi_tandem",
                    "tandem": "tandem_stance", "single_left": "single_leg", "single_right": "single_leg"}


def picture_for(drill) -> str:
    name, p = drill.name, getattr(drill, "params", {}) or {}
    if name == "quiet_standing":
        return _STANCE_PICTURES.get(p.get("stance", "apart"), "stand")
    if name == "rhythmic_shift":
        return "sway_ap" if str(p.get("axis", p.get("direction", "ml"))).lower() in ("ap", "forward_back") else "sway_lr"
    return {"limits_of_stability": "lean", "tandem_walk": "tandem_walk", "heel_toe_rocking": "rock",
            "weight_symmetry": "symmetry", "gait_insoles": "walk"}.get(name, "stand")


def picture_layout(drill) -> dict | None:
    """What the instruction picture needs to show what the live screen will show (ui.pictures).

    ``targets``: the targets the drill would place around a typical stance
    (:func:`drills.geometry.typical_stance`, the patient's own is measured only when they stand
    on the mat), with the feet and the resting centre; ``share``: the weight bar's band.
    """
    from drills.geometry import typical_stance

    out = {}
    stance = typical_stance()
    targets = drill.preview_targets(stance)
    if targets:
        out["targets"] = [{"x_mm": t.x_mm, "y_mm": t.y_mm, "radius_mm": t.radius_mm, "label": t.label} for t in targets]
        out["centre_mm"] = list(stance.centre_mm)
        out["feet"] = [{"side": f.side, "heel_mm": list(f.heel_mm), "axis": list(f.axis), "length_mm": f.length_mm}
                       for f in stance.feet]
    live = drill.live
    if live.target_left_pct is not None:
        out["share"] = {"target_pct": live.target_left_pct, "tolerance_pct": live.tolerance_pct}
    return out or None


def _target(t, state: str) -> dict:
    return {"x_mm": t.x_mm, "y_mm": t.y_mm, "radius_mm": t.radius_mm, "state": state, "label": t.label}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"
    return str(value)


def _action(instruction: str) -> str:
    """The live cue when the drill says nothing: the instruction's last sentence (what to do now)."""
    parts = [p.strip() for p in instruction.replace("!", ".").split(". ") if p.strip()]
    if not parts:
        return ""
    last = parts[-1]
    return last if last.endswith(".") else last + "."


def drill_view(drill, sensors=None, time_limit_s: float | None = None) -> dict:
    """The live screen's dict (ui.screens.drill documents the keys).

    The countdown ring shows the drill's own running time (its ``max_running_s`` included);
    ``time_limit_s`` caps what the ring shows further (for previews).
    """
    v = drill.view()
    live = v.live
    phase = PHASES.get(v.phase, v.phase)
    targets = []
    for i, t in enumerate(live.targets or ()):
        if live.active_target is None:
            state = "next"
        elif i < live.active_target:
            state = "done"
        elif i == live.active_target:
            state = "active"
        else:
            state = "next"
        targets.append(_target(t, state))
    zone = None
    if live.zone is not None:
        zone = {"x_mm": live.zone.x_mm, "y_mm": live.zone.y_mm, "radius_mm": live.zone.radius_mm}
    elif live.band is not None:
        b = live.band
        if b.axis == "ap":
            zone = {"x0_mm": b.centre_mm - b.half_width_mm, "x1_mm": b.centre_mm + b.half_width_mm,
                    "y0_mm": b.lo_mm, "y1_mm": b.hi_mm}
        else:
            zone = {"x0_mm": b.lo_mm, "x1_mm": b.hi_mm,
                    "y0_mm": b.centre_mm - b.half_width_mm, "y1_mm": b.centre_mm + b.half_width_mm}
    share = None
    if live.target_left_pct is not None:
        share = {"left_pct": live.left_pct, "target_pct": live.target_left_pct, "tolerance_pct": live.tolerance_pct}
    progress = None
    if live.target_steps is not None or live.attempted_steps is not None:
        done = live.correct_steps or 0
        progress = f"{done} good step{'s' if done != 1 else ''}" + (f" of {live.target_steps}" if live.target_steps else "")
    elif live.targets and live.active_target is not None and len(live.targets) > 2:
        progress = f"Target {min(live.active_target + 1, len(live.targets))} of {len(live.targets)}"
    values = []
    cadence = None
    if live.cadence_steps_min is not None or live.target_cadence_steps_min is not None:
        cadence = {"steps_min": live.cadence_steps_min, "aim": live.target_cadence_steps_min}
    # ``live.values`` (gap in mm, strike pattern, loading rate...) are for the record, not the patient:
    # the live cue already says in words how the last step went.
    remaining = None
    duration = v.duration_s
    if time_limit_s is not None:
        duration = min(duration, time_limit_s) if duration else time_limit_s
    if duration:
        remaining = max(0.0, duration - v.elapsed_s)
    cue = v.message or ("" if phase == "alert" else _action(v.instruction))
    if phase == "countdown" and v.countdown_s is not None and not v.message:
        cue = f"Get ready: {max(1, int(v.countdown_s + 0.999))}"
    sensors = sensors or getattr(drill, "SENSORS", ("mat",))
    return {
        "name": v.drill, "title": v.title, "phase": phase, "cue": cue,
        "countdown_s": v.countdown_s, "remaining_s": remaining, "duration_s": duration,
        "progress": progress, "targets": targets, "zone": zone, "share": share, "values": values,
        "alert": v.alert.message if v.alert is not None else None,
        "view": "insoles" if "mat" not in sensors else "mat",
        "beat": live.beats,  # counts the metronome's beats: the screen pulses when it steps
        "beat_period_s": live.metronome_period_s,  # None while there is no beat
        "cadence": cadence,  # {steps_min, aim} (steps per minute, either may be None) or None
        # The COP trail helps standing drills; when walking the COP jumps from foot to foot.
        "trail": "mat" in sensors and live.target_steps is None and live.attempted_steps is None,
    }


def result_lines(result) -> list[str]:
    """A few plain sentences about a drill result for the patient (no jargon): see gaitkiosk.resultwords."""
    from gaitkiosk.resultwords import patient_lines

    return patient_lines(result.to_dict(), len(result.alerts or ()))


def comparison_lines(comparison: dict, limit: int = 3) -> list[str]:
    """The drill's headline measures (drills.scoring.compare) as short sentences, with last time.

    For staff and therapists (numbers with units): the patient's result screen uses the plain words
    of :mod:`gaitkiosk.resultwords` instead.
    """
    lines = []
    for m in comparison.get("measures", [])[:limit]:
        now = m.get("now")
        if not isinstance(now, int | float):
            continue
        unit = f" {m['unit']}" if m.get("unit") else ""
        text = f"{m['label']}: {_fmt(float(now))}{unit}"
        before = m.get("before")
        if isinstance(before, int | float):
            same = _fmt(float(now)) == _fmt(float(before))  # as shown: 56 % and 56 % are the same
            word = "same as" if same else {True: "better than", False: "not as good as", None: "same as"}[m.get("improved")]
            text += f" ({word} last time: {_fmt(float(before))}{unit})"
        lines.append(text + ".")
    return lines
