"""`gaitkiosk server` as a real process on a real PostgreSQL (tests/pg_support.py), spoken to over HTTP.

Rows: exactly once (identical replays succeed, racing ones too), a different body is a recorded
409 that never overwrites; tokens: missing, unknown and revoked are 401; clinics: a kiosk of
clinic B can neither read nor change clinic A's rows; bad input: 4xx with a reason, nothing stored.
"""

from __future__ import annotations

import concurrent.futures
import json
import uuid

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import gaitkiosk, running_server

from sync.protocol import MAX_ROW_BYTES, canonical, row_body, row_path
from sync.server import migrations

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def auth(kiosk: dict) -> dict:
    return {"Authorization": f"Bearer {kiosk['token']}"}


def put(server, kiosk, entity, row_id, data, seq=1) -> httpx.Response:
    return httpx.put(server.url + row_path(entity, row_id), content=row_body(seq, data), headers=auth(kiosk), timeout=30)


def stored(server, entity, row_id) -> list[tuple]:
    with psycopg.connect(server.dsn) as conn:
        return conn.execute("SELECT clinic_id, kiosk_id::text, seq, body FROM sync_rows WHERE entity = %s AND id = %s",
                            [entity, row_id]).fetchall()


def conflicts(server, entity, row_id) -> list[tuple]:
    with psycopg.connect(server.dsn) as conn:
        return conn.execute("SELECT clinic_id, body FROM sync_conflicts WHERE entity = %s AND id = %s",
                            [entity, row_id]).fetchall()


SESSION = {"patient_code": "P-007", "started_at": "2026-11-21T09:12:03.000001Z", "score": 86.5, "notes": "é ✓",
           "metrics": {"sway_area_mm2": 140.25, "missing": None}}


def test_an_identical_replay_is_stored_once(server):
    kiosk = server.enrol("clinic-a")
    row_id = str(uuid.uuid4())
    first = put(server, kiosk, "session", row_id, SESSION, seq=7)
    again = put(server, kiosk, "session", row_id, dict(reversed(SESSION.items())), seq=7)
    assert (first.status_code, first.json()["status"]) == (201, "stored")
    assert (again.status_code, again.json()["status"]) == (200, "already stored")
    assert again.json()["received_at"] == first.json()["received_at"]
    assert stored(server, "session", row_id) == [("clinic-a", kiosk["kiosk_id"], 7, canonical(SESSION))]
    back = httpx.get(server.url + row_path("session", row_id), headers=auth(kiosk), timeout=30)
    assert back.status_code == 200 and back.json()["data"] == SESSION and back.json()["seq"] == 7


def test_racing_identical_sends_store_the_row_once(server):
    kiosk = server.enrol("clinic-a")
    row_id = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: put(server, kiosk, "trial", row_id, SESSION).status_code, range(16)))
    assert codes == [200] * 15 + [201]
    assert len(stored(server, "trial", row_id)) == 1


def test_a_different_body_is_a_recorded_conflict_and_never_overwrites(server):
    kiosk = server.enrol("clinic-a")
    row_id = str(uuid.uuid4())
    assert put(server, kiosk, "report", row_id, SESSION).status_code == 201
    changed = {**SESSION, "score": 12.0}
    answer = put(server, kiosk, "report", row_id, changed, seq=2)
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict" and "different body" in answer.json()["reason"]
    assert put(server, kiosk, "report", row_id, changed, seq=2).status_code == 409  # replayed: recorded once
    assert stored(server, "report", row_id)[0][3] == canonical(SESSION)
    assert conflicts(server, "report", row_id) == [("clinic-a", canonical(changed))]


def test_missing_unknown_and_revoked_tokens_are_refused(server):
    kiosk = server.enrol("clinic-a")
    row_id = str(uuid.uuid4())
    url = server.url + row_path("patient", row_id)
    for headers in ({}, {"Authorization": "Bearer gk1_not-a-token"}, {"Authorization": "Basic abc"}):
        answer = httpx.put(url, content=row_body(1, {}), headers=headers, timeout=30)
        assert answer.status_code == 401 and answer.json()["reason"], headers
        assert answer.headers["www-authenticate"] == "Bearer"
    assert put(server, kiosk, "patient", row_id, {"code": "P-1"}).status_code == 201

    done = gaitkiosk("server", "revoke", kiosk["kiosk_id"], "--dsn", server.dsn)
    assert done.returncode == 0, done.stderr
    answer = put(server, kiosk, "patient", str(uuid.uuid4()), {"code": "P-2"})
    assert answer.status_code == 401 and answer.json()["error"] == "revoked"
    assert httpx.get(url, headers=auth(kiosk), timeout=30).status_code == 401
    listed = json.loads(gaitkiosk("server", "kiosks", "--clinic", "clinic-a", "--dsn", server.dsn, "--json").stdout)
    assert [k["revoked_at"] is not None for k in listed if k["id"] == kiosk["kiosk_id"]] == [True]
    assert len(stored(server, "patient", row_id)) == 1  # its data stays


def test_a_kiosk_of_clinic_b_cannot_read_or_change_clinic_a(server):
    kiosk_a, kiosk_b = server.enrol("clinic-a"), server.enrol("clinic-b")
    assert kiosk_b["clinic"] == "clinic-b"
    row_id = str(uuid.uuid4())
    assert put(server, kiosk_a, "patient", row_id, {"code": "P-007"}).status_code == 201
    read = httpx.get(server.url + row_path("patient", row_id), headers=auth(kiosk_b), timeout=30)
    assert read.status_code == 404 and "P-007" not in read.text
    for data in ({"code": "P-007"}, {"code": "P-666"}):  # the same body too: it is not B's row
        answer = put(server, kiosk_b, "patient", row_id, data)
        assert answer.status_code == 409 and "P-007" not in answer.text
    assert stored(server, "patient", row_id) == [("clinic-a", kiosk_a["kiosk_id"], 1, canonical({"code": "P-007"}))]
    assert httpx.get(server.url + row_path("patient", row_id), headers=auth(kiosk_a), timeout=30).status_code == 200


@pytest.mark.parametrize("entity, row_id, body, status, words", [
    ("session", None, b"{not json", 400, "not JSON"),
    ("session", None, b'{"seq": 1, "data": {"x": NaN}}', 400, "NaN"),
    ("session", None, b'{"seq": "x", "data": {}}', 400, '"seq" must be'),
    ("session", "P-007", b'{"seq": 1, "data": {}}', 400, "not a UUID"),
    ("gossip", None, b'{"seq": 1, "data": {}}', 400, "unknown entity"),
    ("session", None, row_body(1, {"x": "a" * MAX_ROW_BYTES}), 413, "over the limit"),
])
def test_malformed_and_oversized_rows_are_refused_with_a_reason(server, entity, row_id, body, status, words):
    kiosk = server.enrol("clinic-a")
    row_id = row_id or str(uuid.uuid4())
    answer = httpx.put(server.url + f"/v1/rows/{entity}/{row_id}", content=body, headers=auth(kiosk), timeout=60)
    assert answer.status_code == status
    assert words in answer.json()["reason"]
    with psycopg.connect(server.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM sync_rows WHERE kiosk_id = %s", [kiosk["kiosk_id"]]).fetchone() == (0,)


def test_an_oversized_body_without_a_length_is_cut_off(server):
    kiosk = server.enrol("clinic-a")

    def chunks():  # no Content-Length: the server must stop reading at the limit, not buffer it all
        yield b'{"seq": 1, "data": {"x": "'
        for _ in range(64):
            yield b"a" * 65536
        yield b'"}}'

    answer = httpx.put(server.url + row_path("session", str(uuid.uuid4())), content=chunks(), headers=auth(kiosk),
                       timeout=60)
    assert answer.status_code == 413 and "over the limit" in answer.json()["reason"]


def test_an_enrolment_code_works_once_and_not_after_it_expires(server):
    done = gaitkiosk("server", "enrol-code", "--clinic", "clinic-c", "--dsn", server.dsn, "--json")
    code = json.loads(done.stdout)["code"]
    first = httpx.post(f"{server.url}/v1/enrol", json={"code": code.lower().replace("-", " "), "name": "k1"}, timeout=30)
    assert first.status_code == 201 and first.json()["clinic"] == "clinic-c"
    again = httpx.post(f"{server.url}/v1/enrol", json={"code": code, "name": "k2"}, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "bad_code"

    late = json.loads(gaitkiosk("server", "enrol-code", "--clinic", "clinic-c", "--dsn", server.dsn, "--json").stdout)
    with psycopg.connect(server.dsn) as conn:  # the code's 24 hours have passed
        conn.execute("UPDATE enrol_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL")
    answer = httpx.post(f"{server.url}/v1/enrol", json={"code": late["code"], "name": "k3"}, timeout=30)
    assert answer.status_code == 401 and "expired" in answer.json()["reason"]
    assert httpx.post(f"{server.url}/v1/enrol", content=b"[1]", timeout=30).status_code == 400


def test_migrations_run_once_and_a_newer_database_is_refused(pg_cluster):  # noqa: F811
    dsn = pg_cluster.new_database()
    with psycopg.connect(dsn) as conn:
        assert migrations.migrate(conn) == [name for _, name, _ in migrations.available()]
        assert migrations.migrate(conn) == []
        conn.execute("INSERT INTO server_migrations (number, name) VALUES (%s, 'from_the_future.sql')",
                     [len(migrations.available()) + 1])
        conn.commit()
    done = gaitkiosk("server", "enrol-code", "--clinic", "x", "--dsn", dsn)
    assert done.returncode == 1 and "update the server's software" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_bad_command_lines_get_one_line_and_no_database_is_touched():
    done = gaitkiosk("server", "--host", "0.0.0.0", "--dsn", "postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 1 and "plain HTTP" in done.stderr and len(done.stderr.splitlines()) == 1
    done = gaitkiosk("server", "enrol-code", "--clinic", "a", "--dsn", "postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 1 and "cannot connect to PostgreSQL" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    done = gaitkiosk("server", "enrol-code", "--clinic", "a b", "--dsn", "postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 1 and "clinic 'a b'" in done.stderr
    done = gaitkiosk("server", "kiosks", env={"GAITKIOSK_SERVER_DSN": ""})
    assert done.returncode == 1 and "--dsn" in done.stderr


def test_off_loopback_it_speaks_only_tls_with_its_certificate(pg_cluster, tmp_path):  # noqa: F811
    import ssl

    import trustme

    ca = trustme.CA()  # a real local CA: the kiosk trusts it, nothing else does
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    for pem in cert.cert_chain_pems:
        pem.write_to_path(str(tmp_path / "server.pem"), append=True)
    trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    extra = ("--certfile", str(tmp_path / "server.pem"), "--keyfile", str(tmp_path / "server.key"))
    with running_server(pg_cluster.new_database(), tmp_path, extra, scheme="https", verify=trusted) as srv:
        code = json.loads(gaitkiosk("server", "enrol-code", "--clinic", "tls", "--dsn", srv.dsn, "--json").stdout)["code"]
        kiosk = httpx.post(f"{srv.url}/v1/enrol", json={"code": code, "name": "k"}, verify=trusted, timeout=30).json()
        row_id = str(uuid.uuid4())
        answer = httpx.put(srv.url + row_path("session", row_id), content=row_body(1, SESSION), headers=auth(kiosk),
                           verify=trusted, timeout=30)
        assert answer.status_code == 201
        with pytest.raises(httpx.ConnectError):  # a client that does not trust this CA refuses the server
            httpx.get(f"{srv.url}/v1/health", timeout=30)
        with pytest.raises(httpx.HTTPError):  # and plain HTTP is not spoken on the port
            httpx.get(srv.url.replace("https:", "http:") + "/v1/health", timeout=30)
        assert stored(srv, "session", row_id)[0][3] == canonical(SESSION)
