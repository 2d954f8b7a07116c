"""Online backup and restore of the kiosk database.

Backup uses SQLite's online backup API in one step: in WAL mode that is a
single read transaction, so the recording writer keeps committing while the
copy runs (a stepwise backup would restart on every commit of a recording
kiosk and never finish). The copy is written beside the target as
``.partial``, checked with ``PRAGMA integrity_check``, switched to a
self-contained rollback journal, fsynced and only then renamed into place.

The source is read through a read-only SQLite connection, so a backup also
works from an SD card the kernel has remounted read-only (the moment a
technician most needs one). The copy is created 0600 before SQLite opens it.
Nothing here opens the live database file outside SQLite (docs/store.md,
"Rules for code that opens the database").

Restore never overwrites: the current database (with its -wal) is moved
aside as ``gaitkiosk.db.before-restore-<time>`` and stays there until a
technician deletes it. It refuses while a kiosk process runs.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from store import db as dbmod
from store import migrations
from store.errors import CorruptDatabaseError, RecordingBusyError, StoreError
from store.locks import is_held


@dataclass
class BackupInfo:
    path: str
    bytes: int
    schema_version: int
    sessions: int


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _integrity(conn: sqlite3.Connection) -> list[str]:
    found = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    return [] if found == ["ok"] else found


def backup(db_path: str | Path, out: str | Path) -> BackupInfo:
    """Copy the live database to ``out`` (which must not exist)."""
    db_path, out = Path(db_path), Path(out)
    if out.exists():
        raise StoreError(f"{out} already exists; choose a new file name (backups are never overwritten)")
    if out.resolve() == db_path.resolve():
        raise StoreError("the backup file must not be the database itself")
    if not out.parent.is_dir():
        # A USB stick that is not mounted leaves an empty mount point or no folder at all:
        # never create it, or the copy lands on the SD card it was meant to protect.
        raise StoreError(f"the folder {out.parent} does not exist (is the USB stick mounted?); "
                         "create it first or choose another --out")
    source = dbmod.connect(db_path, create=False, migrate=False, read_only=True)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        dbmod.create_private_file(partial)  # 0600 before SQLite opens it: the copy holds patient data
        dest = sqlite3.connect(str(partial))
        try:
            source.conn.backup(dest, pages=-1)
            problems = _integrity(dest)
            if problems:
                raise CorruptDatabaseError(f"the copy of {db_path} fails its integrity check ({problems[0]}); "
                                           "run `gaitkiosk db check` on the kiosk")
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file on the stick
            version = migrations.schema_version(dbmod.Database(dest, execute_plugins=False))
            sessions = dest.execute("SELECT count(*) FROM sessions").fetchone()[0]
        finally:
            dest.close()
        _fsync(partial)
        partial.rename(out)
        _fsync(out.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return BackupInfo(str(out), out.stat().st_size, version, sessions)


def verify_backup(path: str | Path) -> BackupInfo:
    """Refuse a file that is not a healthy gaitkiosk database this version can open."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"backup file {path} does not exist")
    if Path(f"{path}-wal").exists():
        raise StoreError(f"{path} has a write-ahead log beside it: it is a live database, not a backup. "
                         "Make a backup of it with `gaitkiosk db backup` and restore that")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if dbmod._identify(conn, path) != "ours":
            raise StoreError(f"{path} is an empty database, not a gaitkiosk backup; choose another backup")
        database = dbmod.Database(conn, execute_plugins=False)
        dbmod._check_not_newer(database, path)
        problems = _integrity(conn)
        if problems:
            raise CorruptDatabaseError(f"backup {path} is damaged ({problems[0]}); choose another backup")
        version = migrations.schema_version(database)
        sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0] if version >= 3 else 0
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(f"backup {path} cannot be read ({exc}); choose another backup") from None
    finally:
        conn.close()
    return BackupInfo(str(path), path.stat().st_size, version, sessions)


@dataclass
class RestoreInfo:
    restored_from: str
    moved_aside: list[str]
    schema_version: int
    sessions: int


def restore(db_path: str | Path, backup_file: str | Path, *, now: dt.datetime | None = None) -> RestoreInfo:
    """Replace the database with a verified backup, keeping the current one aside."""
    db_path, backup_file = Path(db_path), Path(backup_file)
    verify_backup(backup_file)
    locks = dbmod.lock_dir(db_path)
    if locks.is_dir():
        busy = [p.stem for p in locks.glob("*.lock") if is_held(locks, p.stem)]
        if busy:
            raise RecordingBusyError(
                f"the kiosk is running on {db_path} ({len(busy)} lock(s) held); stop it "
                "(`sudo systemctl stop gaitkiosk`) and run the restore again")
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    if db_path.exists():
        try:  # fold the WAL into the main file so the set-aside copy is one file
            conn = sqlite3.connect(str(db_path))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
        except sqlite3.DatabaseError:
            pass  # a damaged database is moved aside as it is, -wal included
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(db_path) + suffix)
            if src.exists():
                dst = Path(f"{db_path}.before-restore-{stamp}{suffix}")
                src.rename(dst)
                moved.append(str(dst))
    dbmod.make_private_dir(db_path.parent)
    partial = db_path.with_name(db_path.name + ".restoring")
    partial.unlink(missing_ok=True)
    dbmod.create_private_file(partial)
    shutil.copyfile(backup_file, partial)  # no process holds a connection to either file here
    _fsync(partial)
    partial.rename(db_path)
    _fsync(db_path.parent)
    # Opening migrates an older backup up to this version.
    opened = dbmod.connect(db_path, create=False)
    try:
        version = migrations.schema_version(opened)
        sessions = opened.execute("SELECT count(*) FROM sessions").fetchone()[0]
        from store.audit import Audit

        Audit(opened).log("db.restore", subject=str(backup_file), details={"moved_aside": moved})
    finally:
        opened.close()
    return RestoreInfo(str(backup_file), moved, version, sessions)
