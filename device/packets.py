"""Packet types and payloads of the wire protocol (docs/protocol.md, sections 4-9).

Pure data and ``struct`` layouts, no framing: ``device.framing`` adds the
header, CRC and COBS and re-exports everything here. Every payload is
little-endian and packed (no alignment padding). A reader ignores bytes after
the fields it knows, so later protocol versions may append fields.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from device import frames
from device.errors import LengthError, PayloadError


class PacketType(IntEnum):
    HELLO = 1  # device identity and geometry
    FRAME = 2  # pressure frame, u16 counts
    FRAME12 = 3  # pressure frame, 12-bit packed counts
    STATUS = 4  # battery, temperature, error counters
    COMMAND = 5  # host -> device
    ACK = 6  # device -> host, answers one COMMAND
    FRAME8 = 7  # pressure frame, u8 counts


FRAME_TYPES = (PacketType.FRAME, PacketType.FRAME12, PacketType.FRAME8)
FRAME_BITS = {PacketType.FRAME: 16, PacketType.FRAME12: 12, PacketType.FRAME8: 8}
FRAME_TYPE_FOR_BITS = {16: PacketType.FRAME, 12: PacketType.FRAME12, 8: PacketType.FRAME8}


class DeviceKind(IntEnum):
    MAT = 1
    INSOLE_LEFT = 2
    INSOLE_RIGHT = 3

    @property
    def label(self) -> str:
        """The kind as ``device.frames`` names it ("mat", "insole_left", "insole_right")."""
        return _KIND_LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> DeviceKind:
        for kind, name in _KIND_LABELS.items():
            if name == label:
                return kind
        raise ValueError(f"unknown device kind {label!r}; expected one of {frames.KINDS}")


_KIND_LABELS = {
    DeviceKind.MAT: frames.MAT,
    DeviceKind.INSOLE_LEFT: frames.INSOLE_LEFT,
    DeviceKind.INSOLE_RIGHT: frames.INSOLE_RIGHT,
}


class CommandOp(IntEnum):
    START = 1  # start streaming frames
    STOP = 2  # stop streaming frames
    SET_RATE = 3  # value: sample rate in Hz
    IDENTIFY = 4  # value: seconds to blink the identify LED (0 = stop)
    ZERO = 5  # measure the unloaded baseline and noise; subtract it, gate noise (value: gate counts, 0 default, -1 none)
    SET_PROTOCOL = 6  # value: protocol version to speak from the ACK on
    GET_HELLO = 7  # send a HELLO now
    GET_STATUS = 8  # send a STATUS now


#: Ops whose value is an integer (the others carry a float or ignore it).
INTEGER_OPS = frozenset({CommandOp.IDENTIFY, CommandOp.SET_PROTOCOL, CommandOp.ZERO})


class AckResult(IntEnum):
    OK = 0
    UNKNOWN_COMMAND = 1  # the op is not one this device knows
    BAD_VALUE = 2  # value out of range for this device (e.g. a rate it cannot scan at)
    BUSY = 3  # not possible in the current state (e.g. ZERO while loaded)
    UNSUPPORTED = 4  # understood but not available on this device / version
    FAILED = 5  # tried and failed (hardware fault); message says why


def _enum_or_int(enum, value: int):
    """Known codes become enum members; unknown ones stay ints so a newer peer is still readable."""
    try:
        return enum(value)
    except ValueError:
        return value


def _f32(value: float) -> float:
    """A float32 from the wire as the shortest decimal that reads back as the same float32.

    So a pitch sent as 8.47 reads as 8.47, not 8.470000267028809, in reports
    and recordings; re-encoding gives the identical float32.
    """
    return float(str(np.float32(value)))


def _f32_array(values: np.ndarray) -> np.ndarray:
    return np.array([str(v) for v in values.reshape(-1)], dtype=np.float64).reshape(values.shape)


def _arrays_equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b))


# --- payload dataclasses ---------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Hello:
    """Identity and geometry; a device sends it on power-up, on GET_HELLO and every few seconds idle.

    Floats travel as float32 and read back as the shortest decimal of that float32. ``pitch_mm`` is (row pitch, column pitch) as in
    DESIGN 4.1; ``kpa_per_count`` 0 means raw uncalibrated counts. Insoles use
    ``rows`` = number of sensors and ``cols`` = 1, with ``sensors_mm`` (N, 2)
    in the insole frame of DESIGN 3 and ``sensor_area_mm2`` (N,).

    Zero state (docs/protocol.md section 5, appended fields): ``zeroed`` True once
    a ZERO has set an on-board baseline that the device subtracts;
    ``gate_counts`` None = no noise gate, 0 = each sensel's own default gate
    (``GATE_SIGMAS`` times its measured noise), > 0 = that many counts for every
    sensel. A HELLO without the appended fields reads as not zeroed, no gate.
    """

    kind: DeviceKind
    serial: str
    firmware: str
    rate_hz: float
    rows: int
    cols: int
    pitch_mm: tuple[float, float] = (0.0, 0.0)
    bits: int = 12
    kpa_per_count: float = 0.0
    sensors_mm: np.ndarray | None = None
    sensor_area_mm2: np.ndarray | None = None
    protocol_min: int = 1
    protocol_max: int = 1
    zeroed: bool = False
    gate_counts: int | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of this device's counts arrays: (rows, cols) for a mat, (N,) for an insole."""
        return frame_shape(self.rows, self.cols)

    @property
    def zero_state(self) -> dict:
        """What the device does to its counts before sending them (JSON-friendly, for records)."""
        return {"zeroed": bool(self.zeroed), "gate_counts": self.gate_counts}

    def __eq__(self, other):
        if not isinstance(other, Hello):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.serial == other.serial
            and self.firmware == other.firmware
            and self.rate_hz == other.rate_hz
            and self.rows == other.rows
            and self.cols == other.cols
            and tuple(self.pitch_mm) == tuple(other.pitch_mm)
            and self.bits == other.bits
            and self.kpa_per_count == other.kpa_per_count
            and _arrays_equal(self.sensors_mm, other.sensors_mm)
            and _arrays_equal(self.sensor_area_mm2, other.sensor_area_mm2)
            and self.protocol_min == other.protocol_min
            and self.protocol_max == other.protocol_max
            and self.zeroed == other.zeroed
            and self.gate_counts == other.gate_counts
        )

    __hash__ = None


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One pressure frame: uint16 counts, (rows, cols) for a mat or (N,) for an insole."""

    counts: np.ndarray

    def __eq__(self, other):
        if not isinstance(other, Frame):
            return NotImplemented
        return _arrays_equal(self.counts, other.counts)

    __hash__ = None


@dataclass(frozen=True, slots=True)
class Status:
    """Device health, sent about once a second while streaming and on GET_STATUS.

    ``battery_pct`` None: mains or bus powered. ``temperature_c`` None: no sensor.
    Counters are totals since power-up (u32, wrap).
    """

    battery_pct: int | None = None
    temperature_c: float | None = None
    streaming: bool = False
    rate_hz: float = 0.0
    frames_dropped: int = 0  # frames the device could not send in time
    rx_errors: int = 0  # host packets the device rejected (COBS, CRC, length)
    sensor_faults: int = 0  # ADC or scan errors
    zeroed: bool = False  # an on-board ZERO baseline is subtracted (flags bit 1)
    gated: bool = False  # counts below the noise gate are sent as 0 (flags bit 2)
    # Scans the device skipped because its scan loop overran (appended field, protocol section 7);
    # None: the device does not send it (an older device, or one without a timed scan loop).
    missed_deadlines: int | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """Host -> device. ``value`` is an int for IDENTIFY and SET_PROTOCOL, a float otherwise."""

    op: CommandOp | int
    value: int | float = 0


@dataclass(frozen=True, slots=True)
class Ack:
    """Device -> host answer to the COMMAND whose packet ``seq`` was ``command_seq``."""

    command_seq: int
    op: CommandOp | int
    result: AckResult | int
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.result == AckResult.OK


def frame_shape(rows: int, cols: int) -> tuple[int, ...]:
    """A frame with one column is a 1-D sensor array (an insole): shape (rows,)."""
    return (rows,) if cols == 1 else (rows, cols)


# --- payload layouts ---------------------------------------------------------

HELLO_FIXED = struct.Struct("<BBBBHHffff")  # kind bits pmin pmax rows cols rate pitch_r pitch_c kpa
STATUS = struct.Struct("<BBffIII")  # battery flags temperature rate dropped rx_errors faults
STATUS_MISSED = struct.Struct("<I")  # appended: missed_deadlines
COMMAND = struct.Struct("<Bd")  # op value
ACK_FIXED = struct.Struct("<IBB")  # command_seq op result
FRAME_DIMS = struct.Struct("<HH")  # rows cols

SENSOR_POSITIONS = 0x01  # HELLO flags: positions follow
SENSOR_AREAS = 0x02  # HELLO flags: areas follow
STATUS_STREAMING = 0x01
STATUS_ZEROED = 0x02
STATUS_GATED = 0x04
ZERO_STATE = struct.Struct("<BH")  # HELLO, appended: zero flags, gate counts
ZERO_ZEROED = 0x01  # HELLO zero flags: the baseline is subtracted
ZERO_GATED = 0x02  # HELLO zero flags: the noise gate is on (gate counts 0 = per-sensel)
GATE_SIGMAS = 3.0  # ZERO value 0: each sensel's gate is this many of its own noise sigmas
NO_GATE = -1  # ZERO value: subtract the baseline, no gate
NO_BATTERY = 0xFF


def _pack_text(text: str, field: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"{field} is {len(raw)} bytes of UTF-8; the protocol allows 255")
    return bytes([len(raw)]) + raw


def _unpack_text(payload, pos: int, field: str) -> tuple[str, int]:
    if pos >= len(payload):
        raise LengthError(f"payload ends before the {field} length byte")
    size = payload[pos]
    end = pos + 1 + size
    if end > len(payload):
        raise LengthError(f"{field} announces {size} bytes, only {len(payload) - pos - 1} remain")
    try:
        return bytes(payload[pos + 1 : end]).decode("utf-8"), end
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{field} is not valid UTF-8: {exc}") from None


def pack_hello(h: Hello) -> bytes:
    n = h.rows * h.cols
    flags = 0
    parts = []
    for array, width, flag, name in (
        (h.sensors_mm, 2, SENSOR_POSITIONS, "sensors_mm"),
        (h.sensor_area_mm2, 1, SENSOR_AREAS, "sensor_area_mm2"),
    ):
        if array is None:
            continue
        values = np.asarray(array, dtype="<f4")
        expected = (n, 2) if width == 2 else (n,)
        if values.shape != expected:
            raise ValueError(f"{name} has shape {values.shape}, expected {expected} for {h.rows} x {h.cols}")
        flags |= flag
        parts.append(values.tobytes())
    return b"".join(
        [
            HELLO_FIXED.pack(
                int(h.kind), h.bits, h.protocol_min, h.protocol_max, h.rows, h.cols,
                h.rate_hz, h.pitch_mm[0], h.pitch_mm[1], h.kpa_per_count,
            ),
            _pack_text(h.serial, "serial"),
            _pack_text(h.firmware, "firmware"),
            bytes([flags]),
            *parts,
            _pack_zero_state(h),
        ]
    )


def _pack_zero_state(h: Hello) -> bytes:
    gate = h.gate_counts
    if gate is not None and not 0 <= gate <= 0xFFFF:
        raise ValueError(f"gate_counts must be None or 0..65535, got {gate}")
    flags = (ZERO_ZEROED if h.zeroed else 0) | (0 if gate is None else ZERO_GATED)
    return ZERO_STATE.pack(flags, gate or 0)


def unpack_hello(payload) -> Hello:
    if len(payload) < HELLO_FIXED.size:
        raise LengthError(f"HELLO payload is {len(payload)} bytes, at least {HELLO_FIXED.size + 3} expected")
    kind, bits, pmin, pmax, rows, cols, rate, pitch_r, pitch_c, kpa = HELLO_FIXED.unpack_from(payload)
    try:
        kind = DeviceKind(kind)
    except ValueError:
        raise PayloadError(f"HELLO names unknown device kind {kind}; update gaitkiosk") from None
    serial, pos = _unpack_text(payload, HELLO_FIXED.size, "HELLO serial")
    firmware, pos = _unpack_text(payload, pos, "HELLO firmware")
    if pos >= len(payload):
        raise LengthError("HELLO payload ends before its sensor flags byte")
    flags = payload[pos]
    pos += 1
    n = rows * cols
    arrays = []
    for flag, width in ((SENSOR_POSITIONS, 2), (SENSOR_AREAS, 1)):
        if not flags & flag:
            arrays.append(None)
            continue
        size = 4 * width * n
        if pos + size > len(payload):
            raise LengthError(f"HELLO sensor table needs {size} bytes, only {len(payload) - pos} remain")
        values = _f32_array(np.frombuffer(payload, dtype="<f4", count=width * n, offset=pos))
        arrays.append(values.reshape(n, 2) if width == 2 else values)
        pos += size
    zeroed, gate = False, None
    if pos + ZERO_STATE.size <= len(payload):  # appended in the ZERO-gate revision; older devices stop here
        zero_flags, gate_counts = ZERO_STATE.unpack_from(payload, pos)
        zeroed = bool(zero_flags & ZERO_ZEROED)
        gate = gate_counts if zero_flags & ZERO_GATED else None
    return Hello(
        kind=kind, serial=serial, firmware=firmware, rate_hz=_f32(rate), rows=rows, cols=cols,
        pitch_mm=(_f32(pitch_r), _f32(pitch_c)), bits=bits, kpa_per_count=_f32(kpa),
        sensors_mm=arrays[0], sensor_area_mm2=arrays[1], protocol_min=pmin, protocol_max=pmax,
        zeroed=zeroed, gate_counts=gate,
    )


def pack_status(s: Status) -> bytes:
    battery = NO_BATTERY if s.battery_pct is None else s.battery_pct
    if not 0 <= battery <= 100 and battery != NO_BATTERY:
        raise ValueError(f"battery_pct must be 0..100 or None, got {s.battery_pct}")
    temperature = math.nan if s.temperature_c is None else s.temperature_c
    flags = (STATUS_STREAMING if s.streaming else 0) | (STATUS_ZEROED if s.zeroed else 0) | (STATUS_GATED if s.gated else 0)
    body = STATUS.pack(
        battery, flags, temperature, s.rate_hz, s.frames_dropped, s.rx_errors, s.sensor_faults
    )
    return body if s.missed_deadlines is None else body + STATUS_MISSED.pack(s.missed_deadlines & 0xFFFFFFFF)


def unpack_status(payload) -> Status:
    if len(payload) < STATUS.size:
        raise LengthError(f"STATUS payload is {len(payload)} bytes, {STATUS.size} expected")
    battery, flags, temperature, rate, dropped, rx_errors, faults = STATUS.unpack_from(payload)
    missed = None
    if len(payload) >= STATUS.size + STATUS_MISSED.size:  # fields appended later still follow (section 4)
        (missed,) = STATUS_MISSED.unpack_from(payload, STATUS.size)
    return Status(
        battery_pct=None if battery == NO_BATTERY else battery,
        temperature_c=None if math.isnan(temperature) else _f32(temperature),
        streaming=bool(flags & STATUS_STREAMING),
        rate_hz=_f32(rate),
        frames_dropped=dropped,
        rx_errors=rx_errors,
        sensor_faults=faults,
        zeroed=bool(flags & STATUS_ZEROED),
        gated=bool(flags & STATUS_GATED),
        missed_deadlines=missed,
    )


def pack_command(c: Command) -> bytes:
    return COMMAND.pack(int(c.op), float(c.value))


def unpack_command(payload) -> Command:
    if len(payload) < COMMAND.size:
        raise LengthError(f"COMMAND payload is {len(payload)} bytes, {COMMAND.size} expected")
    op, value = COMMAND.unpack_from(payload)
    op = _enum_or_int(CommandOp, op)
    if op in INTEGER_OPS and value.is_integer():
        value = int(value)
    return Command(op=op, value=value)


def pack_ack(a: Ack) -> bytes:
    return ACK_FIXED.pack(a.command_seq, int(a.op), int(a.result)) + _pack_text(a.message, "message")


def unpack_ack(payload) -> Ack:
    if len(payload) < ACK_FIXED.size + 1:
        raise LengthError(f"ACK payload is {len(payload)} bytes, at least {ACK_FIXED.size + 1} expected")
    command_seq, op, result = ACK_FIXED.unpack_from(payload)
    message, _ = _unpack_text(payload, ACK_FIXED.size, "ACK message")
    return Ack(
        command_seq=command_seq,
        op=_enum_or_int(CommandOp, op),
        result=_enum_or_int(AckResult, result),
        message=message,
    )
