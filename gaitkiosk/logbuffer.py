"""The kiosk's recent log lines, kept in memory for "Export logs and diagnostics" (docs/technician.md).

On a unit the log also goes to the journal; this buffer is what the export can always include,
even on a desktop or when the journal cannot be read. :func:`install` adds one handler to the
root logger (once per process); it sees what the root logger lets through.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

KEEP_LINES = 5000
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


class RingHandler(logging.Handler):
    def __init__(self, keep: int = KEEP_LINES):
        super().__init__()
        self.lines: deque[str] = deque(maxlen=keep)
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the kiosk
            self.handleError(record)


_handler: RingHandler | None = None
_lock = threading.Lock()


def install() -> RingHandler:
    global _handler
    with _lock:
        if _handler is None:
            _handler = RingHandler()
            logging.getLogger().addHandler(_handler)
        return _handler


def lines() -> list[str]:
    return list(_handler.lines) if _handler is not None else []
