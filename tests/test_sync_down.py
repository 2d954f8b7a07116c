"""The changes feed, end to end: `gaitkiosk server` on a real PostgreSQL, a real kiosk store, sync.down.

Late commits are never skipped (a real open transaction held with psycopg); a page and its cursor
are applied together or not at all (the kiosk's process killed with SIGKILL in the middle); a
re-read changes nothing; nothing applied loops back up; clinic B never sees clinic A's rows; the
server killed inside a transaction leaves nothing half-stored; a kiosk clock days off changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import gaitkiosk, running_server
from test_store_beside_kiosk import (
    DRILLS,
    _read,
    deleted_database_files,
    kiosk_visit,
    prescribed,  # noqa: F401 - the fixture: a seeded kiosk with a program
)
from waiting import wait_until

from store import open_store
from store.patients import Patient
from store.programs import Prescription, Program
from sync import down
from sync.changes import START
from sync.protocol import row_body, row_path

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def kiosk_store(tmp_path: Path, name: str = "kiosk") -> Path:
    """A kiosk's real database file (created and migrated as the kiosk does at start)."""
    folder = tmp_path / name
    open_store(folder).close()
    return folder / "gaitkiosk.db"


def client(server, kiosk: dict) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30)


def put_row(server, clinic: str, entity: str, data: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """A clinic tool's change, as a technician puts it: `gaitkiosk server put-row`."""
    f = tmp_path / f"{entity}-{uuid.uuid4().hex[:8]}.json"
    f.write_text(json.dumps(data))
    return gaitkiosk("server", "put-row", "--clinic", clinic, entity, str(f), "--dsn", server.dsn, "--json")


def new_patient(code: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "code": code, **extra}


def new_program(patient_id: str, *drills: str, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "patient_id": patient_id, "name": "balance",
            "prescriptions": [{"drill": d, "params": {}, "repetitions": 1} for d in drills], **extra}


def programs_of(db_path: Path, patient_id: str) -> list[tuple[str, bool]]:
    with open_store(db_path) as st:
        return [(p.id, p.active) for p in st.programs.for_patient(patient_id, active_only=False)]


def outbox_count(db_path: Path) -> int:
    """Queued items other than audit entries: applying a row writes its own audit entry
    (patient.synced), which goes up like every audit entry; the row itself must not."""
    with open_store(db_path) as st:
        return st.db.execute("SELECT count(*) FROM outbox WHERE entity != 'audit'").fetchone()[0]


def cursor(db_path: Path, server, kiosk: dict) -> str:
    with client(server, kiosk) as http:
        return down.cursor_of(db_path, http)


def test_a_clinic_tools_change_reaches_the_kiosk_like_the_programs_editor(server, tmp_path):
    kiosk = server.enrol("north")
    db_path = kiosk_store(tmp_path)
    patient = new_patient("P-100", name="Ann Example", birth_year=1950)
    first = new_program(patient["id"], "quiet_standing", "weight_symmetry")
    for entity, data in (("patient", patient), ("program", first)):
        done = put_row(server, "north", entity, data, tmp_path)
        assert done.returncode == 0 and json.loads(done.stdout)["status"] == "stored", done.stderr
    with client(server, kiosk) as http:
        assert down.pull_changes(http, db_path) == 2
        with open_store(db_path) as st:
            local = st.patients.get(patient["id"])
            assert (local.code, local.name, local.birth_year) == ("P-100", "Ann Example", 1950)
            assert [rx.drill for rx in st.programs.get(first["id"]).prescriptions] == ["quiet_standing", "weight_symmetry"]

        # A new version on the server: the kiosk keeps the old one, inactive, as the Programs room does.
        second = new_program(patient["id"], "tandem_walk")
        assert put_row(server, "north", "program", second, tmp_path).returncode == 0
        assert down.pull_changes(http, db_path) == 2  # the new version, and the old one stepped back
        assert sorted(programs_of(db_path, patient["id"])) == sorted([(first["id"], False), (second["id"], True)])
        with open_store(db_path) as st:
            assert [p.id for p in st.programs.for_patient(patient["id"])] == [second["id"]]
            actions = [e.action for e in st.audit.recent(50)]
        assert actions.count("program.synced") == 3 and "patient.synced" in actions

        # Archived on the server: archived here; and a re-read from the start changes nothing.
        assert put_row(server, "north", "patient", {**patient, "archived": True}, tmp_path).returncode == 0
        assert down.pull_changes(http, db_path) == 1
        with open_store(db_path) as st:
            assert st.patients.get(patient["id"]).archived is True
            st.db.execute("UPDATE sync_down_cursor SET cursor = ?", [START])  # as after restoring an old backup
            before = st.db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        assert down.pull_changes(http, db_path) == 0
        with open_store(db_path) as st:
            assert st.db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before
            assert st.db.execute("SELECT count(*) FROM programs").fetchone()[0] == 2
        assert down.pull_changes(http, db_path) == 0  # and nothing new: nothing


def test_a_late_commit_is_never_skipped(server, tmp_path):
    """T1 writes first, T2 writes and commits, the kiosk reads, then T1 commits: the kiosk still gets T1's row."""
    kiosk = server.enrol("late")
    db_path = kiosk_store(tmp_path)
    early, late = new_patient("P-EARLY"), new_patient("P-LATE")
    assert put_row(server, "late", "patient", new_patient("P-SEED"), tmp_path).returncode == 0  # the clinic exists

    def insert(conn, p):  # a clinic tool writing the documented table directly
        conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('patient', %s, 'late', %s)",
                     [p["id"], json.dumps({**p, "created_at": "2026-12-01T08:00:00.000000Z"})])

    with psycopg.connect(server.dsn) as t1, psycopg.connect(server.dsn) as t2, client(server, kiosk) as http:
        insert(t1, early)  # T1 holds its transaction (and its xid) open
        insert(t2, late)
        t2.commit()
        down.pull_changes(http, db_path)
        with open_store(db_path) as st:
            codes = {p.code for p in st.patients.list()}
        assert "P-EARLY" not in codes and "P-LATE" not in codes  # the feed waits for T1; it never skips it
        t1.commit()
        assert down.pull_changes(http, db_path) == 2
        with open_store(db_path) as st:
            assert {"P-EARLY", "P-LATE"} <= {p.code for p in st.patients.list()}


def test_pages_split_one_transaction_and_a_program_waits_for_its_patient(server, tmp_path):
    kiosk = server.enrol("paged")
    db_path = kiosk_store(tmp_path)
    patient = new_patient("P-PAGE")
    program = new_program(patient["id"], "quiet_standing")
    with psycopg.connect(server.dsn) as conn:  # one transaction: 30 patients, read 7 at a time
        conn.execute("INSERT INTO clinics (id) VALUES ('paged') ON CONFLICT DO NOTHING")
        for i in range(30):
            conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('patient', %s, 'paged', %s)",
                         [str(uuid.uuid4()), json.dumps({"code": f"P-{i:03d}", "created_at": "2026-12-01T08:00:00Z"})])
    assert put_row(server, "paged", "patient", patient, tmp_path).returncode == 0
    assert put_row(server, "paged", "program", program, tmp_path).returncode == 0
    # The patient changes after its program: the feed now carries the program first.
    assert put_row(server, "paged", "patient", {**patient, "notes": "left knee"}, tmp_path).returncode == 0
    with client(server, kiosk) as http:
        assert down.pull_changes(http, db_path, limit=7) == 32
    with open_store(db_path) as st:
        assert len(st.patients.list()) == 31
        assert st.patients.get(patient["id"]).notes == "left knee"
        assert [p.id for p in st.programs.for_patient(patient["id"])] == [program["id"]]
        assert st.db.execute("SELECT count(*) FROM sync_down_parked").fetchone()[0] == 0


def test_rows_a_kiosk_sent_reach_the_other_kiosks_and_never_loop_back_up(server, tmp_path):
    one, two = server.enrol("twins", "kiosk-1"), server.enrol("twins", "kiosk-2")
    db1, db2 = kiosk_store(tmp_path, "one"), kiosk_store(tmp_path, "two")
    with open_store(db1) as st:  # added on kiosk 1, as its worker will send them
        patient = st.patients.add(Patient(code="P-TWIN"))
        program = st.programs.add(Program(patient_id=patient.id, name="p", prescriptions=[
            Prescription(drill="quiet_standing", params={"duration_s": 20})]))
    for seq, (entity, record) in enumerate((("patient", patient), ("program", program)), 1):
        answer = httpx.put(server.url + row_path(entity, record.id), content=row_body(seq, dataclasses.asdict(record)),
                           headers={"Authorization": f"Bearer {one['token']}"}, timeout=30)
        assert answer.status_code == 201, answer.text
    with client(server, two) as http:
        assert down.pull_changes(http, db2) == 2
    with open_store(db2) as st:  # kiosk 2: the patient can check in, with the same program
        assert st.patients.by_code("P-TWIN").id == patient.id
        assert [(rx.drill, rx.params) for rx in st.programs.for_patient(patient.id)[0].prescriptions] == \
            [("quiet_standing", {"duration_s": 20})]

    # Kiosk 1 gets its own rows back: identical, nothing written, nothing queued.
    with open_store(db1) as st:  # whatever queues patient and program changes inside the store (here a trigger)
        st.db.execute("CREATE TRIGGER queue_patients AFTER UPDATE ON patients BEGIN INSERT INTO outbox "
                      "(id, entity, entity_id, created_at) VALUES (lower(hex(randomblob(16))), 'patient', NEW.id, 'x'); END")
    before = outbox_count(db1)
    with client(server, one) as http:
        assert down.pull_changes(http, db1) == 0
    assert outbox_count(db1) == before
    # A change from the server that kiosk 1 applies is not queued to go back up either.
    assert put_row(server, "twins", "patient", {**dataclasses.asdict(patient), "notes": "from the clinic"},
                   tmp_path).returncode == 0
    with client(server, one) as http:
        assert down.pull_changes(http, db1) == 1
    assert outbox_count(db1) == before
    with open_store(db1) as st:
        assert st.patients.get(patient.id).notes == "from the clinic"


def test_clinic_b_never_sees_or_changes_clinic_a(server, tmp_path):
    a, b = server.enrol("clinic-a"), server.enrol("clinic-b")
    patient = new_patient("P-SECRET", name="Private Person")
    assert put_row(server, "clinic-a", "patient", patient, tmp_path).returncode == 0
    db_b = kiosk_store(tmp_path, "b")
    with client(server, b) as http:
        page = http.get("/v1/changes", params={"after": START}).json()
        assert "P-SECRET" not in json.dumps(page)
        down.pull_changes(http, db_b)
    with open_store(db_b) as st:
        assert st.patients.list(include_archived=True) == []
    # A tool of clinic B can neither take A's patient nor hang a program on it.
    taken = put_row(server, "clinic-b", "patient", {**patient, "code": "P-MINE"}, tmp_path)
    assert taken.returncode == 1 and "another clinic" in taken.stderr and len(taken.stderr.splitlines()) == 1
    hung = put_row(server, "clinic-b", "program", new_program(patient["id"], "quiet_standing"), tmp_path)
    assert hung.returncode == 1 and "no patient" in hung.stderr
    # A's own kiosk of course gets it.
    with client(server, a) as http:
        assert any(r["id"] == patient["id"] for r in http.get("/v1/changes").json()["rows"])


def test_bad_requests_and_rows_are_refused_with_one_line(server, tmp_path):
    kiosk = server.enrol("north")
    with client(server, kiosk) as http:
        for params in ({"after": "12"}, {"after": "-1:0"}, {"limit": "0"}, {"limit": "100000"}):
            answer = http.get("/v1/changes", params=params)
            assert answer.status_code == 400 and answer.json()["reason"], params
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer gk1_nope"}) as http:
        with pytest.raises(down.DownRefused) as refused:
            down.pull_changes(http, kiosk_store(tmp_path))
        assert refused.value.status == 401
    bad = put_row(server, "north", "program", {"id": str(uuid.uuid4()), "patient_id": "x", "name": "n",
                                               "prescriptions": []}, tmp_path)
    assert bad.returncode == 1 and "patient_id" in bad.stderr and len(bad.stderr.splitlines()) == 1
    odd = put_row(server, "north", "patient", {"id": str(uuid.uuid4()), "code": "P-1", "shoe": 44}, tmp_path)
    assert odd.returncode == 1 and "unknown field(s) shoe" in odd.stderr


def test_a_row_the_kiosk_cannot_take_is_parked_with_its_reason_not_lost(server, tmp_path):
    kiosk = server.enrol("clash")
    db_path = kiosk_store(tmp_path)
    with open_store(db_path) as st:
        st.patients.add(Patient(code="P-SAME"))  # registered here before the clinic's own P-SAME arrived
    theirs = new_patient("P-SAME")
    assert put_row(server, "clash", "patient", theirs, tmp_path).returncode == 0
    assert put_row(server, "clash", "patient", new_patient("P-OTHER"), tmp_path).returncode == 0
    with client(server, kiosk) as http:
        assert down.pull_changes(http, db_path) == 1  # P-OTHER; the feed goes on past the clash
        assert cursor(db_path, server, kiosk) != START
        assert [(p["entity"], p["id"]) for p in down.parked(db_path)] == [("patient", theirs["id"])]
        assert "another patient on this kiosk" in down.parked(db_path)[0]["reason"]
        # Renamed on the server: the parked row is replaced by the new version and applied.
        assert put_row(server, "clash", "patient", {**theirs, "code": "P-SAME-2"}, tmp_path).returncode == 0
        assert down.pull_changes(http, db_path) == 1
    assert down.parked(db_path) == []
    with open_store(db_path) as st:
        assert st.patients.get(theirs["id"]).code == "P-SAME-2"


CLOCK_CHILD = r"""
import sys
import httpx
from store import open_store
from store.programs import Prescription, Program
from sync import down

url, token, db_path, patient_id, step = sys.argv[1:6]
if step == "edit":  # the therapist saves a program on this kiosk: stamped by its (wrong) clock
    with open_store(db_path) as st:
        program = st.programs.replace(Program(patient_id=patient_id, name="kiosk's", prescriptions=[
            Prescription(drill="quiet_standing")]))
        print(st.programs.for_patient(patient_id)[0].created_at)
else:
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer " + token}) as http:
        print(down.pull_changes(http, db_path))
"""


def faketime() -> str:
    import shutil

    found = shutil.which("faketime")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("faketime is not installed (apt-get install faketime; .ci/run installs it)")
        pytest.skip("faketime is not installed (apt-get install faketime; .ci/run installs it)")
    return found


@pytest.mark.parametrize("offset", ["+5d", "-5d"])
def test_a_kiosk_whose_clock_is_days_off_takes_the_servers_order(server, tmp_path, offset):
    """The kiosk process runs with its clock 5 days ahead or behind (libfaketime, as a Pi after a power cut):
    its own program carries that time, and the clinic's later prescription still replaces it: the feed's
    order decides, never a timestamp."""
    import datetime as dt

    clinic = f"clock-{uuid.uuid4().hex[:6]}"
    kiosk = server.enrol(clinic)
    db_path = kiosk_store(tmp_path)
    patient = new_patient("P-CLOCK")
    assert put_row(server, clinic, "patient", patient, tmp_path).returncode == 0

    def on_the_kiosk(step: str) -> str:
        done = subprocess.run([faketime(), "-f", offset, sys.executable, "-c", CLOCK_CHILD, server.url,
                               kiosk["token"], str(db_path), patient["id"], step], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert on_the_kiosk("pull") == "1"  # the patient
    stamped = dt.datetime.fromisoformat(on_the_kiosk("edit").replace("Z", "+00:00"))
    assert abs((stamped - dt.datetime.now(dt.UTC)).days) >= 4  # the kiosk's clock really is off
    clinic_rx = new_program(patient["id"], "tandem_walk")
    assert put_row(server, clinic, "program", clinic_rx, tmp_path).returncode == 0
    assert on_the_kiosk("pull") == "1"
    programs = dict(programs_of(db_path, patient["id"]))
    assert programs.pop(clinic_rx["id"]) is True and list(programs.values()) == [False]
    from drills.program import plan_for_patient
    with open_store(db_path) as st:
        assert [item.drill for item in plan_for_patient(st, "P-CLOCK").items] == ["tandem_walk"]


CHILD = r"""
import contextlib, sys, time
import httpx
from sync import down

url, token, db_path, pause_at = sys.argv[1:5]
opened = down._open

@contextlib.contextmanager
def traced(path):  # the real connection, watched: stop (as if the power went) at one statement
    with opened(path) as db:
        def trace(sql):
            if sql.startswith(pause_at):
                print("PAUSED", flush=True)
                time.sleep(600)
        db.conn.set_trace_callback(trace)
        yield db

down._open = traced
requests = []

def second_page(request):
    requests.append(request)
    if pause_at == "PAGE2" and len(requests) == 2:
        print("PAUSED", flush=True)
        time.sleep(600)

with httpx.Client(base_url=url, headers={"Authorization": "Bearer " + token},
                  event_hooks={"request": [second_page]}) as http:
    print(down.pull_changes(http, db_path, limit=3), flush=True)
"""


@pytest.mark.parametrize("pause_at, rows_kept", [
    ("INSERT INTO sync_down_cursor", 0),  # page 1 applied, its cursor not yet written
    ("COMMIT", 0),  # both written, not committed
    ("PAGE2", 3),  # page 1 committed, page 2 being fetched
])
def test_a_power_cut_between_apply_and_cursor_keeps_both_or_neither(server, tmp_path, pause_at, rows_kept):
    clinic = f"cut-{uuid.uuid4().hex[:6]}"
    kiosk = server.enrol(clinic)
    db_path = kiosk_store(tmp_path)
    for i in range(5):
        assert put_row(server, clinic, "patient", new_patient(f"P-{i}"), tmp_path).returncode == 0
    child = subprocess.Popen([sys.executable, "-c", CHILD, server.url, kiosk["token"], str(db_path), pause_at],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert child.stdout.readline().strip() == "PAUSED"  # the child is inside the step we cut
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    with open_store(db_path) as st:
        assert len(st.patients.list()) == rows_kept
        stored = st.db.execute("SELECT cursor FROM sync_down_cursor").fetchall()
        assert (stored == []) == (rows_kept == 0)
    with client(server, kiosk) as http:  # after the cut: the rest, and nothing twice
        assert down.pull_changes(http, db_path) == 5 - rows_kept
        assert down.pull_changes(http, db_path) == 0
    with open_store(db_path) as st:
        assert sorted(p.code for p in st.patients.list()) == [f"P-{i}" for i in range(5)]


def test_the_server_killed_inside_a_transaction_stores_nothing_half(pg_cluster, tmp_path):  # noqa: F811
    """A kiosk's patient upload writes sync_rows and clinic_rows in one transaction; the server dies between."""
    dsn = pg_cluster.new_database()
    db_path = kiosk_store(tmp_path)
    patient = Patient(code="P-KILL")
    with running_server(dsn, tmp_path) as srv:
        kiosk = srv.enrol("kill")
        with psycopg.connect(dsn) as blocker:
            blocker.execute("LOCK TABLE clinic_rows IN SHARE MODE")  # the upload's second write must wait
            answers = []
            sender = threading.Thread(target=lambda: answers.append(_put_quietly(srv, kiosk, patient)))
            sender.start()

            def waiting_on_lock() -> bool:
                with psycopg.connect(dsn) as look:
                    return look.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()").fetchone()[0] > 0
            assert wait_until(waiting_on_lock, timeout=60)
            srv.process.kill()  # mid-transaction: sync_rows written, clinic_rows waiting
            srv.process.wait()
            sender.join(60)
        # The lock is gone; the dead client's backend ends and rolls back.

        def backends_gone() -> bool:
            with psycopg.connect(dsn) as look:
                return look.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0] == 0
        assert wait_until(backends_gone, timeout=60)
        assert answers and answers[0] is None  # the kiosk got no answer: it will send again
        with psycopg.connect(dsn) as look:
            assert look.execute("SELECT count(*) FROM sync_rows WHERE id = %s", [patient.id]).fetchone() == (0,)
            assert look.execute("SELECT count(*) FROM clinic_rows WHERE id = %s", [patient.id]).fetchone() == (0,)
    with running_server(dsn, tmp_path) as srv:  # restarted: the resend is stored once, and goes down
        assert _put_quietly(srv, kiosk, patient) == 201
        other = srv.enrol("kill", "kiosk-2")
        with client(srv, other) as http:
            assert down.pull_changes(http, db_path) == 1
    with open_store(db_path) as st:
        assert st.patients.by_code("P-KILL").id == patient.id


def _put_quietly(srv, kiosk, patient) -> int | None:
    try:
        return httpx.put(srv.url + row_path("patient", patient.id), content=row_body(1, dataclasses.asdict(patient)),
                         headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=120).status_code
    except httpx.HTTPError:
        return None


def test_the_servers_sessions_end_a_transaction_left_idle(server):
    from sync.server import admin

    with admin.connect(server.dsn) as conn:
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "1min"
    from sync.server.app import SESSION_OPTIONS
    assert SESSION_OPTIONS == admin.SESSION_OPTIONS


def test_pulling_beside_a_recording_kiosk_loses_nothing(server, prescribed, tmp_path):  # noqa: F811
    """The feed's writes (own connection, one short transaction per page) beside a kiosk recording a visit."""
    data = prescribed
    db = data / "gaitkiosk.db"
    kiosk = server.enrol("beside")
    with psycopg.connect(server.dsn) as conn:  # 300 patients with a program each, as a clinic tool writes them
        conn.execute("INSERT INTO clinics (id) VALUES ('beside') ON CONFLICT DO NOTHING")
        for i in range(300):
            pid, gid = str(uuid.uuid4()), str(uuid.uuid4())
            conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('patient', %s, 'beside', %s)",
                         [pid, json.dumps({"code": f"B-{i:03d}", "created_at": "2026-12-01T08:00:00Z"})])
            conn.execute("INSERT INTO clinic_rows (entity, id, clinic_id, body) VALUES ('program', %s, 'beside', %s)",
                         [gid, json.dumps(new_program(pid, "quiet_standing", "tandem_walk") | {"id": gid})])
    visit = kiosk_visit(data)
    try:
        def second_drill_records():
            return bool(_read(db, "SELECT 1 FROM recordings r JOIN trials t ON t.id = r.trial_id "
                                  "WHERE t.position = 1 AND r.frames > 0"))

        assert wait_until(lambda: second_drill_records() or visit.poll() is not None, timeout=240, step=0.1)
        assert visit.poll() is None, "the kiosk ended before its second drill recorded"
        with client(server, kiosk) as http:
            assert down.pull_changes(http, db, limit=50) == 600
        assert not deleted_database_files(visit.pid), "the kiosk's WAL was deleted under it"
        out, err = visit.communicate(timeout=300)
    finally:
        if visit.poll() is None:
            visit.kill()
            visit.communicate()
    assert visit.returncode == 0, err
    assert "disk I/O error" not in err and "without a recording" not in err, err
    summary = json.loads(out)
    assert summary["session"]["status"] == "complete"
    assert len(summary["session"]["trials"]) == DRILLS
    assert all(t["frames"] > 0 and t["report"] for t in summary["session"]["trials"])
    assert _read(db, "SELECT count(*) FROM patients WHERE code LIKE 'B-%'") == [(300,)]
    assert _read(db, "PRAGMA integrity_check") == [("ok",)]


def test_a_clinic_tool_puts_rows_over_https_with_its_own_token(server, tmp_path):
    kiosk = server.enrol("tooled")
    db_path = kiosk_store(tmp_path)

    def token(clinic: str) -> str:
        done = gaitkiosk("server", "clinic-token", "--clinic", clinic, "--name", "rx-planner", "--dsn", server.dsn,
                         "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["token"]

    mine, theirs = token("tooled"), token("tooled-other")
    patient = new_patient("P-TOOL")

    def put(tok: str, entity: str, data: dict, body: bytes | None = None) -> httpx.Response:
        return httpx.put(f"{server.url}/v1/clinic/rows/{entity}/{data['id']}", content=body or json.dumps(data),
                         headers={"Authorization": f"Bearer {tok}"}, timeout=30)

    first = put(mine, "patient", patient)
    assert first.status_code == 201 and first.json()["data"]["created_at"]
    assert put(mine, "patient", {**patient, "created_at": first.json()["data"]["created_at"]}).status_code == 200
    program = new_program(patient["id"], "weight_symmetry")
    assert put(mine, "program", program).status_code == 201
    assert put(kiosk["token"], "patient", new_patient("P-KIOSK")).status_code == 401  # a kiosk is no clinic tool
    assert put(theirs, "patient", {**patient, "code": "P-STOLEN"}).status_code == 409
    assert put(theirs, "program", new_program(patient["id"], "tandem_walk")).status_code == 409
    bad = put(mine, "patient", patient, body=b'{"code": NaN}')
    assert bad.status_code == 400 and "NaN" in bad.json()["reason"]
    assert put(mine, "session", new_patient("P-X")).status_code == 400  # sessions never go down
    with client(server, kiosk) as http:
        assert down.pull_changes(http, db_path) == 2
    with open_store(db_path) as st:
        assert st.patients.by_code("P-TOOL").id == patient["id"]
        assert [p.id for p in st.programs.for_patient(patient["id"])] == [program["id"]]
    with psycopg.connect(server.dsn) as conn:
        assert conn.execute("SELECT source FROM clinic_rows WHERE id = %s", [program["id"]]).fetchone() == ("rx-planner",)


def test_a_kiosk_enrolled_again_into_another_clinic_reads_that_clinic_from_the_start(server, tmp_path):
    first, second = f"was-{uuid.uuid4().hex[:6]}", f"now-{uuid.uuid4().hex[:6]}"
    db_path = kiosk_store(tmp_path)
    assert put_row(server, second, "patient", new_patient("P-EARLIER"), tmp_path).returncode == 0
    old = server.enrol(first)
    assert put_row(server, first, "patient", new_patient("P-FIRST"), tmp_path).returncode == 0
    with client(server, old) as http:
        assert down.pull_changes(http, db_path) == 1  # its cursor is now past P-EARLIER's transaction
    new = server.enrol(second)  # the technician moved the kiosk to another clinic
    with client(server, new) as http:
        assert down.pull_changes(http, db_path) == 1
    with open_store(db_path) as st:
        assert {p.code for p in st.patients.list()} == {"P-FIRST", "P-EARLIER"}


def test_a_kiosks_programs_arriving_out_of_order_keep_the_kiosks_own_order(server, tmp_path):
    """Kiosk 1 saved program 1, then program 2; the uploads arrive 2 then 1 (a retry): 2 stays the active one."""
    one, two = server.enrol("order", "kiosk-1"), server.enrol("order", "kiosk-2")
    with open_store(kiosk_store(tmp_path, "one")) as st:  # saved on kiosk 1: first, then second
        patient = st.patients.add(Patient(code="P-ORDER"))
        first = Program(patient_id=patient.id, name="first", prescriptions=[Prescription(drill="quiet_standing")])
        st.programs.replace(first)
        second = Program(patient_id=patient.id, name="second", prescriptions=[Prescription(drill="tandem_walk")])
        st.programs.replace(second)
    # each as it was when saved (both active then); the second arrives first
    for seq, entity, record in ((1, "patient", patient), (3, "program", second), (2, "program", first)):
        answer = httpx.put(server.url + row_path(entity, record.id), content=row_body(seq, dataclasses.asdict(record)),
                           headers={"Authorization": f"Bearer {one['token']}"}, timeout=30)
        assert answer.status_code == 201, answer.text
    db2 = kiosk_store(tmp_path, "two")
    with client(server, two) as http:
        down.pull_changes(http, db2)
    assert dict(programs_of(db2, patient.id)) == {first.id: False, second.id: True}
