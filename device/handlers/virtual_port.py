"""The pyserial port in front of a :class:`~device.virtual.VirtualDevice`.

``protocol_sim`` and ``protocol_replay`` subclass :class:`VirtualPort` and only
say which device to build from the URL (:meth:`make_device`). Everything a
reader sees is pyserial's own contract, as in pyserial's ``protocol_loop``:
``read(size)`` blocks until ``size`` bytes or the timeout, ``in_waiting``,
``write``, ``cancel_read``, ``close``. The device produces its bytes on the
host's monotonic clock, so a ``sim://`` port streams at real pace.

A virtual cable can be pulled: :func:`unplug` (by the device's serial number)
makes every open port of that device fail its next read like a real
disconnected port, and makes opening it fail until :func:`plug`.
"""

from __future__ import annotations

import math
import threading
import time
import urllib.parse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from device.virtual import VirtualDevice

_unplugged: set[str] = set()
_unplugged_lock = threading.Lock()


def unplug(serial_number: str) -> None:
    """Pull the virtual cable of the device with this serial number."""
    with _unplugged_lock:
        _unplugged.add(serial_number)


def plug(serial_number: str) -> None:
    """Plug it back: the next open powers the device up again."""
    with _unplugged_lock:
        _unplugged.discard(serial_number)


def is_unplugged(serial_number: str) -> bool:
    with _unplugged_lock:
        return serial_number in _unplugged


def parse_query(url: str, scheme: str) -> tuple[urllib.parse.SplitResult, dict[str, str]]:
    """Split ``scheme://where?k=v&...``; repeated or empty keys are refused."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != scheme:
        raise SerialException(f"expected a {scheme}:// URL, got {url!r}")
    params: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key in params:
            raise SerialException(f"{url}: option {key!r} given twice")
        params[key] = value
    return parts, params


class VirtualPort(SerialBase):
    """A serial port whose far end is a virtual device in this process."""

    scheme = "virtual"

    def __init__(self, *args, **kwargs):
        self.device: VirtualDevice | None = None
        self._buffer = bytearray()
        self._cond = threading.Condition()
        self._cancel = False
        super().__init__(*args, **kwargs)

    # -- subclasses ----------------------------------------------------------------------

    def make_device(self, url: str) -> VirtualDevice:
        raise NotImplementedError

    def release(self) -> None:
        """Give back shared resources (a shared patient) on close."""

    @property
    def exhausted(self) -> bool:
        """True when the device will never send anything again (a finished replay)."""
        d = self.device
        if d is None or not d.finished or not self.is_open:
            return False
        with self._cond:
            self._collect(time.monotonic())
            return not self._buffer

    # -- pyserial API ----------------------------------------------------------------------

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        try:
            self.device = self.make_device(self._port)
        except SerialException:
            raise
        except (ValueError, OSError) as exc:
            raise SerialException(f"could not open port {self._port}: {exc}") from None
        if is_unplugged(self.device.serial):
            self.release()
            raise SerialException(f"could not open port {self._port}: device {self.device.serial} is unplugged")
        self.is_open = True
        self._buffer.clear()

    def close(self) -> None:
        with self._cond:
            was_open = self.is_open
            self.is_open = False
            self._cond.notify_all()
        if was_open:
            self.release()
        super().close()

    def _reconfigure_port(self) -> None:
        pass  # baud rate, parity ... mean nothing to a virtual device

    def _check(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        if is_unplugged(self.device.serial):
            self.device.unplug()
            raise SerialException("device reports readiness to read but returned no data (device disconnected?)")

    def _collect(self, now: float) -> None:
        self._buffer += self.device.read_available(now)

    @property
    def in_waiting(self) -> int:
        with self._cond:
            self._check()
            self._collect(time.monotonic())
            return len(self._buffer)

    def read(self, size: int = 1) -> bytes:
        timeout = self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._cancel = False
            while True:
                self._check()
                now = time.monotonic()
                self._collect(now)
                if len(self._buffer) >= size or self._cancel or timeout == 0:
                    break
                if deadline is not None and now >= deadline:
                    break
                wait = self.device.next_due() - now
                if deadline is not None:
                    wait = min(wait, deadline - now)
                self._cond.wait(None if math.isinf(wait) else max(wait, 0.0))
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
            return out

    def write(self, data) -> int:
        with self._cond:
            self._check()
            data = bytes(data)
            self.device.write(data)
            self._cond.notify_all()  # an ACK may be waiting to be read
            return len(data)

    def cancel_read(self) -> None:
        with self._cond:
            self._cancel = True
            self._cond.notify_all()

    def cancel_write(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._check()
            self._collect(time.monotonic())
            self._buffer.clear()

    def reset_output_buffer(self) -> None:
        pass

    @property
    def out_waiting(self) -> int:
        return 0

    # Modem lines: a virtual device is always there.
    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True


def release_shared(registry: dict, lock: threading.Lock, key) -> None:
    """Drop one reference to ``registry[key]`` (anything with a ``refs`` count); forget it at zero.

    The sim:// patients and replay:// playbacks are shared by every port of one
    process that names them, and live as long as one of those ports is open.
    """
    if key is None:
        return
    with lock:
        entry = registry.get(key)
        if entry is not None:
            entry.refs -= 1
            if entry.refs <= 0:
                del registry[key]


def query_number(url: str, params: dict[str, str], key: str, default: float) -> float:
    """``params[key]`` of a port URL's query as a float (``default`` when absent), or a clear error."""
    if key not in params:
        return default
    try:
        value = float(params[key])
    except ValueError:
        raise SerialException(f"{url}: {key}={params[key]!r} is not a number") from None
    if not math.isfinite(value):  # 'inf' and 'nan' parse as floats, then break int() or never compare
        raise SerialException(f"{url}: {key}={params[key]!r} must be a finite number")
    return value
