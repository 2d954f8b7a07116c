"""What a reader reports: link states, fault counters and the status snapshot.

Shared by :mod:`device.reader`, the CLI (``gaitkiosk demo``, ``record``,
``devices``) and the diagnostics screen; docs/sensors.md explains each state
and counter for technicians.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from device.framing import Hello, Status

CONNECTING = "connecting"
HANDSHAKE = "handshake"
STREAMING = "streaming"
IDLE = "idle"  # connected, streaming stopped on request
DISCONNECTED = "disconnected"
INCOMPATIBLE = "incompatible"
FINISHED = "finished"
STOPPED = "stopped"
STATES = (CONNECTING, HANDSHAKE, STREAMING, IDLE, DISCONNECTED, INCOMPATIBLE, FINISHED, STOPPED)


@dataclass
class LinkCounters:
    """Per-device totals since the reader was made (across reconnects)."""

    frames: int = 0  # frames delivered to the queue (including ones it later dropped)
    bytes: int = 0
    packets: int = 0  # valid packets of every type
    crc_failures: int = 0
    cobs_failures: int = 0
    version_errors: int = 0  # a protocol version the device did not announce, or no longer speaks
    malformed: int = 0  # bad length, geometry or field value; oversize
    resyncs: int = 0  # bad packets skipped to the next delimiter (sum of the faults above)
    unknown_types: int = 0  # packet types of a later protocol: skipped, no fault (protocol.md 4)
    version_skipped: int = 0  # packets sent before the device switched to the agreed version (8)
    gaps: int = 0  # sequence-number gaps
    lost_packets: int = 0  # packets missing inside those gaps
    duplicates: int = 0
    device_resets: int = 0  # sequence restarted or clock jumped: the device rebooted
    dropped_by_queue: int = 0  # oldest frames discarded because the consumer fell behind
    device_dropped: int = 0  # frames the device discarded, not read in time (its STATUS frames_dropped)
    device_missed_deadlines: int = 0  # scans the device skipped, its loop overran (STATUS missed_deadlines)
    frames_before_hello: int = 0  # frames ignored while the device was not yet identified
    other_devices: int = 0  # packets from another device on this port (another address): dropped
    unknown_address: int = 0  # packets from an address that never said HELLO: dropped
    device_swaps: int = 0  # another device (serial) or geometry took this port's address
    silences: int = 0  # times the device went quiet for silence_timeout_s
    reconnects: int = 0  # successful handshakes after a lost link
    open_failures: int = 0  # reopen attempts that failed
    handshake_failures: int = 0
    command_timeouts: int = 0
    commands_refused: int = 0
    clock_clamps: int = 0  # frames whose mapped time was slewed to keep times increasing
    internal_errors: int = 0  # bugs caught so the thread survives (see the log)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ReaderStatus:
    """A snapshot for the diagnostics screen, `gaitkiosk demo` and recordings' meta."""

    name: str
    url: str
    port: str  # the port actually open (differs from url after a re-find)
    state: str
    reason: str  # why it is not streaming, or the last fault; "" when all is well
    hello: Hello | None
    counters: dict[str, int]
    rate_hz: float  # measured frames per second over the last ~second
    last_frame_age_s: float | None
    clock_offset_s: float
    clock_drift_ppm: float
    device_status: Status | None = None
    usb_serial: str = ""
    # Other devices heard on this port (address -> "SERIAL (kind)"): never read, see docs/sensors.md.
    other_devices: dict[int, str] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """Who the device said it is (JSON-friendly), {} before its HELLO."""
        h = self.hello
        if h is None:
            return {}
        return {
            "kind": h.kind.label, "serial": h.serial, "firmware": h.firmware, "rate_hz": h.rate_hz,
            "rows": h.rows, "cols": h.cols, "pitch_mm": list(h.pitch_mm), "bits": h.bits,
            "kpa_per_count": h.kpa_per_count, "protocol": [h.protocol_min, h.protocol_max],
        }


@dataclass(frozen=True)
class DeviceSwap:
    """Another device (or the same serial with another geometry) said HELLO at this port's address."""

    old: Hello
    new: Hello
    t_host: float  # host clock when the new HELLO was read

    def describe(self) -> str:
        def card(h: Hello) -> str:
            return f"{h.serial} ({h.kind.label} {h.rows}x{h.cols})"

        return f"{card(self.old)} was replaced by {card(self.new)}"


def same_device(old: Hello, new: Hello) -> bool:
    """True if ``new`` is the device of ``old`` with frames of the same meaning (rate and zero may change)."""
    return (old.serial == new.serial and old.kind == new.kind and (old.rows, old.cols) == (new.rows, new.cols)
            and tuple(old.pitch_mm) == tuple(new.pitch_mm) and old.bits == new.bits
            and old.kpa_per_count == new.kpa_per_count)
