"""Packets: round trips of every type, the spec's worked examples, and every decode fault."""

from __future__ import annotations

import dataclasses
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_support import (
    IMPLEMENTATIONS,
    U16,
    U32,
    U64,
    frames,
    hellos,
    packets,
    raw_packet,
    wire,
)

from device import codec
from device.framing import (
    PROTOCOL_VERSION,
    Ack,
    AckResult,
    CobsError,
    Command,
    CommandOp,
    CrcError,
    DeviceKind,
    Frame,
    FrameError,
    Hello,
    LengthError,
    Packet,
    PacketType,
    PacketTypeError,
    PayloadError,
    Status,
    VersionError,
    decode_packet,
    encode_frame,
    encode_packet,
    negotiate,
)

SPEC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def inner(wire_bytes: bytes) -> bytes:
    """Strip the two delimiters an encoder writes."""
    assert wire_bytes[0] == 0 and wire_bytes[-1] == 0
    return wire_bytes[1:-1]


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    with codec.use_implementation(request.param):
        yield request.param


# --- round trips -----------------------------------------------------------------


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@given(packet=packets())
@settings(max_examples=250, deadline=None)
def test_every_packet_type_round_trips(name, packet):
    with codec.use_implementation(name):
        encoded = encode_packet(packet)
        assert encoded.count(0) == 2  # only the two delimiters
        assert decode_packet(inner(encoded)) == packet


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@given(bits=st.sampled_from([16, 12, 8]), data=st.data(), device=U16, seq=U32, t_us=U64)
@settings(max_examples=150, deadline=None)
def test_encode_frame_fast_path_matches_encode_packet(name, bits, data, device, seq, t_us):
    frame = data.draw(frames(bits))
    ptype = {16: PacketType.FRAME, 12: PacketType.FRAME12, 8: PacketType.FRAME8}[bits]
    with codec.use_implementation(name):
        fast = encode_frame(device, seq, t_us, frame.counts, bits=bits)
        assert fast == encode_packet(Packet(ptype, device, seq, t_us, frame))
        decoded = decode_packet(inner(fast))
    assert decoded.body.counts.dtype == np.uint16
    assert decoded.body.counts.shape == frame.counts.shape
    assert decoded.body.counts.flags.writeable  # downstream may subtract offsets in place


def test_extreme_header_values_round_trip(impl):
    for device, seq, t_us in [(0, 0, 0), (0xFFFF, 0xFFFF_FFFF, 2**64 - 1)]:
        packet = Packet(PacketType.STATUS, device, seq, t_us, Status())
        assert decode_packet(inner(encode_packet(packet))) == packet


def test_frames_come_out_shaped_by_their_dimensions(impl):
    mat = np.arange(48 * 48, dtype=np.uint16).reshape(48, 48) % 4096
    insole = np.arange(16, dtype=np.uint16)
    assert decode_packet(inner(encode_frame(0, 1, 2, mat, bits=12))).body.counts.shape == (48, 48)
    assert decode_packet(inner(encode_frame(0, 1, 2, insole))).body.counts.shape == (16,)
    # An explicit shape (e.g. the reader's geometry) is checked and applied.
    shaped = decode_packet(inner(encode_frame(0, 1, 2, insole)), shape=(16,))
    assert shaped.body.counts.shape == (16,)
    with pytest.raises(LengthError, match="geometry is 48 x 47"):
        decode_packet(inner(encode_frame(0, 1, 2, mat)), shape=(48, 47))


def test_hello_helpers():
    hello = Hello(DeviceKind.INSOLE_RIGHT, "IR-7", "1.2.0", 100.0, 16, 1)
    assert hello.shape == (16,)
    assert DeviceKind.INSOLE_RIGHT.label == "insole_right"
    assert DeviceKind.from_label("mat") is DeviceKind.MAT
    with pytest.raises(ValueError, match="unknown device kind"):
        DeviceKind.from_label("treadmill")
    assert Ack(3, CommandOp.START, AckResult.OK).ok
    assert not Ack(3, CommandOp.START, AckResult.BUSY).ok


# --- the spec's worked examples (keeps docs/protocol.md honest) ------------------------

EXAMPLE_FRAME12 = (
    "00 03 01 03 01 02 2a 01 01 04 40 4b 4c 01 01 01 01 02 03 02 01 0a 23 61 45 ff 07 69 a5 59 05 00"
)
EXAMPLE_COMMAND = (
    "00 03 01 05 01 02 07 01 01 04 40 42 0f 01 01 01 01 02 03 01 01 01 01 01 07 59 40 19 0d b8 49 00"
)


def test_worked_examples_decode_as_documented(impl):
    packet = decode_packet(inner(bytes.fromhex(EXAMPLE_FRAME12)))
    assert (packet.type, packet.device, packet.seq, packet.t_us) == (PacketType.FRAME12, 0, 42, 5_000_000)
    assert packet.body.counts.tolist() == [0x123, 0x456, 0x7FF]
    command = decode_packet(inner(bytes.fromhex(EXAMPLE_COMMAND)))
    assert command == Packet(PacketType.COMMAND, 0, 7, 1_000_000, Command(CommandOp.SET_RATE, 100.0))
    assert encode_packet(command) == bytes.fromhex(EXAMPLE_COMMAND)


def test_worked_examples_appear_in_the_spec():
    text = re.sub(r"\s+", " ", SPEC.read_text(encoding="utf-8").lower())
    assert EXAMPLE_FRAME12 in text
    assert EXAMPLE_COMMAND in text


# --- faults --------------------------------------------------------------------------

STATUS_PACKET = Packet(PacketType.STATUS, 2, 99, 123_456, Status(80, 31.5, True, 100.0, 1, 2, 3))


def test_every_single_bit_flip_is_caught(impl):
    raw = codec.cobs_decode(inner(encode_packet(STATUS_PACKET)))
    for bit in range(len(raw) * 8):
        damaged = bytearray(raw)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(CrcError, match="CRC mismatch"):
            decode_packet(codec.cobs_encode(bytes(damaged)))


@given(position=st.integers(0, 10_000), mask=st.integers(1, 255))
def test_corrupted_wire_bytes_never_decode_to_a_packet(position, mask):
    encoded = bytearray(inner(encode_packet(STATUS_PACKET)))
    encoded[position % len(encoded)] ^= mask
    for piece in bytes(encoded).split(b"\x00"):  # a byte that became 0x00 splits the frame
        if piece:
            with pytest.raises(FrameError):
                decode_packet(piece)


def test_truncated_packets_are_rejected(impl):
    encoded = inner(encode_frame(1, 2, 3, np.arange(64, dtype=np.uint16).reshape(8, 8)))
    for cut in range(1, len(encoded)):
        with pytest.raises((CobsError, CrcError, LengthError)):
            decode_packet(encoded[:cut])


def test_short_packet_is_a_length_error(impl):
    with pytest.raises(LengthError, match="20-byte minimum"):
        decode_packet(codec.cobs_encode(b"\x01\x02\x03"))


def test_newer_version_says_which_side_to_update(impl):
    payload = struct.pack("<BBffIII", 90, 1, 30.0, 100.0, 0, 0, 0)
    with pytest.raises(VersionError) as info:
        decode_packet(inner(wire(raw_packet(2, PacketType.STATUS, payload))))
    assert info.value.version == 2
    assert str(info.value) == (
        "device speaks protocol v2, this kiosk understands v1: update gaitkiosk or set the device to v1"
    )
    with pytest.raises(VersionError, match="v0.*update the device firmware"):
        decode_packet(inner(wire(raw_packet(0, PacketType.STATUS, payload))))


def test_hello_of_a_newer_version_is_readable_and_negotiated(impl):
    """A v3 device that can also speak v1 introduces itself; the kiosk asks it for v1."""
    hello = Hello(DeviceKind.MAT, "M-1", "3.0", 100.0, 48, 48, (8.47, 8.47), 12,
                  protocol_min=1, protocol_max=3)
    # Newer versions may append fields; the v1 reader ignores them.
    raw = raw_packet(3, PacketType.HELLO, encode_hello_payload(hello) + b"future fields")
    packet = decode_packet(inner(wire(raw)))
    assert packet.version == 3 and packet.body == hello
    assert negotiate(packet.body) == PROTOCOL_VERSION


def encode_hello_payload(hello: Hello) -> bytes:
    raw = codec.cobs_decode(inner(encode_packet(Packet(PacketType.HELLO, 0, 0, 0, hello))))
    return raw[16:-4]


def test_negotiation_without_overlap_is_a_clear_error():
    newer = Hello(DeviceKind.MAT, "M-2", "5.0", 100.0, 4, 4, protocol_min=2, protocol_max=3)
    with pytest.raises(VersionError, match=r"'M-2' speaks protocol v2..v3.*update gaitkiosk"):
        negotiate(newer)


def test_unknown_packet_type(impl):
    with pytest.raises(PacketTypeError, match="unknown packet type 200"):
        decode_packet(inner(wire(raw_packet(1, 200, b"\x01\x02"))))


@pytest.mark.parametrize(
    "ptype, payload, match",
    [
        (PacketType.STATUS, b"\x01\x02\x03", "STATUS payload is 3 bytes"),
        (PacketType.COMMAND, b"\x01", "COMMAND payload"),
        (PacketType.ACK, b"\x01\x00\x00\x00\x01", "ACK payload"),
        (PacketType.ACK, b"\x01\x00\x00\x00\x01\x00\x09ab", "ACK message announces 9 bytes"),
        (PacketType.HELLO, b"\x01" * 10, "HELLO payload is 10 bytes"),
        (PacketType.FRAME, b"\x30", "has no rows/cols"),
        (PacketType.FRAME, struct.pack("<HH", 48, 48) + bytes(4606), "needs 4608 bytes"),
        (PacketType.FRAME12, struct.pack("<HH", 3, 1) + bytes(4), "needs 5 bytes"),
        (PacketType.FRAME8, struct.pack("<HH", 4, 4) + bytes(15), "needs 16 bytes"),
    ],
)
def test_payloads_too_short_for_their_type(impl, ptype, payload, match):
    with pytest.raises(LengthError, match=match):
        decode_packet(inner(wire(raw_packet(1, ptype, payload))))


def test_impossible_field_values(impl):
    hello = Hello(DeviceKind.MAT, "M-3", "1.0", 100.0, 2, 2)
    payload = bytearray(encode_hello_payload(hello))
    payload[0] = 9  # no such device kind
    with pytest.raises(PayloadError, match="unknown device kind 9"):
        decode_packet(inner(wire(raw_packet(1, PacketType.HELLO, bytes(payload)))))
    payload = bytearray(encode_hello_payload(hello))
    payload[25] = 0xFF  # first byte of the serial: not UTF-8
    with pytest.raises(PayloadError, match="not valid UTF-8"):
        decode_packet(inner(wire(raw_packet(1, PacketType.HELLO, bytes(payload)))))


@given(packet=packets(), tail=st.binary(min_size=1, max_size=40))
@settings(max_examples=100, deadline=None)
def test_readers_ignore_fields_appended_by_later_versions(packet, tail):
    raw = codec.cobs_decode(inner(encode_packet(packet)))
    extended = raw_packet(1, packet.type, raw[16:-4] + tail, packet.device, packet.seq, packet.t_us)
    expected = packet
    if packet.type == PacketType.STATUS and packet.body.missed_deadlines is None and len(tail) >= 4:
        # The first field appended to STATUS is one this kiosk knows (section 7); the rest is ignored.
        (missed,) = struct.unpack_from("<I", tail)
        expected = dataclasses.replace(packet, body=dataclasses.replace(packet.body, missed_deadlines=missed))
    assert decode_packet(inner(wire(extended))) == expected


def test_unknown_codes_from_a_newer_peer_stay_readable(impl):
    ack = decode_packet(inner(wire(raw_packet(1, PacketType.ACK, struct.pack("<IBBB", 5, 77, 42, 0)))))
    assert ack.body == Ack(5, 77, 42, "")
    command = decode_packet(inner(wire(raw_packet(1, PacketType.COMMAND, struct.pack("<Bd", 99, 1.5)))))
    assert command.body == Command(99, 1.5)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: encode_frame(0, 0, 0, np.full((2, 2), 4096, np.uint16), bits=12), "0..4095"),
        (lambda: encode_frame(0, 0, 0, np.full(4, 256), bits=8), "0..255"),
        (lambda: encode_frame(0, 0, 0, np.array([-1, 2])), "0..65535"),
        (lambda: encode_frame(0, 0, 0, np.zeros((2, 2, 2), np.uint16)), "1-D .* or 2-D"),
        (lambda: encode_frame(0, 0, 0, np.zeros(3), bits=10), "8, 12 or 16"),
        (lambda: encode_frame(0, 2**32, 0, np.zeros(3, np.uint16)), "seq 4294967296"),
        (lambda: encode_frame(0, 0, -1, np.zeros(3, np.uint16)), "header field out of range"),
        (lambda: encode_packet(Packet(PacketType.STATUS, 0, 0, 0, Frame(np.zeros(2, np.uint16)))),
         "STATUS packet carries a Status"),
        (lambda: encode_packet(Packet(PacketType.FRAME, 0, 0, 0, Status())), "carries a Frame"),
        (lambda: encode_packet(Packet(PacketType.ACK, 0, 0, 0, Ack(1, 1, 0, "é" * 128))),
         "256 bytes of UTF-8"),
        (lambda: encode_packet(Packet(PacketType.STATUS, 0, 0, 0, Status(battery_pct=101))),
         "battery_pct"),
        (lambda: encode_packet(Packet(PacketType.HELLO, 0, 0, 0, Hello(
            DeviceKind.INSOLE_LEFT, "s", "f", 1.0, 4, 1, sensors_mm=np.zeros((3, 2))))),
         r"sensors_mm has shape \(3, 2\), expected \(4, 2\)"),
    ],
)
def test_encoder_refuses_what_it_cannot_send(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@given(hello=hellos())
@settings(max_examples=60, deadline=None)
def test_hello_arrays_come_back_as_float64(hello):
    body = decode_packet(inner(encode_packet(Packet(PacketType.HELLO, 0, 0, 0, hello)))).body
    for array in (body.sensors_mm, body.sensor_area_mm2):
        assert array is None or array.dtype == np.float64


# --- STATUS's appended missed_deadlines (section 7) ----------------------------------------


def test_status_reads_the_firmwares_appended_missed_deadlines_and_a_status_without_it():
    from device.packets import pack_status, unpack_status
    from firmware import wire  # the insole firmware's own encoder (docs/firmware.md)

    with_field = wire.status_payload(87, 31.5, 100.0, 1, 2, 3, streaming=True, missed_deadlines=41)
    without = wire.status_payload(87, 31.5, 100.0, 1, 2, 3, streaming=True)
    assert len(with_field) == len(without) + 4
    got = unpack_status(with_field)
    assert (got.frames_dropped, got.rx_errors, got.sensor_faults, got.missed_deadlines) == (1, 2, 3, 41)
    assert unpack_status(without).missed_deadlines is None  # an older device: not sent, not zero
    assert pack_status(got) == with_field and pack_status(unpack_status(without)) == without
