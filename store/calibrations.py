"""Calibration records (JSON from calibration/) per device; at most one active each."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows, upstream
from store.errors import NotFoundError

_JSON = ("record",)
_BOOLS = ("active",)


@dataclass
class Calibration:
    device_serial: str
    record: dict  # the calibration step's JSON round trip (STYLE item 7)
    created_by: str | None = None
    active: bool = False
    synced_at: str | None = None
    id: str = field(default_factory=rows.new_id)
    created_at: str = field(default_factory=rows.utc_now)


class Calibrations:
    def __init__(self, db):
        self.db = db

    def add(self, calibration: Calibration, *, activate: bool = False) -> Calibration:
        with rows.atomic(self.db):
            stored = Calibration(**{**calibration.__dict__, "active": False})
            rows.insert(self.db, "calibrations", rows.to_row(stored, _JSON, _BOOLS), "calibration")
            upstream.queue(self.db, "calibration", calibration.id)
            if activate or calibration.active:
                self.activate(calibration.id)
        return self.get(calibration.id)

    def activate(self, calibration_id: str) -> None:
        """Make this the device's calibration in force (the previous one stays, inactive)."""
        with rows.atomic(self.db):
            serial = rows.fetch(self.db, "calibrations", "id", calibration_id, "calibration")["device_serial"]
            self.db.execute("UPDATE calibrations SET active = 0 WHERE device_serial = ? AND active = 1", [serial])
            self.db.execute("UPDATE calibrations SET active = 1 WHERE id = ?", [calibration_id])

    def get(self, calibration_id: str) -> Calibration:
        return rows.from_row(Calibration, rows.fetch(self.db, "calibrations", "id", calibration_id, "calibration"),
                             _JSON, _BOOLS)

    def active_for(self, device_serial: str) -> Calibration | None:
        found = rows.fetch_all(self.db, "SELECT * FROM calibrations WHERE device_serial = ? AND active = 1",
                               [device_serial])
        return rows.from_row(Calibration, found[0], _JSON, _BOOLS) if found else None

    def history(self, device_serial: str) -> list[Calibration]:
        return [rows.from_row(Calibration, r, _JSON, _BOOLS) for r in rows.fetch_all(
            self.db, "SELECT * FROM calibrations WHERE device_serial = ? ORDER BY created_at DESC", [device_serial])]

    def require(self, calibration_id: str) -> Calibration:
        try:
            return self.get(calibration_id)
        except NotFoundError:
            raise NotFoundError(f"calibration {calibration_id} is not in this database") from None
