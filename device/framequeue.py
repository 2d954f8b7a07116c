"""A bounded frame queue that never blocks its producer.

A reader thread must keep draining its serial port whatever the consumer
does: if it blocked on a full queue, the kernel's serial buffer would fill and
the device's own packets would be lost where nobody counts them. So the queue
holds at most ``maxlen`` items and, when full, drops the *oldest* one (a live
display wants the newest frame, and a recorder that falls this far behind has
already lost real time) and counts it. Memory stays bounded.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameQueue(Generic[T]):
    """Thread-safe bounded FIFO; :meth:`put` drops the oldest item when full."""

    def __init__(self, maxlen: int = 256) -> None:
        if maxlen < 1:
            raise ValueError(f"queue length must be at least 1, got {maxlen}")
        self.maxlen = int(maxlen)
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self.dropped = 0  # items discarded because the consumer fell behind

    def put(self, item: T) -> bool:
        """Append ``item``; return False if an older item had to be dropped for it."""
        with self._cond:
            kept_all = True
            if len(self._items) >= self.maxlen:
                self._items.popleft()
                self.dropped += 1
                kept_all = False
            self._items.append(item)
            self._cond.notify()
            return kept_all

    def get(self, timeout: float | None = None) -> T | None:
        """The oldest item, waiting up to ``timeout`` s (None: forever); None if none came."""
        with self._cond:
            if not self._items:
                self._cond.wait_for(lambda: bool(self._items), timeout)
            return self._items.popleft() if self._items else None

    def drain(self) -> list[T]:
        """Everything queued now, oldest first, without waiting."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
