"""Retention never prunes what has not reached the server; backups run while recording."""

import datetime as dt
import sqlite3

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.frames import RawFrame
from store import codec, open_store, rows
from store.backup import backup, verify_backup
from store.codec import Chunk
from store.patients import Patient
from store.recordings import Recording
from store.retention import check_free_space, prune_synced
from store.sessions import Session

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def _recording(store, session_id, age_days, synced):
    started = rows.format_time(NOW - dt.timedelta(days=age_days))
    rec = store.recordings.create(Recording(session_id=session_id, device_serial="M", kind="insole_left", shape=[4],
                                            started_at=started, status="complete",
                                            synced_at=started if synced else None))
    c = Chunk(counts=np.arange(8, dtype=np.uint16).reshape(2, 4), seq=np.arange(2, dtype=np.uint32),
              t_device=np.zeros(2), t_host=np.zeros(2))
    store.recordings.append(rec.id, 0, c, codec.encode(c))
    return rec


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=st.lists(st.tuples(st.floats(0, 400), st.booleans()), min_size=1, max_size=12),
       limit=st.floats(0, 365))
def test_prune_takes_only_synced_recordings_older_than_the_limit(tmp_path_factory, mix, limit):
    store = open_store(tmp_path_factory.mktemp("ret"))
    session = store.sessions.add(Session(patient_id=store.patients.add(Patient(code="p")).id))
    recs = [(_recording(store, session.id, age, synced), age, synced) for age, synced in mix]
    result = prune_synced(store.db, older_than_days=limit, now=NOW)
    expected = [r for r, age, synced in recs if synced and age > limit + 1e-6]
    borderline = [r for r, age, synced in recs if synced and abs(age - limit) <= 1e-6]
    assert len(expected) <= result.recordings <= len(expected) + len(borderline)
    for rec, age, synced in recs:
        got = store.recordings.get(rec.id)
        if not synced or age < limit - 1e-6:
            assert got.pruned_at is None and store.recordings.read(rec.id).frames == 2
    assert store.sessions.get(session.id) == session  # sessions, trials and reports are never pruned
    assert prune_synced(store.db, older_than_days=limit, now=NOW).recordings == 0  # idempotent
    store.close()


def test_dry_run_changes_nothing(tmp_path):
    with open_store(tmp_path) as store:
        session = store.sessions.add(Session(patient_id=store.patients.add(Patient(code="p")).id))
        rec = _recording(store, session.id, 100, True)
        assert prune_synced(store.db, older_than_days=10, now=NOW, dry_run=True).recordings == 1
        assert store.recordings.get(rec.id).pruned_at is None


def test_free_space_counts_pages_sqlite_will_reuse(tmp_path):
    with open_store(tmp_path) as store:
        session = store.sessions.add(Session(patient_id=store.patients.add(Patient(code="p")).id))
        rec = store.recordings.create(Recording(session_id=session.id, device_serial="M", kind="mat", shape=[48, 48],
                                                synced_at="2000-01-01T00:00:00.000000Z",
                                                started_at="2000-01-01T00:00:00.000000Z", status="complete"))
        rng = np.random.default_rng(0)
        for i in range(20):
            c = Chunk(counts=rng.integers(0, 65535, (50, 48, 48), dtype=np.uint16), seq=np.arange(50, dtype=np.uint32),
                      t_device=np.zeros(50), t_host=np.zeros(50))
            store.recordings.append(rec.id, i, c, codec.encode(c, "zstd"))
        before = check_free_space(tmp_path, 0, db=store.db, disk_free=lambda p: 0)
        prune_synced(store.db, older_than_days=1, now=NOW)
        after = check_free_space(tmp_path, 0, db=store.db, disk_free=lambda p: 0)
        assert after - before > 3_000_000  # ~4.6 MB of chunks became reusable


def test_online_backup_while_the_writer_commits(tmp_path):
    store = open_store(tmp_path / "d")
    session = store.sessions.start(store.patients.add(Patient(code="p")).id)
    writer = store.recording_writer(session.id, chunk_s=0.02, min_free_bytes=0).start()
    rng = np.random.default_rng(1)
    for i in range(150):
        writer.put(RawFrame("M", "mat", i, i / 100, i / 100, rng.integers(0, 99, (48, 48)).astype(np.uint16)))
    info = backup(store.path, tmp_path / "b.db")
    for i in range(150, 300):
        writer.put(RawFrame("M", "mat", i, i / 100, i / 100, rng.integers(0, 99, (48, 48)).astype(np.uint16)))
    stats = writer.stop()
    assert stats.error is None and stats.committed_frames == 300
    assert info.sessions == 1 and verify_backup(tmp_path / "b.db").schema_version == info.schema_version
    copy = sqlite3.connect(tmp_path / "b.db")
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert [r[0] for r in copy.execute("PRAGMA integrity_check")] == ["ok"]
    assert not (tmp_path / "b.db.partial").exists()
    store.sessions.finish(session.id)
    store.close()
