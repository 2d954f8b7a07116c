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
    assert cal.record["port"].startswith("sim://mat?") and "rig=1" in cal.record["port"]  # the kiosk's own reader
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


def test_body_weight_on_the_mat_by_taps_with_the_weight_typed(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app)
    open_room(app)
    choose(app, "Mat")
    run_by_taps(app, "load")
    before = active(data)
    tap_button(app, app.top.buttons.get("devices"))
    pump(app, lambda: app.top.name == "staff_calibration", what="back to the devices")
    choose(app, "Mat")
    kg = rt.config["sim"]["body_mass_kg"]  # the virtual person the rig puts on the mat
    result, readies = run_by_taps(app, "bodyweight", weight_kg=f"{kg:g}")
    assert readies == 1 and result.data["passed"], result.data
    after = active(data)
    assert after.id != before.id and after.id == result.data["kept"]["calibration_id"]
    (bw,) = [p for p in after.record["procedures"] if p["procedure"] == "bodyweight"]
    assert bw["params"]["weight_kg"] == kg
    assert result.data["procedures"][0]["accuracy_pct"] == bw["results"]["accuracy_pct_"]
    start = [e for e in entries(data, "staff.calibration.start") if e.details["procedure"] == "bodyweight"]
    assert [(e.user_id, e.details["weight_kg"]) for e in start] == [(ann, kg)]
    pump(app, lambda: rt.sensors.pressure[MAT].calibration_id == after.id, what="the kiosk on the new calibration")


def test_technician_calibrates_cancel_keeps_the_old_one_and_history_shows_the_store(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app, "Bo L.")
    with open_store(data) as st:
        bo = st.users.by_name("Bo L.").id
    open_room(app)
    choose(app, "Mat")
    run_by_taps(app, "load")
    first = active(data)
    assert first.created_by == bo

    # Cancel while a step measures: nothing stored, the old calibration stays in force
    tap_button(app, app.top.buttons.get("devices"))
    pump(app, lambda: app.top.name == "staff_calibration", what="back to the devices")
    choose(app, "Mat")
    tap_button(app, app.top.actions.get("zero"))
    pump(app, lambda: app.top.name == "staff_calibration_run" and app.top.can_ready(), what="zero waits for Ready")
    run = app.top
    tap_button(app, run.buttons.get("ready"))
    pump(app, lambda: (run.progress or {}).get("state") in ("settling", "measuring"), what="zero measuring")
    tap_button(app, run.buttons.get("cancel"))
    pump(app, lambda: app.top.name == "staff_calibration", what="cancelled: back to the devices")
    assert "previous calibration stays in force" in app.top.message
    with open_store(data) as st:
        assert [c.id for c in st.calibrations.history(MAT)] == [first.id]
    assert active(data).id == first.id and rt.sensors.pressure[MAT].calibration_id == first.id
    assert [(e.user_id, e.subject) for e in entries(data, "staff.calibration.cancel")] == [(bo, MAT)]

    # Cancel at an instruction (before Ready) too; then a zero that runs puts a new one in force
    choose(app, "Mat")
    tap_button(app, app.top.actions.get("zero"))
    pump(app, lambda: app.top.name == "staff_calibration_run" and app.top.can_ready(), what="zero waits for Ready")
    tap_button(app, app.top.buttons.get("cancel"))
    pump(app, lambda: app.top.name == "staff_calibration", what="cancelled again")
    assert active(data).id == first.id
    choose(app, "Mat")
    result, _ = run_by_taps(app, "zero")
    second = active(data)
    assert second.id != first.id and second.created_by == bo and result.data["kept"]["active"]
    pump(app, lambda: rt.sensors.pressure[MAT].calibration_id == second.id, what="the kiosk on the new zero")

    # History: both calibrations, newest first, with the accuracy the store holds
    tap_button(app, app.top.buttons.get("history"))
    pump(app, lambda: app.top.name == "staff_calibration_history", what="history")
    rows = app.top.data["calibrations"]
    assert [r["id"] for r in rows] == [second.id, first.id]
    with open_store(data) as st:
        stored = {c.id: c.record["accuracy_pct"] for c in st.calibrations.history(MAT)}
    assert {r["id"]: r["accuracy_pct"] for r in rows} == stored
    assert stored[first.id] is not None
    from ui.screens.staff_calibration import history_rows

    lines = [text for text, _ in history_rows(app.top.data)]
    assert any(f"{stored[first.id]:.1f} %" in line for line in lines)
    assert app.top.data["health"]["calibration_id"] == second.id
    from ui.plots import plots_of

    pump(app, lambda: plots_of(app).get(app.top.plot_key(), None, (), app.top.plot_box.size) is not None
         or plots_of(app).failed(app.top.plot_key(), app.top.plot_box.size), what="the history plot")
    assert plots_of(app).failed(app.top.plot_key(), app.top.plot_box.size) is None


def test_a_failed_step_stores_nothing_and_says_why(kiosk):
    """Someone stays on the mat while it is zeroed: the procedure refuses, nothing is kept."""
    app, rt, data, clock, ann = kiosk
    log_in(app)
    open_room(app)
    choose(app, "Mat")
    tap_button(app, app.top.actions.get("zero"))
    pump(app, lambda: app.top.name == "staff_calibration_run" and app.top.can_ready(), what="zero waits for Ready")
    rig = rt.calibration_job.rig
    rig.misbehave = ("zero",)  # the virtual technician stays on the mat
    tap_button(app, app.top.buttons.get("ready"))
    pump(app, lambda: app.top.name == "staff_calibration_result", what="the refusal")
    assert not app.top.data["passed"] and "loaded while zeroing" in app.top.data["error"]
    assert active(data) is None
    with open_store(data) as st:
        assert st.calibrations.history(MAT) == []
    (failed,) = entries(data, "staff.calibration.failed")
    assert failed.user_id == ann and "loaded while zeroing" in failed.details["reason"]


def test_logging_out_in_the_middle_cancels_the_run(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app)
    open_room(app)
    choose(app, "Mat")
    tap_button(app, app.top.actions.get("zero"))
    pump(app, lambda: app.top.name == "staff_calibration_run" and app.top.can_ready(), what="zero waits for Ready")
    job = rt.calibration_job
    tap_button(app, app.top.bar.get("logout"))
    pump(app, lambda: app.top.name == "attract" and job.finished, what="logged out, the run over")
    assert job.state == "cancelled" and active(data) is None
    with open_store(data) as st:
        assert st.calibrations.history(MAT) == []


# -- idle and walk-up logout on the run screen (no runtime needed) ------------------------------------


def run_screen(idle_logout_s=1.0, feed=None):
    from ui_support import make_app

    from ui import screens
    from ui.app import Message

    app = make_app(router=screens.route, feed=feed)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist", "idle_logout_s": idle_logout_s}))
    app.deliver(Message("staff_calibration_run", {"job": 7, "device_kind": "mat", "label": "Mat", "title": "Zero",
                                                  "steps": 1, "max_counts": 4095, "geometry": (48, 48, (8.47, 8.47))}))
    app.step(0.01, [])
    assert app.top.name == "staff_calibration_run"
    return app


def progress(state, waiting=0):
    from ui.app import Message

    return Message("calibration_progress", {"job": 7, "state": "running", "waiting": waiting, "step_no": 1,
                                            "frame": None, "progress": {"procedure": "zero", "step": 1, "steps": 1,
                                                                        "step_id": "unloaded", "state": state,
                                                                        "instruction": "Step off the mat.",
                                                                        "fraction": 0.5, "detail": ""}})


def test_idle_logout_waits_while_a_step_measures_and_frames_arrive(dummy_video):
    app = run_screen(idle_logout_s=1.0)
    for _ in range(20):  # 4 s hands-off while the step measures: no logout
        app.deliver(progress("measuring"))
        app.step(0.2, [])
    assert app.top.leaving is None
    for _ in range(12):  # the frames stop (a silent sensor): the idle count runs again
        app.step(0.2, [])
    assert app.top.leaving == "idle"


def test_idle_logout_counts_while_waiting_for_ready(dummy_video):
    app = run_screen(idle_logout_s=1.0)
    for _ in range(7):
        app.deliver(progress("waiting", waiting=1))
        app.step(0.2, [])
    assert app.top.leaving == "idle"


def test_a_load_on_the_mat_does_not_log_out_on_the_calibration_screens(dummy_video):
    import numpy as np
    from ui_support import FakeFeed

    from gaitkiosk.runtime import LiveSnapshot
    from ui.screens.staff import STAFF_SCREENS

    feed = FakeFeed(LiveSnapshot(seq=1, mat_kpa=np.zeros((48, 48), np.float32), mat_geometry=(48, 48, (8.47, 8.47))))
    app = run_screen(idle_logout_s=60.0, feed=feed)
    app.step(0.1, [])
    feed.snapshot = LiveSnapshot(seq=2, mat_kpa=np.full((48, 48), 100.0, np.float32), mat_geometry=(48, 48, (8.47, 8.47)))
    for _ in range(5):
        app.step(0.1, [])
    assert app.top.leaving is None
    for kind in ("staff_calibration", "staff_calibration_history", "staff_calibration_run", "staff_calibration_result"):
        assert STAFF_SCREENS[kind].walk_up_logout is False
