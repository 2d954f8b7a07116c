"""The kiosk's side of a recording upload (docs/sync.md "Up: recordings").

``upload_recording`` sends one closed recording as its stream (sync/recording_stream.py): PUT
its length and SHA-256, continue from the offset the server holds, PATCH the rest, and when the
server has it all and checked it, mark it synced in the kiosk's store (only then may
``db prune`` free its raw frames). It is safe to call again at any time, from any process: the
server's offset, not anything the kiosk remembers, says where to continue.

The store is read on a connection of its own, one short statement at a time, so a drill or a
recording beside it never waits; the stream is built piece by piece from the chunk rows, never
held whole in memory.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from store import db as dbmod
from store import rows
from store.outbox import Outbox
from store.recordings import Recordings
from sync.errors import SyncError
from sync.recording_stream import (
    META_FIELDS,
    OFFSET_TYPE,
    chunk_prefix,
    header,
    put_body,
    recording_path,
)

CHUNK_BYTES = 1024 * 1024  # one PATCH; the server takes up to 4 MiB (sync/server/recordings.py)
PIECE_BYTES = 64 * 1024  # the throttle is asked before every piece, so a cap holds within a PATCH
MAX_RESTARTS = 2  # SHA-256 mismatches in one call before it gives up until the next attempt
_BATCH = 32  # chunk rows per read


class RecordingUploadError(SyncError):
    """The upload did not finish; what the server holds so far stays there for the next attempt."""


class UploadRefused(RecordingUploadError):
    """The server refused (4xx) in a way a resend does not fix: a conflict, a bad token, a bug."""

    def __init__(self, status: int, error: str, reason: str):
        super().__init__(f"server refused recording upload ({status} {error}): {reason}")
        self.status, self.error = status, error


class UploadInterrupted(RecordingUploadError):
    """Try again later (with backoff): the network or server failed, or the recording is not closed yet."""


@dataclass(frozen=True)
class UploadResult:
    recording_id: str
    length: int  # bytes of the stream
    sha256: str  # hex, of the whole stream
    resumed_from: int  # bytes the server already held when this call began
    sent: int  # bytes this call sent (re-sent ones included)
    already_complete: bool  # the server had it all before this call: nothing was sent
    restarts: int  # times the server found a SHA-256 mismatch and this call re-sent from 0


class RecordingSource:
    """One closed recording as its upload stream, read from the store on demand."""

    def __init__(self, db, recording_id: str):
        rec = Recordings(db).get(recording_id)  # NotFoundError
        if rec.status == "recording":
            raise UploadInterrupted(f"recording {recording_id} is still being recorded; it uploads once closed")
        if rec.pruned_at:
            raise UploadRefused(0, "pruned", f"recording {recording_id}'s frames were pruned on {rec.pruned_at}")
        self.db, self.id, self.synced_at = db, recording_id, rec.synced_at
        sizes = db.execute("SELECT idx, length(data) FROM recording_chunks WHERE recording_id = ? ORDER BY idx",
                           [recording_id]).fetchall()
        self.head = header({k: getattr(rec, k) for k in META_FIELDS}, len(sizes))
        self.idx = [i for i, _ in sizes]
        self.starts, pos = [], len(self.head)  # where each chunk's prefix starts in the stream
        for _i, size in sizes:
            self.starts.append(pos)
            pos += 8 + size
        self.length = pos

    def _blobs(self, first: int, last: int) -> Iterator[tuple[int, bytes]]:
        """(position in self.idx, blob) for positions first..last, a few rows per statement."""
        for lo in range(first, last + 1, _BATCH):
            hi = min(lo + _BATCH - 1, last)
            found = self.db.execute(
                "SELECT idx, data FROM recording_chunks WHERE recording_id = ? AND idx BETWEEN ? AND ? ORDER BY idx",
                [self.id, self.idx[lo], self.idx[hi]]).fetchall()
            if [i for i, _ in found] != self.idx[lo:hi + 1]:
                raise UploadInterrupted(f"recording {self.id}'s chunks changed while it was being sent")
            for k, (_i, blob) in enumerate(found):
                yield lo + k, bytes(blob)

    def sha256(self) -> str:
        digest = hashlib.sha256(self.head)
        if self.idx:
            for k, blob in self._blobs(0, len(self.idx) - 1):
                digest.update(chunk_prefix(self.idx[k], len(blob)))
                digest.update(blob)
        return digest.hexdigest()

    def read(self, offset: int, size: int) -> bytes:
        """Bytes [offset, offset + size) of the stream."""
        end = min(offset + size, self.length)
        out = [self.head[offset:end]] if offset < len(self.head) else []
        first = max(0, bisect.bisect_right(self.starts, offset) - 1)
        last = bisect.bisect_left(self.starts, end) - 1
        if self.idx and last >= first:
            for k, blob in self._blobs(first, last):
                piece = chunk_prefix(self.idx[k], len(blob)) + blob
                lo = max(offset, self.starts[k]) - self.starts[k]
                out.append(piece[lo:end - self.starts[k]])
        return b"".join(out)


def upload_recording(http: httpx.Client, db_path: str | Path, recording_id: str, *,
                     chunk_bytes: int = CHUNK_BYTES,
                     throttle: Callable[[int], None] | None = None) -> UploadResult:
    """Upload one closed recording, continuing from what the server holds; mark it synced when done.

    ``http`` carries the server's base URL, the kiosk's bearer token and its TLS settings.
    ``throttle(nbytes)`` is called before each piece is sent and may block (the bandwidth cap).
    Raises UploadRefused (4xx: record it, do not retry as is), UploadInterrupted (retry later,
    with backoff), store.errors.NotFoundError (no such recording in the store).
    """
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be at least 1")
    db = dbmod.connect(db_path, create=False, migrate=False)
    try:
        source = RecordingSource(db, recording_id)
        sha = source.sha256()
        path = recording_path(recording_id)
        answer = _call(http, "PUT", path, content=put_body(source.length, sha),
                       headers={"Content-Type": "application/json"})
        _refused_unless(answer, 200, 201)
        offset = resumed_from = int(answer.headers["Upload-Offset"])
        already = offset == source.length
        sent = restarts = stalls = 0
        while offset < source.length:
            size = min(chunk_bytes, source.length - offset)
            answer = _call(http, "PATCH", path, content=_pieces(source, offset, size, throttle),
                           headers={"Content-Type": OFFSET_TYPE, "Upload-Offset": str(offset),
                                    "Content-Length": str(size), "Tus-Resumable": "1.0.0"})
            sent += size
            if answer.status_code == 204:
                offset, stalls = int(answer.headers["Upload-Offset"]), 0
            elif answer.status_code == 409 and "upload-offset" in answer.headers:
                # Our idea of the offset was wrong (a lost answer, another sender): the server's wins.
                offset, stalls = int(answer.headers["Upload-Offset"]), stalls + 1
                if stalls > 3:
                    raise UploadInterrupted(f"recording {recording_id}: the server's offset keeps moving "
                                            "(another sender?); try later")
            elif answer.status_code == 460:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise UploadInterrupted(f"recording {recording_id}: the server found a SHA-256 mismatch "
                                            f"{restarts} times; try later")
                offset = 0
            else:
                _refused_unless(answer, 204)
        _mark_synced(db, recording_id)
        return UploadResult(recording_id, source.length, sha, resumed_from, sent, already, restarts)
    finally:
        db.close()


def _pieces(source: RecordingSource, offset: int, size: int, throttle) -> Iterator[bytes]:
    data = source.read(offset, size)
    for lo in range(0, len(data), PIECE_BYTES):
        piece = data[lo:lo + PIECE_BYTES]
        if throttle is not None:
            throttle(len(piece))
        yield piece


def _call(http: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
    try:
        return http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:  # refused, reset, timed out, TLS: all worth another try later
        raise UploadInterrupted(f"recording upload: {type(exc).__name__}: {exc}") from exc


def _refused_unless(answer: httpx.Response, *ok: int) -> None:
    if answer.status_code in ok:
        return
    if answer.status_code >= 500 or answer.status_code in (404, 408, 429):
        # 404 after a PUT: the server lost the upload (a restored database); the next attempt PUTs again.
        raise UploadInterrupted(f"recording upload: server answered {answer.status_code}: {answer.text[:200]}")
    try:
        doc = answer.json()
        error, reason = doc.get("error", "?"), doc.get("reason", "")
    except ValueError:
        error, reason = "?", answer.text[:200]
    raise UploadRefused(answer.status_code, error, reason)


def _mark_synced(db, recording_id: str) -> None:
    """The outbox item sent and the recording's synced_at, each in its own short transaction."""
    outbox = Outbox(db)
    pending = [r[0] for r in db.execute(
        "SELECT id FROM outbox WHERE entity = 'recording' AND entity_id = ? AND sent_at IS NULL",
        [recording_id]).fetchall()]
    for item_id in pending:
        outbox.mark_sent(item_id)  # stamps recordings.synced_at with it
    if not pending:
        with rows.atomic(db):
            db.execute("UPDATE recordings SET synced_at = ? WHERE id = ? AND synced_at IS NULL",
                       [rows.utc_now(), recording_id])
