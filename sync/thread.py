"""The sync worker as a thread of the kiosk: started with it when the kiosk is enrolled, stopped with it.

Off when ``[sync] in_kiosk = false`` (the technician runs `gaitkiosk sync run` as its own
systemd unit instead, deploy/gaitkiosk-sync.service). If another worker already holds the
``sync`` lock the thread waits and tries again each ``poll_s``; it never stops the kiosk.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sync import enrolment
from sync.worker import BusyError, Worker, sync_settings

log = logging.getLogger(__name__)

STOP_WAIT_S = 10.0  # a PUT in flight ends within the client's timeout; the thread is a daemon anyway


class SyncThread:
    def __init__(self, data_dir: Path, config: dict | None, hold=None):
        self.data_dir = Path(data_dir)
        self.settings = sync_settings(config)
        # While hold() is true (a patient's exercise runs) the worker waits between requests.
        self.hold = hold if self.settings["hold_during_drills"] else None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._main, name="kiosk-sync", daemon=True)

    def _main(self) -> None:
        while not self.stop_event.is_set():
            try:
                with Worker(self.data_dir, self.settings, hold=self.hold) as worker:
                    worker.run(self.stop_event)
                return
            except BusyError as exc:
                log.info("sync thread: %s", exc)
            except Exception:  # noqa: BLE001 - sync must never take the kiosk down
                log.exception("sync thread failed; trying again")
            self.stop_event.wait(self.settings["poll_s"])

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(STOP_WAIT_S)


def start_if_enrolled(data_dir: Path, config: dict | None, hold=None) -> SyncThread | None:
    """A running sync thread, or None (not enrolled, or `[sync] in_kiosk = false`).

    ``hold``: a callable, true while the kiosk wants the CPU to itself (a drill runs)."""
    try:
        enrolled = enrolment.load(Path(data_dir)) is not None
    except Exception as exc:  # noqa: BLE001 - a broken sync.json is the status's to report, not a reason to stop
        log.error("sync: %s", exc)
        return None
    if not enrolled or not sync_settings(config)["in_kiosk"]:
        return None
    worker = SyncThread(data_dir, config, hold)
    worker.thread.start()
    return worker
