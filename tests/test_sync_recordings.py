"""Recordings upload (docs/sync.md "Up: recordings"): a real kiosk session's recordings sent to the real
server process on a real PostgreSQL, resumably, through kills of either side, wrong offsets, a corrupted
chunk, duplicate and foreign sends. After each: the server holds exactly the kiosk's bytes, once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import gaitkiosk, running_server
from waiting import wait_until

from store import codec, open_store
from store import db as dbmod
from sync.recording_stream import OFFSET_TYPE, parse, put_body, recording_path, sha256_hex
from sync.recordings import RecordingSource, UploadInterrupted, UploadRefused, upload_recording
from sync.server.recordings import MAX_PATCH_BYTES

pytestmark = needs_pg()

SMALL = 4096  # bytes per PATCH in these tests: even a short recording takes several


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    """A kiosk's database after one real headless visit on the virtual patient (every drill recorded)."""
    data = tmp_path_factory.mktemp("visit")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--data-dir", str(data),
                           "--seconds", "1", "--countdown", "0.3", "--json"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return dbmod.database_path(data)


@pytest.fixture
def kiosk_db(visit, tmp_path):
    """A copy of the visit's database for one test, made by SQLite's backup API."""
    target = tmp_path / "kiosk" / "gaitkiosk.db"
    target.parent.mkdir()
    src, dst = sqlite3.connect(visit), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


@pytest.fixture
def server(pg_cluster, tmp_path):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path) as srv:
        yield srv


def client(server, kiosk: dict) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30)


def recordings_of(db_path) -> list[str]:
    """The visit's recording ids, largest first."""
    with open_store(db_path) as st:
        return [r[0] for r in st.db.execute("SELECT id FROM recordings ORDER BY stored_bytes DESC, id").fetchall()]


def kiosk_bytes(db_path, recording_id) -> bytes:
    db = dbmod.connect(db_path, create=False, migrate=False)
    try:
        source = RecordingSource(db, recording_id)
        return source.read(0, source.length)
    finally:
        db.close()


def server_state(server, recording_id) -> dict:
    with psycopg.connect(server.dsn) as conn:
        rows = conn.execute("SELECT length, sha256, upload_offset, completed_at IS NOT NULL, discarded, clinic_id "
                            "FROM sync_recordings WHERE id = %s", [recording_id]).fetchall()
        parts = conn.execute("SELECT start, data FROM sync_recording_parts WHERE recording_id = %s ORDER BY start",
                             [recording_id]).fetchall()
    assert len(rows) <= 1
    if not rows:
        return {}
    length, sha, offset, complete, discarded, clinic = rows[0]
    starts, pos = [], 0
    for start, data in parts:
        starts.append(start)
        assert start == pos, "parts are contiguous, never overlapping"
        pos += len(data)
    assert pos == offset, "the offset counts exactly the bytes held"
    return {"length": length, "sha256": bytes(sha).hex(), "offset": offset, "complete": complete,
            "discarded": discarded, "clinic": clinic, "data": b"".join(bytes(d) for _, d in parts)}


def assert_holds_exactly(server, db_path, recording_id) -> bytes:
    """The server holds the kiosk's stream, once, complete and checked; the kiosk marked it synced."""
    expected = kiosk_bytes(db_path, recording_id)
    state = server_state(server, recording_id)
    assert state["complete"] and state["offset"] == state["length"] == len(expected)
    assert state["data"] == expected and state["sha256"] == sha256_hex(expected)
    with psycopg.connect(server.dsn) as conn:
        (viewed,) = conn.execute("SELECT data FROM sync_recording_bytes WHERE id = %s", [recording_id]).fetchone()
    assert bytes(viewed) == expected
    with open_store(db_path) as st:
        assert st.recordings.get(recording_id).synced_at is not None
        assert st.db.execute("SELECT count(*) FROM outbox WHERE entity = 'recording' AND entity_id = ? "
                             "AND sent_at IS NULL", [recording_id]).fetchone()[0] == 0
    return expected


def test_a_kiosk_sessions_recordings_arrive_bit_exact_and_decodable(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    ids = recordings_of(kiosk_db)
    assert len(ids) >= 3
    with client(server, kiosk) as http:
        results = [upload_recording(http, kiosk_db, rid) for rid in ids]
        for rid, result in zip(ids, results, strict=True):
            expected = assert_holds_exactly(server, kiosk_db, rid)
            assert (result.resumed_from, result.sent, result.restarts) == (0, len(expected), 0)
            assert not result.already_complete
            # Another tool decodes the server's bytes into the very frames the kiosk stored.
            got = http.get(recording_path(rid))
            assert got.status_code == 200 and got.content == expected
            meta, blobs = parse(got.content)
            with open_store(kiosk_db) as st:
                rec = st.recordings.get(rid)
                assert meta["id"] == rid and meta["kind"] == rec.kind and meta["shape"] == rec.shape
                assert [b for _, b in blobs] == st.recordings.blobs(rid)
                decoded = [codec.decode(b) for _, b in blobs]
                assert sum(c.frames for c in decoded) == rec.frames > 0
                stored = [c for _, c in st.recordings.iter_chunks(rid)]
                assert [c.digest() for c in decoded] == [c.digest() for c in stored]
        again = upload_recording(http, kiosk_db, ids[0])
    assert again.already_complete and again.sent == 0
    assert server_state(server, ids[0])["discarded"] == 0


CHILD = r"""
import sys, threading
import httpx
import sync.recordings as up
up.PIECE_BYTES = 1024
url, token, db_path, rid, stop_at = sys.argv[1:6]
sent = 0
def throttle(n):
    global sent
    if sent >= int(stop_at):
        print("blocked", sent, flush=True)
        threading.Event().wait()  # mid-PATCH: the test kills this process now
    sent += n
with httpx.Client(base_url=url, headers={"Authorization": "Bearer " + token}, timeout=60) as http:
    up.upload_recording(http, db_path, rid, chunk_bytes=4096, throttle=throttle)
print("finished", flush=True)
"""


def test_a_kiosk_killed_mid_upload_resumes_from_the_servers_offset(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    length = len(kiosk_bytes(kiosk_db, rid))
    assert length > 3 * SMALL
    # Two whole PATCHes, then half of the third is on the wire when the process dies.
    child = subprocess.Popen([sys.executable, "-c", CHILD, server.url, kiosk["token"], str(kiosk_db), rid,
                              str(2 * SMALL + 2048)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().split() == ["blocked", str(2 * SMALL + 2048)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert wait_until(lambda: server_state(server, rid)["offset"] == 2 * SMALL, timeout=30)
    head = httpx.head(server.url + recording_path(rid), headers={"Authorization": f"Bearer {kiosk['token']}"},
                      timeout=30)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(2 * SMALL)
    with open_store(kiosk_db) as st:
        assert st.recordings.get(rid).synced_at is None  # not on the server yet: never pruned

    with client(server, kiosk) as http:  # a new process would do just this
        result = upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
    assert (result.resumed_from, result.sent) == (2 * SMALL, length - 2 * SMALL)
    assert_holds_exactly(server, kiosk_db, rid)


class Gate:
    """A throttle that stops the upload mid-PATCH until released (the test does something meanwhile)."""

    def __init__(self, stop_at: int):
        self.stop_at, self.sent = stop_at, 0
        self.reached, self.release = threading.Event(), threading.Event()

    def __call__(self, n: int) -> None:
        if self.sent >= self.stop_at and not self.release.is_set():
            self.reached.set()
            self.release.wait(60)
        self.sent += n


def test_a_server_killed_mid_upload_restarts_with_a_consistent_offset(pg_cluster, kiosk_db, tmp_path, monkeypatch):  # noqa: F811
    import sync.recordings as up

    monkeypatch.setattr(up, "PIECE_BYTES", 1024)
    dsn = pg_cluster.new_database()
    with running_server(dsn, tmp_path) as first:
        kiosk = first.enrol("clinic-a")
        rid = recordings_of(kiosk_db)[0]
        gate, failure = Gate(3 * SMALL + 1024), []

        def send():
            with client(first, kiosk) as http:
                try:
                    upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL, throttle=gate)
                except UploadInterrupted as exc:
                    failure.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        assert gate.reached.wait(60)
        first.process.kill()  # -9, with a PATCH half received
        first.process.wait()
        gate.release.set()
        sender.join(60)
        assert failure and "recording upload" in str(failure[0])
        held = server_state(first, rid)
        assert held["offset"] == 3 * SMALL and not held["complete"]
    with running_server(dsn, tmp_path) as second:
        with client(second, kiosk) as http:
            head = http.head(recording_path(rid))
            assert head.headers["Upload-Offset"] == str(3 * SMALL)
            result = upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
        assert result.resumed_from == 3 * SMALL
        assert_holds_exactly(second, kiosk_db, rid)


def patch(http, rid, offset, data, **headers) -> httpx.Response:
    return http.patch(recording_path(rid), content=data,
                      headers={"Content-Type": OFFSET_TYPE, "Upload-Offset": str(offset), **headers})


def test_a_wrong_offset_is_409_with_the_current_one(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    stream = kiosk_bytes(kiosk_db, rid)
    with client(server, kiosk) as http:
        assert http.put(recording_path(rid), content=put_body(len(stream), sha256_hex(stream))).status_code == 201
        assert patch(http, rid, 0, stream[:100]).headers["Upload-Offset"] == "100"
        for wrong in (0, 50, 101, 5000):
            answer = patch(http, rid, wrong, stream[wrong:wrong + 10])
            assert answer.status_code == 409 and answer.headers["Upload-Offset"] == "100", wrong
            assert answer.json()["error"] == "offset_mismatch" and answer.json()["offset"] == 100
        assert server_state(server, rid)["data"] == stream[:100]
        result = upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
    assert (result.resumed_from, result.sent) == (100, len(stream) - 100)
    assert_holds_exactly(server, kiosk_db, rid)


class FlipOneByte(httpx.HTTPTransport):
    """The real HTTP transport, but the n-th PATCH's body arrives with one bit flipped (bad RAM, a bad hop)."""

    def __init__(self, nth: int):
        super().__init__()
        self.nth, self.patches = nth, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.patches += 1
            if self.patches == self.nth:
                body = bytearray(request.read())
                body[len(body) // 2] ^= 0x10
                request = httpx.Request("PATCH", request.url, headers=request.headers, content=bytes(body))
        return super().handle_request(request)


def test_a_corrupted_chunk_fails_the_sha256_and_is_sent_again_whole(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    stream = kiosk_bytes(kiosk_db, rid)
    transport = FlipOneByte(nth=2)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {kiosk['token']}"}, timeout=30,
                      transport=transport) as http:
        result = upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
    patches = -(-len(stream) // SMALL)
    assert result.restarts == 1 and result.sent == 2 * len(stream) and transport.patches == 2 * patches
    assert server_state(server, rid)["discarded"] == 1
    assert_holds_exactly(server, kiosk_db, rid)


def test_the_server_discards_a_whole_that_misses_its_sha256(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    stream = kiosk_bytes(kiosk_db, rid)
    bad = bytearray(stream)
    bad[-1] ^= 1
    with client(server, kiosk) as http:
        http.put(recording_path(rid), content=put_body(len(stream), sha256_hex(stream)))
        assert patch(http, rid, 0, bytes(bad[:SMALL])).status_code == 204
        answer = patch(http, rid, SMALL, bytes(bad[SMALL:]))
        assert answer.status_code == 460 and answer.json()["error"] == "checksum_mismatch"
        assert answer.headers["Upload-Offset"] == "0"
        state = server_state(server, rid)
        assert (state["offset"], state["data"], state["discarded"], state["complete"]) == (0, b"", 1, False)
        assert http.get(recording_path(rid)).status_code == 409  # nothing to read back yet
        upload_recording(http, kiosk_db, rid)
    assert_holds_exactly(server, kiosk_db, rid)


def test_a_duplicate_put_is_fine_and_a_different_one_a_conflict(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    stream = kiosk_bytes(kiosk_db, rid)
    digest = sha256_hex(stream)
    with client(server, kiosk) as http:
        first = http.put(recording_path(rid), content=put_body(len(stream), digest))
        assert first.status_code == 201 and first.json()["offset"] == 0
        assert patch(http, rid, 0, stream[:10]).status_code == 204
        again = http.put(recording_path(rid), content=put_body(len(stream), digest))
        assert again.status_code == 200 and again.json() == {"status": "already created", "id": rid,
                                                              "offset": 10, "complete": False}
        for length, sha in ((len(stream) + 1, digest), (len(stream), sha256_hex(b"other"))):
            answer = http.put(recording_path(rid), content=put_body(length, sha))
            assert answer.status_code == 409 and answer.json()["error"] == "conflict"
        state = server_state(server, rid)
        assert (state["length"], state["sha256"], state["data"]) == (len(stream), digest, stream[:10])
        upload_recording(http, kiosk_db, rid)
        done = http.put(recording_path(rid), content=put_body(len(stream), digest))
        assert done.status_code == 200 and done.json()["complete"] is True
    assert_holds_exactly(server, kiosk_db, rid)


def test_clinic_b_cannot_see_or_touch_clinic_as_recording(server, kiosk_db):
    kiosk_a, kiosk_b = server.enrol("clinic-a"), server.enrol("clinic-b")
    rid = recordings_of(kiosk_db)[0]
    stream = kiosk_bytes(kiosk_db, rid)
    with client(server, kiosk_a) as http:
        upload_recording(http, kiosk_db, rid)
    with client(server, kiosk_b) as http:
        assert http.head(recording_path(rid)).status_code == 404
        for offset in (0, len(stream)):
            answer = patch(http, rid, offset, b"x")
            assert answer.status_code == 404 and "upload-offset" not in answer.headers
        got = http.get(recording_path(rid))
        assert got.status_code == 404 and got.json()["error"] == "not_found" and stream[-64:] not in got.content
        answer = http.put(recording_path(rid), content=put_body(len(stream), sha256_hex(stream)))
        assert answer.status_code == 409 and "upload-offset" not in answer.headers
        with pytest.raises(UploadRefused) as refused:
            upload_recording(http, kiosk_db, rid)
        assert refused.value.status == 409
    with client(server, server.enrol("clinic-a", "second kiosk")) as http:  # its clinic's kiosks may read it
        assert http.get(recording_path(rid)).content == stream
    assert server_state(server, rid)["clinic"] == "clinic-a"
    assert_holds_exactly(server, kiosk_db, rid)


def test_oversized_and_malformed_patches_are_refused_and_store_nothing(server, kiosk_db):
    kiosk = server.enrol("clinic-a")
    rid = str(uuid.uuid4())
    length = 2 * MAX_PATCH_BYTES
    with client(server, kiosk) as http:
        assert http.put(recording_path(rid), content=put_body(length, "0" * 64)).status_code == 201
        big = patch(http, rid, 0, b"\0" * (MAX_PATCH_BYTES + 1))
        assert big.status_code == 413 and big.json()["error"] == "too_large"

        def pieces():  # no Content-Length: cut off as it passes the limit, not read whole
            for _ in range(MAX_PATCH_BYTES // 65536 + 2):
                yield b"\0" * 65536

        assert patch(http, rid, 0, pieces()).status_code == 413
        assert patch(http, rid, 0, b"x", **{"Content-Type": "application/octet-stream"}).status_code == 415
        assert http.patch(recording_path(rid), content=b"x", headers={"Content-Type": OFFSET_TYPE}).status_code == 400
        assert patch(http, rid, 0, b"x", **{"Upload-Offset": "-1"}).status_code == 400
        assert patch(http, "not-a-uuid", 0, b"x").status_code == 400
        for body in (b"{}", b'{"length": 0, "sha256": "' + b"0" * 64 + b'"}', b'{"length": 5, "sha256": "xyz"}',
                     b"not json"):
            answer = http.put(recording_path(str(uuid.uuid4())), content=body)
            assert answer.status_code == 400 and answer.json()["reason"], body
        assert server_state(server, rid)["offset"] == 0
        # Past the recording's length is refused too.
        short = str(uuid.uuid4())
        http.put(recording_path(short), content=put_body(10, "0" * 64))
        past = patch(http, short, 0, b"y" * 11)
        assert past.status_code == 413 and "length" in past.json()["reason"]
        assert server_state(server, short)["offset"] == 0


def test_bad_tokens_are_401_for_every_method(server, kiosk_db):
    rid = recordings_of(kiosk_db)[0]
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer gk1_nope"}, timeout=30) as http:
        for method in ("PUT", "HEAD", "PATCH", "GET"):
            assert http.request(method, recording_path(rid), content=b"{}").status_code == 401, method
        with pytest.raises(UploadRefused) as refused:
            upload_recording(http, kiosk_db, rid)
    assert refused.value.status == 401 and refused.value.error == "unauthorized"
    assert server_state(server, rid) == {}

    kiosk = server.enrol("clinic-a")  # a stolen kiosk, revoked half-way through an upload
    with client(server, kiosk) as http:
        assert http.put(recording_path(rid), content=put_body(len(kiosk_bytes(kiosk_db, rid)),
                                                              sha256_hex(kiosk_bytes(kiosk_db, rid)))).status_code == 201
        assert patch(http, rid, 0, kiosk_bytes(kiosk_db, rid)[:SMALL]).status_code == 204
        done = gaitkiosk("server", "revoke", kiosk["kiosk_id"], "--dsn", server.dsn)
        assert done.returncode == 0, done.stderr
        with pytest.raises(UploadRefused) as refused:
            upload_recording(http, kiosk_db, rid)
    assert refused.value.status == 401 and refused.value.error == "revoked"
    assert server_state(server, rid)["offset"] == SMALL
    with open_store(kiosk_db) as st:
        assert st.recordings.get(rid).synced_at is None


def test_uploading_beside_a_recording_kiosk_loses_nothing(server, kiosk_db):
    """The upload reads and marks the store on its own connection while a kiosk process records a visit."""
    from test_store_beside_kiosk import _env, _read, deleted_database_files, kiosk_visit

    data = kiosk_db.parent
    earlier = recordings_of(kiosk_db)
    done = gaitkiosk("program", "set", "1234", *["quiet_standing"] * 3, "--data-dir", str(data), env=_env())
    assert done.returncode == 0, done.stderr
    visit = kiosk_visit(data, "1234")
    try:
        def recording_now():  # read-only, as a technician's command would look
            return bool(_read(kiosk_db, "SELECT 1 FROM recordings WHERE status = 'recording' AND frames > 0"))

        assert wait_until(lambda: recording_now() or visit.poll() is not None, timeout=240, step=0.1)
        assert visit.poll() is None, "the kiosk ended before it recorded"
        kiosk = server.enrol("clinic-a")
        with client(server, kiosk) as http:
            for rid in earlier:
                upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
                assert not deleted_database_files(visit.pid), "the kiosk's WAL was deleted under it"
        out, err = visit.communicate(timeout=300)
    finally:
        if visit.poll() is None:
            visit.kill()
            visit.communicate()
    assert visit.returncode == 0, err
    assert "disk I/O error" not in err and "without a recording" not in err, err
    session = json.loads(out)["session"]
    assert session["status"] == "complete" and all(t["frames"] > 0 for t in session["trials"])
    for rid in earlier:
        assert_holds_exactly(server, kiosk_db, rid)


GATE_LOCK = 4242


def test_a_server_killed_mid_transaction_keeps_parts_and_offset_together(pg_cluster, kiosk_db, tmp_path):  # noqa: F811
    """Killed inside a PATCH's transaction, as its part is being inserted: neither part nor offset is kept.

    Were the part and the offset committed apart, the part would be kept with the offset not
    counting it (an orphan the next PATCH could not follow).
    """
    dsn = pg_cluster.new_database()
    rid = recordings_of(kiosk_db)[0]
    with running_server(dsn, tmp_path) as first, psycopg.connect(dsn, autocommit=True) as gate:
        kiosk = first.enrol("clinic-a")
        # A real pause inside the server's transaction: inserting the third part waits for a lock the test holds.
        gate.execute(f"CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS "
                     f"$$ BEGIN PERFORM pg_advisory_xact_lock({GATE_LOCK}); RETURN NEW; END $$")
        gate.execute(f"CREATE TRIGGER gate BEFORE INSERT ON sync_recording_parts FOR EACH ROW "
                     f"WHEN (NEW.start = {2 * SMALL}) EXECUTE FUNCTION gate()")
        gate.execute("SELECT pg_advisory_lock(%s)", [GATE_LOCK])
        failure = []

        def send():
            with client(first, kiosk) as http:
                try:
                    upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
                except UploadInterrupted as exc:
                    failure.append(exc)

        sender = threading.Thread(target=send)
        sender.start()

        def waiting_backends():
            return [r[0] for r in gate.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' "
                "AND datname = current_database()").fetchall()]

        assert wait_until(lambda: len(waiting_backends()) == 1, timeout=60)
        (backend,) = waiting_backends()
        with psycopg.connect(dsn) as look:
            assert look.execute("SELECT upload_offset FROM sync_recordings WHERE id = %s", [rid]).fetchone() \
                == (2 * SMALL,)
        first.process.kill()
        first.process.wait()
        gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_LOCK])
        # The orphaned backend finishes its statement, finds its client gone and rolls back.
        assert wait_until(lambda: not gate.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                                   [backend]).fetchone(), timeout=60)
        sender.join(60)
        assert failure
        held = server_state(first, rid)  # checks: parts contiguous and summing to the offset
        assert held["offset"] == 2 * SMALL and len(held["data"]) == 2 * SMALL
        gate.execute("DROP TRIGGER gate ON sync_recording_parts")
    with running_server(dsn, tmp_path) as second, client(second, kiosk) as http:
        result = upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL)
        assert result.resumed_from == 2 * SMALL
        assert_holds_exactly(second, kiosk_db, rid)


def test_two_senders_racing_on_one_recording_store_it_once(server, kiosk_db):
    """The worker and a technician's `sync once` at the same time: offsets, not luck, keep it exactly once."""
    kiosk = server.enrol("clinic-a")
    rid = recordings_of(kiosk_db)[0]
    outcomes = []

    def send():
        with client(server, kiosk) as http:
            try:
                outcomes.append(upload_recording(http, kiosk_db, rid, chunk_bytes=SMALL))
            except UploadInterrupted as exc:  # lost too many races in a row: tries again later
                outcomes.append(exc)

    senders = [threading.Thread(target=send) for _ in range(3)]
    for s in senders:
        s.start()
    for s in senders:
        s.join(120)
    assert len(outcomes) == 3 and any(not isinstance(o, Exception) for o in outcomes), outcomes
    assert server_state(server, rid)["discarded"] == 0
    assert_holds_exactly(server, kiosk_db, rid)


def test_an_open_or_unknown_recording_is_not_sent(server, kiosk_db):
    from store.errors import NotFoundError
    from store.recordings import Recording

    with open_store(kiosk_db) as st:
        session_id = st.db.execute("SELECT id FROM sessions LIMIT 1").fetchone()[0]
        open_one = st.recordings.create(Recording(session_id=session_id, device_serial="MAT-9", kind="mat",
                                                  shape=[4, 4])).id
    kiosk = server.enrol("clinic-a")
    with client(server, kiosk) as http:
        with pytest.raises(UploadInterrupted, match="still being recorded"):
            upload_recording(http, kiosk_db, open_one)
        with pytest.raises(NotFoundError):
            upload_recording(http, kiosk_db, str(uuid.uuid4()))
    assert server_state(server, open_one) == {}
