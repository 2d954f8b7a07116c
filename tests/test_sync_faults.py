"""Faults between the kiosk's sync worker and the server (real processes, real PostgreSQL, real SQLite).

The server killed mid-sync and restarted; `gaitkiosk sync run` killed -9 mid-sync and restarted; a
server that answers 5xx (retried with backoff until it recovers); months of backlog (10,000
sessions) synced after reconnection. After each: the server holds exactly the kiosk's rows,
bit-exact, once. Every wait is for an event (a row count, a status field), never for time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_kiosk_support import backlog, exactly_once, fill, kiosk_rows, server_rows
from sync_support import free_port, gaitkiosk, running_server
from waiting import wait_until

from sync import state

pytestmark = needs_pg()

FAST = """
[sync]
poll_s = 1.0
backoff_base_s = 0.05
backoff_cap_s = 0.5
timeout_s = 10.0
"""


def code_for(srv, clinic="north") -> str:
    done = gaitkiosk("server", "enrol-code", "--clinic", clinic, "--dsn", srv.dsn, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["code"]


def enrol(srv, data_dir) -> dict:
    done = gaitkiosk("sync", "enrol", srv.url, code_for(srv), "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    return json.loads((data_dir / "sync.json").read_text())


def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(FAST)
    return path


def sync_run(data_dir, cfg) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gaitkiosk", "sync", "run", "--data-dir", str(data_dir),
                             "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def count(dsn, kiosk_id) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM sync_rows WHERE kiosk_id = %s", [kiosk_id]).fetchone()[0]


def unsent_rows(data_dir) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{data_dir / 'gaitkiosk.db'}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND entity != 'recording'").fetchone()[0]
    finally:
        conn.close()


def test_a_server_killed_mid_sync_and_restarted_loses_and_doubles_nothing(pg_cluster, tmp_path):  # noqa: F811
    dsn, port = pg_cluster.new_database(), free_port()
    backlog(tmp_path, 600)
    total = len(kiosk_rows(tmp_path / "gaitkiosk.db"))
    with running_server(dsn, tmp_path, port=port) as srv:
        kiosk = enrol(srv, tmp_path)
        worker = sync_run(tmp_path, config(tmp_path))
        try:
            assert wait_until(lambda: count(dsn, kiosk["kiosk_id"]) > 100 or worker.poll() is not None,
                              timeout=120, step=0.01)
            assert worker.poll() is None, worker.communicate()[1]
            srv.process.kill()  # -9, mid-sync: answers and transactions in flight are lost
            srv.process.wait()
        except BaseException:
            worker.kill()
            raise
    try:
        assert count(dsn, kiosk["kiosk_id"]) < total, "the server was killed only after everything was sent"
        assert wait_until(lambda: "cannot reach" in state.read(tmp_path).get("last_error", ""), timeout=60)
        with running_server(dsn, tmp_path, port=port):
            assert wait_until(lambda: unsent_rows(tmp_path) == 0, timeout=300, step=0.1)
            code, err = stop(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 0, err
    exactly_once(dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


def test_sync_run_killed_mid_sync_and_restarted_loses_and_doubles_nothing(pg_cluster, tmp_path):  # noqa: F811
    backlog(tmp_path, 600)
    total = len(kiosk_rows(tmp_path / "gaitkiosk.db"))
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        kiosk = enrol(srv, tmp_path)
        cfg = config(tmp_path)
        first = sync_run(tmp_path, cfg)
        try:
            assert wait_until(lambda: count(srv.dsn, kiosk["kiosk_id"]) > 100 or first.poll() is not None,
                              timeout=120, step=0.01)
            assert first.poll() is None, first.communicate()[1]
        finally:
            first.kill()  # -9: rows sent but not yet marked sent are sent again
            first.communicate()
        assert count(srv.dsn, kiosk["kiosk_id"]) < total
        second = sync_run(tmp_path, cfg)  # the dead worker's lock went with it
        try:
            assert wait_until(lambda: unsent_rows(tmp_path) == 0 or second.poll() is not None, timeout=300, step=0.1)
            code, err = stop(second)
        finally:
            if second.poll() is None:
                second.kill()
        assert code == 0, err
        exactly_once(srv.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])
        check = gaitkiosk("db", "check", "--data-dir", str(tmp_path))
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_second_worker_on_the_same_database_is_refused(pg_cluster, tmp_path):  # noqa: F811
    fill(tmp_path, sessions=1)
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        enrol(srv, tmp_path)
        first = sync_run(tmp_path, config(tmp_path))
        try:
            assert wait_until(lambda: unsent_rows(tmp_path) == 0 or first.poll() is not None, timeout=120)
            done = gaitkiosk("sync", "once", "--data-dir", str(tmp_path))
            assert done.returncode == 1 and "another sync worker" in done.stderr, done.stderr
        finally:
            code, err = stop(first)
        assert code == 0, err


def test_a_5xx_is_retried_with_backoff_until_the_server_recovers(pg_cluster, tmp_path):  # noqa: F811
    fill(tmp_path, sessions=2)
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        kiosk = enrol(srv, tmp_path)
        with psycopg.connect(srv.dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE sync_rows RENAME TO sync_rows_away")  # every PUT now fails inside: 500
        worker = sync_run(tmp_path, config(tmp_path))
        try:
            assert wait_until(lambda: state.read(tmp_path).get("failures", 0) >= 4 or worker.poll() is not None,
                              timeout=120, step=0.05)
            s = state.read(tmp_path)
            assert "HTTP 500" in s["last_error"] and s["next_try_at"], s
            assert not s.get("last_success_at")
            with psycopg.connect(srv.dsn, autocommit=True) as conn:
                conn.execute("ALTER TABLE sync_rows_away RENAME TO sync_rows")
            assert wait_until(lambda: unsent_rows(tmp_path) == 0 or worker.poll() is not None, timeout=120, step=0.05)
            assert wait_until(lambda: state.read(tmp_path).get("last_success_at"), timeout=60)
        finally:
            code, err = stop(worker)
        assert code == 0, err
        st = json.loads(gaitkiosk("sync", "status", "--json", "--data-dir", str(tmp_path)).stdout)
        assert st["last_error"] == "" and st["queued"] == 0
        exactly_once(srv.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


@pytest.mark.slow
def test_months_of_backlog_sync_exactly_once_after_reconnection(pg_cluster, tmp_path):  # noqa: F811
    """10,000 sessions (each with a trial and its report) queued while the server was away."""
    dsn, port = pg_cluster.new_database(), free_port()
    with running_server(dsn, tmp_path, port=port) as srv:
        kiosk = enrol(srv, tmp_path)
    started = time.perf_counter()
    backlog(tmp_path, 10_000)
    filled = time.perf_counter() - started
    away = gaitkiosk("sync", "once", "--data-dir", str(tmp_path))  # the server is not there
    assert away.returncode == 1 and "cannot reach" in away.stderr, away.stderr
    total = len(kiosk_rows(tmp_path / "gaitkiosk.db"))
    assert total >= 30_000
    with running_server(dsn, tmp_path, port=port):
        started = time.perf_counter()
        done = gaitkiosk("sync", "once", "--data-dir", str(tmp_path), timeout=1800)
        took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert f"sent {total} row(s)" in done.stdout
    exactly_once(dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])
    assert len(server_rows(dsn, kiosk["kiosk_id"])) == total
    print(f"\nbacklog: 10000 sessions, {total} rows filled in {filled:.1f} s, synced in {took:.1f} s "
          f"({total / took:.0f} rows/s, {10_000 / took:.0f} sessions/s)")
