"""The kiosk's sync worker against the real server process on a real PostgreSQL (tests/pg_support.py).

`gaitkiosk sync enrol|once|status` as a technician runs them, on a real SQLite kiosk database
filled through the store. After each test the server holds exactly the kiosk's rows, bit-exact
(the canonical JSON), once.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import random
import sqlite3
import stat

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_kiosk_support import exactly_once, fill, kiosk_rows, server_rows
from sync_support import gaitkiosk, running_server

from sync.protocol import row_body, row_path

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def new_code(srv, clinic: str = "north") -> str:
    done = gaitkiosk("server", "enrol-code", "--clinic", clinic, "--dsn", srv.dsn, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["code"]


def sync(data_dir, *argv, config=None):
    extra = ("--config", str(config)) if config else ()
    return gaitkiosk("sync", *argv, "--data-dir", str(data_dir), *extra)


def enrolled(srv, data_dir, clinic: str = "north", *extra) -> dict:
    done = sync(data_dir, "enrol", srv.url, new_code(srv, clinic), *extra)
    assert done.returncode == 0, done.stderr
    return json.loads((data_dir / "sync.json").read_text())


def status(data_dir) -> dict:
    done = sync(data_dir, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def outbox(data_dir, where="1") -> list[tuple]:
    conn = sqlite3.connect(f"file:{data_dir / 'gaitkiosk.db'}?mode=ro", uri=True)
    try:
        return conn.execute(f"SELECT seq, entity, entity_id, sent_at, refused_at, attempts, last_error FROM outbox "
                            f"WHERE {where} ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_enrol_and_once_store_exactly_the_kiosks_rows_once(server, tmp_path):
    fill(tmp_path, sessions=3)
    kiosk = enrolled(server, tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "sync.json").st_mode) == 0o600
    assert status(tmp_path)["queued_by_entity"] == {"audit": 2, "calibration": 1, "patient": 1, "program": 1,
                                                    "report": 6, "session": 3, "trial": 6}
    done = sync(tmp_path, "once")
    assert done.returncode == 0, done.stderr
    assert "sent 20 row(s)" in done.stdout
    held = exactly_once(server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])
    assert len(held) == 20
    assert outbox(tmp_path, "sent_at IS NULL") == []
    again = sync(tmp_path, "once")
    assert again.returncode == 0 and "sent 0 row(s)" in again.stdout, again.stdout + again.stderr
    assert len(server_rows(server.dsn, kiosk["kiosk_id"])) == 20
    s = status(tmp_path)
    assert (s["queued"], s["last_error"], s["kiosk_id"], s["clinic"]) == (0, "", kiosk["kiosk_id"], "north")
    assert s["last_success_at"] and s["server"] == server.url
    check = gaitkiosk("db", "check", "--data-dir", str(tmp_path), "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["sync"]["queued"] == 0
    conn = sqlite3.connect(tmp_path / "gaitkiosk.db")
    assert conn.execute("SELECT count(*) FROM sessions WHERE synced_at IS NULL").fetchone()[0] == 0
    conn.close()


def test_replayed_and_reordered_sends_leave_one_row_each(server, tmp_path):
    fill(tmp_path, sessions=4)
    kiosk = enrolled(server, tmp_path)
    queued = outbox(tmp_path)
    bodies = {(e, i): (s, p) for s, e, i, p in sqlite3.connect(tmp_path / "gaitkiosk.db").execute(
        "SELECT seq, entity, entity_id, payload FROM outbox")}
    head = {"Authorization": f"Bearer {kiosk['token']}"}
    # Half of the rows reach the server first, shuffled and racing (a lost answer, a reordering proxy) ...
    some = [(e, i) for _, e, i, *_ in queued[::2]]
    random.Random(12).shuffle(some)

    def put(key):
        seq, payload = bodies[key]
        return httpx.put(server.url + row_path(*key), content=row_body(seq, json.loads(payload)), headers=head,
                         timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        assert set(pool.map(put, some + some)) <= {200, 201}
    # ... then the worker sends all of them, and again after a backup restore forgot they were sent.
    assert sync(tmp_path, "once").returncode == 0
    conn = sqlite3.connect(tmp_path / "gaitkiosk.db")
    conn.execute("UPDATE outbox SET sent_at = NULL")
    conn.commit()
    conn.close()
    done = sync(tmp_path, "once")
    assert done.returncode == 0 and f"sent {len(queued)} row(s)" in done.stdout, done.stdout + done.stderr
    exactly_once(server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


def test_a_4xx_is_recorded_against_its_row_and_not_resent(server, tmp_path):
    fill(tmp_path, sessions=1)
    kiosk = enrolled(server, tmp_path)
    from store import open_store

    with open_store(tmp_path) as st:  # a row over the server's 1 MiB limit: refused (413) every time
        st.audit.log("huge", details={"blob": "x" * (1024 * 1024 + 10)})
    done = sync(tmp_path, "once")
    assert done.returncode == 0 and "1 refused" in done.stdout, done.stdout + done.stderr
    [refused] = outbox(tmp_path, "refused_at IS NOT NULL")
    assert refused[1] == "audit" and refused[5] == 1 and "HTTP 413" in refused[6]
    assert sync(tmp_path, "once").returncode == 0
    assert outbox(tmp_path, "refused_at IS NOT NULL")[0][5] == 1  # not tried again
    s = status(tmp_path)
    assert s["refused"] == 1 and "413" in s["refused_items"][0]["error"]
    assert "refused" in sync(tmp_path, "status").stdout
    on_server = {(e, i) for e, i, _ in server_rows(server.dsn, kiosk["kiosk_id"])}
    assert on_server == set(kiosk_rows(tmp_path / "gaitkiosk.db")) - {("audit", refused[2])}


def test_a_revoked_or_unknown_token_is_a_clear_status_error_and_loses_nothing(server, tmp_path):
    fill(tmp_path, sessions=1)
    kiosk = enrolled(server, tmp_path)
    assert gaitkiosk("server", "revoke", kiosk["kiosk_id"], "--dsn", server.dsn).returncode == 0
    done = sync(tmp_path, "once")
    assert done.returncode == 1 and "revoked" in done.stderr and "enrol" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    s = status(tmp_path)
    assert "revoked" in s["last_error"] and s["queued"] == len(kiosk_rows(tmp_path / "gaitkiosk.db"))
    assert "revoked" in sync(tmp_path, "status").stdout
    doc = json.loads((tmp_path / "sync.json").read_text())
    doc["token"] = "gk1_" + "A" * 43
    (tmp_path / "sync.json").write_text(json.dumps(doc))
    done = sync(tmp_path, "once")
    assert done.returncode == 1 and "unknown token" in done.stderr, done.stderr
    assert server_rows(server.dsn, kiosk["kiosk_id"]) == []
    again = enrolled(server, tmp_path)  # enrolled again: everything goes, once
    assert sync(tmp_path, "once").returncode == 0
    exactly_once(server.dsn, tmp_path / "gaitkiosk.db", again["kiosk_id"])


def test_plain_http_off_loopback_and_bad_pins_are_refused_in_one_line(tmp_path):
    done = sync(tmp_path, "enrol", "http://192.0.2.10:8443", "ABCD-EFGH-JKLM")
    assert done.returncode == 1 and "plain http" in done.stderr and "HTTPS" in done.stderr
    done = sync(tmp_path, "enrol", "https://192.0.2.10:8443", "ABCD-EFGH-JKLM", "--pin", "12:34")
    assert done.returncode == 1 and "64 hex digits" in done.stderr
    assert not (tmp_path / "sync.json").exists()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    import trustme

    where = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    cert.private_key_pem.write_to_path(str(where / "server.key"))
    for pem in cert.cert_chain_pems:
        pem.write_to_path(str(where / "server.pem"), append=True)
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()).public_bytes(Encoding.DER)
    return where, hashlib.sha256(der).hexdigest()


@pytest.fixture(scope="module")
def tls_server(pg_cluster, tls):  # noqa: F811
    import ssl

    where, _pin = tls
    extra = ("--certfile", str(where / "server.pem"), "--keyfile", str(where / "server.key"))
    trusted = ssl.create_default_context(cafile=str(where / "ca.pem"))
    with running_server(pg_cluster.new_database(), where, extra, scheme="https", verify=trusted) as srv:
        yield srv


def test_https_with_the_ca_verified(tls_server, tls, tmp_path):
    where, _ = tls
    fill(tmp_path, sessions=2)
    kiosk = enrolled(tls_server, tmp_path, "north", "--ca-file", str(where / "ca.pem"))
    assert sync(tmp_path, "once").returncode == 0
    exactly_once(tls_server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])
    untrusting = tmp_path / "other"
    done = sync(untrusting, "enrol", tls_server.url, new_code(tls_server))  # the system CAs do not know it
    assert done.returncode == 1 and "certificate" in done.stderr.lower(), done.stderr


def test_https_with_the_certificate_pinned_and_a_mismatch_refused(tls_server, tls, tmp_path):
    _, pin = tls
    fill(tmp_path, sessions=2)
    code = new_code(tls_server)
    wrong = hashlib.sha256(b"another certificate").hexdigest()
    done = sync(tmp_path, "enrol", tls_server.url, code, "--pin", wrong)
    assert done.returncode == 1 and "certificate pin mismatch" in done.stderr and "nothing was sent" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    # nothing was sent: the code is still unused
    done = sync(tmp_path, "enrol", tls_server.url, code, "--pin", ":".join(pin[i:i + 2] for i in range(0, 64, 2)))
    assert done.returncode == 0, done.stderr
    kiosk = json.loads((tmp_path / "sync.json").read_text())
    assert kiosk["pin_sha256"] == pin
    kiosk["pin_sha256"] = wrong  # the server's certificate is not the one enrolled any more
    (tmp_path / "sync.json").write_text(json.dumps(kiosk))
    done = sync(tmp_path, "once")
    assert done.returncode == 1 and "certificate pin mismatch" in done.stderr, done.stderr
    assert "pin mismatch" in status(tmp_path)["last_error"]
    assert server_rows(tls_server.dsn, kiosk["kiosk_id"]) == []
    kiosk["pin_sha256"] = pin
    (tmp_path / "sync.json").write_text(json.dumps(kiosk))
    assert sync(tmp_path, "once").returncode == 0
    exactly_once(tls_server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


def test_a_kiosk_clock_days_off_changes_no_order_on_the_server(server, tmp_path):
    """Rows carry the kiosk's wall time as recorded; the server orders by seq and its own received_at."""
    fill(tmp_path, sessions=1, started_at="2026-12-10T08:00:00.000000Z")  # days ahead
    fill(tmp_path, sessions=1, started_at="2020-01-01T08:00:00.000000Z")  # then years back (a power cut)
    kiosk = enrolled(server, tmp_path)
    assert sync(tmp_path, "once").returncode == 0
    held = exactly_once(server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])
    with psycopg.connect(server.dsn) as conn:
        found = conn.execute("SELECT seq, body::jsonb->>'started_at' FROM sync_rows WHERE kiosk_id = %s "
                             "AND entity = 'session' ORDER BY seq", [kiosk["kiosk_id"]]).fetchall()
    assert [s for _, s in found] == ["2026-12-10T08:00:00.000000Z", "2020-01-01T08:00:00.000000Z"]
    assert len(held) > 2


def test_the_bandwidth_cap_holds_the_average_rate(server, tmp_path):
    import time

    from sync.worker import Worker

    fill(tmp_path, sessions=3)
    kiosk = enrolled(server, tmp_path)
    conn = sqlite3.connect(tmp_path / "gaitkiosk.db")
    total = sum(len(row_body(s, json.loads(p))) for s, p in conn.execute("SELECT seq, payload FROM outbox"))
    conn.close()
    rate = total // 5  # one second's worth goes at once, the rest at the rate: at least 4 s
    with Worker(tmp_path, {"bandwidth_bytes_per_s": rate}) as worker:
        started = time.perf_counter()
        done = worker.once()
        took = time.perf_counter() - started
    assert done.sent == 20 and done.bytes == total
    assert took >= 3.8, f"{total} bytes at {rate} B/s took only {took:.2f} s"
    exactly_once(server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


def test_a_patient_edited_while_its_row_is_in_flight_is_not_marked_sent_unseen(server, tmp_path):
    """The edit lands between the PUT and the marking: the kiosk does not pretend the server has it."""
    import threading

    from store import open_store
    from store.patients import Patient
    from sync.worker import Worker

    with open_store(tmp_path) as st:
        patient = st.patients.add(Patient(code="P-1", birth_year=1950))
    kiosk = enrolled(server, tmp_path)
    with Worker(tmp_path) as worker:
        http = worker._client()
        batch = [b for b in worker._pending_rows() if b[1] == "patient"]
        outcomes = worker._send(http, batch, threading.Event())
        assert [o.kind for o in outcomes] == ["sent"]
        with open_store(tmp_path) as st:  # the technician fixes the birth year at that moment
            patient.birth_year = 1951
            st.patients.update(patient)
        worker._record(outcomes)
        assert len(outbox(tmp_path, "sent_at IS NULL AND entity = 'patient'")) == 1
        done = worker.once()  # the resend differs from what the server holds: a conflict, kept there for review
    assert done.conflicts == 1
    [row] = [r for r in outbox(tmp_path) if r[1] == "patient"]
    assert row[3] is not None and row[6].startswith("HTTP 409")
    [(_, _, body)] = [r for r in server_rows(server.dsn, kiosk["kiosk_id"]) if r[0] == "patient"]
    assert json.loads(body)["birth_year"] == 1950
    assert status(tmp_path)["conflicts"] == 1
