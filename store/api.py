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

import contextlib
import logging
from pathlib import Path
from typing import Any

from gaitkiosk.errors import ConfigError
from store import codec_methods as codec
from store import db as dbmod
from store.audit import Audit
from store.calibrations import Calibrations
from store.devices import Devices
from store.errors import CorruptDatabaseError, DiskFullError, LowDiskError, StoreError
from store.locks import SessionLock
from store.outbox import Outbox
from store.patients import Patients
from store.programs import Programs
from store.recordings import Recordings
from store.reserve import Reserve
from store.retention import MB, check_free_space, fs_free_bytes, reusable_bytes
from store.sessions import Sessions
from store.trials import Trials
from store.users import Users

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
        self.max_bytes = max_bytes
        self.reserve = Reserve(self.path)
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
        if kiosk:
            self.reserve.ensure()

    @contextlib.contextmanager
    def emergency(self):
        """Room for the few closing writes of a visit when storage ran out (store/reserve.py).

        Releases the ballast file and lifts this connection's ``max_db_mb`` cap by
        the reserve's size for the duration; the cap is set back afterwards.
        """
        self.reserve.release()
        cap = None
        if self.max_bytes:
            cap = self.db.execute("PRAGMA max_page_count").fetchone()[0]
            page = self.db.execute("PRAGMA page_size").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {cap + self.reserve.nbytes // page}")
        try:
            yield self
        finally:
            if cap is not None:
                self.db.execute(f"PRAGMA max_page_count = {cap}")

    def quick_check(self) -> list[str]:
        found = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if found == ["ok"] else found

    def recording_writer(self, session_id: str, **kwargs):
        """A writer configured from [store]; keyword arguments override."""
        # numpy and the codec: imported here, not by a command that only lists.
        from store.writer import RecordingWriter

        s = self.settings
        options = dict(chunk_s=s["chunk_s"], method=s["codec"], queue_frames=s["writer_queue_frames"],
                       min_free_bytes=int(s["min_free_mb"] * MB), max_db_bytes=int(s["max_db_mb"] * MB) or None)
        options.update(kwargs)
        return RecordingWriter(self.path, session_id, **options)

    def check_can_record(self) -> int:
        """Raise LowDiskError (or DiskFullError at the size cap) when a new visit or recording
        must not start; return bytes left. Makes the storage reserve again when space is back."""
        left = check_free_space(self.path.parent, int(self.settings["min_free_mb"] * MB), db=self.db)
        if self.max_bytes:
            page = self.db.execute("PRAGMA page_size").fetchone()[0]
            used = self.db.execute("PRAGMA page_count").fetchone()[0] * page - reusable_bytes(self.db)
            # At (or a breath from) the cap no visit starts; the emergency reserve is for closing one.
            if self.max_bytes - used < min(self.reserve.nbytes, self.max_bytes // 10):
                raise DiskFullError(
                    f"{self.path} has reached its size limit (store.max_db_mb = {self.settings['max_db_mb']:g}): "
                    "let the kiosk sync, then `gaitkiosk db prune`, or raise the limit")
        if not self.reserve.ensure():
            # No visit starts that the kiosk could not close: the reserve is the room for its last rows.
            raise LowDiskError(
                f"only {fs_free_bytes(self.path.parent) / MB:.1f} MB left for {self.path.parent}: not even room "
                f"for the {self.reserve.nbytes / MB:g} MB the kiosk keeps to close a visit. Let the kiosk sync, "
                "then prune synced recordings (`gaitkiosk db prune`), or free space")
        return left

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
