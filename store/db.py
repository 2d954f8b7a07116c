"""Open the kiosk database: refuse what is not ours, then migrate.

Order matters for "never an overwrite": the file is identified with reads
only (``application_id``, table names, applied migrations) *before* any
pragma or migration writes to it. A corrupt file, another program's database
or one from a newer gaitkiosk is refused with a message that names the file
and what to do, and is left byte-for-byte unchanged.

**Nothing here opens the database file except SQLite.** POSIX record locks
belong to a process and an inode: closing *any* descriptor of the file drops
all of the process's locks on it, including those its SQLite connections
hold. A second process (``gaitkiosk sessions list`` beside a recording kiosk)
then believes it is alone, checkpoints and deletes the WAL under the kiosk,
and every later write of the kiosk fails. So the file is identified through
SQLite itself (SQLITE_NOTADB is the header check), and what is wrong with a
path that SQLite cannot open (read-only file system, permissions, a missing
directory) is worked out with ``stat``/``access``, which open nothing.

Every connection runs in WAL mode with ``synchronous=FULL``: a commit has
reached the SD card when ``commit()`` returns, which is what a clinical
record needs (a chunk commit is once per second per device, so the fsync
cost is small; see docs/performance.md).

Files hold patient data: the data directory is created 0700 and the database
(with its -wal and -shm, which SQLite creates with the main file's mode) 0600.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from pathlib import Path

from store import migrations
from store.errors import (
    CorruptDatabaseError,
    DatabaseMissingError,
    DiskFullError,
    ForeignDatabaseError,
    NewerSchemaError,
    ReadOnlyStoreError,
    StoreError,
    StorePermissionError,
)

DB_FILENAME = "gaitkiosk.db"
BUSY_TIMEOUT_MS = 10_000
FILE_MODE = 0o600  # the database, its -wal/-shm, backups: patient data
DIR_MODE = 0o700  # a data directory the kiosk creates

RESTORE_HINT = "restore a backup with `gaitkiosk db restore FILE` (docs/store.md)"
# Tables that the kiosk checks at start-up (PRAGMA quick_check per table): everything but
# the raw-frame chunks, which are most of the file and carry their own checksums
# (`gaitkiosk db check --deep`); a damaged chunk loses one second of one recording, a
# damaged session or patient row loses the visit.
BULK_TABLES = ("recording_chunks",)
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
# Statements that manage the transaction themselves: Connection.execute never commits after them.
_TRANSACTION_WORDS = {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def __getattr__(name):
    # sqlite-utils' Database (the migration runner's type; backups and tests wrap a connection in
    # it) only when asked for: importing sqlite-utils costs ~0.09 s, more than `sessions list`.
    if name == "Database":
        from sqlite_utils import Database

        return Database
    raise AttributeError(name)


class Connection:
    """The kiosk's database connection: what the repositories use of sqlite-utils' ``Database``.

    Same contract as sqlite-utils 4 (``execute``, ``executescript``, ``atomic``, ``commit``,
    ``rollback``, ``close``, ``table_names``, ``conn``), without importing it: a write outside a
    transaction commits at once, a failed statement leaves no transaction open, ``atomic()`` is
    BEGIN/COMMIT and a savepoint when nested. Only the migration runner needs sqlite-utils
    (``store.migrations.apply``, when a step is pending).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        conn.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils sets it on every connection

    def execute(self, sql: str, parameters=None) -> sqlite3.Cursor:
        was_open = self.conn.in_transaction
        try:
            cursor = self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)
        except Exception:
            if not was_open and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")  # the failed write's implicit transaction would catch later ones
            raise
        if (not was_open and self.conn.in_transaction and cursor.description is None
                and _first_word(sql) not in _TRANSACTION_WORDS):
            self.conn.execute("COMMIT")  # sqlite3 opened a transaction for this one write: it is done
        return cursor

    def executescript(self, sql: str) -> sqlite3.Cursor:
        if not self.conn.in_transaction:
            return self.conn.executescript(sql)
        # sqlite3's executescript() would COMMIT the open transaction first: one statement at a time.
        cursor = self.conn.cursor()
        for statement in _statements(sql):
            cursor.execute(statement)
        return cursor

    @contextlib.contextmanager
    def atomic(self):
        if self.conn.in_transaction:
            name = f"gk_{uuid.uuid4().hex}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # a RAISE(ROLLBACK) may already have ended it all
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_word(sql: str) -> str:
    """The statement's first keyword, upper case, after blanks, ';' and SQL comments."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace() or sql[i] in ";\ufeff":
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            if end < 0:
                return ""
            i = end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                return ""
            i = end + 2
        else:
            break
    j = i
    while j < n and (sql[j].isalpha() or sql[j] == "_"):
        j += 1
    return sql[i:j].upper()


def _statements(sql: str):
    """The complete statements of a script, in order (``sqlite3.complete_statement`` decides)."""
    start = 0
    for end in range(len(sql)):
        if sql[end] == ";" and sqlite3.complete_statement(sql[start:end + 1]):
            if sql[start:end + 1].strip():
                yield sql[start:end + 1].strip()
            start = end + 1
    if sql[start:].strip():
        yield sql[start:].strip()


def database_path(data_dir: str | Path) -> Path:
    """Where the database lives inside a data directory."""
    return Path(data_dir) / DB_FILENAME


def lock_dir(db_path: str | Path) -> Path:
    """Directory of per-session lock files beside the database."""
    p = Path(db_path)
    return p.with_name(p.name + ".locks")


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) for patient data: new directories are 0700."""
    if path.is_dir():
        return
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        path.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask
    except OSError as exc:
        raise access_error(path, exc) from None


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 if there is none, before SQLite first opens it.

    Safe with respect to the POSIX-lock rule: the file did not exist a moment
    ago, so no connection of this process can hold a lock on it (``O_EXCL``
    refuses if another thread created it meanwhile).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise access_error(path, exc) from None
    os.close(fd)


def tighten_modes(path: Path) -> None:
    """Make an existing database (from an older version, created 0644) and its WAL 0600.

    ``chmod`` opens nothing, so this is safe beside live connections.
    """
    for suffix in ("", "-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        try:
            if p.exists() and p.stat().st_mode & 0o077 and p.stat().st_uid == os.geteuid():
                p.chmod(FILE_MODE)
        except OSError:
            pass  # a read-only disk: reported when the database is opened for writing


def read_only_fs(path: Path) -> bool:
    """True when the file system holding ``path`` (or its nearest existing parent) is read-only."""
    try:
        return bool(os.statvfs(_nearest_existing(Path(path))).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _nearest_existing(path: Path) -> Path:
    while not exists(path) and path != path.parent:
        path = path.parent
    return path


def exists(path: Path) -> bool:
    """``path.exists()`` that says plainly when a folder on the way may not be entered."""
    try:
        os.stat(path)
        return True
    except FileNotFoundError:
        return False
    except PermissionError:
        blocked = next((p for p in reversed(Path(path).parents) if not os.access(p, os.X_OK)), Path(path).parent)
        raise StorePermissionError(
            f"no permission to enter {blocked} (owner uid {os.stat(blocked).st_uid}, mode "
            f"{os.stat(blocked).st_mode & 0o777:04o}; this process runs as uid {os.geteuid()}), so {path} "
            "cannot be reached; nothing was changed and the database is not damaged. Run the command as the "
            "kiosk's user (`sudo -u gaitkiosk gaitkiosk ...`)") from None


def missing_directory_error(path: Path) -> DatabaseMissingError:
    return DatabaseMissingError(f"no database at {path}: the directory {path.parent} does not exist; "
                                "pass the right --data-dir (or start the kiosk once to create it)")


def access_problem(path: Path, exc: BaseException | None = None) -> StoreError | None:
    """What keeps ``path`` (a file or directory to write) from being written, or None.

    Read-only disk, permissions: never "damaged". A technician told to restore
    a backup over a healthy database would lose everything recorded since that
    backup. Only ``stat``/``statvfs``/``access``: nothing is opened.
    """
    path = Path(path)
    detail = f" ({exc})" if exc else ""
    if read_only_fs(path):
        return ReadOnlyStoreError(
            f"{path} is on a read-only file system{detail}; nothing was changed and the database is not "
            "damaged. The SD card may have been remounted read-only after errors (see `dmesg`): take a "
            "copy with `gaitkiosk db backup --out FILE` (it reads without writing) before replacing the card")
    existing = _nearest_existing(path)
    for t in ([existing] if existing != path else [path, path.parent]):
        if not t.exists():
            continue
        need = os.W_OK | (os.X_OK if t.is_dir() else 0)
        if not os.access(t, need):
            st = t.stat()
            return StorePermissionError(
                f"no permission to write {t}{detail} (owner uid {st.st_uid}, mode {st.st_mode & 0o777:04o}; "
                f"this process runs as uid {os.geteuid()}); nothing was changed and the database is not "
                "damaged. Run the command as the kiosk's user (`sudo -u gaitkiosk gaitkiosk ...`)")
    return None


def access_error(path: Path, exc: BaseException | None = None) -> StoreError:
    """The error for a path SQLite or the OS could not write (see :func:`access_problem`)."""
    return access_problem(path, exc) or StoreError(f"cannot use {Path(path)}{f' ({exc})' if exc else ''}; "
                                                   "nothing was changed")


def check_writable(path: Path) -> None:
    """Raise the plain reason when the database at ``path`` (or its folder) cannot be written."""
    problem = access_problem(path)
    if problem is not None:
        raise problem


def damaged(exc: BaseException) -> bool:
    """True when SQLite says the file's content is damaged (not an access problem)."""
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES


def explain(exc: sqlite3.Error, path: Path) -> StoreError:
    """Turn an SQLite error about ``path`` into the store error a technician can act on."""
    if full_error(exc):
        return DiskFullError(f"{path}: the disk is full ({exc}); the database is intact. "
                             "Free space on the data partition (sync, then `gaitkiosk db prune`)")
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_NOTADB:
        return CorruptDatabaseError(
            f"{path} is not an SQLite database (SQLite: {exc}); it was left unchanged. If this is the kiosk "
            f"database it is damaged: {RESTORE_HINT}; otherwise point --data-dir at the kiosk's data directory")
    if code == sqlite3.SQLITE_CORRUPT:
        return CorruptDatabaseError(f"{path} is damaged ({exc}); {RESTORE_HINT}")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR,
                sqlite3.SQLITE_AUTH) or code is None:
        return access_error(path, exc)
    return StoreError(f"{path}: {exc}")


def _identify(conn: sqlite3.Connection, path: Path) -> str:
    """'empty' or 'ours' (read-only); raise for anything else.

    The first read is also the header check: SQLite answers SQLITE_NOTADB for a
    file that does not start with its header, without writing to it.
    """
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        if damaged(exc):
            if exc.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
                raise explain(exc, path) from None
            raise CorruptDatabaseError(
                f"{path} cannot be read as a database ({exc}); it was left unchanged. {RESTORE_HINT}") from None
        raise explain(exc, path) from None
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


def _check_not_newer(db, path: Path) -> None:
    try:
        unknown = migrations.unknown_names(db)
    except sqlite3.DatabaseError as exc:
        if not damaged(exc):
            raise explain(exc, path) from None
        raise CorruptDatabaseError(f"{path}: cannot read its schema version ({exc}); {RESTORE_HINT}") from None
    if unknown:
        raise NewerSchemaError(
            f"{path} was written by a newer gaitkiosk (schema steps unknown to this version: "
            f"{', '.join(unknown)}); it was left unchanged. Update this kiosk's software, "
            "or restore a backup made with this version"
        )


def structure_problems(conn: sqlite3.Connection, *, skip: tuple[str, ...] = BULK_TABLES) -> list[str]:
    """``PRAGMA quick_check`` of every table but ``skip`` (read-only); [] when healthy.

    quick_check verifies each b-tree page and record of the named table; per
    table (SQLite >= 3.33) so the bulk of raw frames can be left to `db check`.
    """
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    found: list[str] = []
    for name in tables:
        if name in skip:
            continue
        rows = [r[0] for r in conn.execute(f'PRAGMA quick_check("{name}")')]
        if rows != ["ok"]:
            found += rows
    return found


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
            max_bytes: int | None = None, check: bool = False, read_only: bool = False) -> Connection:
    """Open (and by default create and migrate) the database at ``path``.

    ``migrate=False`` is for second connections (the recording writer,
    backups) that must not change the schema: they still refuse a newer or
    an unmigrated file. ``max_bytes`` caps the file's size on this
    connection (``PRAGMA max_page_count``): a write past it fails with
    SQLITE_FULL exactly as a full disk would, before the disk itself fills.
    ``check=True`` (the kiosk at start-up) refuses a file whose tables fail
    ``quick_check`` before anything is written to it. ``read_only=True`` (backups)
    never writes and also works on a read-only file system (see :func:`_read_only_uri`).
    """
    path = Path(path)
    if read_only:
        return _connect_read_only(path)
    if not exists(path):
        if not create:
            if not path.parent.is_dir():
                raise missing_directory_error(path)
            raise DatabaseMissingError(f"no database at {path}; start the kiosk once or pass the right --data-dir")
        make_private_dir(path.parent)
        create_private_file(path)
    else:
        # Opening writes at once (pragmas, migrations): say why it cannot before SQLite reports
        # an I/O error that reads like damage.
        check_writable(path)
        tighten_modes(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    try:
        kind = _identify(conn, path)
        db = Connection(conn)
        if kind == "ours":
            _check_not_newer(db, path)
            if check:
                problems = structure_problems(conn)
                if problems:
                    first = " ".join(problems[-1].split())  # the first line is only '*** in database main ***'
                    raise CorruptDatabaseError(
                        f"{path} is damaged (quick_check: {first}); it was left unchanged. {RESTORE_HINT}")
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
        raise explain(exc, path) from None
    except BaseException:
        conn.close()
        raise


def _read_only_uri(path: Path) -> str:
    """How to open ``path`` without writing anything.

    On a writable disk: ``mode=ro``, a WAL reader beside a live kiosk. On a
    read-only disk SQLite cannot create the -shm it needs for WAL: if a -shm
    is there (the kiosk stopped without a clean close) it reads through it,
    WAL included; with no -wal at all (a clean close folded it into the file)
    ``immutable=1`` reads the file as it stands. A -wal without -shm on a
    read-only disk cannot be read here: refused by the caller.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path))}?mode=ro"
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if read_only_fs(path) and not shm.exists():
        if wal.exists() and wal.stat().st_size > 0:
            raise ReadOnlyStoreError(
                f"{path} is on a read-only file system and its write-ahead log cannot be read there "
                "(no -shm file); copy the whole data directory to a writable disk and open it there")
        uri += "&immutable=1"
    return uri


def _connect_read_only(path: Path) -> Connection:
    if not exists(path):
        raise missing_directory_error(path) if not path.parent.is_dir() else DatabaseMissingError(
            f"no database at {path}; pass the right --data-dir")
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if _identify(conn, path) != "ours":
            raise DatabaseMissingError(f"{path} has no gaitkiosk schema yet")
        db = Connection(conn)
        _check_not_newer(db, path)
        return db
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise explain(exc, path) from None
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
