"""How fast the sync worker goes: backoff with full jitter after failures, and a bandwidth cap.

Backoff after the "Full Jitter" of Brooker, "Exponential Backoff And Jitter" (AWS Architecture
Blog, 2015): the n-th consecutive failure waits a uniform random time in [0, min(cap, base * 2^n)],
so many kiosks coming back after a server outage do not all retry in step. A success resets it.
"""

from __future__ import annotations

import random
import threading
import time


class Backoff:
    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None):
        self.base_s, self.cap_s = base_s, cap_s
        self.failures = 0
        self.rng = rng or random.Random()

    def next_delay(self) -> float:
        """The wait after one more failure."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.failures, 60))
        self.failures += 1
        return self.rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.failures = 0


class TokenBucket:
    """At most ``rate`` bytes per second on average, in bursts of at most ``burst`` bytes (default:
    one second's worth).

    ``rate`` 0 means no cap. A request larger than the burst waits for a full bucket and then
    goes (it cannot be split), leaving the bucket in debt, so the average still holds.
    """

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1.0))
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()
        self.lock = threading.Lock()

    def take(self, n: int, stop: threading.Event | None = None) -> bool:
        """Wait until ``n`` bytes may go; False when ``stop`` was set meanwhile."""
        if self.rate <= 0:
            return True
        need = min(float(n), self.burst)
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= need:
                    self.tokens -= n  # may go below zero for an oversize request: the next ones wait
                    return True
                wait = (need - self.tokens) / self.rate
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)
