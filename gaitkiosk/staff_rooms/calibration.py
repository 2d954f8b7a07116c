"""The calibration room: the kiosk's sensors, their calibration state, a procedure run from the
touchscreen, and each device's history (docs/therapist.md "Calibration").

Views:

* ``calibration``: each attached sensor (mat, left and right insole) with its serial, how its kPa are
  made now, the active calibration's date and accuracy, its health and what is due
  (calibration/health.py); the procedures it can run;
* ``calibration_history``: one device's stored calibrations (date, who, procedures, pass/fail,
  accuracy, response), its verifications and drift, what is due next.

Actions: ``calibration_start`` (a procedure on a device: a :class:`gaitkiosk.calibration_job.CalibrationJob`),
``calibration_ready`` (Ready tapped for a step), ``calibration_cancel`` (nothing stored: the old
calibration stays in force), ``calibration_finish`` (posted by the job when it ends: the result is
stored as ``gaitkiosk calibrate`` stores it, gaitkiosk/calibrating.py, with the staff user, and the
kiosk's conversion for that device is decided afresh).

With ``--simulate`` the kiosk's virtual sensors are reopened as the virtual calibration rig
(``sim://...&rig=1``, the same serials) when a procedure starts, as the visit reopens them as a new
virtual person for each drill; its virtual technician puts each load on after Ready.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging

from gaitkiosk.staff_views import Refused, action, view

log = logging.getLogger(__name__)

LABELS = {"mat": "Mat", "insole_left": "Left insole", "insole_right": "Right insole"}
# procedure id (gaitkiosk/calibrating.py) -> the words on its button
PROCEDURE_LABELS = {"zero": "Zero", "equilibrate": "Equilibrate", "load": "Known load", "bodyweight": "Body weight",
                    "sweep": "Dead sensels", "verify": "Verify"}
HISTORY_ROWS = 30  # calibrations shown per device (newest first)
REFERENCE_COUNTS = 500.0  # the response shown in the history: kPa at this many counts above zero
_rigs = itertools.count(1)


def _procedures_of(kind: str) -> list[str]:
    """What a device of ``kind`` can run (known loads are plates on the mat)."""
    return [p for p in PROCEDURE_LABELS if kind == "mat" or p != "load"]


def _needs_weight(procedure: str, kind: str) -> bool:
    """The screen asks for the person's weight (kg): body weight, and an insole's verification."""
    return procedure == "bodyweight" or (procedure == "verify" and kind != "mat")


def _devices(rt) -> list:
    """(reader, hello) of each attached sensor that said hello."""
    return [(r, r.hello) for r in rt.sensors.readers if r.hello is not None]


def _reader(rt, serial: str):
    for r, h in _devices(rt):
        if h.serial == serial:
            return r
    raise Refused(f"The sensor {serial} is not attached any more. Check its cable, then open Calibration again.")


def _date(text: str | None) -> str:
    return "" if not text else text[:10]


def _limits(desk) -> dict:
    from calibration.health import limits_from_config

    return limits_from_config(desk.config)


@view("calibration")
def devices(desk, notice: str = "") -> dict:
    from calibration.health import device_health

    rt = desk.runtime
    out = []
    for _, h in _devices(rt):
        kind = h.kind.label
        pressure = rt.sensors.pressure.get(h.serial)
        health = device_health(desk.store, h.serial, limits=_limits(desk))
        cal = desk.store.calibrations.active_for(h.serial)
        record = cal.record if cal is not None and isinstance(cal.record, dict) else {}
        out.append({
            "serial": h.serial, "kind": kind, "label": LABELS.get(kind, kind),
            "source": pressure.source if pressure is not None else None,
            "calibration_id": cal.id if cal else None, "calibrated_on": _date(cal.created_at) if cal else "",
            "accuracy_pct": record.get("accuracy_pct"), "operator": record.get("operator"),
            "status": health["status"], "reasons": health["reasons"],
            "last_error_pct": (health["last_verification"] or {}).get("error_pct"),
            "procedures": _procedures_of(kind),
            "needs_weight": [p for p in _procedures_of(kind) if _needs_weight(p, kind)],
            "factory_calibrated": h.kpa_per_count > 0,
        })
    job = rt.calibration_job
    return {"devices": out, "notice": notice, "running": job is not None and not job.finished,
            "labels": PROCEDURE_LABELS}


# -- a run ----------------------------------------------------------------------------------------------


def _as_rig(desk) -> object | None:
    """--simulate: reopen the kiosk's virtual sensors as the calibration rig; its virtual technician."""
    from device.handlers import protocol_sim
    from gaitkiosk.sensors import sim_urls

    rt = desk.runtime
    if not rt.simulate:
        return None
    name = f"calibration{next(_rigs)}"
    rt.open_sensors(sim_urls(rt.config, patient=name, params={"rig": "1"}))
    rt.sensors.identify(desk.store.calibrations.active_for)
    return protocol_sim.patient(name)


def _weight(weight_kg) -> float | None:
    from gaitkiosk.checks import within
    from gaitkiosk.errors import UsageError

    if weight_kg in (None, ""):
        return None
    try:
        return within(10.0, 350.0, unit="kg").parse(str(weight_kg), "the weight")
    except UsageError:
        raise Refused("Type the person's weight in kg, from 10 to 350.") from None


@action("calibration_start")
def start(desk, device: str = "", procedure: str = "", weight_kg=None) -> tuple[str, dict]:
    from gaitkiosk.calibrating import procedures_for, start_model
    from gaitkiosk.calibration_job import CalibrationJob
    from gaitkiosk.errors import KioskError

    rt = desk.runtime
    if rt.calibration_job is not None and not rt.calibration_job.finished:
        raise Refused("A calibration is already running. Finish or cancel it first.")
    if procedure not in PROCEDURE_LABELS:
        raise Refused(f"There is no calibration procedure called {procedure!r}.")
    reader = _reader(rt, device)
    kind = reader.hello.kind.label
    if reader.hello.kpa_per_count > 0:
        raise Refused(f"The {LABELS.get(kind, kind).lower()} sends calibrated kPa itself; its maker calibrates it.")
    if procedure not in _procedures_of(kind):
        raise Refused(f"{PROCEDURE_LABELS[procedure]} is for the mat; calibrate insoles with equilibrate and body weight.")
    kg = _weight(weight_kg)
    if _needs_weight(procedure, kind) and kg is None:
        raise Refused("Type the person's weight in kg first.")
    cal_config = desk.config["calibration"]
    try:
        procedures = procedures_for(procedure, kind, cal_config, weight_kg=kg)
        rig = _as_rig(desk)
        reader = _reader(rt, device)
        model = start_model(desk.store, reader.hello, procedures)
    except KioskError as exc:
        raise Refused(str(exc)) from None
    job = CalibrationJob(rt, serial=device, kind=kind, action=procedure, procedures=procedures, model=model,
                         rel_tol=cal_config["stable_tolerance_pct"] / 100.0, user_id=desk.user.id, rig=rig,
                         silence_s=max(3.0 * float(desk.config["devices"].get("silence_timeout_s", 1.0)), 2.0),
                         port=reader.url)
    rt.calibration_job = job
    desk.audit("staff.calibration.start", device, procedure=procedure, kind=kind,
               **({"weight_kg": kg} if kg is not None else {}))
    h = reader.hello
    data = {"job": job.id, "serial": device, "device_kind": kind, "label": LABELS.get(kind, kind), "procedure": procedure,
            "title": PROCEDURE_LABELS[procedure], "steps": job.steps_total(), "max_counts": int(model.max_counts),
            "geometry": (h.rows, h.cols, tuple(float(v) for v in h.pitch_mm)) if kind == "mat" else None,
            "sensors_mm": None if kind == "mat" or h.sensors_mm is None else [list(map(float, p)) for p in h.sensors_mm],
            "weight_kg": kg}
    job.start()
    return "staff_calibration_run", data


def _job(desk, job) -> object:
    j = desk.runtime.calibration_job
    if j is None or str(j.id) != str(job):
        raise Refused("That calibration is over. Open Calibration to start another.")
    return j


@action("calibration_ready")
def ready(desk, job=0, step=0) -> tuple[str, dict]:
    j = _job(desk, job)
    return "calibration_ack", {"job": j.id, "step": int(step), "taken": j.ready(int(step))}


@action("calibration_cancel")
def cancel(desk, job=0) -> tuple[str, dict]:
    j = desk.runtime.calibration_job
    if j is not None and str(j.id) == str(job) and not j.finished:
        j.cancel()
        desk.audit("staff.calibration.cancel", j.serial, procedure=j.action)
    desk.runtime.calibration_job = None
    return "staff_calibration", devices(desk, notice="Cancelled: nothing was stored, the previous calibration "
                                                     "stays in force.")


@action("calibration_finish")
def finish(desk, job=0) -> tuple[str, dict]:
    """The job ended (posted by its thread): store its result with the staff user; the result screen."""
    from calibration.errors import CalibrationError
    from gaitkiosk.calibrating import keep
    from gaitkiosk.calibration_job import DONE

    j = desk.runtime.calibration_job
    if j is None or str(j.id) != str(job):  # cancelled just as it ended: nothing to store, nothing to say
        return "calibration_ack", {"job": job}
    if not j.finished:
        raise Refused("The calibration is still running.")
    desk.runtime.calibration_job = None
    rt = desk.runtime
    out = {"serial": j.serial, "device_kind": j.kind, "label": LABELS.get(j.kind, j.kind), "procedure": j.action,
           "title": PROCEDURE_LABELS[j.action], "passed": False, "error": j.error, "procedures": [], "kept": None}
    if j.user_id != desk.user.id:  # another user logged in meanwhile: theirs is not this run
        raise Refused("That calibration was started by someone else; it was not stored.")
    if j.state != DONE:
        desk.audit("staff.calibration.failed", j.serial, procedure=j.action, reason=(j.error or "")[:500])
        return "staff_calibration_result", out
    try:
        kept = keep(desk.store, j.action, j.result, j.serial, port=j.port, user_id=desk.user.id,
                    operator=desk.user.name)
    except CalibrationError as exc:  # e.g. a record that cannot be stored as it is
        desk.audit("staff.calibration.failed", j.serial, procedure=j.action, reason=str(exc)[:500])
        return "staff_calibration_result", {**out, "error": str(exc)}
    rt.recalibrated(j.serial, desk.store.calibrations.active_for)
    pressure = rt.sensors.pressure.get(j.serial)
    out.update(passed=kept["passed"], procedures=[_words(p) for p in kept["procedures"]], kept=kept,
               in_force=pressure.calibration_id if pressure is not None else None)
    return "staff_calibration_result", out


def _words(p: dict) -> dict:
    return {**p, "label": {"known_load": "Known load", "bodyweight": "Body weight", "sweep": "Dead-sensel sweep",
                           "zero": "Zero", "equilibrate": "Equilibrate", "verify": "Verify"}.get(p["procedure"],
                                                                                                 p["procedure"])}


# -- history --------------------------------------------------------------------------------------------


def _response_kpa(record: dict) -> float | None:
    """kPa the record's model gives at REFERENCE_COUNTS above zero (gain 1): its sensitivity."""
    import numpy as np

    from calibration.model import check_model_json

    try:
        model = check_model_json(record.get("model"))
    except Exception:  # noqa: BLE001 - a broken record shows without its response; the CLI's list says why
        return None
    if not model.complete:
        return None
    return float(model.curve(np.array([REFERENCE_COUNTS]))[0] * model.scale)


@view("calibration_history")
def history(desk, device: str = "") -> dict:
    from calibration.health import device_health
    from calibration.storage import verification_history

    if not device:
        raise Refused("Choose a device first.")
    rows = []
    for cal in desk.store.calibrations.history(device)[:HISTORY_ROWS]:
        rec = cal.record if isinstance(cal.record, dict) else {}
        procs = [p for p in rec.get("procedures", []) if isinstance(p, dict)]
        rows.append({"id": cal.id, "at": cal.created_at, "active": bool(cal.active), "passed": rec.get("passed"),
                     "accuracy_pct": rec.get("accuracy_pct"), "operator": rec.get("operator") or "",
                     "procedures": [p.get("procedure") for p in procs], "response_kpa": _response_kpa(rec)})
    older = None  # response change from the previous complete calibration, in %
    for row in reversed(rows):
        r = row["response_kpa"]
        row["response_change_pct"] = None if r is None or older is None else 100.0 * (r / older - 1.0)
        older = r if r is not None else older
    limits = _limits(desk)
    health = device_health(desk.store, device, limits=limits)
    verifications = verification_history(desk.store, device)
    kind = next((h.kind.label for _, h in _devices(desk.runtime) if h.serial == device), "")
    return {"serial": device, "device_kind": kind, "label": LABELS.get(kind, device), "calibrations": rows,
            "verifications": verifications, "health": health, "limits": limits,
            "reference_counts": REFERENCE_COUNTS, **_next_due(desk.store, device, verifications, limits)}


def _next_due(store, device: str, verifications: list, limits: dict) -> dict:
    """The dates the next verification and the next calibration are due (calibration/health.py's limits)."""
    cal = store.calibrations.active_for(device)
    if cal is None:
        return {"next_verify": None, "next_calibration": None}
    made = dt.datetime.fromisoformat(cal.created_at.replace("Z", "+00:00"))
    mine = [v for v in verifications if v.get("calibration_id") == cal.id]
    since = dt.datetime.fromisoformat(mine[-1]["at"].replace("Z", "+00:00")) if mine else made
    return {"next_verify": (since + dt.timedelta(days=limits["verify_every_days"])).date().isoformat(),
            "next_calibration": (made + dt.timedelta(days=limits["due_after_days"])).date().isoformat()}
