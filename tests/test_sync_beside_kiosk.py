"""The sync worker beside a recording kiosk: no frame lost, the database intact, everything synced.

A real kiosk process (``gaitkiosk run --simulate --headless``) records a visit into a real SQLite
file while ``gaitkiosk sync run`` (its own process, as the gaitkiosk-sync.service unit runs it)
sends a backlog and then the visit's rows from the same database to the real server. Then the
same with the worker as the kiosk's own thread (``[sync] in_kiosk = true``).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_kiosk_support import backlog, exactly_once, server_rows
from sync_support import running_server
from test_store_beside_kiosk import (  # noqa: F401
    CODE,
    DRILLS,
    ROOT,
    _env,
    _read,
    deleted_database_files,
    gaitkiosk,
    kiosk_visit,
    prescribed,
)
from waiting import wait_until

pytestmark = [needs_pg(), pytest.mark.slow]

CONFIG = """
[sync]
in_kiosk = {in_kiosk}
poll_s = 1.0
backoff_base_s = 0.05
backoff_cap_s = 0.5
"""


def _config(tmp_path, in_kiosk: bool):
    path = tmp_path / f"config-{in_kiosk}.toml"
    path.write_text(CONFIG.format(in_kiosk=str(in_kiosk).lower()))
    return path


def _enrol(srv, data, cfg) -> dict:
    code = json.loads(gaitkiosk("server", "enrol-code", "--clinic", "north", "--dsn", srv.dsn, "--json").stdout)["code"]
    done = gaitkiosk("sync", "enrol", srv.url, code, "--data-dir", str(data), "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    return json.loads((data / "sync.json").read_text())


def _kiosk(data, cfg) -> subprocess.Popen:
    return kiosk_visit(data, CODE, "--config", str(cfg))


def _unsent_rows(db) -> int:
    found = _read(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND entity != 'recording'")
    return found[0][0] if found else -1


def _check_visit(kiosk, out, err, db):
    assert kiosk.returncode == 0, err
    assert "disk I/O error" not in err and "without a recording" not in err, err
    summary = json.loads(out)
    assert summary["session"]["status"] == "complete"
    assert len(summary["session"]["trials"]) == DRILLS
    for t in summary["session"]["trials"]:
        assert t["frames"] > 0 and t["report"], t
    return summary


def test_sync_run_beside_a_recording_kiosk_loses_nothing(prescribed, pg_cluster, tmp_path):  # noqa: F811
    data, db = prescribed, prescribed / "gaitkiosk.db"
    cfg = _config(tmp_path, in_kiosk=False)
    backlog(data, 1500)  # so the worker is busy writing beside the recording, not idle
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        enrolled = _enrol(srv, data, cfg)
        kiosk = _kiosk(data, cfg)
        worker = None
        try:
            def records():
                return bool(_read(db, "SELECT 1 FROM recordings WHERE frames > 0"))

            assert wait_until(lambda: records() or kiosk.poll() is not None, timeout=240, step=0.05)
            assert kiosk.poll() is None, "the kiosk ended before it recorded"
            worker = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "sync", "run", "--data-dir", str(data),
                                       "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=_env(), cwd=ROOT)
            assert wait_until(lambda: len(server_rows(srv.dsn, enrolled["kiosk_id"])) > 0 or worker.poll() is not None,
                              timeout=120, step=0.05)
            assert worker.poll() is None, worker.communicate()[1]
            assert kiosk.poll() is None, "the visit was over before the sync got going: nothing tested beside it"
            assert not deleted_database_files(kiosk.pid)
            out, err = kiosk.communicate(timeout=300)
            summary = _check_visit(kiosk, out, err, db)
            assert wait_until(lambda: _unsent_rows(db) == 0 or worker.poll() is not None, timeout=300, step=0.1)
            worker.send_signal(signal.SIGTERM)
            _, werr = worker.communicate(timeout=60)
            assert worker.returncode == 0, werr
        finally:
            for p in (kiosk, worker):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.communicate()
        held = exactly_once(srv.dsn, db, enrolled["kiosk_id"])
    assert ("session", summary["session"]["id"]) in held
    assert {("trial", t["id"]) for t in summary["session"]["trials"]} <= set(held)
    check = gaitkiosk("db", "check", "--data-dir", str(data), "--json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["integrity"] == "ok"
    # everything went, the visit's recordings too (resumable upload, SHA-256 checked by the server)
    assert report["sync"]["queued"] == 0, report["sync"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        unsynced = conn.execute("SELECT count(*) FROM recordings WHERE synced_at IS NULL").fetchone()[0]
        recordings = conn.execute("SELECT count(*) FROM recordings").fetchone()[0]
    finally:
        conn.close()
    assert recordings > 0 and unsynced == 0


def test_the_kiosks_own_sync_thread_sends_while_it_runs(prescribed, pg_cluster, tmp_path):  # noqa: F811
    data, db = prescribed, prescribed / "gaitkiosk.db"
    cfg = _config(tmp_path, in_kiosk=True)
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        enrolled = _enrol(srv, data, cfg)
        kiosk = _kiosk(data, cfg)
        try:
            # the demo patient and program were queued before the kiosk started: its thread sends them
            assert wait_until(lambda: len(server_rows(srv.dsn, enrolled["kiosk_id"])) > 0 or kiosk.poll() is not None,
                              timeout=240, step=0.05)
            assert len(server_rows(srv.dsn, enrolled["kiosk_id"])) > 0, "the kiosk's sync thread sent nothing"
            out, err = kiosk.communicate(timeout=300)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.communicate()
        _check_visit(kiosk, out, err, db)
        done = gaitkiosk("sync", "once", "--data-dir", str(data), "--config", str(cfg))  # what the visit's close queued
        assert done.returncode == 0, done.stderr
        exactly_once(srv.dsn, db, enrolled["kiosk_id"])
