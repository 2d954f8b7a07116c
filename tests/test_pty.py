"""``gaitkiosk simulate --pty`` and ``python -m device.pty`` in their own process, read by the reader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import wait_until

from device.reader import DeviceReader

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (POSIX)")
ROOT = Path(__file__).resolve().parent.parent


def _start(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _read_lines(proc: subprocess.Popen, count: int, timeout: float = 30.0) -> list[str]:
    lines = []
    end = time.monotonic() + timeout
    while len(lines) < count and time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
    return lines


def test_simulate_pty_serves_ports_any_reader_can_open():
    proc = _start(["-m", "gaitkiosk", "simulate", "--pty", "--scenario", "quiet"])  # until Ctrl-C
    try:
        lines = _read_lines(proc, 4)
        assert len(lines) == 4, (lines, proc.stderr.read() if proc.poll() is not None else "")
        paths = {line.split()[0]: line.split()[1] for line in lines[:3]}
        assert set(paths) == {"mat", "insole_left", "insole_right"}
        assert "serving quiet" in lines[3]
        readers = [DeviceReader(paths[n]).open() for n in ("mat", "insole_left", "insole_right")]
        try:
            hellos = [r.wait_ready(30) for r in readers]
            # Streams: every port delivers frames (waited for, not counted over a fixed time).
            streaming = wait_until(lambda: all(r.status().counters["frames"] >= 30 for r in readers), timeout=60)
            counts = [r.status().counters["frames"] for r in readers]
        finally:
            for r in readers:
                r.close()
        assert [h.serial for h in hellos] == ["sim-mat-pty", "sim-insole-left-pty", "sim-insole-right-pty"]
        assert streaming, counts
        proc.send_signal(signal.SIGINT)  # Ctrl-C is the normal way to stop it
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_simulate_pty_json_and_link_dir(tmp_path):
    # Served until Ctrl-C: a --seconds limit would race the reader's handshake on a busy machine.
    proc = _start(["-m", "device.pty", "--link-dir", str(tmp_path), "--no-insoles"])
    try:
        lines = _read_lines(proc, 1)
        assert lines and lines[0].startswith("mat")
        link = tmp_path / "mat"
        assert link.is_symlink() and os.readlink(link) == lines[0].split()[1]
        with DeviceReader(str(link)) as reader:
            assert reader.wait_ready(30).kind.label == "mat"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not link.exists()  # unplugged at exit, like udev removing the name
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_simulate_pty_json_output():
    proc = _start(["-m", "gaitkiosk", "simulate", "--pty", "--json", "--seconds", "1", "--no-mat"])
    try:
        out, err = proc.communicate(timeout=120)  # a hang, not a slow start-up on a busy machine
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    data = json.loads(out)
    assert set(data) == {"insole_left", "insole_right"}
    assert data["insole_left"]["path"].startswith("/dev/")
