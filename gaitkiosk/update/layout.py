"""Where the installed versions live on a unit, under a root (``/`` on a unit, a temp dir in tests).

    /opt/gaitkiosk/versions/X.Y.Z/      one virtual environment per version
    /opt/gaitkiosk/versions/X.Y.Z/.gaitkiosk-complete   written last: the version is whole
    /opt/gaitkiosk/current  -> versions/X.Y.Z   what systemd starts (deploy/gaitkiosk.service)
    /opt/gaitkiosk/previous -> versions/W.V.U   what a rollback goes back to
    /var/lib/gaitkiosk/update/journal.json      the update in progress, each step before it is taken
    /etc/gaitkiosk/keys/*.pub                   the release keys this unit trusts (minisign format)
    /run/gaitkiosk/healthy                      the version whose kiosk fed the watchdog (gaitkiosk/watchdog.py)

A symlink is switched by creating the new link beside it and renaming it over
the old one (rename(2) is atomic), so ``current`` always names a whole version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

COMPLETE = ".gaitkiosk-complete"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def base(self) -> Path:
        return self.root / "opt/gaitkiosk"

    @property
    def versions(self) -> Path:
        return self.base / "versions"

    @property
    def current(self) -> Path:
        return self.base / "current"

    @property
    def previous(self) -> Path:
        return self.base / "previous"

    @property
    def journal(self) -> Path:
        return self.root / "var/lib/gaitkiosk/update/journal.json"

    @property
    def keys_dir(self) -> Path:
        return self.root / "etc/gaitkiosk/keys"

    @property
    def health_file(self) -> Path:
        return self.root / "run/gaitkiosk/healthy"

    @property
    def data_dir(self) -> Path:
        return self.root / "var/lib/gaitkiosk"

    def version_dir(self, version: str) -> Path:
        return self.versions / version

    def complete(self, version: str) -> bool:
        d = self.version_dir(version)
        return (d / COMPLETE).is_file() and os.access(d / "bin" / "gaitkiosk", os.X_OK)

    def link_target(self, link: Path) -> str | None:
        """The version a link names (``versions/X.Y.Z`` -> ``X.Y.Z``), or None."""
        try:
            target = os.readlink(link)
        except OSError:
            return None
        return Path(target).name

    def installed(self) -> list[str]:
        if not self.versions.is_dir():
            return []
        return sorted(p.name for p in self.versions.iterdir() if not p.name.startswith(".") and self.complete(p.name))


def switch_link(link: Path, version: str) -> None:
    """Point ``link`` at ``versions/<version>`` atomically (a relative link: the tree may move)."""
    tmp = link.with_name(link.name + ".new")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    os.symlink(f"versions/{version}", tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
