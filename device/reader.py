"""One reader thread per sensor: bytes from a port URL in, RawFrames out.

A :class:`DeviceReader` is built from a port URL and opened with
``serial.serial_for_url``: ``/dev/gaitkiosk/mat`` on a unit, ``sim://mat``
for the virtual patient, ``replay://file.npz`` for a recording, a pty path in
tests. Its thread only moves bytes (STYLE 3): the pure ``framing.Deframer``
turns them into packets, :class:`~device.clock.ClockAligner` puts each frame
on the host clock, and the frame goes into a bounded :class:`FrameQueue`.

The life of a link (``status().state``):

``connecting`` -> ``handshake`` (wait for the device's HELLO; ask with
GET_HELLO if none comes; agree a protocol version) -> ``streaming`` (START
sent; frames flow) -> on silence, a read error or an unplugged cable:
``disconnected``, then reopen every ``reconnect_interval_s`` -- looking the
sensor up again by its USB serial number if its port path is gone -- and
handshake again. ``incompatible``: the device speaks a protocol version this
kiosk does not (the reason says which side to update); retried slowly in case
it is re-flashed. ``finished``: a replayed recording ended. ``stopped``:
:meth:`close` was called.

Nothing a device sends can stop the thread: every bad packet is counted
(:class:`LinkCounters`), logged at most every few seconds, and skipped.

One reader reads ONE device: the address whose HELLO came first on the port
(docs/protocol.md section 1; a lone device uses 0). Packets are routed by their
address: another device on the same port never relabels this one or receives
its commands; its packets are counted (``other_devices``, or
``unknown_address`` if it never said HELLO), dropped, and named in
``status().other_devices``. A HELLO at this address with another serial or
geometry is a device swap (``device_swaps``, :attr:`DeviceReader.swaps`):
frames then carry a new ``RawFrame.swaps`` number, so a consumer never mixes two
devices' frames.
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial

from device import framing, ports, stall
from device.clock import ClockAligner, FrameClock
from device.errors import DeviceError, FrameError, PortNotFoundError, VersionError
from device.framequeue import FrameQueue
from device.frames import RawFrame
from device.framing import (
    BROADCAST,
    FRAME_TYPES,
    Ack,
    Command,
    CommandOp,
    Hello,
    Packet,
    PacketType,
    Skipped,
    Status,
)
from device.linkstate import (  # noqa: F401 - re-exported: the reader's public vocabulary
    CONNECTING,
    DISCONNECTED,
    FINISHED,
    HANDSHAKE,
    IDLE,
    INCOMPATIBLE,
    STATES,
    STOPPED,
    STREAMING,
    DeviceSwap,
    LinkCounters,
    ReaderStatus,
    same_device,
)
from device.resend import ACK_WAIT_S, Resender

log = logging.getLogger(__name__)

HELLO_PROBE_S = 0.25  # wait this long for a spontaneous HELLO before asking again
HELLO_RETRY_S = 0.5
HELLO_BACKLOG_FACTOR = 4  # a device whose valid packets keep coming gets this many hello timeouts
ZERO_HELLO_WAIT_S = 0.5  # a device sends its new HELLO right after a ZERO's ACK
INCOMPATIBLE_RETRY_S = 5.0
RATE_WINDOW_S = 0.5  # the measured rate is updated this often
LOG_EVERY_S = 5.0  # at most one fault log line per device per interval
U32 = 1 << 32
TTY_CHUNK = 4000  # close to the kernel's 4095-byte n_tty buffer
READ_SIZE = 65536  # one read of a port's descriptor (a tty gives at most its 4 kB buffer)
DRAIN_FD = True  # read a backlog straight from the port's descriptor (False: through pyserial, as before; benches)


class PortBusyError(DeviceError):
    """Another program holds the port (its exclusive lock)."""


class CommandError(DeviceError):
    """A device refused a command or did not acknowledge it in time."""


class _LinkLost(Exception):
    """The session ends: reopen the port."""

    def __init__(self, reason: str, retry_s: float | None = None):
        super().__init__(reason)
        self.retry_s = retry_s


class _Finished(Exception):
    """The source has nothing more to send (a replay ended)."""


@dataclass
class _Pending:
    op: CommandOp | int
    event: threading.Event = field(default_factory=threading.Event)
    ack: Ack | None = None


class DeviceReader:
    """Reads one sensor from a port URL in a background thread.

    ``open()`` opens the port once in the caller's thread, so a port that does
    not exist fails right there with a clear :class:`PortNotFoundError`; after
    that every loss is handled in the thread. Frames arrive in :attr:`frames`
    (or :meth:`get`); :meth:`status` tells what the link is doing.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        queue_frames: int = 256,
        baudrate: int = 921600,
        hello_timeout_s: float = 2.0,
        silence_timeout_s: float = 1.0,
        reconnect_interval_s: float = 0.5,
        read_timeout_s: float = 0.05,
        read_interval_s: float = 0.02,
        usb_ids: tuple[str, ...] | list[str] = (),
        stream: bool = True,
        rate_hz: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        serial_for_url: Callable[..., Any] = serial.serial_for_url,
        comports: Callable[[], Any] | None = None,
        locate: Callable[[str], str | None] | None = None,
    ) -> None:
        self.url = url
        self.name = name or url
        # A frame dropped because the consumer fell behind is counted into the next one
        # (RawFrame.dropped_before): the recording says how many frames it misses.
        self.frames: FrameQueue[RawFrame] = FrameQueue(queue_frames, carry=lambda gone, nxt: nxt.after_dropped(gone))
        self.baudrate = baudrate
        self.hello_timeout_s = hello_timeout_s
        self.silence_timeout_s = silence_timeout_s
        self.reconnect_interval_s = reconnect_interval_s
        self.read_timeout_s = read_timeout_s
        self.read_interval_s = read_interval_s
        self._interval = 0.0  # read_interval_s as it applies to this device (see _batch_interval)
        self._dither = random.Random(url)
        self.usb_ids = list(usb_ids)
        self.clock = clock
        self._serial_for_url = serial_for_url
        self._comports = comports or ports.system_comports
        self._locate = locate
        self.counters = LinkCounters()
        self.aligner = ClockAligner()
        self.frame_clock = FrameClock(self.aligner)
        self._want_streaming = stream
        self._want_rate = rate_hz
        self._state = CONNECTING
        self._reason = ""
        self._version_fault = ""  # packets of a protocol version we do not speak (sticky per session)
        self._hello: Hello | None = None
        self._hello_count = 0  # HELLOs received (reader.zero waits for the one after its ACK)
        self._address: int | None = None  # this reader's device on the port: the first to say HELLO
        self._others: dict[int, Hello] = {}  # other devices heard on the port, by address
        self.swaps: list[DeviceSwap] = []  # devices that replaced this one at its address
        self._device_status: Status | None = None
        self._usb_serial = ""
        self._port_url = url
        self._port: Any = None
        self._connected = False  # handshake done on the current port
        self._ever_connected = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()  # set on every successful handshake
        self._write_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._cmd_seq = 0
        self._pending: dict[int, _Pending] = {}
        self._own_commands: dict[int, CommandOp | int] = {}
        self._setup = Resender()  # own set-up commands awaiting their ACK (reader thread only)
        self._agreed_version = framing.PROTOCOL_VERSION
        self._deframer = framing.Deframer(on_error=self._on_frame_error, keep_skipped=True)
        self._last_seq: int | None = None
        self._last_frame_t_device: float | None = None  # for RawFrame.lost_before (the sample grid)
        self._status_seen: dict[str, int] = {}  # the device's STATUS counters last seen (this power-up)
        self._poll_port: Any = None  # the port _poller watches (see _poller_for)
        self._poller = None
        self._session_hello = False
        self._chunk_t_host: dict[int, float] = {}
        self._hello_version = framing.PROTOCOL_VERSION
        self._in_sync = False
        self._realtime = True
        self._last_frame_host: float | None = None
        self._last_poll: float | None = None  # when a read of the port last returned (with data or not)
        # time.monotonic() of the thread's latest turn (the kiosk's watchdog: gaitkiosk/watchdog.py).
        # Real time, not self.clock: it says whether this thread runs, not what the device's clock is.
        self.heartbeat = time.monotonic()
        self._rate_mark = (0.0, 0)  # (host time, frames) at the last rate update
        self._rate_hz = 0.0
        self._last_log = -1e9
        self._unlogged = 0

    # -- lifecycle ----------------------------------------------------------------------

    def open(self) -> DeviceReader:
        """Open the port (raising a clear error if it cannot be) and start the thread."""
        if self._thread is not None:
            raise DeviceError(f"{self.name}: reader already open")
        self._port = self._open_port(self.url)
        self._usb_serial = self._find_usb_serial(self.url)
        self._thread = threading.Thread(target=self._run, name=f"reader {self.name}", daemon=True)
        self._thread.start()
        return self

    start = open

    def close(self, timeout: float = 2.0) -> None:
        """Stop streaming (best effort), close the port and end the thread."""
        self._stopping.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            try:
                port.cancel_read()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self._thread is not None:
            self._thread.join(timeout)
        self._set_state(STOPPED, "")

    def __enter__(self) -> DeviceReader:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def wait_ready(self, timeout: float) -> Hello:
        """Block until the handshake is done; raise DeviceError with the reason if not in time."""
        if not self._ready.wait(timeout):
            st = self.status()
            raise DeviceError(
                f"{self.name} is not ready after {timeout:g} s: {st.state}"
                + (f" ({st.reason})" if st.reason else "")
            )
        return self._hello

    def get(self, timeout: float | None = None) -> RawFrame | None:
        """The oldest queued frame, waiting up to ``timeout`` s; None if none came."""
        return self.frames.get(timeout)

    @property
    def hello(self) -> Hello | None:
        return self._hello

    @property
    def realtime(self) -> bool:
        """False for a port whose device clock does not follow ours (a replay not at speed 1)."""
        return self._realtime

    def watched_silence_s(self) -> float | None:
        """How long this reader has itself watched its port since the device's last frame.

        The time between the last frame's arrival and the reader's latest read of
        the port: it grows only while the reader thread runs and finds nothing. A
        process that got no CPU for a while (a busy machine) does not look like a
        silent device here, because the reader has not looked yet; a device that
        really went quiet does, within one read timeout. None when the link is not
        streaming or no frame came yet (then it is not a healthy link at all).
        """
        # The poll first: the reader sets _last_frame_host before _last_poll, so read in this
        # order a frame handled in between can only make the answer smaller, never larger.
        poll = self._last_poll
        frame = self._last_frame_host
        if self._state != STREAMING or frame is None or poll is None:
            return None
        return max(0.0, poll - frame)

    def status(self) -> ReaderStatus:
        with self._status_lock:
            counters = self.counters.as_dict()
            counters["dropped_by_queue"] = self.frames.dropped
            counters["clock_clamps"] = self.frame_clock.slewed
            now = self.clock()
            others = {a: f"{h.serial} ({h.kind.label})" for a, h in self._others.items()}
            note = ""
            if others:
                note = "also on this port, not read (one device per port): " + ", ".join(
                    f"{text} at address {a}" for a, text in sorted(others.items()))
            return ReaderStatus(
                name=self.name, url=self.url, port=self._port_url, state=self._state,
                reason=self._reason or self._version_fault or note, hello=self._hello, counters=counters,
                rate_hz=self._rate_hz,
                last_frame_age_s=None if self._last_frame_host is None else now - self._last_frame_host,
                clock_offset_s=self.aligner.offset_s, clock_drift_ppm=self.aligner.drift_ppm,
                device_status=self._device_status, usb_serial=self._usb_serial, other_devices=others,
            )

    @property
    def swap_count(self) -> int:
        """Device swaps seen so far; equals ``RawFrame.swaps`` of the frames that follow."""
        return len(self.swaps)

    # -- commands (any thread) -------------------------------------------------------------

    def command(self, op: CommandOp, value: float = 0, timeout: float = 1.0) -> Ack:
        """Send a command and wait for its ACK; CommandError if refused or not answered.

        As docs/protocol.md asks, an unanswered command is resent with a new
        ``seq`` every ``ACK_WAIT_S`` until ``timeout`` (commands are idempotent).
        """
        pending = _Pending(op)
        deadline = time.monotonic() + timeout
        seqs = []
        try:
            while True:
                seqs.append(self._send_command(op, value, pending))
                left = deadline - time.monotonic()
                if pending.event.wait(max(0.0, min(ACK_WAIT_S, left))):
                    break
                if left <= ACK_WAIT_S:
                    with self._status_lock:
                        self.counters.command_timeouts += 1
                    raise CommandError(f"{self.name} did not acknowledge {_op_name(op)} within {timeout:g} s")
        finally:
            with self._status_lock:
                for seq in seqs:
                    self._pending.pop(seq, None)
        ack = pending.ack
        if not ack.ok:
            raise CommandError(f"{self.name} refused {_op_name(op)}: {_result_name(ack.result)} {ack.message}".rstrip())
        return ack

    def start_streaming(self, timeout: float = 1.0) -> Ack:
        self._want_streaming = True
        return self.command(CommandOp.START, 0, timeout)

    def stop_streaming(self, timeout: float = 1.0) -> Ack:
        self._want_streaming = False
        return self.command(CommandOp.STOP, 0, timeout)

    def set_rate(self, rate_hz: float, timeout: float = 1.0) -> Ack:
        """Ask for a new sample rate; it is re-applied after every reconnect."""
        ack = self.command(CommandOp.SET_RATE, float(rate_hz), timeout)
        self._want_rate = float(rate_hz)
        return ack

    def zero(self, gate: int = 0, timeout: float = 2.0) -> Ack:
        """On-board zero and noise gate (docs/protocol.md section 9): the sensor must be unloaded.

        ``gate``: 0 the device's per-sensel default, > 0 that many counts, -1
        baseline only. CommandError (BUSY) if someone is on it. Returns once the
        device's new HELLO (which carries the zero state) has arrived, so
        :attr:`hello` tells what the stream now is.
        """
        hellos = self._hello_count
        ack = self.command(CommandOp.ZERO, int(gate), timeout)
        deadline = time.monotonic() + min(timeout, ZERO_HELLO_WAIT_S)
        while self._hello_count == hellos and time.monotonic() < deadline:
            time.sleep(0.01)
        return ack

    def identify(self, seconds: int = 3, timeout: float = 1.0) -> Ack:
        """Blink the device's identify LED so a technician can tell which one this is."""
        return self.command(CommandOp.IDENTIFY, int(seconds), timeout)

    def _send_command(self, op, value, pending: _Pending | None = None) -> int:
        with self._write_lock:
            port = self._port
            if port is None or (pending is not None and not self._connected):
                raise CommandError(f"{self.name} is not connected ({self._state}{': ' + self._reason if self._reason else ''})")
            seq = self._cmd_seq
            self._cmd_seq = (seq + 1) % U32
            with self._status_lock:
                if pending is not None:
                    self._pending[seq] = pending
                else:
                    if len(self._own_commands) > 64:  # unanswered probes: forget the oldest
                        self._own_commands.pop(next(iter(self._own_commands)))
                    self._own_commands[seq] = op
            target = BROADCAST if self._address is None else self._address
            packet = Packet(PacketType.COMMAND, target, seq, 0, Command(op, value))
            try:
                port.write(framing.encode_packet(packet))
            except (serial.SerialException, OSError) as exc:
                with self._status_lock:
                    self._pending.pop(seq, None)
                raise CommandError(f"{self.name}: cannot send {_op_name(op)}: {exc}") from None
            return seq

    # -- the thread -------------------------------------------------------------------------

    def _beat(self) -> None:
        stall.point("reader")
        self.heartbeat = time.monotonic()

    def _wait(self, seconds: float) -> None:
        """Wait (closing ends it early), beating at least once a second: a reader that waits
        to reconnect is alive, a reader that hangs is not."""
        end = time.monotonic() + seconds
        while not self._stopping.is_set():
            self._beat()
            left = end - time.monotonic()
            if left <= 0:
                return
            self._stopping.wait(min(left, 1.0))

    def _run(self) -> None:
        port = self._port
        while not self._stopping.is_set():
            self._beat()
            retry_s = self.reconnect_interval_s
            if port is None:
                port = self._reopen()
                if port is None:
                    self._wait(self.reconnect_interval_s)
                    continue
            try:
                self._session(port)
            except _Finished:
                self._set_state(FINISHED, "the recording has ended")
                break
            except _LinkLost as exc:
                retry_s = exc.retry_s if exc.retry_s is not None else retry_s
                if not self._stopping.is_set() and self._state != INCOMPATIBLE:
                    self._set_state(DISCONNECTED, str(exc))
            except (serial.SerialException, OSError) as exc:
                if not self._stopping.is_set():
                    self._set_state(DISCONNECTED, f"lost {self._port_url}: {exc}")
                    log.warning("%s: lost the port %s: %s", self.name, self._port_url, exc)
            except Exception:  # noqa: BLE001 - a bug must not kill the link; it is counted and logged
                self.counters.internal_errors += 1
                log.exception("%s: internal error in the reader thread; reconnecting", self.name)
                self._set_state(DISCONNECTED, "internal error (see the log)")
            finally:
                if self._stopping.is_set() and self._connected and self._want_streaming:
                    try:  # leave the device idle, not streaming into a port nobody reads
                        self._send_command(CommandOp.STOP, 0)
                    except CommandError:
                        pass
                self._close_port(port)
                port = None
            self._wait(retry_s)
        if self._port is not None:
            self._close_port(self._port)

    def _reopen(self) -> Any:
        url = self.url
        if ports.is_local_path(url) and not os.path.exists(url):
            moved = self._relocate()
            if moved is None:
                self.counters.open_failures += 1
                self._set_state(DISCONNECTED, f"{url} is not there (unplugged?); retrying")
                return None
            url = moved
        try:
            port = self._open_port(url)
        except DeviceError as exc:
            self.counters.open_failures += 1
            self._set_state(DISCONNECTED, f"{exc}; retrying")
            return None
        with self._write_lock:
            self._port = port
        return port

    def _relocate(self) -> str | None:
        """The sensor's new port path after a re-plug, by USB serial number (or its HELLO serial)."""
        serial_number = self._usb_serial or (self._hello.serial if self._hello else "")
        if not serial_number:
            return None
        if self._locate is not None:
            found = self._locate(serial_number)
        else:
            found = ports.find_port(serial_number, self.usb_ids, comports=self._comports) if self.usb_ids else None
        if found:
            log.info("%s: sensor %s is now at %s", self.name, serial_number, found)
        return found

    def _open_port(self, url: str) -> Any:
        local = ports.is_local_path(url)
        options = {"baudrate": self.baudrate, "timeout": self.read_timeout_s}
        if local:
            # Two readers on one port would each get half of the bytes: hold an
            # exclusive lock, so a second one (a probe while the kiosk runs) is told.
            options["exclusive"] = True
        try:
            port = self._serial_for_url(url, **options)
        except serial.SerialException as exc:
            if local and not os.path.exists(url):
                raise PortNotFoundError(
                    f"serial port {url} does not exist: check the sensor's USB cable and the port "
                    "in the config (devices.*), or run `gaitkiosk devices` to list attached sensors"
                ) from None
            if "exclusively lock" in str(exc):
                raise PortBusyError(
                    f"serial port {url} is in use by another program (the kiosk service?); "
                    "stop it first, or look at its diagnostics screen"
                ) from None
            raise DeviceError(f"cannot open {url}: {exc}") from None
        except (ValueError, OSError) as exc:
            raise DeviceError(f"cannot open {url}: {exc}") from None
        self._port_url = url
        return port

    def _find_usb_serial(self, url: str) -> str:
        if not ports.is_local_path(url):
            return ""
        real = os.path.realpath(url)
        try:
            for info in self._comports():
                if os.path.realpath(info.device) == real and getattr(info, "serial_number", None):
                    return info.serial_number
        except Exception:  # noqa: BLE001 - discovery is a convenience, never fatal
            log.debug("%s: USB serial lookup failed", self.name, exc_info=True)
        return ""

    def _close_port(self, port: Any) -> None:
        with self._write_lock:
            self._connected = False
            if self._port is port:
                self._port = None
        try:
            port.close()
        except Exception:  # noqa: BLE001 - it is gone either way
            pass

    def _session(self, port: Any) -> None:
        """Handshake, then stream until the link is lost or the reader is closed."""
        try:
            # Bytes that waited in the port while nobody read it are stale.
            port.reset_input_buffer()
        except (serial.SerialException, OSError, AttributeError):
            pass
        self._deframer.reset()
        self._version_fault = ""
        self._in_sync = False
        self._last_seq = None
        self._last_frame_t_device = None
        self._status_seen = {}
        self._session_hello = False
        # A replay faster or slower than real time has a clock unrelated to ours:
        # map it by a fixed offset rather than fitting drift to it.
        self._realtime = bool(getattr(port, "realtime", True))
        self.frame_clock.new_session(self._realtime)
        with self._status_lock:
            self._own_commands.clear()
        self._setup.clear()
        self._set_state(HANDSHAKE, "")
        start = self.clock()
        # The device may have been running before we opened the port (its power-up
        # HELLO long gone): ask at once, as docs/protocol.md recommends.
        self._send_command(CommandOp.GET_HELLO, 0)
        next_probe = start + HELLO_PROBE_S
        heard, last_heard = self._deframer.counters.packets, start
        while not self._session_hello:
            self._pump(port)
            now = self.clock()
            if self._stopping.is_set():
                return
            if self._deframer.counters.packets != heard:
                heard, last_heard = self._deframer.counters.packets, now
            # A device still streaming from before (a reconnect) answers GET_HELLO behind the frames
            # that wait in its buffer: up to a second of a 1.2 MB/s tile, more than the timeout on a
            # busy host. While its valid packets keep coming, its HELLO is on the way: wait longer.
            talking = now - last_heard < HELLO_RETRY_S and now - start < HELLO_BACKLOG_FACTOR * self.hello_timeout_s
            if now - start > self.hello_timeout_s and not talking:
                self.counters.handshake_failures += 1
                got = self._deframer.counters
                unread = f", {got.version_skipped} in a protocol version this kiosk does not read" if got.version_skipped else ""
                whom = "" if self._address is None else f" (device address {self._address})"
                raise _LinkLost(
                    f"no HELLO from {self._port_url}{whom} within {self.hello_timeout_s:g} s "
                    f"({got.packets} valid packets, {got.resyncs} bad{unread}): is it a gaitkiosk sensor, "
                    "powered, and at the configured baud rate?"
                )
            if now >= next_probe:
                self._send_command(CommandOp.GET_HELLO, 0)
                next_probe = now + HELLO_RETRY_S
        hello = self._hello
        with self._write_lock:
            self._connected = True
        self._configure(hello, self._hello_version, start=self._want_streaming)
        self._interval = self._batch_interval(hello)
        if self._ever_connected:
            self.counters.reconnects += 1
            log.warning("%s: reconnected on %s", self.name, self._port_url)
        self._ever_connected = True
        self._set_state(STREAMING if self._want_streaming else IDLE, "")
        self._ready.set()
        self._stream(port)

    def _configure(self, hello: Hello, version: int, start: bool) -> None:
        """Agree a protocol version, then ask for the wanted rate and START: on every
        handshake, and whenever the device came back (reset, swap) or speaks another version.
        """
        try:
            agreed = framing.negotiate(hello)
        except VersionError as exc:
            self._set_state(INCOMPATIBLE, str(exc))
            raise _LinkLost(str(exc), retry_s=INCOMPATIBLE_RETRY_S) from None
        self._agreed_version = agreed
        if agreed != version:
            # The device can speak a version we prefer to the one it uses (docs/protocol.md §8).
            self._send_tracked(CommandOp.SET_PROTOCOL, agreed)
        if self._want_rate is not None and self._want_rate != hello.rate_hz:
            self._send_tracked(CommandOp.SET_RATE, self._want_rate)
        if start:
            # Its STATUS counters before any frame: frames it drops from here on are ours to count.
            self._send_command(CommandOp.GET_STATUS, 0)
            self._send_tracked(CommandOp.START, 0)

    def _send_tracked(self, op: CommandOp, value: float) -> None:
        """Send one of the reader's own commands; :meth:`_resend_due` repeats it until its ACK."""
        self._setup.sent(op, value, self._send_command(op, value), self.clock())

    def _resend_due(self, now: float) -> None:
        """docs/protocol.md §9: an own command unanswered for 250 ms is sent again, new seq."""
        again, given_up = self._setup.due(now)
        for item in again:
            self._setup.resent(item, self._send_command(item.op, item.value), now)
        for item in given_up:
            self.counters.command_timeouts += 1
            waited = f"{item.tries} tries in {item.tries * ACK_WAIT_S:g} s"
            if item.op == CommandOp.SET_PROTOCOL:
                # Its packets stay in a version we cannot read: nothing else will work.
                reason = (f"device {self._hello.serial!r} did not switch to protocol v{int(item.value)} "
                          f"(no acknowledgement, {waited}): update the device firmware")
                self._set_state(INCOMPATIBLE, reason)
                raise _LinkLost(reason, retry_s=INCOMPATIBLE_RETRY_S)
            self._set_state(self._state, f"device did not acknowledge {_op_name(item.op)} ({waited})")
            log.warning("%s: device did not acknowledge %s (%s)", self.name, _op_name(item.op), waited)

    def _batch_interval(self, hello: Hello) -> float:
        """``read_interval_s``, shortened so that what gathers meanwhile fits half a
        tty buffer: batching suits insoles (50 bytes a frame), a mat (3.5 kB) is
        read packet by packet whatever the setting.
        """
        if self.read_interval_s <= 0 or hello.rate_hz <= 0:
            return 0.0
        frame_bytes = hello.rows * hello.cols * max(hello.bits, 8) / 8 + framing.MIN_PACKET_SIZE + 8
        fits = (TTY_CHUNK / 2) / (frame_bytes * hello.rate_hz)
        return self.read_interval_s if fits >= self.read_interval_s else 0.0

    def _stream(self, port: Any) -> None:
        last_rx = self.clock()
        last_ping = last_rx
        while not self._stopping.is_set():
            got = self._pump(port)
            now = self.clock()
            if self._setup:
                self._resend_due(now)
            if got:
                last_rx = now
                wanted = STREAMING if self._want_streaming else IDLE
                if self._state != wanted and self._state != INCOMPATIBLE:
                    self._set_state(wanted, "")
                if self._interval > 0:
                    # Let packets gather in the kernel's buffer: on a small CPU a
                    # wake-up costs more than decoding a packet (bench_reader_cpu).
                    # Dithered: a fixed interval beats with the frame period, and the
                    # clock fit would wait long for a packet read just after arrival.
                    self._stopping.wait(self._interval * self._dither.uniform(0.5, 1.5))
                continue
            if getattr(port, "exhausted", False):
                raise _Finished()
            quiet = now - last_rx
            if quiet > self.silence_timeout_s:
                self.counters.silences += 1
                log.warning("%s: no data for %.1f s; reconnecting", self.name, quiet)
                raise _LinkLost(f"no data from {self._port_url} for {self.silence_timeout_s:g} s (device not answering)")
            if not self._want_streaming and now - last_ping > self.silence_timeout_s / 2:
                # An idle device is quiet by design: ask it something so silence means trouble.
                self._send_command(CommandOp.GET_STATUS, 0)
                last_ping = now

    def _pump(self, port: Any) -> int:
        """Read what is there (waiting up to the read timeout); handle every packet.

        Returns the number of valid packets: a device that sends only noise is
        as good as silent.
        """
        # Block for the first byte, then take everything that came with it: one
        # wake-up per packet, five system calls (each one costs more than decoding
        # the packet on a small CPU: bench/bench_reader_cpu.py).
        self._beat()
        poller = self._poller_for(port)
        if poller is not None:
            return self._pump_polled(port, poller)
        data = port.read(1)
        if not data:
            self._last_poll = self.clock()
            return 0
        more = port.in_waiting
        # Everything counted by in_waiting had arrived by now: the arrival time of
        # this read for the clock fit, taken before the reads that follow (they
        # can wait for the interpreter lock behind other readers).
        now = self.clock()
        # Not yet "watched": _last_poll moves only once this read's frames are handled (end of
        # _pump). Set here, a thread descheduled between reading a backlog and decoding it
        # looked as if it had watched a silent port for the whole freeze (a false sensor_lost).
        fd = _nonblocking_fd(port) if more and DRAIN_FD else None
        if fd is not None:
            data, now = self._drain_fd(fd, data, now)
        while more and fd is None:
            data += port.read(more)
            if more < TTY_CHUNK:
                break
            # A tty hands over at most one line-discipline buffer (4 kB) at a time:
            # look again when that much came, or a backlog would never drain.
            more = port.in_waiting
            now = self.clock()
        return self._handle_bytes(data, now)

    def _handle_bytes(self, data: bytes, now: float) -> int:
        """Deframe and handle what one wake-up read (``now``: when it had all arrived)."""
        if not self._in_sync:
            # Opened mid-packet (the device was already streaming): the bytes before
            # the first delimiter are the tail of a packet we never saw, not a fault.
            cut = data.find(b"\x00")
            if cut < 0:
                self.counters.bytes += len(data)
                self._last_poll = now  # watched: only the tail of a packet came
                return 0
            self.counters.bytes += cut
            data = data[cut:]
            self._in_sync = True
        d = self._deframer
        packets = d.feed(data)
        with self._status_lock:
            self.counters.bytes += len(data)
            self._copy_faults()
        address = self._address
        if address is None:  # the first HELLO binds the reader to its sender (_routed_here)
            address = next((p.device for p in packets if p.type == PacketType.HELLO and not isinstance(p, Skipped)), None)
        # Only this device's frames feed its clock fit: another device's clock would corrupt it.
        frames = [p for p in packets if p.type in FRAME_TYPES and not isinstance(p, Skipped) and p.device == address]
        times = self.frame_clock.map([p.t_us * 1e-6 for p in frames], now)
        self._chunk_t_host = {id(p): t for p, t in zip(frames, times, strict=True)}
        ours = 0
        for packet in packets:
            try:
                ours += self._handle(packet, now)
            except FrameError as exc:
                self._on_frame_error(exc)
        self._last_poll = now  # watched up to this read, its frames (if any) now counted
        return ours

    def _poller_for(self, port: Any):
        """A poll object on a pyserial POSIX port's descriptor and its abort pipe, made once per port;
        None for any other port (sim://, replay://, loop://: read through pyserial)."""
        if not DRAIN_FD:
            return None
        if self._poll_port is port:
            return self._poller
        self._poll_port, self._poller = port, None
        fd, abort = _nonblocking_fd(port), getattr(port, "pipe_abort_read_r", None)
        if fd is not None and isinstance(abort, int):
            self._poller = select.poll()
            self._poller.register(fd, select.POLLIN)
            self._poller.register(abort, select.POLLIN)
        return self._poller

    def _pump_polled(self, port: Any, poller) -> int:
        """``_pump`` for a serial port's own descriptor: wait in poll(), then one read per tty buffer.

        pyserial's read(1), then in_waiting, then read(n) cost a select, three system calls and
        their Python per wake-up; on a 256 x 64 walkway at 200 Hz (800 packets a second) that wake-up
        was most of the readers' CPU (bench/bench_kiosk_cpu.py). Same contract: empty when nothing
        came within the read timeout or close() cancelled the read; a port that says it is ready and
        reads empty is gone (SerialException, as pyserial says it).
        """
        fd, abort = port.fd, port.pipe_abort_read_r
        try:
            ready = poller.poll(self.read_timeout_s * 1000.0)
        except InterruptedError:
            ready = []
        if any(f == abort for f, _ in ready):
            os.read(abort, 1000)
            ready = []
        if not ready:
            self._last_poll = self.clock()
            return 0
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            data = None
        except OSError as exc:
            raise serial.SerialException(f"read failed: {exc}") from exc
        if data is None:  # woken, then nothing to read (another reader of the port?)
            self._last_poll = self.clock()
            return 0
        if not data:
            raise serial.SerialException("device reports readiness to read but returned no data "
                                         "(device disconnected or multiple access on port?)")
        now = self.clock()  # everything this read took had arrived by now (the clock fit's arrival time)
        if len(data) >= TTY_CHUNK:  # a tty hands over one 4 kB buffer per read: a backlog waits behind it
            data, now = self._drain_fd(fd, data, now)
        return self._handle_bytes(data, now)

    def _drain_fd(self, fd: int, data: bytes, now: float) -> tuple[bytes, float]:
        """Everything waiting on a serial port's own (non-blocking) descriptor, one read per tty buffer.

        A tty hands over at most one line-discipline buffer (4 kB) per read, so a 64 x 64
        tile at 200 Hz (1.2 MB/s) takes 300 reads a second. Through pyserial each was a
        select, a read and an in_waiting ioctl, every one giving up and taking back the
        interpreter lock: with four tiles, the stitcher, the analysis and the UI in one
        process the readers fell behind on a busy machine and the devices' buffers overflowed
        (tests/test_tiles_realtime.py). Here: one read per buffer, until the port is empty.
        """
        chunks = [data]
        while True:
            try:
                got = os.read(fd, READ_SIZE)
            except BlockingIOError:
                break
            if not got:  # pyserial sets VMIN 0: an empty port reads empty (a gone one: the next read(1) says so)
                break
            chunks.append(got)
            now = self.clock()
            if len(got) < TTY_CHUNK:
                break
        return b"".join(chunks), now

    def _copy_faults(self) -> None:
        dc, c = self._deframer.counters, self.counters
        c.crc_failures = dc.crc_failures
        c.cobs_failures = dc.cobs_failures
        c.version_errors = dc.version_errors
        c.malformed = dc.malformed + dc.oversize
        c.resyncs = dc.resyncs
        c.unknown_types = dc.unknown_types
        c.version_skipped = dc.version_skipped

    def _handle(self, packet: Packet | Skipped, now: float) -> bool:
        """Route one packet by its sender's address; True if it came from this reader's device."""
        c = self.counters
        skipped = isinstance(packet, Skipped)
        if not skipped:
            c.packets += 1
        if not self._routed_here(packet):
            return False
        hello = packet.body if not skipped and packet.type == PacketType.HELLO else None
        swapped = hello is not None and self._hello is not None and not same_device(self._hello, hello)
        restarted = False
        if swapped:
            self._last_seq = None  # another device: a sequence of its own
            self._last_frame_t_device = None
            self._status_seen = {}
        elif self._last_seq is not None:
            step = (packet.seq - self._last_seq) % U32
            if step == 0:
                c.duplicates += 1
                return True
            if step >= U32 // 2:
                # The sequence number went back: the device restarted.
                c.device_resets += 1
                restarted = True
                self._status_seen = {}  # its STATUS counters restarted too
                self.aligner.reset()
                log.warning("%s: device restarted (seq %d after %d)", self.name, packet.seq, self._last_seq)
            elif step > 1:
                c.gaps += 1
                c.lost_packets += step - 1
                self._log_fault(f"sequence gap: {step - 1} packets lost before seq {packet.seq}")
        self._last_seq = packet.seq
        if skipped:
            return True  # its seq is accounted for; there is nothing in it we can read
        ptype = packet.type
        if ptype in FRAME_TYPES:
            self._on_frame(packet, now)
        elif hello is not None:
            self._on_hello(packet, now, swapped, restarted)
        else:
            if restarted and self._connected:
                # It came back idle (its HELLO was lost): configure it again.
                self._configure(self._hello, packet.version, start=self._want_streaming)
            if ptype == PacketType.ACK:
                self._on_ack(packet.body)
            elif ptype == PacketType.STATUS:
                self._device_status = packet.body
                self._count_device_drops(packet.body)
                if (self._connected and self._want_streaming and not packet.body.streaming
                        and CommandOp.START not in self._setup):
                    # The device forgot it was streaming (it rebooted without us noticing).
                    self._send_tracked(CommandOp.START, 0)
        return True

    def _count_device_drops(self, status: Status) -> None:
        """Frames the device discarded or never scanned, from its STATUS counters.

        ``frames_dropped``: frames it discarded because we did not read in time
        (docs/protocol.md section 3). ``missed_deadlines`` (the insole firmware's appended
        field, section 7): scans it skipped because its scan loop overran. Neither leaves a
        sequence gap; they are shown as ``device_dropped`` and ``device_missed_deadlines``
        for diagnostics. The recording learns of both from the hole in the device's sample
        grid (RawFrame.lost_before, :meth:`_missing_before`), which also covers frames the
        STATUS has not reported yet. The first STATUS of a power-up (or of a device we
        joined) only sets the baseline.
        """
        dropped = self._status_increase("frames_dropped", status.frames_dropped)
        if dropped:
            self.counters.device_dropped += dropped
            self._log_fault(f"the device dropped {dropped} frames: they were not read in time")
        if status.missed_deadlines is not None:
            missed = self._status_increase("missed_deadlines", status.missed_deadlines)
            if missed:
                self.counters.device_missed_deadlines += missed
                self._log_fault(f"the device skipped {missed} scans: its scan loop overran")

    def _status_increase(self, field: str, total: int) -> int:
        """How much a wrapping u32 STATUS counter grew since the last STATUS (0 the first time)."""
        seen = self._status_seen.get(field)
        self._status_seen[field] = total
        if seen is None:
            return 0
        grown = (total - seen) % U32
        return grown if grown < U32 // 2 else 0

    def _routed_here(self, packet: Packet | Skipped) -> bool:
        """True for this reader's device; binds to the first address that says HELLO.

        Anything else on the port is counted and dropped: another device never
        relabels this one or redirects its commands (docs/protocol.md section 1).
        """
        address = packet.device
        is_hello = not isinstance(packet, Skipped) and packet.type == PacketType.HELLO
        if self._address is None:
            if is_hello:
                with self._status_lock:
                    self._address = address
                return True
            if packet.type in FRAME_TYPES:
                self.counters.frames_before_hello += 1
            return False
        if address == self._address:
            return True
        if is_hello:
            with self._status_lock:
                new = address not in self._others
                self._others[address] = packet.body
            if new:
                log.warning("%s: another device, %s (%s) at address %d, is on %s; this reader reads only %s "
                            "at address %d and ignores it", self.name, packet.body.serial, packet.body.kind.label,
                            address, self._port_url, self._hello.serial if self._hello else "?", self._address)
        if address in self._others:
            self.counters.other_devices += 1
        else:
            self.counters.unknown_address += 1
            self._log_fault(f"packet from device address {address}, which never said HELLO: dropped")
        return False

    def _on_frame(self, packet: Packet, now: float) -> None:
        hello = self._hello
        if not self._session_hello or hello is None:
            self.counters.frames_before_hello += 1
            return
        t_device = packet.t_us * 1e-6
        t_host = self._chunk_t_host[id(packet)]  # FrameClock: fit, bursts, never backwards
        frame = RawFrame(
            device=hello.serial, kind=hello.kind.label, seq=packet.seq, t_device=t_device,
            t_host=t_host, counts=packet.body.counts, kpa_per_count=hello.kpa_per_count, swaps=len(self.swaps),
            lost_before=self._missing_before(t_device, hello.rate_hz),
        )
        self.frames.put(frame)
        c = self.counters
        c.frames += 1
        self._last_frame_host = now
        mark_t, mark_n = self._rate_mark
        if now - mark_t >= RATE_WINDOW_S:
            if mark_t > 0:
                self._rate_hz = (c.frames - mark_n) / (now - mark_t)
            self._rate_mark = (now, c.frames)

    def _missing_before(self, t_device: float, rate_hz: float) -> int:
        """Frames missing on the device's sample grid since its previous frame.

        Whatever the cause: lost on the line (a sequence gap) or never sent
        (the device's own buffer overflowed while the host did not read, which
        leaves no sequence gap, docs/protocol.md). Sequence numbers alone would
        also count HELLO/STATUS/ACK packets as lost frames. A clock that went
        back (a restart) gives 0.
        """
        last, self._last_frame_t_device = self._last_frame_t_device, t_device
        if last is None or rate_hz <= 0:
            return 0
        return max(0, round((t_device - last) * rate_hz) - 1)

    def _on_hello(self, packet: Packet, now: float, swapped: bool, restarted: bool) -> None:
        hello: Hello = packet.body
        old = self._hello
        if swapped:
            swap = DeviceSwap(old, hello, now)
            log.warning("%s: %s on %s", self.name, swap.describe(), self._port_url)
            self.aligner.reset()
            with self._status_lock:
                self.swaps.append(swap)
                self.counters.device_swaps += 1
        with self._status_lock:
            self._hello = hello
        self._hello_version = packet.version
        self._session_hello = True
        self._hello_count += 1
        if not self._connected:
            return  # the handshake configures it
        switching = CommandOp.SET_PROTOCOL in self._setup
        if swapped or restarted:
            self._configure(hello, packet.version, start=self._want_streaming)
        elif packet.version != self._agreed_version and not switching:
            self._configure(hello, packet.version, start=False)

    def _on_ack(self, ack: Ack) -> None:
        with self._status_lock:
            pending = self._pending.pop(ack.command_seq, None)
            own = self._own_commands.pop(ack.command_seq, None)
        self._setup.answered(ack.command_seq)
        if own == CommandOp.SET_PROTOCOL and not ack.ok:
            reason = (f"device {self._hello.serial!r} refused protocol v{self._agreed_version}: "
                      f"{_result_name(ack.result)} {ack.message}".rstrip())
            self._set_state(INCOMPATIBLE, reason)
            raise _LinkLost(reason, retry_s=INCOMPATIBLE_RETRY_S)
        if pending is not None:
            if not ack.ok:
                self.counters.commands_refused += 1
            pending.ack = ack
            pending.event.set()
        elif own is not None and not ack.ok:
            self.counters.commands_refused += 1
            self._set_state(self._state, f"device refused {_op_name(own)}: {_result_name(ack.result)} {ack.message}".rstrip())

    # -- bookkeeping ------------------------------------------------------------------------

    def _set_state(self, state: str, reason: str) -> None:
        with self._status_lock:
            self._state = state
            self._reason = reason

    def _on_frame_error(self, exc: FrameError) -> None:
        if isinstance(exc, VersionError):
            self._version_fault = str(exc)  # shown as the reason: it needs someone to act
        self._log_fault(str(exc))

    def _log_fault(self, message: str) -> None:
        # Noise on a line can produce thousands of faults a second: log a sample.
        now = self.clock()
        if now - self._last_log >= LOG_EVERY_S:
            more = f" (and {self._unlogged} more faults since the last report)" if self._unlogged else ""
            log.warning("%s: %s%s", self.name, message, more)
            self._last_log = now
            self._unlogged = 0
        else:
            self._unlogged += 1


def _nonblocking_fd(port: Any) -> int | None:
    """A pyserial POSIX port's own descriptor when it is non-blocking (it opens it so), else None."""
    fd = getattr(port, "fd", None)
    if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
        return None
    try:
        return None if os.get_blocking(fd) else fd
    except OSError:
        return None


def _op_name(op) -> str:
    return op.name if isinstance(op, CommandOp) else f"command {op}"


def _result_name(result) -> str:
    return getattr(result, "name", str(result))


def reader_options(devices: dict[str, Any]) -> dict[str, Any]:
    """DeviceReader keyword arguments from the config's ``[devices]`` table."""
    return {
        "baudrate": devices["baudrate"],
        "hello_timeout_s": devices["hello_timeout_s"],
        "silence_timeout_s": devices["silence_timeout_s"],
        "reconnect_interval_s": devices["reconnect_interval_s"],
        "queue_frames": devices["queue_frames"],
        "read_interval_s": devices.get("read_interval_s", 0.02),
        "usb_ids": list(devices["usb_ids"]),
    }


def probe(url: str, timeout: float = 2.0, **options: Any) -> ReaderStatus:
    """Open ``url``, wait for the device's HELLO (without starting it), close; return what was learnt.

    Raises PortNotFoundError / DeviceError only if the port cannot be opened; a
    device that does not answer comes back with ``hello`` None and the reason.
    """
    options = {**options, "stream": False, "hello_timeout_s": timeout}
    reader = DeviceReader(url, **options).open()
    try:
        try:
            reader.wait_ready(timeout + 0.5)
        except DeviceError:
            pass
        return reader.status()
    finally:
        reader.close()
