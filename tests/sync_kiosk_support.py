"""A kiosk database with every kind of row (the store's own API), and what the server should hold of it."""

from __future__ import annotations

import json

import psycopg

from store import open_store, rows
from store.calibrations import Calibration
from store.patients import Patient
from store.programs import Prescription, Program
from sync.protocol import ROW_ENTITIES, canonical

REPORT = {"metrics_version": 3, "sway_area_mm2": 140.25, "path_mm": 0.1 + 0.2, "note": "é ✓", "missing": None}


def fill(data_dir, sessions: int = 3, *, started_at: str | None = None, prefix: str = "P") -> list[str]:
    """A patient, a program, a calibration, ``sessions`` closed sessions of two trials (with reports) and audit
    entries, written through the store as the kiosk writes them; returns the session ids."""
    with open_store(data_dir) as st:
        patient = st.patients.add(Patient(code=f"{prefix}-{rows.new_id()[:8]}", name="Ana Name", birth_year=1950))
        program = st.programs.add(Program(patient_id=patient.id, name="balance",
                                          prescriptions=[Prescription("quiet_stance", {"duration_s": 30.0})]))
        st.calibrations.add(Calibration(device_serial="MAT-1", record={"gain": 1.2345678901234567}), activate=True)
        st.audit.log("program.replace", subject=program.id, details={"why": "test"})
        return [one_session(st, patient.id, program.id, started_at=started_at) for _ in range(sessions)]


def backlog(data_dir, sessions: int, *, per_commit: int = 500) -> None:
    """Months offline: ``sessions`` closed sessions of one trial with its report, written through the store
    (``per_commit`` of them per transaction, so filling 10,000 takes seconds, not minutes)."""
    with open_store(data_dir) as st:
        patient = st.patients.add(Patient(code=f"B-{rows.new_id()[:8]}"))
        done = 0
        while done < sessions:
            with st.db.atomic():
                for _ in range(min(per_commit, sessions - done)):
                    session = st.sessions.start(patient.id)
                    trial = st.trials.start(session.id, "quiet_stance", {"duration_s": 30.0})
                    st.trials.finish(trial.id, results={"score": 86.5}, report=REPORT, recording="complete")
                    st.sessions.finish(session.id)
                    done += 1


def one_session(st, patient_id: str, program_id: str | None = None, *, started_at: str | None = None) -> str:
    session = st.sessions.start(patient_id, program_id=program_id)
    if started_at is not None:  # a kiosk whose clock is off: the time as recorded
        st.db.execute("UPDATE sessions SET started_at = ? WHERE id = ?", [started_at, session.id])
    for drill in ("quiet_stance", "tandem"):
        trial = st.trials.start(session.id, drill, {"duration_s": 30.0})
        st.trials.finish(trial.id, results={"score": 86.5}, report=REPORT, recording="complete",
                         ended_at=started_at)
    st.sessions.finish(session.id, ended_at=started_at)
    return session.id


def kiosk_rows(db_path) -> dict[tuple[str, str], str]:
    """(entity, id) -> canonical body of every row the kiosk queued."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        marks = ",".join("?" for _ in ROW_ENTITIES)
        found = conn.execute(f"SELECT entity, entity_id, payload FROM outbox WHERE entity IN ({marks})",
                             ROW_ENTITIES).fetchall()
    finally:
        conn.close()
    return {(e, i): canonical(json.loads(p)) for e, i, p in found}


def server_rows(dsn: str, kiosk_id: str | None = None) -> list[tuple[str, str, str]]:
    """(entity, id, body) of every row the server holds (of one kiosk), duplicates kept."""
    with psycopg.connect(dsn) as conn:
        where, params = ("WHERE kiosk_id = %s", [kiosk_id]) if kiosk_id else ("", [])
        return conn.execute(f"SELECT entity, id::text, body FROM sync_rows {where}", params).fetchall()


def exactly_once(dsn: str, db_path, kiosk_id: str | None = None) -> dict:
    """Assert the server holds the kiosk's rows, bit-exact, each once; return them."""
    on_server = server_rows(dsn, kiosk_id)
    keys = [(e, i) for e, i, _ in on_server]
    assert len(keys) == len(set(keys)), "a row is stored twice"
    expected = kiosk_rows(db_path)
    got = {(e, i): b for e, i, b in on_server}
    assert set(got) == set(expected), (len(got), len(expected))
    assert got == expected
    return got
