"""Checking a live reader's clock alignment on a machine that may be busy.

``device.clock`` puts each frame at its true sample instant plus the least
latency its reader has seen (the lower envelope of arrival stamp - sample
instant), and ``FrameClock`` never lets host times step back: after the
envelope drops, frames slew, each keeping at least ``SLEW`` of its device
spacing. On an idle machine that least latency is the link's jitter; on a busy
one it also holds whatever the scheduler added before the reader stamped a
packet's arrival, which no aligner can know. A check of "error < 5 ms after
half a second" therefore measured the scheduler. Here the error against the
truth is checked in two parts:

- :meth:`ArrivalLog.check`: each frame against the envelope of the very
  arrival stamps the aligner was given (tight: 0.5 ms for the fit's own
  rounding and the device's drift);
- :meth:`ArrivalLog.least_latency`: the envelope itself. A test waits
  (``wait_until``) for the event "the reader has read one packet promptly"
  instead of hoping it happens within a fixed time; a reader that stamps
  arrivals late never gets there and the test fails.

Together they keep the real bound: once a packet has been read within
PROMPT_S of its sample instant, every frame is within PROMPT_S + 0.5 ms of its
own, under half a sample period at 100 Hz, so two devices stay within one.
"""

from __future__ import annotations

import math

from device.clock import SLEW

# Fit rounding (us) plus a +-50 ppm crystal over the seconds before the fit starts: well under.
ALIGNER_TOLERANCE_S = 0.0005
# "Read promptly": within a 2 ms USB jitter plus 2 ms for the reader to be scheduled.
PROMPT_S = 0.004


class ArrivalLog:
    """What the aligner of one reader was fed: per read, the frames' device times and the arrival stamp.

    Installed before ``reader.open()``; it wraps ``reader.frame_clock.map``, the one
    call through which every frame of a read gets its host time.
    """

    def __init__(self, reader) -> None:
        self.reads: list[tuple[tuple[float, ...], float, bool]] = []  # (t_devices, arrival, fitted after)
        original = reader.frame_clock.map
        aligner = reader.aligner

        def logged_map(t_devices, now):
            mapped = original(t_devices, now)
            if t_devices:
                self.reads.append((tuple(t_devices), now, aligner.fitted))  # one append: safe to read meanwhile
            return mapped

        reader.frame_clock.map = logged_map

    def least_latency(self, host_time) -> float:
        """The lower envelope: the smallest arrival stamp - true sample instant of any frame so far."""
        return min((now - host_time(t) for ts, now, _ in list(self.reads) for t in ts), default=math.inf)

    def check(self, frames, host_time, tolerance_s: float = ALIGNER_TOLERANCE_S) -> int:
        """Assert every frame the running-minimum fit mapped sits at its sample instant plus the envelope.

        ``host_time(t_device)``: the device's true sample instant on the host clock.
        Frames mapped once the aligner had closed enough buckets for its line fit
        (device time > 3 s) are left to tests/test_clock.py. Returns how many were checked.
        """
        expected: dict[float, float] = {}  # t_device -> error the aligner must give it
        envelope = bound = math.inf
        last_t = None
        for t_devices, now, fitted in list(self.reads):
            if fitted:
                break
            latency = min(now - host_time(t) for t in t_devices)
            # Nothing is read before it was sampled: an arrival stamp that says so is wrong.
            assert latency >= -tolerance_s, f"a frame stamped {-latency * 1e3:.2f} ms before its sample instant"
            # The whole read is fitted before any of it is mapped (a burst takes its newest frame's estimate).
            envelope = min(envelope, latency)
            for t in t_devices:
                slewed = bound - (1.0 - SLEW) * (t - last_t) if last_t is not None else -math.inf
                bound = max(envelope, slewed)
                expected[t] = bound
                last_t = t
        checked = 0
        for f in frames:
            if f.t_device not in expected:
                continue
            error = f.t_host - host_time(f.t_device)
            assert abs(error - expected[f.t_device]) <= tolerance_s, (
                f"{f.device} frame at {f.t_device:.4f} s: {error * 1e3:.2f} ms after its sample instant, "
                f"the envelope of its reader's arrivals says {expected[f.t_device] * 1e3:.2f} ms")
            checked += 1
        return checked
