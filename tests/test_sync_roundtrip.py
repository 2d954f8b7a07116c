"""Two kiosks of one clinic through the real server: what one stores reaches the other.

The worker (sync/worker.py) sends a kiosk's rows up and pulls the clinic's changes feed down
(sync/down.py) in the same pass; these tests hold the two halves to one another: a patient and a
program added on kiosk A can check in on kiosk B, a program changed later on A replaces the one
in force on B, nothing comes back up as a new row, and another clinic's kiosk sees none of it.
"""

from __future__ import annotations

import json

import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_kiosk_support import exactly_once, one_session, server_rows
from sync_support import gaitkiosk, running_server

from store import open_store
from store.patients import Patient
from store.programs import Prescription, Program

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def add_patient(data_dir, code: str, *, sessions: int = 0) -> None:
    """A patient with a name and a program of real drills (another kiosk must be able to run it)."""
    with open_store(data_dir) as st:
        patient = st.patients.add(Patient(code=code, name="Ana Name", birth_year=1950))
        program = st.programs.add(Program(patient_id=patient.id, name="balance", prescriptions=[
            Prescription("quiet_standing", {"duration_s": 30.0, "eyes": "open"}),
            Prescription("tandem_walk", {}, repetitions=2)]))
        for _ in range(sessions):
            one_session(st, patient.id, program.id)


def enrol(srv, data_dir, clinic: str) -> None:
    code = gaitkiosk("server", "enrol-code", "--clinic", clinic, "--dsn", srv.dsn, "--json")
    assert code.returncode == 0, code.stderr
    done = gaitkiosk("sync", "enrol", srv.url, json.loads(code.stdout)["code"], "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr


def sync_once(data_dir) -> dict:
    done = gaitkiosk("sync", "once", "--data-dir", str(data_dir), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def patients_and_programs(data_dir) -> tuple[dict, dict]:
    with open_store(data_dir) as st:
        patients = {p.code: p for p in st.patients.list(include_archived=True)}
        programs = {g.id: g for p in patients.values() for g in st.programs.for_patient(p.id, active_only=False)}
    return patients, programs


def queued(data_dir, entity: str) -> int:
    with open_store(data_dir) as st:
        return st.db.execute("SELECT count(*) FROM outbox WHERE entity = ? AND sent_at IS NULL",
                             [entity]).fetchone()[0]


def test_a_patient_and_program_added_on_one_kiosk_reach_the_other(server, tmp_path):
    a, b, other = tmp_path / "a", tmp_path / "b", tmp_path / "other"
    for kiosk in (a, b, other):
        kiosk.mkdir()
        open_store(kiosk).close()  # a kiosk started once: its database exists
    add_patient(a, "731150", sessions=1)
    enrol(server, a, "north")
    enrol(server, b, "north")
    enrol(server, other, "south")
    sync_once(a)
    exactly_once(server.dsn, a / "gaitkiosk.db")

    sync_once(b)
    sync_once(other)
    a_patients, a_programs = patients_and_programs(a)
    b_patients, b_programs = patients_and_programs(b)
    assert set(b_patients) == set(a_patients) and len(a_patients) == 1
    (code, on_a), = a_patients.items()
    on_b = b_patients[code]
    assert on_b.id == on_a.id and on_b.birth_year == on_a.birth_year
    assert on_b.name is None  # names stay on the kiosk that took them (pseudonymous upstream)
    assert set(b_programs) == set(a_programs)
    for program_id, program in a_programs.items():
        got = b_programs[program_id]
        assert got.active == program.active
        assert [(p.drill, p.params, p.repetitions) for p in got.prescriptions] == \
               [(p.drill, p.params, p.repetitions) for p in program.prescriptions]
    assert patients_and_programs(other) == ({}, {})  # another clinic sees nothing

    # Nothing B applied goes back up as its own row (it would be a second copy, or a conflict).
    assert queued(b, "patient") == 0 and queued(b, "program") == 0
    sync_once(b)
    kiosk_a = json.loads((a / "sync.json").read_text())["kiosk_id"]
    kiosk_b = json.loads((b / "sync.json").read_text())["kiosk_id"]
    assert exactly_once(server.dsn, a / "gaitkiosk.db", kiosk_a)
    assert exactly_once(server.dsn, b / "gaitkiosk.db", kiosk_b)  # B's own rows: its audit of what it applied
    assert {e for e, _i, _b in server_rows(server.dsn, kiosk_b)} == {"audit"}


def test_a_program_changed_on_one_kiosk_replaces_the_one_in_force_on_the_other(server, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for kiosk in (a, b):
        kiosk.mkdir()
        open_store(kiosk).close()
    add_patient(a, "731151")
    enrol(server, a, "east")
    enrol(server, b, "east")
    sync_once(a)
    sync_once(b)
    with open_store(a) as st:
        patient = st.patients.list()[0]
        new = st.programs.replace(Program(patient_id=patient.id, name="harder", prescriptions=[
            Prescription("tandem_walk", {}, repetitions=2)]))
        new_id = st.programs.for_patient(patient.id)[0].id
    assert new  # the old one stepped back on A
    for _ in range(2):  # A's own rows coming down (its first upload said "balance" was in force) change nothing
        sync_once(a)
        with open_store(a) as st:
            assert [p.id for p in st.programs.for_patient(patient.id)] == [new_id]
    sync_once(b)
    with open_store(b) as st:
        active = st.programs.for_patient(patient.id)
        assert [p.id for p in active] == [new_id]
        in_force = active[0]
        assert [(p.drill, p.repetitions) for p in in_force.prescriptions] == [("tandem_walk", 2)]
        assert len(st.programs.for_patient(patient.id, active_only=False)) == 2  # the old version kept as history
