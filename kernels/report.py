"""The analysis report of a recording (DESIGN 4.2, metrics version 1).

:func:`analyze_recording` takes anything with the recording file's arrays as
attributes (``device.recording.Recording``, :class:`kernels.cop_csv.CopRecording`)
and returns a JSON-ready dict: ``metrics_version``, ``duration_s``, ``rate_hz``,
``filter``, ``sway``, ``weight``, ``steps``, ``gait``, plus ``source``,
``window``, ``parameters`` (every threshold and setting used), ``arch_index``,
``quality`` (bad samples seen), ``null_reasons`` (dotted field -> why it is
null) and ``calibration`` (each sensor's calibration state:
:mod:`kernels.calibration_state`). A number is never invented: a field that
does not apply is null, and its reason says why.

Which stream gives what: the whole-body COP for sway comes from the mat (the
per-frame analysis), else the recording's COP group; insole COPs are in each
insole's own frame and never make a whole-body COP. Steps come from the mat
feet, else the insoles, else per-foot forces of a COP group.
"""

from __future__ import annotations

import json
import math

import numpy as np

from kernels import calibration_state, detectors
from kernels.gait import arch_index, gait_summary
from kernels.series import (
    FILTER_ORDER,
    MetricsInputError,
    check_times,
    estimate_rate,
    filter_description,
    lowpass,
    window_mask,
)
from kernels.sway import ELLIPSE_PROBABILITY, MIN_SAMPLES, SWAY_FIELDS, sway_metrics
from kernels.weight import REGION_CUTS, REGIONS, left_right, region_shares

METRICS_VERSION = 1
REGION_KEYS = tuple(f"{r}_pct" for r in REGIONS)
# A whole-body COP counts as present when the total force reaches this (DESIGN 3).
MIN_COP_FORCE_N = 10.0


def _arr(rec, name):
    value = getattr(rec, name, None)
    return None if value is None else np.asarray(value)


def _meta(rec) -> dict:
    meta = getattr(rec, "meta", None)
    if isinstance(meta, (bytes, str)):
        try:
            meta = json.loads(meta)
        except ValueError:
            return {}
    return dict(meta) if isinstance(meta, dict) else {}


def _clean(value):
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


class _Report:
    def __init__(self):
        self.reasons: dict[str, str] = {}
        self.notes: list[str] = []

    def why(self, prefix: str, reasons: dict) -> None:
        for key, text in reasons.items():
            self.reasons[f"{prefix}.{key}" if prefix else key] = text


# -- per-stream analysis -------------------------------------------------------------------------


def _mat(rec, window, rep: _Report, options: dict) -> dict | None:
    kpa = _arr(rec, "mat_kpa")
    if kpa is None:
        return None
    from kernels.frame import FrameAnalyzer, check_frame

    t = check_times(_arr(rec, "mat_t"), "mat_t")
    if kpa.ndim != 3 or kpa.shape[0] != len(t):
        raise MetricsInputError(f"mat_kpa must be (frames, rows, cols) matching mat_t, got {kpa.shape}")
    if kpa.dtype != np.float32:
        raise MetricsInputError(f"mat_kpa must be float32 kPa (DESIGN 4.1), got dtype {kpa.dtype}")
    pitch_arr = _arr(rec, "mat_pitch_mm")
    pitch_arr = None if pitch_arr is None else np.asarray(pitch_arr, dtype=np.float64).ravel()
    if pitch_arr is None or pitch_arr.shape != (2,) or not np.all(np.isfinite(pitch_arr) & (pitch_arr > 0)):
        raise MetricsInputError(f"mat_pitch_mm must be (row pitch, column pitch) in mm, got {pitch_arr!r}")
    pitch = (float(pitch_arr[0]), float(pitch_arr[1]))
    keep = window_mask(t, window)
    t, kpa = t[keep], kpa[keep]
    rows, cols = kpa.shape[1:]
    analyzer = FrameAnalyzer(rows, cols, pitch_mm=pitch, threshold_kpa=options["threshold_kpa"])
    assembler = detectors.MatStepAssembler(analyzer, on_n=options["on_n"], off_n=options["off_n"],
                                           min_stance_s=options["min_stance_s"])
    n = len(t)
    force = np.zeros(n)
    cop = np.full((n, 2), np.nan)
    side_force = {"left": np.zeros(n), "right": np.zeros(n)}
    side_regions = {"left": np.full((n, 3), np.nan), "right": np.full((n, 3), np.nan)}
    events = []
    invalid = negative = 0
    last_feet: dict[str, object] = {}
    for k in range(n):
        frame = np.ascontiguousarray(kpa[k], dtype=np.float32)
        check_frame(frame, rows, cols)
        r = analyzer.analyze(frame)
        invalid += r.invalid_sensels
        negative += r.negative_sensels
        force[k] = r.force_n
        if r.cop_mm is not None and r.force_n >= MIN_COP_FORCE_N:
            cop[k] = r.cop_mm
        for foot in r.feet:
            if foot.side in side_force:
                side_force[foot.side][k] += foot.force_n
                if foot.regions_n is not None:
                    side_regions[foot.side][k] = foot.regions_n
                last_feet[foot.side] = (foot, analyzer.footprint(foot.track_id))
        events.extend(assembler.update(float(t[k]), r))
    if n:
        events.extend(assembler.close(float(t[-1])))
    if invalid or negative:
        rep.notes.append(f"mat: {invalid} NaN/infinite and {negative} negative sensel values were treated as 0")
    return {"t": t, "force": force, "cop": cop, "side_force": side_force, "side_regions": side_regions,
            "events": events, "pitch": pitch, "last_feet": last_feet,
            "quality": {"invalid_sensels": invalid, "negative_sensels": negative}}


def insole_outline(meta: dict) -> tuple[float | None, float | None]:
    """(foot length mm, heel edge y mm in the insole frame) from the recording's meta data:
    top-level ``foot_length_mm`` / ``heel_edge_y_mm``, else the same keys under ``insoles``.
    Either may be None (unknown)."""
    def pick(key):
        for table in (meta, meta.get("insoles") if isinstance(meta.get("insoles"), dict) else {}):
            value = table.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
        return None

    length = pick("foot_length_mm")
    return (length if length and length > 0 else None), pick("heel_edge_y_mm")


def _insoles(rec, window, rep: _Report, options: dict) -> dict | None:
    t = _arr(rec, "insole_t")
    if t is None:
        return None
    from kernels.insole import InsoleAnalyzer, check_insole_frame

    t = check_times(t, "insole_t")
    keep = window_mask(t, window)
    t = t[keep]
    area = _arr(rec, "insole_sensor_area_mm2")
    foot_length, heel_edge = insole_outline(_meta(rec))
    out = {"t": t, "side_force": {}, "side_regions": {}, "events": [], "quality": {}}
    for side in ("left", "right"):
        kpa = _arr(rec, f"insole_{side}_kpa")
        sensors = _arr(rec, f"insole_{side}_sensors_mm")
        if kpa is None or sensors is None:
            continue
        kpa = kpa[keep]
        if foot_length is not None and heel_edge is not None:
            # Regions over the foot's real length from its heel edge, not the sensors' span.
            analyzer = InsoleAnalyzer(sensors, area, heel_y_mm=heel_edge, length_mm=foot_length)
        else:
            analyzer = InsoleAnalyzer(sensors, area)
        n = len(t)
        force = np.zeros(n)
        cop = np.full((n, 2), np.nan)
        regions = np.full((n, 3), np.nan)
        bad = 0
        for k in range(n):
            frame = np.ascontiguousarray(kpa[k], dtype=np.float32)
            check_insole_frame(frame, len(sensors))
            r = analyzer.analyze(frame)
            bad += r.invalid_sensors + r.negative_sensors
            force[k] = r.force_n
            if r.cop_mm is not None:
                cop[k] = r.cop_mm
            regions[k] = r.regions_n
        events, _ = detectors.detect_steps(
            t, force, cop, regions, foot=side, source="insole",
            foot_length_mm=foot_length if heel_edge is not None else None, heel_edge_y_mm=heel_edge,
            on_n=options["on_n"], off_n=options["off_n"], min_stance_s=options["min_stance_s"])
        out["events"].extend(events)
        out["side_force"][side] = force
        out["side_regions"][side] = regions
        out["quality"][f"insole_{side}_bad_values"] = bad
        if bad:
            rep.notes.append(f"insole {side}: {bad} NaN/infinite/negative sensor values were treated as 0")
    return out


def _cop_group(rec, window, rep: _Report, options: dict) -> dict | None:
    t = _arr(rec, "cop_t")
    if t is None:
        return None
    t = check_times(t, "cop_t")
    cop = np.asarray(_arr(rec, "cop_mm"), dtype=np.float64)
    if cop.shape != (len(t), 2):
        raise MetricsInputError(f"cop_mm must be (samples, 2) matching cop_t, got {cop.shape}")
    keep = window_mask(t, window)
    out = {"t": t[keep], "cop": cop[keep], "side_force": {}, "events": []}
    fl, fr = _arr(rec, "force_left_n"), _arr(rec, "force_right_n")
    if fl is not None and fr is not None:
        out["side_force"] = {"left": np.asarray(fl, float)[keep], "right": np.asarray(fr, float)[keep]}
        for side in ("left", "right"):
            foot_cop = _arr(rec, f"cop_{side}_mm")
            events, _ = detectors.detect_steps(
                out["t"], out["side_force"][side], None if foot_cop is None else np.asarray(foot_cop, float)[keep],
                foot=side, source="plate", on_n=options["on_n"], off_n=options["off_n"],
                min_stance_s=options["min_stance_s"])
            out["events"].extend(events)
    return out


# -- report sections ---------------------------------------------------------------------------


def _sway(t, cop, rate, lowpass_hz, rep: _Report, steps_seen: bool):
    values = dict.fromkeys(SWAY_FIELDS)
    present = np.all(np.isfinite(cop), axis=1) if len(cop) else np.zeros(0, bool)
    if not present.any():
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, "no centre of pressure in the analysed part (nobody on the sensor)"))
        return values, None
    first, last = int(np.argmax(present)), len(present) - int(np.argmax(present[::-1]))
    inner = present[first:last]
    if not inner.all():
        missing = int((~inner).sum())
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, (
            f"the COP is missing for {missing} samples between {t[first]:.2f} s and {t[last - 1]:.2f} s "
            "(a foot or the patient left the sensor); sway needs an unbroken COP: use --window")))
        return values, None
    if first or last < len(present):
        rep.notes.append(f"sway: {first + len(present) - last} samples without COP at the start/end were left out")
    c = cop[first:last]
    filt = None
    if lowpass_hz is not None:
        if len(c) < MIN_SAMPLES:
            pass  # sway_metrics gives the reason
        else:
            c = lowpass(c, rate, lowpass_hz)
            filt = filter_description(lowpass_hz)
    values, reasons = sway_metrics(c, rate)
    rep.why("sway", reasons)
    if steps_seen and values["path_length_mm"] is not None:
        rep.notes.append("steps were detected: the sway measures describe this COP, not quiet standing")
    return values, filt


def _weight(side_force, side_regions, rep: _Report) -> dict:
    weight = {"left_pct": None, "right_pct": None,
              "left": dict.fromkeys(REGION_KEYS), "right": dict.fromkeys(REGION_KEYS)}
    if not side_force or set(side_force) != {"left", "right"}:
        why = "no per-foot force in this recording (a COP-only file without force_left_n/force_right_n)" \
            if not side_force else "only one foot's sensor in this recording"
        rep.why("weight", {"left_pct": why, "right_pct": why})
    else:
        shares, reasons = left_right(side_force["left"], side_force["right"])
        weight.update(shares)
        rep.why("weight", reasons)
    for side in ("left", "right"):
        regions = (side_regions or {}).get(side)
        if regions is None:
            rep.why(f"weight.{side}", dict.fromkeys(REGION_KEYS, "no rearfoot/midfoot/forefoot loads for this foot in this recording"))
            continue
        shares, reasons = region_shares(regions)
        weight[side] = shares
        rep.why(f"weight.{side}", reasons)
    return weight


def default_parameters() -> dict:
    return {
        "contact_on_n": detectors.CONTACT_ON_N,
        "contact_off_n": detectors.CONTACT_OFF_N,
        "min_stance_s": detectors.MIN_STANCE_S,
        "mat_threshold_kpa": 10.0,
        "cop_min_force_n": MIN_COP_FORCE_N,
        "region_cuts_pct": [round(100 * c, 6) for c in REGION_CUTS],
        "ellipse_probability": ELLIPSE_PROBABILITY,
        "ellipse": "prediction ellipse, Chew 1966 (F distribution, ddof 1)",
        "psd": "Welch, Hann window, segment N//2, overlap N//4, FFT N//2, constant detrend",
        "sway_min_samples": MIN_SAMPLES,
        "lowpass_order": FILTER_ORDER,
    }


def analyze_recording(rec, lowpass_hz: float | None = None, window=None, **overrides) -> dict:
    """The DESIGN 4.2 report of ``rec`` (see the module docstring).

    ``window`` is (start_s, end_s) with either None; ``lowpass_hz`` low-passes
    the whole-body COP (zero-phase Butterworth, order :data:`FILTER_ORDER`)
    before the sway measures. ``overrides`` may set ``contact_on_n``,
    ``contact_off_n``, ``min_stance_s`` and ``mat_threshold_kpa``.
    Raises :class:`MetricsInputError` for input that cannot be analysed at all.
    """
    params = default_parameters()
    for key, value in overrides.items():
        if key not in ("contact_on_n", "contact_off_n", "min_stance_s", "mat_threshold_kpa"):
            raise TypeError(f"analyze_recording: unknown parameter {key!r}")
        params[key] = float(value)
    options = {"on_n": params["contact_on_n"], "off_n": params["contact_off_n"],
               "min_stance_s": params["min_stance_s"], "threshold_kpa": params["mat_threshold_kpa"]}
    rep = _Report()
    mat = _mat(rec, window, rep, options)
    insoles = _insoles(rec, window, rep, options)
    copg = _cop_group(rec, window, rep, options)
    if mat is None and insoles is None and copg is None:
        raise MetricsInputError("the recording holds no mat, insole or COP data; nothing to analyse")

    # Which stream is the time base, and which gives the whole-body COP.
    base = mat or copg or insoles
    t = base["t"]
    if len(t) == 0:
        raise MetricsInputError("the window holds no samples; check --window against the recording's duration")
    rate = estimate_rate(t) if len(t) >= 2 else None
    report: dict = {
        "metrics_version": METRICS_VERSION,
        "source": "mat" if mat else ("cop" if copg else "insoles"),
        "duration_s": float(len(t) / rate) if rate else None,
        "rate_hz": rate,
        "samples": len(t),
        "window": None if window is None else {"start_s": window[0], "end_s": window[1]},
        "filter": None,
        "parameters": params,
    }
    if rate is None:
        rep.reasons["duration_s"] = rep.reasons["rate_hz"] = "a single sample has no rate or duration"

    events = (mat or {}).get("events") or (insoles or {}).get("events") or (copg or {}).get("events") or []
    step_events = sorted((e for e in events if e.kind == "step"), key=lambda e: e.metrics["contact_s"])

    cop_source = mat or copg
    if cop_source is not None and rate is not None:
        sway, filt = _sway(cop_source["t"], cop_source["cop"], rate, lowpass_hz, rep, bool(step_events))
        report["filter"] = filt
    else:
        sway = dict.fromkeys(SWAY_FIELDS)
        why = ("insoles give each foot's COP in its own frame, not a whole-body COP"
               if insoles is not None else "too few samples")
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, why))
        if lowpass_hz is not None:
            rep.notes.append("--lowpass was not applied: there is no whole-body COP to filter")
    report["sway"] = sway

    if mat is not None:
        weight = _weight(mat["side_force"], mat["side_regions"], rep)
    elif insoles is not None:
        weight = _weight(insoles["side_force"], insoles["side_regions"], rep)
    else:
        weight = _weight(copg["side_force"], None, rep)
    report["weight"] = weight

    steps = []
    for i, e in enumerate(step_events):
        steps.append(e.metrics)
        rep.why(f"steps[{i}]", e.reasons)
    report["steps"] = steps
    gait, reasons = gait_summary(steps)
    report["gait"] = gait
    rep.why("gait", reasons)

    report["arch_index"] = _arch(mat, step_events, rep)
    quality = {}
    for stream in (mat, insoles):
        if stream:
            quality.update(stream["quality"])
    # Every 'off' ends either a step or a contact too short to be one.
    quality["short_contacts"] = sum(1 for e in events if e.kind == "off") - len(step_events)
    quality["incomplete_stances"] = sum(1 for e in events if e.kind == "incomplete")
    report["quality"] = quality
    report["notes"] = rep.notes
    report["null_reasons"] = dict(sorted(rep.reasons.items()))
    # How each stream's kPa were made; newtons on an unmeasured conversion are withheld (docs/metrics.md).
    calibration_state.apply(report, _meta(rec), [k for k, a in calibration_state.STREAMS.items() if _arr(rec, a) is not None])
    return _clean(report)


def _arch(mat, step_events, rep: _Report) -> dict:
    """Arch index per foot from the static footprint of a standing recording (mat only)."""
    out = {"left": None, "right": None}
    if mat is None:
        rep.why("arch_index", dict.fromkeys(out, "needs a footprint from the mat"))
        return out
    if step_events:
        rep.why("arch_index", dict.fromkeys(out, "needs a static (standing) footprint; this recording has steps"))
        return out
    for side in ("left", "right"):
        last = mat["last_feet"].get(side)
        if last is None or last[1] is None:
            rep.reasons[f"arch_index.{side}"] = "this foot was not on the mat at the end of the recording"
            continue
        foot, mask = last
        out[side] = arch_index(mask, (mat["pitch"][0], mat["pitch"][1]), foot.axis_deg)
        if out[side] is None:
            rep.reasons[f"arch_index.{side}"] = "footprint too small (under 10 sensels)"
    return out
