"""systemd's notify protocol: one datagram of ``KEY=value`` lines to ``$NOTIFY_SOCKET``.

Written here rather than taken from the ``sdnotify`` package: the protocol is a
unix datagram socket and a few lines of text (sd_notify(3)), the package adds
nothing but a dependency, and this one also handles the abstract-namespace
address (``@...``) that systemd itself uses. Without ``$NOTIFY_SOCKET`` (the
kiosk not started by systemd, a test, a demo) every call is a silent no-op.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class Notifier:
    """Sends to the socket named by ``$NOTIFY_SOCKET`` when the object was made (or ``address``)."""

    def __init__(self, address: str | None = None):
        address = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self.address = None
        if address:
            # "@name" is Linux's abstract namespace: a leading NUL byte on the wire.
            self.address = "\0" + address[1:] if address.startswith("@") else address
        self._sock: socket.socket | None = None
        self.failures = 0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """``send(READY=1, STATUS="...")``: one datagram. False when not sent (no socket, or an error)."""
        if self.address is None:
            return False
        text = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(text.encode("utf-8", "replace"), self.address)
            return True
        except OSError as exc:
            # systemd gone (shutdown) or the socket full: the kiosk keeps running; counted, logged once.
            self.failures += 1
            if self.failures == 1:
                log.warning("sd_notify to %r failed: %s", os.environ.get("NOTIFY_SOCKET"), exc)
            return False

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval_s(environ=os.environ) -> float | None:
    """systemd's WatchdogSec for this process in seconds, or None (not set, or meant for another PID)."""
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.strip() != str(os.getpid())):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1e6 if value > 0 else None
