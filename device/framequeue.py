"""A bounded frame queue that never blocks its producer.

A reader thread must keep draining its serial port whatever the consumer
does: if it blocked on a full queue, the kernel's serial buffer would fill and
the device's own packets would be lost where nobody counts them. So the queue
holds at most ``maxlen`` items and, when full, drops the *oldest* one (a live
display wants the newest frame, and a recorder that falls this far behind has
already lost real time) and counts it. Memory stays bounded.

A dropped item is not forgotten downstream: ``carry(dropped, following)``
(optional) folds it into the item that now follows it, so a recorder sees
how many frames went missing right before that one (the reader uses it for
``RawFrame.dropped_before``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameQueue(Generic[T]):
    """Thread-safe bounded FIFO; :meth:`put` drops the oldest item when full."""

    def __init__(self, maxlen: int = 256, carry: Callable[[T, T], T] | None = None) -> None:
        if maxlen < 1:
            raise ValueError(f"queue length must be at least 1, got {maxlen}")
        self.maxlen = int(maxlen)
        self.carry = carry
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self.dropped = 0  # items discarded because the consumer fell behind

    def put(self, item: T) -> bool:
        """Append ``item``; return False if an older item had to be dropped for it."""
        with self._cond:
            kept_all = True
            if len(self._items) >= self.maxlen:
                gone = self._items.popleft()
                self.dropped += 1
                kept_all = False
                if self.carry is not None:
                    if self._items:
                        self._items[0] = self.carry(gone, self._items[0])
                    else:
                        item = self.carry(gone, item)
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
