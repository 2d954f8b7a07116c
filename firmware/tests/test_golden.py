"""The firmware builds exactly the kiosk's bytes: tests/data/protocol_golden.json, shared with
tests/test_protocol_golden.py (made by the kiosk's codec)."""

import json
from binascii import hexlify, unhexlify

from firmware import cobs, wire
from firmware.crc32 import crc32, crc32_table
from firmware.tests.run import ROOT

_golden = None


def golden():
    global _golden
    if _golden is None:
        with open(ROOT + "/tests/data/protocol_golden.json") as f:
            _golden = json.load(f)
    return _golden


def _hex(data):
    return hexlify(bytes(data)).decode()


def packets(kind):
    return [p for p in golden()["packets"] if p["type"] in kind]


def test_golden_cobs():
    cases = golden()["cobs"]
    assert len(cases) >= 19
    for case in cases:
        data = unhexlify(case["data"])
        assert _hex(cobs.encode(data)) == case["encoded"], case["data"][:16]
        assert bytes(cobs.decode(unhexlify(case["encoded"]))) == data


def test_golden_crc32():
    for case in golden()["crc32"]:
        data = unhexlify(case["data"])
        assert crc32(data) == case["crc"]
        assert crc32_table(data) == case["crc"]


def _seal(p, payload):
    return _hex(wire.seal(1, p["type"], p["device"], p["seq"], p["t_us"], payload))


def test_golden_hello():
    found = packets((wire.HELLO,))
    assert len(found) == 3
    for p in found:
        f = p["fields"]
        payload = wire.hello_payload(
            f["kind"], f["bits"], f["rate_hz"], f["serial"], f["firmware"], f["sensors"],
            positions=f["positions"], areas=f["areas"], zeroed=f["zeroed"], gate=f["gate"])
        assert _seal(p, payload) == p["wire"], p["name"]


def test_golden_frames():
    found = packets((wire.FRAME, wire.FRAME12, wire.FRAME8))
    assert len(found) == 6
    for p in found:
        f = p["fields"]
        assert wire.FRAME_TYPE[f["bits"]] == p["type"]
        assert _seal(p, wire.frame_payload(f["counts"], f["bits"])) == p["wire"], p["name"]


def test_golden_status():
    found = packets((wire.STATUS,))
    assert len(found) == 2
    for p in found:
        f = p["fields"]
        payload = wire.status_payload(
            f["battery_pct"], f["temperature_c"], f["rate_hz"], f["frames_dropped"], f["rx_errors"],
            f["sensor_faults"], streaming=f["streaming"], zeroed=f["zeroed"], gated=f["gated"])
        assert _seal(p, payload) == p["wire"], p["name"]


def test_golden_ack():
    found = packets((wire.ACK,))
    assert len(found) == 4
    for p in found:
        f = p["fields"]
        payload = wire.ack_payload(f["command_seq"], f["op"], f["result"], f["message"])
        assert _seal(p, payload) == p["wire"], p["name"]


def test_golden_commands_parse_and_build():
    found = packets((wire.COMMAND,))
    assert len(found) == 6
    for p in found:
        f = p["fields"]
        framed = unhexlify(p["wire"])
        version, device, seq, op, value = wire.parse_command(framed[1:-1])
        assert (version, device, seq, op, value) == (1, p["device"], p["seq"], f["op"], f["value"])
        assert _seal(p, wire.command_payload(f["op"], f["value"])) == p["wire"]


def test_damaged_command_is_rejected():
    p = packets((wire.COMMAND,))[0]
    raw = bytearray(cobs.decode(unhexlify(p["wire"])[1:-1]))
    raw[17] ^= 0x01  # one bit of the value: the CRC must catch it
    try:
        wire.parse_command(cobs.encode(raw))
    except ValueError as exc:
        assert "CRC" in str(exc)
    else:
        raise AssertionError("a damaged COMMAND was accepted")
    short = cobs.encode(raw[:19])
    try:
        wire.parse_command(short)
    except ValueError as exc:
        assert "shorter" in str(exc)
    else:
        raise AssertionError("a 19-byte packet was accepted")
