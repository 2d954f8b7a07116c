"""The outbox that sync/ drains: one row per thing to upload, in the kiosk's own order (seq).

Items are written by store/upstream.py in the transaction that wrote their row. ``seq`` (the
item's INTEGER PRIMARY KEY, AUTOINCREMENT: never reused, never renumbered) is the order the
server keeps within this kiosk (docs/sync.md "Time"); the row's UUID (``entity_id``) is the
upload's idempotency key, so a retry after a lost answer cannot duplicate anything upstream.
Marking an item sent also stamps ``synced_at`` on the entity it carried: that is what retention
trusts before pruning raw recordings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows
from store.errors import InvalidRecordError

_JSON = ("payload",)
# Entities whose table carries synced_at (what retention and `db check` read).
SYNCED_TABLES = {"session": "sessions", "trial": "trials", "recording": "recordings", "calibration": "calibrations"}


@dataclass
class OutboxItem:
    entity: str
    entity_id: str
    payload: dict = field(default_factory=dict)
    attempts: int = 0
    last_error: str = ""
    last_attempt_at: str | None = None
    sent_at: str | None = None
    refused_at: str | None = None
    id: str = field(default_factory=rows.new_id)
    created_at: str = field(default_factory=rows.utc_now)
    seq: int | None = None  # given by SQLite on insert


def _row(item: OutboxItem) -> dict:
    row = rows.to_row(item, _JSON)
    del row["seq"]
    return row


class Outbox:
    def __init__(self, db):
        self.db = db

    def enqueue(self, entity: str, entity_id: str, payload: dict | None = None) -> OutboxItem:
        if not entity or not entity_id:
            raise InvalidRecordError("an outbox item needs an entity and its id")
        return self.add(OutboxItem(entity=entity, entity_id=entity_id, payload=payload or {}))

    def add(self, item: OutboxItem) -> OutboxItem:
        rows.insert(self.db, "outbox", _row(item), "outbox item")
        item.seq = self.db.execute("SELECT seq FROM outbox WHERE id = ?", [item.id]).fetchone()[0]
        return item

    def get(self, item_id: str) -> OutboxItem:
        return rows.from_row(OutboxItem, rows.fetch(self.db, "outbox", "id", item_id, "outbox item"), _JSON)

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Unsent items the server has not refused, in the kiosk's order (seq)."""
        return [rows.from_row(OutboxItem, r, _JSON) for r in rows.fetch_all(
            self.db, "SELECT * FROM outbox WHERE sent_at IS NULL AND refused_at IS NULL ORDER BY seq LIMIT ?",
            [limit])]

    def pending_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]

    def mark_sent(self, item_id: str, at: str | None = None) -> None:
        at = at or rows.utc_now()
        with rows.atomic(self.db):  # holds the write lock from its start (tests/test_store_write_lock.py)
            item = self.get(item_id)
            self.db.execute("UPDATE outbox SET sent_at = ?, last_attempt_at = ? WHERE id = ?", [at, at, item_id])
            table = SYNCED_TABLES.get(item.entity)
            if table:
                self.db.execute(f"UPDATE {table} SET synced_at = ? WHERE id = ?", [at, item.entity_id])

    def mark_failed(self, item_id: str, error: str, at: str | None = None) -> None:
        with rows.atomic(self.db):
            cur = self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt_at = ? WHERE id = ?",
                [error[:2000], at or rows.utc_now(), item_id])
        if cur.rowcount == 0:
            raise LookupError(f"no outbox item with id {item_id}")
