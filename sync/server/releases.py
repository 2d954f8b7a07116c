"""Release bundles on the server, for the kiosks' updater (docs/sync.md "Releases").

``GET /v1/releases/latest`` names the version this kiosk's clinic is offered (its pin, else the
newest published and not withdrawn) with its length and SHA-256; ``GET
/v1/releases/{version}/bundle`` sends the bundle's bytes, from a ``Range: bytes=N-`` offset when
the kiosk continues a cut download (206, RFC 9110 section 14). Both need a kiosk's token.

The server is not what a kiosk trusts: a kiosk installs only a bundle whose signature it checked
with its own release keys (gaitkiosk/update/fetch.py). The SHA-256 here only lets a kiosk tell a
damaged download from a whole one before it checks the signature.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from sync.server.app import Refusal, _kiosk

PART_BYTES = 1024 * 1024  # a part row (sync/server/migrations/0004_releases.sql)
_VERSION = re.compile(r"\d{1,6}\.\d{1,6}\.\d{1,6}")
_RANGE = re.compile(r"bytes=(\d{1,15})-(\d{1,15})?")


async def offered(conn, clinic: str) -> tuple | None:
    """(version, length, sha256, pinned, published_at) the clinic's kiosks are offered, or None."""
    row = await (await conn.execute(
        "SELECT r.version, r.length, r.sha256, true, r.published_at FROM clinic_release_pins p "
        "JOIN releases r ON r.version = p.version WHERE p.clinic_id = %s", [clinic])).fetchone()
    if row is not None:
        return row
    return await (await conn.execute(
        "SELECT version, length, sha256, false, published_at FROM releases WHERE withdrawn_at IS NULL "
        "ORDER BY major DESC, minor DESC, patch DESC LIMIT 1")).fetchone()


async def latest(request: Request) -> Response:
    _kiosk_id, clinic = await _kiosk(request)
    async with request.app.state.pool.connection() as conn:
        row = await offered(conn, clinic)
    if row is None:
        raise Refusal(404, "no_release", "no release is published on this server "
                                         "(gaitkiosk server release publish BUNDLE)")
    version, length, sha, pinned, published_at = row
    return JSONResponse({"version": version, "bytes": length, "sha256": bytes(sha).hex(), "pinned": pinned,
                         "published_at": published_at.isoformat(),
                         "path": f"/v1/releases/{version}/bundle"},
                        headers={"Cache-Control": "no-store"})


async def bundle(request: Request) -> Response:
    """The bundle's bytes, whole (200) or from an offset (206); a range past the end is 416."""
    await _kiosk(request)
    version = request.path_params["version"]
    if not _VERSION.fullmatch(version):
        raise Refusal(400, "bad_request", f"{version!r} is not a version X.Y.Z")
    pool = request.app.state.pool
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT length, sha256 FROM releases WHERE version = %s",
                                        [version])).fetchone()
    if row is None:
        raise Refusal(404, "not_found", f"no release {version} on this server")
    length, sha = row[0], bytes(row[1]).hex()
    first, last = 0, length - 1
    asked = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != f'"{sha}"':
        asked = None  # the kiosk holds the start of other bytes: it gets the whole bundle (RFC 9110 13.1.5)
    if asked is not None:
        m = _RANGE.fullmatch(asked.strip())
        if m is None:
            raise Refusal(416, "bad_range", f"Range {asked!r}: only one range bytes=N- or bytes=N-M is served")
        first = int(m.group(1))
        last = min(int(m.group(2)), length - 1) if m.group(2) else length - 1
        if first >= length or last < first:
            answer = Refusal(416, "bad_range", f"Range {asked!r} is outside the bundle's {length} bytes").response()
            answer.headers["Content-Range"] = f"bytes */{length}"
            return answer

    async def parts():
        # A server-side cursor: one part in memory at a time, whatever the bundle's size.
        async with pool.connection() as conn, conn.transaction(), \
                conn.cursor(name="release_parts", binary=True) as cur:
            await cur.execute("SELECT start, data FROM release_parts WHERE version = %s "
                              "AND start + length(data) > %s AND start <= %s ORDER BY start",
                              [version, first, last])
            async for start, data in cur:
                lo, hi = max(first - start, 0), min(last + 1 - start, len(data))
                yield bytes(data[lo:hi])

    headers = {"Content-Length": str(last - first + 1), "Accept-Ranges": "bytes", "ETag": f'"{sha}"',
               "Gaitkiosk-SHA256": sha, "Cache-Control": "no-store"}
    if asked is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{length}"
    return StreamingResponse(parts(), 206 if asked is not None else 200, media_type="application/x-tar",
                             headers=headers)
