"""Sessions: one patient's visit to the kiosk (holding one or more trials).

A session is ``open`` while it runs, then ``complete``; a session the kiosk
could not close (power cut, crash, kill) is found at the next start and
marked ``incomplete``, keeping everything committed before the cut. The
running process holds a lock file per open session (store/locks.py), so a
second process (the CLI beside a running kiosk) never mistakes a live
session for an interrupted one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from store import rows, upstream
from store.errors import InvalidRecordError, NotFoundError, StoreError
from store.locks import SessionLock, is_held

log = logging.getLogger(__name__)

STATUSES = ("open", "complete", "incomplete")
INTERRUPTED = "interrupted: the kiosk stopped during this session (power loss or crash); everything saved before that moment is kept"


@dataclass
class Session:
    patient_id: str
    user_id: str | None = None
    program_id: str | None = None
    status: str = "open"
    status_reason: str = ""
    notes: str = ""
    ended_at: str | None = None
    synced_at: str | None = None
    id: str = field(default_factory=rows.new_id)
    started_at: str = field(default_factory=rows.utc_now)


@dataclass
class SessionSummary:
    """A row of the therapist's session list."""

    session: Session
    patient_code: str
    drills: list[str]
    trials: int


class Sessions:
    def __init__(self, db, lock_dir: Path | None = None):
        self.db = db
        self.lock_dir = lock_dir
        self._locks: dict[str, SessionLock] = {}

    # -- writing ---------------------------------------------------------------
    def add(self, session: Session) -> Session:
        if session.status not in STATUSES:
            raise InvalidRecordError(f"session status must be one of {STATUSES}, not {session.status!r}")
        rows.insert(self.db, "sessions", rows.to_row(session), "session")
        return session

    def start(self, patient_id: str, *, user_id: str | None = None, program_id: str | None = None,
              notes: str = "") -> Session:
        """Open a session for a patient; this process holds its lock until finish()."""
        session = Session(patient_id=patient_id, user_id=user_id, program_id=program_id, notes=notes)
        if self.lock_dir is not None:
            lock = SessionLock(self.lock_dir, session.id)
            if not lock.acquire():
                raise StoreError(f"session lock {lock.path} is held by another process")
            self._locks[session.id] = lock
        try:
            self.add(session)
        except BaseException:
            self._release(session.id)
            raise
        return session

    def finish(self, session_id: str, *, status: str = "complete", reason: str = "",
               ended_at: str | None = None) -> Session:
        """Close a session (durably). Trials or recordings still running become incomplete.

        A session is ``complete`` only when every trial's raw frames are stored:
        one trial whose recording is partial or none makes it ``incomplete``, and
        the reason says how many exercises lost frames.
        """
        if status not in ("complete", "incomplete"):
            raise InvalidRecordError(f"a session finishes complete or incomplete, not {status!r}")
        ended_at = ended_at or rows.utc_now()
        losses = self.recording_losses(session_id)
        if losses:
            lost = (f"{len(losses)} exercise(s) not fully recorded: "
                    + "; ".join(f"{drill} ({why})" for drill, why in losses[:3]) + (" ..." if len(losses) > 3 else ""))
            reason = f"{reason}; {lost}" if reason else lost
            status = "incomplete"
        with rows.atomic(self.db):
            rows.update(self.db, "sessions", "id",
                        {"id": session_id, "status": status, "status_reason": reason, "ended_at": ended_at},
                        "session")
            self._close_children(session_id, ended_at, "the session ended before this part was finished")
            self._enqueue_upload(session_id)
        self._release(session_id)
        return self.get(session_id)

    def recording_losses(self, session_id: str) -> list[tuple[str, str]]:
        """(drill, reason) of the session's trials whose raw frames are not all stored."""
        return [(r["drill"], r["status_reason"]) for r in rows.fetch_all(
            self.db, "SELECT drill, status_reason FROM trials WHERE session_id = ? AND recording IN ('partial', 'none') "
                     "ORDER BY position", [session_id])]

    def _enqueue_upload(self, session_id: str) -> None:
        """Queue the closed session and its recordings for sync/, in the closing transaction.

        The outbox rows (the session, its trials and reports, its recordings:
        store/upstream.py) are written with the data they refer to (the transactional
        outbox pattern), so a crash can never leave a closed session that sync/
        does not know about. Idempotent: an entity already queued is not queued again.
        """
        upstream.queue_session(self.db, session_id)

    def _close_children(self, session_id: str, ended_at: str, reason: str) -> None:
        self.db.execute(
            "UPDATE trials SET status = 'incomplete', status_reason = ?, ended_at = coalesce(ended_at, ?) "
            "WHERE session_id = ? AND status = 'running'", [reason, ended_at, session_id])
        self.db.execute(
            "UPDATE recordings SET status = 'incomplete', "
            "status_reason = CASE WHEN status_reason = '' THEN ? ELSE status_reason END, "
            "ended_at = coalesce(ended_at, ?) WHERE session_id = ? AND status = 'recording'",
            [reason, ended_at, session_id])

    def _release(self, session_id: str) -> None:
        lock = self._locks.pop(session_id, None)
        if lock:
            lock.release()

    def recover_interrupted(self) -> list[str]:
        """Mark sessions left open by a dead process as incomplete; return their ids.

        With no lock directory (an in-memory or read-only use) nothing is
        touched: liveness cannot be told, and a live session must never be
        flagged.
        """
        if self.lock_dir is None:
            return []
        open_ids = [r["id"] for r in rows.fetch_all(self.db, "SELECT id FROM sessions WHERE status = 'open'")]
        recovered = []
        for session_id in open_ids:
            if session_id in self._locks or is_held(self.lock_dir, session_id):
                continue
            last = self.db.execute(
                "SELECT max(r.ended_at), max(r.started_at) FROM recordings r WHERE r.session_id = ?",
                [session_id]).fetchone()
            with rows.atomic(self.db):
                self.db.execute(
                    "UPDATE sessions SET status = 'incomplete', status_reason = ? WHERE id = ? AND status = 'open'",
                    [INTERRUPTED, session_id])
                self._close_children(session_id, last[0] or last[1] or rows.utc_now(), INTERRUPTED)
                self._enqueue_upload(session_id)
            log.warning("session %s was interrupted; marked incomplete", session_id)
            recovered.append(session_id)
        return recovered

    def set_synced(self, session_id: str, at: str | None = None) -> None:
        with rows.atomic(self.db):
            self.db.execute("UPDATE sessions SET synced_at = ? WHERE id = ?", [at or rows.utc_now(), session_id])

    # -- reading ---------------------------------------------------------------
    def get(self, session_id: str) -> Session:
        return rows.from_row(Session, rows.fetch(self.db, "sessions", "id", session_id, "session"))

    def find(self, prefix: str) -> Session:
        """A session by its full id or an unambiguous prefix (what a technician types)."""
        found = rows.fetch_all(self.db, "SELECT * FROM sessions WHERE id >= ? AND id < ? LIMIT 2",
                               [prefix, prefix + "\U0010ffff"])
        if len(found) == 1:
            return rows.from_row(Session, found[0])
        if not found:
            raise NotFoundError(f"no session with id {prefix}; `gaitkiosk sessions list` shows the ids")
        raise NotFoundError(f"session id prefix {prefix} is ambiguous; type more of it")

    def _where(self, patient_id, since, before, drill, status, *, walk_by_date=False):
        clauses, params = [], []
        if patient_id:
            clauses.append("s.patient_id = ?")
            params.append(patient_id)
        if since:
            clauses.append("s.started_at >= ?")
            params.append(since)
        if before:
            clauses.append("s.started_at < ?")
            params.append(before)
        if drill:
            # Listing walks sessions newest first and stops at a page: test each (EXISTS).
            # Counting visits them all: build the set once (IN). Measured in bench_store.
            clauses.append("EXISTS (SELECT 1 FROM trials t WHERE t.session_id = s.id AND t.drill = ?)"
                           if walk_by_date else "s.id IN (SELECT session_id FROM trials WHERE drill = ?)")
            params.append(drill)
        if status:
            clauses.append("s.status = ?")
            params.append(status)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def list(self, *, patient_id: str | None = None, since: str | None = None, before: str | None = None,
             drill: str | None = None, status: str | None = None, limit: int = 50,
             offset: int = 0) -> list[SessionSummary]:
        """Newest first. ``since``/``before`` are UTC ISO strings (a date works: '2026-11-21')."""
        where, params = self._where(patient_id, since, before, drill, status, walk_by_date=True)
        # CROSS JOIN fixes the join order (SQLite honours it): sessions drive, in started_at
        # order from the index, so a page needs no sort of the whole table.
        found = rows.fetch_all(self.db, f"""
            SELECT s.*, p.code AS patient_code,
                   (SELECT group_concat(drill, ',') FROM
                        (SELECT DISTINCT drill FROM trials t WHERE t.session_id = s.id ORDER BY drill)) AS drills,
                   (SELECT count(*) FROM trials t WHERE t.session_id = s.id) AS trial_count
            FROM sessions s CROSS JOIN patients p ON p.id = s.patient_id
            {where} ORDER BY s.started_at DESC, s.id LIMIT ? OFFSET ?""", params + [limit, offset])
        return [SessionSummary(session=rows.from_row(Session, r), patient_code=r["patient_code"],
                               drills=r["drills"].split(",") if r["drills"] else [], trials=r["trial_count"])
                for r in found]

    def count(self, *, patient_id=None, since=None, before=None, drill=None, status=None) -> int:
        where, params = self._where(patient_id, since, before, drill, status)
        return self.db.execute(f"SELECT count(*) FROM sessions s {where}", params).fetchone()[0]

    def oldest_unsynced(self) -> Session | None:
        found = rows.fetch_all(self.db, "SELECT * FROM sessions WHERE synced_at IS NULL ORDER BY started_at LIMIT 1")
        return rows.from_row(Session, found[0]) if found else None
