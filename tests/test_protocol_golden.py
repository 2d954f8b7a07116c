"""The shared golden vectors (tests/data/protocol_golden.json) are the kiosk's codec, and read back.

The firmware's tests (firmware/tests/test_golden.py) build the same bytes with the firmware's
own modules; this side pins the file to the kiosk: if the kiosk's codec changes, the file must
be regenerated (tests/protocol_golden.py) and the firmware checked against it again.
"""

from __future__ import annotations

import binascii
import json

import numpy as np
import pytest
from protocol_golden import PATH, build, dumps

from device import codec
from device.framing import decode_packet

GOLDEN = json.loads(PATH.read_text())


def test_golden_file_is_what_the_kiosk_codec_makes():
    assert PATH.read_text() == dumps(build()), "regenerate: .venv/bin/python tests/protocol_golden.py"


@pytest.mark.parametrize("case", GOLDEN["cobs"], ids=lambda c: f"{len(c['data']) // 2}B")
def test_golden_cobs_decodes(case):
    assert codec.cobs_decode(bytes.fromhex(case["encoded"])) == bytes.fromhex(case["data"])


@pytest.mark.parametrize("case", GOLDEN["crc32"], ids=lambda c: f"{len(c['data']) // 2}B")
def test_golden_crc32(case):
    assert binascii.crc32(bytes.fromhex(case["data"])) == case["crc"]


def test_golden_crc_check_value():
    assert {c["data"]: c["crc"] for c in GOLDEN["crc32"]}[b"123456789".hex()] == 0xCBF43926


@pytest.mark.parametrize("case", GOLDEN["packets"], ids=lambda c: c["name"])
def test_golden_packet_decodes_to_its_fields(case):
    wire = bytes.fromhex(case["wire"])
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    packet = decode_packet(wire[1:-1])
    assert (int(packet.type), packet.device, packet.seq, packet.t_us) == (
        case["type"], case["device"], case["seq"], case["t_us"])
    body, fields = packet.body, case["fields"]
    if "counts" in fields:
        assert np.array_equal(body.counts, fields["counts"])
    elif "serial" in fields:
        assert (int(body.kind), body.serial, body.firmware, body.rate_hz, body.bits) == (
            fields["kind"], fields["serial"], fields["firmware"], fields["rate_hz"], fields["bits"])
        assert (body.zeroed, body.gate_counts) == (fields["zeroed"], fields["gate"])
        positions = None if body.sensors_mm is None else body.sensors_mm.tolist()
        areas = None if body.sensor_area_mm2 is None else body.sensor_area_mm2.tolist()
        assert (positions, areas) == (fields["positions"], fields["areas"])
    else:
        got = {key: getattr(body, key) for key in fields}
        got = {key: int(v) if key in ("op", "result") else v for key, v in got.items()}
        assert got == fields
