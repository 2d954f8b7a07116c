"""The analysis report of a recording (DESIGN 4.2, metrics version 3).

:func:`analyze_recording` takes anything with the recording file's arrays as
attributes (``device.recording.Recording``, :class:`kernels.cop_csv.CopRecording`)
and returns a JSON-ready dict: ``metrics_version``, ``duration_s``, ``rate_hz``,
``filter``, ``sway``, ``weight``, ``steps``, ``gait``, plus ``source``,
``window``, ``parameters`` (every threshold and setting used), ``arch_index``,
``quality`` (bad samples seen), ``null_reasons`` (dotted field -> why it is
null) and ``calibration`` (each sensor's calibration state:
:mod:`kernels.calibration_state`). A number is never invented: a field that
does not apply is null, and its reason says why.

Which stream gives what (``source``, docs/metrics.md section 1): the whole-body
COP for sway comes from the mat (the per-frame analysis), else the recording's
COP group; insole COPs are in each insole's own frame and never make a
whole-body COP. ``source="mat"`` or ``"insoles"`` uses that sensor only;
``"auto"`` uses the sensors the recording's drill used (meta ``sensors``), else
every sensor the recording has, steps and weight from the one that saw more
steps. ``sources`` in the report says which sensor gave each section.

Gaps (samples missing from a stream's uniform grid: frames lost, dropout rows
of a COP file) are found after the window is cut; each unbroken part is
analysed on its own (no stance, stride or step spans a gap) and the sway
measures are of the longest part, named in ``sway_part``; ``gaps`` lists them.
"""

from __future__ import annotations

import json
import math

import numpy as np

from kernels import calibration_state, detectors, report_extended
from kernels.gait import arch_index, gait_summary
from kernels.series import (
    FILTER_ORDER,
    MetricsInputError,
    check_times,
    estimate_rate,
    median,
    unbroken_parts,
    window_mask,
)
from kernels.sway import (
    ELLIPSE_PROBABILITY,
    MIN_SAMPLES,
    SENSOR_COP_LOWPASS_HZ,
    SWAY_FIELDS,
    filtered_sway,
)
from kernels.weight import REGION_CUTS, REGIONS, left_right, region_shares

METRICS_VERSION = 3
# --source: which sensor's numbers a report gives (docs/metrics.md section 1).
SOURCES = ("auto", "mat", "insoles")
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


def _cut(t, window, what: str):
    """(kept mask, windowed times, unbroken parts): the window first, then the gaps in it."""
    t = check_times(t, what, allow_gaps=True)
    keep = window_mask(t, window)
    t = t[keep]
    return keep, t, unbroken_parts(t)


def _mat(rec, window, rep: _Report, options: dict) -> dict | None:
    kpa = _arr(rec, "mat_kpa")
    if kpa is None:
        return None
    from kernels.frame import FrameAnalyzer, check_frame

    t = check_times(_arr(rec, "mat_t"), "mat_t", allow_gaps=True)
    if kpa.ndim != 3 or kpa.shape[0] != len(t):
        raise MetricsInputError(f"mat_kpa must be (frames, rows, cols) matching mat_t, got {kpa.shape}")
    if kpa.dtype != np.float32:
        raise MetricsInputError(f"mat_kpa must be float32 kPa (DESIGN 4.1), got dtype {kpa.dtype}")
    pitch_arr = _arr(rec, "mat_pitch_mm")
    pitch_arr = None if pitch_arr is None else np.asarray(pitch_arr, dtype=np.float64).ravel()
    if pitch_arr is None or pitch_arr.shape != (2,) or not np.all(np.isfinite(pitch_arr) & (pitch_arr > 0)):
        raise MetricsInputError(f"mat_pitch_mm must be (row pitch, column pitch) in mm, got {pitch_arr!r}")
    pitch = (float(pitch_arr[0]), float(pitch_arr[1]))
    keep, t, parts = _cut(t, window, "mat_t")
    kpa = kpa[keep]
    rows, cols = kpa.shape[1:]
    analyzer = FrameAnalyzer(rows, cols, pitch_mm=pitch, threshold_kpa=options["threshold_kpa"])
    n = len(t)
    force = np.zeros(n)
    cop = np.full((n, 2), np.nan)
    side_force = {"left": np.zeros(n), "right": np.zeros(n)}
    side_regions = {"left": np.full((n, 3), np.nan), "right": np.full((n, 3), np.nan)}
    events = []
    invalid = negative = 0
    last_feet: dict[str, object] = {}
    for a, b in parts:
        # Each unbroken part on its own: no foot track or stance is carried across a gap.
        analyzer.reset()
        last_feet = {}
        assembler = detectors.MatStepAssembler(analyzer, on_n=options["on_n"], off_n=options["off_n"],
                                               min_stance_s=options["min_stance_s"])
        for k in range(a, b):
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
        events.extend(assembler.close(float(t[b - 1])))
    if invalid or negative:
        rep.notes.append(f"mat: {invalid} NaN/infinite and {negative} negative sensel values were treated as 0")
    return {"name": "mat", "t": t, "parts": parts, "force": force, "cop": cop, "side_force": side_force,
            "side_regions": side_regions, "events": events, "pitch": pitch, "last_feet": last_feet,
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

    keep, t, parts = _cut(t, window, "insole_t")
    area = _arr(rec, "insole_sensor_area_mm2")
    foot_length, heel_edge = insole_outline(_meta(rec))
    out = {"name": "insoles", "t": t, "parts": parts, "side_force": {}, "side_regions": {}, "events": [],
           "quality": {}}
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
        events = []
        for a, b in parts:  # no stance across a gap
            found, _ = detectors.detect_steps(
                t[a:b], force[a:b], cop[a:b], regions[a:b], foot=side, source="insole",
                foot_length_mm=foot_length if heel_edge is not None else None, heel_edge_y_mm=heel_edge,
                on_n=options["on_n"], off_n=options["off_n"], min_stance_s=options["min_stance_s"])
            events.extend(found)
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
    t = check_times(t, "cop_t", allow_gaps=True)
    cop = np.asarray(_arr(rec, "cop_mm"), dtype=np.float64)
    if cop.shape != (len(t), 2):
        raise MetricsInputError(f"cop_mm must be (samples, 2) matching cop_t, got {cop.shape}")
    keep, t, parts = _cut(t, window, "cop_t")
    out = {"name": "cop", "t": t, "parts": parts, "cop": cop[keep], "side_force": {}, "events": []}
    meta = _meta(rec)
    dropped = meta.get("dropout_rows")
    if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0:
        lines = meta.get("dropout_lines") or []
        rep.notes.append(f"cop: {dropped} rows of the file had no sample (empty or NaN values"
                         + (f", lines {', '.join(str(x) for x in lines)}{' ...' if dropped > len(lines) else ''}" if lines else "")
                         + "); the time they leave out is a gap")
        out["quality"] = {"dropout_rows": dropped}
    fl, fr = _arr(rec, "force_left_n"), _arr(rec, "force_right_n")
    if fl is not None and fr is not None:
        out["side_force"] = {"left": np.asarray(fl, float)[keep], "right": np.asarray(fr, float)[keep]}
        for side in ("left", "right"):
            foot_cop = _arr(rec, f"cop_{side}_mm")
            foot_cop = None if foot_cop is None else np.asarray(foot_cop, float)[keep]
            for a, b in parts:  # no stance across a gap
                events, _ = detectors.detect_steps(
                    t[a:b], out["side_force"][side][a:b], None if foot_cop is None else foot_cop[a:b],
                    foot=side, source="plate", on_n=options["on_n"], off_n=options["off_n"],
                    min_stance_s=options["min_stance_s"])
                out["events"].extend(events)
    return out


# -- report sections ---------------------------------------------------------------------------


def _sway(stream, rate, lowpass_hz, rep: _Report, steps_seen: bool):
    """(sway set, filter, part, COP) of the stream's whole-body COP: of its longest unbroken part
    when it has gaps (``part`` then says which), else of all of it; COP is the part's unfiltered
    COP that the sway set was computed from (None when there was none)."""
    t, cop, parts = stream["t"], stream["cop"], stream["parts"]
    part = None
    if len(parts) > 1:
        a, b = max(parts, key=lambda p: (p[1] - p[0], -p[0]))  # the longest; the first of equals
        part = {"start_s": float(t[a]), "end_s": float(t[b - 1]), "samples": b - a, "of_parts": len(parts)}
        others = ", ".join(f"{t[x]:.2f}-{t[y - 1]:.2f} s" for x, y in parts if (x, y) != (a, b))
        rep.notes.append(
            f"sway: the {stream['name']} recording has {len(parts) - 1} gap(s); the sway measures are of its longest "
            f"unbroken part, {t[a]:.2f} s to {t[b - 1]:.2f} s ({b - a} samples); the other parts ({others}) "
            "can be analysed with --window")
        t, cop = t[a:b], cop[a:b]
    values = dict.fromkeys(SWAY_FIELDS)
    present = np.all(np.isfinite(cop), axis=1) if len(cop) else np.zeros(0, bool)
    if not present.any():
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, "no centre of pressure in the analysed part (nobody on the sensor)"))
        return values, None, part, None
    first, last = int(np.argmax(present)), len(present) - int(np.argmax(present[::-1]))
    inner = present[first:last]
    if not inner.all():
        missing = int((~inner).sum())
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, (
            f"the COP is missing for {missing} samples between {t[first]:.2f} s and {t[last - 1]:.2f} s "
            "(a foot or the patient left the sensor); sway needs an unbroken COP: use --window")))
        return values, None, part, None
    if first or last < len(present):
        rep.notes.append(f"sway: {first + len(present) - last} samples without COP at the start/end were left out")
    c = cop[first:last]
    # The mat's COP carries the sensor's read noise and is low-passed by default (metrics
    # version 3); a COP file is taken as recorded (a force plate's software has usually
    # filtered it already) unless --lowpass asks (docs/metrics.md section 1, "Low-pass").
    if lowpass_hz == "auto":
        hz, strict = (SENSOR_COP_LOWPASS_HZ if stream["name"] == "mat" else None), False
    else:
        hz, strict = lowpass_hz, True
    values, reasons, filt, why_not = filtered_sway(c, rate, hz, strict=strict)
    if filt is not None:
        filt["chosen_by"] = "default for the mat's COP" if lowpass_hz == "auto" else "--lowpass"
    if why_not:
        rep.notes.append(f"sway: {why_not}")
    rep.why("sway", reasons)
    if steps_seen and values["path_length_mm"] is not None:
        rep.notes.append("steps were detected: the sway measures describe this COP, not quiet standing")
    return values, filt, part, c


def _extended(cop_source, cop, rate, convention: str, rep: _Report) -> dict:
    """The extended posturography section of the sway part's COP (docs/metrics.md, section 2b)."""
    source = cop_source["name"] if cop_source else None
    if cop is None:
        section = report_extended.empty_section(source, convention)
        rep.why("extended.values", dict.fromkeys(section["values"], "no whole-body COP to describe (see sway)"))
        return section
    section, reasons = report_extended.extended_section(cop, rate, source, convention)
    rep.why("extended", reasons)
    return section


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
        "mat_cop_lowpass_hz": SENSOR_COP_LOWPASS_HZ,
    }


def _streams_to_use(rec, source: str, rep: _Report) -> tuple[set[str], str]:
    """Which of the recording's streams a report with ``source`` analyses, and why."""
    present = {name for name, key in (("mat", "mat_kpa"), ("insoles", "insole_t"), ("cop", "cop_t"))
               if _present(rec, key)}
    if not present:
        raise MetricsInputError("the recording holds no mat, insole or COP data; nothing to analyse")
    if source not in SOURCES:
        raise MetricsInputError(f"source {source!r} must be one of {', '.join(SOURCES)}")
    if source != "auto":
        if source not in present:
            raise MetricsInputError(f"--source {source}: the recording has no {source} data "
                                    f"(it has {', '.join(sorted(present))}); use --source auto")
        return {source}, f"--source {source}"
    meta = _meta(rec)
    sensors = meta.get("sensors")
    if isinstance(sensors, (list, tuple)) and sensors and all(x in ("mat", "insoles") for x in sensors):
        wanted = set(sensors) & present
        drill = meta.get("drill")
        if wanted:
            return wanted, f"the sensors the drill{' ' + str(drill) if drill else ''} used (recording meta)"
        rep.notes.append(f"the recording's drill used {' and '.join(sensors)}, which it has no data of; "
                         "every sensor it has was analysed")
    return present, "every sensor the recording has"


def _primary(streams: dict) -> dict | None:
    """The stream steps, gait and weight come from: of the mat and the insoles, the one that
    saw more completed steps (the mat on a tie: it also places the feet), else the COP group."""
    def steps(stream):
        return sum(1 for e in stream["events"] if e.kind == "step")

    feet = [streams[n] for n in ("mat", "insoles") if streams.get(n) is not None]
    if feet:
        return max(feet, key=lambda st: (steps(st), st["name"] == "mat"))
    return streams.get("cop")


def stream_options(**overrides) -> tuple[dict, dict]:
    """(the report's ``parameters``, the per-stream analysis options) for ``overrides``
    (``contact_on_n``, ``contact_off_n``, ``min_stance_s``, ``mat_threshold_kpa``)."""
    params = default_parameters()
    for key, value in overrides.items():
        if key not in ("contact_on_n", "contact_off_n", "min_stance_s", "mat_threshold_kpa"):
            raise TypeError(f"analyze_recording: unknown parameter {key!r}")
        params[key] = float(value)
    options = {"on_n": params["contact_on_n"], "off_n": params["contact_off_n"],
               "min_stance_s": params["min_stance_s"], "threshold_kpa": params["mat_threshold_kpa"]}
    return params, options


def stream_outputs(rec, options: dict) -> dict:
    """The per-frame analysis of the whole recording's mat and insoles, as ``analyze_recording``
    computes it: name -> (stream, notes). Stored in the recording file (``kernels.stored``)."""
    out = {}
    for name, key, analyse in (("mat", "mat_kpa", _mat), ("insoles", "insole_t", _insoles)):
        if _arr(rec, key) is not None:
            rep = _Report()
            out[name] = (analyse(rec, None, rep, options), rep.notes)
    return out


def _stored_streams(rec, window, options: dict) -> dict | None:
    """The recording's stored per-frame analysis (``rec.stored_analysis``: options, streams) when it
    is for these options and the whole recording; None to analyse the frames."""
    stored = getattr(rec, "stored_analysis", None)
    if stored is None:
        return None
    made_with, streams = stored
    if made_with == options and window is None:
        return streams
    if getattr(rec, "frames_not_read", ()):
        raise ValueError("the recording was read without its frames, which these options or this window need")
    return None


def _present(rec, key: str) -> bool:
    """The recording has the array ``key`` (read, or left unread beside its stored analysis)."""
    return _arr(rec, key) is not None or key in getattr(rec, "frames_not_read", ())


def _from_store(rec, name: str, stored: dict, rep: _Report) -> dict:
    """A stream of :func:`_mat` / :func:`_insoles` from the stored analysis: the times and parts from
    the file, the per-frame results and events as they were computed, the notes in their place."""
    part, notes = stored[name]
    key = "mat_t" if name == "mat" else "insole_t"
    _, t, parts = _cut(_arr(rec, key), None, key)
    rep.notes.extend(notes)
    stream = {"name": name, "t": t, "parts": parts, **part}
    if name == "mat":
        stream["pitch"] = tuple(float(x) for x in np.asarray(_arr(rec, "mat_pitch_mm"), dtype=np.float64).ravel())
    return stream


def analyze_recording(rec, lowpass_hz: float | str | None = "auto", window=None, source: str = "auto",
                      extended: str | None = None, **overrides) -> dict:
    """The DESIGN 4.2 report of ``rec`` (see the module docstring).

    ``window`` is (start_s, end_s) with either None; ``lowpass_hz`` low-passes
    the whole-body COP (zero-phase Butterworth, order :data:`FILTER_ORDER`)
    before the sway measures: ``"auto"`` the mat's COP at
    :data:`~kernels.sway.SENSOR_COP_LOWPASS_HZ` and a COP file's as recorded,
    a number every COP at that cut-off, None nothing; ``source`` is one of :data:`SOURCES`.
    ``extended`` (None, ``"gaitkiosk"`` or ``"quijoux2021"``) adds the ``extended`` section, the 72
    descriptors of :mod:`kernels.report_extended` in that convention.
    ``overrides`` may set ``contact_on_n``, ``contact_off_n``, ``min_stance_s``
    and ``mat_threshold_kpa``.
    Raises :class:`MetricsInputError` for input that cannot be analysed at all.
    """
    if extended not in (None, *report_extended.CONVENTIONS):
        raise ValueError(f"analyze_recording: extended must be None or one of {report_extended.CONVENTIONS}")
    params, options = stream_options(**overrides)
    stored = _stored_streams(rec, window, options)
    rep = _Report()
    use, chosen_by = _streams_to_use(rec, source, rep)
    mat = _from_store(rec, "mat", stored, rep) if stored and "mat" in use else \
        _mat(rec, window, rep, options) if "mat" in use else None
    insoles = _from_store(rec, "insoles", stored, rep) if stored and "insoles" in use else \
        _insoles(rec, window, rep, options) if "insoles" in use else None
    copg = _cop_group(rec, window, rep, options) if "cop" in use else None
    streams = {"mat": mat, "insoles": insoles, "cop": copg}

    # Which stream gives what: the whole-body COP from the mat or the COP group; steps,
    # gait and weight from the primary stream; the time base is the COP's stream if any.
    cop_source = mat or copg
    primary = _primary(streams)
    base = cop_source or primary
    t = base["t"]
    if len(t) == 0:
        raise MetricsInputError("the window holds no samples; check --window against the recording's duration")
    rate = estimate_rate(t, base["parts"]) if len(t) >= 2 else None
    sources = {"sway": cop_source["name"] if cop_source else None, "weight": primary["name"],
               "steps": primary["name"], "gait": primary["name"], "arch_index": "mat" if mat else None}
    used = {v for v in sources.values() if v}
    report: dict = {
        "metrics_version": METRICS_VERSION,
        "source": "+".join(n for n in ("mat", "insoles", "cop") if n in used),
        "sources": sources,
        "duration_s": float(len(t) / rate) if rate else None,
        "rate_hz": rate,
        "samples": len(t),
        "window": None if window is None else {"start_s": window[0], "end_s": window[1]},
        "filter": None,
        "parameters": params,
    }
    if rate is None:
        rep.reasons["duration_s"] = rep.reasons["rate_hz"] = "a single sample has no rate or duration"
    if source == "auto" and len(use) > 1 or chosen_by.startswith("the sensors"):
        rep.notes.append(f"source: {report['source']}, from {chosen_by}")
    for name, stream in streams.items():
        if stream is not None and name not in used:
            seen = sum(1 for e in stream["events"] if e.kind == "step")
            theirs = sum(1 for e in primary["events"] if e.kind == "step")
            rep.notes.append(f"the {name} data were not used: the {primary['name']} saw more steps ({theirs} against "
                             f"{seen}); --source {name} reports the {name} alone")

    events = primary["events"]
    step_events = sorted((e for e in events if e.kind == "step"), key=lambda e: e.metrics["contact_s"])

    if cop_source is not None and rate is not None:
        sway, filt, part, sway_cop = _sway(cop_source, rate, lowpass_hz, rep, bool(step_events))
        report["filter"] = filt
    else:
        part = sway_cop = None
        sway = dict.fromkeys(SWAY_FIELDS)
        why = ("insoles give each foot's COP in its own frame, not a whole-body COP"
               if cop_source is None else "too few samples")
        rep.why("sway", dict.fromkeys(SWAY_FIELDS, why))
        if lowpass_hz not in (None, "auto"):
            rep.notes.append("--lowpass was not applied: there is no whole-body COP to filter")
    report["sway"] = sway
    report["sway_part"] = part
    if extended is not None:
        report["extended"] = _extended(cop_source, sway_cop, rate, extended, rep)

    report["weight"] = _weight(primary["side_force"], primary.get("side_regions"), rep)

    steps = []
    for i, e in enumerate(step_events):
        steps.append(e.metrics)
        rep.why(f"steps[{i}]", e.reasons)
    report["steps"] = steps
    breaks = [float(primary["t"][a]) for a, _ in primary["parts"][1:]]
    gait, reasons = gait_summary(steps, breaks)
    report["gait"] = gait
    rep.why("gait", reasons)

    report["arch_index"] = _arch(mat, step_events, rep)
    quality = {}
    for stream in (mat, insoles, copg):
        if stream:
            quality.update(stream.get("quality") or {})
    # Every 'off' ends either a step or a contact too short to be one.
    quality["short_contacts"] = sum(1 for e in events if e.kind == "off") - len(step_events)
    quality["incomplete_stances"] = sum(1 for e in events if e.kind == "incomplete")
    gaps = _gaps(streams, used, rep)
    quality["gaps"] = len(gaps)
    report["gaps"] = gaps
    report["quality"] = quality
    report["notes"] = rep.notes
    report["null_reasons"] = dict(sorted(rep.reasons.items()))
    # How each stream's kPa were made; newtons on an unmeasured conversion are withheld (docs/metrics.md).
    calibration_state.apply(report, _meta(rec), [k for k, a in calibration_state.STREAMS.items() if _present(rec, a)])
    report_extended.add_calibration(report)
    return _clean(report)


def _gaps(streams: dict, used: set, rep: _Report) -> list[dict]:
    """The gaps of the analysed part of every stream used, each named in the notes."""
    out = []
    for name, stream in streams.items():
        if stream is None or name not in used or len(stream["parts"]) < 2:
            continue
        t, parts = stream["t"], stream["parts"]
        step = median(np.diff(t))
        for (_, end), (start, _) in zip(parts, parts[1:], strict=False):
            length = float(t[start] - t[end - 1])
            missing = max(1, int(round(length / step)) - 1)
            out.append({"stream": name, "after_s": float(t[end - 1]), "length_s": length, "missing_samples": missing})
        listed = ", ".join(f"{g['length_s']:.3g} s after {g['after_s']:.2f} s" for g in out if g["stream"] == name)
        rep.notes.append(f"{name}: {len(parts) - 1} gap(s) in the samples ({listed}; samples lost or not recorded); "
                         "each part between gaps was analysed on its own")
    return out


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
