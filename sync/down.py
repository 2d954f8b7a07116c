"""Down: the clinic's patient and program changes, from the server's feed into the kiosk's store.

    applied = pull_changes(http, db_path)    # the sync worker calls this once per cycle

Page by page: fetch (no database transaction open), then apply the page's rows **and** store the
new cursor in one short SQLite transaction, so a power cut leaves both or neither and a re-read
is harmless (rows are applied by UUID; one already there as sent changes nothing).

Rows go through the store's own repositories, so the kiosk's rules hold: a patient's code stays
unique; a program version never changes, a new active one replaces the patient's active ones,
which stay inactive as the history (store.programs.Programs.replace, as the Programs room saves).
A row the kiosk cannot apply yet (a program whose patient has not arrived) or at all (a code
another local patient has, a drill this kiosk does not know) is parked in ``sync_down_parked``
with the reason, retried after every page, and never blocks the feed.

Nothing applied here goes back up: what the store queued for upload while applying (whatever
queues it) is removed in the same transaction, because the server already has it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json

import httpx

from drills import registry
from drills.errors import DrillError
from store import db as dbmod
from store import rows as rowsmod
from store.audit import Audit
from store.errors import InvalidRecordError, NotFoundError
from store.patients import Patient, Patients
from store.programs import Prescription, Program, Programs
from sync.changes import DEFAULT_LIMIT, START, check_down_row, parse_cursor
from sync.errors import PayloadError, SyncError

FEED = "/v1/changes"
_ORDER = {"patient": 0, "program": 1}  # a page's patients before its programs
_PATIENT_FIELDS = ("code", "name", "birth_year", "notes", "archived")


class DownRefused(SyncError):
    """The server refused the feed (4xx): a revoked or unknown token (enrol again) or a bug; not worth retrying soon."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class BadFeedAnswer(SyncError):
    """The server's answer is not a page of the feed (a proxy's error page, a cut-off body): retry later."""


class Park(Exception):
    """This row cannot be applied (yet): the reason, for the technician."""


def pull_changes(http: httpx.Client, db_path, *, limit: int = DEFAULT_LIMIT, own_kiosk_id: str | None = None) -> int:
    """Apply the clinic's changes after this kiosk's cursor; the number of rows that changed the store.

    ``own_kiosk_id``: rows this kiosk itself uploaded (or that its upload changed on the server, a
    program it replaced) are skipped: the kiosk already holds them, and holds them newer than the
    feed may (a program replaced locally after its upload must not be switched back on by its
    own earlier row coming down).

    ``http``: an ``httpx.Client`` whose ``base_url`` is the server and whose headers carry the kiosk's
    bearer token (the worker's client). Raises ``httpx.TransportError``/``httpx.HTTPStatusError`` (no
    network, a 5xx: retry with backoff), :class:`BadFeedAnswer` (retry with backoff),
    :class:`DownRefused` (4xx: show it; a 401 needs `gaitkiosk sync enrol`), and the store's errors
    (``DiskFullError`` and other ``StoreError``: show them). Pages applied before an error stay applied.
    """
    server = feed_key(http)
    applied = 0
    with _open(db_path) as db:
        cursor = _cursor(db, server)
        while True:
            page = _fetch(http, cursor, limit)
            done = _apply_page(db, server, cursor, page, own_kiosk_id)
            if done is None:  # another pull moved the cursor meanwhile: it has this page
                return applied
            applied += done
            cursor = page["cursor"]
            if not page["more"]:
                return applied


def parked(db_path) -> list[dict]:
    """Rows from the server not applied on this kiosk, with why (for status and `db check`)."""
    with _open(db_path) as db:
        return rowsmod.fetch_all(db, "SELECT entity, id, reason, parked_at FROM sync_down_parked ORDER BY parked_at")


def cursor_of(db_path, http: httpx.Client) -> str:
    """This kiosk's cursor for the server and enrolment of ``http``."""
    with _open(db_path) as db:
        return _cursor(db, feed_key(http))


def feed_key(http: httpx.Client) -> str:
    """Whose cursor: the server's URL and the enrolment (a digest of the token). A kiosk enrolled again,
    perhaps into another clinic on the same server, starts that feed from the beginning; never mid-way
    through another clinic's."""
    server = str(http.base_url).rstrip("/")
    if not server:
        raise ValueError("pull_changes needs an httpx.Client with the server's base_url")
    token = http.headers.get("authorization", "")
    return f"{server} {hashlib.sha256(token.encode()).hexdigest()[:16]}" if token else server


@contextlib.contextmanager
def _open(db_path):
    """The worker's own short connection (never the kiosk's), closed when the pull ends."""
    db = dbmod.connect(db_path, create=False, migrate=False)
    try:
        yield db
    finally:
        db.close()


def _cursor(db, server: str) -> str:
    row = db.execute("SELECT cursor FROM sync_down_cursor WHERE server = ?", [server]).fetchone()
    return row[0] if row else START


def _fetch(http: httpx.Client, cursor: str, limit: int) -> dict:
    answer = http.get(FEED, params={"after": cursor, "limit": limit})
    if 400 <= answer.status_code < 500:
        try:
            reason = answer.json().get("reason") or answer.text[:200]
        except (ValueError, AttributeError):
            reason = answer.text[:200]
        raise DownRefused(answer.status_code, f"the server refused the changes feed ({answer.status_code}): {reason}")
    answer.raise_for_status()
    try:
        page = answer.json()
        rows, nxt, more = page["rows"], page["cursor"], page["more"]
        parse_cursor(nxt)
        if not isinstance(rows, list) or not isinstance(more, bool) or not all(
                isinstance(r, dict) and isinstance(r.get("entity"), str) and isinstance(r.get("id"), str)
                and isinstance(r.get("data"), dict) for r in rows):
            raise ValueError("rows")
    except (ValueError, KeyError, TypeError, PayloadError):
        raise BadFeedAnswer(f"the server's answer to {FEED} is not a page of changes: {answer.text[:120]!r}") from None
    if parse_cursor(nxt) < parse_cursor(cursor):
        raise BadFeedAnswer(f"the server's cursor {nxt} is behind this kiosk's {cursor}: is this the same server?")
    return page


def _apply_page(db, server: str, before: str, page: dict, own_kiosk_id: str | None = None) -> int | None:
    """Apply one page and store its cursor in one transaction; None if the cursor moved under us."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")  # the write lock first: no upgrade from a read that could fail
    try:
        if _cursor(db, server) != before:
            conn.execute("ROLLBACK")
            return None
        mark = conn.execute("SELECT coalesce(max(rowid), 0) FROM outbox").fetchone()[0]
        applied = 0
        for row in sorted(page["rows"], key=lambda r: _ORDER.get(r["entity"], 9)):
            if own_kiosk_id is not None and row.get("kiosk_id") == own_kiosk_id:
                continue  # this kiosk's own upload: it has it already, maybe newer
            applied += _try(db, row["entity"], row["id"], row["data"])
        for entity, row_id, body in conn.execute(
                "SELECT entity, id, body FROM sync_down_parked ORDER BY entity = 'program', parked_at").fetchall():
            applied += _try(db, entity, row_id, json.loads(body))
        # What applying queued for upload is the server's already: it must not loop back up.
        conn.execute("DELETE FROM outbox WHERE rowid > ? AND entity IN ('patient', 'program', 'prescription')",
                     [mark])
        conn.execute("INSERT INTO sync_down_cursor (server, cursor, updated_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (server) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                     [server, page["cursor"], rowsmod.utc_now()])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied


def _try(db, entity: str, row_id: str, data: dict) -> int:
    """Apply one row (1 if it changed the store), or park it with the reason (0)."""
    try:
        with db.atomic():  # a savepoint: a row that fails leaves nothing half-applied
            changed = _apply(db, entity, row_id, data)
    except (Park, PayloadError, InvalidRecordError, DrillError) as exc:
        db.execute("INSERT INTO sync_down_parked (entity, id, body, reason, parked_at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (entity, id) DO UPDATE SET body = excluded.body, reason = excluded.reason",
                   [entity, row_id, json.dumps(data, sort_keys=True), str(exc)[:500], rowsmod.utc_now()])
        return 0
    db.execute("DELETE FROM sync_down_parked WHERE entity = ? AND id = ?", [entity, row_id])
    return int(changed)


def _apply(db, entity: str, row_id: str, data: dict) -> bool:
    row = check_down_row(entity, row_id, data)  # the server's rules again: the kiosk trusts no answer blindly
    return _apply_patient(db, row) if entity == "patient" else _apply_program(db, row)


def _apply_patient(db, row: dict) -> bool:
    patients = Patients(db)
    try:
        local = patients.get(row["id"])
    except NotFoundError:
        clash = db.execute("SELECT id FROM patients WHERE code = ?", [row["code"]]).fetchone()
        if clash:
            raise Park(f"patient code {row['code']} is another patient on this kiosk ({clash[0]}): "
                       "merge or rename one of them on the server") from None
        patients.add(Patient(**{k: row.get(k) for k in ("id", "code", "name", "birth_year", "notes", "created_at")},
                             archived=row["archived"]))
        Audit(db).log("patient.synced", subject=row["id"], details={"code": row["code"], "new": True})
        return True
    changed = {k: row[k] for k in _PATIENT_FIELDS if k in row and getattr(local, k) != row[k]}
    if not changed:
        return False
    patients.update(dataclasses.replace(local, **changed))
    Audit(db).log("patient.synced", subject=row["id"], details={"code": row["code"], "changed": sorted(changed)})
    return True


def _apply_program(db, row: dict) -> bool:
    programs = Programs(db)
    if db.execute("SELECT 1 FROM patients WHERE id = ?", [row["patient_id"]]).fetchone() is None:
        raise Park(f"its patient {row['patient_id']} is not on this kiosk yet")
    incoming = [(rx["id"], rx["drill"], rx["params"], rx["repetitions"]) for rx in row["prescriptions"]]
    try:
        local = programs.get(row["id"])
    except NotFoundError:
        for rx in row["prescriptions"]:
            registry.validate(rx["drill"], rx["params"])  # as the plan will: a drill this kiosk cannot run is parked
        by = row["created_by"]
        if by is not None and db.execute("SELECT 1 FROM users WHERE id = ?", [by]).fetchone() is None:
            by = None  # a therapist of another kiosk or tool: not a user here
        program = Program(patient_id=row["patient_id"], name=row["name"], created_by=by, active=row["active"],
                          notes=row["notes"], id=row["id"], created_at=row["created_at"],
                          prescriptions=[Prescription(drill=d, params=p, repetitions=n, id=i) for i, d, p, n in incoming])
        replaced = []
        if program.active:
            replaced = programs.replace(program)  # the patient's active ones step back, kept as history
        else:
            programs.add(program)  # an old version: history only
        Audit(db).log("program.synced", subject=program.id,
                      details={"patient_id": program.patient_id, "active": program.active,
                               "replaces": [p.id for p in replaced]})
        return True
    if [(rx.id, rx.drill, rx.params, rx.repetitions) for rx in local.prescriptions] != incoming:
        raise Park(f"program {row['id']} is on this kiosk with other prescriptions; a program version never "
                   "changes: a change is a new program with a new id")
    if local.active == row["active"]:
        return False
    if row["active"]:  # made the active one again on the server: as a save would, the others step back
        for other in programs.for_patient(row["patient_id"]):
            programs.set_active(other.id, False)
    programs.set_active(row["id"], row["active"])
    Audit(db).log("program.synced", subject=row["id"], details={"patient_id": row["patient_id"],
                                                                "active": row["active"]})
    return True
