"""The numbers of the session review, from a trial's stored report: each with its label, unit,
sensor, calibration state and definition (docs/metrics.md), ready for the screen to draw.

A row is the stored report's number, formatted, never recomputed. The per-step length and width
are the only numbers the report does not store per step; they come from ``kernels.gait.
step_geometry``, the function whose mean the report stores as ``gait.step_length_mm`` and
``gait.step_width_mm``, on the report's own steps.
"""

from __future__ import annotations

import math

from gaitkiosk.metric_defs import definition_of

# (report key, label, unit, format)
SWAY = (
    ("sway.ellipse95_area_mm2", "Sway area (95 % ellipse)", "mm²", "{:.0f}"),
    ("sway.ellipse95_axes_mm", "Ellipse half-axes", "mm", "{:.3g} × {:.3g}"),
    ("sway.ellipse95_angle_deg", "Ellipse angle", "°", "{:.0f}"),
    ("sway.mean_velocity_mm_s", "Sway speed", "mm/s", "{:.1f}"),
    ("sway.mean_velocity_ml_mm_s", "Speed side to side", "mm/s", "{:.1f}"),
    ("sway.mean_velocity_ap_mm_s", "Speed front to back", "mm/s", "{:.1f}"),
    ("sway.path_length_mm", "Path length", "mm", "{:.0f}"),
    ("sway.range_ml_mm", "Range side to side", "mm", "{:.1f}"),
    ("sway.range_ap_mm", "Range front to back", "mm", "{:.1f}"),
    ("sway.mean_distance_mm", "Mean distance", "mm", "{:.1f}"),
    ("sway.mean_power_frequency_hz", "Mean power frequency", "Hz", "{:.2f}"),
)
WEIGHT = (
    ("weight.left_pct", "Left foot", "%", "{:.0f}"),
    ("weight.right_pct", "Right foot", "%", "{:.0f}"),
) + tuple((f"weight.{side}.{r}_pct", f"{side.title()} {r}", "%", "{:.0f}")
          for side in ("left", "right") for r in ("rearfoot", "midfoot", "forefoot"))
# the walking drills' per-step table: (step field, column heading, unit, format)
STEP_COLUMNS = (
    ("steps.stance_s", "Contact time", "s", "{:.2f}"),
    ("steps.cpei_pct", "CPEI", "%", "{:.0f}"),
    ("steps.strike_index_pct", "Strike index", "%", "{:.0f}"),
    ("steps.loading_rate_n_s", "Loading rate", "N/s", "{:.0f}"),
    ("gait.step_length_mm", "Step length", "mm", "{:.0f}"),
    ("gait.step_width_mm", "Step width", "mm", "{:.0f}"),
)
WALK_SUMMARY = (
    ("gait.step_count", "Steps", "", "{:.0f}"),
    ("gait.cadence_steps_min", "Cadence", "steps/min", "{:.0f}"),
    ("gait.step_length_mm", "Mean step length", "mm", "{:.0f}"),
    ("gait.step_width_mm", "Mean step width", "mm", "{:.0f}"),
)
INSOLE_SUMMARY = (
    ("gait.cadence_steps_min", "Cadence", "steps/min", "{:.0f}"),
    ("gait.step_count", "Steps", "", "{:.0f}"),
    ("gait.stance_s.left", "Contact time, left", "s", "{:.2f}"),
    ("gait.stance_s.right", "Contact time, right", "s", "{:.2f}"),
    ("gait.symmetry_stance_time_pct", "Symmetry of contact time", "%", "{:+.1f}"),
    ("gait.symmetry_peak_force_pct", "Symmetry of peak force", "%", "{:+.1f}"),
    ("gait.stance_pct", "Stance", "% of the stride", "{:.0f}"),
)
INSOLE_DRILLS = ("gait_insoles",)
# what a row says where its label does not fit beside its value (the definition shows the whole label)
SHORT = {
    "sway.ellipse95_area_mm2": "Area 95 %", "sway.ellipse95_axes_mm": "Axes", "sway.ellipse95_angle_deg": "Angle",
    "sway.mean_velocity_mm_s": "Speed", "sway.mean_velocity_ml_mm_s": "Speed L-R",
    "sway.mean_velocity_ap_mm_s": "Speed F-B", "sway.path_length_mm": "Path", "sway.range_ml_mm": "Range L-R",
    "sway.range_ap_mm": "Range F-B", "sway.mean_distance_mm": "Mean dist.", "sway.mean_power_frequency_hz": "MPF",
    "weight.left_pct": "Left", "weight.right_pct": "Right",
    **{f"weight.{side}.{r}_pct": f"{side[0].upper()} {r[:-4]}" for side in ("left", "right")
       for r in ("rearfoot", "midfoot", "forefoot")},
    "gait.stance_s.left": "Contact L", "gait.stance_s.right": "Contact R",
    "gait.symmetry_stance_time_pct": "Sym. contact", "gait.symmetry_peak_force_pct": "Sym. force",
    "gait.step_length_mm": "Length", "gait.step_width_mm": "Width", "gait.cadence_steps_min": "Cadence",
    "gait.step_count": "Steps", "gait.stance_pct": "Stance",
    # the per-step table's column headings
    "steps.stance_s": "Time", "steps.cpei_pct": "CPEI", "steps.strike_index_pct": "Strike",
    "steps.loading_rate_n_s": "Rate",
}


def lookup(report: dict, key: str):
    """The value at a dotted path of the report (None where missing)."""
    node = report
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def text_of(value, fmt: str) -> str:
    """How a value is written on the screen ("n/a" for a null: the report says why)."""
    if isinstance(value, list) and value and all(_number(v) for v in value):
        return fmt.format(*value)
    return fmt.format(value) if _number(value) else "n/a"


def sensor_of(report: dict, section: str) -> str:
    return str((report.get("sources") or {}).get(section) or report.get("source") or "not stated")


def calibration_of(report: dict, sensor: str) -> str:
    """The calibration state of the sensor a number comes from (docs/metrics.md section 10)."""
    sensors = (report.get("calibration") or {}).get("sensors") or {}
    streams = ("insole_left", "insole_right") if sensor == "insoles" else (sensor,)
    states = sorted({str((sensors.get(s) or {}).get("state")) for s in streams if s in sensors})
    return " / ".join(states) if states else (report.get("calibration") or {}).get("state") or "not stated"


def row(report: dict, key: str, label: str, unit: str, fmt: str, value=None, section: str | None = None) -> dict:
    value = lookup(report, key) if value is None else value
    sensor = sensor_of(report, section or key.split(".")[0])
    reason = (report.get("null_reasons") or {}).get(key, "") if text_of(value, fmt) == "n/a" else ""
    return {"key": key, "label": label, "short": SHORT.get(key, label), "value": value, "text": text_of(value, fmt), "unit": unit,
            "sensor": sensor, "calibration": calibration_of(report, sensor), "why_null": reason,
            "definition": definition_of(key)}


def sway_rows(report: dict) -> list[dict]:
    return [row(report, *spec) for spec in SWAY]


def weight_rows(report: dict) -> list[dict]:
    return [row(report, *spec) for spec in WEIGHT]


def step_breaks(report: dict) -> list[float]:
    """Times the steps' stream restarts after a gap, as the report gave them to the gait summary."""
    stream = (report.get("sources") or {}).get("steps")
    return [g["after_s"] + g["length_s"] for g in report.get("gaps") or () if g.get("stream") == stream]


def step_table(report: dict) -> list[dict]:
    """One entry per stored step: {number, foot, cells: [row per STEP_COLUMNS]}."""
    from kernels.gait import step_geometry

    steps = report.get("steps") or []
    geometry = {i: (length, width) for i, length, width in step_geometry(steps, step_breaks(report))}
    out = []
    for i, s in enumerate(steps):
        cells = []
        for key, label, unit, fmt in STEP_COLUMNS:
            if key.startswith("steps."):
                value = s.get(key.split(".", 1)[1])
                r = row(report, key, label, unit, fmt, value=value, section="steps")
                r["why_null"] = (report.get("null_reasons") or {}).get(f"steps[{i}].{key.split('.', 1)[1]}", "") \
                    if r["text"] == "n/a" else ""
                r["calibration"] = s.get("calibration") or r["calibration"]
            else:
                value = geometry.get(i, (None, None))[0 if key.endswith("length_mm") else 1]
                r = row(report, key, label, unit, fmt, value=value, section="gait")
                if value is None:
                    r["why_null"] = "this footfall does not follow one of the other foot on the mat (docs/metrics.md section 6)"
            r["key"] = f"{key}#{i}"  # one row per step: its definition is its field's
            r["short"] = "Length" if key == "gait.step_length_mm" else "Width" if key == "gait.step_width_mm" else r["short"]
            r["label"] = f"Step {i + 1} ({s.get('foot') or 'side unknown'}): {label.lower() if label != 'CPEI' else label}"
            cells.append(r)
        out.append({"number": i + 1, "foot": s.get("foot") or "?", "cells": cells})
    return out


def summary_rows(report: dict, drill: str) -> list[dict]:
    return [row(report, *spec) for spec in (INSOLE_SUMMARY if drill in INSOLE_DRILLS else WALK_SUMMARY)]


def every_row(data: dict) -> list[dict]:
    """Every number the review shows for a trial (the test checks each has a definition)."""
    report = data.get("report") or {}
    rows = list(data.get("sway") or []) + list(data.get("weight") or []) + list(data.get("summary") or [])
    for s in data.get("steps") or []:
        rows.extend(s["cells"])
    return rows if report else []
