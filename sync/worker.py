"""The kiosk's sync worker: drains the outbox to the clinic's server (docs/sync.md).

It runs as a thread of the kiosk (sync/thread.py) or as `gaitkiosk sync once|run`, never both at
once (the ``sync`` lock beside the database). It has its **own SQLite connection** and only
short transactions: it reads a batch of queued rows (a plain read: WAL readers block nobody),
sends them with no transaction open, then marks the answered ones in one ``BEGIN IMMEDIATE`` …
``COMMIT`` of a few UPDATEs. So a drill or the recording writer waits at most for that commit.

Each queued row goes up as ``PUT /v1/rows/{entity}/{uuid}`` with ``seq`` = the item's seq:

- 201 stored / 200 already stored: sent. A resend after a lost answer or a kill is a 200.
- 409 conflict: the server kept this body for review and never applied it; nothing more the
  kiosk can do, so the item counts as delivered, with the conflict in ``last_error``.
- 401: the token is unknown or revoked: nothing is marked; the status says to enrol again.
- any other 4xx: the server refuses the row itself: ``refused_at`` and ``last_error`` are set and
  the row is not sent again as such (a technician reads it in `gaitkiosk sync status`).
- 5xx, 429, a lost connection, a timeout: the item's ``attempts``/``last_error`` are counted and
  the cycle stops; the caller waits (sync/pacing.py Backoff) and tries again.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from store import db as dbmod
from store import rows as rowsmod
from store.locks import SessionLock
from store.outbox import SYNCED_TABLES
from sync import enrolment as enrolmod
from sync import state, transport
from sync.down import BadFeedAnswer, DownRefused, pull_changes  # the changes feed, pulled each pass
from sync.errors import PayloadError, SyncError
from sync.pacing import Backoff, TokenBucket
from sync.protocol import (
    API,
    MAX_BATCH_BYTES,
    ROW_ENTITIES,
    batch_body,
    check_entity_id,
    row_body,
    row_path,
)

log = logging.getLogger(__name__)

HOLD_POLL_S = 0.25  # how often a held worker looks whether the exercise ended
LOCK_NAME = "sync"  # <db>.locks/sync.lock: one worker per kiosk database

DEFAULTS = {"in_kiosk": True, "hold_during_drills": True, "poll_s": 30.0, "backoff_base_s": 1.0, "backoff_cap_s": 300.0,
            "bandwidth_bytes_per_s": 0, "batch_rows": 200, "parallel": 4, "timeout_s": 30.0}


def sync_settings(config: dict | None) -> dict:
    """The [sync] config table, with defaults (mirrors gaitkiosk.config DEFAULTS["sync"])."""
    return {**DEFAULTS, **((config or {}).get("sync") or {})}


class TransientError(SyncError):
    """The server or the network failed for now (5xx, lost connection): try again after a backoff."""


class AuthError(SyncError):
    """The server does not accept the kiosk's token (unknown or revoked): enrol again."""


class NotEnrolledError(SyncError):
    pass


class BusyError(SyncError):
    """Another sync worker runs on this database (the kiosk's thread or `gaitkiosk sync run`)."""


@dataclass
class Cycle:
    """What one pass sent."""

    sent: int = 0  # rows the server now holds (201 or 200)
    conflicts: int = 0
    refused: int = 0
    bytes: int = 0
    pulled: int = 0  # rows of the changes feed applied to this kiosk
    pull_error: str = ""  # the feed refused (not the token's fault): said, the upload went on
    recordings_waiting: int = 0
    by_entity: dict = field(default_factory=dict)


@dataclass
class _Outcome:
    seq: int
    entity: str
    entity_id: str
    kind: str  # sent, conflict, refused, transient, auth; skipped (not tried: not recorded)
    detail: str = ""
    nbytes: int = 0
    payload: str | None = None  # the queued text that was sent (None: not compared)


class Worker:
    def __init__(self, data_dir: Path, settings: dict | None = None, *, db_path: Path | None = None,
                 migrate: bool = False, hold=None):
        self.data_dir = Path(data_dir)
        self.db_path = Path(db_path) if db_path else dbmod.database_path(self.data_dir)
        self.settings = sync_settings({"sync": settings or {}})
        self.bucket = TokenBucket(self.settings["bandwidth_bytes_per_s"])
        self.backoff = Backoff(self.settings["backoff_base_s"], self.settings["backoff_cap_s"])
        self.migrate = migrate  # the command line may bring an old database up to date; the kiosk's thread never
        # hold(): true while the kiosk's patient is in an exercise; the worker then waits before its
        # next request (a batch, a piece of a recording), so a drill never shares the CPU with sync
        self.hold = hold
        self.held_s = 0.0  # time spent waiting for hold() (status, tests)
        self.db = None
        self.http: httpx.Client | None = None
        self._enrolment: enrolmod.Enrolment | None = None
        self._lock = SessionLock(dbmod.lock_dir(self.db_path), LOCK_NAME)

    # -- life ----------------------------------------------------------------------------------
    def open(self) -> Worker:
        if not self._lock.acquire():
            raise BusyError(f"another sync worker already runs on {self.db_path} (the kiosk's sync thread "
                            "or `gaitkiosk sync run`); `gaitkiosk sync status` shows what it does")
        try:
            # Its own connection, never the kiosk's.
            self.db = dbmod.connect(self.db_path, create=False, migrate=self.migrate)
        except BaseException:
            self._lock.release()
            raise
        return self

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
        if self.db is not None:
            self.db.close()
            self.db = None
        self._lock.release()

    def __enter__(self) -> Worker:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _client(self) -> httpx.Client:
        """The HTTP client of the current enrolment (re-read each cycle: a re-enrol takes effect at once)."""
        enrolment = enrolmod.load(self.data_dir)
        if enrolment is None:
            raise NotEnrolledError("this kiosk is not enrolled: gaitkiosk sync enrol URL CODE")
        if enrolment != self._enrolment or self.http is None:
            if self.http is not None:
                self.http.close()
            self.http = transport.client(enrolment.url, token=enrolment.token, ca_pem=enrolment.ca_pem,
                                         pin=enrolment.pin_sha256, timeout=self.settings["timeout_s"])
            self._enrolment = enrolment
        return self.http

    # -- one pass ------------------------------------------------------------------------------
    def cycle(self, stop: threading.Event | None = None) -> Cycle:
        """Send everything queued (rows, then recordings when that is built); raise on a failure."""
        stop = stop or threading.Event()
        http = self._client()
        done = Cycle()
        state.update(self.data_dir, last_attempt_at=rowsmod.utc_now())
        self._wait_while_held(stop)
        if stop.is_set():
            return done
        self._pull(http, done)
        while not stop.is_set():
            self._wait_while_held(stop)
            if stop.is_set():
                break
            batch = self._pending_rows()
            if not batch:
                break
            outcomes = self._send(http, batch, stop)
            self._record(outcomes)
            for o in outcomes:
                if o.kind == "sent":
                    done.sent += 1
                    done.bytes += o.nbytes
                    done.by_entity[o.entity] = done.by_entity.get(o.entity, 0) + 1
                done.conflicts += o.kind == "conflict"
                done.refused += o.kind == "refused"
            failed = next((o for o in outcomes if o.kind in ("auth", "transient")), None)
            if failed is not None:
                raise (AuthError if failed.kind == "auth" else TransientError)(failed.detail)
            if stop.is_set():
                break
        done.recordings_waiting = self._send_recordings(http, stop)
        return done

    def _wait_while_held(self, stop: threading.Event) -> None:
        """Wait while the kiosk's patient is in an exercise (hold()), or until ``stop``."""
        if self.hold is None:
            return
        started = time.monotonic()
        while self.hold() and not stop.wait(HOLD_POLL_S):
            pass
        self.held_s += time.monotonic() - started

    def _pull(self, http: httpx.Client, done: Cycle) -> None:
        """The server's changes for this clinic (sync/down.py): pages applied stay applied whatever
        fails later. A refused feed that is not the token's fault (a 4xx other than 401) is said in
        the status but does not hold back the upload: the kiosk's own rows still go up."""
        try:
            done.pulled = pull_changes(http, self.db_path, own_kiosk_id=self._enrolment.kiosk_id)
        except (httpx.TransportError, OSError) as exc:
            raise TransientError(transport.describe(exc)) from None
        except httpx.HTTPStatusError as exc:
            raise TransientError(f"the server answered {exc.response.status_code} to the changes feed") from None
        except BadFeedAnswer as exc:
            raise TransientError(str(exc)) from None
        except DownRefused as exc:
            if exc.status == 401:
                raise AuthError(str(exc)) from None
            log.warning("sync: the changes feed was refused: %s", exc)
            done.pull_error = str(exc)

    def _pending_rows(self) -> list[tuple]:
        marks = ", ".join("?" for _ in ROW_ENTITIES)
        return self.db.execute(
            f"SELECT seq, entity, entity_id, payload FROM outbox WHERE sent_at IS NULL AND refused_at IS NULL "
            f"AND entity IN ({marks}) ORDER BY seq LIMIT ?", [*ROW_ENTITIES, int(self.settings["batch_rows"])]).fetchall()

    def _send(self, http: httpx.Client, batch: list[tuple], stop: threading.Event) -> list[_Outcome]:
        """Send a batch: one POST of many rows (one round trip, one server transaction; docs/sync.md
        "Batches"). No SQLite transaction is open meanwhile. Rows too large to batch, and the rows of
        a batch the server refused as such, go row by row (each then gets its own answer)."""
        return self._post_batch(http, batch, stop)

    def _post_batch(self, http: httpx.Client, batch: list[tuple], stop: threading.Event) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        items, texts = [], {}
        for seq, entity, entity_id, payload in batch:
            try:
                check_entity_id(entity, entity_id)
                data = rowsmod.loads(payload)
                row_body(seq, data)  # what the server will check: refuse here what cannot be sent
            except (PayloadError, ValueError) as exc:
                outcomes.append(_Outcome(seq, entity, entity_id, "refused", f"not sent: {exc}"))
                continue
            items.append((entity, entity_id, seq, data))
            texts[(entity, entity_id)] = (seq, payload)
        for chunk in self._chunks(items, texts):
            if stop.is_set():
                break
            done = self._post_chunk(http, chunk, texts, stop)
            outcomes += done
            if any(o.kind in ("auth", "transient") for o in done):
                break  # the rest waits for the next pass
        return outcomes

    def _chunks(self, items: list[tuple], texts: dict) -> list[list[tuple]]:
        """Requests of at most MAX_BATCH_BYTES, and with a bandwidth cap at most one second's worth
        (the bucket's burst), so the cap holds within a pass, not only across passes."""
        limit = MAX_BATCH_BYTES
        if self.bucket.rate > 0:
            limit = min(limit, int(self.bucket.burst))
        chunks, current, size = [], [], 0
        for item in items:
            entity, entity_id = item[0], item[1]
            n = len(texts[(entity, entity_id)][1]) + 120  # the row plus its envelope, near enough
            if current and size + n > limit:
                chunks.append(current)
                current, size = [], 0
            current.append(item)
            size += n
        if current:
            chunks.append(current)
        return chunks

    def _post_chunk(self, http: httpx.Client, items: list[tuple], texts: dict, stop: threading.Event) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        body = batch_body(items)
        if len(body) > MAX_BATCH_BYTES:  # one row too large for any batch: on its own
            return self._send_each(http, [(s, e, i, texts[(e, i)][1]) for e, i, s, _ in items], stop)
        if not self.bucket.take(len(body), stop):
            return outcomes + [_Outcome(s, e, i, "transient", "stopped while waiting for the bandwidth cap")
                               for e, i, s, _ in items]
        try:
            answer = http.post(f"{API}/rows", content=body, headers={"Content-Type": "application/json"})
        except (httpx.TransportError, OSError) as exc:
            return outcomes + [_Outcome(s, e, i, "transient", transport.describe(exc)) for e, i, s, _ in items]
        if answer.status_code != 200:  # the whole batch: 401, 5xx, a refusal of the batch itself
            whole = _classify(0, "", "", answer, 0)
            if whole.kind == "refused":  # a batch refused as such: each row on its own will say which
                return outcomes + self._send_each(http, [(s, e, i, texts[(e, i)][1]) for e, i, s, _ in items], stop)
            return outcomes + [_Outcome(s, e, i, whole.kind, whole.detail) for e, i, s, _ in items]
        try:
            results = answer.json()["results"]
            if len(results) != len(items):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return outcomes + [_Outcome(s, e, i, "transient", "the server's answer to a batch was not readable")
                               for e, i, s, _ in items]
        share = len(body) // len(items)
        for (entity, entity_id, seq, _data), result in zip(items, results, strict=True):
            status = result.get("status") if isinstance(result, dict) else None
            reason = f"{result.get('error', '')}: {result.get('reason', '')}" if isinstance(result, dict) else ""
            kind = {"stored": "sent", "already stored": "sent", "conflict": "conflict", "refused": "refused"}.get(
                status, "transient")
            # the words of the row's own PUT answer (what `sync status` and the technician read)
            detail = {"sent": "", "conflict": f"HTTP 409 {reason}", "refused": f"HTTP 400 {reason}"}.get(
                kind, f"server error: batch answer {status!r} {reason}")
            outcomes.append(_Outcome(seq, entity, entity_id, kind, detail, nbytes=share,
                                     payload=texts[(entity, entity_id)][1]))
        return outcomes

    def _send_each(self, http: httpx.Client, batch: list[tuple], stop: threading.Event) -> list[_Outcome]:
        """PUT each row (a few at a time on one keep-alive client)."""
        parallel = max(1, int(self.settings["parallel"]))
        if parallel == 1:
            out = []
            for item in batch:
                if stop.is_set():
                    break
                out.append(self._put(http, *item, stop, None))
                if out[-1].kind in ("auth", "transient"):
                    break
            return out
        abort = threading.Event()  # the first failure stops the rest of the batch (no 200 timeouts in a row)
        with concurrent.futures.ThreadPoolExecutor(parallel, thread_name_prefix="sync-put") as pool:
            futures = [pool.submit(self._put, http, *item, stop, abort) for item in batch]
            found = [f.result() for f in futures]
        return [o for o in found if o.kind != "skipped"]

    def _put(self, http: httpx.Client, seq: int, entity: str, entity_id: str, payload: str,
             stop: threading.Event, abort: threading.Event | None) -> _Outcome:
        if stop.is_set() or (abort is not None and abort.is_set()):
            return _Outcome(seq, entity, entity_id, "skipped")
        outcome = self._put_one(http, seq, entity, entity_id, payload, stop)
        if abort is not None and outcome.kind in ("auth", "transient"):
            abort.set()
        return outcome

    def _put_one(self, http, seq, entity, entity_id, payload, stop) -> _Outcome:
        try:
            check_entity_id(entity, entity_id)
            body = row_body(seq, rowsmod.loads(payload))
        except (PayloadError, ValueError) as exc:
            return _Outcome(seq, entity, entity_id, "refused", f"not sent: {exc}")
        if not self.bucket.take(len(body), stop):
            return _Outcome(seq, entity, entity_id, "transient", "stopped while waiting for the bandwidth cap")
        try:
            answer = http.put(row_path(entity, entity_id), content=body,
                              headers={"Content-Type": "application/json"})
        except (httpx.TransportError, OSError) as exc:
            return _Outcome(seq, entity, entity_id, "transient", transport.describe(exc))
        outcome = _classify(seq, entity, entity_id, answer, len(body))
        outcome.payload = payload
        return outcome

    def _record(self, outcomes: list[_Outcome]) -> None:
        """Write what the server answered, in one short transaction."""
        if not outcomes:
            return
        now = rowsmod.utc_now()
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for o in outcomes:
                if o.kind in ("sent", "conflict"):
                    # Only if the payload is still the one sent: a queued patient edited meanwhile
                    # (store/upstream.py refresh_pending) stays queued, and its resend is a 409 on record.
                    cur = conn.execute(
                        "UPDATE outbox SET sent_at = ?, last_attempt_at = ?, attempts = attempts + 1, last_error = ? "
                        "WHERE seq = ? AND sent_at IS NULL AND (? IS NULL OR payload = ?)",
                        [now, now, o.detail if o.kind == "conflict" else "", o.seq, o.payload, o.payload])
                    if cur.rowcount == 0:
                        continue
                    table = SYNCED_TABLES.get(o.entity)
                    if table:
                        conn.execute(f"UPDATE {table} SET synced_at = ? WHERE id = ? AND synced_at IS NULL",
                                     [now, o.entity_id])
                elif o.kind == "refused":
                    conn.execute("UPDATE outbox SET refused_at = ?, last_attempt_at = ?, attempts = attempts + 1, "
                                 "last_error = ? WHERE seq = ?", [now, now, o.detail[:2000], o.seq])
                else:  # transient / auth: counted against the item, which stays queued
                    conn.execute("UPDATE outbox SET last_attempt_at = ?, attempts = attempts + 1, last_error = ? "
                                 "WHERE seq = ?", [now, o.detail[:2000], o.seq])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _send_recordings(self, http: httpx.Client, stop: threading.Event) -> int:
        """Upload the queued recordings (sync/recordings.py: resumable, SHA-256 checked by the server),
        after the rows; returns how many are still queued. ``upload_recording`` marks a recording
        sent (``synced_at``, what `db prune` trusts) only once the server holds all of it, so a
        recording is never counted sent here on any other answer."""
        from store.errors import NotFoundError
        from sync.recordings import UploadInterrupted, UploadRefused, upload_recording

        sql = ("SELECT seq, entity_id FROM outbox WHERE entity = 'recording' AND sent_at IS NULL "
               "AND refused_at IS NULL ORDER BY seq")

        def throttle(nbytes: int) -> None:
            self._wait_while_held(stop)
            if stop.is_set() or not self.bucket.take(nbytes, stop):
                raise UploadInterrupted("stopped while waiting for the bandwidth cap")

        for seq, recording_id in self.db.execute(sql).fetchall():
            if stop.is_set():
                break
            try:
                upload_recording(http, self.db_path, recording_id, throttle=throttle)
            except UploadInterrupted as exc:
                self._record([_Outcome(seq, "recording", recording_id, "transient", str(exc))])
                raise TransientError(str(exc)) from None
            except UploadRefused as exc:
                if exc.status == 401:
                    raise AuthError(f"{exc}: enrol the kiosk again (gaitkiosk sync enrol URL CODE)") from None
                self._record([_Outcome(seq, "recording", recording_id, "refused", str(exc))])
            except NotFoundError as exc:  # the recording is gone from the store (deleted by hand)
                self._record([_Outcome(seq, "recording", recording_id, "refused", str(exc))])
        return self.db.execute(sql.replace("seq, entity_id", "count(*)").replace(" ORDER BY seq", "")).fetchone()[0]

    # -- loops ---------------------------------------------------------------------------------
    def once(self, stop: threading.Event | None = None) -> Cycle:
        """One full pass; the status file records its outcome."""
        try:
            done = self.cycle(stop)
        except SyncError as exc:
            state.update(self.data_dir, last_error=str(exc), last_error_at=rowsmod.utc_now())
            raise
        state.update(self.data_dir, last_success_at=rowsmod.utc_now(), last_error="", last_error_at=None,
                     last_sent=done.sent, next_try_at=None)
        return done

    def run(self, stop: threading.Event) -> None:
        """Pass after pass until ``stop``: at once while rows wait, every ``poll_s`` when idle,
        after a backoff with full jitter when the server or network failed."""
        while not stop.is_set():
            try:
                self.once(stop)
                self.backoff.reset()
                delay = self.settings["poll_s"]
            except (TransientError, AuthError, NotEnrolledError) as exc:
                delay = self.backoff.next_delay()
                if isinstance(exc, AuthError | NotEnrolledError):
                    delay = max(delay, self.settings["poll_s"])  # nothing to gain from hurrying
                log.warning("sync: %s (next try in %.1f s)", exc, delay)
                state.update(self.data_dir, next_try_at=_after(delay), failures=self.backoff.failures)
            except Exception as exc:  # noqa: BLE001 - a broken enrolment file, a locked database, a bug:
                # said in the status and the log, then tried again later; the worker never dies of it
                log.error("sync: %s", exc, exc_info=not isinstance(exc, SyncError | sqlite3.Error))
                state.update(self.data_dir, last_error=str(exc) or type(exc).__name__,
                             last_error_at=rowsmod.utc_now())
                delay = self.settings["backoff_cap_s"]
            stop.wait(delay)


def _after(seconds: float) -> str:
    import datetime as dt

    return rowsmod.format_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


def _classify(seq: int, entity: str, entity_id: str, answer: httpx.Response, nbytes: int) -> _Outcome:
    code = answer.status_code
    if code in (200, 201):
        return _Outcome(seq, entity, entity_id, "sent", nbytes=nbytes)
    try:
        doc = answer.json()
        reason = f"{doc.get('error', '')}: {doc.get('reason', '')}"
    except ValueError:
        reason = answer.text[:200].strip() or answer.reason_phrase
    detail = f"HTTP {code} {reason}"
    if code == 409:
        return _Outcome(seq, entity, entity_id, "conflict", detail)
    if code == 401:
        return _Outcome(seq, entity, entity_id, "auth", f"the server refused the kiosk's token ({detail}): "
                                                       "enrol the kiosk again (gaitkiosk sync enrol URL CODE)")
    if 400 <= code < 500 and code not in (408, 425, 429):
        return _Outcome(seq, entity, entity_id, "refused", detail)
    return _Outcome(seq, entity, entity_id, "transient", f"server error: {detail}")
