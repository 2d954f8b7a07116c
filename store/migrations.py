"""The database schema, built only through numbered migrations.

sqlite-utils 4 ships a migration runner (:class:`sqlite_utils.Migrations`):
each migration runs in its own transaction together with the row that
records it in ``_sqlite_migrations``, so a power cut mid-migration leaves
the previous version intact. Migrations are append-only: a released one is
never edited; a change to the schema is a new numbered function at the end.

``PRAGMA user_version`` mirrors the number of applied migrations so that a
technician with the ``sqlite3`` shell sees the version at a glance; the
authority is the list of applied names, which also tells us when the file
comes from a *newer* gaitkiosk (names this code does not know).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

SET_NAME = "gaitkiosk"
APPLICATION_ID = 0x47414954  # "GAIT": marks the file as ours (PRAGMA application_id)
RUNNER_TABLE = "_sqlite_migrations"  # sqlite-utils' record of applied steps

NAMES: list[str] = []  # in order; the schema version is an index into this list
_STEPS: list = []
_runner = None


def _migration(fn):
    NAMES.append(fn.__name__)
    _STEPS.append(fn)
    return fn


def runner():
    """sqlite-utils' migration runner with every step, built on first use.

    Opening an up-to-date database (every command but the first start after an update) reads
    the applied names with plain SQL and never imports sqlite-utils (~0.09 s of start-up).
    """
    global _runner
    if _runner is None:
        from sqlite_utils import Migrations

        _runner = Migrations(SET_NAME)
        for fn in _STEPS:
            _runner(name=fn.__name__)(fn)
    return _runner


def __getattr__(name):
    if name == "migrations":  # the runner under its old module-level name
        return runner()
    raise AttributeError(name)


def _script(db: Database, sql: str) -> None:
    # executescript inside sqlite-utils' atomic() keeps the open transaction.
    db.executescript(sql)


@_migration
def m001_people_and_devices(db: Database) -> None:
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    _script(db, """
    CREATE TABLE patients (
        id TEXT PRIMARY KEY,                -- uuid: leaves the device
        code TEXT NOT NULL UNIQUE,          -- pseudonymous code shown in lists
        name TEXT,                          -- optional, stays on the unit unless policy allows
        birth_year INTEGER CHECK (birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100),
        notes TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('therapist', 'technician')),
        pin_hash TEXT NOT NULL,             -- scrypt$n$r$p$salt$hash, never the PIN
        created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
    );
    CREATE TABLE devices (
        serial TEXT PRIMARY KEY,            -- from the device's hello packet
        kind TEXT NOT NULL,
        firmware_version TEXT NOT NULL DEFAULT '',
        info TEXT NOT NULL DEFAULT '{}',    -- JSON: geometry, rate, USB ids
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    """)


@_migration
def m002_programs(db: Database) -> None:
    _script(db, """
    CREATE TABLE programs (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL REFERENCES patients(id),
        name TEXT NOT NULL,
        created_by TEXT REFERENCES users(id),
        created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        notes TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE prescriptions (
        id TEXT PRIMARY KEY,
        program_id TEXT NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        drill TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',  -- JSON: drill parameters
        repetitions INTEGER NOT NULL DEFAULT 1 CHECK (repetitions >= 1),
        UNIQUE (program_id, position)
    );
    CREATE INDEX programs_by_patient ON programs(patient_id);
    """)


@_migration
def m003_sessions_and_trials(db: Database) -> None:
    _script(db, """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL REFERENCES patients(id),
        user_id TEXT REFERENCES users(id),
        program_id TEXT REFERENCES programs(id),
        started_at TEXT NOT NULL,           -- UTC, ISO 8601 with 'Z': sorts as text
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete', 'incomplete')),
        status_reason TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        synced_at TEXT
    );
    CREATE TABLE trials (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        position INTEGER NOT NULL,
        drill TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',        -- JSON: drill parameters used
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'complete', 'stopped', 'incomplete')),
        status_reason TEXT NOT NULL DEFAULT '',
        results TEXT NOT NULL DEFAULT '{}',       -- JSON: live results shown to the patient
        report TEXT,                              -- JSON: analysis report (DESIGN 4.2)
        metrics_version INTEGER,
        calibration_ids TEXT NOT NULL DEFAULT '{}', -- JSON: device serial -> calibration id in force
        synced_at TEXT,
        UNIQUE (session_id, position)
    );
    """)


@_migration
def m004_recordings(db: Database) -> None:
    _script(db, """
    CREATE TABLE recordings (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        trial_id TEXT REFERENCES trials(id),
        device_serial TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('mat', 'insole_left', 'insole_right')),
        shape TEXT NOT NULL,                -- JSON [rows, cols] or [sensors]
        calibration_id TEXT,                -- counts -> kPa is recomputable from it
        kpa_per_count REAL NOT NULL DEFAULT 0,
        t_origin REAL NOT NULL DEFAULT 0,   -- host clock (s) that export calls t = 0
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'recording'
            CHECK (status IN ('recording', 'complete', 'incomplete', 'failed')),
        status_reason TEXT NOT NULL DEFAULT '',
        frames INTEGER NOT NULL DEFAULT 0,
        chunks INTEGER NOT NULL DEFAULT 0,
        dropped INTEGER NOT NULL DEFAULT 0, -- frames the writer could not take (queue full)
        seq_gaps INTEGER NOT NULL DEFAULT 0, -- frames missing by sequence number
        raw_bytes INTEGER NOT NULL DEFAULT 0,
        stored_bytes INTEGER NOT NULL DEFAULT 0,
        synced_at TEXT,
        pruned_at TEXT                      -- raw chunks removed by retention
    );
    CREATE TABLE recording_chunks (
        id INTEGER PRIMARY KEY,
        recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        n_frames INTEGER NOT NULL,
        t_first REAL NOT NULL,
        t_last REAL NOT NULL,
        data BLOB NOT NULL,                 -- store.codec chunk, self-checking (crc32)
        UNIQUE (recording_id, idx)
    );
    """)


@_migration
def m005_calibrations(db: Database) -> None:
    _script(db, """
    CREATE TABLE calibrations (
        id TEXT PRIMARY KEY,
        device_serial TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT REFERENCES users(id),
        record TEXT NOT NULL,               -- JSON written by calibration/
        active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
        synced_at TEXT
    );
    -- at most one active calibration per device, enforced by the database
    CREATE UNIQUE INDEX calibrations_one_active ON calibrations(device_serial) WHERE active = 1;
    CREATE INDEX calibrations_by_device ON calibrations(device_serial, created_at);
    """)


@_migration
def m006_audit_and_outbox(db: Database) -> None:
    _script(db, """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id TEXT,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,                -- uuid, the upload's idempotency key
        entity TEXT NOT NULL,               -- 'session', 'trial', 'recording', ...
        entity_id TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        last_attempt_at TEXT,
        sent_at TEXT
    );
    CREATE INDEX outbox_pending ON outbox(created_at) WHERE sent_at IS NULL;
    CREATE INDEX audit_by_time ON audit_log(at);
    """)


@_migration
def m007_listing_indices(db: Database) -> None:
    # What the therapist's session list filters on, measured with 20,000
    # sessions in bench/bench_store.py.
    _script(db, """
    CREATE INDEX sessions_by_start ON sessions(started_at);
    CREATE INDEX sessions_by_patient ON sessions(patient_id, started_at);
    CREATE INDEX sessions_open ON sessions(status) WHERE status = 'open';
    CREATE INDEX sessions_unsynced ON sessions(started_at) WHERE synced_at IS NULL;
    CREATE INDEX trials_by_drill ON trials(drill, session_id);
    CREATE INDEX recordings_by_session ON recordings(session_id);
    CREATE INDEX recordings_by_trial ON recordings(trial_id);
    """)


@_migration
def m008_outbox_by_entity(db: Database) -> None:
    # Closing a session queues it and its recordings once; this finds "already queued".
    _script(db, "CREATE INDEX outbox_by_entity ON outbox(entity, entity_id);")


@_migration
def m009_trial_recording_state(db: Database) -> None:
    # Whether a trial's raw frames are all stored: 'complete', 'partial' (frames lost: the
    # writer fell behind or stopped, or the link lost packets), 'none' (nothing stored), or
    # '' for trials finished before this column existed. The drill's own outcome stays in
    # `status`; a trial whose recording is not complete is finished 'incomplete' (store/trials.py).
    _script(db, """
    ALTER TABLE trials ADD COLUMN recording TEXT NOT NULL DEFAULT ''
        CHECK (recording IN ('', 'complete', 'partial', 'none'));
    """)


@_migration
def m010_sync_down(db: Database) -> None:
    # The changes feed (sync/down.py, docs/sync.md "Down"): the cursor per server, written in the
    # same transaction as the rows it covers; and rows from the server the kiosk could not apply
    # yet (a program whose patient has not arrived) or at all (a clash), kept and retried, never lost.
    _script(db, """
    CREATE TABLE sync_down_cursor (
        server TEXT PRIMARY KEY,            -- the server's URL and enrolment: a new one starts from the beginning
        cursor TEXT NOT NULL,               -- '<xid>:<n>' as the server gave it
        updated_at TEXT NOT NULL
    );
    CREATE TABLE sync_down_parked (
        entity TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,                 -- JSON as the server sent it
        reason TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        PRIMARY KEY (entity, id)
    );
    """)


@_migration
def m011_outbox_rows(db: Database) -> None:
    # Issue 12: every row entity of docs/sync.md goes through the outbox.
    # 1. Audit entries need a UUID to leave the device (their integer id is only local).
    # 2. The outbox gets `seq INTEGER PRIMARY KEY AUTOINCREMENT`: the upload's order (docs/sync.md
    #    "Time"). An implicit rowid may be renumbered by VACUUM and reused after a delete; this
    #    one is neither. Old items keep their order (created_at, then rowid). `refused_at` marks
    #    an item the server refused (a 4xx): kept for the technician, not resent as such.
    # 3. Rows already in the database are queued, in the order they were written; queued sessions
    #    not yet sent get their full row as payload (they carried only their id).
    import uuid

    from store import upstream

    db.execute("ALTER TABLE audit_log ADD COLUMN uuid TEXT")
    for (audit_id,) in db.execute("SELECT id FROM audit_log ORDER BY id").fetchall():
        db.execute("UPDATE audit_log SET uuid = ? WHERE id = ?", [str(uuid.uuid4()), audit_id])
    _script(db, """
    CREATE UNIQUE INDEX audit_by_uuid ON audit_log(uuid);
    CREATE TABLE outbox_new (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the kiosk's own order of uploads (never reused)
        id TEXT NOT NULL UNIQUE,            -- uuid of the item
        entity TEXT NOT NULL,               -- 'patient', 'session', 'trial', 'recording', ...
        entity_id TEXT NOT NULL,            -- the row's UUID: the upload's idempotency key
        payload TEXT NOT NULL DEFAULT '{}', -- JSON: the row as the server keeps it
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        last_attempt_at TEXT,
        sent_at TEXT,
        refused_at TEXT                     -- the server refused it (4xx): see last_error
    );
    INSERT INTO outbox_new (id, entity, entity_id, payload, created_at, attempts, last_error, last_attempt_at, sent_at)
        SELECT id, entity, entity_id, payload, created_at, attempts, last_error, last_attempt_at, sent_at
        FROM outbox ORDER BY created_at, rowid;
    DROP TABLE outbox;
    ALTER TABLE outbox_new RENAME TO outbox;
    CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL;
    CREATE INDEX outbox_by_entity ON outbox(entity, entity_id);
    """)
    for (session_id,) in db.execute(
            "SELECT entity_id FROM outbox WHERE entity = 'session' AND sent_at IS NULL").fetchall():
        upstream.refresh_pending(db, "session", session_id)
    backlog = [("patient", "SELECT id FROM patients ORDER BY created_at, id"),
               ("program", "SELECT id FROM programs ORDER BY created_at, id"),
               ("calibration", "SELECT id FROM calibrations ORDER BY created_at, id"),
               ("audit", "SELECT uuid FROM audit_log ORDER BY id")]
    for entity, sql in backlog:
        for (entity_id,) in db.execute(sql).fetchall():
            upstream.queue(db, entity, entity_id)
    for (session_id,) in db.execute("SELECT id FROM sessions WHERE status != 'open' ORDER BY started_at, id").fetchall():
        upstream.queue_session(db, session_id)


def applied_names(db) -> list[str]:
    """Names of the migrations recorded in the file, in the order applied (the runner's own query)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [RUNNER_TABLE]).fetchone():
        return []
    return [r[0] for r in db.execute(f"SELECT name FROM {RUNNER_TABLE} WHERE migration_set = ? ORDER BY rowid",
                                     [SET_NAME])]


def unknown_names(db) -> list[str]:
    """Applied migrations this code does not know: the file is from a newer gaitkiosk."""
    known = set(NAMES)
    return [name for name in applied_names(db) if name not in known]


def apply(db, *, stop_before: str | None = None) -> list[str]:
    """Apply pending migrations (all, or up to ``stop_before``); return their names."""
    before = set(applied_names(db))
    if stop_before is not None or not before.issuperset(NAMES):
        from sqlite_utils import Database

        runner_db = db if isinstance(db, Database) else Database(db.conn, execute_plugins=False)
        runner().apply(runner_db, stop_before=stop_before)
    after = applied_names(db)
    if db.execute("PRAGMA user_version").fetchone()[0] != len(after):
        db.execute(f"PRAGMA user_version = {len(after)}")  # only when it changes: opening must not write
    return [name for name in after if name not in before]


def schema_version(db) -> int:
    """How many of this code's migrations the database has."""
    return len([n for n in applied_names(db) if n in set(NAMES)])
