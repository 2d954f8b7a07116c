"""The store's front door: one object holding the connection and every repository.

    from store import open_store
    st = open_store(data_dir)              # refuses foreign/corrupt/newer files, migrates
    session = st.sessions.start(patient.id, user_id=therapist.id)
    trial = st.trials.start(session.id, "quiet_stance", {"duration_s": 30}, calibration_ids)
    writer = st.recording_writer(session.id, trial_id=trial.id).start()
    ... reader threads call writer.put(raw_frame) ...
    writer.stop(); st.trials.finish(trial.id, results=..., report=report)
    st.sessions.finish(session.id)

Opening recovers sessions a dead process left open (marks them incomplete).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gaitkiosk.errors import ConfigError
from store import codec
from store import db as dbmod
from store.audit import Audit
from store.calibrations import Calibrations
from store.devices import Devices
from store.errors import CorruptDatabaseError, DiskFullError, StoreError
from store.locks import SessionLock
from store.outbox import Outbox
from store.patients import Patients
from store.programs import Programs
from store.recordings import Recordings
from store.retention import MB, check_free_space
from store.sessions import Sessions
from store.trials import Trials
from store.users import Users
from store.writer import RecordingWriter

log = logging.getLogger(__name__)

KIOSK_LOCK = "kiosk"  # held by the running kiosk app; `db restore` refuses while it is


def store_settings(config: dict[str, Any] | None) -> dict[str, Any]:
    """The [store] config table (defaults when the config predates it)."""
    defaults = {"chunk_s": 1.0, "codec": "auto", "writer_queue_frames": 9000,
                "min_free_mb": 500, "max_db_mb": 0, "prune_after_days": 90.0}  # mirrors gaitkiosk.config DEFAULTS["store"]
    return {**defaults, **((config or {}).get("store") or {})}


class Store:
    def __init__(self, path: str | Path, *, settings: dict[str, Any] | None = None, create: bool = True,
                 kiosk: bool = False):
        self.path = Path(path)
        self.settings = store_settings({"store": settings or {}})
        if self.settings["codec"] not in (*codec.METHOD_IDS, codec.AUTO):
            raise ConfigError(f"config key 'store.codec' is {self.settings['codec']!r}; use one of: "
                              f"{', '.join((codec.AUTO, *codec.METHOD_IDS))}")
        max_bytes = int(self.settings["max_db_mb"] * MB) or None
        self.lock_dir = dbmod.lock_dir(self.path)
        if dbmod.exists(self.path):
            dbmod.check_writable(self.path)  # read-only card or permissions: said plainly, before any lock
        self._kiosk_lock = None
        if kiosk:
            self._kiosk_lock = SessionLock(self.lock_dir, KIOSK_LOCK)
            if not self._kiosk_lock.acquire():
                raise StoreError(f"another kiosk process already runs on {self.path}; stop it first")
        try:
            # The kiosk checks the file's tables before its first write (a damaged file is refused,
            # never used); the CLI's readers rely on SQLite's own checks as they read.
            self.db = dbmod.connect(self.path, create=create, max_bytes=max_bytes, check=kiosk)
        except BaseException:
            if self._kiosk_lock:
                self._kiosk_lock.release()
            raise
        self.patients = Patients(self.db)
        self.users = Users(self.db)
        self.programs = Programs(self.db)
        self.sessions = Sessions(self.db, self.lock_dir)
        self.trials = Trials(self.db)
        self.recordings = Recordings(self.db)
        self.calibrations = Calibrations(self.db)
        self.devices = Devices(self.db)
        self.audit = Audit(self.db)
        self.outbox = Outbox(self.db)
        self.warnings: list[str] = []
        try:
            self.recovered = self.sessions.recover_interrupted()
        except DiskFullError as exc:
            # Still open for viewing, exporting and pruning; flagging waits for free space.
            self.recovered = []
            self.warnings.append(f"interrupted sessions not yet flagged: {exc}")
            log.warning("%s", self.warnings[-1])
        if self.recovered:
            # A cut happened: look at the file before trusting it with new sessions.
            problems = self.quick_check()
            if problems:
                self.close()
                raise CorruptDatabaseError(
                    f"{self.path} failed its check after an interrupted session ({problems[0]}); "
                    f"it was left unchanged. {dbmod.RESTORE_HINT}")
            self.audit.log("session.recovered", details={"sessions": self.recovered})

    def quick_check(self) -> list[str]:
        found = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if found == ["ok"] else found

    def recording_writer(self, session_id: str, **kwargs) -> RecordingWriter:
        """A writer configured from [store]; keyword arguments override."""
        s = self.settings
        options = dict(chunk_s=s["chunk_s"], method=s["codec"], queue_frames=s["writer_queue_frames"],
                       min_free_bytes=int(s["min_free_mb"] * MB), max_db_bytes=int(s["max_db_mb"] * MB) or None)
        options.update(kwargs)
        return RecordingWriter(self.path, session_id, **options)

    def check_can_record(self) -> int:
        """Raise LowDiskError when a new recording must not start; return bytes left."""
        return check_free_space(self.path.parent, int(self.settings["min_free_mb"] * MB), db=self.db)

    def close(self) -> None:
        self.db.close()
        if self._kiosk_lock:
            self._kiosk_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(data_dir_or_file: str | Path, **kwargs) -> Store:
    """Open the store in a data directory (or at an explicit ``.db`` file)."""
    p = Path(data_dir_or_file)
    path = p if p.suffix == ".db" else dbmod.database_path(p)
    return Store(path, **kwargs)
