"""Which version of the kiosk is installed on this unit, and which one a rollback would return to.

THE SEAM (to be reconciled with the updater, issue 14 item 3): a unit keeps each version in its
own folder ``<root>/versions/<version>/`` (a versioned virtual environment) and points at the one in
use with the symlink ``<root>/current``; the updater switches versions by renaming a new symlink
over ``current``, and may name the one before in ``<root>/previous`` (a symlink too). This module
only *reads* that layout:

* installed = the version folder ``current`` points to (else this package's ``__version__``, as
  on a development checkout, marked ``installed_by = "checkout"``);
* rollback = ``previous`` if it exists, else the newest other folder in ``versions/`` older than
  the installed one (by version order), else none.

``<root>`` is ``/opt/gaitkiosk`` (``GAITKIOSK_INSTALL_ROOT`` overrides it, for tests and
development). Nothing here writes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/opt/gaitkiosk")


@dataclass(frozen=True)
class Versions:
    installed: str
    rollback: str | None  # None: nothing to roll back to
    installed_by: str  # "install" (the versions layout) or "checkout" (no layout: the running package)
    root: str


def install_root() -> Path:
    return Path(os.environ.get("GAITKIOSK_INSTALL_ROOT") or DEFAULT_ROOT)


def version_key(text: str) -> tuple:
    """Order version strings the way people read them: 0.10.0 after 0.9.2 (numbers as numbers)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-+]", text))


def _target_name(link: Path) -> str | None:
    try:
        return Path(os.readlink(link)).name if link.is_symlink() else None
    except OSError:
        return None


def read_versions(root: str | os.PathLike | None = None) -> Versions:
    """The installed version and the one to roll back to (see the module docstring)."""
    from gaitkiosk import __version__

    root = Path(root) if root is not None else install_root()
    current = _target_name(root / "current")
    if current is None:
        return Versions(installed=__version__, rollback=None, installed_by="checkout", root=str(root))
    previous = _target_name(root / "previous")
    if previous is None:
        try:
            others = [p.name for p in (root / "versions").iterdir() if p.is_dir() and p.name != current]
        except OSError:
            others = []
        older = [v for v in others if version_key(v) < version_key(current)]
        previous = max(older, key=version_key) if older else None
    return Versions(installed=current, rollback=previous, installed_by="install", root=str(root))
