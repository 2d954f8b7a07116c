"""A simulated board for the MicroPython unix port: an ADC that plays recorded insole loads
through the real multiplexer logic, select pins, and a watchdog with machine.WDT's API.

The loads are files of little-endian u16 counts, ``sensors`` per scan, played from their bytes (the unix port has no
numpy; tests write them from the virtual patient). The ADC plays the *unloaded* scans in a
loop until ``stepped_on()`` says the person stepped on, then the *loaded* scans in a loop:
so a test zeroes on an empty insole whenever it is ready, without racing the clock.
"""

STEP_CHECK_SCANS = 32  # how often (in scans) the unloaded loop asks stepped_on()


def read_counts(path):
    """A file of u16 LE counts, kept as its bytes (an array would need a second copy to build)."""
    with open(path, "rb") as f:
        return f.read()


class SimPin:
    """machine.Pin's value() for an output pin."""

    def __init__(self):
        self.level = 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        return None


class PlayedAdc:
    """machine.ADC's read_u16() for the channel the mux pins select, scan after scan.

    A scan is ``sensors * oversample`` reads (the scanner's order); each read returns the
    scan's count for the selected channel, scaled to 16 bits as the rp2 port does, with
    read noise that cancels in the mean of ``oversample`` reads (so the frame is bit-exact).
    """

    NOISE = (-1, 1, 0, 0)

    def __init__(self, pins, unloaded, loaded, sensors=16, oversample=4, bits=12, stepped_on=None):
        self.pins, self.sensors, self.oversample, self.bits = pins, sensors, oversample, bits
        self.unloaded, self.loaded = unloaded, loaded
        self.stepped_on = stepped_on
        self.on = False
        self.scan = 0  # scans played so far
        self.row = 0  # index into the current section
        self.reads = 0
        self.per_scan = sensors * oversample
        self.top = (1 << bits) - 1

    def _section(self):
        return self.loaded if self.on else self.unloaded

    def read_u16(self):
        if self.reads == self.per_scan:
            self._next_scan()
        channel = 0
        for bit in range(len(self.pins)):
            channel |= self.pins[bit].value() << bit
        k = self.reads % self.oversample
        data, at = self._section(), 2 * (self.row * self.sensors + channel)
        x = data[at] | (data[at + 1] << 8)
        if self.oversample % len(self.NOISE) == 0:
            x += self.NOISE[k % len(self.NOISE)]
            x = 0 if x < 0 else (self.top if x > self.top else x)
        self.reads += 1
        return (x << (16 - self.bits)) | (x >> (2 * self.bits - 16))

    def _next_scan(self):
        self.reads = 0
        self.scan += 1
        rows = len(self._section()) // (2 * self.sensors)
        self.row += 1
        if self.row >= rows:
            self.row = 0
        if (not self.on and self.stepped_on is not None and self.scan % STEP_CHECK_SCANS == 0
                and self.stepped_on()):
            self.on, self.row = True, 0


class SimWdt:
    """machine.WDT(timeout=ms) with feed(); remembers when it was fed (it cannot reset a PC)."""

    def __init__(self, clock, timeout=2000):
        self.clock, self.timeout = clock, timeout
        self.feeds = 0
        self.last = clock.ticks_ms()

    def feed(self):
        self.feeds += 1
        self.last = self.clock.ticks_ms()

    def starving_ms(self):
        return self.clock.ticks_diff(self.clock.ticks_ms(), self.last)
