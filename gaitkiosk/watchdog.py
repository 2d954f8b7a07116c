"""Feeds systemd's watchdog only while every part of the kiosk is alive.

systemd (deploy/gaitkiosk.service: ``Type=notify``, ``WatchdogSec=``) starts the
kiosk, waits for ``READY=1`` and restarts it when ``WATCHDOG=1`` stops coming.
A process that is alive but whose analysis thread hangs is as broken for a
patient as a dead one, so ``WATCHDOG=1`` is sent only while each part shows a
recent turn of its loop (its heartbeat):

* every sensor reader thread (``DeviceReader.heartbeat``),
* the analysis thread and the worker thread (``Runtime.beat``),
* the UI loop (``App.heartbeat``, called after each step),
* the running trial's recording writer (``RecordingWriter.heartbeat``), while one runs.

A part is stalled when its heartbeat is older than ``stall_s``; the kiosk then
stops feeding the watchdog and says which part in ``STATUS=`` (``systemctl
status gaitkiosk`` shows it), and systemd kills and restarts it ``WatchdogSec``
later. A sensor that is unplugged is not a stall: its reader keeps turning
while it waits to reconnect (the screen says what is wrong, a restart would not help).

``READY=1`` is sent when the UI loop has drawn its first screen (the attract
screen). After the kiosk has fed the watchdog ``HEALTHY_PINGS`` times in a row it writes
the version it runs to ``health_file``: the updater's health check after a
restart (gaitkiosk/update/).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from gaitkiosk.sdnotify import Notifier, watchdog_interval_s

log = logging.getLogger(__name__)

MIN_STALL_S = 3.0  # never call a part stalled sooner: scheduling hiccups on a loaded 2-core Pi
HEALTHY_PINGS = 6  # fed this many times in a row (2 x WatchdogSec): the running version is healthy (updater)
# The health mark goes to systemd's RuntimeDirectory (/run/gaitkiosk, tmpfs: a reboot or a stop
# removes it, so a stale mark cannot vouch for a version that no longer runs).
HEALTH_NAME = "healthy"


class Watchdog:
    """``start()`` after the runtime has started; ``ready()`` from the UI's first step; ``stop()`` at the end."""

    def __init__(self, runtime, notifier: Notifier, *, watchdog_s: float | None, version: str,
                 health_file: str | Path | None = None, clock=time.monotonic):
        self.rt = runtime
        self.notifier = notifier
        self.watchdog_s = watchdog_s
        # Ping three times per WatchdogSec; a part is stalled after half of it (at least MIN_STALL_S),
        # so a hang is noticed and the restart comes within about 1.5 x WatchdogSec.
        self.interval_s = watchdog_s / 3 if watchdog_s else 1.0
        self.stall_s = max(MIN_STALL_S, watchdog_s / 2) if watchdog_s else MIN_STALL_S
        self.version = version
        self.health_file = Path(health_file) if health_file else None
        self.clock = clock
        self.ready_at: float | None = None
        self.fed = 0
        self.in_a_row = 0
        self.status = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy_written = False

    @classmethod
    def from_environ(cls, runtime, version: str) -> Watchdog:
        run_dir = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
        return cls(runtime, Notifier(), watchdog_s=watchdog_interval_s(), version=version,
                   health_file=Path(run_dir) / HEALTH_NAME if run_dir else None)

    def start(self) -> Watchdog:
        if self.notifier.enabled:
            self._thread = threading.Thread(target=self._loop, name="kiosk-watchdog", daemon=True)
            self._thread.start()
        return self

    def ready(self) -> None:
        """The first screen is up: tell systemd the service has started (once)."""
        if self.ready_at is not None:
            return
        self.ready_at = self.clock()
        phases = startup_phases(self.rt.startup)
        took = ""
        if phases:
            took = f" in {phases['total_s']:.1f} s (" + ", ".join(
                f"{name} {phases[name + '_s']:.2f} s" for name in PHASES if phases.get(name + "_s") is not None) + ")"
        self._status(f"gaitkiosk {self.version}: ready{took}, {self._sensors_line()}")
        self.notifier.send(READY=1, STATUS=self.status)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self.notifier.send(STOPPING=1, STATUS=f"gaitkiosk {self.version}: closing")
        self.notifier.close()

    # -- the check ---------------------------------------------------------------------------
    def stalled(self, now: float | None = None) -> list[str]:
        """The parts whose heartbeat is older than ``stall_s``, each as 'name (N s)'."""
        mono = time.monotonic() if now is None else now
        late = []
        beats = dict(self.rt.beats)
        for part in ("analysis", "worker", "ui"):
            t = beats.get(part)
            if t is None or mono - t > self.stall_s:
                late.append(f"{part} ({_age(mono, t)})")
        for reader in list(self.rt.sensors.readers):
            allow = self.stall_s + float(getattr(reader, "reconnect_interval_s", 0.0))
            if mono - reader.heartbeat > allow:
                late.append(f"reader {reader.name} ({_age(mono, reader.heartbeat)})")
        visit = self.rt.visit
        writer = getattr(visit, "writer", None) if visit is not None else None
        if writer is not None and writer.running and mono - writer.heartbeat > self.stall_s:
            late.append(f"recording writer ({_age(mono, writer.heartbeat)})")
        return late

    def tick(self) -> bool:
        """One check: WATCHDOG=1 when every part is alive (True), else a STATUS naming the stalled ones."""
        if self.ready_at is None:
            return False
        late = self.stalled()
        if late:
            changed = self._status(f"gaitkiosk {self.version}: NOT feeding the watchdog, stalled: {', '.join(late)}")
            self.in_a_row = 0
            if changed:
                log.error("%s", self.status)
                self.notifier.send(STATUS=self.status)
            return False
        changed = self._status(f"gaitkiosk {self.version}: running, {self._sensors_line()}")
        fields = {"WATCHDOG": 1}
        if changed:
            fields["STATUS"] = self.status
        self.notifier.send(**fields)
        self.fed += 1
        self.in_a_row += 1
        if not self._healthy_written and self.in_a_row >= HEALTHY_PINGS:
            self._write_health()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bug here must not feed a watchdog it cannot check
                log.exception("watchdog check failed")

    def _status(self, text: str) -> bool:
        changed = text != self.status
        self.status = text
        return changed

    def _sensors_line(self) -> str:
        readers = list(self.rt.sensors.readers)
        problem = self.rt.device_problem
        return f"{len(readers)} sensor(s)" + (f"; {problem}" if problem else "")

    def _write_health(self) -> None:
        self._healthy_written = True
        if self.health_file is None:
            return
        try:
            self.health_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.health_file.with_name(self.health_file.name + ".tmp")
            tmp.write_text(f"{self.version}\n")
            tmp.replace(self.health_file)
        except OSError as exc:
            log.warning("could not write the health mark %s: %s", self.health_file, exc)


# Start-up phases, each ending at the stamp of the same name in Runtime.startup:
# start (the interpreter and the CLI until the display opened and the attract screen was built:
# mostly imports), worker (the runtime's threads started), database (the store opened, migrated and
# checked), sensors (the readers opened, zeroed, identified), first_screen (the UI's first step).
PHASES = ("start", "worker", "database", "sensors", "first_screen")


def process_age_s() -> float | None:
    """Seconds since this process was started (Linux /proc; 10 ms steps), None elsewhere."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def startup_phases(stamps: dict) -> dict:
    """{'start_s', 'worker_s', ..., 'total_s'} from the Runtime.startup stamps ({} if incomplete)."""
    if any(k not in stamps for k in ("display", "database", "sensors", "first_screen")):
        return {}
    age = process_age_s()
    now = time.monotonic()
    t0 = now - age if age is not None else stamps["display"]
    ends = {"start": stamps["display"], "worker": stamps.get("worker", stamps["display"]),
            "database": stamps["database"], "sensors": stamps["sensors"], "first_screen": stamps["first_screen"]}
    out, prev = {}, t0
    for name in PHASES:
        end = max(ends[name], prev)
        out[name + "_s"] = end - prev
        prev = end
    out["total_s"] = prev - t0
    return out


def _age(now: float, t: float | None) -> str:
    return "no heartbeat yet" if t is None else f"silent {now - t:.1f} s"
