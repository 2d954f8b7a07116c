"""A test-only fault hook: make one named thread of the kiosk hang, for real.

The watchdog test (tests/test_watchdog.py) must see systemd's watchdog stop being
fed when one part of the kiosk hangs, with nothing faked: the kiosk runs as its
own process and the part's thread really stops. ``GAITKIOSK_TEST_STALL=PART:FILE``
names the part (``reader``, ``analysis``, ``ui``, ``worker``, ``writer``) and a
trigger file: while FILE exists, that part's thread blocks at its next
:func:`point`. Unset (every unit, every demo) :func:`point` returns at once.
"""

from __future__ import annotations

import os
import time

_PART, _, _TRIGGER = os.environ.get("GAITKIOSK_TEST_STALL", "").partition(":")


def point(part: str) -> None:
    """Where ``part``'s thread passes each turn of its loop."""
    if part == _PART and _TRIGGER:
        while os.path.exists(_TRIGGER):
            time.sleep(0.05)
