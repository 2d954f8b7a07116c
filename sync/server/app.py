"""The server's HTTP API (docs/sync.md): a thin Starlette layer over sync.protocol and PostgreSQL.

Every answer is JSON; every refusal has ``error`` (a word) and ``reason`` (one line for a person).
A kiosk is known only by its bearer token and sees only its own clinic: a row of another clinic
is "not found" to it, exactly like a row that does not exist.
"""

from __future__ import annotations

import contextlib
import json
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync.changes import parse_cursor, parse_limit
from sync.errors import PayloadError
from sync.protocol import API, MAX_ROW_BYTES, check_entity_id, check_row_put
from sync.server import changes, credentials, fhir
from sync.server.admin import SESSION_OPTIONS

MAX_ENROL_BYTES = 4096


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
            "SELECT id, clinic_id, revoked_at FROM kiosks WHERE token_sha256 = %s",
            [credentials.token_digest(token.strip())])).fetchone()
    if row is None:
        raise Refusal(401, "unauthorized", "unknown token: enrol the kiosk again")
    if row[2] is not None:
        raise Refusal(401, "revoked", f"this kiosk's token was revoked at {row[2].isoformat()}: enrol it again")
    return str(row[0]), row[1]


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


async def put_row(request: Request) -> Response:
    """Insert or compare: stored once; an identical replay succeeds; a different body is a recorded conflict."""
    kiosk_id, clinic = await _kiosk(request)
    entity, row_id = request.path_params["entity"], request.path_params["id"]
    try:
        check_entity_id(entity, row_id)
        put = check_row_put(entity, row_id, await _body(request, MAX_ROW_BYTES))
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    async with request.app.state.pool.connection() as conn:
        async with conn.transaction():
            row = await (await conn.execute(
                "INSERT INTO sync_rows (entity, id, clinic_id, kiosk_id, seq, body, body_sha256) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (entity, id) DO NOTHING RETURNING received_at",
                [put.entity, put.id, clinic, kiosk_id, put.seq, put.body, put.sha256])).fetchone()
            if row is not None:  # a patient or program goes down to the clinic's kiosks, in the same transaction
                await changes.put_from_kiosk(conn, clinic, kiosk_id, put.entity, put.id, json.loads(put.body),
                                             put.seq)
        if row is not None:
            return JSONResponse({"status": "stored", "entity": put.entity, "id": put.id,
                                 "received_at": row[0].isoformat()}, 201)
        # Rows are never deleted, so the one that won the insert is there to compare with.
        stored = await (await conn.execute(
            "SELECT clinic_id, body_sha256, received_at FROM sync_rows WHERE entity = %s AND id = %s",
            [put.entity, put.id])).fetchone()
        if stored[0] == clinic and bytes(stored[1]) == put.sha256:
            return JSONResponse({"status": "already stored", "entity": put.entity, "id": put.id,
                                 "received_at": stored[2].isoformat()}, 200)
        await conn.execute(
            "INSERT INTO sync_conflicts (entity, id, clinic_id, kiosk_id, seq, body, body_sha256) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [put.entity, put.id, clinic, kiosk_id, put.seq, put.body, put.sha256])
    # Another clinic's row: the same answer, and nothing of its content.
    raise Refusal(409, "conflict", f"{put.entity} {put.id} is already stored with a different body; "
                                   "this one is kept for review and was not applied")


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
        Route(API + "/rows/{entity}/{id}", _refusals(put_row), methods=["PUT"]),
        Route(API + "/rows/{entity}/{id}", _refusals(get_row), methods=["GET"]),
        Route(f"{API}/changes", _refusals(get_changes), methods=["GET"]),
        Route("/fhir/Observation", _refusals(fhir_observations), methods=["GET"]),
        Route(API + "/clinic/rows/{entity}/{id}", _refusals(put_clinic_row), methods=["PUT"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.pool = pool
    return app
