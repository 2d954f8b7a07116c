"""The scan loop's driver: 16 sensels through an analog multiplexer into one ADC, on a deadline.

Hardware is handed in (docs/architecture.md section 3, STYLE item 13), so the same code runs
on the board and on a PC with fakes:

- ``adc``: has ``read_u16()`` -> 0..65535 (``machine.ADC``);
- ``mux_pins``: select lines S0, S1, ... each with ``value(0 or 1)`` (``machine.Pin``);
- ``clock``: ``ticks_us()``, ``ticks_diff(a, b)``, ``ticks_add(t, us)``, ``sleep_us(us)``
  (MicroPython's ``time`` module itself).

Timing: scans start on a fixed grid of deadlines (period = 1 s / rate). ``wait()`` sleeps to
the next deadline and measures how late the scan really starts (jitter). If a scan overran and
whole periods went by, those deadlines are skipped and counted as missed, never made up with
a burst of late scans. ``now_us()`` extends the wrapping tick counter to a 64-bit microsecond
clock since power-up, as the header's ``t_us`` needs (docs/protocol.md section 3).
"""

from array import array


class Scanner:
    def __init__(self, adc, mux_pins, clock, sensors=16, bits=12, oversample=4, settle_us=0, rate_hz=100):
        self.adc = adc
        self.mux_pins = mux_pins
        self.clock = clock
        self.sensors = sensors
        self.bits = bits
        self.oversample = oversample
        self.settle_us = settle_us
        self.counts = array("H", [0] * sensors)  # reused every scan: no allocation in the loop
        self.missed = 0  # deadlines skipped because a scan (or what followed it) overran
        self.scans = 0
        self.jitter_us = 0  # lateness of the last scan start, us
        self.jitter_max_us = 0
        self.jitter_sum_us = 0
        self.scan_us = 0  # duration of the last scan, us
        for pin in mux_pins:  # a known state, so select() writes only what changes
            pin.value(0)
        self._selected = 0
        self._last_ticks = clock.ticks_us()
        self._us = 0
        self.set_rate(rate_hz)

    def set_rate(self, rate_hz):
        """Scan at ``rate_hz`` from now on; the deadline grid restarts one period from now."""
        self.rate_hz = rate_hz
        self.period_us = int(1000000 // rate_hz)
        self._deadline = self.clock.ticks_add(self.clock.ticks_us(), self.period_us)

    def now_us(self):
        """Microseconds since this scanner started, 64-bit (the tick counter wraps; this does not)."""
        now = self.clock.ticks_us()
        self._us += self.clock.ticks_diff(now, self._last_ticks)
        self._last_ticks = now
        return self._us

    def wait(self):
        """Sleep until the next deadline; return the scan's start time (``now_us``)."""
        clock = self.clock
        late = clock.ticks_diff(clock.ticks_us(), self._deadline)
        if late < 0:
            clock.sleep_us(-late)
            late = clock.ticks_diff(clock.ticks_us(), self._deadline)
        if late >= self.period_us:  # whole periods passed: skip those deadlines, count them
            skipped = late // self.period_us
            self.missed += skipped
            self._deadline = clock.ticks_add(self._deadline, skipped * self.period_us)
            late -= skipped * self.period_us
        self.jitter_us = late
        if late > self.jitter_max_us:
            self.jitter_max_us = late
        self.jitter_sum_us += late
        self._deadline = clock.ticks_add(self._deadline, self.period_us)
        return self.now_us()

    def select(self, channel):
        # Only the select lines that change: 30 pin writes a 16-channel scan instead of 64
        # (each is a call into machine.Pin on the board, where interpreted code is slow).
        changed = channel ^ self._selected
        bit = 0
        while changed:
            if changed & 1:
                self.mux_pins[bit].value((channel >> bit) & 1)
            changed >>= 1
            bit += 1
        self._selected = channel

    def scan(self):
        """Read every sensel (mean of ``oversample`` reads, rounded) into ``self.counts``."""
        clock = self.clock
        start = clock.ticks_us()
        shift = 16 - self.bits
        reads = self.oversample
        read = self.adc.read_u16
        counts = self.counts
        for channel in range(self.sensors):
            self.select(channel)
            if self.settle_us:
                clock.sleep_us(self.settle_us)
            total = 0
            for _ in range(reads):
                total += read() >> shift
            counts[channel] = (total + reads // 2) // reads
        self.scan_us = clock.ticks_diff(clock.ticks_us(), start)
        self.scans += 1
        return counts

    def jitter_mean_us(self):
        return self.jitter_sum_us // self.scans if self.scans else 0
