"""Device clock -> host monotonic clock.

Every packet carries ``t_us``, the device's own microsecond clock at the moment
it sampled. The host sees the packet some time later: USB and the serial stack
add a latency that is never negative, usually small, and now and then large
(a busy USB bus, a reader thread that was not scheduled). The device's crystal
also runs a little fast or slow (tens of ppm), and the device may reboot and
restart its clock at zero.

:class:`ClockAligner` maps device time to host time with a running fit of
offset and drift over the *lower envelope* of ``host - device``: within each
bucket (default 1 s of device time) only the smallest difference is kept,
because that packet was delivered with the least latency. A line through the
bucket minima of the last ``window_s`` seconds, with the Theil-Sen slope
(median of pairwise slopes) and the median intercept, ignores the buckets in
which every packet was late. (The lower-envelope idea is the one of one-way
clock synchronisation, e.g. Moon, Skelly & Towsley 1999, "Estimation and
removal of clock skew from network delay measurements"; the Theil-Sen fit
replaces their linear program so that one stalled bucket cannot tilt the line.)

Mapped host time = sample instant + the smallest latency of the window, so two
devices on the same USB bus line up to well under one sample period (see
tests/test_clock.py: +-100 ppm, 3 ms jitter, a device reset).

A reset is detected when device time goes backwards, or jumps ahead of what the
fit predicts by more than ``reset_tolerance_s``; the reader also calls
:meth:`reset` when the sequence number restarts or a device says hello again.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

# A crystal is within +-100 ppm; a cheap RC oscillator within 2 %. Beyond that
# the fit is fooled by something (a stall across most of the window), not drift.
MAX_DRIFT = 0.02


class ClockAligner:
    """Running fit ``t_host = t_device + offset + slope * (t_device - t_ref)``.

    Feed every frame with :meth:`add` (device time and host arrival time, both
    in seconds); it returns the frame's instant on the host clock. Not
    thread-safe: one aligner per device, used by that device's reader thread.
    """

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        bucket_s: float = 1.0,
        min_buckets: int = 3,
        reset_tolerance_s: float = 0.5,
    ) -> None:
        if not (window_s > 0 and bucket_s > 0 and window_s >= 2 * bucket_s):
            raise ValueError("window_s must be positive and at least two buckets long")
        self.window_s = float(window_s)
        self.bucket_s = float(bucket_s)
        self.min_buckets = max(2, int(min_buckets))
        self.reset_tolerance_s = float(reset_tolerance_s)
        self.resets = 0  # device resets detected (or reported) since creation
        self._clear()

    def _clear(self) -> None:
        self._buckets: deque[tuple[float, float]] = deque()  # (t_device, min host-device)
        self._bucket_index: int | None = None
        self._bucket_t = 0.0
        self._bucket_min = math.inf
        self._t_origin: float | None = None  # device time of the first point since reset
        self._last_t_device: float | None = None
        self._envelope_min = math.inf  # until the fit has enough buckets
        self._offset = 0.0
        self._slope = 0.0
        self._t_ref = 0.0
        self._fitted = False

    # -- public API -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget the fit: the device restarted its clock (or said hello again)."""
        if self._last_t_device is not None:
            self.resets += 1
        self._clear()

    def add(self, t_device: float, t_host: float) -> float:
        """Record one (device time, host arrival time) pair; return the mapped host time."""
        if self._last_t_device is not None:
            if t_device < self._last_t_device:
                self.reset()
            elif self._offset_at(t_device) - (t_host - t_device) > self.reset_tolerance_s:
                # The device clock is far ahead of where the fit puts it: its
                # clock jumped (a reset that restarted at a larger value).
                self.reset()
        self._last_t_device = t_device
        if self._t_origin is None:
            self._t_origin = t_device
        diff = t_host - t_device
        index = math.floor((t_device - self._t_origin) / self.bucket_s)
        if index != self._bucket_index:
            if self._bucket_index is not None:
                self._close_bucket()
            self._bucket_index = index
            self._bucket_min = math.inf
        if diff < self._bucket_min:
            self._bucket_min = diff
            self._bucket_t = t_device
        if not self._fitted:
            self._envelope_min = min(self._envelope_min, diff)
        return self.to_host(t_device)

    def to_host(self, t_device: float) -> float:
        """Map a device time (s) to host monotonic time (s) with the current fit."""
        return t_device + self._offset_at(t_device)

    @property
    def offset_s(self) -> float:
        """Current ``host - device`` at the newest device time (s)."""
        if self._last_t_device is None:
            return 0.0
        return self._offset_at(self._last_t_device)

    @property
    def drift_ppm(self) -> float:
        """How much faster the device clock runs than the host's, in ppm."""
        # host - device shrinks when the device runs fast: slope = -drift/(1+drift).
        return -self._slope / (1.0 + self._slope) * 1e6

    @property
    def fitted(self) -> bool:
        """True once enough buckets have closed for a drift estimate."""
        return self._fitted

    # -- internals ------------------------------------------------------------------

    def _offset_at(self, t_device: float) -> float:
        if not self._fitted:
            return self._envelope_min if math.isfinite(self._envelope_min) else 0.0
        return self._offset + self._slope * (t_device - self._t_ref)

    def _close_bucket(self) -> None:
        self._buckets.append((self._bucket_t, self._bucket_min))
        newest = self._bucket_t
        while self._buckets and self._buckets[0][0] < newest - self.window_s:
            self._buckets.popleft()
        if len(self._buckets) >= self.min_buckets:
            self._fit()

    def _fit(self) -> None:
        pts = np.asarray(self._buckets, dtype=np.float64)
        t, m = pts[:, 0], pts[:, 1]
        i, j = np.triu_indices(len(t), k=1)
        dt = t[j] - t[i]
        ok = dt > 0
        slope = float(np.median((m[j] - m[i])[ok] / dt[ok])) if ok.any() else 0.0
        slope = min(max(slope, -MAX_DRIFT), MAX_DRIFT)
        t_ref = float(t[-1])
        self._offset = float(np.median(m - slope * (t - t_ref)))
        self._slope = slope
        self._t_ref = t_ref
        self._fitted = True


# A frame keeps at least this fraction of its device-clock spacing in host time.
SLEW = 0.5


class FrameClock:
    """Host times for one device's frames: the clock fit, bursts, and never going back.

    ``map(t_devices, now)`` takes the device times of the frames that one read
    brought (all arrived at ``now``) and returns their host times:

    - real-time devices go through the :class:`ClockAligner`; when a read
      brings several frames, the fit sees all of them before any is mapped, so
      a burst (after a stall, or the backlog at start) takes its newest frame's
      estimate -- the one delayed least -- not its oldest;
    - a device whose clock does not follow ours (a replay faster or slower than
      real time, ``realtime=False``) is mapped by a fixed offset set by its
      first frame;
    - host times never decrease. When the fit steps back (the first packets
      came late and a prompter one corrected the offset), the times slew like
      NTP rather than step: each frame keeps at least half of its device spacing
      after the previous one, so a 30 ms correction is absorbed over a few
      frames instead of piling frames onto one instant. ``slewed`` counts them.
    """

    def __init__(self, aligner: ClockAligner | None = None) -> None:
        self.aligner = aligner or ClockAligner()
        self.realtime = True
        self.slewed = 0
        self._offset: float | None = None
        self._last_host = -math.inf
        self._last_device = 0.0

    def new_session(self, realtime: bool) -> None:
        """A (re)opened port; ``realtime`` False for a device clock unrelated to ours."""
        self.realtime = bool(realtime)
        self._offset = None

    def map(self, t_devices: list[float], now: float) -> list[float]:
        if not t_devices:
            return []
        if self.realtime:
            aligner = self.aligner
            resets = aligner.resets
            mapped = [aligner.add(t, now) for t in t_devices]
            if len(t_devices) > 1 and aligner.resets == resets:  # one fit for the whole read
                mapped = [aligner.to_host(t) for t in t_devices]
        else:
            if self._offset is None:
                self._offset = now - t_devices[0]
            mapped = [t + self._offset for t in t_devices]
        return [self._monotonic(d, h) for d, h in zip(t_devices, mapped, strict=True)]

    def _monotonic(self, t_device: float, t_host: float) -> float:
        step = t_device - self._last_device
        floor = self._last_host + (SLEW * step if step > 0 else 1e-6)
        if t_host < floor:
            self.slewed += 1
            t_host = floor
        self._last_host = t_host
        self._last_device = t_device
        return t_host
