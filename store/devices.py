"""Devices the kiosk has seen: identity, firmware version, last seen."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import rows

_JSON = ("info",)


@dataclass
class Device:
    serial: str
    kind: str
    firmware_version: str = ""
    info: dict = field(default_factory=dict)  # geometry, sample rate, USB ids
    first_seen: str = field(default_factory=rows.utc_now)
    last_seen: str = field(default_factory=rows.utc_now)


def device_from_hello(hello, kind: str, *, seen_at: str | None = None) -> Device:
    """A Device row from a ``device.packets.Hello``: export reads the geometry kept in ``info``."""
    import numpy as np

    at = seen_at or rows.utc_now()

    info = {"rate_hz": float(hello.rate_hz), "rows": int(hello.rows), "cols": int(hello.cols),
            "pitch_mm": [float(v) for v in hello.pitch_mm], "bits": int(hello.bits),
            "kpa_per_count": float(hello.kpa_per_count)}
    zero_state = getattr(hello, "zero_state", None)  # docs/protocol.md 9.1: raw or device-zeroed counts
    if zero_state is not None:
        info["zero"] = dict(zero_state)
    if hello.sensors_mm is not None:
        info["sensors_mm"] = np.asarray(hello.sensors_mm, dtype=float).tolist()
    if hello.sensor_area_mm2 is not None:
        info["sensor_area_mm2"] = np.asarray(hello.sensor_area_mm2, dtype=float).tolist()
    return Device(serial=hello.serial, kind=kind, firmware_version=hello.firmware, info=info,
                  first_seen=at, last_seen=at)


class Devices:
    def __init__(self, db):
        self.db = db

    def seen(self, device: Device) -> Device:
        """Record a hello: insert a new device or refresh identity and last_seen."""
        row = rows.to_row(device, json_fields=_JSON)
        with rows.atomic(self.db):
            self.db.execute(
                """INSERT INTO devices (serial, kind, firmware_version, info, first_seen, last_seen)
                   VALUES (:serial, :kind, :firmware_version, :info, :first_seen, :last_seen)
                   ON CONFLICT (serial) DO UPDATE SET kind = excluded.kind,
                     firmware_version = excluded.firmware_version, info = excluded.info,
                     last_seen = excluded.last_seen""",
                row,
            )
        return self.get(device.serial)

    def get(self, serial: str) -> Device:
        return rows.from_row(Device, rows.fetch(self.db, "devices", "serial", serial, "device"), json_fields=_JSON)

    def list(self) -> list[Device]:
        return [rows.from_row(Device, r, json_fields=_JSON)
                for r in rows.fetch_all(self.db, "SELECT * FROM devices ORDER BY kind, serial")]
