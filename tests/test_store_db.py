"""Opening the database: migrations from every version, refusals that never overwrite."""

import hashlib
import sqlite3

import pytest

from store import db as dbmod
from store import migrations, open_store
from store.errors import (
    CorruptDatabaseError,
    DatabaseMissingError,
    ForeignDatabaseError,
    NewerSchemaError,
    StoreError,
)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_empty_database_gets_every_migration_and_our_marks(tmp_path):
    path = tmp_path / "k.db"
    db = dbmod.connect(path)
    assert migrations.applied_names(db) == migrations.NAMES
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(migrations.NAMES)
    assert db.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    tables = set(db.table_names())
    assert {"patients", "users", "programs", "prescriptions", "sessions", "trials", "recordings",
            "recording_chunks", "calibrations", "devices", "audit_log", "outbox"} <= tables
    db.close()
    again = dbmod.connect(path)  # idempotent
    assert migrations.applied_names(again) == migrations.NAMES


# Representative rows that each schema version can hold, written before the
# later migrations run: the upgrade must keep them.
SEED = {
    "m001_people_and_devices": [
        "INSERT INTO patients (id, code, created_at) VALUES ('p1', 'P-001', '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO users (id, name, role, pin_hash, created_at) VALUES ('u1', 'ann', 'therapist', 'x', 'now')",
        "INSERT INTO devices (serial, kind, first_seen, last_seen) VALUES ('MAT1', 'mat', 'a', 'b')",
    ],
    "m002_programs": [
        "INSERT INTO programs (id, patient_id, name, created_at) VALUES ('g1', 'p1', 'balance', 'now')",
        "INSERT INTO prescriptions (id, program_id, position, drill) VALUES ('rx1', 'g1', 0, 'quiet_stance')",
    ],
    "m003_sessions_and_trials": [
        "INSERT INTO sessions (id, patient_id, started_at, status) VALUES ('s1', 'p1', '2026-01-02T00:00:00Z', 'complete')",
        "INSERT INTO trials (id, session_id, position, drill, started_at) VALUES ('t1', 's1', 0, 'quiet_stance', 'x')",
    ],
    "m004_recordings": [
        "INSERT INTO recordings (id, session_id, device_serial, kind, shape, started_at) VALUES ('r1', 's1', 'MAT1', 'mat', '[48,48]', 'x')",
        "INSERT INTO recording_chunks (recording_id, idx, n_frames, t_first, t_last, data) VALUES ('r1', 0, 1, 0, 0, x'00')",
    ],
    "m005_calibrations": [
        "INSERT INTO calibrations (id, device_serial, created_at, record, active) VALUES ('c1', 'MAT1', 'x', '{}', 1)",
    ],
    "m006_audit_and_outbox": [
        "INSERT INTO audit_log (at, action) VALUES ('x', 'test')",
        "INSERT INTO outbox (id, entity, entity_id, created_at) VALUES ('o1', 'session', 's1', 'x')",
    ],
    "m007_listing_indices": [],
    "m008_outbox_by_entity": [],
    "m009_trial_recording_state": [
        "INSERT INTO trials (id, session_id, position, drill, started_at, recording) "
        "VALUES ('t2', 's1', 1, 'quiet_stance', 'y', 'partial')",
    ],
    "m010_sync_down": [
        "INSERT INTO sync_down_cursor (server, cursor, updated_at) VALUES ('https://s', '7:1', 'x')",
        "INSERT INTO sync_down_parked (entity, id, body, reason, parked_at) VALUES ('program', 'g9', '{}', 'r', 'x')",
    ],
    "m011_outbox_rows": [
        "INSERT INTO outbox (id, entity, entity_id, created_at) VALUES ('o2', 'recording', 'r1', 'z')",
    ],
}
# m011 queues the rows a database already holds (more outbox items) and gives the outbox an
# AUTOINCREMENT counter (a row in sqlite_sequence): those two tables only grow.
GROWS = ("outbox", "sqlite_sequence")


def test_seed_covers_every_migration():
    assert list(SEED) == migrations.NAMES


@pytest.mark.parametrize("version", range(1, len(migrations.NAMES)))
def test_every_older_version_migrates_and_keeps_its_rows(tmp_path, version):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    db = dbmod.Database(conn, execute_plugins=False)
    migrations.apply(db, stop_before=migrations.NAMES[version])
    assert migrations.schema_version(db) == version
    for name in migrations.NAMES[:version]:
        for sql in SEED[name]:
            db.execute(sql)
    before = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in db.table_names()
              if t != "_sqlite_migrations"}
    conn.close()

    upgraded = dbmod.connect(path)
    assert migrations.applied_names(upgraded) == migrations.NAMES
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == len(migrations.NAMES)
    for table, n in before.items():
        after = upgraded.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert after >= n if table in GROWS else after == n, table
    assert upgraded.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r[0] for r in upgraded.execute("PRAGMA integrity_check")] == ["ok"]


def test_first_start_cut_before_the_first_migration_is_not_foreign(tmp_path):
    path = tmp_path / "k.db"
    conn = sqlite3.connect(path)
    migrations.migrations.ensure_migrations_table(dbmod.Database(conn, execute_plugins=False))
    conn.close()
    assert migrations.applied_names(dbmod.connect(path)) == migrations.NAMES


# -- refusals ------------------------------------------------------------------

def _refused(path, error, *words):
    before = _digest(path)
    with pytest.raises(error) as info:
        open_store(path)
    message = str(info.value)
    assert str(path) in message
    assert "left unchanged" in message or "restore" in message
    for w in words:
        assert w in message
    assert _digest(path) == before, "a refused file must not be modified"
    return message


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "gaitkiosk.db"
    path.write_bytes(bytes(range(256)) * 40)
    _refused(path, CorruptDatabaseError, "not an SQLite database", "db restore")


def test_a_text_file_is_refused(tmp_path):
    path = tmp_path / "gaitkiosk.db"
    path.write_text("patient,notes\n")
    _refused(path, CorruptDatabaseError)


def test_damaged_database_is_refused(tmp_path):
    path = tmp_path / "gaitkiosk.db"
    st = open_store(path)
    st.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * ((4096 - 100) // 4)  # the schema page
    path.write_bytes(bytes(data))
    _refused(path, CorruptDatabaseError, "db restore")


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "gaitkiosk.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()
    message = _refused(path, ForeignDatabaseError, "another program", "invoices", "--data-dir")
    assert "journal" not in message
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "gaitkiosk.db"
    st = open_store(path)
    st.db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                  "VALUES ('gaitkiosk', 'm099_from_the_future', 'x')")
    st.db.execute("PRAGMA user_version = 99")
    st.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    _refused(path, NewerSchemaError, "newer gaitkiosk", "m099_from_the_future", "Update")


def test_missing_database_is_not_created_when_asked_not_to(tmp_path):
    with pytest.raises(DatabaseMissingError, match="--data-dir"):
        open_store(tmp_path / "nowhere", create=False)
    assert not (tmp_path / "nowhere").exists()


def test_second_connection_refuses_an_unmigrated_file(tmp_path):
    path = tmp_path / "k.db"
    conn = sqlite3.connect(path)
    migrations.apply(dbmod.Database(conn, execute_plugins=False), stop_before=migrations.NAMES[3])
    conn.close()
    with pytest.raises(StoreError, match="older schema"):
        dbmod.connect(path, migrate=False)
    assert migrations.schema_version(dbmod.Database(sqlite3.connect(path), execute_plugins=False)) == 3


def test_store_defaults_mirror_the_config_defaults():
    from gaitkiosk.config import DEFAULTS
    from store.api import store_settings

    assert store_settings({}) == DEFAULTS["store"]


def test_unknown_codec_in_config_is_refused_by_name(tmp_path):
    from gaitkiosk.errors import ConfigError

    with pytest.raises(ConfigError, match="store.codec"):
        open_store(tmp_path, settings={"codec": "lz4"})


def test_the_connection_keeps_sqlite_utils_transaction_rules(tmp_path):
    """store.db.Connection replaces sqlite-utils' Database on every connection (issue 16: importing
    sqlite-utils cost `sessions list` ~0.09 s): a write outside a transaction is committed at once
    (another connection sees it), a failed write leaves no transaction open to swallow later ones,
    a nested atomic() rolls back only its savepoint and an outer one all of it."""
    path = tmp_path / "gaitkiosk.db"
    db = dbmod.connect(path)
    other = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    db.execute("INSERT INTO t VALUES (?)", [1])
    assert not db.conn.in_transaction and other.execute("SELECT x FROM t").fetchall() == [(1,)]
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO t VALUES (1)")
    assert not db.conn.in_transaction
    with db.atomic():
        db.execute("INSERT INTO t VALUES (2)")
        with pytest.raises(ValueError), db.atomic():
            db.execute("INSERT INTO t VALUES (3)")
            raise ValueError("inner")
    with pytest.raises(ValueError), db.atomic():
        db.executescript("INSERT INTO t VALUES (4); INSERT INTO t VALUES (5);")
        raise ValueError("outer")
    assert [r[0] for r in other.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    db.close()
    other.close()
