"""The reader through real pseudo-terminals: the kernel's tty layer, real EIO on unplug.

The virtual devices run in a PtyServer thread behind ptys; the reader opens the
slave side exactly as it opens /dev/ttyACM0 on a unit.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import serial
from clock_support import PROMPT_S, ArrivalLog
from waiting import wait_until

from device import framing
from device.framing import Command, CommandOp, Deframer, Frame, Hello, Packet, PacketType
from device.pty import PtyServer, patient_devices
from device.reader import DISCONNECTED, STREAMING, DeviceReader
from device.virtual import TestPattern, VirtualDevice

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")




def pattern_device(serial_number="PTY-MAT", rows=8, cols=8, **kw):
    return VirtualDevice(TestPattern(rows=rows, cols=cols), serial=serial_number, powered=False, **kw)


@pytest.fixture(scope="module")
def patient():
    from device.sim import VirtualPatient

    return VirtualPatient("quiet", seed=2)


def test_plain_serial_reads_virtual_devices_end_to_end(patient):
    """Any serial program can talk to the virtual mat: pyserial, raw wire protocol, no kiosk code."""
    with PtyServer(patient_devices(patient)) as server:
        with serial.Serial(server.paths()["mat"], 921600, timeout=0.1) as port:
            port.reset_input_buffer()
            port.write(framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 1, 0, Command(CommandOp.GET_HELLO))))
            port.write(framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 2, 0, Command(CommandOp.START))))
            d = Deframer()
            packets = []
            end = time.monotonic() + 30  # only if the device never streams
            while sum(p.type in framing.FRAME_TYPES for p in packets) < 50 and time.monotonic() < end:
                packets += d.feed(port.read(port.in_waiting or 1))
            port.write(framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 3, 0, Command(CommandOp.STOP))))
    hello = next(p.body for p in packets if p.type == PacketType.HELLO)
    assert hello.kind.label == "mat" and hello.shape == (48, 48) and hello.serial == "sim-mat-pty"
    acks = {p.body.command_seq: p.body.ok for p in packets if p.type == PacketType.ACK}
    assert acks[1] and acks[2]
    frames = [p for p in packets if p.type in framing.FRAME_TYPES]
    assert len(frames) >= 50
    # At the rate its HELLO gives, each sample once: the device clock steps one period per frame.
    assert np.allclose(np.diff([f.t_us for f in frames]) * 1e-6 * hello.rate_hz, 1.0, atol=1e-3)
    assert frames[0].body.counts.shape == (48, 48) and frames[0].body.counts.max() > 100  # a person stands on it
    assert d.counters.resyncs == 0


def test_reader_streams_three_devices_through_ptys(patient, tmp_path):
    """Every frame of three devices arrives once, in order, on the host clock the aligner promises."""
    names = ("mat", "insole_left", "insole_right")
    with PtyServer(patient_devices(patient, jitter_s=0.002), link_dir=tmp_path) as server:
        links = server.links()
        devices = {n: p.device for n, p in server.ports.items()}
        readers = [DeviceReader(links[n], queue_frames=20000) for n in names]
        logs = [ArrivalLog(r) for r in readers]
        try:
            for r in readers:
                r.open()
            for r in readers:
                r.wait_ready(30)
            # The events the checks need: 1.5 s of frames from each, and one packet each read promptly.
            assert wait_until(lambda: all(len(r.frames) >= 150 for r in readers), timeout=60)
            assert wait_until(lambda: all(log.least_latency(devices[n].host_time) < PROMPT_S
                                          for log, n in zip(logs, names, strict=True)), timeout=60), \
                [f"{log.least_latency(devices[n].host_time) * 1e3:.1f} ms" for log, n in zip(logs, names, strict=True)]
        finally:
            for r in readers:
                r.close()
    for r, log, name in zip(readers, logs, names, strict=True):
        frames = r.frames.drain()
        c = r.status().counters
        assert len(frames) >= 150 and c["frames"] == len(frames), (name, len(frames), c["frames"])
        assert c["gaps"] == 0 and c["lost_packets"] == 0 and c["resyncs"] == 0, (name, c)
        # Each sample of the device once, in order: its clock steps by one period (100 Hz) every frame.
        steps = np.diff([f.t_device for f in frames]) * devices[name].default_rate_hz
        assert np.allclose(steps, 1.0, atol=1e-3), (name, steps.min(), steps.max())
        assert log.check(frames, devices[name].host_time) >= 150, name


def _hello_packet(serial_number="FUZZ-1", rows=4, cols=4, seq=0, version=1):
    hello = Hello(kind=framing.DeviceKind.MAT, serial=serial_number, firmware="fuzz", rate_hz=100.0,
                  rows=rows, cols=cols, pitch_mm=(8.0, 8.0), bits=16)
    return framing.encode_packet(Packet(PacketType.HELLO, 0, seq, 1_000_000, hello, version))


def _frame_packet(seq, index, t_us, shape=(4, 4), version=1):
    return framing.encode_packet(Packet(PacketType.FRAME, 0, seq, t_us, Frame(TestPattern.expected(index, shape, 16)), version))


@pytest.mark.parametrize("seed", [1, 2])
def test_garbage_truncated_and_flipped_packets_through_a_pty(seed):
    """Exactly the valid frames come out, in order, and every fault is counted."""
    rng = np.random.default_rng(seed)
    quiet = pattern_device("FUZZ-1")
    server = PtyServer({"mat": quiet}).start()
    server.freeze("mat")  # the test writes the line itself
    # stream=False: nothing on this line would acknowledge START.
    reader = DeviceReader(server.paths()["mat"], queue_frames=4096, silence_timeout_s=5.0, stream=False).open()
    try:
        assert wait_until(lambda: reader.status().state == "handshake")
        time.sleep(0.05)
        stream = bytearray(_hello_packet())
        expected = []  # (seq, index) of the valid frames
        damaged = 0
        seq = 1
        t0 = time.monotonic()
        for index in range(300):
            wire = _frame_packet(seq, index, 2_000_000 + index * 10_000)
            fate = rng.choice(["ok", "garbage", "truncate", "flip", "version"], p=[0.6, 0.15, 0.1, 0.1, 0.05])
            if fate == "ok":
                expected.append((seq, index))
            elif fate == "garbage":
                expected.append((seq, index))
                junk = rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8).tobytes()
                wire = junk + wire  # noise on the line before a good packet
            elif fate == "truncate":
                wire = wire[: int(rng.integers(2, len(wire) - 2))]
                damaged += 1
            elif fate == "flip":
                wire = bytearray(wire)
                pos = int(rng.integers(1, len(wire) - 1))
                wire[pos] ^= 1 << int(rng.integers(0, 8))
                wire = bytes(wire)
                damaged += 1
            else:
                wire = _frame_packet(seq, index, 2_000_000 + index * 10_000, version=2)
                damaged += 1
            stream += wire
            seq += 1
        for start in range(0, len(stream), 1000):  # arrives in pieces, as from a USB endpoint
            server.inject("mat", bytes(stream[start:start + 1000]))
            time.sleep(0.002)
        server.inject("mat", b"\x00")
        assert wait_until(lambda: reader.status().counters["frames"] >= len(expected), timeout=5)
        time.sleep(0.1)
        st = reader.status()
    finally:
        reader.close()
        server.stop()
    frames = reader.frames.drain()
    assert [(f.seq, TestPattern.index_of(f.counts, 16) % 4096) for f in frames] == [(s, i % 4096) for s, i in expected]
    for f in frames:
        np.testing.assert_array_equal(f.counts, TestPattern.expected(f.seq - 1, (4, 4), 16))
    c = st.counters
    assert c["frames"] == len(expected)
    assert c["crc_failures"] + c["cobs_failures"] + c["malformed"] + c["version_errors"] == c["resyncs"] >= damaged - 2
    assert c["lost_packets"] == damaged  # each damaged packet took one sequence number
    assert c["version_errors"] > 0 and "v2" in st.reason
    assert time.monotonic() - t0 < 10


def test_unplugged_mid_stream_reconnects_on_the_new_pty(tmp_path):
    server = PtyServer({"mat": pattern_device("REPLUG-1", rate_hz=100)}, link_dir=tmp_path).start()
    reader = DeviceReader(str(tmp_path / "mat"), reconnect_interval_s=0.1).open()
    try:
        reader.wait_ready(5)
        assert wait_until(lambda: reader.status().counters["frames"] > 10)
        server.unplug("mat")
        assert wait_until(lambda: reader.status().state == DISCONNECTED)
        time.sleep(0.3)
        assert wait_until(lambda: reader.status().counters["open_failures"] >= 1)
        server.plug("mat")
        assert wait_until(lambda: reader.status().counters["reconnects"] == 1 and reader.status().state == STREAMING)
        before = reader.status().counters["frames"]
        assert wait_until(lambda: reader.status().counters["frames"] > before + 10)
        assert reader.status().counters["internal_errors"] == 0
    finally:
        reader.close()
        server.stop()


def test_replugged_on_another_path_is_found_by_serial_number():
    server = PtyServer({"mat": pattern_device("MOVED-1")}).start()
    found = []

    def locate(serial_number):
        found.append(serial_number)
        return server.paths()["mat"] if server.ports["mat"].open else None

    reader = DeviceReader(server.paths()["mat"], reconnect_interval_s=0.1, locate=locate).open()
    placeholder = None
    try:
        reader.wait_ready(5)
        old = server.paths()["mat"]
        server.unplug("mat")
        assert wait_until(lambda: reader.status().state == DISCONNECTED)
        assert wait_until(lambda: not os.path.exists(old))  # the reader has let go of it
        # Occupy the old pts number so the device comes back elsewhere. The kernel frees a pts
        # number a moment after its last close, so try until the old number is ours.
        deadline = time.monotonic() + 3
        while placeholder is None and time.monotonic() < deadline:
            pair = os.openpty()
            if os.ttyname(pair[1]) == old:
                placeholder = pair
            else:
                os.close(pair[0])
                os.close(pair[1])
                time.sleep(0.02)
        new = server.plug("mat")
        if placeholder:
            os.close(placeholder[0])
            os.close(placeholder[1])
            placeholder = None
        assert new != old
        assert wait_until(lambda: reader.status().counters["reconnects"] == 1)
        assert reader.status().port == new and "MOVED-1" in found
    finally:
        if placeholder:
            os.close(placeholder[0])
            os.close(placeholder[1])
        reader.close()
        server.stop()


def test_device_that_stops_answering_is_reported_and_retried():
    server = PtyServer({"mat": pattern_device("HANG-1")}).start()
    reader = DeviceReader(server.paths()["mat"], silence_timeout_s=0.3, hello_timeout_s=0.4,
                          reconnect_interval_s=0.1).open()
    try:
        reader.wait_ready(5)
        server.freeze("mat")
        assert wait_until(lambda: reader.status().counters["silences"] == 1)
        assert wait_until(lambda: reader.status().counters["handshake_failures"] >= 1)
        st = reader.status()
        assert st.state in (DISCONNECTED, "handshake") and st.counters["silences"] == 1
        assert wait_until(lambda: "no HELLO" in reader.status().reason or "no data" in reader.status().reason)
        server.freeze("mat", False)
        assert wait_until(lambda: reader.status().counters["reconnects"] >= 1 and reader.status().state == STREAMING)
    finally:
        reader.close()
        server.stop()


def test_device_reboot_behind_the_same_port_is_a_reset():
    server = PtyServer({"mat": pattern_device("BOOT-1")}).start()
    reader = DeviceReader(server.paths()["mat"]).open()
    try:
        reader.wait_ready(5)
        assert wait_until(lambda: reader.status().counters["frames"] > 30)
        with server._lock:
            server.ports["mat"].device.plug()  # a watchdog reset: same port, clock and seq restart
        assert wait_until(lambda: reader.status().counters["device_resets"] == 1)
        before = reader.status().counters["frames"]
        assert wait_until(lambda: reader.status().counters["frames"] > before + 20)  # it was restarted
        assert reader.aligner.resets >= 1
        assert reader.status().counters["reconnects"] == 0
    finally:
        reader.close()
        server.stop()


def test_sensor_back_on_another_tty_is_found_by_usb_serial(monkeypatch):
    """The discovery path of a unit: the port vanished, list_ports shows the USB serial elsewhere."""
    from serial.tools import list_ports
    from serial.tools.list_ports_common import ListPortInfo

    def usb(path):
        info = ListPortInfo(path, skip_link_detection=True)
        info.vid, info.pid, info.serial_number = 0x2E8A, 0x000A, "E6614C311B4F2A2B"
        return info

    server = PtyServer({"mat": pattern_device("USB-1")}).start()
    listing = [usb(server.paths()["mat"])]
    monkeypatch.setattr(list_ports, "comports", lambda: list(listing))
    reader = DeviceReader(server.paths()["mat"], usb_ids=["2e8a:000a"], reconnect_interval_s=0.1).open()
    placeholder = None
    try:
        reader.wait_ready(5)
        assert reader.status().usb_serial == "E6614C311B4F2A2B"
        old = server.paths()["mat"]
        server.unplug("mat")
        listing.clear()
        assert wait_until(lambda: reader.status().state == DISCONNECTED)
        assert wait_until(lambda: not os.path.exists(old))  # the reader has let go of it
        for _ in range(5):
            placeholder = os.openpty()  # occupies the old number: the sensor returns as another tty
            new = server.plug("mat")
            os.close(placeholder[0])
            os.close(placeholder[1])
            placeholder = None
            if new != old:
                break
            # Another process held the old number while we opened ours and freed it before the plug
            # (ptys are shared by every process here): unplug and try again.
            server.unplug("mat")
            assert wait_until(lambda: reader.status().state == DISCONNECTED and not os.path.exists(old))
        assert new != old
        listing.append(usb(new))
        assert wait_until(lambda: reader.status().port == new and reader.status().state == STREAMING)
        assert reader.status().counters["reconnects"] >= 1
    finally:
        if placeholder:
            os.close(placeholder[0])
            os.close(placeholder[1])
        reader.close()
        server.stop()


def test_joining_a_device_that_is_already_streaming_is_not_a_fault():
    """A kiosk restarted while the mat kept streaming opens the port mid-packet."""
    server = PtyServer({"mat": pattern_device("RUNNING-1", rows=48, cols=48)}).start()
    try:
        for _ in range(3):
            with serial.Serial(server.paths()["mat"], timeout=0.1) as other:  # a run that never sent STOP
                other.write(framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 1, 0, Command(CommandOp.START))))
                time.sleep(0.2)
            assert server.ports["mat"].device.streaming
            with DeviceReader(server.paths()["mat"]) as reader:
                reader.wait_ready(5)
                assert wait_until(lambda: reader.status().counters["frames"] > 20)
                c = reader.status().counters
            assert c["resyncs"] == 0 and c["gaps"] == 0, c
            assert wait_until(lambda: not server.ports["mat"].device.streaming)  # the reader left it idle
    finally:
        server.stop()


def test_a_second_reader_on_a_port_in_use_is_told_so():
    from device.reader import PortBusyError

    server = PtyServer({"mat": pattern_device("BUSY-1")}).start()
    try:
        with DeviceReader(server.paths()["mat"]) as first:
            first.wait_ready(5)
            with pytest.raises(PortBusyError, match="in use by another program"):
                DeviceReader(server.paths()["mat"]).open()
            assert first.status().state == STREAMING
    finally:
        server.stop()


def test_read_interval_batches_packets_without_losing_any():
    """read_interval_s > 0: fewer wake-ups; every frame still arrives, on the right host time."""
    from device.framing import DeviceKind

    insole = VirtualDevice(TestPattern(DeviceKind.INSOLE_LEFT, 16, 1), serial="BATCH-1", powered=False)
    server = PtyServer({"insole_left": insole}).start()
    reads = []
    try:
        reader = DeviceReader(server.paths()["insole_left"], read_interval_s=0.03, queue_frames=20000)
        log = ArrivalLog(reader)
        with reader:
            reader.wait_ready(30)
            original = reader._pump
            reader._pump = lambda port: reads.append(1) or original(port)  # count the wake-ups
            assert wait_until(lambda: len(reader.frames) >= 150, timeout=60)
            with server._lock:
                sent = insole.frames_sent  # what the device has put on the line by now
            # Every one of them arrives: wait for that, not for a fixed time.
            assert wait_until(lambda: reader.status().counters["frames"] >= sent, timeout=60), \
                (reader.status().counters["frames"], sent)
            assert wait_until(lambda: log.least_latency(insole.host_time) < PROMPT_S, timeout=60), \
                f"no packet read within {log.least_latency(insole.host_time) * 1e3:.1f} ms"
            c = reader.status().counters
        frames = reader.frames.drain()
    finally:
        server.stop()
    assert len(frames) >= sent and c["gaps"] == 0 and c["lost_packets"] == 0 and c["resyncs"] == 0
    # The device's first `sent` frames, each once, in order (TestPattern counts carry the frame index).
    assert [TestPattern.index_of(f.counts) for f in frames[:sent]] == [i % 4096 for i in range(sent)]
    assert len(reads) < 0.6 * len(frames)  # several packets per wake-up
    assert log.check(frames, insole.host_time) >= 150


def test_a_streaming_serial_port_is_read_with_one_poll_and_read_per_wake_up(tmp_path, monkeypatch):
    """Issue 16 "CPU budget": pyserial's read(1), in_waiting and read(n) on every wake-up were most of
    the readers' CPU on a 256 x 64 walkway at 200 Hz. A real serial port is now waited on with poll()
    on its own descriptor and read once per tty buffer: pyserial's read is not called while it
    streams, every frame still arrives, and a port closed under the reader is still a lost link."""
    calls = []
    real_read = serial.Serial.read
    monkeypatch.setattr(serial.Serial, "read", lambda self, size=1: (calls.append(size), real_read(self, size))[1])
    server = PtyServer({"mat": pattern_device("POLL-1", rate_hz=100)}, link_dir=tmp_path).start()
    reader = DeviceReader(str(tmp_path / "mat"), reconnect_interval_s=0.1).open()
    try:
        reader.wait_ready(5)
        assert wait_until(lambda: reader.status().counters["frames"] > 100)
        c = reader.status().counters
        assert c["gaps"] == 0 and c["crc_failures"] == 0
        assert calls == []  # every byte came through poll() and os.read
        server.unplug("mat")
        assert wait_until(lambda: reader.status().state == DISCONNECTED)
    finally:
        reader.close()
        server.stop()
