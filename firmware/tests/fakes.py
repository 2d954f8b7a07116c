"""Fakes of the board's hardware with the real APIs (machine.ADC, machine.Pin, the time module).

The clock is simulated: time moves only when the code under test sleeps or the ADC converts,
so timing tests are exact and never depend on the machine's load. Ticks wrap at 2**30 as on
the rp2 port, so the 64-bit extension of ``Scanner.now_us`` is exercised.
"""

TICKS_PERIOD = 1 << 30
TICKS_HALF = TICKS_PERIOD >> 1


class FakeClock:
    def __init__(self, start=0):
        self.t = start  # true microseconds, unbounded

    def ticks_us(self):
        return self.t & (TICKS_PERIOD - 1)

    def ticks_add(self, ticks, delta):
        return (ticks + delta) & (TICKS_PERIOD - 1)

    def ticks_diff(self, a, b):
        return ((a - b + TICKS_HALF) & (TICKS_PERIOD - 1)) - TICKS_HALF

    def sleep_us(self, us):
        if us > 0:
            self.t += us

    def advance(self, us):
        self.t += us


class FakePin:
    def __init__(self):
        self.level = 0
        self.writes = 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        self.writes += 1


class FakeMuxAdc:
    """An ADC behind a multiplexer: reads ``loads[channel]`` (counts of ``bits``) as read_u16 does.

    ``noise`` is a list of offsets cycled through read by read; every conversion takes
    ``convert_us`` of the fake clock.
    """

    def __init__(self, pins, clock, loads, bits=12, noise=(0,), convert_us=2):
        self.pins, self.clock, self.loads, self.bits = pins, clock, list(loads), bits
        self.noise, self.convert_us, self.reads = noise, convert_us, 0

    def channel(self):
        c = 0
        for bit, pin in enumerate(self.pins):
            c |= pin.value() << bit
        return c

    def read_u16(self):
        x = self.loads[self.channel()] + self.noise[self.reads % len(self.noise)]
        self.reads += 1
        self.clock.advance(self.convert_us)
        x = max(0, min((1 << self.bits) - 1, x))
        return x << (16 - self.bits)  # machine.ADC scales every reading to 16 bits


class FakeLink:
    """The link of firmware/insole.py: bytes the host sent wait in ``incoming``; ``sent`` is the wire."""

    def __init__(self):
        self.incoming = bytearray()
        self.sent = bytearray()
        self.full = False  # True: the transmit buffer is full (room() says no)

    def read(self, n=64):
        data = bytes(self.incoming[:n])
        self.incoming = self.incoming[n:]
        return data

    def write(self, data):
        self.sent.extend(data)

    def room(self):
        return not self.full

    def take(self):
        """The packets sent since the last take, as COBS frames (between the 0x00 delimiters)."""
        frames = [f for f in bytes(self.sent).split(b"\x00") if f]
        self.sent = bytearray()
        return frames


class FakeWdt:
    """machine.WDT(timeout=ms): counts feeds."""

    def __init__(self, timeout=2000):
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1
