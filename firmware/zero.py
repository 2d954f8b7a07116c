"""ZERO: the on-board baseline and noise gate of docs/protocol.md section 9.1, in integers.

The device keeps its last W = 32 scans (the window) all the time, streaming or not. On
``ZERO value`` it computes each sensel's baseline and gate from the sums of its W readings,
exactly as the spec's C code does, so the kiosk's reference (device/sim/zero_gate.py) and
this agree to the count.
"""

from array import array

WINDOW = 32
NO_GATE = -1


def sensel_gate(s1, s2, w, value):
    """(baseline, gate) of one sensel from s1 = sum, s2 = sum of squares of its w readings."""
    baseline = (s1 + w // 2) // w
    if value != 0:
        return baseline, (value if value > 0 else 1)
    need = 9 * (w * s2 - s1 * s1)
    per = w * (w - 1)
    lo, hi = 1, 65535  # the smallest g with g * g * per >= need
    while lo < hi:
        mid = (lo + hi) // 2
        if mid * mid * per >= need:
            hi = mid
        else:
            lo = mid + 1
    return baseline, lo


class Zero:
    """The scan window, and the correction in effect (none until a ZERO)."""

    def __init__(self, sensors, window=WINDOW):
        self.sensors = sensors
        self.window = window
        self._ring = array("H", [0] * (sensors * window))
        self._next = 0
        self.filled = 0  # scans in the window so far (a ZERO needs a full window)
        self.baseline = None  # array('l') per sensel once zeroed
        self.gate = None
        self.gate_counts = None  # as HELLO says: None no gate, 0 per-sensel, > 0 fixed

    def remember(self, counts):
        """Add one raw scan to the window (the oldest falls out)."""
        base = self._next * self.sensors
        for i in range(self.sensors):
            self._ring[base + i] = counts[i]
        self._next = (self._next + 1) % self.window
        if self.filled < self.window:
            self.filled += 1

    def ready(self):
        return self.filled >= self.window

    def sums(self, sensel):
        s1 = s2 = 0
        ring, n = self._ring, self.sensors
        for k in range(self.window):
            x = ring[k * n + sensel]
            s1 += x
            s2 += x * x
        return s1, s2

    def measure(self, value):
        """Set baseline and gates from the window for ZERO ``value`` (-1, 0 or counts > 0)."""
        baseline = array("l", [0] * self.sensors)
        gate = array("l", [0] * self.sensors)
        for i in range(self.sensors):
            s1, s2 = self.sums(i)
            baseline[i], gate[i] = sensel_gate(s1, s2, self.window, value)
        self.baseline, self.gate = baseline, gate
        self.gate_counts = None if value == NO_GATE else value

    def apply(self, raw, out):
        """``out`` = what the frame carries for the raw scan ``raw`` (a copy before any ZERO)."""
        baseline, gate = self.baseline, self.gate
        if baseline is None or gate is None:
            for i in range(self.sensors):
                out[i] = raw[i]
            return out
        for i in range(self.sensors):
            d = raw[i] - baseline[i]
            out[i] = d if d >= gate[i] else 0
        return out
