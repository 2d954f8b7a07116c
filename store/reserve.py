"""Room to write a visit's final state when storage runs out.

When the disk fills (or the database reaches ``store.max_db_mb``) in the
middle of a visit, the kiosk still has to write a few small rows: the trial
and the session closed as incomplete, with the reason, and the audit entry.
Without room for them the session would stay "open" until someone freed
space, and a restart would call it a power cut.

Two limits can refuse a write, so there are two reserves:

* the ``max_db_mb`` cap is ``PRAGMA max_page_count`` on the kiosk's own
  connection: :meth:`Store.emergency` lifts it by :data:`RESERVE_BYTES` for
  the closing writes only;
* the disk itself: a ballast file ``gaitkiosk.db.reserve`` of
  :data:`RESERVE_BYTES` is kept beside the database while there is space.
  Deleting it gives SQLite room for the closing transactions (WAL frames).
  It is made again once space is back (at the next check-in).

The ballast is a separate file: the database file itself is never opened
outside SQLite (store/db.py explains why).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from store.retention import MB, fs_free_bytes

log = logging.getLogger(__name__)

RESERVE_BYTES = 4 * MB  # the closing rows of a visit take tens of kB; WAL frames are pages


class Reserve:
    def __init__(self, db_path: Path, nbytes: int | None = None,
                 disk_free: Callable[[Path], int] = fs_free_bytes):
        db_path = Path(db_path)
        self.path = db_path.with_name(db_path.name + ".reserve")
        self.nbytes = RESERVE_BYTES if nbytes is None else int(nbytes)
        self.disk_free = disk_free

    @property
    def held(self) -> bool:
        try:
            return self.path.stat().st_size >= self.nbytes
        except OSError:
            return False

    def ensure(self) -> bool:
        """Hold the ballast if there is room for it and as much again; True when held."""
        if self.held:
            return True
        try:
            if self.disk_free(self.path.parent) < 2 * self.nbytes:
                return False
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.nbytes)  # real blocks, not a sparse file
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        except OSError as exc:
            log.warning("cannot keep the storage reserve %s: %s", self.path, exc)
            self.path.unlink(missing_ok=True)
            return False

    def release(self) -> bool:
        """Give the ballast's space back to the disk; True if there was one."""
        try:
            self.path.unlink()
            log.warning("storage reserve %s released to close the visit", self.path)
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.error("cannot release the storage reserve %s: %s", self.path, exc)
            return False
