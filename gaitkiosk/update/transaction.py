"""Apply, roll back and recover an update: a transaction whose every step is journaled first.

``apply(bundle)``::

    check      signature, whole bundle, not older than what runs      (nothing changed yet)
    install    versions/X.Y.Z: venv + pip install from the bundle's wheels, offline; the complete
               mark written last (a venv cannot be renamed: its scripts name its path)  (current untouched)
    selftest   the new version's `gaitkiosk selftest` (imports, kernels, config, database readable)
    stop       the kiosk service (nothing is recorded after the backup below)
    backup     the database, before the new version can migrate it (store/backup.py)
    previous   previous -> the running version
    switch     current -> versions/X.Y.Z (a symlink renamed over the old one: atomic)
    start      the kiosk service
    health     the new kiosk feeds its watchdog (the health mark /run/gaitkiosk/healthy names X.Y.Z)
               within the timeout; else **rollback**
    commit     journal says done; versions beyond current and previous are removed

Each step's name is written (fsynced) to the journal before it is taken, so after a
power cut ``recover()`` knows where the update stood: before ``switch`` finished it
undoes the partial work (current still names the old version); after it, the new
version was never confirmed healthy, so it rolls back. At every moment ``current``
names a complete version: the old one or the new one, never neither.

Rollback: stop the kiosk, restore the pre-update database backup when the new version
may have migrated it (the database it wrote is kept aside, never deleted:
store.backup.restore), switch current back, start the kiosk.

Seams (the only things replaced in tests; docs/install.md):
``GAITKIOSK_SYSTEMCTL`` the program called instead of ``systemctl`` (the service
control and its health mark are off unless a service manager runs or ``--service``);
``GAITKIOSK_TEST_SITE`` a site-packages directory a new venv sees (a ``.pth``), with
pip's ``--no-deps``: tests install the real gaitkiosk wheel without downloading its
dependencies; ``GAITKIOSK_UPDATE_STOP_AT`` the step at which the updater stops and
waits (the power-cut test kills it there with SIGKILL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gaitkiosk.errors import KioskError
from gaitkiosk.update import bundle as bundlemod
from gaitkiosk.update import signing
from gaitkiosk.update.layout import COMPLETE, Layout, fsync_dir, switch_link

STEPS = ("check", "install", "selftest", "stop", "backup", "previous", "switch", "start", "health", "commit")
HEALTH_TIMEOUT_S = 180.0
SERVICE = "gaitkiosk.service"


class UpdateError(KioskError, RuntimeError):
    """An update or rollback that could not be done; the unit still runs a whole version."""


@dataclass
class Service:
    """The kiosk's systemd service, or nothing (``enabled=False``: a root prefix, a development machine)."""

    enabled: bool
    systemctl: str = field(default_factory=lambda: os.environ.get("GAITKIOSK_SYSTEMCTL", "systemctl"))

    @classmethod
    def detect(cls, layout: Layout, forced: bool | None = None) -> Service:
        if forced is not None:
            return cls(forced)
        return cls(layout.root == Path("/") and Path("/run/systemd/system").is_dir())

    def run(self, *args: str) -> None:
        if not self.enabled:
            return
        done = subprocess.run([self.systemctl, *args, SERVICE], capture_output=True, text=True)
        if done.returncode != 0:
            raise UpdateError(f"systemctl {' '.join(args)} {SERVICE} failed: {(done.stderr or done.stdout).strip()}")


class Updater:
    def __init__(self, layout: Layout, *, service: Service | None = None, data_dir: Path | None = None,
                 config_file: str | None = None, health_timeout_s: float = HEALTH_TIMEOUT_S, say=None):
        self.layout = layout
        self.service = service or Service.detect(layout)
        self.data_dir = Path(data_dir) if data_dir else layout.data_dir
        self.config_file = config_file
        self.health_timeout_s = health_timeout_s
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self._stop_at = os.environ.get("GAITKIOSK_UPDATE_STOP_AT", "")
        self._lock_fd: int | None = None

    @contextlib.contextmanager
    def _locked(self):
        """One updater at a time (an apply and the boot-time recovery, two technicians): an flock on
        update/lock, which a killed updater (or a power cut) releases by itself."""
        if self._lock_fd is not None:  # re-entered: apply() recovers first
            yield
            return
        path = self.layout.journal.with_name("lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UpdateError("another gaitkiosk update is running on this unit: wait for it to finish "
                              "(`gaitkiosk update status`)") from None
        self._lock_fd = fd
        try:
            yield
        finally:
            self._lock_fd = None
            os.close(fd)

    # -- what is installed ------------------------------------------------------------------
    def keys(self) -> list[signing.PublicKey]:
        d = self.layout.keys_dir
        found = [signing.load_public(p) for p in sorted(d.glob("*.pub"))] if d.is_dir() else []
        if not found:
            raise UpdateError(f"no trusted release key in {d}: install the clinic's key (docs/install.md)")
        return found

    def current(self) -> str | None:
        return self.layout.link_target(self.layout.current)

    def previous(self) -> str | None:
        return self.layout.link_target(self.layout.previous)

    def journal(self) -> dict:
        try:
            return json.loads(self.layout.journal.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as exc:
            # A journal cut short by the power cut itself: its write is atomic, so this is damage.
            raise UpdateError(f"the update journal {self.layout.journal} cannot be read ({exc})") from None

    def status(self) -> dict:
        j = self.journal()
        health = self.layout.health_file
        return {
            "current": self.current(), "previous": self.previous(), "installed": self.layout.installed(),
            "update": {k: j.get(k) for k in ("state", "from", "to", "backup", "result", "at")} if j else None,
            "healthy": health.read_text().strip() if health.is_file() else None,
        }

    # -- check ------------------------------------------------------------------------------
    def check(self, path: Path) -> bundlemod.Bundle:
        """Read and check a bundle; refuse one that is not newer than the running version."""
        b = bundlemod.read(Path(path), self.keys())
        cur = self.current()
        if cur is not None and bundlemod.version_key(b.version) <= bundlemod.version_key(cur):
            what = "the version already running" if b.version == cur else f"older than the running {cur}"
            raise UpdateError(f"{Path(path).name}: version {b.version} is {what}: refused "
                              "(to go back, use `gaitkiosk update rollback`)")
        return b

    # -- apply ------------------------------------------------------------------------------
    def apply(self, path: Path) -> dict:
        with self._locked():
            return self._apply(path)

    def _apply(self, path: Path) -> dict:
        self.recover()  # an earlier update cut short is finished or undone first
        b = self.check(path)
        old, new = self.current(), b.version
        j = {"from": old, "to": new, "bundle": str(path), "backup": None,
             "started": _now(), "schema_may_change": False}
        try:
            self._step(j, "install")
            self._install(b)
            self._step(j, "selftest")
            problem = self._selftest(new)
            if problem:
                raise UpdateError(f"version {new} failed its self-test before the switch: {problem}; "
                                  f"{old or 'nothing'} still runs")
            self._step(j, "stop")
            self.service.run("stop")
            self._clear_health()
            self._step(j, "backup")
            j["backup"] = self._backup(old, new)
        except (KioskError, OSError) as exc:
            self.recover(quiet=True)  # nothing was switched: remove the new version, start the kiosk again
            if isinstance(exc, UpdateError):
                raise
            raise UpdateError(f"the update to {new} stopped at '{j['state']}': {exc}; {old} still runs") from None
        self._step(j, "previous")
        if old is not None:
            switch_link(self.layout.previous, old)
        self._step(j, "switch")
        switch_link(self.layout.current, new)
        j["schema_may_change"] = True
        self._step(j, "start")
        self.service.run("start")
        self._step(j, "health")
        problem = self._health(new)
        if problem:
            self.say(f"update: version {new} is not healthy ({problem}); rolling back to {old}")
            self._rollback_to(j, old, reason=problem)
            raise UpdateError(f"version {new} failed its health check ({problem}): rolled back to {old}")
        self._step(j, "commit")
        self._prune()
        self._finish(j, "done", "")
        return {"from": old, "to": new, "backup": j["backup"], "result": "done"}

    # -- rollback ---------------------------------------------------------------------------
    def rollback(self) -> dict:
        """Go back to ``previous`` (the technician's command, after a confirmed update)."""
        with self._locked():
            return self._rollback()

    def _rollback(self) -> dict:
        self.recover()
        prev, cur = self.previous(), self.current()
        if prev is None or not self.layout.complete(prev):
            raise UpdateError("no previous version to roll back to (`gaitkiosk update status` lists what is installed)")
        j = self.journal()
        backup = j.get("backup") if j.get("to") == cur and j.get("from") == prev else None
        j = {"from": cur, "to": prev, "backup": backup, "started": _now(), "schema_may_change": True,
             "rollback": True}
        self._rollback_to(j, prev, reason="asked for by the technician", only_if_needed=True)
        return {"from": cur, "to": prev, "result": "rolled back"}

    def _rollback_to(self, j: dict, old: str | None, *, reason: str, only_if_needed: bool = False) -> None:
        if old is None:
            raise UpdateError("there is no earlier version on this unit to go back to")
        new = self.current()
        self._step(j, "rollback-stop")
        self.service.run("stop")
        self._clear_health()
        if j.get("schema_may_change") and j.get("backup"):
            self._step(j, "rollback-restore")
            if not only_if_needed or self._needs_restore(old):
                self._restore(j["backup"])
        self._step(j, "rollback-switch")
        switch_link(self.layout.current, old)
        if new and new != old and self.layout.complete(new):
            switch_link(self.layout.previous, new)
        self._step(j, "rollback-start")
        self.service.run("start")
        self._finish(j, "rolled back", reason)

    # -- recover ----------------------------------------------------------------------------
    def recover(self, quiet: bool = False) -> dict | None:
        """Finish or undo an update that a power cut (or a kill) interrupted; None if none was."""
        with self._locked():
            return self._recover(quiet)

    def _recover(self, quiet: bool) -> dict | None:
        j = self.journal()
        state = j.get("state")
        if not state or j.get("result"):
            return None
        new, old = j.get("to"), j.get("from")
        if not quiet:
            self.say(f"update: an update from {old} to {new} was interrupted at step '{state}'; finishing it")
        if state == "commit" and self.current() == new:
            # The new version had passed its health check: only the bookkeeping was left.
            self._prune()
            self._finish(j, "done", "committed after an interruption")
            return {"result": "done", "to": new}
        if j.get("rollback") or state.startswith("rollback-"):
            target = j["to"] if j.get("rollback") else old
            self._rollback_to(j, target, reason=f"finishing a rollback interrupted at '{state}'")
            return {"result": "rolled back", "to": target}
        if self.layout.versions.is_dir():
            for staging in self.layout.versions.glob(".bundle-*"):
                shutil.rmtree(staging, ignore_errors=True)
        if self.current() == new:
            # The switch happened, the health check did not finish: the new version is unproven.
            self._rollback_to(j, old, reason=f"interrupted at '{state}' before its health check passed")
            return {"result": "rolled back", "to": old}
        if STEPS.index(state) >= STEPS.index("stop"):
            self.service.run("start")  # the kiosk may have been stopped for the switch
        if new and new != self.current() and new != self.previous():
            shutil.rmtree(self.layout.version_dir(new), ignore_errors=True)  # whole or half-built: unproven
        self._finish(j, "abandoned", f"interrupted at '{state}' before the switch; {old} still runs")
        return {"result": "abandoned", "to": old}

    # -- the steps --------------------------------------------------------------------------
    def _step(self, j: dict, name: str) -> None:
        j["state"] = name
        j["at"] = _now()
        j.pop("result", None)
        self._write_journal(j)
        self._hook(name)

    def _hook(self, name: str) -> None:
        if self._stop_at == name:
            # The power-cut test: say where we are and wait to be killed (SIGKILL, like a power cut).
            print(f"update: stopped before step {name}", file=sys.stderr, flush=True)
            while True:
                signal.pause()

    def _finish(self, j: dict, result: str, reason: str) -> None:
        j["result"] = result
        j["reason"] = reason
        j["at"] = _now()
        self._write_journal(j)

    def _write_journal(self, j: dict) -> None:
        path = self.layout.journal
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(j, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    def _install(self, b: bundlemod.Bundle) -> None:
        """versions/X.Y.Z as a venv, built in place (a venv's scripts name its own path, so it cannot
        be renamed after): the complete mark, written last, is what makes it a version."""
        layout, new = self.layout, b.version
        final = layout.version_dir(new)
        if layout.complete(new):
            return  # installed by an earlier, interrupted run: the same signed wheels
        shutil.rmtree(final, ignore_errors=True)
        layout.versions.mkdir(parents=True, exist_ok=True)
        staging = layout.versions / f".bundle-{new}"
        shutil.rmtree(staging, ignore_errors=True)
        b.extract(staging)
        python = getattr(sys, "_base_executable", None) or sys.executable
        self._hook("install-venv")
        _run([python, "-m", "venv", str(final)], "creating the virtual environment")
        pip = [str(final / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
               "--disable-pip-version-check", "--find-links", str(staging / "wheels")]
        test_site = os.environ.get("GAITKIOSK_TEST_SITE")
        if test_site:
            pip.append("--no-deps")
            site = next((final / "lib").glob("python3*/site-packages"))
            (site / "gaitkiosk-test-site.pth").write_text(test_site + "\n")
        self._hook("install-pip")
        _run([*pip, f"gaitkiosk=={new}"], f"installing gaitkiosk {new} from the bundle")
        # The bundle's deploy files stay beside the venv (install.sh and the units of this version).
        if (staging / "deploy").is_dir():
            shutil.rmtree(final / "deploy", ignore_errors=True)
            shutil.move(str(staging / "deploy"), str(final / "deploy"))
        shutil.rmtree(staging)
        self._hook("install-mark")
        mark = final / COMPLETE
        with open(mark.with_name(COMPLETE + ".tmp"), "w") as f:
            f.write(new + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(mark.with_name(COMPLETE + ".tmp"), mark)
        fsync_dir(final)

    def _selftest(self, version: str) -> str:
        cmd = [str(self.layout.version_dir(version) / "bin" / "gaitkiosk"), "selftest", "--data-dir", str(self.data_dir)]
        if self.config_file:
            cmd += ["--config", self.config_file]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return lines[-1] if lines else f"exit code {done.returncode}"
        return ""

    def _backup(self, old: str | None, new: str) -> str | None:
        from store import db as dbmod

        path = dbmod.database_path(self.data_dir)
        if not dbmod.exists(path):
            return None
        from store.backup import backup

        out_dir = self.data_dir / "backups"
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = out_dir / f"before-update-{old}-to-{new}-{stamp}.db"
        backup(path, out)
        return str(out)

    def _needs_restore(self, old: str) -> bool:
        """Whether version ``old`` cannot read the database as it is now (a newer schema)."""
        return bool(self._selftest(old))

    def _restore(self, backup_file: str) -> None:
        from store import db as dbmod
        from store.backup import restore

        path = dbmod.database_path(self.data_dir)
        info = restore(path, backup_file)
        # The updater runs as root; the kiosk (user gaitkiosk) owns its data directory and must own the
        # restored file too. chown by path: no descriptor of the database file is opened here.
        owner = self.data_dir.stat()
        for f in (path, *(Path(p) for p in getattr(info, "moved_aside", []) or [])):
            if os.path.lexists(f) and (os.stat(f).st_uid, os.stat(f).st_gid) != (owner.st_uid, owner.st_gid):
                os.chown(f, owner.st_uid, owner.st_gid)
        self.say(f"update: database restored from {backup_file}; the one the new version used is kept as "
                 f"{getattr(info, 'moved_aside', None) or 'a before-restore file beside it'}")

    def _health(self, version: str) -> str:
        """'' when ``version`` is healthy after the start, else what is wrong."""
        if not self.layout.complete(version):
            return "its files are incomplete"
        problem = self._selftest(version)
        if problem:
            return f"self-test: {problem}"
        if not self.service.enabled:
            return ""
        deadline = time.monotonic() + self.health_timeout_s
        mark = self.layout.health_file
        while time.monotonic() < deadline:
            if mark.is_file() and mark.read_text().strip() == version:
                return ""
            time.sleep(0.5)
        return f"its kiosk did not feed the watchdog within {self.health_timeout_s:.0f} s"

    def _clear_health(self) -> None:
        try:
            self.layout.health_file.unlink()
        except OSError:
            pass

    def _prune(self) -> None:
        keep = {self.current(), self.previous()}
        for v in self.layout.installed():
            if v not in keep:
                shutil.rmtree(self.layout.version_dir(v), ignore_errors=True)


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UpdateError(f"{what} failed: {' / '.join(tail)}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
