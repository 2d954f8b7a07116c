"""What the worker last did, for `gaitkiosk sync status` and `db check`: ``sync-status.json``.

A small JSON file beside the database, written whole and renamed (never half a file), so reading
the status never takes a lock the kiosk could wait for. Only one worker runs at a time (the
``sync`` lock, sync/worker.py), so there is one writer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILENAME = "sync-status.json"


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / FILENAME


def read(data_dir: Path) -> dict:
    try:
        doc = json.loads(path_in(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def update(data_dir: Path, **fields) -> dict:
    doc = {**read(data_dir), **fields}
    path = path_in(data_dir)
    tmp = path.with_name(f".{FILENAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    return doc
