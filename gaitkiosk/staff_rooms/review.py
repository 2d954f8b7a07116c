"""Session review (issue 11 item 4), worker side: one stored trial, its stored report and the
frames its plots and replay need.

``view("review", trial=ID)`` answers ``staff_review`` with:

    trial, patient      the trial's identity (drill, title, when, status) and its patient's code and id
    report              the trial's STORED report (never recomputed here), or None and report_error
    sway, weight, summary, steps   the numbers shown, as rows (gaitkiosk.review_words): value, text,
                        unit, sensor, calibration state, definition (docs/metrics.md)
    mat                 the mat's frames: raw counts (uint16, as stored), times, pitch, ``to_kpa``
                        (the recording's own counts -> kPa), and the whole-body COP path (raw and
                        low-passed as the report's sway set was): what the first tab plots
    insoles             each insole's kPa (N, sensors), sensor positions and times
    frames_problem      why the frames cannot be shown (missing, pruned, damaged, no calibration),
                        in words; the stored numbers are still shown

The counts stay counts: the pressure images (peak, mean) and the gait lines are made from them
later, off the UI thread, when their tab is opened (ui/screens/staff_review.py); replay converts
one frame at a time. Decoding a 60 s mat trial and its COP path take tens of milliseconds
(``make bench`` review).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from gaitkiosk import review_words
from gaitkiosk.staff_views import Refused, view

log = logging.getLogger(__name__)


def _when(iso: str | None) -> str:
    from gaitkiosk.commands.sessions import _local

    return _local(iso) if iso else ""


@view("review", audit_view=True, roles=("therapist",))
def review(desk, trial: str = "", **_params) -> dict:
    from gaitkiosk.session_pdf import drill_title
    from store.errors import NotFoundError

    store = desk.store
    try:
        t = store.trials.get(str(trial))
        session = store.sessions.get(t.session_id)
        patient = store.patients.get(session.patient_id)
    except NotFoundError:
        raise Refused("That trial is not in this kiosk's records.") from None
    report = t.report
    data = {
        "trial": {"id": t.id, "drill": t.drill, "title": drill_title(t.drill), "position": t.position,
                  "status": t.status, "reason": t.status_reason, "started": _when(t.started_at),
                  "session": t.session_id, "recording": t.recording},
        "patient": {"id": patient.id, "code": patient.code},
        "report": report,
        "report_error": "" if report else ((t.results or {}).get("report_error") or "no analysis report was stored"),
    }
    if report:
        data["calibration"] = {"state": (report.get("calibration") or {}).get("state") or "not stated",
                               "words": (report.get("calibration") or {}).get("words") or ""}
        data["sway"] = review_words.sway_rows(report)
        data["weight"] = review_words.weight_rows(report)
        data["summary"] = review_words.summary_rows(report, t.drill)
        data["steps"] = review_words.step_table(report) if t.drill not in review_words.INSOLE_DRILLS else []
    data.update(frames_of(store, t, report))
    return data


def frames_of(store, trial, report: dict | None) -> dict:
    """{"mat", "insoles", "frames_problem"} of a trial (see the module docstring)."""
    from store.errors import GeometryError, KioskError, StoreError, UncalibratedError

    try:
        recs = store.recordings.for_trial(trial.id)
    except StoreError as exc:
        return {"mat": None, "insoles": None, "frames_problem": f"The trial's recording cannot be read: {exc}"}
    if not recs:
        return {"mat": None, "insoles": None,
                "frames_problem": "No frames of this trial are stored (nothing was recorded, or they were deleted): "
                                  "the stored numbers are shown, without pictures or replay."}
    out = {"mat": None, "insoles": None, "frames_problem": ""}
    try:
        mat = [r for r in recs if r.kind == "mat"]
        if mat:
            out["mat"] = _mat(store, mat[0], report)
        insoles = [r for r in recs if r.kind.startswith("insole_")]
        if insoles:
            out["insoles"] = _insoles(store, insoles)
    except (StoreError, UncalibratedError, GeometryError, KioskError, ValueError) as exc:
        log.warning("review of trial %s: frames not shown: %s", trial.id, exc)
        out = {"mat": None, "insoles": None,
               "frames_problem": f"The trial's frames cannot be shown ({exc}). The stored numbers are shown."}
    return out


def _device_info(store, serial: str) -> dict:
    from store.errors import NotFoundError

    try:
        return store.devices.get(serial).info or {}
    except NotFoundError:
        return {}


# Chunks are decoded (zstd, numpy: both release the GIL) and their COP found on a few threads, one
# core left to the UI thread so that its frames keep their time (bench/bench_review.py): three on a
# Pi 4, one on a two-core machine.
DECODE_THREADS = max(1, min(3, (os.cpu_count() or 1) - 1))


def _mat(store, rec, report: dict | None) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from kernels.cop_path import lowpassed, mat_cop_path
    from store import codec
    from store.errors import GeometryError
    from store.export import kpa_converter

    to_kpa = kpa_converter(store, rec)
    pitch = _device_info(store, rec.device_serial).get("pitch_mm")
    if not pitch or not all(float(p) > 0 for p in pitch):
        raise GeometryError(f"the sensel pitch of mat {rec.device_serial} is unknown")
    params = (report or {}).get("parameters") or {}
    threshold = float(params.get("mat_threshold_kpa") or 10.0)
    min_force = float(params.get("cop_min_force_n") or 10.0)

    def one(blob):  # on a pool thread: nothing here touches the store
        chunk = codec.decode(blob)
        return chunk, *mat_cop_path(chunk.counts, pitch, threshold, min_force, to_kpa)

    blobs = store.recordings.blobs(rec.id)
    with ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="review-decode") as pool:
        parts = list(pool.map(one, blobs))
    if sum(len(c.counts) for c, _, _ in parts) < 2:
        raise GeometryError("the mat recording holds fewer than two frames")
    counts = np.concatenate([c.counts for c, _, _ in parts])
    cop = np.concatenate([p for _, p, _ in parts])
    force = np.concatenate([f for _, _, f in parts])
    t = np.concatenate([c.t_host for c, _, _ in parts]) - rec.t_origin
    rate = float((report or {}).get("rate_hz") or (len(t) - 1) / max(1e-9, t[-1] - t[0]))
    cutoff = ((report or {}).get("filter") or {}).get("cutoff_hz")
    return {"counts": counts, "t": t, "pitch_mm": (float(pitch[0]), float(pitch[1])), "to_kpa": to_kpa,
            "threshold_kpa": threshold, "rate_hz": rate, "cop": cop, "force": force,
            "cop_lowpassed": lowpassed(cop, rate, cutoff) if cutoff else cop, "serial": rec.device_serial}


def _insoles(store, recs) -> dict:
    from store.errors import GeometryError
    from store.export import kpa_converter

    out: dict = {"sides": {}}
    n = None
    for rec in sorted(recs, key=lambda r: r.kind):
        side = rec.kind.split("_", 1)[1]
        chunk = store.recordings.read(rec.id)
        info = _device_info(store, rec.device_serial)
        if "sensors_mm" not in info:
            raise GeometryError(f"the sensor positions of the {side} insole ({rec.device_serial}) are unknown")
        kpa = np.asarray(kpa_converter(store, rec)(chunk.counts), np.float32)
        area = info.get("sensor_area_mm2")
        out["sides"][side] = {"kpa": kpa, "sensors_mm": np.asarray(info["sensors_mm"], float),
                              "area_mm2": None if area is None else np.asarray(area, float),
                              "t": chunk.t_host - rec.t_origin}
        n = len(kpa) if n is None else min(n, len(kpa))
    for side in out["sides"].values():  # paired by index, as the export does
        side["kpa"], side["t"] = side["kpa"][:n], side["t"][:n]
    first = next(iter(out["sides"].values()))
    out["t"] = first["t"]
    return out
