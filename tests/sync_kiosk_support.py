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


def backlog(data_dir, sessions: int, *, per_commit: int = 500, recording: list | None = None,
            recordings: int | None = None) -> None:
    """Months offline: ``sessions`` closed sessions of one trial with its report, written through the store
    (``per_commit`` of them per transaction, so filling 10,000 takes seconds, not minutes).

    ``recording``: the chunks ``[(Chunk, blob), …]`` of a real mat recording (``record_mat``), copied into
    a new recording of each session (of the first ``recordings`` sessions when given) before it closes,
    so the outbox queues it with its session as the kiosk does."""
    with open_store(data_dir) as st:
        patient = st.patients.add(Patient(code=f"B-{rows.new_id()[:8]}"))
        done = 0
        while done < sessions:
            with st.db.atomic():
                for _ in range(min(per_commit, sessions - done)):
                    session = st.sessions.start(patient.id)
                    trial = st.trials.start(session.id, "quiet_stance", {"duration_s": 30.0})
                    if recording and (recordings is None or done < recordings):
                        copy_recording(st, session.id, trial.id, recording)
                    st.trials.finish(trial.id, results={"score": 86.5}, report=REPORT, recording="complete")
                    st.sessions.finish(session.id)
                    done += 1


def record_mat(data_dir, seconds: float, *, seed: int = 1) -> list:
    """A real mat recording: ``seconds`` of the virtual patient standing still on a 48 x 48 mat at 100 Hz,
    zeroed and noise-gated as the kiosk's mat sends it after its ZERO (device/sim/zero_gate.py, measured on
    the empty mat), through the store's recording writer (its chunks, its codec). Returns its chunks
    ``[(Chunk, blob), …]``."""
    import numpy as np

    from device.frames import RawFrame
    from device.sim.patient import VirtualPatient
    from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate

    vp = VirtualPatient(scenario="quiet", seed=seed)
    empty = np.zeros((vp.mat.rows, vp.mat.cols), dtype=np.float32)
    gate = ZeroGate.measure(np.stack([vp.mat_sensor.counts(empty, key=-1 - i) for i in range(ZERO_WINDOW_SCANS)]))
    with open_store(data_dir) as st:
        session = st.sessions.start(st.patients.add(Patient(code=f"R-{rows.new_id()[:8]}")).id)
        writer = st.recording_writer(session.id, min_free_bytes=0).start()
        for i in range(int(seconds * 100)):
            counts = gate.apply(vp.mat_counts(vp.sample(i / 100, insoles=False)))
            writer.put(RawFrame("MAT-BENCH", "mat", i, i / 100, 50 + i / 100, counts))
        writer.stop()
        assert writer.error is None, writer.error
        (rec,) = st.recordings.for_session(session.id)
        return [(st.recordings.read_chunk(rec.id, idx), blob)
                for idx, blob in zip(st.recordings.chunk_index(rec.id), st.recordings.blobs(rec.id), strict=True)]


def copy_recording(st, session_id: str, trial_id: str | None, chunks: list) -> str:
    """A new, closed mat recording of the session holding ``chunks`` (store.recordings API); its id."""
    from store.recordings import Recording

    rec = st.recordings.create(Recording(session_id=session_id, trial_id=trial_id, device_serial="MAT-BENCH",
                                         kind="mat", shape=[48, 48]))
    for idx, (chunk, blob) in enumerate(chunks):
        st.recordings.append(rec.id, idx, chunk, blob)
    st.recordings.finish(rec.id)
    return rec.id


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


def kiosk_recordings(db_path) -> dict[str, bytes]:
    """recording id -> its upload stream (sync/recording_stream.py) for every recording the kiosk queued."""
    from store import db as dbmod
    from sync.recordings import RecordingSource

    db = dbmod.connect(db_path, create=False, migrate=False)
    try:
        ids = [r[0] for r in db.execute("SELECT entity_id FROM outbox WHERE entity = 'recording'").fetchall()]
        out = {}
        for rid in ids:
            source = RecordingSource(db, rid)
            out[rid] = source.read(0, source.length)
        return out
    finally:
        db.close()


def recordings_exactly_once(dsn: str, expected: dict[str, bytes], kiosk_id: str) -> None:
    """Assert the server holds each of the kiosk's recordings once, complete, its bytes (contiguous parts,
    no overlap) the kiosk's stream bit-exact with the SHA-256 the kiosk declared, and nothing else."""
    import hashlib

    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT r.id::text, r.length, r.sha256, r.upload_offset, r.completed_at IS NOT NULL, "
            "(SELECT coalesce(sum(length(p.data)), 0) FROM sync_recording_parts p WHERE p.recording_id = r.id), "
            "b.data FROM sync_recordings r LEFT JOIN sync_recording_bytes b ON b.id = r.id "
            "WHERE r.kiosk_id = %s", [kiosk_id]).fetchall()
    assert len(found) == len({f[0] for f in found}), "a recording is stored twice"
    assert {f[0] for f in found} == set(expected), (len(found), len(expected))
    for rid, length, sha, offset, complete, held, data in found:
        want = expected[rid]
        assert complete and length == offset == held == len(want), (rid, length, offset, held, len(want))
        assert bytes(sha) == hashlib.sha256(want).digest() and bytes(data) == want, rid
