"""Per-session lock files: how a restart tells a dead session from a live one.

The process that runs a session holds an exclusive ``flock`` on
``<db>.locks/<session id>.lock``. The kernel drops the lock when that
process dies for any reason (kill -9, power cut), so at the next start a
session still marked open whose lock can be taken was interrupted, while one
whose lock is held belongs to a kiosk that is still running (a technician's
``gaitkiosk sessions list`` beside it must not flag it incomplete).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class SessionLock:
    """An exclusive, non-blocking lock held for the life of one session."""

    def __init__(self, directory: Path, session_id: str):
        self.path = Path(directory) / f"{session_id}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        if not self.path.parent.is_dir():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def is_held(directory: Path, session_id: str) -> bool:
    """True if some live process (this one included) holds the session's lock."""
    probe = SessionLock(directory, session_id)
    if not probe.path.exists():
        return False
    if probe.acquire():
        # Nobody held it: the owner is gone. Drop our probe (and the stale file).
        probe.release()
        return False
    return True
