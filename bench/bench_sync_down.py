"""The changes feed down to a kiosk: rows/s applied, and how long one page holds the kiosk's write lock.

A real PostgreSQL (tests/pg_support.py: needs `apt-get install postgresql`), the real server
process, a real kiosk database. N patients with a program each are put on the server, then one
kiosk pulls them from the start with pages of 200 rows (one SQLite transaction each), then again
from the start (every row already there: nothing written). Baseline in the same run: pages of one
row (one request and one transaction per row), the naive feed.

    .venv/bin/python bench/run.py sync_down
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

N = 2000  # patients, each with a program: 2N rows
BASELINE_ROWS = 300


def main() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import httpx
    import psycopg
    from pg_support import Cluster
    from sync_support import running_server

    from store import open_store
    from sync import down

    held: list[float] = []
    apply_page = down._apply_page

    def timed(*args):  # how long each page's transaction holds the kiosk's write lock
        t0 = time.perf_counter()
        try:
            return apply_page(*args)
        finally:
            held.append(time.perf_counter() - t0)

    down._apply_page = timed
    cluster = Cluster()
    cluster.start()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-down-"))
    try:
        with running_server(cluster.new_database(), work) as srv:
            kiosk = srv.enrol("bench")
            with psycopg.connect(srv.dsn) as conn:
                for i in range(N):
                    pid, gid = str(uuid.uuid4()), str(uuid.uuid4())
                    conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('patient', %s, 'bench', %s)",
                                 [pid, json.dumps({"code": f"B-{i:05d}", "created_at": "2026-12-01T08:00:00Z"})])
                    conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('program', %s, 'bench', %s)",
                                 [gid, json.dumps({"patient_id": pid, "name": "balance", "created_at": "2026-12-01T08:00:00Z",
                                                   "prescriptions": [{"drill": "quiet_standing"}, {"drill": "tandem_walk"}]})])
            http = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=60)

            def pull(folder: str, limit: int, stop_after: int | None = None) -> tuple[int, float, float]:
                db = work / folder / "gaitkiosk.db"
                if not db.exists():
                    open_store(db.parent).close()
                held.clear()
                t0 = time.perf_counter()
                applied = down.pull_changes(http, db, limit=limit) if stop_after is None else _pull_some(
                    down, http, db, limit, stop_after)
                return applied, time.perf_counter() - t0, max(held)

            applied, seconds, worst = pull("paged", 200)
            with open_store(work / "paged") as st:
                st.db.execute("UPDATE sync_down_cursor SET cursor = '0:0'")
            _, reread_s, reread_worst = pull("paged", 200)
            base_applied, base_s, base_worst = pull("naive", 1, stop_after=BASELINE_ROWS)
            http.close()
    finally:
        down._apply_page = apply_page
        cluster.stop()
    rate, base_rate = applied / seconds, base_applied / base_s
    numbers = {"rows": applied, "rows_per_s": round(rate), "seconds": round(seconds, 2),
               "longest_page_transaction_ms": round(worst * 1000, 1),
               "reread_seconds": round(reread_s, 2), "reread_longest_page_ms": round(reread_worst * 1000, 1),
               "baseline_rows": base_applied, "baseline_rows_per_s": round(base_rate),
               "baseline_longest_transaction_ms": round(base_worst * 1000, 1),
               "speedup_vs_one_row_pages": round(rate / base_rate, 1)}
    for key, value in numbers.items():
        print(f"{key:34s} {value}")
    return numbers


def _pull_some(down, http, db, limit: int, rows: int) -> int:
    """The naive feed for ``rows`` rows: one page (request and transaction) per row."""
    return sum(_one_page(down, http, db, limit) for _ in range(rows))


def _one_page(down, http, db, limit: int) -> int:
    with down._open(db) as conn:
        cursor = down._cursor(conn, str(http.base_url).rstrip("/"))
        page = down._fetch(http, cursor, limit)
        return down._apply_page(conn, str(http.base_url).rstrip("/"), cursor, page) or 0


if __name__ == "__main__":
    main()
