"""DeviceReader over in-process sim:// ports: handshake, frames, commands, counters, faults.

These run in real time (the virtual devices stream at their real pace), so each
keeps to a second or two. Pseudo-terminal tests are in test_reader_pty.py.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import serial
from clock_support import PROMPT_S, ArrivalLog
from waiting import wait_until

import device  # noqa: F401 - registers sim:// and replay://
from device.errors import DeviceError, PortNotFoundError
from device.framequeue import FrameQueue
from device.frames import INSOLE_LEFT, INSOLE_RIGHT, MAT
from device.handlers import protocol_sim
from device.reader import (
    DISCONNECTED,
    IDLE,
    INCOMPATIBLE,
    STREAMING,
    CommandError,
    DeviceReader,
    probe,
)
from device.virtual import TestPattern


class Recorder:
    """serial_for_url that remembers the ports it opened (to reach the virtual device's truth)."""

    def __init__(self):
        self.ports = []

    def __call__(self, url, **kw):
        port = serial.serial_for_url(url, **kw)
        self.ports.append(port)
        return port




def pattern_ok(frame, shape=(48, 48)):
    idx = TestPattern.index_of(frame.counts)
    return np.array_equal(frame.counts, TestPattern.expected(idx, shape))


def test_mat_and_insoles_stream_on_one_host_clock():
    rec = Recorder()
    urls = [
        "sim://mat?patient=align&jitter_ms=3&drift_ppm=100&clock_offset=5",
        "sim://insole?side=left&patient=align&jitter_ms=3&drift_ppm=-100&clock_offset=700",
        "sim://insole-right?patient=align&jitter_ms=2&drift_ppm=40&clock_offset=12345",
    ]
    readers = [DeviceReader(u, serial_for_url=rec, queue_frames=20000) for u in urls]
    logs = [ArrivalLog(r) for r in readers]
    try:
        for r in readers:
            r.open()
        hellos = [r.wait_ready(30) for r in readers]
        # The events the checks need (clock_support): 1.5 s of frames, one packet of each read promptly.
        assert wait_until(lambda: all(len(r.frames) >= 150 for r in readers), timeout=60)
        assert wait_until(lambda: all(log.least_latency(p.device.host_time) < PROMPT_S
                                      for log, p in zip(logs, rec.ports, strict=True)), timeout=60)
    finally:
        for r in readers:
            r.close()
    assert [h.kind.label for h in hellos] == [MAT, INSOLE_LEFT, INSOLE_RIGHT]
    assert hellos[0].shape == (48, 48) and hellos[1].shape == (16,)
    # One person on all three: the ports share one VirtualPatient.
    sources = [p.device.source for p in rec.ports]
    assert sources[0].shared is sources[1].shared is sources[2].shared
    for reader, log, port in zip(readers, logs, rec.ports, strict=True):
        frames = reader.frames.drain()
        assert len(frames) >= 150
        assert all(f.device == port.device.serial for f in frames)
        t_host = np.array([f.t_host for f in frames])
        assert np.all(np.diff(t_host) > 0)
        # Each sample once, in order: the device clock steps one period (100 Hz) per frame.
        assert np.allclose(np.diff([f.t_device for f in frames]) * 100, 1.0, atol=1e-3)
        # The truth is the host instant at which the device took each sample: every frame sits
        # there plus the least latency its reader had seen (tight), and that latency was small.
        assert log.check(frames, port.device.host_time) >= 150, reader.name
        c = reader.status().counters
        assert c["frames"] == len(frames) and c["gaps"] == 0 and c["resyncs"] == 0


def test_commands_rate_zero_identify_stop_start():
    with DeviceReader("sim://mat?patient=cmd") as r:
        r.wait_ready(5)
        assert r.set_rate(50).ok
        time.sleep(0.3)
        r.frames.drain()
        time.sleep(0.4)
        t = np.array([f.t_device for f in r.frames.drain()])
        assert np.allclose(np.diff(t), 0.02, atol=1e-5)
        with pytest.raises(CommandError, match="BAD_VALUE.*Hz"):
            r.set_rate(5000)
        # The virtual patient stands on the mat: the device refuses to zero under load.
        with pytest.raises(CommandError, match="BUSY.*step off"):
            r.zero()
        assert r.identify(2).ok
        assert r.stop_streaming().ok
        time.sleep(0.15)
        r.frames.drain()
        time.sleep(0.3)
        assert r.frames.drain() == []
        assert r.status().state == IDLE
        assert r.start_streaming().ok
        assert wait_until(lambda: len(r.frames) > 5)
        c = r.status().counters
        assert c["commands_refused"] == 2 and c["command_timeouts"] == 0


def test_zero_on_an_unloaded_device():
    with DeviceReader("sim://mat?pattern=1") as r:
        r.wait_ready(5)
        assert r.zero().ok


def test_slow_consumer_drops_oldest_and_never_blocks():
    rec = Recorder()
    with DeviceReader("sim://mat?pattern=1&rate=200", serial_for_url=rec, queue_frames=8) as r:
        r.wait_ready(30)
        # Nobody consumes. A reader that blocked on its full queue would never get here.
        assert wait_until(lambda: r.status().counters["dropped_by_queue"] >= 100, timeout=60)
        st = r.status()
    frames = r.frames.drain()
    assert len(frames) == 8
    c = st.counters
    assert c["frames"] - c["dropped_by_queue"] - 8 <= 2  # everything else was delivered or dropped
    # The newest frames were kept, in order, and the reader kept pace: it read every frame the
    # device sent (one that fell a second behind would find the device had dropped some).
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs)
    assert c["device_dropped"] == 0 and rec.ports[0].device.frames_dropped_total == 0
    # What was dropped is carried by the oldest frame kept, so a recording knows its hole.
    assert sum(f.dropped_before for f in frames) == r.frames.dropped > 0


def test_sequence_gaps_are_counted_and_no_frame_is_invented():
    rec = Recorder()
    with DeviceReader("sim://mat?pattern=1&rate=200&drop=0.05&seed=3", serial_for_url=rec, queue_frames=4096) as r:
        r.wait_ready(5)
        time.sleep(1.0)
    lost = rec.ports[0].device.frames_lost_on_line  # the device's own account, after the port closed
    sent = rec.ports[0].device.frames_sent
    frames = r.frames.drain()
    c = r.status().counters
    assert c["gaps"] > 0
    assert lost - 3 <= c["lost_packets"] <= lost  # a loss in the last few packets shows no gap yet
    assert sent - 5 <= len(frames) <= sent
    assert all(pattern_ok(f) for f in frames)
    # Each frame carries the losses since the previous one (what the store counts per recording);
    # losses before the first frame and after the last belong to no pair of frames.
    in_between = sum(f.lost_before for f in frames[1:])
    lost_frames = rec.ports[0].device.frames_lost_on_line  # frames only, the device's own account
    assert lost_frames - 3 <= in_between <= lost_frames
    # Every delivered frame sits on the device's sample grid, each once.
    t = np.array([f.t_device for f in frames])
    steps = np.diff(t) * 200
    assert np.allclose(steps, np.round(steps), atol=1e-3) and np.all(steps >= 0.999)


def test_frames_the_device_dropped_are_counted_and_handed_on():
    """A reader not scheduled for over a second: the device's buffer (1 s) overflowed and it
    discarded frames. That leaves no sequence gap; its STATUS says how many (device_dropped),
    and the hole in its sample grid hands them to the recording (RawFrame.lost_before)."""
    rec = Recorder()
    reader = DeviceReader("sim://mat?pattern=1&serial=STALL-1", serial_for_url=rec, queue_frames=5000)
    stalled = threading.Event()
    pump = reader._pump

    def stalling_pump(port):
        if not stalled.is_set() and reader.counters.frames >= 50:
            stalled.set()
            time.sleep(1.4)  # the stimulus: a reader thread that gets no CPU for 1.4 s
        return pump(port)

    reader._pump = stalling_pump
    with reader:
        reader.wait_ready(30)
        device = rec.ports[0].device
        # The events: the device dropped frames, its STATUS reported all of them, and frames came after.
        assert wait_until(lambda: stalled.is_set() and 0 < device.frames_dropped_total
                          == reader.status().counters["device_dropped"], timeout=60)
        after = reader.status().counters["frames"]
        assert wait_until(lambda: reader.status().counters["frames"] > after + 10, timeout=60)
        c = reader.status().counters
    frames = reader.frames.drain()
    assert c["device_dropped"] >= 30 and c["gaps"] == 0 and c["lost_packets"] == 0  # not a line loss
    assert sum(f.lost_before for f in frames) == c["device_dropped"]
    # Where they went missing: the device clock jumps over them.
    steps = np.round(np.diff([f.t_device for f in frames]) * 100).astype(int)
    assert steps.sum() - (len(steps)) == c["device_dropped"]


def test_corrupted_packets_are_counted_valid_ones_delivered():
    rec = Recorder()
    with DeviceReader("sim://mat?pattern=1&rate=200&corrupt=0.05&seed=4", serial_for_url=rec, queue_frames=4096) as r:
        r.wait_ready(5)
        time.sleep(1.0)
    frames = r.frames.drain()
    c = r.status().counters
    faults = c["crc_failures"] + c["cobs_failures"] + c["malformed"]
    assert faults > 0 and c["resyncs"] == faults
    assert all(pattern_ok(f) for f in frames)
    assert len({f.seq for f in frames}) == len(frames)


def test_port_that_does_not_exist_is_named():
    with pytest.raises(PortNotFoundError, match=r"/dev/ttyGAITKIOSK9 does not exist.*gaitkiosk devices"):
        DeviceReader("/dev/ttyGAITKIOSK9").open()
    with pytest.raises(DeviceError, match="cannot open nosuch://x"):
        DeviceReader("nosuch://x").open()
    with pytest.raises(DeviceError, match=r"rate='fast' is not a number"):
        DeviceReader("sim://mat?rate=fast").open()
    with pytest.raises(DeviceError, match="side=left or side=right"):
        DeviceReader("sim://insole").open()


def test_newer_protocol_device_is_told_clearly():
    with DeviceReader("sim://mat?pattern=1&protocol=2") as r:
        assert wait_until(lambda: r.status().state == INCOMPATIBLE)
        st = r.status()
        assert "v2" in st.reason and "update gaitkiosk" in st.reason
        time.sleep(0.2)
        assert len(r.frames) == 0


def test_unplugged_virtual_cable_reconnects():
    with DeviceReader("sim://mat?pattern=1&serial=UNPLUG-1", reconnect_interval_s=0.1) as r:
        r.wait_ready(5)
        protocol_sim.unplug("UNPLUG-1")
        try:
            assert wait_until(lambda: r.status().state == DISCONNECTED)
            assert wait_until(lambda: r.status().counters["open_failures"] >= 2)
            assert "unplugged" in r.status().reason
        finally:
            protocol_sim.plug("UNPLUG-1")
        assert wait_until(lambda: r.status().counters["reconnects"] == 1 and r.status().state == STREAMING)
        r.frames.drain()
        assert wait_until(lambda: len(r.frames) > 3)


def test_probe_reads_identity_without_starting():
    st = probe("sim://insole?side=right&pattern=1", timeout=2)
    assert st.hello is not None and st.identity()["kind"] == INSOLE_RIGHT
    assert st.counters["frames"] == 0


def test_commands_need_a_connection():
    r = DeviceReader("sim://mat?pattern=1")
    with pytest.raises(CommandError, match="not connected"):
        r.identify()


def test_frame_queue_bounds_and_order():
    q = FrameQueue(3)
    assert [q.put(i) for i in range(5)] == [True, True, True, False, False]
    assert q.dropped == 2 and len(q) == 3
    assert q.drain() == [2, 3, 4]
    assert q.get(timeout=0.01) is None
    with pytest.raises(ValueError):
        FrameQueue(0)


def test_frame_queue_producer_never_waits_for_consumer():
    q = FrameQueue(100)
    got = []

    def consume():
        while True:
            item = q.get(timeout=0.5)
            if item is None or item == -1:
                return
            got.append(item)
            time.sleep(0.0005)  # a slow consumer

    t = threading.Thread(target=consume)
    t.start()
    started = time.perf_counter()
    for i in range(20000):
        q.put(i)
    q.put(-1)
    producer_s = time.perf_counter() - started
    t.join(5)
    assert producer_s < 1.0
    assert q.dropped > 0
    assert got == sorted(got) and len(got) + q.dropped <= 20001


def test_only_low_bandwidth_devices_are_read_in_batches():
    from device.framing import DeviceKind, Hello

    reader = DeviceReader("sim://mat", read_interval_s=0.02)
    mat = Hello(kind=DeviceKind.MAT, serial="m", firmware="1", rate_hz=100.0, rows=48, cols=48, bits=12)
    insole = Hello(kind=DeviceKind.INSOLE_LEFT, serial="i", firmware="1", rate_hz=100.0, rows=16, cols=1, bits=12)
    slow_mat = Hello(kind=DeviceKind.MAT, serial="s", firmware="1", rate_hz=5.0, rows=48, cols=48, bits=12)
    assert reader._batch_interval(mat) == 0.0  # 3.5 kB a frame: 7 kB per interval would not fit
    assert reader._batch_interval(insole) == 0.02
    assert reader._batch_interval(slow_mat) == 0.02
    assert DeviceReader("sim://mat", read_interval_s=0)._batch_interval(insole) == 0.0


def test_scans_the_device_skipped_are_counted_from_its_status():
    """The insole firmware counts scans its loop skipped because it overran (STATUS
    missed_deadlines, appended). The first STATUS sets the baseline; growth is a fault counted
    as device_missed_deadlines for the technician's diagnostics, and streaming goes on."""
    rec = Recorder()
    reader = DeviceReader("sim://mat?pattern=1&serial=SLOW-1", serial_for_url=rec)
    with reader:
        reader.wait_ready(30)
        device = rec.ports[0].device
        device.missed_deadlines = 1000  # since its power-up, before we watched: not ours to count
        assert wait_until(lambda: (s := reader.status().device_status) is not None
                          and s.missed_deadlines == 1000, timeout=30)
        device.missed_deadlines = 1007
        assert wait_until(lambda: reader.status().counters["device_missed_deadlines"] == 7, timeout=30)
        frames = reader.status().counters["frames"]
        assert wait_until(lambda: reader.status().counters["frames"] > frames + 10, timeout=30)
    assert reader.status().counters["device_dropped"] == 0
