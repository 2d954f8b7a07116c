"""Packets of the wire protocol (docs/protocol.md sections 3-9): build what the insole sends,
parse the COMMANDs it receives.

Every function returns plain bytes; ``seal`` adds the CRC, COBS and both 0x00 delimiters.
Layouts are the kiosk's (device/packets.py), checked byte for byte against the shared golden
vectors in tests/data/protocol_golden.json.
"""

import struct

from firmware import cobs
from firmware.crc32 import crc32

HELLO, FRAME, FRAME12, STATUS, COMMAND, ACK, FRAME8 = 1, 2, 3, 4, 5, 6, 7
KIND_LEFT, KIND_RIGHT = 2, 3  # HELLO kind of an insole
START, STOP, SET_RATE, IDENTIFY, ZERO, SET_PROTOCOL, GET_HELLO, GET_STATUS = 1, 2, 3, 4, 5, 6, 7, 8
OK, UNKNOWN_COMMAND, BAD_VALUE, BUSY, UNSUPPORTED, FAILED = 0, 1, 2, 3, 4, 5
BROADCAST = 0xFFFF
HEADER = "<BBHIQ"  # version type device seq t_us
HEADER_SIZE = 16
MIN_PACKET = 20  # header + CRC
NO_BATTERY = 0xFF


def seal(version, ptype, device, seq, t_us, payload):
    """Wire bytes of one packet: 00, COBS(header + payload + CRC), 00."""
    body = struct.pack(HEADER, version, ptype, device, seq & 0xFFFFFFFF, t_us) + payload
    body += struct.pack("<I", crc32(body))
    return b"\x00" + bytes(cobs.encode(body)) + b"\x00"


def _text(text):
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"text field is {len(raw)} bytes; the protocol allows 255")
    return bytes([len(raw)]) + raw


def hello_payload(kind, bits, rate_hz, serial, firmware, sensors, positions=None, areas=None,
                  zeroed=False, gate=None, protocol_min=1, protocol_max=1):
    """HELLO of an insole (section 5): ``sensors`` = N sensors in one column.

    ``positions``: a list of (x, y) mm; ``areas``: a list of mm^2; ``gate`` None = no noise
    gate, 0 = per-sensel gates, > 0 = that many counts for every sensel.
    """
    n = sensors
    flags = (1 if positions is not None else 0) | (2 if areas is not None else 0)
    parts = [
        struct.pack("<BBBBHHffff", kind, bits, protocol_min, protocol_max, n, 1, rate_hz, 0.0, 0.0, 0.0),
        _text(serial),
        _text(firmware),
        bytes([flags]),
    ]
    if positions is not None:
        if len(positions) != n:
            raise ValueError(f"{len(positions)} sensor positions for {n} sensors")
        for x, y in positions:
            parts.append(struct.pack("<ff", x, y))
    if areas is not None:
        if len(areas) != n:
            raise ValueError(f"{len(areas)} sensor areas for {n} sensors")
        for a in areas:
            parts.append(struct.pack("<f", a))
    zero_flags = (1 if zeroed else 0) | (0 if gate is None else 2)
    parts.append(struct.pack("<BH", zero_flags, gate or 0))
    return b"".join(parts)


def pack12(counts):
    """12-bit packing of section 6: every pair (a, b) as the 24-bit little-endian word a | b << 12."""
    n = len(counts)
    out = bytearray((12 * n + 7) // 8)
    w = 0
    for i in range(0, n - 1, 2):
        a, b = counts[i], counts[i + 1]
        out[w] = a & 0xFF
        out[w + 1] = (a >> 8) | ((b & 0x0F) << 4)
        out[w + 2] = b >> 4
        w += 3
    if n & 1:
        a = counts[n - 1]
        out[w] = a & 0xFF
        out[w + 1] = a >> 8
    return out


def frame_payload(counts, bits):
    """FRAME (bits 16), FRAME12 (12) or FRAME8 (8) payload of an insole: rows = N, cols = 1."""
    n = len(counts)
    limit = 1 << bits
    for c in counts:
        if c < 0 or c >= limit:
            raise ValueError(f"{bits}-bit frame count out of range: {c}")
    dims = struct.pack("<HH", n, 1)
    if bits == 16:
        return dims + struct.pack("<" + str(n) + "H", *counts)
    if bits == 12:
        return dims + bytes(pack12(counts))
    if bits == 8:
        return dims + bytes(counts)
    raise ValueError(f"bits must be 8, 12 or 16, got {bits}")


FRAME_TYPE = {16: FRAME, 12: FRAME12, 8: FRAME8}


def status_payload(battery_pct, temperature_c, rate_hz, frames_dropped, rx_errors, sensor_faults,
                   streaming=False, zeroed=False, gated=False, missed_deadlines=None):
    """STATUS (section 7); ``battery_pct`` None = bus powered, ``temperature_c`` None = no sensor.

    ``missed_deadlines`` (scans the loop skipped because it overran) is the field appended at
    offset 22; None leaves it out, as a device of the first release sends it.
    """
    battery = NO_BATTERY if battery_pct is None else battery_pct
    temperature = float("nan") if temperature_c is None else temperature_c
    flags = (1 if streaming else 0) | (2 if zeroed else 0) | (4 if gated else 0)
    body = struct.pack("<BBffIII", battery, flags, temperature, rate_hz, frames_dropped & 0xFFFFFFFF,
                       rx_errors & 0xFFFFFFFF, sensor_faults & 0xFFFFFFFF)
    if missed_deadlines is None:
        return body
    return body + struct.pack("<I", missed_deadlines & 0xFFFFFFFF)


def ack_payload(command_seq, op, result, message=""):
    """ACK (section 9): the seq and op of the COMMAND answered, the result, a short message."""
    return struct.pack("<IBB", command_seq, op & 0xFF, result) + _text(message)


def command_payload(op, value):
    """COMMAND payload (section 9): what the kiosk sends (the firmware's tests use it)."""
    return struct.pack("<Bd", op, value)


def parse_command(frame):
    """(version, device, seq, op, value) of one COBS frame (bytes between two delimiters).

    Raises ValueError for anything the device must reject and count in ``rx_errors``:
    bad COBS, shorter than a packet, bad CRC, not a COMMAND, payload too short.
    """
    raw = cobs.decode(frame)
    size = len(raw)
    if size < MIN_PACKET:
        raise ValueError(f"packet of {size} bytes is shorter than {MIN_PACKET}")
    sent = struct.unpack_from("<I", raw, size - 4)[0]
    if crc32(memoryview(raw)[: size - 4]) != sent:
        raise ValueError("CRC mismatch")
    version, ptype, device, seq, _t_us = struct.unpack_from(HEADER, raw, 0)
    if ptype != COMMAND:
        raise ValueError(f"packet type {ptype} is not a COMMAND")
    if size - 4 - HEADER_SIZE < 9:
        raise ValueError(f"COMMAND payload is {size - 4 - HEADER_SIZE} bytes, 9 expected")
    op, value = struct.unpack_from("<Bd", raw, HEADER_SIZE)
    return version, device, seq, op, value
