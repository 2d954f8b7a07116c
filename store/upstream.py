"""What each row sends upstream (docs/sync.md "Up: rows"), and queueing it in the outbox.

The payload is the row as the server should keep it, read from SQLite inside the transaction
that wrote the row (the transactional outbox): a crash leaves both or neither. What stays on
the kiosk and why:

- ``synced_at`` of any row: the kiosk's own bookkeeping, stamped when the item is sent.
- a patient's ``name``, ``notes`` and ``archived``: names stay on the unit (pseudonymous
  patients; the code is what the server needs). A patient is sent as it was created; an edit of
  its code or birth year while still queued refreshes the queued payload (nothing was sent);
  after it was sent the server's own patient record is the one to change (it comes down the
  changes feed), and the kiosk's edit is in its audit log, which is sent.
- a program's and a calibration's ``active``: which one is in force changes when another
  replaces it; the server sees the newer row (by seq) and the audit entry, and the sent row
  never changes.
- a trial's ``report`` and ``metrics_version``: they travel as their own ``report`` row whose
  UUID is derived from the trial and the report's content, so a report re-made with newer
  metrics is a new row (``replaces`` names the previous one), never an edit of a sent one.

Sessions, their trials and reports are queued when the session closes (then they are final);
patients, programs, calibrations and audit entries when they are written.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from store import rows

ROW_ENTITIES = ("patient", "program", "session", "trial", "report", "calibration", "audit")
# The kiosk-only columns named in the module docstring.
_KEEP_OUT = {
    "patient": {"name", "notes", "archived"},
    "program": {"active"},
    "session": {"synced_at"},
    "trial": {"synced_at", "report", "metrics_version"},
    "calibration": {"synced_at", "active"},
}
_TABLE = {"patient": "patients", "program": "programs", "session": "sessions", "trial": "trials",
          "calibration": "calibrations"}
_JSON_COLUMNS = {"trial": ("params", "results", "calibration_ids"), "calibration": ("record",)}
# A fixed namespace: report ids are uuid5(namespace, trial id + content hash), the same on every kiosk
# for the same trial and report, so queueing one twice yields one row upstream.
REPORT_NAMESPACE = uuid.UUID("6a3f5f0e-3c47-4f0c-9a51-2f1f0d7c9b11")


def _row(db, table: str, key: str, value) -> dict:
    return rows.fetch(db, table, key, value, table.rstrip("s"))


def payload(db, entity: str, entity_id: str) -> dict:
    """The row ``entity_id`` of ``entity`` as the server keeps it (JSON columns as JSON, not text)."""
    if entity == "audit":
        row = _row(db, "audit_log", "uuid", entity_id)
        return {"id": row["uuid"], "local_id": row["id"], "at": row["at"], "user_id": row["user_id"],
                "action": row["action"], "subject": row["subject"], "details": rows.loads(row["details"])}
    if entity == "report":
        raise ValueError("a report's payload is made with its trial (report_payload)")
    row = _row(db, _TABLE[entity], "id", entity_id)
    data = {k: v for k, v in row.items() if k not in _KEEP_OUT.get(entity, ())}
    for name in _JSON_COLUMNS.get(entity, ()):
        data[name] = rows.loads(data[name])
    if entity == "program":
        data["prescriptions"] = [
            {**p, "params": rows.loads(p["params"])} for p in rows.fetch_all(
                db, "SELECT id, position, drill, params, repetitions FROM prescriptions "
                    "WHERE program_id = ? ORDER BY position", [entity_id])]
    return data


def report_payload(db, trial_id: str, replaces: str | None = None) -> dict | None:
    """The trial's analysis report as its own row, or None when it has none.

    ``replaces``: the id of the report row this one supersedes (a re-analysis), else None.
    """
    row = db.execute("SELECT session_id, report, metrics_version FROM trials WHERE id = ?", [trial_id]).fetchone()
    if row is None or row[1] is None:
        return None
    report = rows.loads(row[1])
    digest = hashlib.sha256(json.dumps(report, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    report_id = str(uuid.uuid5(REPORT_NAMESPACE, f"{trial_id}:{digest}"))
    return {"id": report_id, "trial_id": trial_id, "session_id": row[0], "metrics_version": row[2],
            "report": report, "replaces": replaces}


def queue(db, entity: str, entity_id: str, data: dict | None = None) -> bool:
    """Queue one item unless it is queued already; call inside the transaction that wrote the row.

    Returns True when a new item was queued. ``data`` defaults to :func:`payload`.
    """
    if data is None:
        data = payload(db, entity, entity_id) if entity in ROW_ENTITIES else {}
    cur = db.execute(
        "INSERT INTO outbox (id, entity, entity_id, payload, created_at) SELECT ?, ?, ?, ?, ? "
        "WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE entity = ? AND entity_id = ?)",
        [rows.new_id(), entity, entity_id, rows.dumps(data), rows.utc_now(), entity, entity_id])
    return cur.rowcount == 1


def refresh_pending(db, entity: str, entity_id: str) -> bool:
    """Re-read a queued, not yet sent row's payload (an edit before it left); True when one was."""
    cur = db.execute("UPDATE outbox SET payload = ? WHERE entity = ? AND entity_id = ? AND sent_at IS NULL",
                     [rows.dumps(payload(db, entity, entity_id)), entity, entity_id])
    return cur.rowcount > 0


def queue_session(db, session_id: str) -> None:
    """A closed session: it, its trials, their reports, then its recordings (the closing transaction)."""
    queue(db, "session", session_id)
    trial_ids = [r[0] for r in db.execute("SELECT id FROM trials WHERE session_id = ? ORDER BY position",
                                          [session_id]).fetchall()]
    for trial_id in trial_ids:
        queue(db, "trial", trial_id)
    for trial_id in trial_ids:
        report = report_payload(db, trial_id)
        if report is not None:
            queue(db, "report", report["id"], report)
    for (recording_id,) in db.execute("SELECT id FROM recordings WHERE session_id = ? ORDER BY started_at",
                                      [session_id]).fetchall():
        queue(db, "recording", recording_id, {"session_id": session_id})
