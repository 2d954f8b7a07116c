"""Backoff with full jitter and the bandwidth cap's token bucket (sync/pacing.py), on a clock the test moves."""

from __future__ import annotations

import random
import threading

from sync.pacing import Backoff, TokenBucket


def test_backoff_is_full_jitter_doubling_to_the_cap_and_resets():
    b = Backoff(1.0, 60.0, random.Random(3))
    ceilings = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    waits = [Backoff(1.0, 60.0, random.Random(seed)) for seed in range(200)]
    for n, ceiling in enumerate(ceilings):
        got = [w.next_delay() for w in waits]
        assert all(0 <= g <= ceiling for g in got), n
        assert max(got) > ceiling * 0.8 and min(got) < ceiling * 0.2  # spread over the whole range: jitter
    for _ in range(5):
        b.next_delay()
    b.reset()
    assert b.next_delay() <= 1.0 and b.failures == 1


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_the_bucket_holds_the_average_rate():
    clock = Clock()
    bucket = TokenBucket(1000, burst=1000, clock=clock)
    stop = threading.Event()
    assert bucket.take(1000, stop)  # a full bucket: at once
    waited = []

    def wait(seconds):  # the bucket's wait moves the clock instead of sleeping
        waited.append(seconds)
        clock.t += seconds
        return False

    stop.wait = wait
    for _ in range(10):
        assert bucket.take(500, stop)
    assert abs(clock.t - 5.0) < 1e-6  # 5000 bytes more at 1000 B/s
    assert TokenBucket(0).take(10**9)  # 0: no cap


def test_a_stop_ends_the_wait():
    bucket = TokenBucket(1, burst=1)
    stop = threading.Event()
    bucket.take(1, stop)
    stop.set()
    assert bucket.take(1, stop) is False
