"""`python bench/run.py sync`: N simulated kiosks x 100 sessions, with recordings, syncing at once to one server.

Each kiosk is a real SQLite database filled through the store (a session = the session, one
trial and its report, and a mat recording; plus the kiosk's patient), enrolled on a real
`gaitkiosk server` process on a real PostgreSQL (tests/pg_support.py; fsync off, as in the
tests). The recording is real: a few seconds of the virtual patient standing on a 48 x 48 mat
at 100 Hz through the store's recording writer, made once and its chunks copied into every
session as a new recording (so each has its own id, its own stream and SHA-256). All kiosks run
their sync worker's pass (sync.worker.Worker.once: rows in batches, POST /v1/rows, then each
recording through sync.recordings.upload_recording) at the same time, as threads of this
process, one keep-alive connection each. Checked: the server holds every kiosk's rows,
bit-exact, once, and every recording's bytes once, complete, SHA-256 matching.

Baseline, in the same run on the same PostgreSQL: one INSERT and one COMMIT per row straight
into a table like sync_rows, and one INSERT (and COMMIT) of the whole stream per recording into
a bytea column, from as many connections as there are kiosks. The ratio says what the HTTP API,
the token check, the insert-or-compare and the resumable, checked upload cost.

Environment: GAITKIOSK_BENCH_SYNC_KIOSKS (default 50), GAITKIOSK_BENCH_SYNC_SESSIONS (100),
GAITKIOSK_BENCH_SYNC_RECORDING_S (seconds of mat per session's recording, default 2; 0: rows
only, the bench as it was before recordings).
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
    from sync_kiosk_support import (
        backlog,
        exactly_once,
        kiosk_recordings,
        kiosk_rows,
        record_mat,
        recordings_exactly_once,
    )
    from sync_support import running_server

    from sync.enrolment import enrol
    from sync.server import admin
    from sync.worker import Worker

    kiosks = int(os.environ.get("GAITKIOSK_BENCH_SYNC_KIOSKS", "50"))
    per = int(os.environ.get("GAITKIOSK_BENCH_SYNC_SESSIONS", "100"))
    rec_s = float(os.environ.get("GAITKIOSK_BENCH_SYNC_RECORDING_S", "2"))
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    cluster = Cluster()
    cluster.start()
    try:
        template = record_mat(work / "template", rec_s) if rec_s > 0 else None
        dirs = [work / f"kiosk-{i:03d}" for i in range(kiosks)]
        t0 = time.perf_counter()
        for d in dirs:
            backlog(d, per, per_commit=per, recording=template)
        fill_s = time.perf_counter() - t0
        rows = {d: kiosk_rows(d / "gaitkiosk.db") for d in dirs}
        streams = {d: kiosk_recordings(d / "gaitkiosk.db") for d in dirs}
        total_rows = sum(len(r) for r in rows.values())
        total_recordings = sum(len(r) for r in streams.values())
        row_bytes = sum(len(b) for r in rows.values() for b in r.values())
        rec_bytes = sum(len(b) for r in streams.values() for b in r.values())
        dsn = cluster.new_database()
        with running_server(dsn, work, extra=("--connections", "10")) as srv:
            for i, d in enumerate(dirs):
                code, _ = admin.enrol_code(dsn, "bench", 1.0)
                enrol(d, srv.url, code, name=f"kiosk-{i}")

            def one(d):
                # a longer timeout than the kiosk's 30 s: 50 kiosks share 2 cores with the server here
                with Worker(d, {"parallel": 1, "batch_rows": 200, "timeout_s": 120.0}) as w:
                    done = w.once()
                    assert done.recordings_waiting == 0, (d, done)
                    return done

            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(kiosks) as pool:
                cycles = list(pool.map(one, dirs))
            sync_s = time.perf_counter() - t0
        # One clinic: a kiosk's pass may pull a patient another kiosk sent first (the changes feed),
        # and applying it writes an audit entry that goes up too: counted, and checked like the rest.
        sent, pulled = sum(c.sent for c in cycles), sum(c.pulled for c in cycles)
        after = 0
        for d in dirs:
            kiosk_id = json.loads((d / "sync.json").read_text())["kiosk_id"]
            after += len(exactly_once(dsn, d / "gaitkiosk.db", kiosk_id))
            recordings_exactly_once(dsn, streams[d], kiosk_id)
        assert sent == after, (sent, after)

        # The naive baseline: one INSERT and one COMMIT per row (and per recording's whole
        # stream), straight into PostgreSQL.
        base = cluster.new_database()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("CREATE TABLE naive_rows (entity text NOT NULL, id uuid NOT NULL, kiosk text NOT NULL, "
                         "seq bigint NOT NULL, body text NOT NULL, body_sha256 bytea NOT NULL, "
                         "received_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (entity, id))")
            conn.execute("CREATE TABLE naive_recordings (id uuid PRIMARY KEY, kiosk text NOT NULL, "
                         "length bigint NOT NULL, sha256 bytea NOT NULL, data bytea NOT NULL, "
                         "received_at timestamptz NOT NULL DEFAULT clock_timestamp())")
            conn.execute("ALTER TABLE naive_recordings ALTER COLUMN data SET STORAGE EXTERNAL")

        def naive(d):
            with psycopg.connect(base) as conn:
                for seq, ((entity, row_id), body) in enumerate(sorted(rows[d].items()), 1):
                    conn.execute("INSERT INTO naive_rows (entity, id, kiosk, seq, body, body_sha256) "
                                 "VALUES (%s, %s, %s, %s, %s, %s)",
                                 [entity, row_id, d.name, seq, body, hashlib.sha256(body.encode()).digest()])
                    conn.commit()
                for rec_id, data in streams[d].items():
                    conn.execute("INSERT INTO naive_recordings (id, kiosk, length, sha256, data) "
                                 "VALUES (%s, %s, %s, %s, %s)",
                                 [rec_id, d.name, len(data), hashlib.sha256(data).digest(), data])
                    conn.commit()

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(kiosks) as pool:
            list(pool.map(naive, dirs))
        naive_s = time.perf_counter() - t0
        with psycopg.connect(base) as conn:
            assert conn.execute("SELECT count(*) FROM naive_rows").fetchone()[0] == total_rows
            assert conn.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM naive_recordings").fetchone() == (
                total_recordings, rec_bytes)
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    sessions = kiosks * per
    mb = (row_bytes + rec_bytes) / 1e6
    numbers = {
        "kiosks": kiosks, "sessions_per_kiosk": per, "rows": total_rows, "rows_sent": sent, "rows_pulled_down": pulled,
        "recordings": total_recordings,
        "recording_s": rec_s, "recording_mb_each": round(rec_bytes / max(1, total_recordings) / 1e6, 4),
        "row_mb": round(row_bytes / 1e6, 2), "recording_mb": round(rec_bytes / 1e6, 1),
        "fill_s": round(fill_s, 2),
        "sync_s": round(sync_s, 2), "sessions_per_s": round(sessions / sync_s, 1),
        "rows_per_s": round(total_rows / sync_s, 1), "mb_per_s": round(mb / sync_s, 2),
        "naive_s": round(naive_s, 2), "naive_sessions_per_s": round(sessions / naive_s, 1),
        "naive_mb_per_s": round(mb / naive_s, 2),
        "sync_vs_naive": round(naive_s / sync_s, 2),
        "exactly_once": True,
    }
    what = f"{total_recordings} recordings of {rec_s:g} s ({rec_bytes / 1e6:.1f} MB)" if total_recordings else "no recordings"
    print(f"{kiosks} kiosks x {per} sessions = {sessions} sessions, {total_rows} rows ({row_bytes / 1e6:.2f} MB), {what}")
    print(f"sync:  {sync_s:7.2f} s  {numbers['sessions_per_s']:8.1f} sessions/s  {numbers['rows_per_s']:8.1f} rows/s"
          f"  {numbers['mb_per_s']:.2f} MB/s ingested")
    print(f"naive: {naive_s:7.2f} s  {numbers['naive_sessions_per_s']:8.1f} sessions/s  {numbers['naive_mb_per_s']:.2f} MB/s"
          " (one INSERT + COMMIT per row and per recording, direct)")
    print(f"sync / naive throughput: {numbers['sync_vs_naive']:.2f}; exactly once (rows and recordings): yes")
    return numbers


if __name__ == "__main__":
    main()
