"""Wrong codes at the check-in keypad slow down: a wait that doubles, so codes cannot be tried fast.

The rule: the third wrong code within an hour makes the keypad wait 30 s before
it takes another; each further wrong code within the hour doubles the wait (1, 2,
4, 8 min), up to 15 min. Codes an hour old are forgotten, so a wrong code now and
then (a patient's typo) never makes anyone wait, and a correct code clears
nothing: knowing one's own code buys no extra guesses.

A stranger trying codes as fast as the waits allow gets about 160 tries a day
(``tests/test_lockout.py`` measures it with this class and a fake clock);
``gaitkiosk.patient_code`` says what that means for the code length.

The worker thread owns one :class:`KeypadLockout`; the screen only shows the
wait it is told, so tapping faster on the glass changes nothing.
"""

from __future__ import annotations

import time
from collections import deque

FREE_WRONG = 2  # within WINDOW_S: no wait yet
FIRST_WAIT_S = 30.0
MAX_WAIT_S = 15 * 60.0
WINDOW_S = 3600.0


class KeypadLockout:
    def __init__(self, clock=time.monotonic, *, free: int = FREE_WRONG, first_wait_s: float = FIRST_WAIT_S,
                 max_wait_s: float = MAX_WAIT_S, window_s: float = WINDOW_S):
        self.clock = clock
        self.free = free
        self.first_wait_s = first_wait_s
        self.max_wait_s = max_wait_s
        self.window_s = window_s
        self._wrong: deque[float] = deque()
        self._until = float("-inf")

    def wait_s(self) -> float:
        """Seconds until the keypad takes a code again (0: now)."""
        return max(0.0, self._until - self.clock())

    def recent_wrong(self) -> int:
        """Wrong codes within the last hour."""
        self._forget(self.clock())
        return len(self._wrong)

    def wrong(self) -> float:
        """Count a wrong code; return the wait it starts (0: none)."""
        now = self.clock()
        self._forget(now)
        self._wrong.append(now)
        over = len(self._wrong) - self.free
        wait = 0.0 if over <= 0 else min(self.first_wait_s * 2.0 ** (over - 1), self.max_wait_s)
        self._until = now + wait
        return wait

    def _forget(self, now: float) -> None:
        while self._wrong and self._wrong[0] <= now - self.window_s:
            self._wrong.popleft()
