"""Plain-text rendering of an analysis report (``gaitkiosk analyze`` without --json).

Every number keeps its unit; every null says why in a word ("n/a: ...").
Definitions are in ``docs/metrics.md``.
"""

from __future__ import annotations


def _fmt(value, unit: str = "", digits: int = 1, sep: str = " / ") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (list, tuple)):
        return sep.join(_fmt(v, "", digits) for v in value) + (f" {unit}" if unit else "")
    if isinstance(value, float):
        text = f"{value:.{digits}f}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def render(r: dict) -> str:
    reasons = r.get("null_reasons", {})
    lines: list[str] = []

    def row(label, key, value, unit="", digits=1, sep=" / "):
        text = _fmt(value, unit, digits, sep)
        if value is None and key in reasons:
            text += f"  ({reasons[key]})"
        lines.append(f"  {label:<34}{text}")

    head = f"Analysis of {r.get('file', 'recording')} (metrics version {r['metrics_version']}, source: {r['source']})"
    lines += [head, "=" * len(head)]
    row("duration", "duration_s", r["duration_s"], "s", 2)
    row("sampling rate", "rate_hz", r["rate_hz"], "Hz", 1)
    if r.get("window"):
        w = r["window"]
        lines.append(f"  {'window':<34}{_fmt(w['start_s'], 's', 2)} to {_fmt(w['end_s'], 's', 2)}")
    f = r.get("filter")
    lines.append(f"  {'filter':<34}" + ("none (raw COP)" if not f else
                 f"{f['cutoff_hz']:g} Hz low-pass, Butterworth order {f['order']}, zero-phase (filtfilt)"
                 + ("; the mat's default" if str(f.get("chosen_by", "")).startswith("default") else "")))
    gaps = r.get("gaps") or []
    if gaps:
        lines.append(f"  {'gaps in the samples':<34}{len(gaps)}: " + ", ".join(
            f"{g['length_s']:.3g} s after {g['after_s']:.2f} s ({g['stream']})" for g in gaps))

    _calibration(r, lines)

    s = r["sway"]
    lines += ["", "Balance (sway of the centre of pressure; ML = side to side, AP = front to back)" + _from(r, "sway")]
    part = r.get("sway_part")
    if part:
        lines.append(f"  {'analysed part (longest unbroken)':<34}{part['start_s']:.2f} s to {part['end_s']:.2f} s, "
                     f"{part['samples']} samples, 1 of {part['of_parts']} parts")
    why = {reasons.get(f"sway.{k}") for k in s}
    if all(v is None for v in s.values()) and len(why) == 1:
        lines.append(f"  n/a: {why.pop()}")
    else:
        _sway_rows(s, row)
    if r.get("extended"):
        _extended(r, lines, row)
    _rest(r, lines, row)
    return "\n".join(lines)


def _calibration(r: dict, lines: list[str]) -> None:
    """Each sensor's calibration state, and the plain words when a number rests on an unmeasured conversion."""
    import textwrap

    cal = r.get("calibration")
    if not cal:
        return
    lines.append(f"  {'calibration':<34}{cal['state']}")
    for stream, s in cal["sensors"].items():
        ident = " ".join(v for v in (s.get("serial"), s.get("calibration_id") and f"calibration {s['calibration_id']}",
                                     s.get("calibrated_at") and f"of {s['calibrated_at']}") if v)
        lines.append(f"    {stream.replace('_', ' '):<32}{s['state']}" + (f"  ({ident})" if ident else ""))
    if any(s["uncalibrated"] for s in cal["sensors"].values()):
        lines += [""] + textwrap.wrap(cal["words"], 96, initial_indent="  ", subsequent_indent="  ")


def _from(r: dict, section: str) -> str:
    """ ", from the mat" when the report names the section's sensor."""
    name = (r.get("sources") or {}).get(section)
    return f", from the {name}" if name else ""


def _sway_rows(s: dict, row) -> None:
    row("mean distance from centre", "sway.mean_distance_mm", s["mean_distance_mm"], "mm", 2)
    row("RMS distance", "sway.rms_distance_mm", s["rms_distance_mm"], "mm", 2)
    row("path length", "sway.path_length_mm", s["path_length_mm"], "mm", 1)
    row("mean velocity", "sway.mean_velocity_mm_s", s["mean_velocity_mm_s"], "mm/s", 2)
    row("  side to side (ML)", "sway.mean_velocity_ml_mm_s", s["mean_velocity_ml_mm_s"], "mm/s", 2)
    row("  front to back (AP)", "sway.mean_velocity_ap_mm_s", s["mean_velocity_ap_mm_s"], "mm/s", 2)
    row("range side to side (ML)", "sway.range_ml_mm", s["range_ml_mm"], "mm", 1)
    row("range front to back (AP)", "sway.range_ap_mm", s["range_ap_mm"], "mm", 1)
    row("95 % ellipse area", "sway.ellipse95_area_mm2", s["ellipse95_area_mm2"], "mm²", 1)
    row("95 % ellipse semi-axes", "sway.ellipse95_axes_mm", s["ellipse95_axes_mm"], "mm", 1, sep=" x ")
    row("95 % ellipse angle (from ML)", "sway.ellipse95_angle_deg", s["ellipse95_angle_deg"], "°", 0)
    row("mean frequency", "sway.mean_frequency_hz", s["mean_frequency_hz"], "Hz", 3)
    row("mean power frequency", "sway.mean_power_frequency_hz", s["mean_power_frequency_hz"], "Hz", 3)



def _extended(r: dict, lines: list[str], row) -> None:
    """The 72 descriptors, by group, each with its unit; the section names its sensor and calibration."""
    from kernels.posturography_table import DESCRIPTORS

    e = r["extended"]
    pre = e["preprocessing"]
    lines += ["", f"Extended posturography set (Quijoux et al. 2021; {e['convention']} convention)" + _from(r, "sway")
              + (f", calibration: {e['calibration']}" if e.get("calibration") else "")]
    lines.append(f"  {'preprocessing':<34}centred, resampled to {pre['resampled_hz']:g} Hz (SWARII), "
                 f"{pre['lowpass_hz']:g} Hz low-pass (Butterworth {pre['lowpass_order']}, zero-phase)"
                 + (", re-centred" if pre["recentred_after_filter"] else ""))
    values = e["values"]
    reasons = r.get("null_reasons", {})
    why = {reasons.get(f"extended.values.{k}") for k in values}
    if all(v is None for v in values.values()) and len(why) == 1:
        lines.append(f"  n/a: {why.pop()}")
        return
    group = None
    for d in DESCRIPTORS:
        if d.group != group:
            group = d.group
            lines.append(f"  [{group}]")
        v = values[d.key]
        text = "n/a" if v is None else (f"{v:d}" if isinstance(v, int) else f"{v:.4g}")
        if v is None and f"extended.values.{d.key}" in reasons:
            text += f"  ({reasons[f'extended.values.{d.key}']})"
        lines.append(f"    {d.key:<38}{text} {d.unit}".rstrip())


def _rest(r: dict, lines: list[str], row) -> None:
    w = r["weight"]
    lines += ["", "Weight distribution" + _from(r, "weight")]
    row("left / right", "weight.left_pct",
        None if w["left_pct"] is None else [w["left_pct"], w["right_pct"]], "%", 1)
    for side in ("left", "right"):
        regions = w[side]
        values = [regions["rearfoot_pct"], regions["midfoot_pct"], regions["forefoot_pct"]]
        label = f"{side} rear / mid / forefoot"
        row(label, f"weight.{side}.rearfoot_pct", None if values[0] is None else values, "%", 1)

    g = r["gait"]
    lines += ["", f"Gait ({g['step_count']} steps{_from(r, 'gait')})"]
    row("cadence", "gait.cadence_steps_min", g["cadence_steps_min"], "steps/min", 1)
    row("step length", "gait.step_length_mm", g["step_length_mm"], "mm", 0)
    row("step width", "gait.step_width_mm", g["step_width_mm"], "mm", 0)
    row("stance", "gait.stance_pct", g["stance_pct"], "% of stride", 1)
    row("symmetry, stance time", "gait.symmetry_stance_time_pct", g["symmetry_stance_time_pct"], "%", 1)
    row("symmetry, peak force", "gait.symmetry_peak_force_pct", g["symmetry_peak_force_pct"], "%", 1)
    if r["steps"]:
        lines += ["", "  foot    contact   stance   peak force   gait line   CPEI    strike idx"]
        for st in r["steps"]:
            lines.append(
                f"  {str(st['foot'] or '?'):<7} {_fmt(st['contact_s'], 's', 2):>8} {_fmt(st['stance_s'], 's', 2):>8} "
                f"{_fmt(st['peak_force_n'], 'N', 0):>12} {_fmt(st['gait_line_length_mm'], 'mm', 0):>11} "
                f"{_fmt(st['cpei_pct'], '%', 1):>7} {_fmt(st['strike_index_pct'], '%', 0):>11}")
    a = r.get("arch_index") or {}
    if a:
        lines += ["", "Static footprint"]
        row("arch index left", "arch_index.left", a.get("left"), "", 3)
        row("arch index right", "arch_index.right", a.get("right"), "", 3)
    notes = [n for n in r.get("notes") or [] if n != (r.get("calibration") or {}).get("words")]  # said at the top
    if notes:
        lines += ["", "Notes"] + [f"  - {n}" for n in notes]
    lines += ["", f"Definitions of every number: docs/metrics.md (metrics version {r['metrics_version']})."]
