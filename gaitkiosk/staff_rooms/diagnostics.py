"""The diagnostics room: what a technician needs to say what is wrong with a unit (docs/technician.md).

Technicians only (a therapist's home has no Diagnostics button, and the worker refuses the views to
any other role): nothing here is a patient's, but the export may be, and a therapist has the
Calibration room for the sensors' state.

Views:

* ``diagnostics``: each sensor's link state, fault counters, rate, clock offset and drift, firmware
  (from its HELLO) and device status; the unit's CPU load and temperature, disk and database size;
  the sync queue (the outbox's pending count and oldest item); each device's calibration and when
  it is due; the installed version and the one a rollback returns to (gaitkiosk/versions.py); the
  release the sync server offers and whether it is staged (gaitkiosk/update/background.py);
  the panel's light; where an export may be saved now (gaitkiosk/handout.py);
* ``diagnostics_sensor``: one sensor's whole counter set and its dead/hot sensel map from the
  active calibration (the live raw map is drawn by the screen from the runtime's snapshot).

Action ``diagnostics_export`` (``path``, ``patient_data``): one ZIP archive of the diagnostics,
the recent log and the audit trail, written through ``handout.save`` to a place offered at that
moment, audited ``diagnostics.exported``. Without ``patient_data`` the archive holds no patient's
code or name: the audit rows lose their subjects and details, and every patient code and name in
the log's text is replaced by ``[patient]`` (gaitkiosk/diagnostics_export.py).
"""

from __future__ import annotations

import datetime as dt

from gaitkiosk.staff_views import Refused, action, view

TECH = ("technician",)
LABELS = {"mat": "Mat", "insole_left": "Left insole", "insole_right": "Right insole"}
# The link counters that mean trouble (device/linkstate.py LinkCounters), in the order the screen lists them.
FAULTS = ("crc_failures", "cobs_failures", "malformed", "version_errors", "lost_packets", "gaps", "duplicates",
          "device_resets", "dropped_by_queue", "device_dropped", "device_missed_deadlines", "silences", "reconnects", "open_failures",
          "handshake_failures", "command_timeouts", "commands_refused", "other_devices", "device_swaps",
          "internal_errors")


def sensor_rows(rt) -> list[dict]:
    """Each configured sensor as the diagnostics screen lists it (plain data: numbers, words)."""
    out = []
    for r in list(rt.sensors.readers):
        st = r.status()
        h = st.hello
        kind = h.kind.label if h is not None else ""
        device = st.device_status
        out.append({
            "label": LABELS.get(kind, kind or r.name.split("?")[0]), "kind": kind,
            "serial": h.serial if h is not None else "", "port": st.port, "state": st.state, "reason": st.reason,
            "rate_hz": round(st.rate_hz, 1), "nominal_hz": h.rate_hz if h is not None else None,
            "last_frame_age_s": st.last_frame_age_s,
            "firmware": h.firmware if h is not None else "", "protocol": list(st.identity().get("protocol") or []),
            # an insole older than the firmware this kiosk carries (gaitkiosk firmware flash)
            "firmware_outdated": h is not None and h.serial in rt.sensors.firmware_outdated,
            "geometry": [h.rows, h.cols] if h is not None else None,
            "clock_offset_ms": round(st.clock_offset_s * 1000.0, 2), "clock_drift_ppm": round(st.clock_drift_ppm, 1),
            "faults": sum(int(st.counters.get(k, 0)) for k in FAULTS), "fault_names": list(FAULTS),
            "counters": {k: int(v) for k, v in st.counters.items()},
            "battery_pct": device.battery_pct if device is not None else None,
            "temperature_c": device.temperature_c if device is not None else None,
            "device_errors": None if device is None else {"frames_dropped": device.frames_dropped,
                                                          "rx_errors": device.rx_errors,
                                                          "sensor_faults": device.sensor_faults,
                                                          # an older device does not send it: left out
                                                          **({} if device.missed_deadlines is None else
                                                             {"missed_deadlines": device.missed_deadlines})},
        })
    for problem in rt.sensors.open_errors:
        url, _, why = problem.partition(": ")
        out.append({"label": url.split("?")[0], "kind": "", "serial": "", "port": url, "state": "not opened",
                    "reason": why, "rate_hz": 0.0, "faults": 0, "counters": {}, "firmware": "", "protocol": [],
                    "clock_offset_ms": None, "clock_drift_ppm": None})
    return out


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def calibration_rows(desk, serials: list[str]) -> list[dict]:
    """Each device's calibration state and the date its next calibration or verification is due."""
    from calibration.health import device_health, limits_from_config

    limits = limits_from_config(desk.config)
    out = []
    for serial in serials:
        health = device_health(desk.store, serial, limits=limits)
        cal = desk.store.calibrations.active_for(serial)
        due = None
        if cal is not None:
            made = _when(cal.created_at)
            last = health.get("last_verification")
            verified = _when(last["at"]) if last else made
            due = min(made + dt.timedelta(days=limits["due_after_days"]),
                      verified + dt.timedelta(days=limits["verify_every_days"])).date().isoformat()
        out.append({"serial": serial, "status": health["status"], "due": due,
                    "calibrated_on": cal.created_at[:10] if cal is not None else "",
                    "reasons": health["reasons"]})
    return out


def sync_queue(store) -> dict:
    pending = store.outbox.pending_count()
    oldest = store.outbox.pending(limit=1)
    first = oldest[0] if oldest else None
    return {"pending": pending, "oldest_at": first.created_at if first else None,
            "oldest_entity": first.entity if first else None,
            "oldest_attempts": first.attempts if first else 0, "oldest_error": first.last_error if first else ""}


def system(desk) -> dict:
    from gaitkiosk import sysinfo

    store = desk.store
    return {"cpu": sysinfo.cpu_load(), "cpu_temperature_c": sysinfo.cpu_temperature_c(),
            "disk": sysinfo.disk(store.path.parent), "database": sysinfo.database_size(store.db, store.path)}


def update_state(data_dir, installed: str) -> dict:
    """The release the sync server offers and what is staged (gaitkiosk/update/background.py), read
    from the fetcher's files: "staged", "available", "up to date", "failed" or "not checked"."""
    from gaitkiosk.update import background, fetch
    from gaitkiosk.versions import version_key

    last = background.read_state(data_dir)
    found = fetch.staged(data_dir)
    staged = found.name[len("gaitkiosk-"):-len(".tar")] if found else None
    if staged and version_key(staged) <= version_key(installed):
        staged = None  # already installed (or older): nothing to apply
    offered = last.get("offered")
    if staged:
        state = "staged"
    elif last.get("error"):
        state = "failed"
    elif offered and version_key(offered) > version_key(installed):
        state = "available"
    else:
        state = "up to date" if last else "not checked"
    return {"state": state, "staged": staged, "offered": offered, "checked_at": last.get("checked_at"),
            "error": last.get("error") or ""}


def snapshot(desk) -> dict:
    """Everything the diagnostics screen shows (and the export's diagnostics.json holds)."""
    from gaitkiosk.versions import read_versions

    rt = desk.runtime
    sensors = sensor_rows(rt)
    serials = [s["serial"] for s in sensors if s["serial"]]
    stored = [r[0] for r in desk.store.db.execute("SELECT DISTINCT device_serial FROM calibrations ORDER BY 1")]
    serials += [s for s in stored if s not in serials]
    v = read_versions()
    panel = rt.panel
    return {
        "taken_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sensors": sensors, "system": system(desk), "sync": sync_queue(desk.store),
        "calibration": calibration_rows(desk, serials),
        "versions": {"installed": v.installed, "rollback": v.rollback, "installed_by": v.installed_by},
        "update": update_state(rt.data_dir, v.installed),
        "panel": {"enabled": panel is not None, "light": panel.panel.light if panel is not None else None},
    }


@view("diagnostics", roles=TECH)
def diagnostics(desk, notice: str = "") -> dict:
    from gaitkiosk import handout

    places = handout.places(desk.config)
    return {**snapshot(desk), "notice": notice,
            "places": [{"label": d.label, "path": str(d.path)} for d in places.destinations],
            "refused": list(places.refused)}


@view("diagnostics_sensor", roles=TECH)
def diagnostics_sensor(desk, serial: str = "") -> dict:
    from calibration.model import MASK_NAMES
    from calibration.storage import active_model

    rows = [s for s in sensor_rows(desk.runtime) if s["serial"] == serial]
    if not rows:
        raise Refused(f"The sensor {serial} is not attached any more. Check its cable, then open Diagnostics again.")
    mask, mask_note = None, "No calibration yet: run Calibration, Dead sensels, to map dead and hot sensels."
    found = active_model(desk.store, serial)
    if found is not None:
        mask = found[1].mask
        counts = {name: int((mask == code).sum()) for code, name in MASK_NAMES.items()}
        mask_note = f"From calibration {found[0][:8]}: {counts['dead']} dead, {counts['hot']} hot."
    return {"sensor": rows[0], "mask": mask, "mask_note": mask_note}


@action("diagnostics_export", roles=TECH)
def export(desk, path: str = "", patient_data: bool = False) -> tuple[str, dict]:
    from gaitkiosk import diagnostics_export, handout
    from gaitkiosk.errors import KioskError

    offered = {str(d.path): d for d in handout.places(desk.config).destinations}
    if path not in offered:
        raise Refused("That place cannot take the archive now (was the USB stick pulled out?). Choose again.")
    data = diagnostics_export.archive(desk, snapshot(desk), patient_data=bool(patient_data))
    try:
        saved = handout.save(data, diagnostics_export.file_name(dt.date.today()), offered[path])
    except KioskError as exc:
        raise Refused(str(exc)) from None
    desk.audit("diagnostics.exported", subject="", file=str(saved), patient_data=bool(patient_data),
               bytes=len(data))
    words = "with patient data" if patient_data else "without patient data"
    return "staff_diagnostics", diagnostics(desk, notice=f"Saved {saved.name} ({words}) to {offered[path].label}.")
