"""A visit whose storage fails: the patient is told, staff are told, the session gets a final state.

Before: a DiskFullError in the drill start/finish path was logged and the
kiosk hung (Start did nothing, or the drill never ended) with the session
left ``open``; below ``store.min_free_mb`` every trial stored 0 frames and
the session still read "complete".

Now: no visit starts that could not be saved or closed; a visit that runs out
of room mid-way stops at once with the "please tell the staff" screen, its
trial and session are closed ``incomplete`` with the reason (in the room of
the storage reserve), and a trial that lost frames says so in its status.

Real parts: the whole kiosk in-process (real readers on sim:// ports, the
analysis and worker threads, pygame under the dummy driver), a real SQLite
file, the ``max_db_mb`` cap and a real small tmpfs for a real full disk.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import tmpfs

from gaitkiosk import cli
from store import open_store
from store.patients import Patient
from store.programs import Prescription, Program

CODE = "4821"

# Above the pages a freshly migrated database holds free (reusable_bytes: store migration m011
# rebuilds the outbox and frees the old table's pages), so the disk alone decides "too low".
MIN_FREE = 10 * 2**20


def prescribe(data: Path, drills: int) -> None:
    """A demo patient (the scripted visit never checks in as a real one) with a short program."""
    from gaitkiosk.config import load_config
    from gaitkiosk.demo_seed import seed_demo

    seed_demo(data, load_config(None), CODE)
    with open_store(data) as st:
        patient = st.patients.by_code(CODE)
        for p in st.programs.for_patient(patient.id):
            st.programs.set_active(p.id, False)
        st.programs.add(Program(patient_id=patient.id, name="test",
                                prescriptions=[Prescription(drill="quiet_standing") for _ in range(drills)]))


def run_visit(data: Path, config: Path, shots: Path, capsys) -> tuple[int, dict, str]:
    code = cli.main(["run", "--simulate", "--headless", "--no-seed", "--code", CODE, "--seconds", "3",
                     "--countdown", "0.3", "--timeout", "300", "--config", str(config), "--data-dir", str(data),
                     "--screenshots", str(shots), "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def stored(data: Path):
    """The session, its trials and the audit actions, read back through SQLite."""
    conn = sqlite3.connect(data / "gaitkiosk.db")
    conn.row_factory = sqlite3.Row
    try:
        sessions = [dict(r) for r in conn.execute("SELECT * FROM sessions")]
        trials = [dict(r) for r in conn.execute("SELECT * FROM trials ORDER BY position")]
        frames = {r[0]: r[1] for r in conn.execute("SELECT trial_id, sum(frames) FROM recordings GROUP BY trial_id")}
        audit = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return sessions, trials, frames, audit, check


def assert_closed_for_storage(code, summary, err, data, shots):
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("gaitkiosk run: error: the visit was stopped:") and "full" in last, err
    assert "Traceback" not in err
    assert any("staff_needed" in Path(p).name for p in summary["screenshots"])  # the patient's screen
    sessions, trials, frames, audit, check = stored(data)
    assert check == "ok"
    (s,) = sessions
    assert s["status"] == "incomplete" and s["status_reason"].startswith("storage failed:"), s
    assert s["ended_at"] is not None
    assert all(t["status"] != "running" for t in trials)
    last_trial = trials[-1]
    assert last_trial["status"] == "incomplete" and last_trial["recording"] in ("partial", "none")
    assert "full" in last_trial["status_reason"]  # the reason names the storage failure
    done = [t for t in trials[:-1]]
    assert all(t["recording"] == "complete" and frames[t["id"]] > 0 for t in done), done
    assert "store.failed" in audit
    return trials


def test_the_size_cap_reached_mid_visit_stops_it_cleanly(tmp_path, headless_env, capsys):
    data, shots = tmp_path / "data", tmp_path / "shots"
    prescribe(data, drills=6)
    config = tmp_path / "k.toml"
    # Ungated sensors (raw noise on every sensel) fill the 1 MB cap within a few 3 s drills.
    config.write_text("[store]\nmax_db_mb = 1\nmin_free_mb = 0\n[devices]\nzero_when_idle = false\n")
    code, summary, err = run_visit(data, config, shots, capsys)
    trials = assert_closed_for_storage(code, summary, err, data, shots)
    assert 1 <= len(trials) < 6  # it really ran out mid-way


@pytest.fixture
def small_disk(tmp_path):
    with tmpfs(tmp_path / "card", "8m") as mnt:
        yield mnt


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill the disk with a file of real blocks until only ``leave_bytes`` are free."""
    import shutil

    free = shutil.disk_usage(disk).free
    subprocess.run(["fallocate", "-l", str(free - leave_bytes), str(disk / "filler")], check=True)


def test_a_real_full_disk_mid_visit_stops_it_cleanly(small_disk, tmp_path, headless_env, capsys, monkeypatch):
    import store.reserve

    monkeypatch.setattr(store.reserve, "RESERVE_BYTES", 128 * 1024)  # a small card: a small reserve
    data, shots = small_disk / "kiosk", tmp_path / "shots"
    prescribe(data, drills=8)
    fill(small_disk, leave_bytes=560 * 1024)
    config = tmp_path / "k.toml"
    config.write_text("[store]\nmin_free_mb = 0\n[devices]\nzero_when_idle = false\n")
    code, summary, err = run_visit(data, config, shots, capsys)
    assert_closed_for_storage(code, summary, err, data, shots)
    (small_disk / "filler").unlink()
    with open_store(data) as st:  # space is back: a restart finds nothing left to recover
        assert st.recovered == []


def test_no_visit_starts_below_the_free_space_threshold(tmp_path, headless_env, capsys):
    data, shots = tmp_path / "data", tmp_path / "shots"
    prescribe(data, drills=2)
    config = tmp_path / "k.toml"
    config.write_text("[store]\nmin_free_mb = 10000000\n")  # 10 TB: more than any disk here
    code, summary, err = run_visit(data, config, shots, capsys)
    assert code == 1 and "the visit was stopped" in err.strip().splitlines()[-1]
    assert any("staff_needed" in Path(p).name for p in summary["screenshots"])
    sessions, trials, *_ = stored(data)
    assert sessions == [] and trials == []  # nothing started that would store 0 frames


def test_a_trial_that_lost_frames_says_so_everywhere(tmp_path, capsys):
    """Below the threshold mid-recording: the trial keeps what it stored and says what it lost."""
    import numpy as np

    from device.frames import RawFrame
    from store.errors import LowDiskError

    free = {"bytes": 10**12}
    with open_store(tmp_path) as st:
        patient = st.patients.add(Patient(code=CODE))
        session = st.sessions.start(patient.id)
        trial = st.trials.start(session.id, "quiet_standing")
        writer = st.recording_writer(session.id, trial_id=trial.id, chunk_s=0.05, min_free_bytes=MIN_FREE,
                                     disk_free=lambda _p: free["bytes"]).start()
        for i in range(40):
            writer.put(RawFrame("MAT-1", "mat", i, i / 100, i / 100, np.ones((8, 8), np.uint16)))
        assert writer.stop().committed_frames == 40
        # a second trial: the disk drops under the threshold while it records
        trial2 = st.trials.start(session.id, "quiet_standing")
        writer = st.recording_writer(session.id, trial_id=trial2.id, chunk_s=0.05, min_free_bytes=MIN_FREE,
                                     disk_free=lambda _p: free["bytes"]).start()
        for i in range(20):
            writer.put(RawFrame("MAT-1", "mat", i, i / 100, i / 100, np.ones((8, 8), np.uint16)))
        from waiting import wait_until

        assert wait_until(lambda: writer.snapshot().committed_frames > 0)
        free["bytes"] = 10
        for i in range(20, 60):
            writer.put(RawFrame("MAT-1", "mat", i, i / 100, i / 100, np.ones((8, 8), np.uint16)))
        stats = writer.stop()
        assert isinstance(writer.error, LowDiskError)
        state, why = stats.outcome()
        assert state == "partial" and "not stored" in why
        st.trials.finish(trial.id, recording="complete")
        finished = st.trials.finish(trial2.id, status="complete", recording=state, recording_reason=why)
        assert finished.status == "incomplete" and finished.recording == "partial"
        closed = st.sessions.finish(session.id)
        assert closed.status == "incomplete" and "1 exercise(s) not fully recorded" in closed.status_reason
        # what sync will upload: the session is queued, and its trial rows say what was lost
        assert any(item.entity == "session" for item in st.outbox.pending())
        row = st.db.execute("SELECT status, recording, status_reason FROM trials WHERE id = ?", [trial2.id]).fetchone()
        assert row[0] == "incomplete" and row[1] == "partial" and "not stored" in row[2]
    assert cli.main(["sessions", "show", session.id[:8], "--data-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "not fully recorded" in shown and "recording partial" in shown and "not stored" in shown
