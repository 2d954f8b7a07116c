"""Every repository: hypothesis write -> read back equal, plus the rules each enforces."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import open_store, rows
from store.audit import AuditEntry
from store.calibrations import Calibration
from store.devices import Device
from store.errors import InvalidRecordError, NotFoundError
from store.locks import SessionLock
from store.outbox import OutboxItem
from store.patients import Patient
from store.programs import Prescription, Program
from store.recordings import Recording
from store.sessions import Session
from store.trials import Trial
from store.users import hash_pin, pin_matches

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
ids = st.uuids().map(str)
stamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                      timezones=st.just(dt.UTC)).map(rows.format_time)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12)
json_objects = st.dictionaries(text, json_values, max_size=5)


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def _patient(store):
    return store.patients.add(Patient(code=rows.new_id()))


@SETTINGS
@given(code=text.filter(lambda c: c.strip() == c and c), name=st.none() | text,
       birth_year=st.none() | st.integers(1900, 2100), notes=text, archived=st.booleans(), created_at=stamps)
def test_patients_round_trip(store, code, name, birth_year, notes, archived, created_at):
    p = Patient(code=code + rows.new_id()[:8], name=name, birth_year=birth_year, notes=notes, archived=archived,
                created_at=created_at)
    store.patients.add(p)
    assert store.patients.get(p.id) == p
    assert store.patients.by_code(p.code) == p


def test_patient_rules(store):
    store.patients.add(Patient(code="P1"))
    with pytest.raises(InvalidRecordError, match="UNIQUE"):
        store.patients.add(Patient(code="P1"))
    with pytest.raises(InvalidRecordError, match="birth year"):
        store.patients.add(Patient(code="P2", birth_year=1850))
    with pytest.raises(InvalidRecordError, match="code"):
        store.patients.add(Patient(code=" "))
    with pytest.raises(NotFoundError):
        store.patients.get("nope")
    assert [p.code for p in store.patients.list()] == ["P1"]


def test_users_store_only_a_salted_scrypt_hash(store):
    ann = store.users.add("ann", "therapist", "123456")
    bob = store.users.add("bob", "technician", "123456")
    assert ann.pin_hash != bob.pin_hash and "123456" not in ann.pin_hash
    assert ann.pin_hash.startswith("scrypt$16384$8$1$")
    assert store.users.get(ann.id) == ann
    assert store.users.verify("ann", "123456") == ann
    assert store.users.verify("ann", "654321") is None
    assert store.users.verify("nobody", "123456") is None
    store.users.set_active(ann.id, False)
    assert store.users.verify("ann", "123456") is None
    with pytest.raises(InvalidRecordError, match="4 to 8 digits"):
        store.users.add("cy", "therapist", "12ab")
    with pytest.raises(InvalidRecordError, match="role"):
        store.users.add("cy", "admin", "1234")
    raw = store.db.execute("SELECT * FROM users").fetchall()
    assert "123456" not in repr(raw)


@settings(max_examples=10, deadline=None)
@given(pin=st.text("0123456789", min_size=4, max_size=8))
def test_pin_hash_round_trip(pin):
    stored = hash_pin(pin, n=2**10)
    assert pin_matches(pin, stored)
    assert not pin_matches(pin + "0" if len(pin) < 8 else pin[:-1], stored)


@SETTINGS
@given(serial=text.filter(bool), kind=st.sampled_from(["mat", "insole_left"]), fw=text, info=json_objects,
       first=stamps, last=stamps)
def test_devices_round_trip(store, serial, kind, fw, info, first, last):
    d = Device(serial=serial + rows.new_id(), kind=kind, firmware_version=fw, info=info, first_seen=first,
               last_seen=last)
    assert store.devices.seen(d) == d
    later = Device(serial=d.serial, kind=kind, firmware_version="2.0", info={}, first_seen="ignored", last_seen="z")
    again = store.devices.seen(later)
    assert again.first_seen == first and again.last_seen == "z" and again.firmware_version == "2.0"


@SETTINGS
@given(name=text.filter(lambda s: s.strip()), notes=text, active=st.booleans(), created_at=stamps,
       rx=st.lists(st.tuples(text.filter(bool), json_objects, st.integers(1, 20)), max_size=5))
def test_programs_round_trip(store, name, notes, active, created_at, rx):
    patient = _patient(store)
    program = Program(patient_id=patient.id, name=name, notes=notes, active=active, created_at=created_at,
                      prescriptions=[Prescription(drill=d, params=p, repetitions=n) for d, p, n in rx])
    store.programs.add(program)
    assert store.programs.get(program.id) == program


@SETTINGS
@given(status=st.sampled_from(["open", "complete", "incomplete"]), reason=text, notes=text, started=stamps,
       ended=st.none() | stamps, synced=st.none() | stamps)
def test_sessions_round_trip(store, status, reason, notes, started, ended, synced):
    patient = _patient(store)
    s = Session(patient_id=patient.id, status=status, status_reason=reason, notes=notes, started_at=started,
                ended_at=ended, synced_at=synced)
    store.sessions.add(s)
    assert store.sessions.get(s.id) == s


@SETTINGS
@given(drill=text.filter(bool), params=json_objects, results=json_objects, report=st.none() | json_objects,
       version=st.none() | st.integers(1, 50), cal=st.dictionaries(text, ids, max_size=3),
       status=st.sampled_from(["running", "complete", "stopped", "incomplete"]), started=stamps)
def test_trials_round_trip(store, drill, params, results, report, version, cal, status, started):
    session = store.sessions.add(Session(patient_id=_patient(store).id))
    t = Trial(session_id=session.id, drill=drill, params=params, results=results, report=report,
              metrics_version=version, calibration_ids=cal, status=status, started_at=started)
    store.trials.add(t)
    assert store.trials.get(t.id) == t


@SETTINGS
@given(kind=st.sampled_from(["mat", "insole_left", "insole_right"]), shape=st.lists(st.integers(1, 64), min_size=1,
       max_size=2), cal=st.none() | ids, kpc=st.floats(0, 10), origin=st.floats(-1e6, 1e6),
       status=st.sampled_from(["recording", "complete", "incomplete", "failed"]), synced=st.none() | stamps)
def test_recordings_round_trip(store, kind, shape, cal, kpc, origin, status, synced):
    session = store.sessions.add(Session(patient_id=_patient(store).id))
    r = Recording(session_id=session.id, device_serial="D1", kind=kind, shape=shape, calibration_id=cal,
                  kpa_per_count=kpc, t_origin=origin, status=status, synced_at=synced)
    store.recordings.create(r)
    assert store.recordings.get(r.id) == r


@SETTINGS
@given(serial=text.filter(bool), record=json_objects, active=st.booleans(), created=stamps)
def test_calibrations_round_trip(store, serial, record, active, created):
    c = Calibration(device_serial=serial, record=record, active=active, created_at=created)
    assert store.calibrations.add(c) == c
    if active:
        assert store.calibrations.active_for(serial) == c


def test_one_active_calibration_per_device(store):
    a = store.calibrations.add(Calibration("MAT1", {"gain": 1}), activate=True)
    b = store.calibrations.add(Calibration("MAT1", {"gain": 2}), activate=True)
    store.calibrations.add(Calibration("INS1", {"gain": 3}), activate=True)
    assert store.calibrations.active_for("MAT1").id == b.id
    assert not store.calibrations.get(a.id).active
    store.calibrations.activate(a.id)
    assert store.calibrations.active_for("MAT1").id == a.id
    assert store.calibrations.active_for("INS1").record == {"gain": 3}
    assert store.calibrations.active_for("nothing") is None


@SETTINGS
@given(action=text.filter(bool), subject=text, details=json_objects, at=stamps, user=st.none() | ids)
def test_audit_round_trip(store, action, subject, details, at, user):
    entry = store.audit.log(action, user_id=user, subject=subject, details=details, at=at)
    assert isinstance(entry, AuditEntry) and entry.id
    assert store.audit.recent(1)[0] == entry


@SETTINGS
@given(entity=st.sampled_from(["session", "trial", "note"]), payload=json_objects, created=stamps, attempts=st.integers(0, 99))
def test_outbox_round_trip(store, entity, payload, created, attempts):
    item = OutboxItem(entity=entity, entity_id=rows.new_id(), payload=payload, created_at=created, attempts=attempts)
    store.outbox.add(item)
    assert store.outbox.get(item.id) == item


def test_outbox_sent_marks_the_entity_synced(store):
    session = store.sessions.add(Session(patient_id=_patient(store).id))
    item = store.outbox.enqueue("session", session.id, {"id": session.id})
    # the patient was queued when it was added (store/upstream.py); the item follows it in seq order
    assert store.outbox.pending()[-1] == item and store.outbox.pending_count() == 2
    store.outbox.mark_failed(item.id, "timeout")
    assert store.outbox.get(item.id).attempts == 1 and store.outbox.get(item.id).last_error == "timeout"
    store.outbox.mark_sent(item.id, at="2026-01-01T00:00:00.000000Z")
    assert [i.entity for i in store.outbox.pending()] == ["patient"]
    assert store.sessions.get(session.id).synced_at == "2026-01-01T00:00:00.000000Z"
    assert store.sessions.oldest_unsynced() is None


def test_trial_finish_keeps_report_and_version(store):
    session = store.sessions.start(_patient(store).id)
    trial = store.trials.start(session.id, "quiet_stance", {"duration_s": 30}, {"MAT1": "cal-1"})
    second = store.trials.start(session.id, "tandem")
    assert (trial.position, second.position) == (0, 1)
    with pytest.raises(InvalidRecordError, match="metrics_version"):
        store.trials.finish(trial.id, report={"sway": {}})
    done = store.trials.finish(trial.id, results={"score": 3}, report={"metrics_version": 1, "sway": {"x": float("nan")}})
    assert done.metrics_version == 1 and done.report["sway"]["x"] is None
    assert store.trials.get(trial.id) == done
    store.sessions.finish(session.id)
    assert store.trials.get(second.id).status == "incomplete"


def test_session_list_filters_by_patient_date_and_drill(store):
    a, b = _patient(store), _patient(store)
    for day, patient, drill in [(1, a, "quiet_stance"), (2, a, "tandem"), (3, b, "quiet_stance"), (4, b, "walk")]:
        s = store.sessions.add(Session(patient_id=patient.id, started_at=f"2026-03-0{day}T10:00:00.000000Z",
                                       status="complete"))
        store.trials.add(Trial(session_id=s.id, drill=drill))
    everything = store.sessions.list()
    assert [x.session.started_at[:10] for x in everything] == ["2026-03-04", "2026-03-03", "2026-03-02", "2026-03-01"]
    assert [x.drills for x in store.sessions.list(patient_id=a.id)] == [["tandem"], ["quiet_stance"]]
    assert len(store.sessions.list(drill="quiet_stance")) == 2
    assert len(store.sessions.list(since="2026-03-02", before="2026-03-04")) == 2
    assert store.sessions.count(drill="walk", patient_id=b.id) == 1
    assert [x.session.started_at[:10] for x in store.sessions.list(limit=1, offset=1)] == ["2026-03-03"]


def test_interrupted_session_is_recovered_but_a_live_one_is_not(tmp_path):
    first = open_store(tmp_path)
    patient = _patient(first)
    live = first.sessions.start(patient.id)  # this process holds its lock
    dead = Session(patient_id=patient.id)
    first.sessions.add(dead)  # as if its process had died: no lock holder
    first.recordings.create(Recording(session_id=dead.id, device_serial="M", kind="mat", shape=[2, 2]))
    other = open_store(tmp_path)  # a second opener, e.g. the CLI beside the kiosk
    assert other.recovered == [dead.id]
    assert other.sessions.get(live.id).status == "open"
    got = other.sessions.get(dead.id)
    assert got.status == "incomplete" and "interrupted" in got.status_reason
    assert other.recordings.for_session(dead.id)[0].status == "incomplete"
    assert other.audit.recent(1)[0].action == "session.recovered"
    first.sessions.finish(live.id)
    assert not SessionLock(first.lock_dir, live.id).path.exists()
    other.close()
    first.close()


def test_recording_chunks_read_back_in_order(store):
    from store import codec
    from store.codec import Chunk

    session = store.sessions.add(Session(patient_id=_patient(store).id))
    rec = store.recordings.create(Recording(session_id=session.id, device_serial="I", kind="insole_left", shape=[16]))
    parts = []
    for i in range(3):
        c = Chunk(counts=np.full((5, 16), i, np.uint16), seq=np.arange(5 * i, 5 * i + 5, dtype=np.uint32),
                  t_device=np.arange(5) + 5.0 * i, t_host=np.arange(5) + 5.0 * i)
        store.recordings.append(rec.id, i, c, codec.encode(c))
        parts.append(c)
    assert store.recordings.chunk_index(rec.id) == [0, 1, 2]
    whole = store.recordings.read(rec.id)
    assert whole.seq.tolist() == list(range(15))
    assert store.recordings.read_chunk(rec.id, 1).equals(parts[1])
    got = store.recordings.get(rec.id)
    assert (got.frames, got.chunks, got.raw_bytes) == (15, 3, 15 * 16 * 2)


def test_closing_or_recovering_a_session_queues_it_for_upload_once(tmp_path):
    first = open_store(tmp_path)
    patient = _patient(first)
    done = first.sessions.start(patient.id)
    first.recordings.create(Recording(session_id=done.id, device_serial="M", kind="mat", shape=[2, 2]))
    first.sessions.finish(done.id)
    queued = {(i.entity, i.entity_id) for i in first.outbox.pending() if i.entity in ("session", "recording")}
    rec_id = first.recordings.for_session(done.id)[0].id
    assert queued == {("session", done.id), ("recording", rec_id)}
    crashed = first.sessions.add(Session(patient_id=patient.id))  # no lock holder: a dead process
    second = open_store(tmp_path)
    assert second.recovered == [crashed.id]
    assert ("session", crashed.id) in {(i.entity, i.entity_id) for i in second.outbox.pending()}
    assert len([i for i in second.outbox.pending() if i.entity in ("session", "recording")]) == 3
    for item in second.outbox.pending():
        second.outbox.mark_sent(item.id)
    assert second.recordings.get(rec_id).synced_at is not None
    assert second.sessions.oldest_unsynced() is None
    second.close()
    first.close()
