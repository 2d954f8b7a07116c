"""The diagnostics room (issue 14 item 5): technicians only, every reading on the screen, the live raw
sensel map, and "Export logs and diagnostics" with and without patient data.

The kiosk is the real runtime (worker thread, SQLite store, sim:// sensors and their reader
threads); the screens are driven by injected taps under the dummy driver; the "USB stick" is a
real small file system mounted below ``usb_root`` (conftest ``tmpfs``; CI runs as root), so the
kiosk reads the real /proc/mounts.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import zipfile

import pytest
import ui_support
from conftest import tmpfs
from staff_support import add_team, log_in
from ui_support import make_app, pump, tap_button
from waiting import wait_until

from gaitkiosk import sysinfo
from gaitkiosk.config import default_config
from gaitkiosk.demo_seed import seed_demo
from gaitkiosk.lockout import KeypadLockout
from gaitkiosk.runtime import Runtime
from gaitkiosk.staff_rooms.diagnostics import FAULTS
from gaitkiosk.versions import read_versions
from store import open_store
from store.patients import Patient
from ui import screens
from ui.screens.staff import view
from ui.text import TextLog

dummy_video = ui_support.dummy_video

CODE, NAME = "80417", "Greta Lindqvist"  # a patient whose code and name must not leave in the archive


@pytest.fixture
def install_root(tmp_path, monkeypatch):
    """A unit's versions layout (gaitkiosk/versions.py): 0.1.0 in use, 0.0.9 and 0.0.3 kept."""
    root = tmp_path / "opt"
    for v in ("0.0.3", "0.0.9", "0.1.0"):
        (root / "versions" / v).mkdir(parents=True)
    (root / "current").symlink_to(root / "versions" / "0.1.0")
    monkeypatch.setenv("GAITKIOSK_INSTALL_ROOT", str(root))
    return root


@pytest.fixture
def stick(tmp_path):
    media = tmp_path / "media"
    with tmpfs(media / "KINGSTON", "8m") as mounted:
        yield media, mounted


@pytest.fixture
def tech_kiosk(tmp_path, dummy_video, install_root, stick):
    from staff_support import FakeClock

    config = default_config()
    config["reports"] = {"folder": "", "usb_root": str(stick[0])}
    data = tmp_path / "data"
    seed_demo(data, config, "1234")
    with open_store(data) as st:
        st.patients.add(Patient(code=CODE, name=NAME, birth_year=1941))
        st.outbox.enqueue("session", "s-oldest")  # waiting for the sync worker
        st.outbox.enqueue("recording", "r-newer")
    add_team(data)
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, data, simulate=True, staff_lockout=KeypadLockout(FakeClock())).start(app)
    yield app, rt, data, stick[1]
    rt.close()


def drawn(app) -> list[str]:
    with TextLog() as log:
        app.step(0.01, [])
    return log.texts()


def open_diagnostics(app, rt):
    log_in(app, "Bo L.")
    assert [b.id for b in app.top.rooms_buttons.buttons] == ["calibration", "diagnostics"]
    # the sensors are up: a technician opening the room sees them streaming
    pump(app, lambda: len(rt.sensors.readers) == 3 and all(r.status().state == "streaming" for r in rt.sensors.readers),
         what="sensors streaming")
    tap_button(app, app.top.rooms_buttons.get("diagnostics"))
    pump(app, lambda: app.top.name == "staff_diagnostics", what="the diagnostics room")


def test_the_technician_sees_every_reading(tech_kiosk):
    app, rt, data, _ = tech_kiosk
    open_diagnostics(app, rt)
    d = app.top.data
    assert [s["label"] for s in d["sensors"]] == ["Mat", "Left insole", "Right insole"]
    for s in d["sensors"]:
        assert s["state"] == "streaming" and s["serial"].startswith("sim-") and s["firmware"]
        assert s["counters"]["frames"] > 0 and s["faults"] == 0
        assert s["clock_offset_ms"] is not None and s["clock_drift_ppm"] is not None
    with open_store(data) as st:  # the database's size as SQLite counts it
        assert d["system"]["database"]["bytes"] == sysinfo.database_size(st.db, None)["bytes"]
    assert d["versions"] == {"installed": "0.1.0", "rollback": "0.0.9", "installed_by": "install"}
    with open_store(data) as st:  # every row waits in the outbox (docs/sync.md); the two enqueued above among them
        waiting = st.db.execute("SELECT entity, created_at FROM outbox WHERE sent_at IS NULL AND refused_at IS NULL "
                                "ORDER BY seq").fetchall()
    assert {"session", "recording"} <= {e for e, _ in waiting}
    assert d["sync"]["pending"] == len(waiting)
    assert (d["sync"]["oldest_entity"], d["sync"]["oldest_at"]) == tuple(waiting[0])
    assert [p["label"] for p in d["places"]] == ["USB stick KINGSTON"]
    texts = drawn(app)
    assert {"Mat", "Left insole", "Right insole"} <= set(texts)
    assert sum(t.startswith("streaming, 0 faults, ") and t.endswith(" Hz") for t in texts) == 3
    assert sum(t.startswith("firmware gaitkiosk-sim ") for t in texts) == 3
    tap_button(app, app.top.tabs.get("tab:unit"))
    texts = drawn(app)
    assert "Version 0.1.0, roll back to 0.0.9" in texts
    assert "No safety panel" in texts
    assert any(t.startswith("CPU temperature ") for t in texts)  # a number, or "not available" here
    assert f"Sync queue {len(waiting)} waiting, oldest {d['sync']['oldest_at'][:16].replace('T', ' ')}" in texts
    tap_button(app, app.top.tabs.get("tab:calibration"))
    texts = drawn(app)
    assert texts[texts.index("sim-mat-48x48-seed1") + 1].strip() == "no calibration stored"
    tap_button(app, app.top.tabs.get("tab:export"))
    texts = drawn(app)
    assert "Export to USB stick KINGSTON" in texts and "[ ] Include patient data" in texts


def test_a_sensor_shows_its_counters_and_the_raw_map_live(tech_kiosk):
    app, rt, _, _ = tech_kiosk
    open_diagnostics(app, rt)
    tap_button(app, app.top.sensor_buttons.get("sensor:0"))
    pump(app, lambda: app.top.name == "staff_diagnostics_sensor", what="the mat's details")
    assert app.top.sensor["kind"] == "mat"
    pump(app, lambda: app.top.raw_picture is not None, what="the live raw map")
    first = app.top.raw
    assert first.shape == (48, 48)
    pump(app, lambda: app.top.raw is not first, what="a newer frame on the map")  # live: it follows the frames
    texts = drawn(app)
    assert "No calibration yet: run Calibration, Dead sensels." in " ".join(texts)
    tap_button(app, app.top.tabs.get("tab:counters"))
    texts = drawn(app)
    assert any(t.startswith("frames ") for t in texts) and f"{len(FAULTS)} other faults: 0" in texts
    tap_button(app, app.top.tabs.get("tab:device"))
    texts = " ".join(drawn(app))
    assert "Firmware gaitkiosk-sim" in texts and "Clock offset " in texts
    tap_button(app, app.top.bar.get("back"))
    pump(app, lambda: app.top.name == "staff_diagnostics", what="back to the room")


def test_the_dead_and_hot_map_comes_from_the_active_calibration(tech_kiosk):
    import numpy as np

    from calibration.curves import PowerLawCurve
    from calibration.model import MASK_DEAD, MASK_HOT, CalibrationModel
    from calibration.storage import save

    app, rt, data, _ = tech_kiosk
    open_diagnostics(app, rt)
    mat = rt.sensors.by_kind("mat").hello
    # A calibration with two dead sensels and one hot one, stored as the calibration room stores one.
    model = CalibrationModel.for_device(mat.serial, "mat", (mat.rows, mat.cols), sensel_area_mm2=71.7,
                                        pitch_mm=(8.47, 8.47))
    model.curve = PowerLawCurve(0.05, 1.0)
    model.mask[0, 0] = model.mask[5, 7] = MASK_DEAD
    model.mask[10, 20] = MASK_HOT
    with open_store(data) as st:
        assert save(st, model, [], operator="test").active
    tap_button(app, app.top.sensor_buttons.get("sensor:0"))
    pump(app, lambda: app.top.name == "staff_diagnostics_sensor", what="the mat's details")
    assert app.top.mask.shape == (mat.rows, mat.cols)
    assert (app.top.mask == MASK_DEAD).sum() == 2 and (app.top.mask == MASK_HOT).sum() == 1
    assert np.argwhere(app.top.mask == MASK_HOT).tolist() == [[10, 20]]
    assert "2 dead, 1 hot" in app.top.data["mask_note"]


def archive_text(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name).decode() for name in z.namelist()}


def patient_words(texts: dict[str, str]) -> list[str]:
    """Where a patient's code or name turns up in the archive's members."""
    words = [CODE, NAME, "Lindqvist"]
    return [f"{name}: {w}" for name, text in texts.items() for w in words
            if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]


def test_export_holds_no_patient_data_unless_ticked(tech_kiosk):
    app, rt, data, mounted = tech_kiosk
    # What a log line can say about a patient (a check-in's message, a report's file name).
    logging.getLogger("gaitkiosk.visit").warning("check-in of %s (%s) refused: test line", CODE, NAME)
    open_diagnostics(app, rt)
    tap_button(app, app.top.tabs.get("tab:export"))
    tap_button(app, app.top.export_buttons.get("export:0"))
    pump(app, lambda: app.top.name == "staff_diagnostics" and (app.top.message or "").startswith("Saved "),
         what="saved")
    (first,) = sorted(mounted.iterdir())
    assert first.name.startswith("gaitkiosk-diagnostics-") and first.suffix == ".zip"
    texts = archive_text(first)
    assert {"README.txt", "diagnostics.json", "sensels.json", "log.txt", "audit.csv", "config.json"} <= set(texts)
    assert "patients.csv" not in texts
    assert patient_words(texts) == []
    assert "check-in of [patient] ([patient]) refused: test line" in texts["log.txt"]  # the line is kept, scrubbed
    diag = json.loads(texts["diagnostics.json"])
    assert [s["label"] for s in diag["sensors"]] == ["Mat", "Left insole", "Right insole"]
    assert diag["versions"]["installed"] == "0.1.0"
    sensels = json.loads(texts["sensels.json"])
    mat = next(v for v in sensels.values() if v["kind"] == "mat")
    assert len(mat["raw_counts"]) == 48
    assert texts["audit.csv"].splitlines()[0] == "at,action,user"
    assert "staff.login,Bo L." in texts["audit.csv"]

    # Ticked: the same archive with the patients, the audit's subjects and the log as it was.
    tap_button(app, app.top.export_buttons.get("patient_data"))
    assert app.top.export_buttons.get("patient_data").label == "[x] Include patient data"
    tap_button(app, app.top.export_buttons.get("export:0"))
    pump(app, lambda: len(list(mounted.iterdir())) == 2 and "with patient data" in (app.top.message or ""),
         what="saved with patient data")
    second = next(p for p in mounted.iterdir() if p != first)
    texts = archive_text(second)
    assert CODE in texts["patients.csv"] and NAME in texts["patients.csv"]
    assert f"check-in of {CODE} ({NAME})" in texts["log.txt"]
    assert "HOLDS PATIENT DATA" in texts["README.txt"]
    with open_store(data) as st:
        bo = next(u for u in st.users.list() if u.name == "Bo L.")
        exported = [e for e in st.audit.recent(50) if e.action == "diagnostics.exported"]
    assert [(e.user_id, e.details["patient_data"]) for e in reversed(exported)] == [(bo.id, False), (bo.id, True)]


def test_a_stick_pulled_before_the_tap_is_refused_in_words(tech_kiosk):
    app, rt, _, mounted = tech_kiosk
    open_diagnostics(app, rt)
    subprocess.run(["umount", "-l", str(mounted)], check=True)
    tap_button(app, app.top.tabs.get("tab:export"))
    tap_button(app, app.top.export_buttons.get("export:0"))
    pump(app, lambda: "was the USB stick pulled out?" in (app.top.message or ""), what="refused")
    assert list(mounted.iterdir()) == []


def test_therapists_are_refused_the_room(tmp_path, dummy_video):
    from staff_support import FakeClock

    config = default_config()
    seed_demo(tmp_path, config, "1234")
    add_team(tmp_path)
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, tmp_path, simulate=True, staff_lockout=KeypadLockout(FakeClock())).start(app)
    try:
        log_in(app, "Ann Berg")
        assert "diagnostics" not in [b.id for b in app.top.rooms_buttons.buttons]
        app.post(view("diagnostics"))  # asked for anyway (a stale screen, a bug): the worker says no
        pump(app, lambda: app.top.message == "A therapist cannot open this screen.", what="refused")
        assert app.top.name == "staff_home"
    finally:
        rt.close()


def test_versions_without_the_layout_are_the_running_package(tmp_path):
    from gaitkiosk import __version__

    v = read_versions(tmp_path / "nothing-here")
    assert (v.installed, v.rollback, v.installed_by) == (__version__, None, "checkout")
    root = tmp_path / "opt"
    for name in ("0.9.2", "0.10.0", "0.10.1"):
        (root / "versions" / name).mkdir(parents=True)
    (root / "current").symlink_to(root / "versions" / "0.10.0")
    assert read_versions(root).rollback == "0.9.2"  # numbers compared as numbers; a newer one is not a rollback
    (root / "previous").symlink_to(root / "versions" / "0.10.1")  # the updater named it: that one
    assert read_versions(root).rollback == "0.10.1"


def test_readings_a_machine_lacks_are_not_available(tmp_path):
    assert sysinfo.cpu_load(tmp_path) is None
    assert sysinfo.cpu_temperature_c(tmp_path) is None
    zone = tmp_path / "thermal_zone0"
    zone.mkdir()
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("48312\n")
    assert sysinfo.cpu_temperature_c(tmp_path) == pytest.approx(48.312)
    (tmp_path / "loadavg").write_text("0.50 1.25 2.00 1/234 5678\n")
    assert sysinfo.cpu_load(tmp_path)["load_5m"] == 1.25
    from ui.screens.staff_diagnostics import system_lines

    lines = [t for t, _ in system_lines({"system": {"cpu": None, "cpu_temperature_c": None, "disk": None}})]
    assert "CPU load: not available" in lines and "CPU temperature not available" in lines


def test_the_database_size_is_read_beside_a_recording_kiosk(tmp_path):
    """The diagnostics' one new look at the database's files (the WAL's size, by stat) beside a kiosk
    process recording a visit: nothing it wrote is lost (tests/test_store_beside_kiosk.py's check)."""
    import sqlite3

    from test_store_beside_kiosk import CODE as DEMO
    from test_store_beside_kiosk import _read, deleted_database_files, gaitkiosk, kiosk_visit

    data = tmp_path / "data"
    seed_demo(data, default_config(), DEMO)
    done = gaitkiosk("program", "set", DEMO, "quiet_standing", "quiet_standing", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    db = data / "gaitkiosk.db"
    kiosk = kiosk_visit(data, DEMO)
    sizes = []
    try:
        def first_drill_records():
            return bool(_read(db, "SELECT 1 FROM recordings WHERE frames > 0"))

        assert wait_until(lambda: first_drill_records() or kiosk.poll() is not None, timeout=240, step=0.1)
        while kiosk.poll() is None and len(sizes) < 200:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            try:
                sizes.append(sysinfo.database_size(conn, db))
            finally:
                conn.close()
            assert not deleted_database_files(kiosk.pid), "the kiosk's WAL was deleted under it"
        out, err = kiosk.communicate(timeout=300)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.communicate()
    assert kiosk.returncode == 0, err
    assert sizes and all(s["bytes"] > 0 for s in sizes) and any(s["wal_bytes"] for s in sizes)
    summary = json.loads(out)
    assert summary["session"]["status"] == "complete"
    assert all(t["frames"] > 0 and t["report"] for t in summary["session"]["trials"])
    assert os.path.exists(db)


def test_the_room_shows_a_staged_update_and_outdated_insole_firmware(tech_kiosk):
    from gaitkiosk.update import background, fetch

    app, rt, data, _ = tech_kiosk
    # What the release fetcher leaves (gaitkiosk/update/background.py): its last check and a staged bundle.
    stage = fetch.stage_dir(data)
    stage.mkdir()
    (stage / "gaitkiosk-0.2.0.tar").write_bytes(b"")
    background._write_state(data, {"checked_at": "2026-12-04T22:10:00+00:00", "running": "0.1.0",
                                   "offered": "0.2.0", "result": "staged", "staged": "0.2.0", "error": ""})
    open_diagnostics(app, rt)
    left = next(s for s in app.top.data["sensors"] if s["label"] == "Left insole")
    assert [s["firmware_outdated"] for s in app.top.data["sensors"]] == [False, False, False]
    # An insole older than the firmware this kiosk carries, as Sensors.identify marks one.
    rt.sensors.firmware_outdated[left["serial"]] = left["firmware"]
    tap_button(app, app.top.bar.get("refresh"))
    pump(app, lambda: app.top.data["sensors"][1]["firmware_outdated"], what="the refreshed readings")
    d = app.top.data
    assert d["update"] == {"state": "staged", "staged": "0.2.0", "offered": "0.2.0",
                           "checked_at": "2026-12-04T22:10:00+00:00", "error": ""}
    texts = drawn(app)
    assert texts.count(f"firmware {left['firmware'].split()[-1]} (outdated)") == 1
    tap_button(app, app.top.tabs.get("tab:unit"))
    assert "Update 0.2.0 staged: update apply --server" in drawn(app)

    # Once installed, the staged bundle is nothing to apply; a failed check is said.
    from gaitkiosk.staff_rooms.diagnostics import update_state

    assert update_state(data, "0.2.0")["state"] == "up to date"
    background._write_state(data, {"checked_at": "2026-12-04T23:00:00+00:00", "offered": None, "error": "no answer"})
    (stage / "gaitkiosk-0.2.0.tar").unlink()
    assert update_state(data, "0.1.0") == {"state": "failed", "staged": None, "offered": None,
                                           "checked_at": "2026-12-04T23:00:00+00:00", "error": "no answer"}
