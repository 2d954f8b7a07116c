"""Every store transaction takes the write lock at its start, so a read inside it cannot go stale.

A deferred transaction (SQLite's plain BEGIN) that reads first and writes second cannot wait for
another writer: once another connection commits after its read, SQLite answers SQLITE_BUSY at
once ("database is locked"), whatever the busy timeout. Beside a recording kiosk, which commits a
chunk every second, that lost a trial's start or a calibration's activation now and then.
`store.rows.atomic` now begins with BEGIN IMMEDIATE: the transaction waits for the lock (up to the
busy timeout) before its first read, and nobody can commit between its read and its write.

The tests make the other writer try to commit exactly between the read and the write (SQLite's
trace callback fires as each statement starts). Before the fix it succeeded there and the store's
write failed; with the fix the store holds the lock, so the other writer is told "locked" at once
(timeout 0 here; the kiosk's real writer waits its busy timeout and then commits).
"""

from __future__ import annotations

import sqlite3

import pytest

from store import open_store
from store.calibrations import Calibration
from store.patients import Patient
from store.sessions import Session


class OtherWriter:
    """A second connection that tries to commit a row when the store runs a given statement."""

    def __init__(self, path, trigger: str):
        self.conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        self.trigger = trigger
        self.tried = []
        self.committed = []

    def __call__(self, sql: str) -> None:
        if sql.lstrip().startswith(self.trigger) and not self.tried:
            self.tried.append(sql)
            try:
                self.conn.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'kiosk.chunk')")
                self.committed.append(sql)
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path) as st:
        yield st


def _between_read_and_write(store, trigger: str, action):
    other = OtherWriter(store.path, trigger)
    store.db.conn.set_trace_callback(other)
    try:
        result = action()
    finally:
        store.db.conn.set_trace_callback(None)
        other.conn.close()
    assert other.tried, f"the store never ran {trigger!r}: the test no longer reaches its moment"
    return result, other


def test_a_trial_starts_although_the_kiosk_commits_between_its_read_and_its_write(store):
    patient = store.patients.add(Patient(code="P-lock"))
    session = store.sessions.add(Session(patient_id=patient.id))
    trial, other = _between_read_and_write(
        store, "INSERT INTO trials", lambda: store.trials.start(session.id, "quiet_standing"))
    assert store.trials.get(trial.id).position == 0
    assert not other.committed  # the store held the write lock through its read


def test_a_calibration_is_activated_although_the_kiosk_commits_in_between(store):
    first = store.calibrations.add(Calibration(device_serial="MAT-1", record={"v": 1}), activate=True)
    second = store.calibrations.add(Calibration(device_serial="MAT-1", record={"v": 2}))
    _between_read_and_write(store, "UPDATE calibrations SET active = 0", lambda: store.calibrations.activate(second.id))
    assert store.calibrations.active_for("MAT-1").id == second.id
    assert not store.calibrations.get(first.id).active


def test_a_nested_transaction_is_a_savepoint_of_the_outer_one(store):
    from store import rows

    with rows.atomic(store.db):
        store.db.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'outer')")
        with pytest.raises(LookupError):
            with rows.atomic(store.db):
                store.db.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'inner')")
                raise LookupError("the inner block fails")
    actions = [r[0] for r in store.db.execute("SELECT action FROM audit_log WHERE action IN ('outer', 'inner')")]
    assert actions == ["outer"]
    assert not store.db.conn.in_transaction


def test_the_outbox_marks_an_item_sent_although_the_kiosk_commits_in_its_middle(store):
    # mark_sent's first write (the item was read before the transaction, see outbox.py).
    item = store.outbox.enqueue("recording", "r-1")
    _between_read_and_write(store, "UPDATE recordings SET synced_at", lambda: store.outbox.mark_sent(item.id))
    assert store.outbox.get(item.id).sent_at is not None
