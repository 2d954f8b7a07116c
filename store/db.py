"""Open the kiosk database: refuse what is not ours, then migrate.

Order matters for "never an overwrite": the file is identified with reads
only (header bytes, ``application_id``, table names, applied migrations)
*before* any pragma or migration writes to it. A corrupt file, another
program's database or one from a newer gaitkiosk is refused with a message
that names the file and what to do, and is left byte-for-byte unchanged.

Every connection runs in WAL mode with ``synchronous=FULL``: a commit has
reached the SD card when ``commit()`` returns, which is what a clinical
record needs (a chunk commit is once per second per device, so the fsync
cost is small; see docs/performance.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from store import migrations
from store.errors import (
    CorruptDatabaseError,
    DatabaseMissingError,
    DiskFullError,
    ForeignDatabaseError,
    NewerSchemaError,
    StoreError,
)

DB_FILENAME = "gaitkiosk.db"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000

RESTORE_HINT = "restore a backup with `gaitkiosk db restore FILE` (docs/store.md)"


def database_path(data_dir: str | Path) -> Path:
    """Where the database lives inside a data directory."""
    return Path(data_dir) / DB_FILENAME


def lock_dir(db_path: str | Path) -> Path:
    """Directory of per-session lock files beside the database."""
    p = Path(db_path)
    return p.with_name(p.name + ".locks")


def check_header(path: Path) -> None:
    """Refuse a non-empty file that does not start with the SQLite header."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return  # an empty file holds nothing to lose; SQLite treats it as a new database
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise CorruptDatabaseError(
            f"{path} is not an SQLite database (its first bytes are {head[:16]!r}); "
            f"it was left unchanged. If this is the kiosk database it is damaged: {RESTORE_HINT}; "
            "otherwise point --data-dir at the kiosk's data directory"
        )


def _identify(conn: sqlite3.Connection, path: Path) -> str:
    """'empty' or 'ours' (read-only); raise for anything else."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(
            f"{path} cannot be read as a database ({exc}); it was left unchanged. {RESTORE_HINT}"
        ) from None
    if app_id == migrations.APPLICATION_ID:
        return "ours"
    if app_id == 0 and set(tables) <= {"_sqlite_migrations"}:
        # Nothing, or only the runner's bookkeeping table from a first start
        # that was cut before the first migration committed.
        return "empty"
    shown = ", ".join(sorted(tables)[:6]) or "no tables"
    raise ForeignDatabaseError(
        f"{path} is an SQLite database of another program (application id {app_id:#x}, "
        f"tables: {shown}); it was left unchanged. Point --data-dir at the kiosk's data "
        "directory, or move this file elsewhere so the kiosk can create its own"
    )


def _check_not_newer(db: Database, path: Path) -> None:
    try:
        unknown = migrations.unknown_names(db)
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(f"{path}: cannot read its schema version ({exc}); {RESTORE_HINT}") from None
    if unknown:
        raise NewerSchemaError(
            f"{path} was written by a newer gaitkiosk (schema steps unknown to this version: "
            f"{', '.join(unknown)}); it was left unchanged. Update this kiosk's software, "
            "or restore a backup made with this version"
        )


def _set_pragmas(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(
            f"{path}: cannot switch to write-ahead logging (journal mode stays {mode!r}); "
            "keep the data directory on a local file system (not a network share)"
        )
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: str | Path, *, create: bool = True, migrate: bool = True,
            max_bytes: int | None = None) -> Database:
    """Open (and by default create and migrate) the database at ``path``.

    ``migrate=False`` is for second connections (the recording writer,
    backups) that must not change the schema: they still refuse a newer or
    an unmigrated file. ``max_bytes`` caps the file's size on this
    connection (``PRAGMA max_page_count``): a write past it fails with
    SQLITE_FULL exactly as a full disk would, before the disk itself fills.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise DatabaseMissingError(f"no database at {path}; start the kiosk once or pass the right --data-dir")
        path.parent.mkdir(parents=True, exist_ok=True)
    check_header(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    try:
        kind = _identify(conn, path)
        db = Database(conn, execute_plugins=False)
        if kind == "ours":
            _check_not_newer(db, path)
        elif not migrate:
            raise DatabaseMissingError(f"{path} has no gaitkiosk schema yet; open it with migrations first")
        _set_pragmas(conn, path)
        if max_bytes:
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {max(1, int(max_bytes) // page)}")
        if migrate:
            migrations.apply(db)
        elif migrations.schema_version(db) < len(migrations.NAMES):
            raise StoreError(f"{path} is at an older schema version; the kiosk migrates it at start-up")
        return db
    except sqlite3.DatabaseError as exc:
        conn.close()
        if full_error(exc):
            raise DiskFullError(f"cannot open {path}: the disk is full ({exc}); the database is intact. "
                                "Free space on the data partition and start again") from None
        raise CorruptDatabaseError(f"{path} is damaged ({exc}); {RESTORE_HINT}") from None
    except BaseException:
        conn.close()
        raise


def full_error(exc: BaseException) -> bool:
    """True when an SQLite or OS error means the disk (or the size limit) is full."""
    if isinstance(exc, OSError) and getattr(exc, "errno", None) == 28:  # ENOSPC
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "full" in str(exc).lower()
    return False
