"""Readers of the database beside a recording kiosk lose nothing (issue: "nothing lost in clinic use").

A real kiosk process (``gaitkiosk run --simulate --headless``) records a
three-drill visit into a real SQLite file while a technician runs the
read-only commands beside it: ``sessions list``, ``db check``, ``db backup``
and ``report`` (the session PDF). Each is its own process, as on a unit.

What used to happen: the header check opened and closed the database file
with Python's ``open()`` inside the kiosk (every new recording writer) and the
CLI. Closing any descriptor of a file drops the process's POSIX locks on it,
so the CLI's last connection found no other reader, checkpointed and deleted
the kiosk's WAL: every later trial stored 0 frames ("disk I/O error") and the
session still read "complete".
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
CODE = "4821"
DRILLS = 3


def gaitkiosk(*argv: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *argv], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=ROOT)


def _env() -> dict:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _read(db: Path, sql: str, args=()) -> list:
    """One query through a read-only SQLite connection (SQLite is the only thing that opens the file)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        conn.close()


def deleted_database_files(pid: int) -> list[str]:
    """The kiosk's open descriptors of database files that were unlinked under it."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if "gaitkiosk.db" in target and target.endswith("(deleted)"):
            found.append(target)
    return found


@pytest.fixture
def prescribed(tmp_path) -> Path:
    from gaitkiosk.config import load_config
    from gaitkiosk.demo_seed import seed_demo

    data = tmp_path / "data"
    seed_demo(data, load_config(None), CODE)  # the scripted visit checks in as a demo patient only
    done = gaitkiosk("program", "set", CODE, *["quiet_standing"] * DRILLS, "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    return data



def kiosk_visit(data, code: str = CODE, *extra: str) -> subprocess.Popen:
    """The scripted headless visit (drills of 3 s) of ``code`` on ``data``, as its own process: the
    recording kiosk every new reader of the database is tested beside."""
    return subprocess.Popen(
        [sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--headless", "--no-seed", "--code", code,
         "--seconds", "3", "--countdown", "0.3", "--data-dir", str(data), *extra, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)

def test_read_only_commands_beside_a_recording_kiosk_lose_nothing(prescribed, tmp_path):
    data, db = prescribed, prescribed / "gaitkiosk.db"
    kiosk = kiosk_visit(data)
    try:
        # The event we need: the second drill's recording has committed frames.
        def second_drill_records():
            return bool(_read(db, "SELECT 1 FROM recordings r JOIN trials t ON t.id = r.trial_id "
                                  "WHERE t.position = 1 AND r.frames > 0"))

        assert wait_until(lambda: second_drill_records() or kiosk.poll() is not None, timeout=240, step=0.1)
        assert kiosk.poll() is None, "the kiosk ended before its second drill recorded"
        backup = tmp_path / "stick" / "beside.db"
        backup.parent.mkdir()
        first = _read(db, "SELECT id FROM sessions LIMIT 1")[0][0]
        for argv in (["sessions", "list"], ["db", "check"], ["db", "backup", "--out", str(backup)],
                     ["report", first, "--out", str(tmp_path / "stick" / "session.pdf")]):
            done = gaitkiosk(*argv, "--data-dir", str(data))
            assert done.returncode == 0, f"{argv}: {done.stderr}"
            assert not deleted_database_files(kiosk.pid), f"after {argv}: the kiosk's WAL was deleted under it"
        out, err = kiosk.communicate(timeout=300)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.communicate()
    assert kiosk.returncode == 0, err
    assert "disk I/O error" not in err and "without a recording" not in err, err
    summary = json.loads(out)
    assert summary["session"]["status"] == "complete"
    trials = summary["session"]["trials"]
    assert len(trials) == DRILLS
    for t in trials:
        assert t["frames"] > 0 and t["report"], t
    # the backup taken in the middle holds the first trial's frames, readable on its own
    assert _read(backup, "SELECT count(*) FROM recording_chunks")[0][0] > 0
    assert _read(db, "PRAGMA integrity_check") == [("ok",)]
