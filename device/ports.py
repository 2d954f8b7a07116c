"""Finding the sensors: serial ports by USB VID/PID and serial number.

A unit's mat controller and insole boards are USB serial devices. Which
``/dev/ttyACM*`` each gets depends on the order they were plugged in, so the
kiosk never trusts a path on its own: it matches ports by the USB vendor and
product ids listed in the config (``devices.usb_ids``) and recognises each
device by its USB serial number. ``deploy/99-gaitkiosk.rules`` turns those
serial numbers into stable names (``/dev/gaitkiosk/mat`` ...), and a reader
that loses its port looks it up again here by serial number
(:func:`find_port`), so a sensor re-plugged into another socket is found.

The listing function is injectable (``comports=``) so tests can hand over
real :class:`serial.tools.list_ports_common.ListPortInfo` objects describing
USB devices this machine does not have.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from serial.tools import list_ports

from device.errors import DeviceError

Comports = Callable[[], Iterable[object]]


def system_comports() -> Iterable[object]:
    # Looked up at call time, so a test can hand over USB descriptions of its own.
    return list_ports.comports()

STABLE_DIR = "/dev/gaitkiosk"


class UsbIdError(DeviceError, ValueError):
    """A ``devices.usb_ids`` entry is not ``VVVV:PPPP`` in hex."""


@dataclass(frozen=True)
class SensorPort:
    """One serial port that looks like a gaitkiosk sensor."""

    device: str  # the port path, e.g. /dev/ttyACM0
    vid: int
    pid: int
    serial_number: str  # USB iSerial; "" when the device has none
    description: str = ""
    manufacturer: str = ""
    location: str = ""  # USB bus path, e.g. 1-1.3:1.0
    stable_names: tuple[str, ...] = ()  # /dev/gaitkiosk/* links pointing at it

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["usb_id"] = self.usb_id
        d["stable_names"] = list(self.stable_names)
        return d


def parse_usb_ids(entries: Iterable[str]) -> set[tuple[int, int]]:
    """``["2e8a:000a", ...]`` -> ``{(0x2e8a, 0x000a), ...}``; a clear error for a bad entry."""
    ids = set()
    for entry in entries:
        vid, sep, pid = str(entry).strip().partition(":")
        try:
            if not sep:
                raise ValueError
            ids.add((int(vid, 16), int(pid, 16)))
        except ValueError:
            raise UsbIdError(
                f"devices.usb_ids entry {entry!r} is not VID:PID in hex (e.g. '2e8a:000a'); "
                "`lsusb` shows the ids of an attached sensor"
            ) from None
    return ids


def _stable_links(stable_dir: str) -> dict[str, list[str]]:
    """Map a real port path to the udev stable names that point at it."""
    links: dict[str, list[str]] = {}
    try:
        names = sorted(os.listdir(stable_dir))
    except OSError:
        return links
    for name in names:
        path = os.path.join(stable_dir, name)
        if os.path.islink(path):
            links.setdefault(os.path.realpath(path), []).append(path)
    return links


def list_sensor_ports(
    usb_ids: Iterable[str],
    *,
    comports: Comports = system_comports,
    stable_dir: str = STABLE_DIR,
) -> list[SensorPort]:
    """Every attached serial port whose USB VID:PID is in ``usb_ids``, sorted by path."""
    wanted = parse_usb_ids(usb_ids)
    links = _stable_links(stable_dir)
    found = []
    for info in comports():
        vid, pid = getattr(info, "vid", None), getattr(info, "pid", None)
        if vid is None or pid is None or (vid, pid) not in wanted:
            continue
        device = info.device
        found.append(
            SensorPort(
                device=device,
                vid=vid,
                pid=pid,
                serial_number=info.serial_number or "",
                description=info.description if info.description not in (None, "n/a") else "",
                manufacturer=info.manufacturer or "",
                location=info.location or "",
                stable_names=tuple(links.get(os.path.realpath(device), ())),
            )
        )
    return sorted(found, key=lambda p: p.device)


def find_port(
    serial_number: str,
    usb_ids: Iterable[str],
    *,
    comports: Comports = system_comports,
) -> str | None:
    """The current path of the sensor with this USB serial number, or None if it is not attached."""
    if not serial_number:
        return None
    for port in list_sensor_ports(usb_ids, comports=comports, stable_dir="/nonexistent"):
        if port.serial_number == serial_number:
            return port.device
    return None


def is_local_path(url: str) -> bool:
    """True for a plain device path (``/dev/ttyACM0``), False for ``scheme://`` URLs."""
    return "://" not in url


def udev_rule(kind: str, port: SensorPort, name: str | None = None) -> str:
    """The udev line that names this sensor ``/dev/gaitkiosk/<kind>`` (see deploy/99-gaitkiosk.rules).

    ``name`` overrides the link's name: the tiles of a walkway are ``mat-1``, ``mat-2`` ...
    """
    name = name or {"mat": "mat", "insole_left": "insole-left", "insole_right": "insole-right"}.get(kind, kind)
    return (
        f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{port.vid:04x}", ATTRS{{idProduct}}=="{port.pid:04x}", '
        f'ATTRS{{serial}}=="{port.serial_number}", SYMLINK+="gaitkiosk/{name}"'
    )
