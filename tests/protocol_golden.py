"""The shared golden vectors of the wire protocol: made by the kiosk's codec, checked by both sides.

``build()`` returns what tests/data/protocol_golden.json holds: COBS pairs, CRC-32 values and
whole packets (fields and wire bytes, hex) produced by ``device.codec``/``device.framing``.
tests/test_protocol_golden.py checks the file still equals ``build()`` and decodes back;
firmware/tests/test_golden.py builds every packet with the firmware's modules, under CPython
and under MicroPython, and compares the bytes. After a deliberate protocol change regenerate
it with ``.venv/bin/python tests/protocol_golden.py`` and review the diff.

Floats are multiples of 1/4 so the JSON text is exact on every float parser.
"""

from __future__ import annotations

import binascii
import json
import random
import sys
from pathlib import Path

import numpy as np

from device import codec
from device.framing import (
    Ack,
    AckResult,
    Command,
    CommandOp,
    DeviceKind,
    Frame,
    Hello,
    Packet,
    PacketType,
    Status,
    encode_packet,
)

PATH = Path(__file__).parent / "data" / "protocol_golden.json"
SERIAL_LEFT = "INS-L-000123"
FIRMWARE = "0.1.0"
# 16 sensor positions (mm, quarter-mm) and areas (mm^2), roughly those of device/sim/insole.py.
POSITIONS = [
    [-12.0, 0.0], [12.0, 0.0], [0.0, 22.0], [0.0, -18.0], [26.0, 60.0], [28.0, 92.0],
    [-18.0, 80.0], [-32.0, 153.0], [-14.0, 158.0], [2.0, 156.0], [16.0, 149.0], [30.0, 140.0],
    [-27.0, 200.0], [-8.0, 196.0], [4.0, 192.0], [17.25, 182.5],
]
AREAS = [154.0] * 15 + [153.75]


def _hex(data) -> str:
    return bytes(data).hex()


def _cobs_cases() -> list[dict]:
    run = bytes(range(1, 255))
    fixed = [
        b"", b"\x00", b"\x00\x00", b"\x00\x11\x00", b"\x11\x22\x00\x33", b"\x11\x22\x33\x44",
        b"\x11\x00\x00\x00", run, b"\x00" + run, bytes(range(1, 256)),
        bytes(range(2, 256)) + b"\x00", bytes(range(3, 256)) + b"\x00\x01",
    ]
    rng = random.Random(13)
    for size in (1, 7, 253, 254, 255, 508, 600):
        fixed.append(bytes(rng.choice((0, 1, 0x55, 0xFF, rng.randrange(256))) for _ in range(size)))
    return [{"data": _hex(d), "encoded": _hex(codec.cobs_encode(d))} for d in fixed]


def _crc_cases() -> list[dict]:
    rng = random.Random(32)
    cases = [b"", b"123456789", b"\x00", b"\xff" * 4]
    cases += [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 20, 61, 300)]
    return [{"data": _hex(d), "crc": binascii.crc32(d)} for d in cases]


def _packet(name: str, ptype: PacketType, seq: int, t_us: int, body, fields: dict, device: int = 0) -> dict:
    wire = encode_packet(Packet(type=ptype, device=device, seq=seq, t_us=t_us, body=body))
    return {"name": name, "type": int(ptype), "device": device, "seq": seq, "t_us": t_us,
            "fields": fields, "wire": _hex(wire)}


def _hello(name, seq, t_us, kind, rate, zeroed, gate, positions, areas):
    body = Hello(
        kind=kind, serial=SERIAL_LEFT if kind == DeviceKind.INSOLE_LEFT else "INS-R-000124",
        firmware=FIRMWARE, rate_hz=rate, rows=16, cols=1, bits=12,
        sensors_mm=None if positions is None else np.array(positions),
        sensor_area_mm2=None if areas is None else np.array(areas), zeroed=zeroed, gate_counts=gate,
    )
    fields = {"kind": int(kind), "bits": 12, "sensors": 16, "rate_hz": rate, "serial": body.serial, "firmware": FIRMWARE,
              "positions": positions, "areas": areas, "zeroed": zeroed, "gate": gate}
    return _packet(name, PacketType.HELLO, seq, t_us, body, fields)


def _frame(name, seq, t_us, counts, bits):
    ptype = {16: PacketType.FRAME, 12: PacketType.FRAME12, 8: PacketType.FRAME8}[bits]
    body = Frame(np.array(counts, dtype=np.uint16))
    return _packet(name, ptype, seq, t_us, body, {"counts": counts, "bits": bits})


def _status(name, seq, t_us, **kw):
    fields = {"battery_pct": None, "temperature_c": None, "rate_hz": 100.0, "frames_dropped": 0,
              "rx_errors": 0, "sensor_faults": 0, "streaming": False, "zeroed": False, "gated": False}
    fields.update(kw)
    return _packet(name, PacketType.STATUS, seq, t_us, Status(**fields), fields)


def _ack(name, seq, t_us, command_seq, op, result, message=""):
    body = Ack(command_seq=command_seq, op=op, result=result, message=message)
    return _packet(name, PacketType.ACK, seq, t_us, body,
                   {"command_seq": command_seq, "op": int(op), "result": int(result), "message": message})


def _command(name, seq, t_us, op, value, device=0):
    return _packet(name, PacketType.COMMAND, seq, t_us, Command(op=op, value=value),
                   {"op": int(op), "value": value}, device=device)


def build() -> dict:
    rng = random.Random(16)
    walk = [rng.randrange(4096) for _ in range(16)]
    packets = [
        _hello("hello_left", 0, 1250, DeviceKind.INSOLE_LEFT, 100.0, False, None, POSITIONS, AREAS),
        _hello("hello_right_zeroed_sigma_gate", 7, 2_000_000, DeviceKind.INSOLE_RIGHT, 200.0, True, 0, POSITIONS, AREAS),
        _hello("hello_left_fixed_gate_no_table", 9, 3_000_000, DeviceKind.INSOLE_LEFT, 100.0, True, 25, None, None),
        _frame("frame12_spec_example", 42, 5_000_000, [0x123, 0x456, 0x7FF], 12),
        _frame("frame12_insole", 43, 5_010_000, walk, 12),
        _frame("frame12_zeros", 44, 5_020_000, [0] * 16, 12),
        _frame("frame16_insole", 45, 5_030_000, [c * 16 for c in walk], 16),
        _frame("frame8_insole", 46, 5_040_000, [c >> 4 for c in walk], 8),
        _frame("frame12_seq_wrap", 0xFFFFFFFF, 2**40 + 3, walk[::-1], 12),
        _status("status_bus_powered", 50, 6_000_000, streaming=True),
        _status("status_battery", 51, 7_000_000, battery_pct=87, temperature_c=31.5, rate_hz=200.0,
                frames_dropped=3, rx_errors=2, sensor_faults=1, streaming=True, zeroed=True, gated=True),
        _ack("ack_ok", 52, 7_100_000, 7, CommandOp.SET_RATE, AckResult.OK),
        _ack("ack_bad_rate", 53, 7_200_000, 8, CommandOp.SET_RATE, AckResult.BAD_VALUE,
             "rate 150 Hz: this insole scans at 100 or 200 Hz"),
        _ack("ack_unknown_op", 54, 7_300_000, 9, 99, AckResult.UNKNOWN_COMMAND, "op 99"),
        _ack("ack_busy_zero", 55, 7_400_000, 10, CommandOp.ZERO, AckResult.BUSY, "the sensor is loaded"),
        _command("command_set_rate_spec_example", 7, 1_000_000, CommandOp.SET_RATE, 100.0),
        _command("command_start", 8, 1_100_000, CommandOp.START, 0),
        _command("command_zero_no_gate", 9, 1_200_000, CommandOp.ZERO, -1),
        _command("command_zero_fixed", 10, 1_300_000, CommandOp.ZERO, 25),
        _command("command_identify_broadcast", 11, 1_400_000, CommandOp.IDENTIFY, 3, device=0xFFFF),
        _command("command_set_rate_fraction", 12, 1_500_000, CommandOp.SET_RATE, 150.25),
    ]
    return {
        "about": "Wire protocol golden vectors (docs/protocol.md), made by the kiosk's codec: "
                 "tests/protocol_golden.py. Bytes are hex.",
        "cobs": _cobs_cases(),
        "crc32": _crc_cases(),
        "packets": packets,
    }


def dumps(vectors: dict) -> str:
    return json.dumps(vectors, indent=1) + "\n"


if __name__ == "__main__":
    PATH.write_text(dumps(build()))
    print(f"wrote {PATH}", file=sys.stderr)
