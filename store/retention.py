"""Disk space: the low-disk stop and pruning of raw recordings already upstream.

Two rules keep a kiosk that runs for years from losing a session:
- a new recording does not start, and a running one stops cleanly, when the
  space left (free on the file system plus pages SQLite can reuse) is below
  ``store.min_free_mb``: a full SD card corrupts more than the session;
- only raw recordings that reached the server (``synced_at`` set by the
  outbox) and are older than ``store.prune_after_days`` may be pruned. The
  session, its trials, results and reports stay; an unsynced recording is
  never pruned, whatever its age.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from store import rows
from store.errors import LowDiskError

MB = 1024 * 1024


def fs_free_bytes(path: str | Path) -> int:
    """Free bytes for an unprivileged writer on the file system holding ``path``."""
    p = Path(path)
    while not p.exists():
        p = p.parent
    return shutil.disk_usage(p).free


def reusable_bytes(db) -> int:
    """Bytes inside the database file that SQLite will reuse (freed by pruning)."""
    page = db.execute("PRAGMA page_size").fetchone()[0]
    return db.execute("PRAGMA freelist_count").fetchone()[0] * page


def check_free_space(path: str | Path, min_free_bytes: int, *, db=None,
                     disk_free: Callable[[Path], int] = fs_free_bytes) -> int:
    """Raise LowDiskError when less than ``min_free_bytes`` is left; return what is left."""
    left = disk_free(Path(path)) + (reusable_bytes(db) if db is not None else 0)
    if left < min_free_bytes:
        raise LowDiskError(
            f"only {left / MB:.0f} MB left for {path} (the kiosk keeps {min_free_bytes / MB:.0f} MB free): "
            "recording stopped so stored sessions stay safe. Let the kiosk sync, then prune synced "
            "recordings (`gaitkiosk db prune`), or ask a technician to free space"
        )
    return left


@dataclass
class PruneResult:
    recordings: int
    chunks: int
    bytes: int


def prune_synced(db, *, older_than_days: float, now: dt.datetime | None = None,
                 dry_run: bool = False) -> PruneResult:
    """Remove raw chunks of recordings synced upstream and older than the given age."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    now = now or dt.datetime.now(dt.UTC)
    cutoff = rows.format_time(now - dt.timedelta(days=older_than_days))
    candidates = rows.fetch_all(db, """
        SELECT r.id, count(c.id) AS n, coalesce(sum(length(c.data)), 0) AS size
        FROM recordings r LEFT JOIN recording_chunks c ON c.recording_id = r.id
        WHERE r.synced_at IS NOT NULL AND r.pruned_at IS NULL AND r.status != 'recording'
          AND r.started_at < ?
        GROUP BY r.id""", [cutoff])
    result = PruneResult(len(candidates), sum(c["n"] for c in candidates), sum(c["size"] for c in candidates))
    if dry_run:
        return result
    stamp = rows.format_time(now)
    for c in candidates:
        with rows.atomic(db):
            # Re-check synced_at inside the transaction: never prune what is not upstream.
            done = db.execute("UPDATE recordings SET pruned_at = ? WHERE id = ? AND synced_at IS NOT NULL "
                              "AND pruned_at IS NULL", [stamp, c["id"]]).rowcount
            if done:
                db.execute("DELETE FROM recording_chunks WHERE recording_id = ?", [c["id"]])
    return result
