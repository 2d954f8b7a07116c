"""matplotlib's font cache: in a directory the kiosk can write, built once at install.

matplotlib keeps its list of fonts in ``MPLCONFIGDIR`` and builds it (seconds on a Pi) the first
time it is imported there; a directory it cannot write makes it build the list again in every
process. :func:`configure` points ``MPLCONFIGDIR`` (when not set already) at the kiosk user's
cache directory, before matplotlib is first imported (``session_pdf`` calls it); ``make build``
and the install (``python -m gaitkiosk.mplcache``, docs/install.md) build the list there, so no
report waits for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gaitkiosk/matplotlib`` (``~/.cache/...``): per user, kept across reboots."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gaitkiosk" / "matplotlib"


def configure() -> Path:
    """Set ``MPLCONFIGDIR`` unless the environment already chose one; the directory in use."""
    chosen = os.environ.get("MPLCONFIGDIR")
    if chosen:
        return Path(chosen)
    where = cache_dir()
    try:
        where.mkdir(parents=True, exist_ok=True)
        if not os.access(where, os.W_OK | os.X_OK):
            raise PermissionError(where)
    except OSError:  # no writable home (a locked-down user): a per-user temporary directory
        import tempfile

        where = Path(tempfile.gettempdir()) / f"gaitkiosk-matplotlib-{os.getuid()}"
        where.mkdir(mode=0o700, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(where)
    return where


def build() -> Path:
    """Build matplotlib's font list in the configured directory now; the list's file."""
    where = configure()
    from matplotlib import font_manager

    # Importing font_manager loads the list from MPLCONFIGDIR, or builds and writes it there.
    name = f"fontlist-v{font_manager.FontManager.__version__}.json"
    path = where / name
    if not path.is_file():
        raise OSError(f"matplotlib did not write its font list to {where} (is it writable?)")
    return path


def main() -> int:
    try:
        path = build()
    except OSError as exc:
        print(f"gaitkiosk.mplcache: error: {exc}", file=sys.stderr)
        return 1
    print(f"matplotlib font cache ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
