"""Export sessions to the interchange recording file (DESIGN 4.1) plus a metrics CSV.

kPa: the store keeps raw counts. A device that declared ``kpa_per_count``
in its hello is converted with it. Any other device needs its calibration:
calibration/ installs a converter factory with
:func:`set_calibration_converter` (``(Calibration, zero state) -> (counts -> kPa)``);
until one is installed, exporting a raw-count recording raises
:class:`UncalibratedError` naming the device and calibration id, rather than
writing numbers that are not kPa.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from store.calibrations import Calibration
from store.errors import GeometryError, NotFoundError, UncalibratedError
from store.recordings import Recording

Converter = Callable[[np.ndarray], np.ndarray]
# (calibration, the sensor zero state of the recording or None) -> counts-to-kPa
ConverterFactory = Callable[[Calibration, "dict | None"], Converter]

_factory: ConverterFactory | None = None


def set_calibration_converter(factory: ConverterFactory | None) -> None:
    """Install (or with None remove) the calibration -> converter factory."""
    global _factory
    _factory = factory


def converter_installed() -> bool:
    return _factory is not None


def kpa_converter(store, rec: Recording) -> Converter:
    """counts -> kPa (float32) for one recording, or UncalibratedError."""
    if rec.kpa_per_count > 0:
        scale = np.float32(rec.kpa_per_count)
        return lambda counts: counts.astype(np.float32) * scale
    if not rec.calibration_id:
        raise UncalibratedError(
            f"recording {rec.id} of device {rec.device_serial} holds raw counts and no calibration was in force; "
            "calibrate the device and re-export (the raw counts are kept)")
    if _factory is None:
        raise UncalibratedError(
            f"recording {rec.id} of device {rec.device_serial} needs calibration {rec.calibration_id} to become kPa, "
            "and no calibration converter is installed (calibration/ provides it)")
    from device.tiles import TileConverter, parse_composite_calibration_id

    zero = recording_zero_state(store, rec)
    try:
        tiles = parse_composite_calibration_id(rec.calibration_id)
    except ValueError as exc:
        raise UncalibratedError(f"recording {rec.id}: {exc}") from None
    if tiles is not None:  # a walkway whose tiles each had their own calibration (docs/walkway.md)
        pieces = []
        for part in tiles:
            calibration = _calibration(store, part.calibration_id, rec)
            record = calibration.record if isinstance(calibration.record, dict) else {}
            shape = (record.get("model") or {}).get("shape") if isinstance(record.get("model"), dict) else None
            if not (isinstance(shape, list) and len(shape) == 2):
                raise UncalibratedError(f"calibration {part.calibration_id} of recording {rec.id} has no tile shape")
            pieces.append((part, (int(shape[0]), int(shape[1])), _factory(calibration, zero)))
        return TileConverter(tuple(rec.shape), pieces)
    convert = _factory(_calibration(store, rec.calibration_id, rec), zero)
    return lambda counts: np.asarray(convert(counts), dtype=np.float32)


def _calibration(store, calibration_id: str, rec: Recording):
    try:
        return store.calibrations.get(calibration_id)
    except NotFoundError:
        raise UncalibratedError(f"calibration {calibration_id} of recording {rec.id} is not in this database") from None


def recording_zero_state(store, rec: Recording) -> dict | None:
    """The sensor's ZERO state while this recording was made (docs/protocol.md 9.1), or None.

    The runtime keeps it per trial (``results.device_zero[serial]``); the
    calibration converter needs it because a calibration made on raw counts
    must not subtract its offsets again from device-zeroed counts.
    """
    if not rec.trial_id:
        return None
    try:
        results = store.trials.get(rec.trial_id).results or {}
    except NotFoundError:
        return None
    state = (results.get("device_zero") or {}).get(rec.device_serial)
    return dict(state) if isinstance(state, dict) else None


def recording_arrays(store, recordings: list[Recording], meta: dict, *, mat_pitch_mm=None) -> dict:
    """The 4.1 arrays for the recordings of one trial (one mat and/or two insoles).

    Geometry comes from the device's hello as kept in ``devices.info``
    (``pitch_mm``, ``sensors_mm``, ``sensor_area_mm2``); a mat pitch can be
    given when the device never reported one. ``meta["calibration"]`` gets
    each sensor's calibration state (:func:`calibration_meta`).
    """
    arrays: dict = {}
    insoles = {}
    meta["calibration"] = calibration_meta(store, recordings)
    for rec in recordings:
        chunk = store.recordings.read(rec.id)
        kpa = kpa_converter(store, rec)(chunk.counts)
        t = chunk.t_host - rec.t_origin
        info = _device_info(store, rec.device_serial)
        if rec.kind == "mat":
            arrays["mat_kpa"] = kpa.astype(np.float32)
            arrays["mat_t"] = t.astype(np.float64)
            pitch = mat_pitch_mm if mat_pitch_mm is not None else info.get("pitch_mm")
            if pitch is None or not np.all(np.asarray(pitch, dtype=float) > 0):
                raise GeometryError(f"mat {rec.device_serial}: its sensel pitch is unknown (the device never reported "
                                    "it); give it with --mat-pitch-mm")
            pitch = np.broadcast_to(np.asarray(pitch, dtype=np.float64), (2,)).copy()
            arrays["mat_pitch_mm"] = pitch
        else:
            insoles[rec.kind] = (kpa, t, info)
    if insoles:
        # 4.1 has one insole_t for both feet: pair frames by index, trimmed to the shorter side,
        # and state the worst clock mismatch in meta (insole boards share a sample clock).
        n = min(len(v[1]) for v in insoles.values())
        times = [v[1][:n] for v in insoles.values()]
        arrays["insole_t"] = times[0].astype(np.float64)
        if len(times) == 2 and n:
            meta["insole_pairing_max_dt_s"] = float(np.max(np.abs(times[0] - times[1])))
        for kind, (kpa, _, info) in insoles.items():
            if "sensors_mm" not in info or "sensor_area_mm2" not in info:
                raise GeometryError(f"{kind.replace('_', ' ')} device: its sensor positions and areas are unknown "
                                    "(no hello with geometry was stored for it); the raw frames are kept")
            arrays[f"{kind}_kpa"] = kpa[:n].astype(np.float32)
            arrays[f"{kind}_sensors_mm"] = np.asarray(info["sensors_mm"], dtype=np.float64)
            arrays["insole_sensor_area_mm2"] = np.asarray(info["sensor_area_mm2"], dtype=np.float64)
    return arrays


def calibration_meta(store, recordings: list[Recording]) -> dict:
    """Each recording's calibration state for the file's meta: {kind: device.calibration_state entry}.

    A calibration's date is when it was made; a recording without one says how
    its kPa were made instead (device-reported, or the factory-nominal line).
    """
    from device import calibration_state

    out = {}
    for rec in recordings:
        info = _device_info(store, rec.device_serial)
        device_scale = info.get("kpa_per_count") if info else None
        state = calibration_state.state_of(rec.calibration_id, rec.kpa_per_count, device_scale)
        made = None
        if rec.calibration_id:
            try:
                made = store.calibrations.get(rec.calibration_id).created_at
            except NotFoundError:
                made = None  # a calibration from another database: its id still names it
        out[rec.kind] = calibration_state.entry(rec.device_serial, state, calibration_id=rec.calibration_id,
                                                calibrated_at=made, kpa_per_count=rec.kpa_per_count)
        tiles = _tile_calibrations(store, rec)
        if tiles:
            out[rec.kind]["tiles"] = tiles
    return out


def _tile_calibrations(store, rec: Recording) -> list[dict]:
    """A walkway recording converted by each tile's own calibration: each tile's serial, calibration
    id and date, in the walkway's order (docs/walkway.md)."""
    from device.tiles import parse_composite_calibration_id

    try:
        parts = parse_composite_calibration_id(rec.calibration_id) or []
    except ValueError:
        return []
    serials = rec.device_serial[len("tiles:"):].split("+") if rec.device_serial.startswith("tiles:") else []
    out = []
    for i, part in enumerate(parts):
        try:
            cal = store.calibrations.get(part.calibration_id)
            serial, made = cal.device_serial, cal.created_at
        except NotFoundError:
            serial, made = (serials[i] if i < len(serials) else None), None
        out.append({"tile": i + 1, "serial": serial, "calibration_id": part.calibration_id, "calibrated_at": made})
    return out


def _device_info(store, serial: str) -> dict:
    try:
        return store.devices.get(serial).info
    except NotFoundError:
        return {}


def write_npz(path: Path, arrays: dict, meta: dict, *, derived=None) -> Path:
    """Check against DESIGN 4.1 and write atomically and durably (device.recording.save_recording;
    ``derived``: its hook for the stored analysis, which the store cannot compute itself)."""
    from device.recording import Recording as Interchange
    from device.recording import save_recording

    return save_recording(path, Interchange(meta=meta, **arrays), derived=derived)


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, list):
        out[f"{prefix}.count"] = len(value)
        if value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            for i, v in enumerate(value):
                out[f"{prefix}.{i}"] = v
    else:
        out[prefix] = value


def metrics_rows(store, session_ids: list[str]) -> list[dict]:
    """One row per trial: identity, drill, versions and every scalar of the report."""
    out = []
    for sid in session_ids:
        session = store.sessions.get(sid)
        code = store.patients.get(session.patient_id).code
        for trial in store.trials.for_session(sid):
            row = {"session_id": sid, "patient_code": code, "trial_id": trial.id, "position": trial.position,
                   "drill": trial.drill, "status": trial.status, "started_at": trial.started_at,
                   "metrics_version": trial.metrics_version, "calibration": _calibration_state(trial)}
            flat: dict = {}
            _flatten("", trial.report or {}, flat)
            flat.pop("metrics_version", None)
            _flatten("results", trial.results or {}, flat)
            row.update(flat)
            out.append(row)
    return out


def _calibration_state(trial) -> str:
    """The row's calibration state in a word (its report's, else its results'; per sensor in the
    ``calibration.sensors.*`` columns): calibrated, uncalibrated, partly calibrated or not stated."""
    for part in (trial.report, trial.results):
        state = ((part or {}).get("calibration") or {}).get("state")
        if isinstance(state, str):
            return state
    return "not stated"


def write_metrics_csv(path: Path, rows: list[dict]) -> Path:
    fixed = ["session_id", "patient_code", "trial_id", "position", "drill", "status", "started_at", "metrics_version",
             "calibration"]
    extra = sorted({k for r in rows for k in r} - set(fixed))
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fixed + extra, restval="")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return path


def export_session(store, session_id: str, out: str | Path, *, mat_pitch_mm=None, derived=None) -> list[Path]:
    """Write the session's recordings (one .npz per trial) and its metrics CSV; return the files.

    With one trial the file is ``out`` itself; with several, ``<stem>-<NN>-<drill>.npz``.
    Raw frames recorded outside any trial go to ``<stem>-session.npz``. ``derived``: see write_npz
    (``gaitkiosk sessions export`` passes ``gaitkiosk.stored_analysis.derived``).
    """
    out = Path(out)
    if out.suffix != ".npz":
        out = out.with_suffix(".npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    session = store.sessions.get(session_id)
    patient = store.patients.get(session.patient_id)
    groups: dict = {}
    for rec in store.recordings.for_session(session_id):
        groups.setdefault(rec.trial_id, []).append(rec)
    trials = {t.id: t for t in store.trials.for_session(session_id)}
    written = []
    for trial_id, recs in groups.items():
        trial = trials.get(trial_id)
        meta = {"source": "gaitkiosk store export", "session_id": session_id, "patient_code": patient.code,
                "session_status": session.status, "session_started_at": session.started_at,
                "trial_id": trial_id, "drill": trial.drill if trial else None,
                "params": trial.params if trial else None,
                # the sensors the drill used: `analyze --source auto` reports those, as the kiosk did
                "sensors": (trial.results or {}).get("sensors") if trial else None,
                "metrics_version": trial.metrics_version if trial else None,
                "devices": {r.kind: {"serial": r.device_serial, "calibration_id": r.calibration_id,
                                     "kpa_per_count": r.kpa_per_count, "status": r.status,
                                     "dropped_frames": r.dropped, "seq_gaps": r.seq_gaps} for r in recs}}
        arrays = recording_arrays(store, sorted(recs, key=lambda r: r.kind), meta, mat_pitch_mm=mat_pitch_mm)
        if len(groups) == 1:
            path = out
        elif trial is None:
            path = out.with_name(f"{out.stem}-session.npz")
        else:
            path = out.with_name(f"{out.stem}-{trial.position:02d}-{trial.drill}.npz")
        written.append(write_npz(path, arrays, meta, derived=derived))
    written.append(write_metrics_csv(out.with_name(f"{out.stem}-metrics.csv"), metrics_rows(store, [session_id])))
    return written
