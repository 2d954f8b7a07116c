"""Deframer: exactly the valid packets come out of any chunking of a noisy stream."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_support import IMPLEMENTATIONS, U16, U32, packets, raw_packet, wire

from device import codec
from device.framing import (
    DEFAULT_MAX_FRAME,
    Deframer,
    DeviceKind,
    Hello,
    LengthError,
    Packet,
    PacketType,
    Status,
    VersionError,
    encode_frame,
    encode_packet,
)

FAULTS = ("cobs_failures", "crc_failures", "version_errors", "malformed", "oversize")


@st.composite
def garbage(draw):
    """Things that are not valid packets but may look like them."""
    choice = draw(st.sampled_from(["random", "zeros", "truncated", "flipped", "version"]))
    if choice == "random":
        return draw(st.binary(min_size=1, max_size=300))
    if choice == "zeros":  # runs of delimiters with noise between them
        return draw(st.lists(st.sampled_from([b"\x00", b"\x00\x00", b"\x07", b"\xff\x01"]),
                             min_size=1, max_size=10).map(b"".join))
    packet_bytes = encode_packet(draw(packets()))
    if choice == "truncated":  # a packet cut short, with or without its leading delimiter
        cut = draw(st.integers(1, len(packet_bytes) - 2))
        return packet_bytes[draw(st.integers(0, 1)) : cut]
    if choice == "flipped":
        damaged = bytearray(packet_bytes)
        where = draw(st.integers(1, len(damaged) - 2))
        damaged[where] ^= draw(st.integers(1, 255))
        return bytes(damaged)
    # Intact, but in a protocol this kiosk does not speak, from a device whose HELLO (v1, on
    # address 0xFFFE, sent first in every fuzz stream) said it speaks only v1: a fault.
    payload = draw(st.binary(min_size=25, max_size=60))
    return wire(raw_packet(draw(st.integers(2, 255)), PacketType.STATUS, payload, device=0xFFFE))


V1_ONLY = Packet(PacketType.HELLO, 0xFFFE, 0, 0, Hello(DeviceKind.MAT, "V1-ONLY", "1.0", 100.0, 2, 2))


@st.composite
def skippable(draw):
    """Whole packets that are no fault (docs/protocol.md sections 4 and 8): skipped and counted."""
    payload = draw(st.binary(min_size=25, max_size=60))
    if draw(st.booleans()):  # a packet type of a later protocol
        return "unknown_types", wire(raw_packet(1, draw(st.integers(8, 255)), payload))
    # A device that has not said HELLO yet, talking in a version we do not speak.
    return "version_skipped", wire(raw_packet(draw(st.integers(2, 255)), PacketType.STATUS, payload, device=7))


def expected_faults(stream_pieces):
    """Count the non-empty frames between delimiters in each run of garbage.

    Valid and skippable packets both start and end with a delimiter, so each
    closes the run of garbage before it.
    """
    dropped = dropped_bytes = 0
    run = []
    for valid, piece in stream_pieces + [(True, b"")]:
        if valid:
            frames = b"".join(run).split(b"\x00")
            dropped += sum(1 for f in frames if f)
            dropped_bytes += sum(len(f) for f in frames)
            run = []
        else:
            run.append(piece)
    return dropped, dropped_bytes


def chunked(stream: bytes, cuts: list[int]):
    points = sorted({c % (len(stream) + 1) for c in cuts})
    start = 0
    for point in points + [len(stream)]:
        yield stream[start:point]
        start = point


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@given(
    items=st.lists(st.tuples(st.sampled_from(["valid", "garbage", "skip"]), st.data()), min_size=1, max_size=12),
    cuts=st.lists(st.integers(0, 100_000), max_size=30),
)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_exactly_the_valid_packets_come_out(name, items, cuts):
    pieces, valid_packets = [(True, encode_packet(V1_ONLY))], [V1_ONLY]
    skipped = {"unknown_types": 0, "version_skipped": 0}
    for what, data in items:
        if what == "skip":
            counter, piece = data.draw(skippable())
            skipped[counter] += 1
            pieces.append((True, piece))
        elif what == "valid":
            packet = data.draw(packets())
            # Random frames need not fit a random hello's geometry, which the Deframer
            # rightly rejects (tested below): keep hellos on an address of their own.
            device = 0xFFFF if packet.type == PacketType.HELLO else packet.device % 0xFFFE
            packet = Packet(packet.type, device, packet.seq, packet.t_us, packet.body)
            valid_packets.append(packet)
            pieces.append((True, encode_packet(packet)))
        else:
            pieces.append((False, data.draw(garbage())))
    # The line goes on: trailing garbage is flushed by the next packet's leading delimiter.
    last = Packet(PacketType.STATUS, 0, 1, 2, Status())
    valid_packets.append(last)
    pieces.append((True, encode_packet(last)))
    stream = b"".join(piece for _, piece in pieces)
    deframer = Deframer()
    out = []
    with codec.use_implementation(name):
        for chunk in chunked(stream, cuts):
            out += deframer.feed(chunk)
    assert out == valid_packets
    c = deframer.counters
    dropped, dropped_bytes = expected_faults(pieces)
    assert c.packets == len(valid_packets)
    assert c.bytes == len(stream)
    assert c.resyncs == dropped
    assert c.discarded_bytes == dropped_bytes
    assert sum(getattr(c, f) for f in FAULTS) == c.resyncs
    assert (c.unknown_types, c.version_skipped) == (skipped["unknown_types"], skipped["version_skipped"])


def test_each_fault_kind_is_counted_once():
    v1_only = Hello(DeviceKind.MAT, "M-1", "1.0", 100.0, 4, 4)  # protocol v1..v1
    good = [encode_packet(Packet(PacketType.HELLO, 0, 0, 0, v1_only))]
    good += [encode_frame(0, seq, seq * 10_000, np.full((4, 4), seq, np.uint16)) for seq in range(1, 6)]
    flipped = bytearray(good[1])
    flipped[10] ^= 0x01  # a data byte: COBS still parses, the CRC does not match
    stream = b"".join([
        good[0],
        bytes(flipped),
        b"\x00\x05\x11\x22\x00",  # COBS block runs past the frame end
        good[2][: len(good[2]) // 2],  # truncated, then the next packet's delimiter
        good[3],
        wire(raw_packet(2, PacketType.STATUS, bytes(22))),  # newer protocol than its HELLO said
        wire(raw_packet(1, 99, b"new packet type")),  # not a fault: skipped and counted
        wire(raw_packet(1, PacketType.STATUS, b"\x01\x02")),  # too short for a STATUS
        good[4],
        good[5],
    ])
    errors = []
    deframer = Deframer(on_error=errors.append)
    out = deframer.feed(stream)
    assert [p.seq for p in out] == [0, 3, 4, 5]
    c = deframer.counters
    assert (c.cobs_failures, c.crc_failures, c.version_errors, c.malformed) == (1, 2, 1, 1)
    assert c.unknown_types == 1 and c.version_skipped == 0
    assert c.resyncs == 5 == len(errors)
    assert isinstance(deframer.last_error, LengthError)
    assert any(isinstance(e, VersionError) and "update gaitkiosk" in str(e) for e in errors)


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_oversize_noise_is_dropped_without_growing_memory(chunk):
    noise = bytes((np.arange(300_000) % 255 + 1).astype(np.uint8))  # no delimiter at all
    good = encode_packet(Packet(PacketType.STATUS, 1, 5, 6, Status(battery_pct=50)))
    stream = good + noise + good
    deframer = Deframer(max_frame=10_000)
    out, largest = [], 0
    for start in range(0, len(stream), chunk if chunk > 1 else 1):
        out += deframer.feed(stream[start : start + chunk])
        largest = max(largest, len(deframer._pending))
        if chunk == 1 and start > 30_000:
            out += deframer.feed(stream[start + 1 :])  # enough byte-by-byte; finish in one go
            break
    assert [p.seq for p in out] == [5, 5]
    assert deframer.counters.oversize == 1
    assert deframer.counters.resyncs == 1
    assert deframer.counters.discarded_bytes == len(noise)
    assert largest <= 10_000 + chunk
    assert deframer.max_frame == 10_000 and DEFAULT_MAX_FRAME > 64 * 64 * 2 * 2


def test_oversize_frame_arriving_in_one_chunk():
    deframer = Deframer(max_frame=100)
    frame = encode_frame(0, 1, 2, np.ones((20, 20), np.uint16))
    assert deframer.feed(frame) == []
    assert deframer.counters.oversize == 1


def test_geometry_from_hello_shapes_and_checks_frames():
    hello = Hello(DeviceKind.MAT, "M-9", "1.0", 100.0, 6, 4, (8.47, 8.47), 12)
    deframer = Deframer()
    out = deframer.feed(
        encode_packet(Packet(PacketType.HELLO, 3, 0, 0, hello))
        + encode_frame(3, 1, 10, np.ones((6, 4), np.uint16), bits=12)
        + encode_frame(3, 2, 20, np.ones((4, 6), np.uint16), bits=12)  # disagrees with the hello
        + encode_frame(4, 3, 30, np.ones((4, 6), np.uint16), bits=12)  # another device: no hello yet
    )
    assert [p.seq for p in out] == [0, 1, 3]
    assert deframer.geometry == {3: (6, 4)}
    assert deframer.counters.malformed == 1
    assert "6 x 4" in str(deframer.last_error)


def test_set_geometry_reshapes_flat_insole_frames():
    deframer = Deframer()
    deframer.set_geometry((16, 1))
    [packet] = deframer.feed(encode_frame(0, 1, 2, np.arange(16, dtype=np.uint16)))
    assert packet.body.counts.shape == (16, 1)
    deframer.set_geometry((8,), device=0)
    deframer.feed(encode_frame(0, 2, 3, np.arange(16, dtype=np.uint16)))
    assert deframer.counters.malformed == 1


def test_packets_with_only_a_trailing_delimiter_still_decode():
    """A device that writes the delimiter once per packet loses nothing either."""
    stream = b"".join(encode_frame(0, s, s, np.full(16, s, np.uint16))[1:] for s in range(5))
    deframer = Deframer()
    out = []
    for i in range(0, len(stream), 5):
        out += deframer.feed(stream[i : i + 5])
    assert [p.seq for p in out] == list(range(5))
    assert deframer.counters.resyncs == 0


def test_reset_drops_a_partial_frame():
    deframer = Deframer()
    frame = encode_frame(0, 1, 2, np.arange(16, dtype=np.uint16))
    deframer.feed(frame[:10])
    deframer.reset()
    assert deframer.feed(frame) != [] and deframer.counters.resyncs == 0


@given(device=U16, seqs=st.lists(U32, min_size=1, max_size=20), chunk=st.integers(1, 64))
@settings(max_examples=30, deadline=None)
def test_mixed_devices_in_order_under_any_chunk_size(device, seqs, chunk):
    stream = b"".join(
        encode_frame(device, s, s, np.full((3, 2), s % 4096, np.uint16), bits=12) for s in seqs
    )
    deframer = Deframer()
    out = []
    for i in range(0, len(stream), chunk):
        out += deframer.feed(stream[i : i + chunk])
    assert [p.seq for p in out] == seqs
    assert all(p.body.counts[0, 0] == s % 4096 for p, s in zip(out, seqs, strict=True))


@pytest.mark.skipif(codec.COMPILED is None, reason="device._codec not built (make build)")
@given(items=st.lists(st.one_of(packets().map(encode_packet), garbage(), skippable().map(lambda s: s[1])),
                      max_size=10),
       chunk=st.integers(1, 500))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_compiled_and_reference_deframers_agree(items, chunk):
    stream = b"".join(items)
    results = []
    for name in ("reference", "compiled"):
        errors = []
        deframer = Deframer(on_error=lambda e, errors=errors: errors.append((type(e), str(e))))
        out = []
        with codec.use_implementation(name):
            for i in range(0, len(stream), chunk):
                out += deframer.feed(stream[i : i + chunk])
        results.append((out, deframer.counters.as_dict(), errors))
    assert results[0] == results[1]


def test_a_device_switching_versions_is_not_a_fault_until_it_has_switched():
    """docs/protocol.md section 8: a v1..v2 device talks v2 until it acknowledges SET_PROTOCOL 1."""
    from device.framing import Ack, AckResult, CommandOp, Skipped

    both = Hello(DeviceKind.MAT, "M-12", "2.0", 100.0, 2, 2, protocol_min=1, protocol_max=2)
    ack_v2 = wire(raw_packet(2, PacketType.ACK, bytes(7), device=3, seq=0))  # its GET_HELLO ACK, before the HELLO
    stream = [
        ack_v2,
        encode_packet(Packet(PacketType.HELLO, 3, 1, 0, both, version=2)),
        encode_frame(3, 2, 10, np.ones((2, 2), np.uint16), version=2),  # still streaming in v2
        encode_packet(Packet(PacketType.ACK, 3, 3, 0, Ack(9, CommandOp.SET_PROTOCOL, AckResult.OK), version=1)),  # switched
        encode_frame(3, 4, 20, np.ones((2, 2), np.uint16)),
        encode_frame(3, 5, 30, np.ones((2, 2), np.uint16), version=2),  # after the switch: a fault
    ]
    errors = []
    deframer = Deframer(on_error=errors.append, keep_skipped=True)
    out = deframer.feed(b"".join(stream))
    assert [(type(p).__name__, p.seq) for p in out] == [
        ("Skipped", 0), ("Packet", 1), ("Skipped", 2), ("Packet", 3), ("Packet", 4)]
    assert [p.why for p in out if isinstance(p, Skipped)] == ["version", "version"]
    c = deframer.counters
    assert (c.version_skipped, c.version_errors, c.resyncs) == (2, 1, 1)
    assert len(errors) == 1 and "v2" in str(errors[0])
    # Reopened port: the device may have restarted in v2; it is judged afresh.
    deframer.reset()
    assert deframer.feed(encode_frame(3, 0, 0, np.ones((2, 2), np.uint16), version=2)) != []
    assert c.version_skipped == 3 and c.version_errors == 1


def test_unknown_packet_types_are_skipped_not_faults():
    from device.framing import Skipped

    stream = (encode_frame(0, 1, 10, np.ones(4, np.uint16)) + wire(raw_packet(1, 42, b"future", seq=2))
              + encode_frame(0, 3, 20, np.ones(4, np.uint16)))
    errors = []
    plain = Deframer(on_error=errors.append)
    assert [p.seq for p in plain.feed(stream)] == [1, 3]
    keeping = Deframer(keep_skipped=True)
    out = keeping.feed(stream)
    assert [p.seq for p in out] == [1, 2, 3] and out[1] == Skipped(42, 0, 2, 0, 1, "unknown type")
    for d in (plain, keeping):
        assert d.counters.unknown_types == 1 and d.counters.resyncs == 0 and d.counters.malformed == 0
    assert errors == []
