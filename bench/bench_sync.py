"""`python bench/run.py sync`: N simulated kiosks x 100 sessions syncing at once to one server.

Each kiosk is a real SQLite database filled through the store (a session = the session, one
trial and its report; plus the kiosk's patient and audit rows), enrolled on a real
`gaitkiosk server` process on a real PostgreSQL (tests/pg_support.py; fsync off, as in the
tests). All kiosks run their sync worker's pass (sync.worker.Worker.once) at the same time, as
threads of this process, one keep-alive connection each. Checked: the server holds every
kiosk's rows, bit-exact, once.

Baseline, in the same run on the same PostgreSQL: the same rows, one INSERT and one COMMIT per
row straight into a table like sync_rows, from as many connections as there are kiosks. The
ratio says what the HTTP API, the token check and the insert-or-compare cost, per row.

Without recordings: their upload is another engineer's part of issue 12 (syncrec), not merged
here. Environment: GAITKIOSK_BENCH_SYNC_KIOSKS (default 50), GAITKIOSK_BENCH_SYNC_SESSIONS (100).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> dict:
    import psycopg
    from pg_support import Cluster
    from sync_kiosk_support import backlog, exactly_once, kiosk_rows
    from sync_support import running_server

    from sync.enrolment import enrol
    from sync.server import admin
    from sync.worker import Worker

    kiosks = int(os.environ.get("GAITKIOSK_BENCH_SYNC_KIOSKS", "50"))
    per = int(os.environ.get("GAITKIOSK_BENCH_SYNC_SESSIONS", "100"))
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    cluster = Cluster()
    cluster.start()
    try:
        dirs = [work / f"kiosk-{i:03d}" for i in range(kiosks)]
        t0 = time.perf_counter()
        for d in dirs:
            backlog(d, per, per_commit=per)
        fill_s = time.perf_counter() - t0
        rows = {d: kiosk_rows(d / "gaitkiosk.db") for d in dirs}
        total_rows = sum(len(r) for r in rows.values())
        dsn = cluster.new_database()
        with running_server(dsn, work, extra=("--connections", "10")) as srv:
            for i, d in enumerate(dirs):
                code, _ = admin.enrol_code(dsn, "bench", 1.0)
                enrol(d, srv.url, code, name=f"kiosk-{i}")

            def one(d):
                with Worker(d, {"parallel": 1, "batch_rows": 200}) as w:
                    return w.once().sent

            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(kiosks) as pool:
                sent = sum(pool.map(one, dirs))
            sync_s = time.perf_counter() - t0
        for d in dirs:
            kiosk_id = json.loads((d / "sync.json").read_text())["kiosk_id"]
            exactly_once(dsn, d / "gaitkiosk.db", kiosk_id)
        assert sent == total_rows, (sent, total_rows)

        # The naive baseline: one INSERT and one COMMIT per row, straight into PostgreSQL.
        base = cluster.new_database()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("CREATE TABLE naive_rows (entity text NOT NULL, id uuid NOT NULL, kiosk text NOT NULL, "
                         "seq bigint NOT NULL, body text NOT NULL, body_sha256 bytea NOT NULL, "
                         "received_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (entity, id))")

        def naive(d):
            with psycopg.connect(base) as conn:
                for seq, ((entity, row_id), body) in enumerate(sorted(rows[d].items()), 1):
                    conn.execute("INSERT INTO naive_rows (entity, id, kiosk, seq, body, body_sha256) "
                                 "VALUES (%s, %s, %s, %s, %s, %s)",
                                 [entity, row_id, d.name, seq, body, hashlib.sha256(body.encode()).digest()])
                    conn.commit()

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(kiosks) as pool:
            list(pool.map(naive, dirs))
        naive_s = time.perf_counter() - t0
        with psycopg.connect(base) as conn:
            assert conn.execute("SELECT count(*) FROM naive_rows").fetchone()[0] == total_rows
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    sessions = kiosks * per
    numbers = {
        "kiosks": kiosks, "sessions_per_kiosk": per, "rows": total_rows, "recordings": 0,
        "fill_s": round(fill_s, 2),
        "sync_s": round(sync_s, 2), "sessions_per_s": round(sessions / sync_s, 1),
        "rows_per_s": round(total_rows / sync_s, 1),
        "body_mb_per_s": round(sum(len(b) for r in rows.values() for b in r.values()) / sync_s / 1e6, 3),
        "naive_s": round(naive_s, 2), "naive_rows_per_s": round(total_rows / naive_s, 1),
        "sync_vs_naive": round((total_rows / sync_s) / (total_rows / naive_s), 2),
        "exactly_once": True,
    }
    print(f"{kiosks} kiosks x {per} sessions = {sessions} sessions, {total_rows} rows (no recordings)")
    print(f"sync:  {sync_s:7.2f} s  {numbers['sessions_per_s']:8.1f} sessions/s  {numbers['rows_per_s']:8.1f} rows/s"
          f"  {numbers['body_mb_per_s']:.3f} MB/s of row bodies")
    print(f"naive: {naive_s:7.2f} s  {numbers['naive_rows_per_s']:8.1f} rows/s (one INSERT + COMMIT per row, direct)")
    print(f"sync / naive throughput: {numbers['sync_vs_naive']:.2f}; exactly once: yes")
    return numbers


if __name__ == "__main__":
    main()
