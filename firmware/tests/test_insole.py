"""The main loop with fake ADC, pins, clock, link and watchdog: what goes on the wire, packet by packet."""

import struct

from firmware import cobs, wire
from firmware.crc32 import crc32
from firmware.insole import BREAK_IN, Insole
from firmware.scanner import Scanner
from firmware.tests.fakes import FakeClock, FakeLink, FakeMuxAdc, FakePin, FakeWdt
from firmware.version import VERSION

LOADS = [30 + 5 * i for i in range(16)]
CFG = {"side": "right", "serial": "INS-R-7", "address": 0, "sensors": 16, "bits": 12, "rate_hz": 100,
       "oversample": 4, "settle_us": 0, "zero_max_counts": 400, "pins": {"adc": 26, "mux": [2, 3, 4, 5], "led": 25}}


class Packet:
    def __init__(self, frame):
        raw = cobs.decode(frame)
        assert crc32(memoryview(raw)[:-4]) == struct.unpack_from("<I", raw, len(raw) - 4)[0]
        self.version, self.type, self.device, self.seq, self.t_us = struct.unpack_from(wire.HEADER, raw, 0)
        self.payload = bytes(raw[wire.HEADER_SIZE:-4])

    def ack(self):
        seq, op, result, m = struct.unpack_from("<IBBB", self.payload, 0)
        return seq, op, result, self.payload[7:7 + m].decode()

    def counts(self):
        rows, _ = struct.unpack_from("<HH", self.payload, 0)
        b = self.payload[4:]
        out = []
        for i in range(rows):
            j = 3 * (i // 2)
            out.append(b[j] | (b[j + 1] & 0x0F) << 8 if i % 2 == 0 else b[j + 1] >> 4 | b[j + 2] << 4)
        return out

    def hello_zero(self):
        """(zeroed, gate or None) from the end of a HELLO without positions or areas."""
        flags, gate = struct.unpack_from("<BH", self.payload, len(self.payload) - 3)
        return bool(flags & 1), (gate if flags & 2 else None)


def make(loads=LOADS, cfg=CFG, noise=(0,)):
    clock = FakeClock()
    pins = [FakePin() for _ in range(4)]
    adc = FakeMuxAdc(pins, clock, loads, noise=noise)
    scanner = Scanner(adc, pins, clock, oversample=4, rate_hz=cfg["rate_hz"])
    link, wdt, led = FakeLink(), FakeWdt(), FakePin()
    dev = Insole(cfg, scanner, link, wdt, led=led)
    dev.start()
    return dev, link, adc, wdt, led, clock


def command(link, op, value=0, seq=1, device=0, version=1):
    link.incoming.extend(wire.seal(version, wire.COMMAND, device, seq, 0, wire.command_payload(op, value)))


def run(dev, link, steps=1):
    packets = []
    for _ in range(steps):  # taken pass by pass: the heap is an RP2040's
        dev.step()
        packets.extend(Packet(f) for f in link.take())
    return packets


def acks(packets):
    return [p.ack() for p in packets if p.type == wire.ACK]


def test_power_up_hello_first_with_seq_0_then_every_2_s_while_idle():
    dev, link, _, _, _, _ = make()
    first = [Packet(f) for f in link.take()]
    assert [(p.type, p.seq, p.t_us) for p in first] == [(wire.HELLO, 0, 0)]
    h = first[0].payload
    assert h[0] == wire.KIND_RIGHT and h[1] == 12 and (h[2], h[3]) == (1, 1)
    assert b"INS-R-7" in h and VERSION.encode() in h and first[0].hello_zero() == (False, None)
    packets = run(dev, link, 450)  # 4.5 s idle: HELLOs at 2 s and 4 s, no frames
    assert [p.type for p in packets] == [wire.HELLO, wire.HELLO]
    assert [p.seq for p in packets] == [1, 2]


def test_start_streams_frames_on_the_grid_with_status_every_second():
    dev, link, _, wdt, _, _ = make()
    link.take()
    command(link, wire.START, seq=9)
    first = run(dev, link, 1)  # the command is read after the pass's scan: no frame yet
    assert [p.type for p in first] == [wire.ACK] and first[0].ack() == (9, wire.START, wire.OK, "")
    types, seqs, frame_t, status = [], [], [], []
    for _ in range(250):
        for p in run(dev, link, 1):
            types.append(p.type)
            seqs.append(p.seq)
            if p.type == wire.FRAME12:
                assert p.counts() == LOADS
                frame_t.append(p.t_us)
            elif p.type == wire.STATUS:
                status.append(p)
    assert len(frame_t) == 250 and {frame_t[i + 1] - frame_t[i] for i in range(249)} == {10000}
    assert seqs == list(range(2, 2 + len(seqs)))  # every packet of any type takes the next seq
    assert len(status) == 3 and types[:2] == [wire.FRAME12, wire.STATUS]  # with the first frame, then every second
    battery, flags, _t, rate, dropped, rx_err, faults, missed = struct.unpack("<BBffIIII", status[-1].payload)
    assert (battery, flags & 1, rate, dropped, rx_err, faults, missed) == (255, 1, 100.0, 0, 0, 0, 0)
    assert wdt.feeds == 251


def test_set_rate_nearest_and_bad_value():
    dev, link, _, _, _, _ = make()
    command(link, wire.START, seq=1)
    command(link, wire.SET_RATE, 200, seq=2)
    packets = run(dev, link, 40)
    assert acks(packets)[1] == (2, wire.SET_RATE, wire.OK, "")
    frames = [p.t_us for p in packets if p.type == wire.FRAME12]
    assert frames[-1] - frames[-2] == 5000
    command(link, wire.SET_RATE, 150, seq=3)
    command(link, wire.SET_RATE, 1000, seq=4)
    got = acks(run(dev, link, 1))
    assert got[0][:3] == (3, wire.SET_RATE, wire.OK) and "100 Hz" in got[0][3]
    assert got[1][:3] == (4, wire.SET_RATE, wire.BAD_VALUE) and "0..300 Hz" in got[1][3]
    assert dev.scanner.rate_hz == 100


def test_zero_waits_for_its_window_then_gates_and_says_hello():
    dev, link, _, _, _, _ = make(noise=(-2, 2))
    command(link, wire.START, seq=1)
    command(link, wire.ZERO, 0, seq=2)
    packets = run(dev, link, 31)
    assert [a[0] for a in acks(packets)] == [1]  # the window is not full yet: no answer
    packets = run(dev, link, 1)
    assert acks(packets) == [(2, wire.ZERO, wire.OK, "")]
    hello = [p for p in packets if p.type == wire.HELLO]
    assert hello and hello[0].hello_zero() == (True, 0)
    assert hello[0].seq > [p for p in packets if p.type == wire.ACK][0].seq  # ACK, then HELLO
    frames = [p for p in run(dev, link, 5) if p.type == wire.FRAME12]
    assert all(p.counts() == [0] * 16 for p in frames)  # an unloaded insole reads 0 behind the gate


def test_zero_on_a_loaded_insole_is_busy_and_changes_nothing():
    dev, link, _, _, _, _ = make(loads=[50] * 15 + [900])
    run(dev, link, 32)
    command(link, wire.ZERO, 0, seq=5)
    got = acks(run(dev, link, 1))
    assert got[0][:3] == (5, wire.ZERO, wire.BUSY) and "sensor 15 reads 900" in got[0][3]
    assert dev.zero.baseline is None
    command(link, wire.ZERO, 2.5, seq=6)
    command(link, wire.ZERO, 5000, seq=7)
    assert [a[2] for a in acks(run(dev, link, 1))] == [wire.BAD_VALUE, wire.BAD_VALUE]


def test_protocol_negotiation_unknown_op_and_queries():
    dev, link, _, _, _, _ = make()
    link.take()
    command(link, wire.SET_PROTOCOL, 2, seq=1)
    command(link, wire.SET_PROTOCOL, 1, seq=2)
    command(link, 99, seq=3)
    command(link, wire.GET_STATUS, seq=4)
    command(link, wire.GET_HELLO, seq=5)
    packets = run(dev, link, 4)  # 64 bytes read a pass: five commands take three
    got = acks(packets)
    assert got[0][:3] == (1, wire.SET_PROTOCOL, wire.UNSUPPORTED) and "v1 only" in got[0][3]
    assert got[1] == (2, wire.SET_PROTOCOL, wire.OK, "")
    assert got[2][:3] == (3, 99, wire.UNKNOWN_COMMAND)
    assert [p.type for p in packets][-4:] == [wire.ACK, wire.STATUS, wire.ACK, wire.HELLO]


def test_bad_commands_are_counted_not_answered_and_addresses_routed():
    dev, link, _, _, _, _ = make()
    link.take()
    good = wire.seal(1, wire.COMMAND, 0, 1, 0, wire.command_payload(wire.START, 0))
    bad = bytearray(good)
    bad[5] ^= 0x40  # a flipped bit: COBS or CRC catches it
    link.incoming.extend(bad)
    link.incoming.extend(b"\x00" + b"\x11" * 100 + b"\x00")  # longer than any COMMAND
    command(link, wire.START, seq=2, device=3)  # another board's command
    command(link, wire.STOP, seq=3, device=wire.BROADCAST)
    command(link, wire.STOP, seq=4, version=2)  # a version this firmware does not speak
    got = acks(run(dev, link, 6))
    assert got == [(3, wire.STOP, wire.OK, "")]
    assert (dev.rx_errors, dev.ignored, dev.streaming) == (3, 1, False)


def test_identify_blinks_then_stops():
    dev, link, _, _, led, _ = make()
    command(link, wire.IDENTIFY, 1, seq=1)
    levels = []
    for _ in range(100):
        dev.step()
        levels.append(led.level)
    assert acks([Packet(f) for f in link.take()]) == [(1, wire.IDENTIFY, wire.OK, "")]
    assert 1 in levels[:50] and 0 in levels[:50]  # blinking
    dev.step()
    dev.step()
    assert led.level == 0 and dev.blink_until is None
    command(link, wire.IDENTIFY, -1, seq=2)
    assert acks(run(dev, link, 1))[0][2] == wire.BAD_VALUE


def test_full_link_drops_frames_without_using_seq():
    dev, link, _, _, _, _ = make()
    command(link, wire.START, seq=1)
    run(dev, link, 2)
    link.full = True
    run(dev, link, 5)
    link.full = False
    packets = run(dev, link, 2)
    assert dev.frames_dropped == 5
    assert [p.seq for p in packets] == [packets[0].seq, packets[0].seq + 1]  # no gap: nothing was sent


def test_watchdog_is_fed_only_by_passes_that_scanned():
    dev, link, adc, wdt, _, _ = make()

    def broken():
        raise OSError("ADC conversion failed")

    good = adc.read_u16
    adc.read_u16 = broken
    for _ in range(5):
        dev.step()
    assert (wdt.feeds, dev.sensor_faults) == (0, 5)
    adc.read_u16 = good
    dev.step()
    assert wdt.feeds == 1


def test_mpremote_break_in_ends_the_loop():
    dev, link, _, _, _, _ = make()
    link.incoming.extend(b"\x00" + BREAK_IN + b"\r\x01")
    dev.run()  # returns instead of looping forever
    assert dev.break_in
    assert bytes(link.incoming) == b"\r\x01"  # mpremote's Ctrl-A is left for the REPL
