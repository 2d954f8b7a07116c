"""Wire protocol codec: packets <-> bytes, and a streaming Deframer (docs/protocol.md).

Pure: bytes in, packets out, no port and no thread, so tests can feed it
split, garbled and concatenated input. Every packet on the line is::

    0x00 | COBS( header | payload | crc32 ) | 0x00

    header = version u8 | type u8 | device u16 | seq u32 | t_us u64   (16 bytes, little-endian)
    crc32  = binascii.crc32(header + payload) as u32 little-endian

Senders write a delimiter before *and* after every packet; empty frames
between two delimiters are ignored, so garbage on the line is flushed at the
next packet's leading delimiter and can never swallow a valid packet.

Frames are self-describing (the FRAME payload starts with rows and cols), so
a reader that joined mid-stream can decode them before it has seen a HELLO;
a Deframer that knows a device's geometry rejects frames that disagree.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass
from math import prod

import numpy as np

from device import codec
from device.errors import (
    CobsError,
    CrcError,
    FrameError,
    LengthError,
    PacketTypeError,
    PayloadError,
    VersionError,
)
from device.packets import (  # re-exported: device.framing is the public face
    FRAME_BITS,
    FRAME_DIMS,
    FRAME_TYPE_FOR_BITS,
    FRAME_TYPES,
    GATE_SIGMAS,
    INTEGER_OPS,
    NO_GATE,
    Ack,
    AckResult,
    Command,
    CommandOp,
    DeviceKind,
    Frame,
    Hello,
    PacketType,
    Status,
    frame_shape,
    pack_ack,
    pack_command,
    pack_hello,
    pack_status,
    unpack_ack,
    unpack_command,
    unpack_hello,
    unpack_status,
)

__all__ = [
    "PROTOCOL_VERSION", "PROTOCOL_MIN", "PROTOCOL_MAX", "HEADER_SIZE", "CRC_SIZE",
    "MIN_PACKET_SIZE", "DEFAULT_MAX_FRAME", "BROADCAST",
    "PacketType", "DeviceKind", "CommandOp", "AckResult", "INTEGER_OPS", "FRAME_TYPES", "GATE_SIGMAS", "NO_GATE",
    "Hello", "Frame", "Status", "Command", "Ack", "Packet", "Skipped", "frame_shape",
    "encode_packet", "encode_frame", "decode_packet", "Deframer", "DeframerCounters",
    "check_version", "negotiate",
    "FrameError", "CobsError", "CrcError", "VersionError", "PacketTypeError", "LengthError",
    "PayloadError",
]

PROTOCOL_VERSION = 1  # what this kiosk speaks by default
PROTOCOL_MIN = 1  # oldest version this kiosk understands
PROTOCOL_MAX = 1  # newest version this kiosk understands

HEADER = struct.Struct("<BBHIQ")
CRC = struct.Struct("<I")
HEADER_SIZE = HEADER.size  # 16
CRC_SIZE = CRC.size  # 4
MIN_PACKET_SIZE = HEADER_SIZE + CRC_SIZE
#: Longest encoded frame a Deframer accepts by default: a 256 x 256 u16 frame plus COBS overhead.
DEFAULT_MAX_FRAME = 256 * 256 * 2 + 4 + 1024
BROADCAST = 0xFFFF  # COMMAND device address meaning "every device on this link"

_DELIMITER = b"\x00"
_TYPES = {int(t): t for t in PacketType}  # a dict lookup is cheaper than PacketType(n)
_PACK_BODY = {
    PacketType.HELLO: (Hello, pack_hello),
    PacketType.STATUS: (Status, pack_status),
    PacketType.COMMAND: (Command, pack_command),
    PacketType.ACK: (Ack, pack_ack),
}
_UNPACK_BODY = {
    PacketType.HELLO: unpack_hello,
    PacketType.STATUS: unpack_status,
    PacketType.COMMAND: unpack_command,
    PacketType.ACK: unpack_ack,
}


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded packet. ``device`` is the sender's address on the link (commands: the target)."""

    type: PacketType
    device: int
    seq: int
    t_us: int
    body: Hello | Frame | Status | Command | Ack
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class Skipped:
    """A whole packet (its CRC is good) that this kiosk cannot read, and that is no fault.

    Either a packet ``type`` this kiosk does not know (a later version may add
    types, docs/protocol.md section 4), or a packet in a protocol ``version``
    the device is still speaking before it switches to the agreed one (section
    8). A :class:`Deframer` made with ``keep_skipped=True`` hands these on in
    stream order, so a reader can count the sequence number they used.
    """

    type: int
    device: int
    seq: int
    t_us: int
    version: int
    why: str  # "unknown type" or "version"


# --- versions ------------------------------------------------------------------


def _kiosk_range() -> str:
    return f"v{PROTOCOL_MIN}" if PROTOCOL_MIN == PROTOCOL_MAX else f"v{PROTOCOL_MIN}..v{PROTOCOL_MAX}"


def check_version(version: int) -> None:
    """Raise VersionError, saying which side to update, unless this kiosk understands ``version``."""
    if PROTOCOL_MIN <= version <= PROTOCOL_MAX:
        return
    if version > PROTOCOL_MAX:
        advice = f"update gaitkiosk or set the device to v{PROTOCOL_MAX}"
    else:
        advice = "update the device firmware"
    raise VersionError(
        f"device speaks protocol v{version}, this kiosk understands {_kiosk_range()}: {advice}",
        version,
    )


def negotiate(hello: Hello) -> int:
    """The newest version both this kiosk and the device (``hello.protocol_min..max``) speak.

    If it differs from the version the device's packets carry, send
    ``Command(CommandOp.SET_PROTOCOL, version)``. Raises VersionError if the
    ranges do not overlap.
    """
    best = min(PROTOCOL_MAX, hello.protocol_max)
    if best >= max(PROTOCOL_MIN, hello.protocol_min):
        return best
    device = (
        f"v{hello.protocol_min}"
        if hello.protocol_min == hello.protocol_max
        else f"v{hello.protocol_min}..v{hello.protocol_max}"
    )
    advice = "update gaitkiosk" if hello.protocol_min > PROTOCOL_MAX else "update the device firmware"
    raise VersionError(
        f"device {hello.serial!r} speaks protocol {device}, this kiosk understands "
        f"{_kiosk_range()}: {advice}",
        hello.protocol_max if hello.protocol_min > PROTOCOL_MAX else hello.protocol_min,
    )


# --- encoding --------------------------------------------------------------------


def _header(version: int, ptype: int, device: int, seq: int, t_us: int) -> bytes:
    try:
        return HEADER.pack(version, ptype, device, seq, t_us)
    except struct.error:
        raise ValueError(
            f"header field out of range: version {version} (u8), device {device} (u16), "
            f"seq {seq} (u32), t_us {t_us} (u64)"
        ) from None


def _seal(body: bytes) -> bytes:
    """Append the CRC, COBS-encode and add both delimiters."""
    return _DELIMITER + codec.cobs_encode(body + CRC.pack(binascii.crc32(body))) + _DELIMITER


def _frame_payload(counts, bits: int) -> bytes:
    counts = np.asarray(counts)
    if counts.ndim == 1:
        rows, cols = counts.shape[0], 1
    elif counts.ndim == 2:
        rows, cols = counts.shape
    else:
        raise ValueError(f"frame counts must be 1-D (insole) or 2-D (mat), got shape {counts.shape}")
    if counts.dtype != np.uint16 or bits != 16:
        # Only the hot path (uint16 into a u16 frame) skips the range check.
        if counts.size and (counts.min() < 0 or counts.max() >= (1 << bits)):
            raise ValueError(
                f"{bits}-bit frame counts must be 0..{(1 << bits) - 1}, "
                f"got {counts.min()}..{counts.max()}"
            )
        if not np.issubdtype(counts.dtype, np.integer):
            raise ValueError(f"frame counts must be integers, got dtype {counts.dtype}")
    if rows > 0xFFFF or cols > 0xFFFF:
        raise ValueError(f"frame of {rows} x {cols} exceeds the 65535 x 65535 limit")
    dims = FRAME_DIMS.pack(rows, cols)
    if bits == 16:
        return dims + counts.astype("<u2", copy=False).tobytes()
    if bits == 12:
        return dims + codec.pack12(counts)
    if bits == 8:
        return dims + counts.astype(np.uint8).tobytes()
    raise ValueError(f"bits must be 8, 12 or 16, got {bits}")


def encode_frame(device: int, seq: int, t_us: int, counts, bits: int = 16,
                 version: int = PROTOCOL_VERSION) -> bytes:
    """Wire bytes (with both delimiters) of one pressure frame: the streaming hot path.

    ``counts``: integers, (rows, cols) for a mat or (N,) for an insole;
    ``bits`` 16, 12 or 8 picks FRAME, FRAME12 or FRAME8.
    """
    if bits not in FRAME_TYPE_FOR_BITS:
        raise ValueError(f"bits must be 8, 12 or 16, got {bits}")
    header = _header(version, FRAME_TYPE_FOR_BITS[bits], device, seq, t_us)
    return _seal(header + _frame_payload(counts, bits))


def encode_packet(packet: Packet) -> bytes:
    """Wire bytes (with both delimiters) of any packet."""
    ptype = PacketType(packet.type)
    body = packet.body
    if ptype in FRAME_TYPES:
        if not isinstance(body, Frame):
            raise ValueError(f"a {ptype.name} packet carries a Frame, got {type(body).__name__}")
        payload = _frame_payload(body.counts, FRAME_BITS[ptype])
    else:
        kind, pack = _PACK_BODY[ptype]
        if not isinstance(body, kind):
            raise ValueError(f"a {ptype.name} packet carries a {kind.__name__}, got {type(body).__name__}")
        payload = pack(body)
    header = _header(packet.version, ptype, packet.device, packet.seq, packet.t_us)
    return _seal(header + payload)


# --- decoding --------------------------------------------------------------------


def _decode_frame(raw: bytes, ptype: PacketType, shape) -> Frame:
    end = len(raw) - CRC_SIZE
    start = HEADER_SIZE + FRAME_DIMS.size
    if end < start:
        raise LengthError(f"{ptype.name} payload of {end - HEADER_SIZE} bytes has no rows/cols")
    rows, cols = FRAME_DIMS.unpack_from(raw, HEADER_SIZE)
    count = rows * cols
    if ptype is PacketType.FRAME:
        size = 2 * count
    elif ptype is PacketType.FRAME12:
        size = codec.packed12_size(count)
    else:
        size = count
    if end - start < size:
        raise LengthError(
            f"{ptype.name} of {rows} x {cols} needs {size} bytes of counts, got {end - start}"
        )
    if shape is not None:
        shape = tuple(shape)
        expected = _dims(shape)
        if (rows, cols) != expected:
            raise LengthError(
                f"frame is {rows} x {cols} sensels but the device's geometry is "
                f"{' x '.join(map(str, expected))}: re-read its HELLO"
            )
    else:
        shape = frame_shape(rows, cols)
    if ptype is PacketType.FRAME:
        counts = np.frombuffer(raw, dtype="<u2", count=count, offset=start).astype(np.uint16)
    elif ptype is PacketType.FRAME12:
        counts = codec.unpack12(memoryview(raw)[start : start + size], count)
    else:
        counts = np.frombuffer(raw, dtype=np.uint8, count=count, offset=start).astype(np.uint16)
    return Frame(counts.reshape(shape))


def decode_packet(encoded: bytes, shape: tuple[int, ...] | None = None) -> Packet:
    """Decode one COBS frame (the bytes between two delimiters, without them).

    ``shape``: expected counts shape of frames; a frame of other dimensions
    raises LengthError. Without it frames come out as (rows, cols), or (rows,)
    when cols == 1 (insoles).

    A HELLO is decoded whatever its version (its layout is frozen across
    versions, so the kiosk can learn what a newer device speaks); check
    ``packet.version`` and call :func:`negotiate`. Every other packet of a
    version this kiosk does not understand raises VersionError.

    Raises CobsError, LengthError, CrcError, VersionError, PacketTypeError,
    PayloadError (all FrameError), in that order of checking.
    """
    raw = codec.cobs_decode(encoded)
    size = len(raw)
    if size < MIN_PACKET_SIZE:
        raise LengthError(f"packet of {size} bytes is shorter than the {MIN_PACKET_SIZE}-byte minimum")
    (crc,) = CRC.unpack_from(raw, size - CRC_SIZE)
    actual = binascii.crc32(memoryview(raw)[: size - CRC_SIZE])
    if crc != actual:
        raise CrcError(f"CRC mismatch on a {size}-byte packet (sent {crc:08x}, computed {actual:08x})")
    header = HEADER.unpack_from(raw)
    version, ptype, device, seq, t_us = header
    if ptype != PacketType.HELLO and not PROTOCOL_MIN <= version <= PROTOCOL_MAX:
        try:
            check_version(version)
        except VersionError as exc:
            exc.header = header  # the CRC vouches for it: a whole packet, just not one we read
            raise
    known = _TYPES.get(ptype)
    if known is None:
        raise PacketTypeError(f"unknown packet type {ptype} (protocol v{version}); ignoring it", header)
    ptype = known
    if ptype in FRAME_TYPES:
        body = _decode_frame(raw, ptype, shape)
    else:
        body = _UNPACK_BODY[ptype](memoryview(raw)[HEADER_SIZE : size - CRC_SIZE])
    return Packet(ptype, device, seq, t_us, body, version)


# --- streaming ---------------------------------------------------------------------


@dataclass(slots=True)
class DeframerCounters:
    """Totals since the Deframer was made. Every non-empty frame that is not
    delivered is either skipped (``unknown_types``, ``version_skipped``: whole
    packets that are no fault, docs/protocol.md sections 4 and 8) or exactly one
    of the fault counters, and one resync."""

    bytes: int = 0  # bytes fed
    packets: int = 0  # valid packets delivered
    cobs_failures: int = 0
    crc_failures: int = 0
    version_errors: int = 0  # a version the sender did not announce, or no longer speaks
    malformed: int = 0  # too short, wrong length for type/geometry, impossible field value
    oversize: int = 0  # frames longer than max_frame, dropped without decoding
    resyncs: int = 0  # frames dropped as faults (the sum of the five fault counters above)
    discarded_bytes: int = 0  # bytes of the faulty frames (delimiters not included)
    unknown_types: int = 0  # valid CRC but a packet type this kiosk does not know: skipped, no fault
    version_skipped: int = 0  # valid CRC, a version the device speaks until it switches: skipped, no fault

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


_FAULT_COUNTER = (
    (CobsError, "cobs_failures"),
    (CrcError, "crc_failures"),
    (VersionError, "version_errors"),
    (FrameError, "malformed"),  # LengthError, PayloadError
)


class Deframer:
    """Split a byte stream at 0x00 delimiters and decode each frame into a Packet.

    ``feed(data)`` takes bytes in any chunking and returns the packets that
    completed, in order. Bad frames are counted (``counters``), remembered
    (``last_error``), passed to ``on_error`` if given, and skipped; decoding
    resumes at the next delimiter. A frame longer than ``max_frame`` encoded
    bytes is dropped without being buffered further.

    Geometry: a HELLO sets its device's counts shape; ``set_geometry`` sets it
    by hand. Frames of a device whose shape is known must match it (else
    LengthError, counted as malformed) and come out in that shape.

    Skipped, not faults (docs/protocol.md sections 4 and 8): packets of an
    unknown type, and packets in a version this kiosk does not speak from a
    device that has not said HELLO since :meth:`reset` or whose HELLO announced
    that version, until its first packet in a version we speak (it has then
    switched, and later packets in the old version are version errors again).
    With ``keep_skipped`` they come out of :meth:`feed` as :class:`Skipped`.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME, on_error=None,
                 shape: tuple[int, ...] | None = None, keep_skipped: bool = False):
        self.max_frame = max_frame
        self.on_error = on_error  # callable(FrameError) -> None, e.g. a logger
        self.keep_skipped = keep_skipped
        self.counters = DeframerCounters()
        self.last_error: FrameError | None = None
        self.geometry: dict[int, tuple[int, ...]] = {}  # device address -> counts shape
        self.default_shape = None if shape is None else tuple(shape)
        # device address -> (min, max) its last HELLO announced while it still spoke a
        # version we do not; None once it speaks one we do. Absent: no HELLO yet.
        self._announced: dict[int, tuple[int, int] | None] = {}
        self._pending = bytearray()
        self._discarding = False  # inside an oversize frame: drop bytes up to the next 0x00

    def set_geometry(self, shape: tuple[int, ...] | None, device: int | None = None) -> None:
        """Expected counts shape for ``device`` (None: every device without a HELLO of its own)."""
        shape = None if shape is None else tuple(int(n) for n in shape)
        if device is None:
            self.default_shape = shape
        elif shape is None:
            self.geometry.pop(device, None)
        else:
            self.geometry[device] = shape

    def reset(self) -> None:
        """Forget a partial frame and what each device speaks (e.g. after reopening the
        port: the device may have restarted in another version); counters are kept."""
        self._pending.clear()
        self._discarding = False
        self._announced.clear()

    def feed(self, data: bytes) -> list[Packet | Skipped]:
        """Consume ``data`` (any chunk of the stream); return the packets it completed, in order."""
        counters = self.counters
        counters.bytes += len(data)
        parts = bytes(data).split(_DELIMITER)
        packets: list[Packet] = []
        # parts[0] continues the pending frame; parts[-1] is the start of the next one.
        for index in range(len(parts) - 1):
            part = parts[index]
            if index == 0:
                if self._discarding:
                    counters.discarded_bytes += len(part)
                    self._discarding = False
                    continue
                if self._pending:
                    self._pending += part
                    part = bytes(self._pending)
                    self._pending.clear()
            if part:
                packet = self._decode(part)
                if packet is not None:
                    packets.append(packet)
        tail = parts[-1]
        if self._discarding:
            counters.discarded_bytes += len(tail)
        elif tail:
            self._pending += tail
            if len(self._pending) > self.max_frame:
                self._drop_oversize(len(self._pending))
                self._pending.clear()
                self._discarding = True
        return packets

    def _drop_oversize(self, size: int) -> None:
        counters = self.counters
        counters.oversize += 1
        counters.resyncs += 1
        counters.discarded_bytes += size
        self._report(LengthError(
            f"frame longer than {self.max_frame} bytes dropped: noise on the line, "
            "or a device whose frames need a larger max_frame"
        ))

    def _decode(self, frame: bytes) -> Packet | Skipped | None:
        if len(frame) > self.max_frame:
            self._drop_oversize(len(frame))
            return None
        try:
            packet = decode_packet(frame)
            if packet.type in FRAME_TYPES:
                packet = self._shaped(packet)
            elif packet.type == PacketType.HELLO:
                self.geometry[packet.device] = packet.body.shape
            self._note_version(packet)
        except PacketTypeError as exc:
            self.counters.unknown_types += 1
            return self._skipped(exc.header, "unknown type")
        except VersionError as exc:
            if exc.header is not None and self._expected(exc.header):
                self.counters.version_skipped += 1
                return self._skipped(exc.header, "version")
            return self._fault(exc, frame)
        except FrameError as exc:
            return self._fault(exc, frame)
        self.counters.packets += 1
        return packet

    def _note_version(self, packet: Packet) -> None:
        """Keep track of which devices are still to switch to a version we speak (section 8)."""
        spoken = PROTOCOL_MIN <= packet.version <= PROTOCOL_MAX
        if packet.type == PacketType.HELLO:
            hello = packet.body
            self._announced[packet.device] = None if spoken else (hello.protocol_min, hello.protocol_max)
        elif spoken and self._announced.get(packet.device) is not None:
            self._announced[packet.device] = None  # it has switched

    def _expected(self, header) -> bool:
        """A packet in a version we do not speak that its device may still send."""
        version, _, device, _, _ = header
        if device not in self._announced:
            return True  # no HELLO yet: we cannot know what it speaks; its HELLO will say
        announced = self._announced[device]
        return announced is not None and announced[0] <= version <= announced[1]

    def _skipped(self, header, why: str) -> Skipped | None:
        if not self.keep_skipped:
            return None
        version, ptype, device, seq, t_us = header
        return Skipped(ptype, device, seq, t_us, version, why)

    def _fault(self, exc: FrameError, frame: bytes) -> None:
        counters = self.counters
        for kind, name in _FAULT_COUNTER:
            if isinstance(exc, kind):
                setattr(counters, name, getattr(counters, name) + 1)
                break
        counters.resyncs += 1
        counters.discarded_bytes += len(frame)
        self._report(exc)
        return None

    def _shaped(self, packet: Packet) -> Packet:
        """Check a frame against its device's known geometry and give it that shape."""
        expected = self.geometry.get(packet.device, self.default_shape)
        counts = packet.body.counts
        if expected is None or counts.shape == expected:
            return packet
        if _dims(counts.shape) != _dims(expected):
            raise LengthError(
                f"device {packet.device} sent a frame of {' x '.join(map(str, _dims(counts.shape)))} "
                f"sensels, its geometry is {' x '.join(map(str, _dims(expected)))}: "
                "re-read its HELLO"
            )
        body = Frame(counts.reshape(expected))
        return Packet(packet.type, packet.device, packet.seq, packet.t_us, body, packet.version)

    def _report(self, exc: FrameError) -> None:
        self.last_error = exc
        if self.on_error is not None:
            self.on_error(exc)


def _dims(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, cols) of a counts shape; 1-D arrays are one column."""
    return (shape[0], shape[1]) if len(shape) == 2 else (prod(shape), 1)
