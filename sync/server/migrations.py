"""The server's schema: numbered SQL files in ``migrations/``, applied in order, each once.

``NNNN_name.sql`` files are append-only: a change to the schema is a new file, never an edit.
The applied ones are listed in the server's own table ``server_migrations`` (the kiosk's SQLite
schema has nothing to do with it). Several servers starting at once against one database take
an advisory lock, so each file runs exactly once, in its own transaction with its record.
"""

from __future__ import annotations

import re
from importlib import resources

from sync.errors import ServerError

_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_LOCK = 0x6761_6974  # "gait": the advisory lock that serialises migrating servers


def available() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration shipped, in order; numbers run 1, 2, 3 ... without gaps."""
    found = []
    for entry in resources.files("sync.server").joinpath("migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [n for n, _, _ in found] != list(range(1, len(found) + 1)):
        raise ServerError(f"server migrations are not numbered 1..N: {[name for _, name, _ in found]}")
    return found


def migrate(conn) -> list[str]:
    """Apply what is missing (``conn``: a psycopg connection, autocommit off); the names applied."""
    shipped = available()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        conn.execute("CREATE TABLE IF NOT EXISTS server_migrations ("
                     " number integer PRIMARY KEY, name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        done = {row[0] for row in conn.execute("SELECT number FROM server_migrations")}
        if done and max(done) > len(shipped):
            raise ServerError(f"the database has server migration {max(done)} but this gaitkiosk knows only "
                              f"{len(shipped)}: update the server's software")
        applied = []
        for number, name, sql in shipped:
            if number in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO server_migrations (number, name) VALUES (%s, %s)", [number, name])
            applied.append(name)
    return applied
