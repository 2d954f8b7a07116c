"""Virtual devices behind pseudo-terminals: real serial ports any program can open.

``gaitkiosk simulate --pty`` (or ``python -m device.pty``) starts the virtual
mat and insoles, each behind its own pseudo-terminal, prints the ports'
paths, and serves them until interrupted (or for ``--seconds``)::

    $ gaitkiosk simulate --pty
    mat           /dev/pts/4   sim-mat-pty
    insole_left   /dev/pts/5   sim-insole-left-pty
    insole_right  /dev/pts/6   sim-insole-right-pty

    $ gaitkiosk record /dev/pts/4 /dev/pts/5 /dev/pts/6 --seconds 10 --out rec.npz

The bytes on those ports are exactly what the firmware sends (the device side
is :class:`~device.virtual.VirtualDevice`), so this is also how the reader is
tested and benchmarked through the kernel's real tty layer. ``--link-dir DIR``
adds stable names ``DIR/mat``, ``DIR/insole-left``, ``DIR/insole-right`` the
way udev's ``/dev/gaitkiosk/*`` links do on a unit.

:class:`PtyServer` is the same thing as an object, for tests: it can pull a
device's cable (:meth:`~PtyServer.unplug`: the pty closes, the reader sees its
port vanish) and plug it back on a NEW pty, swap in another device
(:meth:`~PtyServer.swap`), freeze a device (it stops answering but its port
stays), and inject raw bytes onto a line. A port may also serve a
:class:`~device.controller.VirtualController`: several boards on one line.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import select
import sys
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.virtual import VirtualDevice

log = logging.getLogger(__name__)

MAX_PENDING = 256 * 1024  # bytes a device holds for a port nobody reads, then drops new packets whole
TICK_S = 0.02  # longest sleep of the serving loop


@dataclass
class PtyPort:
    """One virtual device and the pseudo-terminal in front of it."""

    name: str  # mat, insole_left, insole_right
    device: VirtualDevice
    link: Path | None = None
    master: int = -1
    slave: int = -1
    path: str = ""
    frozen: bool = False
    pending: bytearray = field(default_factory=bytearray)
    overflow_bytes: int = 0
    generation: int = 0  # how many times it was plugged in

    @property
    def open(self) -> bool:
        return self.master >= 0

    def plug(self) -> str:
        """A new pseudo-terminal (a new path, as after a re-plug) and a freshly powered device."""
        master, slave = os.openpty()
        # Raw from the start: no echo, no CR/LF translation, before any reader opens it.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.master, self.slave, self.path = master, slave, os.ttyname(slave)
        self.pending.clear()
        self.device.plug()
        self.generation += 1
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.path)
            os.replace(tmp, self.link)  # atomic, as udev does it
        return self.path

    def unplug(self) -> None:
        """Close the pty: a reader gets EIO, and the path disappears."""
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        self.device.unplug()
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
        self.pending.clear()

    def pump(self, now: float) -> None:
        """Move the device's due bytes to the pty, and the host's bytes to the device."""
        if not self.open:
            return
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            data = b""
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: nobody has the port open right now
                raise
            data = b""
        if data and not self.frozen:
            self.device.write(data)
        if self.frozen:
            return
        data = self.device.read_available(now)
        # The device and its USB path hold what its frames of backlog_s come to (a 64 x 64 tile at
        # 200 Hz sends 1.2 MB/s: 256 kB was 0.2 s, less than a busy host's scheduling hiccup).
        limit = max(MAX_PENDING, _backlog_bytes(self.device))
        if len(self.pending) + len(data) > limit:
            # Nobody reads this port (fast enough): the device's USB buffer is full, and like a
            # real one it loses the packets it made now, whole. Cutting bytes out of the middle
            # of what waits (as before) cut a packet in two at every write once the port fell
            # behind: a storm of CRC failures, "no data", failed handshakes, instead of a count
            # of lost frames (seq gaps) the reader reports.
            self.overflow_bytes += len(data)
            data = b""
        self.pending += data
        self.flush()

    def inject(self, data: bytes) -> None:
        """Raw bytes onto the line (garbage, truncated packets ...), in order with the device's."""
        self.pending += data
        self.flush()

    def flush(self) -> None:
        while self.pending:
            try:
                n = os.write(self.master, self.pending)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                break
            del self.pending[:n]


def _backlog_bytes(device) -> float:
    """What a device's frames of its backlog time come to (a controller: its boards together)."""
    boards = getattr(device, "boards", None) or [device]
    return sum(b.bytes_per_s() * b.backlog_s for b in boards if hasattr(b, "bytes_per_s"))


class PtyServer:
    """Serve virtual devices on pseudo-terminals from one thread (or the caller's)."""

    def __init__(self, devices: dict[str, VirtualDevice], link_dir: str | os.PathLike | None = None):
        self.link_dir = Path(link_dir) if link_dir is not None else None
        if self.link_dir is not None:
            self.link_dir.mkdir(parents=True, exist_ok=True)
        self.ports = {
            name: PtyPort(name, dev, None if self.link_dir is None else self.link_dir / name.replace("_", "-"))
            for name, dev in devices.items()
        }
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread: threading.Thread | None = None
        for port in self.ports.values():
            port.plug()

    def paths(self) -> dict[str, str]:
        return {name: p.path for name, p in self.ports.items()}

    def links(self) -> dict[str, str]:
        return {name: str(p.link) for name, p in self.ports.items() if p.link is not None}

    # -- control (any thread) ---------------------------------------------------------------

    def unplug(self, name: str) -> None:
        with self._lock:
            self.ports[name].unplug()
        self._wake()

    def plug(self, name: str) -> str:
        with self._lock:
            path = self.ports[name].plug()
        self._wake()
        return path

    def swap(self, name: str, device: VirtualDevice, replug: bool = False) -> str:
        """Put another device where ``name``'s is; returns the port's path.

        Default: on the same open port, as when a board is changed behind a
        controller or on a UART (the new one powers up and says HELLO). With
        ``replug``: the old one is unplugged and the new one plugged in its
        place, on a new pty under the same link name (a USB sensor swapped).
        """
        with self._lock:
            port = self.ports[name]
            if replug:
                port.unplug()
                port.device = device
                path = port.plug()
            else:
                port.device.unplug()
                port.device = device
                device.plug()
                path = port.path
        self._wake()
        return path

    def freeze(self, name: str, frozen: bool = True) -> None:
        """A hung device: nothing more comes out and commands go unanswered; the port stays."""
        with self._lock:
            self.ports[name].frozen = frozen
        self._wake()

    def inject(self, name: str, data: bytes) -> None:
        with self._lock:
            self.ports[name].inject(data)
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass

    # -- serving -------------------------------------------------------------------------------

    def serve(self, seconds: float | None = None) -> None:
        """Serve in this thread until :meth:`stop` or ``seconds`` have passed."""
        end = None if seconds is None else time.monotonic() + seconds
        while not self._stop.is_set():
            now = time.monotonic()
            if end is not None and now >= end:
                break
            with self._lock:
                readable = [self._wake_r]
                writable = []
                due = now + TICK_S
                for port in self.ports.values():
                    if not port.open:
                        continue
                    port.pump(now)
                    readable.append(port.master)
                    if port.pending:
                        writable.append(port.master)
                    if not port.frozen:
                        due = min(due, port.device.next_due())
            wait = max(0.0, due - time.monotonic())
            if end is not None:
                wait = min(wait, max(0.0, end - time.monotonic()))
            try:
                ready, _, _ = select.select(readable, writable, [], wait)
            except (OSError, ValueError):
                continue  # a port was unplugged while we waited
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)

    def start(self) -> PtyServer:
        self._thread = threading.Thread(target=self.serve, name="pty server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(2.0)
        with self._lock:
            for port in self.ports.values():
                if port.open:
                    port.unplug()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def summary(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "path": p.path, "serial": p.device.serial, "frames_sent": p.device.frames_sent,
                "commands": p.device.commands, "overflow_bytes": p.overflow_bytes,
            }
            for name, p in self.ports.items()
        }


# -- building the devices ----------------------------------------------------------------------


def patient_devices(patient, *, mat: bool = True, insoles: bool = True, tag: str = "pty",
                    jitter_s: float = 0.0, drop_rate: float = 0.0, corrupt_rate: float = 0.0,
                    seed: int = 1) -> dict[str, VirtualDevice]:
    """Virtual mat and insoles of one VirtualPatient (shared: one person on all of them)."""
    from device.framing import DeviceKind
    from device.handlers.protocol_sim import SharedPatient, SimSource

    shared = SharedPatient(patient, time.monotonic(), {}, "pty")
    wanted = []
    if mat:
        wanted.append(("mat", DeviceKind.MAT, None, "mat", patient.mat.rate_hz))
    if insoles:
        wanted.append(("insole_left", DeviceKind.INSOLE_LEFT, "left", "insole-left", patient.insoles.rate_hz))
        wanted.append(("insole_right", DeviceKind.INSOLE_RIGHT, "right", "insole-right", patient.insoles.rate_hz))
    devices = {}
    for index, (name, kind, side, label, rate) in enumerate(wanted):
        devices[name] = VirtualDevice(
            SimSource(shared, kind, side), serial=f"sim-{label}-{tag}", firmware="gaitkiosk-sim 1.0",
            rate_hz=rate, boot_clock_s=100.0 * (index + 1), drift_ppm=(-30.0, 20.0, 45.0)[index],
            jitter_s=jitter_s, drop_rate=drop_rate, corrupt_rate=corrupt_rate,
            battery_pct=None if kind == DeviceKind.MAT else 87, seed=seed * 4 + index, powered=False,
        )
    return devices


def serve(args, ctx) -> int:
    """``gaitkiosk simulate --pty``: the patient ``args`` describe, on pseudo-terminals."""
    from device.sim.build import build_patient
    from device.sim.errors import SimulationError

    if not getattr(args, "mat", True) and not getattr(args, "insoles", True):
        raise SimulationError("--no-mat and --no-insoles together leave nothing to serve")
    tiles = getattr(args, "tiles", None)
    if tiles:
        args = _walkway_args(args, tiles, ctx.config)
    patient = build_patient(args, ctx.config)
    faults = {"jitter_s": (getattr(args, "jitter_ms", None) or 0.0) / 1e3, "drop_rate": getattr(args, "drop", None) or 0.0,
              "corrupt_rate": getattr(args, "corrupt", None) or 0.0, "seed": patient.seed}
    if tiles:
        from device.tile_sim import walkway_devices

        devices = walkway_devices(patient, tiles, insoles=getattr(args, "insoles", True), **faults)
    else:
        devices = patient_devices(patient, mat=getattr(args, "mat", True), insoles=getattr(args, "insoles", True),
                                  **faults)
    server = PtyServer(devices, getattr(args, "link_dir", None))
    seconds = getattr(args, "seconds", None)
    paths = server.paths()
    data = {name: {"path": path, "serial": devices[name].serial, **({"link": server.links()[name]} if server.link_dir else {})}
            for name, path in paths.items()}
    lines = [f"{name:<13} {info['path']:<12} {info['serial']}" for name, info in data.items()]
    lines.append(f"serving {patient.scenario} (seed {patient.seed}) "
                 + (f"for {seconds:g} s" if seconds else "until Ctrl-C") + "; open these ports with any serial program")
    ctx.emit(data, "\n".join(lines))
    try:
        server.serve(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        summary = server.summary()
        server.stop()
    for name, info in summary.items():
        log.info("%s: %d frames sent, %d commands", name, info["frames_sent"], info["commands"])
    return 0


def _walkway_args(args, tiles: int, config: dict):
    """The options of a walkway of ``tiles`` mat tiles: the patient's mat is all of them end to end."""
    import argparse as _argparse

    from device.sim.errors import SimulationError

    if not getattr(args, "mat", True):
        raise SimulationError("--tiles serves mat tiles; leave out --no-mat")
    rows = args.rows if args.rows is not None else config["sim"]["mat_rows"]
    if rows * tiles > 256:
        raise SimulationError(f"--tiles {tiles} of {rows} rows is {rows * tiles} rows: the virtual walkway has at "
                              "most 256 (use fewer or shorter tiles, --rows)")
    return _argparse.Namespace(**{**vars(args), "rows": rows * tiles})


def main(argv: list[str] | None = None) -> int:
    """``python -m device.pty``: the same server without the gaitkiosk CLI, with fault options."""
    parser = argparse.ArgumentParser(prog="python -m device.pty", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="quiet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--link-dir", help="also create stable links DIR/mat, DIR/insole-left, DIR/insole-right")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="USB latency spread per packet")
    parser.add_argument("--drop", type=float, default=0.0, help="fraction of frames lost on the line")
    parser.add_argument("--corrupt", type=float, default=0.0, help="fraction of packets with a flipped bit")
    parser.add_argument("--no-mat", dest="mat", action="store_false")
    parser.add_argument("--no-insoles", dest="insoles", action="store_false")
    args = parser.parse_args(argv)
    from device.sim import VirtualPatient

    patient = VirtualPatient(scenario=args.scenario, seed=args.seed)
    devices = patient_devices(patient, mat=args.mat, insoles=args.insoles, jitter_s=args.jitter_ms / 1e3,
                              drop_rate=args.drop, corrupt_rate=args.corrupt, seed=args.seed)
    server = PtyServer(devices, args.link_dir)
    for name, path in server.paths().items():
        print(f"{name:<13} {path}", flush=True)
    try:
        server.serve(args.seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
