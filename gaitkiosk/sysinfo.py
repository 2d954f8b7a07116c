"""The unit's own health for the diagnostics screen: CPU load and temperature, disk and database size.

Each reading comes from the kernel's files (``/proc/loadavg``, ``/sys/class/thermal``) or a
``statvfs``; one that this machine does not have is None, which the screen shows as "not
available" (a container has no thermal zone, a desktop may name its zones otherwise).

The database's size is asked of SQLite itself (``page_count`` x ``page_size`` on the caller's own
connection); its write-ahead log's only by ``stat``: nothing here opens the database's files
(docs/store.md "Rules for code that opens the database").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROC = Path("/proc")
THERMAL = Path("/sys/class/thermal")
# The zone that is the CPU: "cpu-thermal" on a Pi 4 and a Pi 5, "x86_pkg_temp" on a PC.
CPU_ZONES = ("cpu-thermal", "cpu_thermal", "soc_thermal", "x86_pkg_temp")


def cpu_load(proc: Path = PROC) -> dict | None:
    """Load averages over 1, 5 and 15 minutes and the CPU count, or None."""
    try:
        parts = (proc / "loadavg").read_text().split()
        one, five, fifteen = (float(p) for p in parts[:3])
    except (OSError, ValueError, IndexError):
        return None
    return {"load_1m": one, "load_5m": five, "load_15m": fifteen, "cpus": os.cpu_count() or 1}


def cpu_temperature_c(thermal: Path = THERMAL) -> float | None:
    """The CPU's temperature (°C) from its thermal zone, or None when there is none."""
    try:
        zones = sorted(thermal.glob("thermal_zone*"))
    except OSError:
        return None
    found = {}
    for z in zones:
        try:
            found[(z / "type").read_text().strip()] = z
        except OSError:
            continue
    for name in CPU_ZONES:
        if name in found:
            try:
                return int((found[name] / "temp").read_text().strip()) / 1000.0
            except (OSError, ValueError):
                return None
    return None


def disk(path: str | os.PathLike) -> dict | None:
    """Free and total bytes of the file system holding ``path``, or None."""
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return {"free_bytes": usage.free, "total_bytes": usage.total}


def database_size(db, path: str | os.PathLike | None) -> dict:
    """The database's size through ``db`` (an open sqlite3 connection) and its WAL's (by ``stat``)."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    page = db.execute("PRAGMA page_size").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    wal = None
    if path is not None:
        try:
            wal = os.stat(f"{path}-wal").st_size
        except OSError:
            wal = 0
    return {"bytes": pages * page, "free_bytes": free * page, "wal_bytes": wal}


def megabytes(n: int | None) -> str:
    if n is None:
        return "not available"
    return f"{n / 1e6:.1f} MB" if n < 10e9 else f"{n / 1e9:.1f} GB"
