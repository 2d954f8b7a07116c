"""The audit log: who did what, when. Append-only by design (no update, no delete)."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows, upstream

_JSON = ("details",)


@dataclass
class AuditEntry:
    action: str  # e.g. "session.start", "calibration.activate", "db.restore"
    user_id: str | None = None
    subject: str = ""  # the id the action was about
    details: dict = field(default_factory=dict)
    at: str = field(default_factory=rows.utc_now)
    id: int | None = None
    uuid: str = field(default_factory=rows.new_id)  # its key upstream (id is only this kiosk's)


class Audit:
    def __init__(self, db):
        self.db = db

    def log(self, action: str, *, user_id: str | None = None, subject: str = "", details: dict | None = None,
            at: str | None = None) -> AuditEntry:
        entry = AuditEntry(action=action, user_id=user_id, subject=subject, details=details or {},
                           at=at or rows.utc_now())
        row = rows.to_row(entry, json_fields=_JSON)
        del row["id"]
        with rows.atomic(self.db):
            entry.id = self.db.execute(
                "INSERT INTO audit_log (action, user_id, subject, details, at, uuid) VALUES (?, ?, ?, ?, ?, ?)",
                [row["action"], row["user_id"], row["subject"], row["details"], row["at"], row["uuid"]],
            ).lastrowid
            upstream.queue(self.db, "audit", entry.uuid)
        return entry

    def recent(self, limit: int = 100, *, subject: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE subject = ?", [subject]) if subject else ("", [])
        return [rows.from_row(AuditEntry, r, json_fields=_JSON) for r in rows.fetch_all(
            self.db, f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", params + [limit])]
