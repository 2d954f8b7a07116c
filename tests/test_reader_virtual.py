"""The virtual device as firmware: protocol behaviour on an injected clock (no threads, no waiting)."""

from __future__ import annotations

import numpy as np
import pytest

from device import framing
from device.framing import (
    BROADCAST,
    AckResult,
    Command,
    CommandOp,
    Deframer,
    Packet,
    PacketType,
)
from device.virtual import TestPattern, VirtualDevice


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def command(op, value=0, seq=0, device=1) -> bytes:
    return framing.encode_packet(Packet(PacketType.COMMAND, device, seq, 0, Command(op, value)))


def make(**kw):
    clock = FakeClock()
    dev = VirtualDevice(TestPattern(rows=4, cols=6), serial="T-1", clock=clock, **kw)
    return dev, clock, Deframer()


def run_for(dev, clock, deframer, seconds, step=0.01):
    packets = []
    for _ in range(round(seconds / step)):
        clock.t += step
        packets += deframer.feed(dev.read_available())
    return packets


def test_power_up_hello_then_acks_every_command():
    dev, clock, d = make()
    first = d.feed(dev.read_available())
    assert [p.type for p in first] == [PacketType.HELLO]
    assert first[0].seq == 0 and first[0].body.serial == "T-1" and first[0].body.shape == (4, 6)
    dev.write(command(CommandOp.GET_HELLO, seq=7) + command(99, seq=8) + command(CommandOp.SET_RATE, 5000, seq=9)
              + command(CommandOp.SET_PROTOCOL, 3, seq=10) + command(CommandOp.IDENTIFY, 3, seq=11, device=BROADCAST)
              + command(CommandOp.STOP, seq=12, device=5))  # another device's command: ignored
    got = d.feed(dev.read_available())
    acks = {p.body.command_seq: p.body for p in got if p.type == PacketType.ACK}
    assert acks[7].ok and acks[11].ok
    assert acks[8].result == AckResult.UNKNOWN_COMMAND
    assert acks[9].result == AckResult.BAD_VALUE and "Hz" in acks[9].message
    assert acks[10].result == AckResult.UNSUPPORTED
    assert 12 not in acks
    assert [p.type for p in got].count(PacketType.HELLO) == 1  # answer to GET_HELLO
    # ... sent after its ACK, as protocol section 9 says (the kiosk counts on the order in a switch).
    kinds = [(p.type, p.body.command_seq if p.type == PacketType.ACK else None) for p in got]
    assert kinds.index((PacketType.HELLO, None)) == kinds.index((PacketType.ACK, 7)) + 1
    # Every packet of the device carries the next sequence number.
    seqs = [p.seq for p in first + got]
    assert seqs == list(range(len(seqs)))


def test_streams_at_its_own_clock_rate_with_drift():
    dev, clock, d = make(rate_hz=100, drift_ppm=5000, boot_clock_s=50.0)
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START))
    packets = run_for(dev, clock, d, 10.0)
    frames = [p for p in packets if p.type in framing.FRAME_TYPES]
    t = np.array([p.t_us for p in frames]) / 1e6
    # Device-clock period exactly 10 ms; in 10 s of host time a clock 0.5 % fast gives 1005 frames.
    assert np.allclose(np.diff(t), 0.01, atol=2e-6)
    assert len(frames) in (1004, 1005, 1006)
    for p in frames[:50]:
        idx = TestPattern.index_of(p.body.counts)
        np.testing.assert_array_equal(p.body.counts, TestPattern.expected(idx, (4, 6)))
    statuses = [p for p in packets if p.type == PacketType.STATUS]
    assert 9 <= len(statuses) <= 11 and all(s.body.streaming for s in statuses)
    assert np.all(np.diff([p.seq for p in packets]) == 1)


def test_jitter_delays_but_never_reorders():
    dev, clock, d = make(jitter_s=0.004, seed=3)
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START))
    arrivals = []
    for _ in range(2000):
        clock.t += 0.001
        for p in d.feed(dev.read_available()):
            if p.type in framing.FRAME_TYPES:
                arrivals.append((clock.t, dev.host_time(p.t_us / 1e6), p.seq))
    arrivals = np.array(arrivals)
    latency = arrivals[:, 0] - arrivals[:, 1]
    assert latency.min() >= -1e-9 and latency.max() <= 0.004 + 0.001 + 1e-9
    assert latency.std() > 0.0005  # really jittered
    assert np.all(np.diff(arrivals[:, 2]) > 0)


def test_lost_packets_show_as_sequence_gaps():
    dev, clock, d = make(drop_rate=0.1, seed=5)
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START))
    packets = run_for(dev, clock, d, 5.0)
    seqs = np.array([p.seq for p in packets])
    missing = int(np.sum(np.diff(seqs) - 1))
    assert missing == dev.frames_lost_on_line > 20


def test_host_not_reading_drops_on_the_device_without_seq_gaps():
    dev, clock, d = make(backlog_s=0.5)
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START))
    clock.t += 3.0  # nobody reads for 3 s
    packets = d.feed(dev.read_available())
    frames = [p for p in packets if p.type in framing.FRAME_TYPES]
    assert 45 <= len(frames) <= 52  # only the last ~0.5 s survived
    assert dev.frames_dropped_total >= 245
    assert np.all(np.diff([p.seq for p in packets]) == 1)  # docs/protocol.md: no seq for unsent frames
    dev.write(command(CommandOp.GET_STATUS, seq=4))
    status = [p.body for p in d.feed(dev.read_available()) if p.type == PacketType.STATUS][-1]
    assert status.frames_dropped == dev.frames_dropped_total


def test_corrupt_commands_are_counted_not_answered():
    dev, clock, d = make()
    d.feed(dev.read_available())
    bad = bytearray(command(CommandOp.START, seq=1))
    bad[5] ^= 0x10
    dev.write(bytes(bad) + command(CommandOp.GET_STATUS, seq=2))
    got = d.feed(dev.read_available())
    acks = [p.body.command_seq for p in got if p.type == PacketType.ACK]
    assert acks == [2]
    assert [p.body for p in got if p.type == PacketType.STATUS][0].rx_errors == 1
    assert not dev.streaming


def test_set_rate_and_stop():
    dev, clock, d = make()
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START) + command(CommandOp.SET_RATE, 50.0, seq=1))
    frames = [p for p in run_for(dev, clock, d, 1.0) if p.type in framing.FRAME_TYPES]
    assert 49 <= len(frames) <= 51
    dev.write(command(CommandOp.STOP, seq=2))
    after = run_for(dev, clock, d, 4.5)
    assert not [p for p in after if p.type in framing.FRAME_TYPES]
    assert [p.type for p in after].count(PacketType.HELLO) == 2  # idle: HELLO every 2 s


def test_unplug_and_plug_reboots():
    dev, clock, d = make()
    d.feed(dev.read_available())
    dev.write(command(CommandOp.START))
    run_for(dev, clock, d, 0.5)
    dev.unplug()
    assert dev.read_available() == b"" and dev.next_due() == float("inf")
    dev.plug()
    got = d.feed(dev.read_available())
    assert got[0].type == PacketType.HELLO and got[0].seq == 0 and not dev.streaming


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="rate_hz"):
        make(rate_hz=0)
    with pytest.raises(ValueError, match="drop_rate"):
        make(drop_rate=1.5)
