"""`gaitkiosk sessions` and `gaitkiosk db` end to end on a real database of virtual-patient sessions."""

import json
import sqlite3

import numpy as np
import pytest

from device.frames import RawFrame
from device.packets import DeviceKind, Hello
from device.recording import load_recording
from device.sim import InsoleGeometry, VirtualPatient
from gaitkiosk.cli import main
from store import open_store
from store.devices import device_from_hello
from store.errors import UncalibratedError
from store.export import export_session, set_calibration_converter
from store.patients import Patient

PITCH = (8.47, 8.47)


def record_session(st, code="P-007", drill="quiet_stance", seconds=1.5, kpa_per_count=0.2, cal=None):
    geometry = InsoleGeometry()
    st.devices.seen(device_from_hello(Hello(kind=DeviceKind.MAT, serial="MAT-1", firmware="1.2", rate_hz=100,
                                            rows=48, cols=48, pitch_mm=PITCH, kpa_per_count=kpa_per_count), "mat"))
    for side, kind in (("left", DeviceKind.INSOLE_LEFT), ("right", DeviceKind.INSOLE_RIGHT)):
        st.devices.seen(device_from_hello(Hello(
            kind=kind, serial=f"INS-{side[0].upper()}", firmware="0.9", rate_hz=100, rows=16, cols=1,
            kpa_per_count=kpa_per_count, sensors_mm=geometry.positions(side),
            sensor_area_mm2=geometry.sensor_areas_mm2()), f"insole_{side}"))
    try:
        patient = st.patients.by_code(code)
    except LookupError:
        patient = st.patients.add(Patient(code=code))
    session = st.sessions.start(patient.id)
    trial = st.trials.start(session.id, drill, {"duration_s": seconds}, cal or {})
    writer = st.recording_writer(session.id, trial_id=trial.id, calibration_ids=cal or {}, min_free_bytes=0).start()
    vp = VirtualPatient(scenario="quiet", seed=1)
    sent = {"mat": [], "insole_left": [], "insole_right": []}
    for i in range(int(seconds * 100)):
        s = vp.sample(i / 100)
        for serial, kind, counts in (("MAT-1", "mat", vp.mat_counts(s)),
                                     ("INS-L", "insole_left", vp.insole_counts(s, "left")),
                                     ("INS-R", "insole_right", vp.insole_counts(s, "right"))):
            writer.put(RawFrame(serial, kind, i, i / 100, 50 + i / 100, counts, kpa_per_count))
            sent[kind].append(counts)
    writer.stop()
    report = {"metrics_version": 1, "duration_s": seconds, "sway": {"path_length_mm": 123.4, "ellipse95_axes_mm": [3.0, 2.0]},
              "weight": {"left_pct": 49.0, "right_pct": 51.0}, "steps": []}
    st.trials.finish(trial.id, results={"score": 4}, report=report)
    st.sessions.finish(session.id)
    return session, {k: np.array(v) for k, v in sent.items()}


def cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def no_converter_between_tests():
    """`sessions export` installs calibration's converter process-wide; start each test without one."""
    set_calibration_converter(None)
    yield
    set_calibration_converter(None)


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    with open_store(d) as st:
        record_session(st)
        record_session(st, code="P-008", drill="tandem", seconds=0.5)
    return d


def test_sessions_list_show_and_filters(data_dir, capsys):
    code, out, _ = cli(capsys, "sessions", "list", "--data-dir", str(data_dir))
    assert code == 0 and "P-007" in out and "P-008" in out and "2 of 2 sessions" in out
    code, out, _ = cli(capsys, "sessions", "list", "--data-dir", str(data_dir), "--json", "--drill", "tandem")
    data = json.loads(out)
    assert data["total"] == 1 and data["sessions"][0]["patient_code"] == "P-008"
    code, out, _ = cli(capsys, "sessions", "--data-dir", str(data_dir), "list", "--patient", "P-007", "--json")
    sid = json.loads(out)["sessions"][0]["id"]
    code, out, _ = cli(capsys, "sessions", "show", sid[:8], "--data-dir", str(data_dir))
    assert code == 0 and "quiet_stance" in out and "complete" in out and "150 frames over 1.5 s" in out
    code, out, _ = cli(capsys, "sessions", "list", "--data-dir", str(data_dir), "--from", "2000-01-01", "--to", "2000-01-02")
    assert "0 of 0 sessions" in out
    code, _, err = cli(capsys, "sessions", "show", "ffffffff", "--data-dir", str(data_dir))
    assert code == 1 and "no session with id ffffffff" in err
    code, _, err = cli(capsys, "sessions", "list", "--data-dir", str(data_dir), "--from", "yesterday")
    assert code == 1 and "2026-11-21" in err


def test_export_writes_interchange_npz_and_metrics_csv(data_dir, tmp_path, capsys):
    with open_store(data_dir) as st:
        session, sent = record_session(st, code="P-009", seconds=1.2)
    out = tmp_path / "usb" / "s.npz"
    out.parent.mkdir()  # the stick is mounted
    code, text, err = cli(capsys, "sessions", "export", session.id, "--out", str(out), "--data-dir", str(data_dir), "--json")
    assert code == 0, err
    files = json.loads(text)["files"]
    assert files == [str(out), str(tmp_path / "usb" / "s-metrics.csv")]
    rec = load_recording(out)
    assert rec.meta["patient_code"] == "P-009" and rec.meta["drill"] == "quiet_stance"
    assert rec.mat_kpa.shape == (120, 48, 48) and rec.mat_kpa.dtype == np.float32
    assert np.array_equal(rec.mat_kpa, sent["mat"].astype(np.float32) * np.float32(0.2))
    assert np.array_equal(rec.insole_right_kpa, sent["insole_right"].astype(np.float32) * np.float32(0.2))
    assert rec.mat_t[0] == 0.0 and abs(rec.mat_t[-1] - 1.19) < 1e-9
    assert rec.mat_pitch_mm.tolist() == list(PITCH)
    assert rec.insole_left_sensors_mm.shape == (16, 2)
    # The export carries the stored analysis, so `gaitkiosk analyze` of it need not inflate the frames.
    from gaitkiosk.stored_analysis import load_for_analysis
    from kernels.report import stream_options

    assert load_for_analysis(out, stream_options()[1]).stored_analysis is not None
    csv_text = (tmp_path / "usb" / "s-metrics.csv").read_text()
    header, row = csv_text.splitlines()[:2]
    assert "sway.path_length_mm" in header and "weight.left_pct" in header and "results.score" in header
    assert "123.4" in row and "P-009" in row


def test_export_of_raw_counts_needs_a_calibration(tmp_path, capsys):
    d = tmp_path / "d"
    with open_store(d) as st:
        session, sent = record_session(st, kpa_per_count=0.0, cal={"MAT-1": "cal-m", "INS-L": "cal-l", "INS-R": "cal-r"})
    with open_store(d) as st, pytest.raises(UncalibratedError, match="no calibration converter is installed"):
        export_session(st, session.id, tmp_path / "x.npz")
    code, _, err = cli(capsys, "sessions", "export", session.id, "--out", str(tmp_path / "x.npz"), "--data-dir", str(d))
    assert code == 1 and "calibration cal-" in err and "is not in this database" in err
    assert not (tmp_path / "x.npz").exists()
    set_calibration_converter(None)
    from store.calibrations import Calibration

    with open_store(d) as st:
        for serial, cal_id in {"MAT-1": "cal-m", "INS-L": "cal-l", "INS-R": "cal-r"}.items():
            st.calibrations.add(Calibration(serial, {"kpa_per_count": 0.5}, id=cal_id))
    set_calibration_converter(lambda cal, zero: (lambda counts: counts * cal.record["kpa_per_count"]))
    try:
        code, _, err = cli(capsys, "sessions", "export", session.id, "--out", str(tmp_path / "x.npz"), "--data-dir", str(d))
    finally:
        set_calibration_converter(None)
    assert code == 0, err
    assert np.array_equal(load_recording(tmp_path / "x.npz").mat_kpa, sent["mat"].astype(np.float32) * 0.5)


def test_export_a_date_range(data_dir, tmp_path, capsys):
    out = tmp_path / "range"
    out.mkdir()
    code, text, err = cli(capsys, "sessions", "export", "--from", "2000-01-01", "--out", str(out), "--data-dir", str(data_dir))
    assert code == 0, err
    assert len(list(out.glob("*.npz"))) == 2 and (out / "metrics.csv").exists()
    assert len((out / "metrics.csv").read_text().splitlines()) == 3


def test_db_check_backup_restore_round_trip(data_dir, tmp_path, capsys):
    code, text, _ = cli(capsys, "db", "check", "--data-dir", str(data_dir), "--json")
    info = json.loads(text)
    assert code == 0 and info["integrity"] == "ok" and info["sessions"] == {"complete": 2}
    assert info["oldest_unsynced_session"] is not None and info["free_disk_bytes"] > 0
    backup = tmp_path / "stick" / "kiosk-backup.db"
    code, text, err = cli(capsys, "db", "backup", "--out", str(backup), "--data-dir", str(data_dir))
    assert code == 1 and "is the USB stick mounted" in err  # never creates the folder on the SD card
    assert not backup.parent.exists()
    backup.parent.mkdir()
    code, text, err = cli(capsys, "db", "backup", "--out", str(backup), "--data-dir", str(data_dir))
    assert code == 0 and "2 sessions" in text, err
    assert backup.stat().st_mode & 0o777 == 0o600  # patient data
    with open_store(data_dir) as st:  # a full copy of every record is audited: where, how much
        (entry,) = [e for e in st.audit.recent() if e.action == "db.backup"]
        assert entry.subject == str(backup) and entry.details["sessions"] == 2
    code, _, err = cli(capsys, "db", "backup", "--out", str(backup), "--data-dir", str(data_dir))
    assert code == 1 and "already exists" in err  # never overwritten
    with open_store(data_dir) as st:  # a session added after the backup
        record_session(st, code="P-010", seconds=0.3)
    code, text, err = cli(capsys, "db", "restore", str(backup), "--data-dir", str(data_dir))
    assert code == 0 and "restored 2 sessions" in text, err
    aside = list(data_dir.glob("gaitkiosk.db.before-restore-*"))
    assert aside, "the replaced database is kept"
    assert sqlite3.connect(aside[0]).execute("SELECT count(*) FROM sessions").fetchone()[0] == 3
    with open_store(data_dir) as st:
        assert st.sessions.count() == 2
        rec = st.recordings.for_session(st.sessions.list()[0].session.id)[0]
        assert st.recordings.read(rec.id).frames == rec.frames > 0


def test_restore_refuses_bad_backups_and_a_running_kiosk(data_dir, tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 10)
    before = (data_dir / "gaitkiosk.db").stat().st_mtime_ns
    code, _, err = cli(capsys, "db", "restore", str(junk), "--data-dir", str(data_dir))
    assert code == 1 and "junk.db" in err and "not an SQLite database" in err
    assert (data_dir / "gaitkiosk.db").stat().st_mtime_ns == before and not list(data_dir.glob("*before-restore*"))
    backup = tmp_path / "b.db"
    assert cli(capsys, "db", "backup", "--out", str(backup), "--data-dir", str(data_dir))[0] == 0
    kiosk = open_store(data_dir, kiosk=True)  # the kiosk app is running
    try:
        code, _, err = cli(capsys, "db", "restore", str(backup), "--data-dir", str(data_dir))
        assert code == 1 and "stop it" in err
    finally:
        kiosk.close()


def test_commands_refuse_a_missing_database_without_creating_it(tmp_path, capsys):
    code, _, err = cli(capsys, "db", "check", "--data-dir", str(tmp_path / "none"))
    assert code == 1 and "no database" in err and not (tmp_path / "none" / "gaitkiosk.db").exists()


def test_db_prune_only_touches_synced_recordings(data_dir, capsys):
    with open_store(data_dir) as st:
        ids = [r.id for s in st.sessions.list() for r in st.recordings.for_session(s.session.id)]
        st.recordings.set_synced(ids[0], at="2020-01-01T00:00:00.000000Z")
    code, text, _ = cli(capsys, "db", "prune", "--older-than-days", "0", "--data-dir", str(data_dir), "--json")
    assert code == 0 and json.loads(text)["recordings"] == 1
    with open_store(data_dir) as st:
        assert st.recordings.get(ids[0]).pruned_at and st.recordings.chunk_index(ids[0]) == []
        for rid in ids[1:]:
            assert st.recordings.read(rid).frames == st.recordings.get(rid).frames > 0


def test_bare_commands_do_the_harmless_thing(data_dir, capsys):
    code, out, _ = cli(capsys, "sessions", "--data-dir", str(data_dir))
    assert code == 0 and "2 of 2 sessions" in out
    code, out, _ = cli(capsys, "db", "--data-dir", str(data_dir))
    assert code == 0 and "integrity     ok" in out


def test_deep_check_finds_bit_rot_inside_a_recording(data_dir, capsys):
    code, out, _ = cli(capsys, "db", "check", "--deep", "--data-dir", str(data_dir))
    assert code == 0 and "all recording chunks verified" in out
    with open_store(data_dir) as st:  # one flipped bit inside a stored chunk, as a worn SD card might
        rowid, blob = st.db.execute("SELECT id, data FROM recording_chunks ORDER BY id LIMIT 1").fetchone()
        damaged = bytearray(blob)
        damaged[len(damaged) // 2] ^= 0x08
        st.db.execute("UPDATE recording_chunks SET data = ? WHERE id = ?", [bytes(damaged), rowid])
        session_id = st.db.execute("SELECT r.session_id FROM recording_chunks c JOIN recordings r "
                                   "ON r.id = c.recording_id WHERE c.id = ?", [rowid]).fetchone()[0]
    code, out, _ = cli(capsys, "db", "check", "--data-dir", str(data_dir))
    assert code == 0  # the file's structure is fine: only the deep check can see this
    code, out, _ = cli(capsys, "db", "check", "--deep", "--data-dir", str(data_dir))
    assert code == 1 and "1 DAMAGED" in out and session_id[:8] in out and "checksum" in out
    code, _, err = cli(capsys, "sessions", "export", session_id, "--out", str(data_dir / "x.npz"), "--data-dir", str(data_dir))
    assert code == 1 and "checksum" in err


def test_export_of_raw_counts_through_real_calibration_records(tmp_path, capsys):
    """Integration with calibration/: records saved by calibration.storage convert on export."""
    from calibration.curves import PowerLawCurve
    from calibration.model import CalibrationModel
    from calibration.storage import save

    d = tmp_path / "d"
    with open_store(d) as st:
        models = {"MAT-1": CalibrationModel.for_device("MAT-1", "mat", (48, 48), sensel_area_mm2=71.7, pitch_mm=PITCH),
                  "INS-L": CalibrationModel.for_device("INS-L", "insole_left", (16,), sensel_area_mm2=154.0),
                  "INS-R": CalibrationModel.for_device("INS-R", "insole_right", (16,), sensel_area_mm2=154.0)}
        for m in models.values():
            m.curve = PowerLawCurve(0.5, 1.2)  # as a load procedure would fit it
        ids = {serial: save(st, m, [], operator="test", activate=False).id for serial, m in models.items()}
        session, sent = record_session(st, kpa_per_count=0.0, cal=ids)
    code, _, err = cli(capsys, "sessions", "export", session.id, "--out", str(tmp_path / "c.npz"), "--data-dir", str(d))
    assert code == 0, err
    rec = load_recording(tmp_path / "c.npz")
    expected = np.asarray(models["MAT-1"].converter().many(sent["mat"]), dtype=np.float32)
    assert np.array_equal(rec.mat_kpa, expected)
    assert rec.meta["devices"]["mat"]["calibration_id"] == ids["MAT-1"]


def test_sessions_show_says_scores_measures_and_missing_frames_in_words(tmp_path, capsys):
    """Issue 10 item 11: the text output has the scores and key measures, and explains what a recording lacks."""
    import dataclasses

    from drills import scoring

    d = tmp_path / "data"
    with open_store(d) as st:
        session, _ = record_session(st, drill="quiet_standing")
        (trial,) = st.trials.for_session(session.id)
        done = {"drill": "quiet_standing", "status": "complete", "score": 86.4, "params": {"stance": "apart"},
                "measures": {"headline": {"ellipse95_area_mm2": 140.0, "mean_velocity_mm_s": 9.5}},
                "alerts": [{"reason": "cop_outside"}], "duration_s": 30.0, "done_pct": 100.0}
        before = {**done, "score": 80.0, "measures": {"headline": {"ellipse95_area_mm2": 200.0, "mean_velocity_mm_s": 9.0}}}
        st.trials.finish(trial.id, results={**done, "comparison": scoring.compare(done, before)},
                         report={**trial.report, "source": "mat", "sway": {"ellipse95_area_mm2": 151.2}})
        stopped = {**done, "status": "stopped", "score": None, "duration_s": 7.0, "done_pct": 23.3, "alerts": []}
        t2 = st.trials.start(session.id, "quiet_standing", {})
        st.trials.finish(t2.id, status="stopped", results={**stopped, "comparison": scoring.compare(stopped, done)})
        # A recording with frames missing on the sensor's grid; its STATUS packets' seq steps are no loss.
        writer = st.recording_writer(session.id, trial_id=t2.id, min_free_bytes=0).start()
        counts = np.zeros((48, 48), np.uint16)
        seq = 0
        for i in range(50):
            seq += 2 if i % 10 == 0 else 1  # a STATUS packet took a sequence number
            frame = RawFrame("MAT-1", "mat", seq, i / 100, 50 + i / 100, counts, 0.2)
            writer.put(dataclasses.replace(frame, lost_before=3) if i == 20 else frame)
        writer.stop()
    code, out, _ = cli(capsys, "sessions", "show", session.id[:8], "--data-dir", str(d))
    assert code == 0
    assert "score 86 of 100 (4 stars)" in out and "last time 80 of 100 (the same exercise at the same level)" in out
    assert "Sway area: 140 mm² (better than last time: 200 mm²)." in out
    assert "Sway speed: 9.5 mm/s (not as good as last time: 9.0 mm/s)." in out
    assert "1 safety pause (cop_outside)" in out and "whole recording (mat, 1.5 s): sway area 151 mm²" in out
    assert "no score: stopped after 7 s of running (23 % done; a stopped drill scores from half on)" in out
    assert "not compared with last time: this run was stopped early" in out
    assert "no frames missing" in out and "3 frames missing from the sensor" in out
    assert "gaps" not in out


def test_sessions_show_says_each_trials_calibration_and_the_words_once(tmp_path, capsys):
    """A number shown carries its calibration state: each trial says it, the warning is said once."""
    from kernels.calibration_state import block

    d = tmp_path / "data"
    nominal = {"state": "factory-nominal (uncalibrated)", "uncalibrated": True}
    meta = {"calibration": {"mat": {**nominal, "serial": "MAT-1"},
                            "insole_left": {**nominal, "serial": "INS-L"},
                            "insole_right": {"state": "calibrated", "serial": "INS-R", "calibration_id": "abcdef1234567890",
                                             "calibrated_at": "2026-11-30T10:00:00Z"}}}
    with open_store(d) as st:
        session, _ = record_session(st, drill="quiet_standing")
        (trial,) = st.trials.for_session(session.id)
        mat_only = block(meta, list(meta["calibration"]), ["mat"])
        st.trials.finish(trial.id, results={"drill": "quiet_standing", "status": "complete", "score": 90.0,
                                            "calibration": mat_only}, report=None)
        t2 = st.trials.start(session.id, "quiet_standing", {})
        st.trials.finish(t2.id, results={"drill": "quiet_standing", "status": "complete", "score": 70.0,
                                         "calibration": block(meta, list(meta["calibration"]), ["mat"])})
        t3 = st.trials.start(session.id, "gait_insoles", {})
        right = block(meta, list(meta["calibration"]), ["insole_right"])
        st.trials.finish(t3.id, results={"drill": "gait_insoles", "status": "complete", "score": 80.0,
                                         "calibration": right})
    code, out, _ = cli(capsys, "sessions", "show", session.id[:8], "--data-dir", str(d))
    assert code == 0
    assert out.count("calibration: uncalibrated (mat not calibrated)") == 2
    assert "calibration: calibrated (insole right calibration abcdef12)" in out
    assert out.count("NOT CALIBRATED") == 1
    note = " ".join(out[out.index("NOT CALIBRATED"):out.index("  recordings")].split())
    assert "the mat (MAT-1)" in note and "INS-L" not in note  # the left insole was recorded, not used
