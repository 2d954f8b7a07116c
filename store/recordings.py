"""Recordings: the raw frames of one device during a session or trial, in chunks.

Each chunk (about one second, store.codec) is its own durable transaction
together with the recording's running counters, so after any cut the
recording row and its chunks agree. Raw counts plus the calibration id are
kept: kPa is always recomputable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from store import rows
from store.errors import InvalidRecordError, NotFoundError, StoreError

_JSON = ("shape",)
KINDS = ("mat", "insole_left", "insole_right")
STATUSES = ("recording", "complete", "incomplete", "failed")

if TYPE_CHECKING:
    from store.codec import Chunk


@dataclass
class Recording:
    session_id: str
    device_serial: str
    kind: str
    shape: list[int]
    trial_id: str | None = None
    calibration_id: str | None = None
    kpa_per_count: float = 0.0
    t_origin: float = 0.0  # host clock (s) that export calls t = 0
    status: str = "recording"
    status_reason: str = ""
    frames: int = 0
    chunks: int = 0
    dropped: int = 0
    seq_gaps: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    ended_at: str | None = None
    synced_at: str | None = None
    pruned_at: str | None = None
    id: str = field(default_factory=rows.new_id)
    started_at: str = field(default_factory=rows.utc_now)


class Recordings:
    def __init__(self, db):
        self.db = db

    def create(self, recording: Recording) -> Recording:
        if recording.kind not in KINDS:
            raise InvalidRecordError(f"recording kind must be one of {KINDS}, not {recording.kind!r}")
        if recording.status not in STATUSES:
            raise InvalidRecordError(f"recording status must be one of {STATUSES}, not {recording.status!r}")
        rows.insert(self.db, "recordings", rows.to_row(recording, _JSON), "recording")
        return recording

    def append(self, recording_id: str, idx: int, chunk: Chunk, blob: bytes, *, dropped: int = 0,
               seq_gaps: int = 0) -> int:
        """Commit one encoded chunk and the recording's counters together; return the chunk row id.

        ``dropped`` and ``seq_gaps`` are the recording's running totals.
        """
        with rows.atomic(self.db):
            rowid = self.db.execute(
                "INSERT INTO recording_chunks (recording_id, idx, n_frames, t_first, t_last, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [recording_id, idx, chunk.frames, float(chunk.t_host[0]), float(chunk.t_host[-1]), blob],
            ).lastrowid
            self.db.execute(
                "UPDATE recordings SET frames = frames + ?, chunks = chunks + 1, raw_bytes = raw_bytes + ?, "
                "stored_bytes = stored_bytes + ?, dropped = ?, seq_gaps = ? WHERE id = ?",
                [chunk.frames, chunk.counts.nbytes, len(blob), dropped, seq_gaps, recording_id],
            )
        return rowid

    def finish(self, recording_id: str, *, status: str = "complete", reason: str = "",
               dropped: int | None = None, ended_at: str | None = None) -> None:
        if status not in STATUSES[1:]:
            raise InvalidRecordError(f"a recording finishes as one of {STATUSES[1:]}, not {status!r}")
        sets = "status = ?, status_reason = ?, ended_at = ?" + (", dropped = ?" if dropped is not None else "")
        params = [status, reason, ended_at or rows.utc_now()] + ([dropped] if dropped is not None else [])
        with rows.atomic(self.db):
            cur = self.db.execute(f"UPDATE recordings SET {sets} WHERE id = ?", params + [recording_id])
        if cur.rowcount == 0:
            raise NotFoundError(f"no recording with id {recording_id}")

    def get(self, recording_id: str) -> Recording:
        return rows.from_row(Recording, rows.fetch(self.db, "recordings", "id", recording_id, "recording"), _JSON)

    def for_session(self, session_id: str) -> list[Recording]:
        return [rows.from_row(Recording, r, _JSON) for r in rows.fetch_all(
            self.db, "SELECT * FROM recordings WHERE session_id = ? ORDER BY started_at, kind", [session_id])]

    def for_trial(self, trial_id: str) -> list[Recording]:
        return [rows.from_row(Recording, r, _JSON) for r in rows.fetch_all(
            self.db, "SELECT * FROM recordings WHERE trial_id = ? ORDER BY kind", [trial_id])]

    def span_s(self, recording_id: str) -> float:
        """Seconds from the first to the last stored frame (0 when none or pruned)."""
        lo, hi = self.db.execute("SELECT min(t_first), max(t_last) FROM recording_chunks WHERE recording_id = ?",
                                 [recording_id]).fetchone()
        return 0.0 if lo is None else float(hi - lo)

    def chunk_index(self, recording_id: str) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT idx FROM recording_chunks WHERE recording_id = ? ORDER BY idx", [recording_id])]

    def read_chunk(self, recording_id: str, idx: int) -> Chunk:
        row = self.db.execute("SELECT data FROM recording_chunks WHERE recording_id = ? AND idx = ?",
                              [recording_id, idx]).fetchone()
        if row is None:
            raise NotFoundError(f"recording {recording_id} has no chunk {idx}")
        from store import codec  # numpy and zstandard: only where frames are read

        return codec.decode(row[0])

    def iter_chunks(self, recording_id: str) -> Iterator[tuple[int, Chunk]]:
        from store import codec

        for idx, blob in self.db.execute(
                "SELECT idx, data FROM recording_chunks WHERE recording_id = ? ORDER BY idx", [recording_id]):
            yield idx, codec.decode(blob)

    def blobs(self, recording_id: str) -> list[bytes]:
        """The recording's encoded chunks in order, undecoded: for a reader that decodes them on
        several threads (the session review); ``codec.decode`` checks each one."""
        rec = self.get(recording_id)
        if rec.pruned_at:
            raise StoreError(f"recording {recording_id} was pruned on {rec.pruned_at} after it reached the server; "
                             "fetch it from upstream")
        return [bytes(r[0]) for r in self.db.execute(
            "SELECT data FROM recording_chunks WHERE recording_id = ? ORDER BY idx", [recording_id])]

    def read(self, recording_id: str) -> Chunk:
        """All frames of a recording, in order (raises if retention pruned them)."""
        rec = self.get(recording_id)
        if rec.pruned_at:
            raise StoreError(f"recording {recording_id} was pruned on {rec.pruned_at} after it reached the server; "
                             "fetch it from upstream")
        import numpy as np

        from store.codec import Chunk

        parts = [c for _, c in self.iter_chunks(recording_id)]
        if not parts:
            return Chunk(counts=np.zeros((0, *rec.shape), np.uint16), seq=np.zeros(0, np.uint32),
                         t_device=np.zeros(0), t_host=np.zeros(0))
        return Chunk(counts=np.concatenate([c.counts for c in parts]), seq=np.concatenate([c.seq for c in parts]),
                     t_device=np.concatenate([c.t_device for c in parts]),
                     t_host=np.concatenate([c.t_host for c in parts]))

    def verify_all(self) -> list[dict]:
        """Decode every stored chunk; return the damaged ones (session, recording, chunk, why).

        SQLite's integrity_check sees the file's structure, not bit rot inside a
        blob; each chunk's CRC does.
        """
        from store import codec

        damaged = []
        for recording_id, session_id, idx, blob in self.db.execute(
                "SELECT c.recording_id, r.session_id, c.idx, c.data FROM recording_chunks c "
                "JOIN recordings r ON r.id = c.recording_id ORDER BY c.id"):
            try:
                codec.decode(blob)
            except StoreError as exc:
                damaged.append({"session_id": session_id, "recording_id": recording_id, "chunk": idx,
                                "error": str(exc)})
        return damaged

    def set_synced(self, recording_id: str, at: str | None = None) -> None:
        with rows.atomic(self.db):
            self.db.execute("UPDATE recordings SET synced_at = ? WHERE id = ?", [at or rows.utc_now(), recording_id])
