"""The calibration state of a report's numbers (docs/metrics.md, "Calibration state").

A report says, per sensor stream it read, how that stream's kPa were made
(``report["calibration"]``), from the recording's ``meta["calibration"]``
(written by ``device.calibration_state``; older files are read from what their
meta said in words). When a stream rests on a conversion nobody measured for
that sensor (the factory-nominal line, or counts times a scale given by hand),
its forces in newtons are withheld: ``null`` with the reason, as a clinician
using a commercial system expects of an uncalibrated recording (relative
values, no newtons). Percentages, times and centre-of-pressure measures stay,
and the report says in words that they are approximate.
"""

from __future__ import annotations

# Fields in absolute force or pressure units: what an unmeasured conversion gets wrong by its whole error.
ABSOLUTE_SUFFIXES = ("_n", "_n_s", "_kpa")
STREAMS = {"mat": "mat_kpa", "insole_left": "insole_left_kpa", "insole_right": "insole_right_kpa", "cop": "cop_t"}
NAMES = {"mat": "the mat", "insole_left": "the left insole", "insole_right": "the right insole",
         "cop": "the centre-of-pressure data"}
NOT_STATED = "not stated"


def sensor_states(meta: dict, present: list[str]) -> dict[str, dict]:
    """{stream: {serial, state, uncalibrated, calibration_id, calibrated_at, kpa_per_count}} for ``present``."""
    given = meta.get("calibration") if isinstance(meta.get("calibration"), dict) else {}
    legacy = _legacy(meta)
    out = {}
    for stream in present:
        found = given.get(stream)
        if not isinstance(found, dict) or not isinstance(found.get("state"), str):
            found = legacy.get(stream) or {}
        state = found.get("state") or NOT_STATED
        out[stream] = {"serial": found.get("serial"), "state": state,
                       "uncalibrated": bool(found.get("uncalibrated", "uncalibrated" in state)),
                       "calibration_id": found.get("calibration_id"), "calibrated_at": found.get("calibrated_at"),
                       "kpa_per_count": found.get("kpa_per_count")}
    return out


def _legacy(meta: dict) -> dict[str, dict]:
    """What files written before ``meta["calibration"]`` said, in their own words."""
    out: dict[str, dict] = {}
    devices = meta.get("devices")
    if isinstance(devices, list):  # gaitkiosk record: [{kind, serial, pressure: "... (uncalibrated)"}]
        for d in devices:
            if isinstance(d, dict) and isinstance(d.get("pressure"), str):
                out[str(d.get("kind"))] = {"serial": d.get("serial"), "state": d["pressure"]}
    elif isinstance(devices, dict):  # gaitkiosk export: {kind: {serial, calibration_id, ...}}
        for kind, d in devices.items():
            if isinstance(d, dict) and d.get("calibration_id"):
                out[kind] = {"serial": d.get("serial"), "state": "calibrated", "calibration_id": d["calibration_id"]}
    units = meta.get("units")
    if isinstance(units, dict) and isinstance(units.get("pressure"), str):  # gaitkiosk simulate
        for stream in ("mat", "insole_left", "insole_right"):
            out.setdefault(stream, {"state": units["pressure"]})
    return out


def summary(states: dict[str, dict]) -> str:
    """One word for the whole report: calibrated, uncalibrated, partly calibrated or not stated."""
    flags = [s["uncalibrated"] for s in states.values()]
    if flags and all(flags):
        return "uncalibrated"
    if any(flags):
        return "partly calibrated"
    if any(s["state"] == NOT_STATED for s in states.values()):
        return NOT_STATED
    return "calibrated"


def words(states: dict[str, dict]) -> str:
    """The calibration state in a sentence or two, for a therapist."""
    parts, bad = [], {}
    for stream, s in states.items():
        name = NAMES.get(stream, stream) + (f" ({s['serial']})" if s.get("serial") else "")
        if s["uncalibrated"]:
            bad.setdefault(_how(s["state"]), []).append(name)
        elif s["calibration_id"]:
            when = f" of {s['calibrated_at'][:10]}" if s.get("calibrated_at") else ""
            parts.append(f"{name}: calibration {s['calibration_id'][:8]}{when}")
        elif s["state"] == NOT_STATED:
            parts.append(f"{name}: not stated (the file does not say how its kPa were made)")
        else:
            parts.append(f"{name}: {s['state']}")
    text = []
    if bad:
        how = "; ".join(f"{_join(names)} {'reads' if len(names) == 1 else 'read'} {way}" for way, names in bad.items())
        text.append(
            f"NOT CALIBRATED: {how}: a conversion never measured for the sensor, which can be off by more than "
            "100 %. Forces in newtons from it are withheld. Percentages and centre-of-pressure measures are shown, "
            "but compare them only with other uncalibrated sessions of this sensor: they can be far off (on the "
            "virtual mat a sway area reads at less than half its true size). Calibrate the sensor (gaitkiosk calibrate, "
            "docs/calibration.md).")
    if parts:
        text.append("Calibration: " + "; ".join(parts) + ".")
    return " ".join(text)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _how(state: str) -> str:
    if state.startswith("factory-nominal") or state.startswith("nominal"):
        return "through the factory-nominal line"
    if state.startswith("raw counts"):
        return "as raw counts times a scale given by hand"
    return f"as '{state}'"


def _step_streams(step: dict, present: dict[str, dict]) -> list[str]:
    source, foot = step.get("source"), step.get("foot")
    if source == "mat":
        return ["mat"]
    if source == "insole":
        return [f"insole_{foot}"] if foot in ("left", "right") else ["insole_left", "insole_right"]
    if source == "plate":
        return ["cop"]
    return list(present)  # unknown source: the worst of what the report read


def _absolute(key: str) -> bool:
    return key.endswith(ABSOLUTE_SUFFIXES)


def block(meta: dict, present: list[str], used: list[str] | None = None) -> dict:
    """``{state, words, sensors}``: what a report or a trial's results say of their calibration.

    ``sensors`` has every stream ``present`` in the recording, each marked ``used``
    when a number of the report comes from it (``used`` None: all); the summary
    state and the words speak of the used ones only, so a mat report is not called
    uncalibrated for the insoles that were recorded beside it.
    """
    states = sensor_states(meta, present)
    used = list(states) if used is None else [k for k in used if k in states]
    for k, s in states.items():
        s["used"] = k in used
    mine = {k: states[k] for k in used}
    return {"state": summary(mine), "words": words(mine), "sensors": states}


def used_streams(report: dict, present: list[str]) -> list[str]:
    """The streams a report's numbers come from: its ``source`` and its steps' sources."""
    source = str(report.get("source") or "")
    used = [k for k in present if (k == "mat" and "mat" in source) or (k.startswith("insole") and "insole" in source)
            or (k == "cop" and ("cop" in source or "plate" in source))]
    for step in report.get("steps") or []:
        used += [k for k in _step_streams(step, dict.fromkeys(present)) if k in present]
    return sorted(set(used), key=present.index)


def withhold_measures(measures: dict, cal: dict, streams: list[str]) -> dict[str, str]:
    """Null the absolute force/pressure values in ``measures`` (nested) when a stream they come from
    is uncalibrated; returns {dotted path: reason} for what was withheld."""
    states = {k: v for k, v in cal["sensors"].items() if k in streams}
    if not any(s["uncalibrated"] for s in states.values()):
        return {}
    why = _why(list(states), states)
    withheld: dict[str, str] = {}

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if _absolute(str(key)) and isinstance(value, int | float) and not isinstance(value, bool):
                    node[key] = None
                    withheld[f"{path}{key}"] = why
                else:
                    walk(value, f"{path}{key}.")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}{i}.")

    walk(measures, "")
    return withheld


def apply(report: dict, meta: dict, present: list[str]) -> None:
    """Add ``calibration`` to ``report``, state each step's calibration, withhold unmeasured newtons."""
    report["calibration"] = block(meta, present, used_streams(report, present))
    states = {k: s for k, s in report["calibration"]["sensors"].items() if s["used"]}
    if not any(s["uncalibrated"] for s in states.values()):
        for step in report.get("steps") or []:
            step["calibration"] = _worst([states[k]["state"] for k in _step_streams(step, states) if k in states])
        return
    reasons = report.setdefault("null_reasons", {})
    uncal_feet: set = set()
    for i, step in enumerate(report.get("steps") or []):
        streams = [k for k in _step_streams(step, states) if k in states]
        step["calibration"] = _worst([states[k]["state"] for k in streams])
        if not any(states[k]["uncalibrated"] for k in streams):
            continue
        uncal_feet.add(step.get("foot"))
        for key in list(step):
            if _absolute(key) and step[key] is not None:
                step[key] = None
                reasons[f"steps[{i}].{key}"] = _why(streams, states)
    gait = report.get("gait") or {}
    for key, value in gait.items():
        if not _absolute(key):
            continue
        if isinstance(value, dict):
            for foot in value:
                if value[foot] is not None and (foot in uncal_feet or None in uncal_feet):
                    value[foot] = None
                    reasons[f"gait.{key}.{foot}"] = _why(list(states), states)
        elif value is not None and uncal_feet:
            gait[key] = None
            reasons[f"gait.{key}"] = _why(list(states), states)
    report["null_reasons"] = dict(sorted(reasons.items()))
    notes = report.setdefault("notes", [])
    notes.insert(0, report["calibration"]["words"])


def _worst(states: list[str]) -> str:
    for s in states:
        if "uncalibrated" in s:
            return s
    return states[0] if states else NOT_STATED


def _why(streams: list[str], states: dict[str, dict]) -> str:
    bad = [NAMES.get(k, k) for k in streams if states[k]["uncalibrated"]]
    return (f"withheld: {' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not calibrated "
            f"({_worst([states[k]['state'] for k in streams])}); newtons from it would be wrong by the "
            "conversion's whole error. Calibrate the sensor and record again")
