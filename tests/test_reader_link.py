"""The reader against link situations of docs/protocol.md, through real pseudo-terminals.

Addresses (section 1, 3): a second device on the port is counted and never
read. Device swaps: another device at the port's address is reported and
its frames are told apart. Versions (section 8): a device switched down to a
version the kiosk speaks is a healthy link. Unknown packet types (section 4)
are no fault. Unanswered commands are resent after 250 ms (section 9).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from protocol_support import raw_packet, wire
from waiting import wait_until

from device import framing
from device.controller import VirtualController
from device.framing import Command, CommandOp, DeviceKind, Frame, Hello, Packet, PacketType
from device.pty import PtyServer
from device.reader import INCOMPATIBLE, STREAMING, DeviceReader
from device.virtual import TestPattern, VirtualDevice

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")


def mat(serial_number, rows=8, cols=8, **kw):
    return VirtualDevice(TestPattern(rows=rows, cols=cols), serial=serial_number, powered=False, **kw)


def pattern_ok(frame, shape):
    index = TestPattern.index_of(frame.counts)
    return np.array_equal(frame.counts, TestPattern.expected(index, shape))


class LosesFirst(VirtualDevice):
    """A device that never sees the first command of each of ``ops`` (it failed its CRC
    on the way, so no ACK: docs/protocol.md section 9), or, with ``times``, the first few."""

    def __init__(self, *args, ops=(), times=1, **kw):
        super().__init__(*args, **kw)
        self.to_lose = {op: times for op in ops}
        self.heard: list[CommandOp] = []

    def _command(self, packet, now):
        op = packet.body.op
        self.heard.append(op)
        if self.to_lose.get(op, 0) > 0:
            self.to_lose[op] -= 1
            self._rx_errors += 1
            return
        super()._command(packet, now)


# -- section 1 and 3: addresses ------------------------------------------------------------


def test_a_second_device_on_the_port_is_counted_and_never_read():
    """Another board joins the line and streams: the mat stays the mat, and gets its STOP."""
    board = mat("MUX-MAT", address=0)
    line = VirtualController([board])
    server = PtyServer({"mat": line}).start()
    other = VirtualDevice(TestPattern(DeviceKind.INSOLE_LEFT, 16, 1), serial="MUX-INS", address=5, powered=False)
    try:
        reader = DeviceReader(server.paths()["mat"], queue_frames=4096).open()
        try:
            reader.wait_ready(5)
            assert wait_until(lambda: reader.status().counters["frames"] > 20)
            with server._lock:
                line.add(other)  # powers up: a HELLO from address 5
                # Another host starts it; its ACK quotes a seq this reader uses too.
                other.write(framing.encode_packet(Packet(PacketType.COMMAND, 5, 1, 0, Command(CommandOp.START))))
            server.inject("mat", framing.encode_frame(9, 0, 0, np.zeros(4, np.uint16)))  # never said HELLO
            assert wait_until(lambda: other.frames_sent > 50)
            before = reader.status().counters["frames"]
            assert wait_until(lambda: reader.status().counters["frames"] > before + 50)
            st = reader.status()
        finally:
            reader.close()
        assert wait_until(lambda: not board.streaming)  # the STOP went to the mat
        assert other.streaming  # and not to the other board
    finally:
        server.stop()
    frames = reader.frames.drain()
    assert {f.device for f in frames} == {"MUX-MAT"}
    assert all(f.counts.shape == (8, 8) and pattern_ok(f, (8, 8)) for f in frames)
    assert st.hello.serial == "MUX-MAT"
    c = st.counters
    assert c["other_devices"] > 50 and c["unknown_address"] == 1
    assert c["device_resets"] == c["gaps"] == c["duplicates"] == c["device_swaps"] == c["resyncs"] == 0, c
    assert st.other_devices == {5: "MUX-INS (insole_left)"}
    assert "MUX-INS (insole_left) at address 5" in st.reason and st.state == STREAMING


# -- device swaps ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, cols", [(8, 8), (6, 10)])
def test_a_device_swapped_on_the_open_port_is_reported_and_its_frames_told_apart(rows, cols):
    server = PtyServer({"mat": mat("SWAP-A")}).start()
    new = mat("SWAP-B", rows, cols)
    try:
        with DeviceReader(server.paths()["mat"], queue_frames=4096) as reader:
            reader.wait_ready(5)
            assert wait_until(lambda: reader.status().counters["frames"] > 20)
            server.swap("mat", new)
            assert wait_until(lambda: reader.swap_count == 1)
            assert wait_until(lambda: new.frames_sent > 20)  # the new device was started
            at_swap = reader.status().counters["frames"]
            assert wait_until(lambda: reader.status().counters["frames"] > at_swap + 10)
            st = reader.status()
    finally:
        server.stop()
    frames = reader.frames.drain()
    first = [f for f in frames if f.swaps == 0]
    second = [f for f in frames if f.swaps == 1]
    assert first and second and frames == first + second
    assert {f.device for f in first} == {"SWAP-A"} and all(pattern_ok(f, (8, 8)) for f in first)
    assert {f.device for f in second} == {"SWAP-B"} and all(pattern_ok(f, (rows, cols)) for f in second)
    swap = reader.swaps[0]
    assert (swap.old.serial, swap.new.serial) == ("SWAP-A", "SWAP-B")
    c = st.counters
    assert c["device_swaps"] == 1 and c["device_resets"] == 0 and c["resyncs"] == 0 and c["reconnects"] == 0
    assert st.hello.serial == "SWAP-B"


# -- section 8: versions -------------------------------------------------------------------------


def test_a_device_switched_down_to_v1_is_a_healthy_link():
    """A v1..v2 device starts in v2: the kiosk switches it to v1, again after it reboots."""
    device = mat("V12-MAT", protocol=2, protocol_min=1)
    server = PtyServer({"mat": device}).start()
    try:
        with DeviceReader(server.paths()["mat"]) as reader:
            reader.wait_ready(5)
            assert wait_until(lambda: reader.status().counters["frames"] > 20)
            assert device.speaking == 1
            with server._lock:
                device.plug()  # a watchdog reset: back in v2, idle
            assert wait_until(lambda: reader.status().counters["device_resets"] == 1)
            before = reader.status().counters["frames"]
            assert wait_until(lambda: reader.status().counters["frames"] > before + 20)
            st = reader.status()
    finally:
        server.stop()
    c = st.counters
    assert c["version_errors"] == 0 and c["resyncs"] == 0 and c["gaps"] == 0 and c["reconnects"] == 0, c
    assert c["version_skipped"] >= 1  # at least its GET_HELLO ACK, sent in v2 before the switch
    assert st.reason == "" and st.state == STREAMING and device.speaking == 1


def test_a_device_that_never_switches_protocol_is_incompatible():
    device = LosesFirst(TestPattern(rows=8, cols=8), serial="STUCK-V2", protocol=2, protocol_min=1,
                        powered=False, ops=[CommandOp.SET_PROTOCOL], times=1000)
    server = PtyServer({"mat": device}).start()
    try:
        with DeviceReader(server.paths()["mat"], silence_timeout_s=30) as reader:
            assert wait_until(lambda: reader.status().state == INCOMPATIBLE)
            st = reader.status()
    finally:
        server.stop()
    assert "'STUCK-V2' did not switch to protocol v1" in st.reason
    assert device.heard.count(CommandOp.SET_PROTOCOL) == 4 and st.counters["command_timeouts"] == 1
    assert st.counters["version_errors"] == 0


# -- section 4: unknown packet types -----------------------------------------------------------------


def test_unknown_packet_types_are_no_fault_of_the_link():
    server = PtyServer({"mat": mat("FUTURE-1")}).start()
    server.freeze("mat")  # the test writes the line itself
    # stream=False: nobody on this line would acknowledge START.
    reader = DeviceReader(server.paths()["mat"], stream=False, silence_timeout_s=5.0).open()
    try:
        assert wait_until(lambda: reader.status().state == "handshake")
        hello = Hello(kind=DeviceKind.MAT, serial="FUTURE-1", firmware="2.0", rate_hz=100.0, rows=4, cols=4,
                      pitch_mm=(8.0, 8.0), bits=16)
        stream = framing.encode_packet(Packet(PacketType.HELLO, 0, 0, 1_000_000, hello))
        for seq in range(1, 41):
            if seq == 20:  # a packet type of a later protocol version, in sequence
                stream += wire(raw_packet(1, 42, b"new things", device=0, seq=seq, t_us=1_000_000 + seq * 10_000))
            else:
                counts = TestPattern.expected(seq, (4, 4), 16)
                stream += framing.encode_packet(Packet(PacketType.FRAME, 0, seq, 1_000_000 + seq * 10_000, Frame(counts)))
        server.inject("mat", stream)
        assert wait_until(lambda: reader.status().counters["frames"] == 39)
        st = reader.status()
    finally:
        reader.close()
        server.stop()
    c = st.counters
    assert c["unknown_types"] == 1
    assert c["malformed"] == c["resyncs"] == c["gaps"] == c["lost_packets"] == 0, c
    assert st.reason == ""


# -- section 9: resending unanswered commands -------------------------------------------------------


@pytest.mark.parametrize("op", [CommandOp.START, CommandOp.SET_RATE, CommandOp.SET_PROTOCOL])
def test_an_unanswered_command_of_the_handshake_is_resent(op):
    """The first START / SET_RATE / SET_PROTOCOL is lost; the reader sends it again after 250 ms."""
    device = LosesFirst(TestPattern(rows=8, cols=8), serial="DEAF-1", powered=False, ops=[op],
                        protocol=2 if op == CommandOp.SET_PROTOCOL else 1, protocol_min=1)
    server = PtyServer({"mat": device}).start()
    # A long silence timeout: recovery must come from the resend, not from a reconnect.
    rate = 50.0 if op == CommandOp.SET_RATE else None
    try:
        with DeviceReader(server.paths()["mat"], silence_timeout_s=30, rate_hz=rate) as reader:
            reader.wait_ready(5)
            assert wait_until(lambda: device.heard.count(op) == 2)
            assert wait_until(lambda: reader.status().counters["frames"] > 20)
            st = reader.status()
    finally:
        server.stop()
    assert device.rate_hz == (50.0 if op == CommandOp.SET_RATE else 100.0)
    assert device.speaking == 1
    c = st.counters
    assert c["reconnects"] == 0 and c["command_timeouts"] == 0 and c["version_errors"] == 0, c
    assert st.reason == "" and st.state == STREAMING
