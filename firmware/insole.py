"""The insole's main loop: scan on the deadline grid and speak the protocol (docs/protocol.md).

Everything the loop touches is handed in (STYLE item 13), so this file runs on the board
(firmware/board.py wires machine.ADC, Pin, WDT and the USB link) and on a PC (the tests'
fakes; firmware/unix_main.py behind a pseudo-terminal):

- ``scanner``: a firmware.scanner.Scanner (ADC, multiplexer pins and clock inside);
- ``link``: the byte stream to the kiosk: ``read(n)`` -> up to n bytes waiting (b"" or None
  if none, never blocks), ``write(buf)`` (writes all of it), ``room()`` -> True when a frame can
  be written now without waiting (else the frame is dropped and counted, protocol section 12);
- ``wdt``: has ``feed()`` (machine.WDT); fed once per loop pass that scanned, so a loop that
  hangs or keeps failing is reset by the hardware;
- ``led``: the identify LED (``value(v)``, machine.Pin) or None; ``health``: battery and
  temperature (firmware.health.Health).

One pass of ``step()``: wait for the deadline, scan, remember the scan for ZERO, send the
frame while streaming, read and answer commands, send STATUS every second while streaming
and HELLO every 2 s while idle. A reset is a reset: the board restarts with seq 0 and a
HELLO first, and forgets its zero (it lives in RAM), as section 5 requires.
"""

from array import array

from firmware import wire
from firmware.version import PROTOCOL_MAX, PROTOCOL_MIN, VERSION
from firmware.zero import NO_GATE, Zero

HELLO_IDLE_US = 2000000  # HELLO every 2 s while not streaming (section 5)
STATUS_US = 1000000  # STATUS every second while streaming (section 7)
RX_MAX = 64  # receive buffer: the longest COMMAND is 30 bytes after COBS (section 2)
BLINK_US = 250000  # identify LED half-period
MAX_RATE_HZ = 300  # SET_RATE above this is BAD_VALUE; below, the nearest of config.RATES_HZ
BREAK_IN = b"\r\x03"  # what mpremote sends first to take over the board (never a COMMAND's start)


def whole(value):
    """``value`` as an int if it is a whole number, else None (also for NaN and infinities)."""
    try:
        i = int(value)
    except (ValueError, OverflowError):
        return None
    return i if i == value else None


class Insole:
    def __init__(self, cfg, scanner, link, wdt, led=None, health=None, rates=(100, 200)):
        self.cfg = cfg
        self.scanner = scanner
        self.link = link
        self.wdt = wdt
        self.led = led
        self.health = health
        self.rates = rates
        self.kind = wire.KIND_LEFT if cfg["side"] == "left" else wire.KIND_RIGHT
        self.address = cfg["address"]
        self.bits = cfg["bits"]
        self.frame_type = wire.FRAME_TYPE[self.bits]
        self.zero_max = cfg.get("zero_max_counts", 400)
        n = cfg["sensors"]
        self.zero = Zero(n)
        self.out = array("H", [0] * n)  # the frame's counts, reused every scan
        self.version = PROTOCOL_MAX  # the preferred version after every power-up (section 8)
        self.seq = 0
        self.streaming = False
        self.frames_sent = 0
        self.frames_dropped = 0
        self.rx_errors = 0
        self.sensor_faults = 0
        self.ignored = 0  # commands for another address
        self.rx = bytearray()
        self.rx_overflow = False
        self.break_in = False  # mpremote asked for the REPL: run() returns
        self.zero_pending = None  # (command seq, op, value) of a ZERO waiting for a full window
        self.blink_until = None
        self.next_hello = 0
        self.next_status = 0
        self._hello = None  # cached HELLO payload; rebuilt when rate or zero state change

    # -- sending ---------------------------------------------------------------------------

    def send(self, ptype, payload, t_us=None):
        if t_us is None:
            t_us = self.scanner.now_us()
        self.link.write(wire.seal(self.version, ptype, self.address, self.seq, t_us, payload))
        self.seq = (self.seq + 1) & 0xFFFFFFFF

    def hello_payload(self):
        if self._hello is None:
            cfg = self.cfg
            zeroed = self.zero.baseline is not None
            self._hello = wire.hello_payload(
                self.kind, self.bits, self.scanner.rate_hz, cfg["serial"], VERSION, cfg["sensors"],
                positions=cfg.get("positions"), areas=cfg.get("areas"), zeroed=zeroed,
                gate=self.zero.gate_counts if zeroed else None,
                protocol_min=PROTOCOL_MIN, protocol_max=PROTOCOL_MAX)
        return self._hello

    def send_hello(self):
        self.send(wire.HELLO, self.hello_payload())
        self.next_hello = self.scanner.now_us() + HELLO_IDLE_US

    def send_status(self):
        h = self.health
        zeroed = self.zero.baseline is not None
        payload = wire.status_payload(
            h.battery() if h else None, h.temperature() if h else None, self.scanner.rate_hz,
            self.frames_dropped, self.rx_errors, self.sensor_faults, streaming=self.streaming,
            zeroed=zeroed, gated=zeroed and self.zero.gate_counts is not None,
            missed_deadlines=self.scanner.missed)
        self.send(wire.STATUS, payload)

    def ack(self, cmd_seq, op, result, message=""):
        self.send(wire.ACK, wire.ack_payload(cmd_seq, op, result, message))

    # -- the loop --------------------------------------------------------------------------

    def start(self):
        """Power-up: the HELLO with seq 0 comes first (section 5)."""
        self.send_hello()

    def run(self):
        """Forever, until mpremote breaks in (then the board's REPL takes the port)."""
        self.start()
        while not self.break_in:
            self.step()

    def step(self):
        scanner = self.scanner
        t_us = scanner.wait()
        try:
            raw = scanner.scan()
        except Exception:  # an ADC error: counted in STATUS; the watchdog is not fed for this pass
            self.sensor_faults += 1
            self.receive()
            return
        self.zero.remember(raw)
        if self.streaming:
            if self.link.room():
                payload = wire.frame_payload(self.zero.apply(raw, self.out), self.bits)
                self.send(self.frame_type, payload, t_us)
                self.frames_sent += 1
            else:
                self.frames_dropped += 1  # never sent late: no seq used (section 3)
        self.receive()
        if self.zero_pending is not None and self.zero.ready():
            cmd_seq, op, value = self.zero_pending
            self.zero_pending = None
            self.finish_zero(cmd_seq, op, value)
        if self.streaming:
            if t_us >= self.next_status:
                self.send_status()
                self.next_status = t_us + STATUS_US
        elif t_us >= self.next_hello:
            self.send_hello()
        if self.blink_until is not None:
            self.blink(t_us)
        self.wdt.feed()

    def blink(self, t_us):
        led, until = self.led, self.blink_until
        if led is None or until is None:
            return
        if t_us >= until:
            self.blink_until = None
            led.value(0)
        else:
            led.value((t_us // BLINK_US) & 1)

    # -- receiving -------------------------------------------------------------------------

    def receive(self):
        # A byte at a time, at most RX_MAX a pass: after mpremote's break-in the bytes that
        # follow (its Ctrl-A) must stay unread for the REPL that takes over.
        for _ in range(RX_MAX):
            data = self.link.read(1)
            if not data:
                return
            self.receive_byte(data[0])
            if self.break_in:
                return

    def receive_byte(self, byte):
        rx = self.rx
        if byte == 0:
            if rx and not self.rx_overflow:
                self.handle(rx)
            self.rx = bytearray()
            self.rx_overflow = False
        elif len(rx) >= RX_MAX:
            if not self.rx_overflow:
                self.rx_errors += 1  # longer than any COMMAND: junk until the next 0x00
                self.rx_overflow = True
        else:
            rx.append(byte)
            if len(rx) == 2 and rx == BREAK_IN:
                self.break_in = True

    def handle(self, frame):
        try:
            version, device, cmd_seq, op, value = wire.parse_command(frame)
        except ValueError:
            self.rx_errors += 1  # not answered: its seq cannot be trusted (section 9)
            return
        if not PROTOCOL_MIN <= version <= PROTOCOL_MAX:
            self.rx_errors += 1  # a version this firmware cannot read
            return
        if device != self.address and device != wire.BROADCAST:
            self.ignored += 1
            return
        self.command(cmd_seq, op, value)

    def command(self, cmd_seq, op, value):
        if op == wire.START:
            if not self.streaming:
                self.streaming = True
                self.next_status = self.scanner.now_us()
            self.ack(cmd_seq, op, wire.OK)
        elif op == wire.STOP:
            self.streaming = False
            self.next_hello = self.scanner.now_us() + HELLO_IDLE_US
            self.ack(cmd_seq, op, wire.OK)
        elif op == wire.SET_RATE:
            self.set_rate(cmd_seq, op, value)
        elif op == wire.IDENTIFY:
            seconds = whole(value)
            if seconds is None or not 0 <= seconds <= 255:
                self.ack(cmd_seq, op, wire.BAD_VALUE, "identify takes whole seconds 0..255")
            elif self.led is None:
                self.ack(cmd_seq, op, wire.UNSUPPORTED, "this board has no identify LED (config pins.led)")
            else:
                self.blink_until = self.scanner.now_us() + seconds * 1000000 if seconds else None
                if not seconds:
                    self.led.value(0)
                self.ack(cmd_seq, op, wire.OK)
        elif op == wire.ZERO:
            gate = whole(value)
            top = (1 << self.bits) - 1
            if gate is None or not NO_GATE <= gate <= top:
                self.ack(cmd_seq, op, wire.BAD_VALUE,
                         f"gate {value} counts: give a whole number 1..{top}, 0 (default) or -1 (no gate)")
            elif self.zero.ready():
                self.finish_zero(cmd_seq, op, gate)
            else:
                self.zero_pending = (cmd_seq, op, gate)  # answered after the first W scans (section 9.1)
        elif op == wire.SET_PROTOCOL:
            v = whole(value)
            if v is None or not PROTOCOL_MIN <= v <= PROTOCOL_MAX:
                spoken = f"v{PROTOCOL_MIN}" if PROTOCOL_MIN == PROTOCOL_MAX else f"v{PROTOCOL_MIN}..v{PROTOCOL_MAX}"
                self.ack(cmd_seq, op, wire.UNSUPPORTED, f"this insole speaks protocol {spoken} only")
            else:
                self.version = v  # the ACK and everything after it in that version (section 8)
                self.ack(cmd_seq, op, wire.OK)
        elif op == wire.GET_HELLO:
            self.ack(cmd_seq, op, wire.OK)
            self.send_hello()
        elif op == wire.GET_STATUS:
            self.ack(cmd_seq, op, wire.OK)
            self.send_status()
        else:
            self.ack(cmd_seq, op, wire.UNKNOWN_COMMAND, f"unknown command op {op}")

    def set_rate(self, cmd_seq, op, value):
        if not value > 0 or value > MAX_RATE_HZ:  # (also NaN)
            self.ack(cmd_seq, op, wire.BAD_VALUE, f"rate {value} Hz outside 0..{MAX_RATE_HZ} Hz "
                     f"(this insole scans at {' or '.join(str(r) for r in self.rates)} Hz)")
            return
        best = self.rates[0]
        for r in self.rates:
            if abs(r - value) < abs(best - value):
                best = r
        if best != self.scanner.rate_hz:
            self.scanner.set_rate(best)
            self._hello = None
        message = "" if best == value else f"scanning at {best} Hz, the nearest rate this insole has"
        self.ack(cmd_seq, op, wire.OK, message)

    def finish_zero(self, cmd_seq, op, gate):
        """Load check, then baseline and gate from the window; ACK, then the new HELLO (section 9.1)."""
        zero, w = self.zero, self.zero.window
        for i in range(zero.sensors):
            mean = (zero.sums(i)[0] + w // 2) // w
            if mean > self.zero_max:
                self.ack(cmd_seq, op, wire.BUSY, f"the sensor is loaded (sensor {i} reads {mean} counts): "
                         "ask the patient to step off, then zero")
                return
        zero.measure(gate)
        self._hello = None
        self.ack(cmd_seq, op, wire.OK)
        self.send_hello()
