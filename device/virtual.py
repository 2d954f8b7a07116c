"""A virtual sensor that behaves like the real firmware, byte for byte.

:class:`VirtualDevice` is the device side of the wire protocol
(docs/protocol.md): it says HELLO when powered on (and every few seconds while
idle), answers every COMMAND with an ACK, streams pressure frames at its own
pace from its own clock once started, and sends a STATUS about once a second.
It is transport-free: the host's bytes go in with :meth:`write`, the device's
bytes come out of :meth:`read_available` once they are due on the host clock.
The ``sim://`` and ``replay://`` URL handlers put it behind a pyserial port in
the same process; :mod:`device.pty` puts it behind a pseudo-terminal.

What it models of a real link, all seeded and deterministic:

- its own clock: ``t_us`` starts at ``boot_clock_s`` when powered on and runs
  ``drift_ppm`` fast (negative: slow) against the host's;
- USB latency: each packet reaches the host ``uniform(0, jitter_s)`` after it
  was sampled, never out of order;
- lost and damaged packets: ``drop_rate`` of frames are lost on the line
  (the device sent them, so the sequence number advances and the host sees a
  gap) and ``corrupt_rate`` of packets get one bit flipped on the line;
- a host that does not read: frames older than ``backlog_s`` are dropped
  on the device, counted in its STATUS ``frames_dropped``, and -- as
  docs/protocol.md says -- do not advance the sequence number;
- being unplugged and plugged back (:meth:`unplug`, :meth:`plug`): a reboot,
  so the clock and the sequence number restart.

Sequence numbers count every packet a device sends (HELLO, FRAME, STATUS,
ACK), so a reader sees a gap whatever kind of packet was lost.

What it streams comes from a :class:`FrameSource`: the virtual patient
(``device.handlers.protocol_sim``), a recording (``protocol_replay``), or the
:class:`TestPattern` here, whose every count is a function of the sample
index so tests can prove a frame was neither invented nor mangled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from device import framing
from device.framing import (
    BROADCAST,
    Ack,
    AckResult,
    Command,
    CommandOp,
    Deframer,
    DeviceKind,
    Hello,
    Packet,
    PacketType,
    Status,
)

Clock = Callable[[], float]

MAX_RATE_HZ = 1000.0
HELLO_IDLE_INTERVAL_S = 2.0
MAX_BURST = 256  # frames produced per call at most (a fast replay must not fill memory)


class FrameSource:
    """What a virtual device measures. Subclasses fill in the geometry and :meth:`counts`."""

    kind: DeviceKind = DeviceKind.MAT
    rows: int = 1
    cols: int = 1
    pitch_mm: tuple[float, float] = (0.0, 0.0)
    bits: int = 12  # on the wire: 16, 12 (packed) or 8
    kpa_per_count: float = 0.0  # > 0: counts are calibrated pressure
    sensors_mm: np.ndarray | None = None  # insoles: (N, 2) positions
    sensor_area_mm2: np.ndarray | None = None  # insoles: (N,) areas

    @property
    def shape(self) -> tuple[int, ...]:
        return framing.frame_shape(self.rows, self.cols)

    def counts(self, t_host: float, index: int) -> np.ndarray:
        """Counts of the sample taken at host time ``t_host`` (s), the ``index``-th since start."""
        raise NotImplementedError

    # What the device does to its counts since its last ZERO (HELLO zero state, STATUS flags).
    zeroed: bool = False
    gate_counts: int | None = None  # None: no gate; 0: per-sensel (GATE_SIGMAS x noise); > 0: counts

    def zero(self, t_host: float, gate: int = 0, period_s: float = 0.01) -> tuple[AckResult, str]:
        """ZERO command (docs/protocol.md section 9): baseline and noise gate from the last scans.

        ``gate`` is the command's value, already checked (-1 no gate, 0 default,
        > 0 counts); ``period_s`` the scan period. Default: nothing to correct.
        """
        return AckResult.OK, ""

    def forget_zero(self) -> None:
        """Power-up: the on-board zero lives in RAM, a reset loses it (HELLO then says so)."""
        self.zeroed, self.gate_counts = False, None

    # A recorded source plays its own timestamps instead of the device's rate:
    # sample_time(i) is the i-th sample's time (s) since the first one, and the
    # source says when it has no more. speed 0 means "as fast as possible".
    recorded: bool = False
    speed: float = 1.0

    def sample_time(self, index: int) -> float:
        raise NotImplementedError

    def finished(self, index: int) -> bool:
        """True when sample ``index`` does not exist (the end of a recording)."""
        return False

    def epoch(self, now: float) -> float:
        """Host time at which a recorded source's sample_time 0 plays (shared by its devices)."""
        return now


class TestPattern(FrameSource):
    """Counts ``(7 * index + i) mod 2**bits`` for sensel ``i`` of sample ``index``.

    A technician's test pattern, and the tests' proof: a delivered frame whose
    counts are not :meth:`expected` for its position in the stream was
    invented or damaged on the way.
    """

    __test__ = False  # not a pytest class

    def __init__(self, kind: DeviceKind = DeviceKind.MAT, rows: int = 48, cols: int = 48, bits: int = 12,
                 pitch_mm: tuple[float, float] = (8.47, 8.47)):
        self.kind = DeviceKind(kind)
        self.rows, self.cols, self.bits = int(rows), int(cols), int(bits)
        self.pitch_mm = pitch_mm if self.kind == DeviceKind.MAT else (0.0, 0.0)
        self._ramp = np.arange(self.rows * self.cols, dtype=np.int64)

    def counts(self, t_host: float, index: int) -> np.ndarray:
        return self.expected(index, self.shape, self.bits)

    @staticmethod
    def expected(index: int, shape: tuple[int, ...], bits: int = 12) -> np.ndarray:
        n = int(np.prod(shape))
        values = (7 * index + np.arange(n, dtype=np.int64)) % (1 << bits)
        return values.astype(np.uint16).reshape(shape)

    @staticmethod
    def index_of(counts: np.ndarray, bits: int = 12) -> int:
        """The sample index (mod 2**bits / gcd) a pattern frame encodes, from its first sensel."""
        return int(counts.flat[0]) * pow(7, -1, 1 << bits) % (1 << bits)


class VirtualDevice:
    """One virtual sensor speaking the wire protocol. Not thread-safe: callers lock."""

    def __init__(
        self,
        source: FrameSource,
        *,
        serial: str,
        firmware: str = "gaitkiosk-virtual 1.0",
        rate_hz: float = 100.0,
        address: int = 1,
        clock: Clock = time.monotonic,
        boot_clock_s: float = 0.0,
        drift_ppm: float = 0.0,
        jitter_s: float = 0.0,
        drop_rate: float = 0.0,
        corrupt_rate: float = 0.0,
        backlog_s: float = 1.0,
        status_interval_s: float = 1.0,
        protocol: int = framing.PROTOCOL_VERSION,
        protocol_min: int | None = None,
        battery_pct: int | None = None,
        seed: int = 0,
        powered: bool = True,
    ) -> None:
        if not 0 < rate_hz <= MAX_RATE_HZ:
            raise ValueError(f"rate_hz must be in (0, {MAX_RATE_HZ:g}], got {rate_hz}")
        for name, p in (("drop_rate", drop_rate), ("corrupt_rate", corrupt_rate)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {p}")
        self.source = source
        self.serial = serial
        self.firmware = firmware
        self.address = address
        self.clock = clock
        self.boot_clock_s = float(boot_clock_s)
        self.drift = float(drift_ppm) * 1e-6
        self.jitter_s = float(jitter_s)
        self.drop_rate = float(drop_rate)
        self.corrupt_rate = float(corrupt_rate)
        self.backlog_s = float(backlog_s)
        self.status_interval_s = float(status_interval_s)
        # It can speak protocol_min..protocol and starts every power-up in ``protocol``,
        # its newest (docs/protocol.md section 8); SET_PROTOCOL switches it within that range.
        self.protocol = int(protocol)
        self.protocol_min = self.protocol if protocol_min is None else int(protocol_min)
        if not 0 <= self.protocol_min <= self.protocol <= 255:
            raise ValueError(f"protocol range v{self.protocol_min}..v{self.protocol} is not a range of u8 versions")
        self.speaking = self.protocol
        self.battery_pct = battery_pct
        self.rng = np.random.default_rng(seed)
        self.default_rate_hz = float(rate_hz)
        # Totals across reboots, for tests and the pty server's summary.
        self.frames_sent = 0
        self.frames_dropped_total = 0  # dropped on the device (backlog)
        self.frames_lost_on_line = 0  # sent, then lost (drop_rate)
        self.commands = 0
        # Scans skipped because the scan loop overran, as the insole firmware reports them in
        # STATUS; a simulated device never overruns unless a test says so (None: not sent).
        self.missed_deadlines: int | None = None
        self.plugged = False
        if powered:
            self.plug()

    # -- power ------------------------------------------------------------------------

    def plug(self) -> None:
        """Power on (or reboot): fresh clock and sequence number, idle, says HELLO."""
        now = self.clock()
        self.plugged = True
        self.speaking = self.protocol
        self.source.forget_zero()
        self._on_host = now
        self._seq = 0
        self._rate = self.default_rate_hz
        self._streaming = False
        self._index = 0  # samples taken since START
        self._anchor_dev = 0.0  # device time of sample _anchor_index
        self._anchor_index = 0
        self._latency: float | None = None  # drawn once per sample
        self._play_epoch = now
        self._frames_dropped = 0
        self._rx_errors = 0
        self._ready = bytearray()
        self._last_avail = now
        self._next_status = math.inf
        self._next_hello = now + HELLO_IDLE_INTERVAL_S
        self._finished = False
        self._rx = Deframer()
        self._send(PacketType.HELLO, self.hello(), now)

    def unplug(self) -> None:
        """Pull the cable: nothing more goes out, whatever was in flight is lost."""
        self.plugged = False
        self._ready = bytearray()

    # -- clocks -----------------------------------------------------------------------

    def device_time(self, t_host: float) -> float:
        """The device's clock (s) at host time ``t_host``."""
        return self.boot_clock_s + (t_host - self._on_host) * (1.0 + self.drift)

    def host_time(self, t_device: float) -> float:
        """The host instant at which the device clock reads ``t_device``."""
        return self._on_host + (t_device - self.boot_clock_s) / (1.0 + self.drift)

    @property
    def streaming(self) -> bool:
        return self.plugged and self._streaming

    @property
    def rate_hz(self) -> float:
        return self._rate

    @property
    def finished(self) -> bool:
        """The source has nothing more to stream (a recording that ended)."""
        return self._finished

    def hello(self) -> Hello:
        s = self.source
        return Hello(
            kind=s.kind, serial=self.serial, firmware=self.firmware, rate_hz=self._rate,
            rows=s.rows, cols=s.cols, pitch_mm=tuple(s.pitch_mm), bits=s.bits,
            kpa_per_count=s.kpa_per_count, sensors_mm=s.sensors_mm, sensor_area_mm2=s.sensor_area_mm2,
            protocol_min=self.protocol_min, protocol_max=self.protocol,
            zeroed=s.zeroed, gate_counts=s.gate_counts,
        )

    # -- host -> device -----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Bytes from the host: decode commands and act on them."""
        if not self.plugged:
            return
        now = self.clock()
        self._produce(now)
        before = self._rx.counters.resyncs
        packets = self._rx.feed(data)
        self._rx_errors += self._rx.counters.resyncs - before
        for packet in packets:
            if packet.type != PacketType.COMMAND:
                continue
            if packet.device not in (self.address, BROADCAST):
                continue
            self.commands += 1
            self._command(packet, now)

    def _command(self, packet: Packet, now: float) -> None:
        cmd: Command = packet.body
        op = cmd.op
        result, message = AckResult.OK, ""
        if op == CommandOp.START:
            if not self._streaming:
                self._start(now)
        elif op == CommandOp.STOP:
            self._streaming = False
            self._next_status = math.inf
            self._next_hello = now + HELLO_IDLE_INTERVAL_S
        elif op == CommandOp.SET_RATE:
            rate = float(cmd.value)
            if self.source.recorded:
                if rate != self._rate:
                    result, message = AckResult.UNSUPPORTED, f"a recording plays at its recorded {self._rate:g} Hz"
            elif not 0 < rate <= MAX_RATE_HZ:
                result, message = AckResult.BAD_VALUE, f"rate {rate:g} Hz outside 0..{MAX_RATE_HZ:g} Hz"
            else:
                self._rate = rate
                if self._streaming:
                    self._reanchor(now)
        elif op == CommandOp.IDENTIFY:
            pass  # a real board blinks its LED for cmd.value seconds
        elif op == CommandOp.ZERO:
            gate = cmd.value
            top = (1 << self.source.bits) - 1
            if not (float(gate).is_integer() and framing.NO_GATE <= gate <= top):
                result, message = AckResult.BAD_VALUE, f"gate {gate:g} counts: give a whole number 1..{top}, 0 (default) or -1 (no gate)"
            else:
                result, message = self.source.zero(now, gate=int(gate), period_s=1.0 / self._rate)
        elif op == CommandOp.SET_PROTOCOL:
            wanted = cmd.value
            if float(wanted).is_integer() and self.protocol_min <= wanted <= self.protocol:
                self.speaking = int(wanted)  # the ACK and everything after it in that version
            else:
                spoken = (f"v{self.protocol}" if self.protocol_min == self.protocol
                          else f"v{self.protocol_min}..v{self.protocol}")
                result, message = AckResult.UNSUPPORTED, f"this device speaks protocol {spoken} only"
        elif op not in (CommandOp.GET_HELLO, CommandOp.GET_STATUS):
            result, message = AckResult.UNKNOWN_COMMAND, f"unknown command op {int(op)}"
        self._send(PacketType.ACK, Ack(packet.seq, op, result, message), now)
        # The probes' answers follow their ACK, as on a real device (docs/protocol.md section 9).
        if op == CommandOp.GET_HELLO:
            self._send(PacketType.HELLO, self.hello(), now)
        elif op == CommandOp.GET_STATUS:
            self._send(PacketType.STATUS, self.status(), now)
        if op == CommandOp.ZERO and result == AckResult.OK:
            # The zero state is part of the identity card: say it at once (docs/protocol.md section 9).
            self._send(PacketType.HELLO, self.hello(), now)

    def _start(self, now: float) -> None:
        self._streaming = True
        self._next_status = now + self.status_interval_s
        if self.source.recorded:
            self._play_epoch = self.source.epoch(now)
            return  # a replay resumes where it is; the shared epoch keeps its devices in step
        self._index = 0
        self._reanchor(now)

    def _reanchor(self, now: float) -> None:
        # The next sample falls on the next multiple of the period of the device clock.
        period = 1.0 / self._rate
        t_dev = self.device_time(now)
        self._anchor_dev = math.ceil(t_dev / period) * period
        self._anchor_index = self._index
        self._latency = None

    # -- device -> host -------------------------------------------------------------------

    def status(self) -> Status:
        return Status(
            battery_pct=self.battery_pct, temperature_c=31.5, streaming=self._streaming,
            rate_hz=self._rate if self._streaming else 0.0, frames_dropped=self._frames_dropped,
            rx_errors=self._rx_errors, sensor_faults=0,
            zeroed=self.source.zeroed, gated=self.source.gate_counts is not None,
            missed_deadlines=self.missed_deadlines,
        )

    def bytes_per_s(self) -> float:
        """About how many bytes a second it sends while streaming (its frames, packed)."""
        src = self.source
        return src.rows * src.cols * max(src.bits, 8) / 8.0 * self._rate if self.plugged else 0.0

    def read_available(self, now: float | None = None) -> bytes:
        """Every byte the host has received by host time ``now`` (default: the clock)."""
        if not self.plugged:
            return b""
        self._produce(self.clock() if now is None else now)
        out = bytes(self._ready)
        self._ready = bytearray()
        return out

    def next_due(self) -> float:
        """Host time when more bytes arrive (inf: none until a command)."""
        if not self.plugged:
            return math.inf
        if self._ready:
            return -math.inf
        due = self._next_hello if not self._streaming else self._next_status
        if self._streaming and not self._finished:
            due = min(due, self._next_arrival()[1])
        return due

    def _sample_host(self, index: int) -> float:
        source = self.source
        if source.recorded:
            if source.speed <= 0:
                return self._play_epoch
            return self._play_epoch + source.sample_time(index) / source.speed
        t_dev = self._anchor_dev + (index - self._anchor_index) / self._rate
        return self.host_time(t_dev)

    def _sample_device_time(self, index: int, t_sample: float) -> float:
        if self.source.recorded:
            # A replay's clock is the recording's: t_device gives back the recorded times.
            return self.boot_clock_s + self.source.sample_time(index)
        return self.device_time(t_sample)

    def _next_arrival(self) -> tuple[float, float]:
        """(sample instant, arrival) of the next sample; its latency is drawn once."""
        t_sample = self._sample_host(self._index)
        if self._latency is None:
            self._latency = self.rng.uniform(0.0, self.jitter_s) if self.jitter_s else 0.0
        return t_sample, max(self._last_avail, t_sample + self._latency)

    def _produce(self, now: float) -> None:
        if not self._streaming:
            if now >= self._next_hello:
                self._send(PacketType.HELLO, self.hello(), self._next_hello)
                self._next_hello = now + HELLO_IDLE_INTERVAL_S
            return
        source = self.source
        burst = 0
        while not self._finished:
            if source.finished(self._index):
                self._finished = True
                break
            t_sample, avail = self._next_arrival()
            if avail > now or burst >= MAX_BURST:
                break
            self._latency = None
            if now - t_sample > self.backlog_s and not source.recorded:
                # Nobody read for a while: the device's buffer overflowed.
                self._frames_dropped += 1
                self.frames_dropped_total += 1
            else:
                burst += 1
                counts = source.counts(t_sample, self._index)
                self._emit_frame(counts, self._sample_device_time(self._index, t_sample), avail)
            self._index += 1
            if t_sample >= self._next_status:
                self._send(PacketType.STATUS, self.status(), avail)
                self._next_status = t_sample + self.status_interval_s

    def _emit_frame(self, counts: np.ndarray, t_dev: float, avail: float) -> None:
        seq = self._seq
        self._seq = (seq + 1) & 0xFFFFFFFF
        if self.drop_rate and self.rng.random() < self.drop_rate:
            self.frames_lost_on_line += 1
            return
        wire = framing.encode_frame(
            self.address, seq, _us(t_dev), counts, bits=self.source.bits, version=self.speaking
        )
        self.frames_sent += 1
        self._put(wire, avail)

    def _send(self, ptype: PacketType, body, t_host: float) -> None:
        seq = self._seq
        self._seq = (seq + 1) & 0xFFFFFFFF
        packet = Packet(ptype, self.address, seq, _us(self.device_time(t_host)), body, self.speaking)
        self._put(framing.encode_packet(packet), max(self._last_avail, t_host))

    def _put(self, wire: bytes, avail: float) -> None:
        if self.corrupt_rate and self.rng.random() < self.corrupt_rate:
            wire = bytearray(wire)
            bit = int(self.rng.integers(8, 8 * (len(wire) - 1)))  # spare the delimiters
            wire[bit // 8] ^= 1 << (bit % 8)
            wire = bytes(wire)
        self._last_avail = avail
        self._ready += wire


def _us(t_s: float) -> int:
    return max(0, round(t_s * 1e6)) & 0xFFFFFFFFFFFFFFFF
