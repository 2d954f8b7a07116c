"""The server's HTTP API (docs/sync.md): a thin Starlette layer over sync.protocol and PostgreSQL.

Every answer is JSON; every refusal has ``error`` (a word) and ``reason`` (one line for a person).
A kiosk is known only by its bearer token and sees only its own clinic: a row of another clinic
is "not found" to it, exactly like a row that does not exist.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync.changes import parse_cursor, parse_limit
from sync.errors import PayloadError
from sync.protocol import (
    API,
    MAX_BATCH_BYTES,
    MAX_ROW_BYTES,
    check_batch,
    check_entity_id,
    check_row_put,
)
from sync.server import changes, credentials, fhir
from sync.server.admin import SESSION_OPTIONS

MAX_ENROL_BYTES = 4096
VERSION_HEADER = "Gaitkiosk-Version"
VERSION_RE = re.compile(r"\d{1,6}\.\d{1,6}\.\d{1,6}")


class Refusal(Exception):
    def __init__(self, status: int, error: str, reason: str, **extra):
        super().__init__(reason)
        self.status, self.error, self.reason, self.extra = status, error, reason, extra

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse({"error": self.error, "reason": self.reason, **self.extra}, self.status, headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is over ``limit``: never read whole first."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refusal(400, "bad_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise Refusal(413, "too_large", f"body of {declared} bytes is over the limit of {limit}")
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise Refusal(413, "too_large", f"body is over the limit of {limit} bytes")
        parts.append(part)
    return b"".join(parts)


async def _kiosk(request: Request) -> tuple[str, str]:
    """(kiosk id, clinic) of the request's bearer token, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "unauthorized", "no bearer token: enrol the kiosk (gaitkiosk sync enrol URL CODE)")
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT id, clinic_id, revoked_at, version FROM kiosks WHERE token_sha256 = %s",
            [credentials.token_digest(token.strip())])).fetchone()
        if row is not None and row[2] is None:
            await _note_version(conn, request, row[0], row[3])
    if row is None:
        raise Refusal(401, "unauthorized", "unknown token: enrol the kiosk again")
    if row[2] is not None:
        raise Refusal(401, "revoked", f"this kiosk's token was revoked at {row[2].isoformat()}: enrol it again")
    return str(row[0]), row[1]


async def _note_version(conn, request: Request, kiosk_id, known: str | None) -> None:
    """Keep the version the kiosk says it runs (``Gaitkiosk-Version``, sent with every request) for
    `gaitkiosk server kiosks`; written only when it changed, so a request costs no write."""
    said = request.headers.get(VERSION_HEADER, "")
    if said and said != known and VERSION_RE.fullmatch(said):
        await conn.execute("UPDATE kiosks SET version = %s, version_at = clock_timestamp() WHERE id = %s",
                           [said, kiosk_id])


async def _clinic_tool(request: Request) -> tuple[str, str]:
    """(clinic, tool name) of the request's clinic-tool token (``gaitkiosk server clinic-token``), or 401.
    A kiosk's token is not one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "unauthorized", "no bearer token: a clinic tool's token comes from "
                                           "`gaitkiosk server clinic-token --clinic C --name TOOL`")
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute("SELECT clinic_id, revoked_at, name FROM clinic_tokens WHERE token_sha256 = %s",
                                        [credentials.token_digest(token.strip())])).fetchone()
    if row is None:
        raise Refusal(401, "unauthorized", "unknown token: this needs a clinic tool's token, not a kiosk's")
    if row[1] is not None:
        raise Refusal(401, "revoked", f"this token was revoked at {row[1].isoformat()}")
    return row[0], row[2]


async def fhir_observations(request: Request) -> Response:
    """FHIR R4 search ``GET /fhir/Observation?patient=<code>``: a searchset Bundle of the clinic's measures."""
    clinic, _tool = await _clinic_tool(request)
    unknown = sorted(set(request.query_params) - {"patient"})
    if unknown:
        raise Refusal(400, "bad_request", f"unsupported search parameter(s) {', '.join(unknown)}: only patient=<code>")
    patient = request.query_params.get("patient")
    if patient is not None:
        patient = patient.removeprefix("Patient/")
    async with request.app.state.pool.connection() as conn:
        found = await fhir.clinic_observations(conn, clinic, patient)
    return JSONResponse(fhir.bundle(found, "searchset"), 200, media_type="application/fhir+json")


async def put_clinic_row(request: Request) -> Response:
    """A clinic tool changes a patient or program for its clinic's kiosks (docs/sync.md "Down")."""
    clinic, tool = await _clinic_tool(request)
    entity, row_id = request.path_params["entity"], request.path_params["id"]
    try:
        row_id = str(uuid.UUID(row_id))
        data = json.loads(await _body(request, MAX_ROW_BYTES), parse_constant=_no_constant)
        async with request.app.state.pool.connection() as conn, conn.transaction():
            status, row = await changes.put(conn, clinic, entity, row_id, data, source=tool[:200])
    except changes.Refused as exc:
        raise Refusal(409, "conflict", str(exc)) from None
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "bad_payload", f"the body must be the {entity} as a JSON object, and the id a UUID") from None
    return JSONResponse({"status": status, "entity": entity, "id": row_id, "data": row},
                        201 if status == "stored" else 200)


def _no_constant(name: str):
    raise PayloadError(f"the body holds {name}, which is not JSON (send null)")


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def enrol(request: Request) -> Response:
    """A one-time code (made by `gaitkiosk server enrol-code`) becomes a kiosk and its token."""
    try:
        doc = json.loads(await _body(request, MAX_ENROL_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "bad_request", 'enrolment body must be JSON {"code": ..., "name": ...}') from None
    if not isinstance(doc, dict) or not isinstance(doc.get("code"), str) or not isinstance(doc.get("name"), str) \
            or not 0 < len(doc["name"]) <= 200:
        raise Refusal(400, "bad_request", 'enrolment body must be {"code": "XXXX-XXXX-XXXX", "name": "1 to 200 characters"}')
    kiosk_id, token = str(uuid.uuid4()), credentials.new_token()
    async with request.app.state.pool.connection() as conn, conn.transaction():
        # Used and checked in one statement: two kiosks racing with one code cannot both win.
        row = await (await conn.execute(
            "UPDATE enrol_codes SET used_at = clock_timestamp(), kiosk_id = %s "
            "WHERE code_sha256 = %s AND used_at IS NULL AND expires_at > clock_timestamp() RETURNING clinic_id",
            [kiosk_id, credentials.code_digest(doc["code"])])).fetchone()
        if row is None:
            raise Refusal(401, "bad_code", "unknown, expired or already used enrolment code: ask for a new one "
                                           "(gaitkiosk server enrol-code --clinic C)")
        await conn.execute("INSERT INTO kiosks (id, clinic_id, name, token_sha256) VALUES (%s, %s, %s, %s)",
                           [kiosk_id, row[0], doc["name"], credentials.token_digest(token)])
    return JSONResponse({"kiosk_id": kiosk_id, "clinic": row[0], "token": token}, 201)


async def _store_row(conn, clinic: str, kiosk_id: str, put) -> tuple[str, str | None]:
    """Insert or compare one checked row inside the caller's transaction: ("stored", received_at),
    ("already stored", received_at of the first), or ("conflict", None) with the body kept for review."""
    row = await (await conn.execute(
        "INSERT INTO sync_rows (entity, id, clinic_id, kiosk_id, seq, body, body_sha256) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (entity, id) DO NOTHING RETURNING received_at",
        [put.entity, put.id, clinic, kiosk_id, put.seq, put.body, put.sha256])).fetchone()
    if row is not None:  # a patient or program goes down to the clinic's kiosks, in the same transaction
        await changes.put_from_kiosk(conn, clinic, kiosk_id, put.entity, put.id, json.loads(put.body), put.seq)
        return "stored", row[0].isoformat()
    # Rows are never deleted, so the one that won the insert is there to compare with.
    stored = await (await conn.execute(
        "SELECT clinic_id, body_sha256, received_at FROM sync_rows WHERE entity = %s AND id = %s",
        [put.entity, put.id])).fetchone()
    if stored[0] == clinic and bytes(stored[1]) == put.sha256:
        return "already stored", stored[2].isoformat()
    await conn.execute(
        "INSERT INTO sync_conflicts (entity, id, clinic_id, kiosk_id, seq, body, body_sha256) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [put.entity, put.id, clinic, kiosk_id, put.seq, put.body, put.sha256])
    return "conflict", None


def _conflict_reason(put) -> str:
    # Another clinic's row gets the same answer, and nothing of its content.
    return (f"{put.entity} {put.id} is already stored with a different body; "
            "this one is kept for review and was not applied")


async def put_row(request: Request) -> Response:
    """Insert or compare: stored once; an identical replay succeeds; a different body is a recorded conflict."""
    kiosk_id, clinic = await _kiosk(request)
    entity, row_id = request.path_params["entity"], request.path_params["id"]
    try:
        check_entity_id(entity, row_id)
        put = check_row_put(entity, row_id, await _body(request, MAX_ROW_BYTES))
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    async with request.app.state.pool.connection() as conn, conn.transaction():
        status, received_at = await _store_row(conn, clinic, kiosk_id, put)
    if status == "conflict":
        raise Refusal(409, "conflict", _conflict_reason(put))
    return JSONResponse({"status": status, "entity": put.entity, "id": put.id, "received_at": received_at},
                        201 if status == "stored" else 200)


async def post_rows(request: Request) -> Response:
    """Many rows in one request and one transaction (docs/sync.md "Batches"): each row gets the
    answer its own PUT would have had, in the request's order. A row that fails its checks is
    refused alone; a failure of the server (a kill, a lost connection) commits none of them, and
    the kiosk sends the batch again: rows are idempotent."""
    kiosk_id, clinic = await _kiosk(request)
    try:
        checked = check_batch(await _body(request, MAX_BATCH_BYTES))
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    results: list[dict | None] = [None] * len(checked)
    puts = []
    for n, item in enumerate(checked):
        if isinstance(item, PayloadError):
            results[n] = {"status": "refused", "error": "bad_payload", "reason": str(item)}
        else:
            puts.append((n, item))
    # One order for every batch (entity, id): two batches racing on the same rows wait for each
    # other instead of deadlocking.
    puts.sort(key=lambda p: (p[1].entity, p[1].id))
    async with request.app.state.pool.connection() as conn, conn.transaction():
        for n, put in puts:
            status, received_at = await _store_row(conn, clinic, kiosk_id, put)
            results[n] = ({"status": status, "received_at": received_at} if status != "conflict" else
                          {"status": "conflict", "error": "conflict", "reason": _conflict_reason(put)})
    for n, item in enumerate(checked):
        if not isinstance(item, PayloadError):
            results[n] = {"entity": item.entity, "id": item.id, **results[n]}
    return JSONResponse({"results": results}, 200)


async def get_row(request: Request) -> Response:
    """One row of the kiosk's own clinic, its data exactly as stored."""
    _kiosk_id, clinic = await _kiosk(request)
    entity, row_id = request.path_params["entity"], request.path_params["id"]
    try:
        row_id = check_entity_id(entity, row_id)
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT seq, body, received_at, kiosk_id FROM sync_rows WHERE entity = %s AND id = %s AND clinic_id = %s",
            [entity, row_id, clinic])).fetchone()
    if row is None:
        raise Refusal(404, "not_found", f"no {entity} {row_id} in this clinic")
    head = json.dumps({"entity": entity, "id": row_id, "seq": row[0], "received_at": row[2].isoformat(),
                       "kiosk_id": str(row[3])})
    # The stored canonical text goes out as is (bit-exact), not re-serialised.
    return Response(head[:-1] + ',"data":' + row[1] + "}", 200, media_type="application/json")


async def get_changes(request: Request) -> Response:
    """The changes feed of the kiosk's clinic after its cursor (docs/sync.md "Down")."""
    _kiosk_id, clinic = await _kiosk(request)
    try:
        cursor, limit = request.query_params.get("after"), parse_limit(request.query_params.get("limit"))
        parse_cursor(cursor)
    except PayloadError as exc:
        raise Refusal(400, "bad_request", str(exc)) from None
    async with request.app.state.pool.connection() as conn:
        answer = await changes.read(conn, clinic, cursor, limit)
    return Response(changes.dumps(answer), 200, media_type="application/json")


def _refusals(handler):
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Refusal as refusal:
            return refusal.response()
    return wrapped


def create_app(dsn: str, max_connections: int = 10) -> Starlette:
    """The app on a psycopg pool of ``dsn`` (opened with the app, closed with it). Migrate first."""
    from psycopg_pool import AsyncConnectionPool

    # A transaction left open (a stalled request) would hold the feed's watermark back: the
    # server ends its own after a minute (admin.SESSION_OPTIONS) (docs/sync.md "Down").
    pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_connections, open=False,
                               kwargs={"autocommit": True, "options": SESSION_OPTIONS})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await pool.open(wait=True, timeout=30)
        try:
            yield
        finally:
            await pool.close()

    routes = [
        Route(f"{API}/health", _refusals(health), methods=["GET"]),
        Route(f"{API}/enrol", _refusals(enrol), methods=["POST"]),
        Route(f"{API}/rows", _refusals(post_rows), methods=["POST"]),
        Route(API + "/rows/{entity}/{id}", _refusals(put_row), methods=["PUT"]),
        Route(API + "/rows/{entity}/{id}", _refusals(get_row), methods=["GET"]),
        Route(f"{API}/changes", _refusals(get_changes), methods=["GET"]),
        Route("/fhir/Observation", _refusals(fhir_observations), methods=["GET"]),
        Route(API + "/clinic/rows/{entity}/{id}", _refusals(put_clinic_row), methods=["PUT"]),
    ]
    # Recordings: the resumable upload (sync/server/recordings.py).
    from sync.server import recordings
    routes.append(Route(API + "/recordings/{id}", _refusals(recordings.recording),
                        methods=["PUT", "HEAD", "PATCH", "GET"]))
    # Release bundles for the kiosks' updater (sync/server/releases.py).
    from sync.server import releases
    routes.append(Route(f"{API}/releases/latest", _refusals(releases.latest), methods=["GET"]))
    routes.append(Route(API + "/releases/{version}/bundle", _refusals(releases.bundle), methods=["GET"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.pool = pool
    return app
