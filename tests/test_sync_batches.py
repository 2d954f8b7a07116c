"""Many rows in one request (`POST /v1/rows`, docs/sync.md "Batches"), on the real server.

Each row gets the answer its own PUT would have had, in the request's order; a row that fails its
checks is refused alone; a batch racing another with the same rows stores each once; another
clinic's row is a conflict that shows nothing of it; the batch as such is checked (size, shape,
token). The kiosk's worker sends its rows this way (tests/test_sync_kiosk.py, test_sync_faults.py).
"""

from __future__ import annotations

import concurrent.futures
import json
import uuid

import httpx
import psycopg
import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_support import running_server

from sync.errors import PayloadError
from sync.protocol import (
    MAX_BATCH_ROWS,
    RowPut,
    batch_body,
    canonical,
    check_batch,
    row_body,
    row_path,
)

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


def post(server, kiosk, body: bytes) -> httpx.Response:
    return httpx.post(server.url + "/v1/rows", content=body, timeout=60,
                      headers={"Authorization": f"Bearer {kiosk['token']}", "Content-Type": "application/json"})


def held(server, ids) -> dict:
    with psycopg.connect(server.dsn) as conn:
        found = conn.execute("SELECT id::text, clinic_id, seq, body FROM sync_rows WHERE id = ANY(%s::uuid[])",
                             [list(ids)]).fetchall()
    out = {}
    for row_id, clinic, seq, body in found:
        assert row_id not in out, f"{row_id} stored twice"
        out[row_id] = (clinic, seq, body)
    return out


def test_check_batch_refuses_rows_alone_and_the_batch_as_such():
    good, bad_id = str(uuid.uuid4()), "not-a-uuid"
    checked = check_batch(batch_body([("session", good, 3, {"a": 1}), ("session", bad_id, 4, {"a": 2}),
                                      ("nonsense", str(uuid.uuid4()), 5, {})]))
    assert isinstance(checked[0], RowPut) and checked[0].body == canonical({"a": 1}) and checked[0].seq == 3
    assert isinstance(checked[1], PayloadError) and "not a UUID" in str(checked[1])
    assert isinstance(checked[2], PayloadError) and "unknown entity" in str(checked[2])
    for body, words in ((b"[]", '"rows"'), (b'{"rows": []}', "1 to"), (b"\xff", "UTF-8"), (b"{", "not JSON"),
                        (batch_body([("session", good, 1, {})] * (MAX_BATCH_ROWS + 1)), "1 to")):
        with pytest.raises(PayloadError, match=words):
            check_batch(body)
    odd = json.dumps({"rows": [{"entity": "session", "id": good, "seq": 1}]}).encode()  # no "data"
    assert isinstance(check_batch(odd)[0], PayloadError)


def test_each_row_gets_the_answer_of_its_own_put_in_order(server):
    kiosk = server.enrol("north")
    ids = [str(uuid.uuid4()) for _ in range(4)]
    # ids[1] is already there with another body: a conflict; ids[2] already there identical.
    assert httpx.put(server.url + row_path("session", ids[1]), content=row_body(1, {"v": "old"}), timeout=30,
                     headers={"Authorization": f"Bearer {kiosk['token']}"}).status_code == 201
    assert httpx.put(server.url + row_path("trial", ids[2]), content=row_body(2, {"v": 2}), timeout=30,
                     headers={"Authorization": f"Bearer {kiosk['token']}"}).status_code == 201
    answer = post(server, kiosk, batch_body([
        ("session", ids[0], 10, {"v": 0, "text": "é ✓"}), ("session", ids[1], 11, {"v": "new"}),
        ("trial", ids[2], 2, {"v": 2}), ("session", "bad", 13, {}), ("audit", ids[3], 14, {"v": 3})]))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["stored", "conflict", "already stored", "refused", "stored"]
    assert [r.get("id") for r in results] == [ids[0], ids[1], ids[2], None, ids[3]]
    assert results[3]["error"] == "bad_payload"
    rows = held(server, ids)
    assert rows[ids[0]] == ("north", 10, canonical({"v": 0, "text": "é ✓"}))
    assert rows[ids[1]][2] == canonical({"v": "old"})  # never overwritten
    with psycopg.connect(server.dsn) as conn:
        kept = conn.execute("SELECT body FROM sync_conflicts WHERE id = %s", [ids[1]]).fetchall()
    assert kept == [(canonical({"v": "new"}),)]
    again = post(server, kiosk, batch_body([("session", ids[0], 10, {"text": "é ✓", "v": 0})]))
    assert again.json()["results"][0]["status"] == "already stored"  # a replay after a lost answer


def test_racing_batches_with_the_same_rows_store_each_once(server):
    kiosk = server.enrol("north")
    items = [("trial", str(uuid.uuid4()), n, {"n": n}) for n in range(300)]

    def send(shift):  # the same rows in another order each time (a reordering proxy, two workers)
        order = items[shift:] + items[:shift]
        return post(server, kiosk, batch_body(order))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, (0, 75, 150, 225)))
    assert all(a.status_code == 200 for a in answers), [a.text[:200] for a in answers]
    statuses = [r["status"] for a in answers for r in a.json()["results"]]
    assert statuses.count("stored") == len(items) and statuses.count("already stored") == 3 * len(items)
    assert len(held(server, [i for _e, i, _s, _d in items])) == len(items)


def test_another_clinics_row_is_a_conflict_that_shows_nothing(server):
    a, b = server.enrol("north"), server.enrol("south")
    row_id = str(uuid.uuid4())
    assert post(server, a, batch_body([("session", row_id, 1, {"secret": "north's"})])).status_code == 200
    answer = post(server, b, batch_body([("session", row_id, 1, {"mine": True})]))
    result = answer.json()["results"][0]
    assert result["status"] == "conflict" and "north" not in json.dumps(result) and "secret" not in json.dumps(result)
    assert held(server, [row_id])[row_id][0] == "north"


def test_the_batch_itself_is_checked(server):
    kiosk = server.enrol("north")
    assert post(server, {"token": "gk1_nobody"}, batch_body([("session", str(uuid.uuid4()), 1, {})])).status_code == 401
    answer = post(server, kiosk, b'{"rows": "all of them"}')
    assert answer.status_code == 400 and answer.json()["error"] == "bad_payload"
    huge = batch_body([("session", str(uuid.uuid4()), n, {"pad": "x" * 9000}) for n in range(1000)])
    assert post(server, kiosk, huge).status_code == 413
