"""Polling helper for tests that wait on reader threads and virtual devices."""

import time


def wait_until(predicate, timeout=4.0, step=0.02):
    """True as soon as ``predicate()`` is; after ``timeout`` seconds, its last answer."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
