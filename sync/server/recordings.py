"""Recordings on the server: a resumable upload after tus 1.0 (docs/sync.md "Up: recordings").

``PUT`` creates the upload (its length and SHA-256 are its identity), ``HEAD`` tells the offset
held, ``PATCH`` appends at exactly that offset, ``GET`` gives a complete recording back. Each
PATCH's bytes and the offset that counts them commit in one transaction, so a server killed at
any moment holds a consistent offset; a PATCH cut off on the way (the kiosk or the network died)
stores nothing. A recording of another clinic is "not found", as if it did not exist.
"""

from __future__ import annotations

import hashlib

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from sync.errors import PayloadError
from sync.recording_stream import (
    MAX_PUT_BYTES,
    OFFSET_TYPE,
    check_offset,
    check_recording_id,
    check_recording_put,
)
from sync.server.app import Refusal, _body, _kiosk

# One PATCH at most: the kiosk sends 1 MiB by default; a cut PATCH is re-sent whole, so pieces
# stay small, and the server holds at most this much per request in memory.
MAX_PATCH_BYTES = 4 * 1024 * 1024
CHECKSUM_MISMATCH = 460  # the tus checksum extension's status


class OffsetRefusal(Refusal):
    """A refusal that tells the offset held (409 on a wrong offset, 460 after a discard)."""

    def __init__(self, status: int, error: str, reason: str, offset: int, length: int):
        super().__init__(status, error, reason, offset=offset)
        self.offset, self.length = offset, length

    def response(self) -> JSONResponse:
        answer = super().response()
        answer.headers.update(_offset_headers(self.offset, self.length))
        return answer


def _offset_headers(offset: int, length: int) -> dict:
    return {"Upload-Offset": str(offset), "Upload-Length": str(length), "Tus-Resumable": "1.0.0",
            "Cache-Control": "no-store"}


def _id(request: Request) -> str:
    try:
        return check_recording_id(request.path_params["id"])
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None


def _not_found(recording_id: str) -> Refusal:
    return Refusal(404, "not_found", f"no recording {recording_id} in this clinic: PUT it first")


async def _state(conn, recording_id: str, clinic: str, lock: bool = False):
    """(length, sha256, offset, completed) of the clinic's recording, or 404."""
    row = await (await conn.execute(
        "SELECT length, sha256, upload_offset, completed_at IS NOT NULL FROM sync_recordings "
        "WHERE id = %s AND clinic_id = %s" + (" FOR UPDATE" if lock else ""), [recording_id, clinic])).fetchone()
    if row is None:
        raise _not_found(recording_id)
    return row[0], bytes(row[1]), row[2], row[3]


async def recording(request: Request) -> Response:
    handler = {"PUT": _put, "HEAD": _head, "PATCH": _patch, "GET": _get}[request.method]
    return await handler(request)


async def _put(request: Request) -> Response:
    """Create the upload, or compare with the one there (same rule as rows)."""
    kiosk_id, clinic = await _kiosk(request)
    try:
        put = check_recording_put(request.path_params["id"], await _body(request, MAX_PUT_BYTES))
    except PayloadError as exc:
        raise Refusal(400, "bad_payload", str(exc)) from None
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(
            "INSERT INTO sync_recordings (id, clinic_id, kiosk_id, length, sha256) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING RETURNING created_at", [put.id, clinic, kiosk_id, put.length, put.sha256],
        )).fetchone()
        if row is not None:
            return JSONResponse({"status": "created", "id": put.id, "offset": 0, "complete": False}, 201,
                                headers=_offset_headers(0, put.length))
        stored = await (await conn.execute(
            "SELECT clinic_id, length, sha256, upload_offset, completed_at IS NOT NULL FROM sync_recordings "
            "WHERE id = %s", [put.id])).fetchone()
    if stored[0] == clinic and stored[1] == put.length and bytes(stored[2]) == put.sha256:
        return JSONResponse({"status": "already created", "id": put.id, "offset": stored[3], "complete": stored[4]},
                            200, headers=_offset_headers(stored[3], stored[1]))
    # Another clinic's recording answers the same, and shows nothing of it.
    raise Refusal(409, "conflict", f"recording {put.id} is already on the server with another length or SHA-256; "
                                   "nothing was changed")


async def _head(request: Request) -> Response:
    _kiosk_id, clinic = await _kiosk(request)
    recording_id = _id(request)
    async with request.app.state.pool.connection() as conn:
        length, _sha, offset, _done = await _state(conn, recording_id, clinic)
    return Response(status_code=200, headers=_offset_headers(offset, length))


async def _patch(request: Request) -> Response:
    """Append at the offset held; the last byte triggers the SHA-256 check of the whole."""
    _kiosk_id, clinic = await _kiosk(request)
    recording_id = _id(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_TYPE:
        raise Refusal(415, "bad_request", f"a PATCH body must be Content-Type {OFFSET_TYPE}")
    try:
        offset = check_offset(request.headers.get("upload-offset"))
    except PayloadError as exc:
        raise Refusal(400, "bad_request", str(exc)) from None
    pool = request.app.state.pool
    async with pool.connection() as conn:
        length, _sha, held, _done = await _state(conn, recording_id, clinic)
    if offset != held:
        raise OffsetRefusal(409, "offset_mismatch", f"the server holds {held} bytes of recording {recording_id}, "
                                                    f"not {offset}: continue from {held}", held, length)
    room = min(MAX_PATCH_BYTES, length - held)
    try:
        data = await _body(request, room)
    except Refusal as refusal:
        if refusal.status == 413 and room < MAX_PATCH_BYTES:
            refusal.reason = f"the body goes past the recording's length ({length} bytes; {room} left)"
        raise
    except ClientDisconnect:
        return Response(status_code=400)  # nobody to answer; nothing was stored
    if not data:
        return Response(status_code=204, headers=_offset_headers(held, length))
    discarded = False
    async with pool.connection() as conn, conn.transaction():
        length, sha, held, _done = await _state(conn, recording_id, clinic, lock=True)
        if offset != held:  # another PATCH of the same recording committed meanwhile
            raise OffsetRefusal(409, "offset_mismatch", f"the server now holds {held} bytes of recording "
                                                        f"{recording_id}: continue from {held}", held, length)
        await conn.execute("INSERT INTO sync_recording_parts (recording_id, start, data) VALUES (%s, %s, %b)",
                           [recording_id, held, data])
        held += len(data)
        if held < length:
            await conn.execute("UPDATE sync_recordings SET upload_offset = %s WHERE id = %s", [held, recording_id])
        elif await _whole_sha256(conn, recording_id) == sha:
            await conn.execute("UPDATE sync_recordings SET upload_offset = %s, completed_at = clock_timestamp() "
                               "WHERE id = %s", [held, recording_id])
        else:
            # Which byte is wrong cannot be told: keep nothing, the kiosk sends it again from 0.
            await conn.execute("DELETE FROM sync_recording_parts WHERE recording_id = %s", [recording_id])
            await conn.execute("UPDATE sync_recordings SET upload_offset = 0, discarded = discarded + 1 "
                               "WHERE id = %s", [recording_id])
            discarded = True
    if discarded:
        raise OffsetRefusal(CHECKSUM_MISMATCH, "checksum_mismatch",
                            f"recording {recording_id} does not match its SHA-256; the server discarded it: "
                            "send it again from 0", 0, length)
    return Response(status_code=204, headers=_offset_headers(held, length))


async def _whole_sha256(conn, recording_id: str) -> bytes:
    digest = hashlib.sha256()
    # A server-side cursor: the parts are hashed one by one, never all in memory.
    async with conn.cursor(name="recording_parts", binary=True) as cur:
        await cur.execute("SELECT data FROM sync_recording_parts WHERE recording_id = %s ORDER BY start",
                          [recording_id])
        async for (data,) in cur:
            digest.update(data)
    return digest.digest()


async def _get(request: Request) -> Response:
    """A complete recording's stream, exactly as the kiosk sent it, to a kiosk of its clinic."""
    _kiosk_id, clinic = await _kiosk(request)
    recording_id = _id(request)
    pool = request.app.state.pool
    async with pool.connection() as conn:
        length, sha, held, done = await _state(conn, recording_id, clinic)
    if not done:
        raise OffsetRefusal(409, "incomplete", f"recording {recording_id} is not complete on the server "
                                               f"({held} of {length} bytes)", held, length)

    async def parts():
        async with pool.connection() as conn, conn.transaction(), conn.cursor(name="recording_get", binary=True) as cur:
            await cur.execute("SELECT data FROM sync_recording_parts WHERE recording_id = %s ORDER BY start",
                              [recording_id])
            async for (data,) in cur:
                yield bytes(data)

    return StreamingResponse(parts(), 200, media_type="application/octet-stream",
                             headers={"Content-Length": str(length), "Gaitkiosk-SHA256": sha.hex(),
                                      "Cache-Control": "no-store"})
