"""The kiosk fetches new releases from its sync server in the background; it never applies them.

A thread of the kiosk (started with the sync thread when the unit is enrolled, ``[sync]
fetch_releases``): at start and every ``[sync] release_check_s`` it asks the server which release
this clinic is offered and, when it is newer than the running version, downloads it (resumably,
under ``[sync] bandwidth_bytes_per_s``, waiting while a patient is in an exercise), checks its
signature with the unit's own keys and stages it (gaitkiosk/update/fetch.py). What it found goes
to ``releases/check.json`` for the diagnostics room.

Applying stays a technician's command (``sudo gaitkiosk update apply --server``): it stops the
kiosk, needs root for /opt/gaitkiosk, and a failed health check is better met by a person; the
kiosk (user gaitkiosk) could not switch versions anyway.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

from gaitkiosk.update import fetch

log = logging.getLogger(__name__)

HOLD_POLL_S = 0.25
STATE = "check.json"
DEFAULTS = {"fetch_releases": True, "release_check_s": 21600.0, "bandwidth_bytes_per_s": 0,
            "hold_during_drills": True, "timeout_s": 30.0}


def read_state(data_dir: Path) -> dict:
    """The last background check: checked_at, running, offered, result, staged, error ({} if none)."""
    try:
        doc = json.loads((fetch.stage_dir(data_dir) / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_state(data_dir: Path, doc: dict) -> None:
    d = fetch.stage_dir(data_dir)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = d / f".{STATE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, d / STATE)


class ReleaseFetcher:
    def __init__(self, data_dir: Path, config: dict | None, hold=None, root: Path = Path("/")):
        from gaitkiosk.update.layout import Layout

        self.data_dir = Path(data_dir)
        self.settings = {**DEFAULTS, **((config or {}).get("sync") or {})}
        self.hold = hold if self.settings["hold_during_drills"] else None
        self.layout = Layout(Path(root))
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._main, name="kiosk-release-fetch", daemon=True)
        self.held_s = 0.0

    def _main(self) -> None:
        while not self.stop_event.is_set():
            self.once()
            self.stop_event.wait(self.settings["release_check_s"])

    def once(self) -> dict:
        """One check (and download, when a newer release is offered); never raises."""
        from gaitkiosk import __version__
        from gaitkiosk.update.transaction import Service, Updater
        from sync.pacing import TokenBucket

        bucket = TokenBucket(self.settings["bandwidth_bytes_per_s"])
        updater = Updater(self.layout, service=Service(False), data_dir=self.data_dir, say=log.info)
        doc = {"checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "error": ""}

        def throttle(nbytes: int) -> None:
            self._wait_while_held()
            if self.stop_event.is_set() or not bucket.take(nbytes, self.stop_event):
                raise fetch.UpdateError("stopped with the kiosk; the download continues at the next start")

        try:
            self._wait_while_held()
            with fetch.client(self.data_dir, updater.current() or __version__,
                              timeout=self.settings["timeout_s"]) as http:
                done = fetch.fetch(updater, self.data_dir, http, throttle=throttle)
            doc.update(running=done["running"], offered=done["offered"], result=done["result"])
            if done["result"] != "up to date":
                log.info("update: release %s is staged; a technician applies it with "
                         "`sudo gaitkiosk update apply --server`", done["offered"])
        except Exception as exc:  # noqa: BLE001 - a failed check must never stop the kiosk
            doc.update(result="failed", error=str(exc) or type(exc).__name__)
            log.warning("update: the release check failed: %s", doc["error"])
        staged = fetch.staged(self.data_dir)
        doc["staged"] = staged.name[len("gaitkiosk-"):-len(".tar")] if staged else None
        try:
            _write_state(self.data_dir, doc)
        except OSError as exc:
            log.warning("update: cannot write the release check's state: %s", exc)
        return doc

    def _wait_while_held(self) -> None:
        import time

        if self.hold is None:
            return
        started = time.monotonic()
        while self.hold() and not self.stop_event.wait(HOLD_POLL_S):
            pass
        self.held_s += time.monotonic() - started

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(10.0)


def start_if_enrolled(data_dir: Path, config: dict | None, hold=None) -> ReleaseFetcher | None:
    """The running fetcher, or None (not enrolled, or ``[sync] fetch_releases = false``)."""
    from sync import enrolment

    settings = {**DEFAULTS, **((config or {}).get("sync") or {})}
    try:
        enrolled = enrolment.load(Path(data_dir)) is not None
    except Exception:  # noqa: BLE001 - the sync thread and the status report a broken sync.json
        return None
    if not enrolled or not settings["fetch_releases"]:
        return None
    fetcher = ReleaseFetcher(data_dir, config, hold)
    fetcher.thread.start()
    return fetcher
