"""Stored trials of the virtual patient, made without running a visit: for demos of the session
review, its tests, its benchmark and the screenshot gallery.

:func:`store_virtual_trial` samples the virtual patient doing a drill (``drills.autopilot``'s
scenario for it, ``device.sim.record``), stores the frames as the kiosk's recording writer does
(one chunk per second of raw counts, the device's geometry from its hello in ``devices``), and
finishes the trial with the report the kiosk makes after a drill (``gaitkiosk.visit.trial_report``
on the stored frames). The trial is a demo patient's: scripted visits and these never touch a
real patient (gaitkiosk/demo_seed.py).
"""

from __future__ import annotations

import numpy as np

KPA_PER_COUNT = 0.25  # the virtual devices declare kPa in their hello: 0.25 kPa per count
MAT_SERIAL = "VIRT-MAT-REVIEW"
INSOLE_SERIALS = {"insole_left": "VIRT-INSOLE-L", "insole_right": "VIRT-INSOLE-R"}


def simulate(drill: str, seconds: float, seed: int = 1, params: dict | None = None):
    """(the drill object, a device.recording.Recording of the virtual patient doing it)."""
    from device.sim.record import simulate_recording
    from drills import registry
    from drills.autopilot import patient_for

    mat = (96, 48) if drill == "tandem_walk" else (48, 48)
    d = registry.create(drill, params or {}, mat_shape=mat, mat_pitch_mm=(8.47, 8.47))
    patient = patient_for(d, seed=seed)
    rec = simulate_recording(patient, seconds, mat="mat" in d.SENSORS, insoles="insoles" in d.SENSORS)
    return d, rec, patient


def _counts(kpa: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(kpa, np.float64) / KPA_PER_COUNT), 0, 65535).astype(np.uint16)


def _store_frames(store, session_id, trial_id, kind, serial, counts, t, info) -> None:
    from store.codec import Chunk, encode
    from store.devices import Device
    from store.recordings import Recording

    store.devices.seen(Device(serial=serial, kind=kind, firmware_version="virtual", info=info))
    rec = store.recordings.create(Recording(session_id=session_id, device_serial=serial, kind=kind,
                                            shape=list(counts.shape[1:]), trial_id=trial_id,
                                            kpa_per_count=KPA_PER_COUNT, t_origin=0.0))
    rate = float(info["rate_hz"])
    per = max(1, int(round(rate)))  # about one second per chunk, as the writer does
    for idx, a in enumerate(range(0, len(counts), per)):
        b = min(len(counts), a + per)
        chunk = Chunk(counts=np.ascontiguousarray(counts[a:b]), seq=np.arange(a, b, dtype=np.uint32),
                      t_device=np.asarray(t[a:b], np.float64), t_host=np.asarray(t[a:b], np.float64))
        store.recordings.append(rec.id, idx, chunk, encode(chunk))
    store.recordings.finish(rec.id, status="complete")


def store_virtual_trial(store, patient_id: str, drill: str, seconds: float, seed: int = 1,
                        params: dict | None = None):
    """A finished session of one trial of ``drill`` by the virtual patient; the stored Trial."""
    from gaitkiosk.visit import trial_report

    d, rec, patient = simulate(drill, seconds, seed, params)
    session = store.sessions.start(patient_id, notes="virtual patient (demo trial)")
    trial = store.trials.start(session.id, drill, d.params if hasattr(d, "params") else {})
    if rec.mat_kpa is not None:
        rows, cols = rec.mat_kpa.shape[1:]
        info = {"rate_hz": float(patient.mat.rate_hz), "rows": int(rows), "cols": int(cols),
                "pitch_mm": [float(v) for v in rec.mat_pitch_mm], "bits": 12, "kpa_per_count": KPA_PER_COUNT}
        _store_frames(store, session.id, trial.id, "mat", MAT_SERIAL, _counts(rec.mat_kpa), rec.mat_t, info)
    if rec.insole_t is not None:
        for side in ("left", "right"):
            kpa = getattr(rec, f"insole_{side}_kpa")
            info = {"rate_hz": float(patient.insoles.rate_hz), "rows": 1, "cols": int(kpa.shape[1]),
                    "pitch_mm": [0.0, 0.0], "bits": 12, "kpa_per_count": KPA_PER_COUNT,
                    "sensors_mm": np.asarray(getattr(rec, f"insole_{side}_sensors_mm"), float).tolist(),
                    "sensor_area_mm2": np.asarray(rec.insole_sensor_area_mm2, float).tolist()}
            _store_frames(store, session.id, trial.id, f"insole_{side}", INSOLE_SERIALS[f"insole_{side}"],
                          _counts(kpa), rec.insole_t, info)
    report, error = trial_report(store, trial, d.SENSORS)
    results = {"sensors": list(d.SENSORS), "score": None}
    if error:
        results["report_error"] = error
    trial = store.trials.finish(trial.id, status="complete", results=results, report=report, recording="complete")
    store.sessions.finish(session.id, status="complete")
    return trial
