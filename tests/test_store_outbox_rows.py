"""Every row entity of docs/sync.md is queued in the outbox, in the transaction that writes it.

No network here: the store alone (real SQLite). What the server should keep of each row, queued
once, in the kiosk's order (seq), and a database from before this change queued by its migration.
"""

from __future__ import annotations

import sqlite3

import pytest
from sync_kiosk_support import REPORT, fill, one_session

from store import migrations, open_store, rows, upstream
from store.calibrations import Calibration
from store.errors import InvalidRecordError
from store.patients import Patient
from store.programs import Prescription, Program


@pytest.fixture
def st(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def queued(st) -> list[tuple]:
    return [(r[0], r[1], rows.loads(r[2])) for r in st.db.execute(
        "SELECT entity, entity_id, payload FROM outbox ORDER BY seq").fetchall()]


def test_each_entity_is_queued_once_with_the_row_as_the_server_keeps_it(st):
    patient = st.patients.add(Patient(code="P-1", name="Ana Name", birth_year=1950, notes="lives at ..."))
    program = st.programs.add(Program(patient_id=patient.id, name="balance",
                                      prescriptions=[Prescription("quiet_stance", {"duration_s": 30.0})]))
    cal = st.calibrations.add(Calibration(device_serial="MAT-1", record={"gain": 1.5}), activate=True)
    entry = st.audit.log("program.replace", subject=program.id, details={"n": 1})
    session_id = one_session(st, patient.id, program.id)
    items = queued(st)
    entities = [e for e, _, _ in items]
    assert entities[:4] == ["patient", "program", "calibration", "audit"]
    assert entities[4:] == ["session", "trial", "trial", "report", "report"]
    by = {(e, i): p for e, i, p in items}
    assert by[("patient", patient.id)] == {"id": patient.id, "code": "P-1", "birth_year": 1950,
                                           "created_at": patient.created_at}  # no name, no notes
    assert by[("program", program.id)]["prescriptions"][0]["params"] == {"duration_s": 30.0}
    assert "active" not in by[("program", program.id)] and "active" not in by[("calibration", cal.id)]
    assert by[("audit", entry.uuid)]["local_id"] == entry.id and by[("audit", entry.uuid)]["details"] == {"n": 1}
    session = by[("session", session_id)]
    assert session["status"] == "complete" and "synced_at" not in session
    trials = [p for (e, _), p in by.items() if e == "trial"]
    assert all("report" not in t and t["session_id"] == session_id for t in trials)
    reports = [p for (e, _), p in by.items() if e == "report"]
    assert {r["trial_id"] for r in reports} == {t["id"] for t in trials}
    assert all(r["report"] == REPORT and r["replaces"] is None for r in reports)
    seqs = [r[0] for r in st.db.execute("SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, len(items) + 1))


def test_a_row_that_fails_to_store_queues_nothing(st):
    st.patients.add(Patient(code="P-1"))
    before = queued(st)
    with pytest.raises(InvalidRecordError):
        st.patients.add(Patient(code="P-1"))  # the code is taken: nothing stored, nothing queued

    def then(_old):
        raise RuntimeError("the audit entry could not be written")

    patient = st.patients.by_code("P-1")
    with pytest.raises(RuntimeError):
        st.programs.replace(Program(patient_id=patient.id, name="x"), then=then)
    assert queued(st) == before


def test_an_open_session_is_queued_only_when_it_closes(st):
    patient = st.patients.add(Patient(code="P-1"))
    session = st.sessions.start(patient.id)
    st.trials.start(session.id, "quiet_stance")
    assert {e for e, _, _ in queued(st)} == {"patient"}
    st.sessions.finish(session.id)
    assert [e for e, _, _ in queued(st)] == ["patient", "session", "trial"]
    st.sessions.finish(session.id)  # again (a second close): nothing queued twice
    assert len(queued(st)) == 3


def test_a_patient_edit_refreshes_the_queued_row_only_until_it_is_sent(st):
    patient = st.patients.add(Patient(code="P-1", birth_year=1950))
    patient.birth_year = 1951
    st.patients.update(patient)
    [(_, _, payload)] = queued(st)
    assert payload["birth_year"] == 1951
    item = st.outbox.pending()[0]
    st.outbox.mark_sent(item.id)
    patient.birth_year = 1952
    st.patients.update(patient)  # sent: the server's row is never edited from here
    assert queued(st)[0][2]["birth_year"] == 1951 and len(queued(st)) == 1


def test_a_report_id_depends_on_the_trial_and_its_content(st):
    patient = st.patients.add(Patient(code="P-1"))
    session = st.sessions.start(patient.id)
    trial = st.trials.start(session.id, "quiet_stance")
    st.trials.finish(trial.id, report=REPORT)
    first = upstream.report_payload(st.db, trial.id)
    assert upstream.report_payload(st.db, trial.id)["id"] == first["id"]
    st.trials.finish(trial.id, report={**REPORT, "metrics_version": 4})
    newer = upstream.report_payload(st.db, trial.id, replaces=first["id"])
    assert newer["id"] != first["id"] and newer["replaces"] == first["id"]


def test_the_migration_queues_what_an_older_database_already_holds(tmp_path):
    """A kiosk database from before this change (schema m009): every row gets queued, in order."""
    with open_store(tmp_path) as st:
        sessions = fill(tmp_path, sessions=2)
        expected = {(e, i): p for e, i, p in queued(st)}
    old = tmp_path / "old"
    old.mkdir()
    from sqlite_utils import Database

    db = Database(sqlite3.connect(old / "gaitkiosk.db"))
    migrations.apply(db, stop_before="m011_outbox_rows")
    src = sqlite3.connect(tmp_path / "gaitkiosk.db")
    for table in ("patients", "users", "programs", "prescriptions", "sessions", "trials", "calibrations"):
        found = src.execute(f"SELECT * FROM {table}").fetchall()
        if found:
            db.conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(found[0]))})", found)
    for row in src.execute("SELECT id, at, user_id, action, subject, details FROM audit_log"):
        db.execute("INSERT INTO audit_log (id, at, user_id, action, subject, details) VALUES (?, ?, ?, ?, ?, ?)", row)
    # the old close queued only the session, its payload only its id
    for sid in sessions:
        db.execute("INSERT INTO outbox (id, entity, entity_id, payload, created_at) VALUES (?, 'session', ?, ?, ?)",
                   [rows.new_id(), sid, rows.dumps({"session_id": sid}), rows.utc_now()])
    db.conn.commit()
    db.close()
    src.close()
    with open_store(old) as st:
        got = {(e, i): p for e, i, p in queued(st)}
        audit_ids = [r[0] for r in st.db.execute("SELECT uuid FROM audit_log")]
    # audit entries get new UUIDs in the old database; everything else is the same row
    assert {k: v for k, v in got.items() if k[0] != "audit"} == {k: v for k, v in expected.items() if k[0] != "audit"}
    assert sorted(i for e, i in got if e == "audit") == sorted(audit_ids)
    assert len(audit_ids) == len([k for k in expected if k[0] == "audit"])
