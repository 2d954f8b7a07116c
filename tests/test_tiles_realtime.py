"""A walkway at 64 x 256 and 200 Hz through real pseudo-terminals (issue 16, "Real time at walkway scale").

Four 64 x 64 tiles at 200 Hz send 1.2 MB/s each. A tty hands over at most 4 kB per read,
and a pty holds about 20 kB: the readers must drain every tile ~300 times a second, and
when they fall behind (a busy machine) the devices' buffers fill. Before the fix the
virtual device then cut bytes out of the middle of what waited, so every packet after it
failed its CRC ("no data", failed handshakes, no frames at all), and the readers went
through pyserial's select + read + ioctl for every 4 kB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

from device import framing
from device.framing import FRAME_TYPES, Command, CommandOp, Packet, PacketType
from device.pty import PtyPort
from device.tiles import TiledMat, parse_tiles
from device.virtual import TestPattern, VirtualDevice

ROOT = Path(__file__).resolve().parent.parent
needs_pty = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")


@needs_pty
def test_a_port_read_too_slowly_loses_whole_packets_never_cuts_one():
    now = [100.0]
    device = VirtualDevice(TestPattern(rows=64, cols=64, bits=12), serial="T", rate_hz=200.0,
                           clock=lambda: now[0], powered=False)
    port = PtyPort("mat_1", device)
    port.plug()
    try:
        device.write(framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 1, 0, Command(CommandOp.START))))
        # 3 s of streaming while nobody reads the port: 3.7 MB against the device's buffer of ~1 s
        for _ in range(600):
            now[0] += 0.005
            port.pump(now[0])
        assert port.overflow_bytes > 0
        # then the host reads everything there is
        os.set_blocking(port.slave, False)
        rx = framing.Deframer()
        packets = []
        for _ in range(400):
            now[0] += 0.005
            port.pump(now[0])
            while True:
                try:
                    data = os.read(port.slave, 65536)
                except BlockingIOError:
                    break
                packets += rx.feed(data)
        assert rx.counters.crc_failures == 0 and rx.counters.cobs_failures == 0 and rx.counters.resyncs == 0
        frames = [p for p in packets if p.type in FRAME_TYPES]
        seqs = np.array([p.seq for p in frames])
        assert len(frames) > 200
        assert np.any(np.diff(seqs) > 1), "the overflow should show as lost packets (a seq gap)"
        for p in frames:  # every delivered frame whole and its own
            index = TestPattern.index_of(np.asarray(p.body.counts).reshape(64, 64), 12)
            assert np.array_equal(np.asarray(p.body.counts).reshape(64, 64),
                                  TestPattern.expected(index, (64, 64), 12))
    finally:
        port.unplug()


def _serve_walkway(seconds: float) -> tuple[subprocess.Popen, list[str]]:
    """``gaitkiosk simulate --pty --tiles 4 --rows 64 --cols 64 --rate 200``: the devices in another process."""
    cmd = [sys.executable, "-m", "gaitkiosk", "simulate", "--pty", "--tiles", "4", "--rows", "64", "--cols", "64",
           "--rate", "200", "--no-insoles", "--scenario", "walk", "--seconds", str(seconds)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    paths = []
    while len(paths) < 4:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"gaitkiosk simulate --pty failed: {proc.stderr.read()}")
        paths.append(line.split()[1])
    return proc, paths


def _stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _window(mat, seconds):
    """Stitched frames of ``seconds`` once every tile's clock fit has settled (the first stitched frame)."""
    assert wait_until(lambda: mat.stitcher is not None and mat.stitcher.stitched > 0, timeout=30)
    mat.frames.drain()
    end = time.monotonic() + seconds
    frames = []
    while time.monotonic() < end:
        frames += mat.frames.drain()
        time.sleep(0.05)
    return frames + mat.frames.drain()


@needs_pty
@pytest.mark.slow
def test_a_64_x_256_walkway_at_200_hz_on_a_busy_machine_arrives_counted_never_corrupted(busy):
    """Devices in another process, both cores busy: most periods arrive; a period that does not is a
    counted gap, no packet is cut (no CRC failure), no handshake fails."""
    proc, paths = _serve_walkway(60)
    try:
        mat = TiledMat(parse_tiles([{"port": p} for p in paths]), queue_frames=10000).open()
        try:
            mat.wait_ready(30)
            frames = _window(mat, 5.0)
            status = mat.status()
        finally:
            mat.close()
    finally:
        _stop(proc)
    assert mat.hello.shape == (256, 64)
    c = {k: v for k, v in status.counters.items() if v}
    assert (c.get("crc_failures", 0), c.get("cobs_failures", 0), c.get("handshake_failures", 0)) == (0, 0, 0), c
    periods = round((frames[-1].t_device - frames[0].t_device) * 200) + 1
    assert len(frames) + sum(f.lost_before + f.dropped_before for f in frames[1:]) == periods, c
    # Before the fix: a handful of frames in 5 s; unloaded it is every period (bench/bench_walkway.py).
    assert len(frames) >= 0.5 * 5.0 * 200, str(c)
