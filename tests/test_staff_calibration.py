"""The calibration room on the touchscreen (gaitkiosk/staff_rooms/calibration.py, ui/screens/staff_calibration*.py).

Real parts: the whole kiosk in-process (readers on sim:// ports, analysis and worker threads, a
real SQLite file, pygame's dummy driver); the screens are driven by taps. The procedures measure
the kiosk's own readers' frames (Runtime.tap); with --simulate the virtual technician of the
calibration rig (device/sim/loads.py) puts each load on after Ready, as for ``gaitkiosk calibrate
sim://...``.
"""

from __future__ import annotations

import staff_support
import ui_support
from staff_support import log_in
from ui_support import pump, tap_button

from store import open_store

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk

MAT = "sim-mat-48x48-seed1"  # the kiosk's virtual mat (protocol_sim.unit_serial)


def open_room(app):
    tap_button(app, app.top.rooms_buttons.get("calibration"))
    pump(app, lambda: app.top.name == "staff_calibration", what="the calibration room")


def choose(app, label: str) -> None:
    screen = app.top
    k = next(i for i, d in enumerate(screen.devices) if d["label"] == label)
    tap_button(app, screen.tabs.get(f"device:{k}"))
    assert app.top.device["label"] == label


def run_by_taps(app, procedure: str, weight_kg: str | None = None, timeout: float = 120.0):
    """Start ``procedure`` on the chosen device and tap Ready at every step until the result screen."""
    tap_button(app, app.top.actions.get(procedure))
    if weight_kg is not None:
        pump(app, lambda: app.top.weight_for == procedure, what="the weight keypad")
        for key in weight_kg:
            tap_button(app, app.top.keypad.buttons.get(f"key:{key}"))
        tap_button(app, app.top.keypad.buttons.get("key:ok"))
    pump(app, lambda: app.top.name == "staff_calibration_run", what="the run screen")
    run = app.top
    readies = 0
    while True:
        pump(app, lambda: app.top is not run or run.can_ready(), timeout=timeout, what="a step waiting for Ready")
        if app.top is not run:
            break
        assert run.progress and run.progress["instruction"]  # the procedure's own words are on the screen
        tap_button(app, run.buttons.get("ready"))
        readies += 1
    pump(app, lambda: app.top.name == "staff_calibration_result", what="the result screen")
    return app.top, readies


def active(data, serial=MAT):
    with open_store(data) as st:
        return st.calibrations.active_for(serial)


def entries(data, action):
    with open_store(data) as st:
        return [e for e in reversed(st.audit.recent(1000)) if e.action == action]


def test_known_load_then_verify_by_taps_store_audit_and_the_kiosk_uses_it(kiosk):
    app, rt, data, clock, ann = kiosk
    assert active(data) is None
    log_in(app)
    open_room(app)
    screen = app.top
    assert {d["label"] for d in screen.devices} == {"Mat", "Left insole", "Right insole"}
    choose(app, "Mat")
    assert app.top.device["status"] == "uncalibrated" and app.top.device["serial"] == MAT

    result, readies = run_by_taps(app, "load")
    assert readies == 5  # zero, then four plates
    cal = active(data)
    assert cal is not None and result.data["passed"], result.data
    kept = result.data["kept"]
    assert kept["calibration_id"] == cal.id and kept["active"]
    # the numbers on the screen are the stored record's own
    stored = {p["procedure"]: p for p in cal.record["procedures"]}
    shown = {p["procedure"]: p for p in result.data["procedures"]}
    assert shown["known_load"]["accuracy_pct"] == stored["known_load"]["results"]["accuracy_pct_"]
    added = entries(data, "calibration.add")
    assert [(e.subject, e.user_id) for e in added] == [(cal.id, ann)]
    assert cal.created_by == ann and cal.record["operator"] == "Ann Berg"
    # the kiosk converts the mat's frames with the new calibration from now on
    pump(app, lambda: rt.latest().calibration.get("mat") == "calibrated", what="the live mat calibrated")
    assert rt.sensors.pressure[MAT].calibration_id == cal.id

    tap_button(app, app.top.buttons.get("devices"))
    pump(app, lambda: app.top.name == "staff_calibration", what="back to the devices")
    choose(app, "Mat")
    assert app.top.device["calibration_id"] == cal.id
    result, readies = run_by_taps(app, "verify")
    assert readies == 1
    (v,) = entries(data, "calibration.verify")
    assert v.user_id == ann and v.subject == MAT and v.details["calibration_id"] == cal.id
    assert result.data["kept"]["verification"]["error_pct"] == v.details["error_pct"]
    assert active(data).id == cal.id  # a verification changes nothing in force
