"""systemd's notify protocol and watchdog, with a real kiosk process and a real socket.

The kiosk (``gaitkiosk run --simulate --headless``) runs as its own process with
``NOTIFY_SOCKET`` naming a unix datagram socket this test reads, as systemd's
would be. READY=1 must come once the attract screen is up, WATCHDOG=1 must keep
coming, and must stop while one part of the kiosk really hangs (the test-only
hook ``GAITKIOSK_TEST_STALL``, device/stall.py, blocks that part's thread), and
come back when it runs again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from waiting import wait_until

from gaitkiosk import __version__
from gaitkiosk.sdnotify import Notifier, watchdog_interval_s

ROOT = Path(__file__).resolve().parent.parent
WATCHDOG_S = 3.0  # WATCHDOG_USEC for the kiosk: a ping a second, a part stalled after 3 s


class NotifySocket:
    """A bound unix datagram socket, as systemd's $NOTIFY_SOCKET; every datagram kept with its time."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.got: list[tuple[float, dict]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.got.append((time.monotonic(), fields))

    def count(self, key: str, since: float = 0.0) -> int:
        return sum(1 for t, f in list(self.got) if key in f and t >= since)

    def statuses(self) -> list[str]:
        return [f["STATUS"] for _, f in list(self.got) if "STATUS" in f]

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def notify(tmp_path):
    s = NotifySocket(tmp_path / "notify.sock")
    yield s
    s.close()


def _kiosk(tmp_path: Path, notify_path: Path, stall: str = "") -> subprocess.Popen:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6)),
           "RUNTIME_DIRECTORY": str(tmp_path / "run"), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "GAITKIOSK_TEST_STALL": stall}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("WATCHDOG_PID", None)
    # Long drills (--seconds 60): the visit is still running when the test has seen what it needs.
    return subprocess.Popen([sys.executable, "-m", "gaitkiosk", "run", "--simulate", "--headless",
                             "--data-dir", str(tmp_path / "data"), "--seconds", "60", "--countdown", "0.3"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=30)
    return err.decode(errors="replace")[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("part", ["analysis", "reader", "ui"])
def test_watchdog_is_fed_while_all_parts_run_and_stops_while_one_hangs(tmp_path, notify, part):
    trigger = tmp_path / "stall-now"
    proc = _kiosk(tmp_path, notify.path, stall=f"{part}:{trigger}")
    try:
        assert wait_until(lambda: notify.count("READY") == 1 or proc.poll() is not None, timeout=120), \
            "no READY=1 from the kiosk"
        assert proc.poll() is None, _stop(proc)
        ready_status = notify.statuses()[0]
        assert ready_status.startswith(f"gaitkiosk {__version__}: ready"), ready_status
        # Fed while everything runs: several pings, and the health mark the updater waits for.
        assert wait_until(lambda: notify.count("WATCHDOG") >= 7, timeout=60), notify.got
        assert wait_until(lambda: (tmp_path / "run" / "healthy").exists(), timeout=10)
        assert (tmp_path / "run" / "healthy").read_text().strip() == __version__

        trigger.touch()  # the part's thread now blocks for real
        name = "reader" if part == "reader" else part
        assert wait_until(lambda: any("stalled" in s and name in s for s in notify.statuses()), timeout=30), \
            notify.statuses()
        stalled_at = time.monotonic()
        # Three ping intervals with the part still hung: not one WATCHDOG=1 may come.
        time.sleep(WATCHDOG_S)
        assert notify.count("WATCHDOG", since=stalled_at) == 0, notify.statuses()
        assert proc.poll() is None  # the process lives on: only systemd's watchdog would end it

        trigger.unlink()  # the part runs again: so does the watchdog
        resumed = time.monotonic()
        assert wait_until(lambda: notify.count("WATCHDOG", since=resumed) >= 2, timeout=30), notify.statuses()
        assert "running" in notify.statuses()[-1]
    finally:
        _stop(proc)


def test_notifier_sends_datagrams_and_is_silent_without_a_socket(tmp_path, notify, monkeypatch):
    n = Notifier(str(notify.path))
    assert n.send(READY=1, STATUS="up")
    assert wait_until(lambda: notify.count("READY") == 1)
    assert notify.got[0][1] == {"READY": "1", "STATUS": "up"}
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not Notifier().enabled and Notifier().send(READY=1) is False
    # A socket that went away (systemd stopping): counted, never raised.
    gone = Notifier(str(tmp_path / "nobody.sock"))
    assert gone.send(WATCHDOG=1) is False and gone.failures == 1


def test_abstract_socket_address(notify):
    name = f"gaitkiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        assert Notifier("@" + name).send(WATCHDOG=1)
        assert sock.recv(100) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_watchdog_interval_from_the_environment():
    pid = str(os.getpid())
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": pid}) == 30.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None  # another process's
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "nonsense"}) is None
