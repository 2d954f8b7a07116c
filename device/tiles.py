"""Tiled mats: several mat tiles, each its own serial device, read as ONE walkway mat.

A walkway is built from tiles laid end to end (or in a grid). Each tile is a
mat controller of its own: its own port, HELLO, sequence numbers and clock.
The kiosk reads every tile with its own :class:`~device.reader.DeviceReader`
(so every tile's clock is aligned to the host clock by the usual
:class:`~device.clock.ClockAligner`) and :class:`TiledMat` stitches the tiles'
frames into one pressure frame per sample period, in the geometry the
configuration gives (``[devices] tiles``, docs/walkway.md):

* **layout** (:func:`parse_tiles`, :func:`place_tiles`): each tile's port, its
  offset (sensels ``[row, col]`` or millimetres ``[y, x]``) and rotation (0, 90,
  180, 270 degrees clockwise seen from above); without offsets the tiles lie end
  to end along the walking direction (+y), first tile rearmost. Overlapping tiles,
  tiles of different pitch or rate are refused with one line.
* **one clock** (:class:`Stitcher`): the first tile is the walkway's clock. For
  each of its frames, every other tile gives its frame whose host time lies
  within half a period of where that tile's own sample phase puts it (a running
  mean, so a wobble of the clock fits does not flip a tile between two periods),
  and never more than three quarters of a period from the first tile's; a tile that has none for that period (lost on its line,
  dropped, unplugged, or slipped a frame by clock drift) makes the whole period a
  **gap**: no stitched frame is sent for it and the next stitched frame carries it
  in ``RawFrame.lost_before``, the count the store, the recordings and the
  reports already read as missing frames. A stitched frame therefore holds only
  what each tile sent for that period, bit for bit; nothing is interpolated,
  repeated or zero-filled (only floor between tiles that the layout leaves
  uncovered reads 0: no sensor lies there).

Downstream sees one mat: a HELLO of kind mat with the walkway's rows, columns
and pitch, and RawFrames of that shape, from an object with the reader's
interface (``hello``, ``frames``, ``status()``, ``watched_silence_s()``,
``zero()``, ``close()``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from device.errors import DeviceError
from device.framequeue import FrameQueue
from device.frames import MAT, RawFrame
from device.framing import DeviceKind, Hello
from gaitkiosk.errors import KioskError

log = logging.getLogger(__name__)

MAX_TILES = 16
ROTATIONS = (0, 90, 180, 270)
TILE_KEYS = ("port", "offset", "offset_mm", "rotation")
MAX_OFFSET_SENSELS = 1024
MAX_OFFSET_MM = 20_000.0
# A tile silent for this long behind the first tile's newest frame is missing for the periods
# in between (its frames would have arrived by now): the stitched mat's extra latency at most.
WAIT_FOR_TILE_S = 0.1
PHASE_GAIN = 0.05  # the running mean of a tile's phase follows drift over ~20 periods, not one fit's wobble
SLIP_AT = 0.75  # a tile's phase this many periods off: it slipped a sample (see Stitcher._follow_phase)
PITCH_TOLERANCE = 1e-3  # relative: tiles' pitches must agree (float32 on the wire)


class TileError(KioskError, ValueError):
    """A tile layout that cannot be a walkway (config or the tiles' own HELLOs)."""


# -- the layout ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileSpec:
    """One tile as configured: its port URL, where its rear-left corner lies, how it is turned."""

    port: str
    offset: tuple[int, int] | None = None  # (row, col) of the walkway's sensel grid
    offset_mm: tuple[float, float] | None = None  # (y, x) from the walkway's rear-left corner
    rotation: int = 0  # degrees clockwise seen from above

    def describe(self) -> str:
        if self.offset is not None:
            where = f"at sensel row {self.offset[0]}, col {self.offset[1]}"
        elif self.offset_mm is not None:
            where = f"at y {self.offset_mm[0]:g} mm, x {self.offset_mm[1]:g} mm"
        else:
            where = "end to end"
        return f"{self.port} {where}, rotated {self.rotation}"


def parse_tiles(entries: Any, name: str = "devices.tiles") -> list[TileSpec]:
    """The configured tiles, or :class:`TileError` naming the entry and what is wrong (one line)."""
    if not isinstance(entries, list):
        raise TileError(f"{name} must be a list of tables ([[devices.tiles]]), got {type(entries).__name__}")
    if len(entries) == 1 or len(entries) > MAX_TILES:
        raise TileError(f"{name} must list 2 to {MAX_TILES} tiles (one mat: set devices.mat instead), "
                        f"got {len(entries)}")
    tiles = [_parse_tile(entry, f"{name}[{i}]") for i, entry in enumerate(entries)]
    placed = [t.offset is not None or t.offset_mm is not None for t in tiles]
    if any(placed) and not all(placed):
        missing = ", ".join(f"{name}[{i}]" for i, p in enumerate(placed) if not p)
        raise TileError(f"{name}: give every tile an offset or none (end to end); {missing} has none")
    ports = [t.port for t in tiles]
    for i, port in enumerate(ports):
        if port in ports[:i]:
            raise TileError(f"{name}[{i}] port {port!r} is already tile {ports.index(port)}'s: one tile per port")
    return tiles


def _parse_tile(entry: Any, where: str) -> TileSpec:
    if not isinstance(entry, dict):
        raise TileError(f"{where} must be a table with port, offset or offset_mm, rotation; got {entry!r}")
    unknown = sorted(set(entry) - set(TILE_KEYS))
    if unknown:
        raise TileError(f"{where} has unknown key {unknown[0]!r}; known: {', '.join(TILE_KEYS)}")
    port = entry.get("port")
    if not isinstance(port, str) or not port.strip():
        raise TileError(f"{where}.port must be a port URL (e.g. /dev/gaitkiosk/mat-1), got {port!r}")
    if "offset" in entry and "offset_mm" in entry:
        raise TileError(f"{where}: give offset (sensels) or offset_mm, not both")
    offset = offset_mm = None
    if "offset" in entry:
        v = entry["offset"]
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                              and 0 <= x <= MAX_OFFSET_SENSELS for x in v)):
            raise TileError(f"{where}.offset must be [row, col], two whole numbers of sensels from 0 to "
                            f"{MAX_OFFSET_SENSELS}, got {v!r}")
        offset = (v[0], v[1])
    if "offset_mm" in entry:
        v = entry["offset_mm"]
        if not (isinstance(v, list) and len(v) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                and 0 <= x <= MAX_OFFSET_MM for x in v)):
            raise TileError(f"{where}.offset_mm must be [y, x], two numbers of mm from 0 to {MAX_OFFSET_MM:g}, "
                            f"got {v!r}")
        offset_mm = (float(v[0]), float(v[1]))
    rotation = entry.get("rotation", 0)
    if isinstance(rotation, bool) or rotation not in ROTATIONS:
        raise TileError(f"{where}.rotation must be one of 0, 90, 180, 270 (degrees clockwise), got {rotation!r}")
    return TileSpec(port.strip(), offset, offset_mm, int(rotation))


@dataclass(frozen=True)
class Placement:
    """Where one tile's (rotated) frame lies in the walkway frame."""

    row: int
    col: int
    rows: int  # after rotation
    cols: int
    turns: int  # np.rot90 k: quarter turns clockwise seen from above (row 0 rearmost)


@dataclass(frozen=True)
class Walkway:
    """The stitched mat: its size, pitch and each tile's placement."""

    rows: int
    cols: int
    pitch_mm: tuple[float, float]
    rate_hz: float
    places: tuple[Placement, ...]

    def stitch(self, counts: list[np.ndarray]) -> np.ndarray:
        """One walkway frame from each tile's counts (uint16, bit for bit; uncovered floor 0)."""
        out = np.zeros((self.rows, self.cols), dtype=np.uint16)
        for place, c in zip(self.places, counts, strict=True):
            out[place.row:place.row + place.rows, place.col:place.col + place.cols] = np.rot90(c, place.turns)
        return out

    def tile_view(self, frame: np.ndarray, index: int) -> np.ndarray:
        """Tile ``index``'s own counts (its rows and columns) cut back out of a walkway frame."""
        p = self.places[index]
        return np.rot90(frame[p.row:p.row + p.rows, p.col:p.col + p.cols], -p.turns)


def place_tiles(specs: list[TileSpec], hellos: list[Hello]) -> Walkway:
    """The walkway these tiles make, from the layout and each tile's HELLO; TileError if they cannot."""
    ref = hellos[0]
    pitch = None
    places = []
    next_row = 0
    for i, (spec, h) in enumerate(zip(specs, hellos, strict=True)):
        who = f"tile {i} ({h.serial} on {spec.port})"
        if h.kind != DeviceKind.MAT:
            raise TileError(f"{who} is a {h.kind.label}, not a mat: every tile must be a mat")
        if abs(h.rate_hz - ref.rate_hz) > 1e-6 * ref.rate_hz:
            raise TileError(f"{who} runs at {h.rate_hz:g} Hz, tile 0 at {ref.rate_hz:g} Hz: set one rate for all")
        if h.kpa_per_count != ref.kpa_per_count:
            raise TileError(f"{who} sends {_units(h)}, tile 0 {_units(ref)}: tiles must send the same units")
        turns = spec.rotation // 90
        rows, cols = (h.rows, h.cols) if turns % 2 == 0 else (h.cols, h.rows)
        tile_pitch = tuple(h.pitch_mm) if turns % 2 == 0 else (h.pitch_mm[1], h.pitch_mm[0])
        if pitch is None:
            pitch = (float(tile_pitch[0]), float(tile_pitch[1]))
        elif any(abs(a - b) > PITCH_TOLERANCE * b for a, b in zip(tile_pitch, pitch, strict=True)):
            raise TileError(f"{who} has a pitch of {tile_pitch[0]:g} x {tile_pitch[1]:g} mm (as laid), tile 0 "
                            f"{pitch[0]:g} x {pitch[1]:g} mm: one walkway needs one pitch")
        if spec.offset is not None:
            row, col = spec.offset
        elif spec.offset_mm is not None:
            row, col = _sensels(spec.offset_mm[0], pitch[0], who, "y"), _sensels(spec.offset_mm[1], pitch[1], who, "x")
        else:
            row, col = next_row, 0
        next_row = row + rows
        places.append(Placement(row, col, rows, cols, turns))
    for i, a in enumerate(places):
        for j in range(i):
            b = places[j]
            if a.row < b.row + b.rows and b.row < a.row + a.rows and a.col < b.col + b.cols and b.col < a.col + a.cols:
                raise TileError(f"tile {i} ({specs[i].port}) overlaps tile {j} ({specs[j].port}): check their "
                                "offsets and rotations")
    return Walkway(max(p.row + p.rows for p in places), max(p.col + p.cols for p in places), pitch,
                   float(ref.rate_hz), tuple(places))


def _units(h: Hello) -> str:
    return "raw counts" if h.kpa_per_count <= 0 else f"{h.kpa_per_count:g} kPa per count"


def _sensels(mm: float, pitch: float, who: str, axis: str) -> int:
    n = mm / pitch
    if abs(n - round(n)) > 0.25:
        raise TileError(f"{who}: offset {axis} {mm:g} mm is {n:.2f} sensels of {pitch:g} mm; a tile must start on "
                        "the walkway's sensel grid (within a quarter sensel)")
    return int(round(n))


def walkway_hello(walkway: Walkway, hellos: list[Hello]) -> Hello:
    """The stitched mat's HELLO: one mat of the walkway's size, named after its tiles."""
    ref = hellos[0]
    gates = {h.gate_counts for h in hellos}
    return dataclasses.replace(
        ref, serial="tiles:" + "+".join(h.serial for h in hellos), rows=walkway.rows, cols=walkway.cols,
        pitch_mm=walkway.pitch_mm, bits=max(h.bits for h in hellos), zeroed=all(h.zeroed for h in hellos),
        gate_counts=gates.pop() if len(gates) == 1 else None,
    )


# -- one clock --------------------------------------------------------------------------------


class Stitcher:
    """Pairs the tiles' frames period by period on the first tile's clock (transport-free).

    :meth:`add` each tile's frames as they come (in order per tile); :meth:`take`
    returns the stitched frames that are decided. A period is decided once every
    tile has either its frame for it or a later one, or once the first tile is
    ``wait_s`` ahead of it (a silent tile). A period some tile lacks is a gap.
    """

    def __init__(self, walkway: Walkway, serial: str, n_tiles: int, wait_s: float = WAIT_FOR_TILE_S) -> None:
        self.walkway = walkway
        self.serial = serial
        self.period = 1.0 / walkway.rate_hz
        self.tolerance = 0.5 * self.period
        self.wait_s = wait_s
        self.pending: list[deque[RawFrame]] = [deque() for _ in range(n_tiles)]
        self.missing = [0] * n_tiles  # periods each tile had no frame for (each made a gap)
        self.unmatched = [0] * n_tiles  # tile frames that fell into no period of the first tile
        self.wrong_shape = [0] * n_tiles
        self.unsettled = [0] * n_tiles  # frames before the tile's clock fit settled (not stitched)
        self.gaps = 0  # periods not stitched
        self.stitched = 0
        # Each tile's sample phase against the first tile's (s, a slow running mean of its matched
        # frames): tiles sample at phases of their own, and a tile whose phase lies near half a
        # period flipped between two periods at every wobble of the clock fits when the window was
        # centred on the first tile's instant (at 200 Hz, +-2.5 ms: hundreds of gaps on a busy host).
        self.phase: list[float | None] = [None] * n_tiles
        self._carry_lost = 0
        self._carry_dropped = 0

    def add(self, index: int, frame: RawFrame) -> None:
        p = self.walkway.places[index]
        if frame.counts.shape != ((p.rows, p.cols) if p.turns % 2 == 0 else (p.cols, p.rows)):
            self.wrong_shape[index] += 1  # a frame of a tile's previous device (a swap): not this layout's
            return
        self.pending[index].append(frame)

    def settling(self, index: int, frame: RawFrame) -> None:
        """A frame of a tile whose clock fit is not settled yet: its host time could be periods off.

        Not stitched (it could land in the wrong period); a tile's such frame leaves its
        periods missing, the first tile's is a period of the walkway missed (once it ran).
        """
        self.unsettled[index] += 1
        self.phase[index] = None  # its clock fit starts again (a reconnect): so does its phase
        if index == 0 and self.stitched:
            self._carry_lost += 1 + frame.lost_before
            self._carry_dropped += frame.dropped_before
            self.gaps += 1

    def take(self) -> list[RawFrame]:
        out = []
        ref_queue = self.pending[0]
        while ref_queue:
            ref = ref_queue[0]
            t = ref.t_host
            newest = ref_queue[-1].t_host
            chosen: list[RawFrame | None] = [ref]
            decided = True
            for i in range(1, len(self.pending)):
                q = self.pending[i]
                centre = t + (self.phase[i] or 0.0)
                while q and q[0].t_host < centre - self.tolerance:
                    q.popleft()
                    self.unmatched[i] += 1
                if q and q[0].t_host <= min(centre + self.tolerance, t + SLIP_AT * self.period):
                    chosen.append(q[0])
                elif q or newest - t >= self.wait_s:
                    chosen.append(None)  # a later frame came, or the tile is silent: none for this period
                else:
                    decided = False
                    break
            if not decided:
                break
            ref_queue.popleft()
            for i, f in enumerate(chosen[1:], start=1):
                if f is not None:
                    self.pending[i].popleft()
                    self._follow_phase(i, f.t_host - t)
                else:
                    self.missing[i] += 1
            self._carry_lost += ref.lost_before
            self._carry_dropped += ref.dropped_before
            if any(f is None for f in chosen):
                self.gaps += 1
                self._carry_lost += 1
                continue
            counts = self.walkway.stitch([f.counts for f in chosen])
            out.append(RawFrame(self.serial, MAT, ref.seq, ref.t_device, t, counts, ref.kpa_per_count,
                                lost_before=self._carry_lost, dropped_before=self._carry_dropped,
                                swaps=sum(f.swaps for f in chosen)))
            self.stitched += 1
            self._carry_lost = self._carry_dropped = 0
        return out

    def _follow_phase(self, index: int, diff: float) -> None:
        """Track tile ``index``'s phase; when clock drift has carried it 3/4 of a period away, the
        tile has slipped a sample against the first one: centre its window a period back (one gap)."""
        phase = self.phase[index]
        phase = diff if phase is None else phase + PHASE_GAIN * (diff - phase)
        if phase > SLIP_AT * self.period:
            phase -= self.period
        elif phase < -SLIP_AT * self.period:
            phase += self.period
        self.phase[index] = phase

    def counters(self) -> dict[str, int]:
        out = {"stitched": self.stitched, "gaps": self.gaps}
        for i in range(len(self.pending)):
            out |= {f"tile{i}_missing": self.missing[i], f"tile{i}_unmatched": self.unmatched[i],
                    f"tile{i}_wrong_shape": self.wrong_shape[i], f"tile{i}_unsettled": self.unsettled[i]}
        return out


# -- the walkway as one reader ------------------------------------------------------------------


class TiledMat:
    """Reads every tile with its own DeviceReader and hands on one stitched mat (the reader's interface).

    ``readers`` may be given (tests build them); by default one DeviceReader per
    tile's port with ``options`` (``gaitkiosk.sensors`` passes the config's).
    """

    URL = "tiles://devices"

    def __init__(self, specs: list[TileSpec], *, readers: list | None = None, queue_frames: int = 256,
                 wait_s: float = WAIT_FOR_TILE_S, clock=time.monotonic, **options: Any) -> None:
        from device.reader import DeviceReader

        self.specs = list(specs)
        self.url = self.URL
        self.name = "walkway (" + ", ".join(s.port for s in self.specs) + ")"
        self.clock = clock
        self.readers = readers if readers is not None else [
            DeviceReader(s.port, name=f"tile {i} {s.port}", queue_frames=queue_frames, clock=clock, **options)
            for i, s in enumerate(self.specs)]
        self.frames: FrameQueue[RawFrame] = FrameQueue(queue_frames, carry=lambda gone, nxt: nxt.after_dropped(gone))
        self.wait_s = wait_s
        self.walkway: Walkway | None = None
        self.stitcher: Stitcher | None = None
        self.problem = ""  # the layout's refusal, shown as the walkway's state reason
        self._hello: Hello | None = None
        self._tile_hellos: list[Hello] | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_frame_host: float | None = None
        self._last_out: float | None = None  # host clock when the last stitched frame was handed on
        self._last_poll: float | None = None  # host clock of the stitching thread's latest look

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> TiledMat:
        opened = []
        try:
            for r in self.readers:
                r.open()
                opened.append(r)
        except Exception:
            for r in opened:
                r.close()
            raise
        self._thread = threading.Thread(target=self._run, name="walkway stitcher", daemon=True)
        self._thread.start()
        return self

    start = open

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for r in self.readers:
            r.close(timeout)

    def __enter__(self) -> TiledMat:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def wait_ready(self, timeout: float) -> Hello:
        if not self._ready.wait(timeout):
            st = self.status()
            raise DeviceError(f"{self.name} is not ready after {timeout:g} s: {st.state}"
                              + (f" ({st.reason})" if st.reason else ""))
        return self._hello

    def get(self, timeout: float | None = None) -> RawFrame | None:
        return self.frames.get(timeout)

    @property
    def hello(self) -> Hello | None:
        return self._hello

    @property
    def realtime(self) -> bool:
        return all(r.realtime for r in self.readers)

    @property
    def swap_count(self) -> int:
        return sum(r.swap_count for r in self.readers)

    @property
    def swaps(self) -> list:
        return [s for r in self.readers for s in r.swaps]

    def watched_silence_s(self) -> float | None:
        """How long the walkway has been watched without a stitched frame (None: a tile not streaming).

        The longest of each tile reader's own watched silence and the stitcher's: the time
        between the last stitched frame and the stitching thread's latest look. Tiles that all
        stream while no period can be stitched (a tile's clock settling again after a
        reconnect, a tile whose frames fit no period) are a silent mat to the kiosk, which then
        pauses a drill with ``sensor_lost`` instead of feeding it nothing.
        """
        values = [r.watched_silence_s() for r in self.readers]
        if any(v is None for v in values):
            return None
        poll, out = self._last_poll, self._last_out
        if poll is not None and out is not None:
            values.append(max(0.0, poll - out))
        return max(values)

    def tile_statuses(self) -> list:
        return [r.status() for r in self.readers]

    @property
    def tile_hellos(self) -> list[Hello] | None:
        """Each tile's own HELLO as the walkway was laid out with them (None before)."""
        return None if self._tile_hellos is None else list(self._tile_hellos)

    def status(self):
        """The walkway's status: the worst tile's state, the tiles' counters summed, the stitcher's own."""
        from device.linkstate import STREAMING, ReaderStatus

        tiles = [r.status() for r in self.readers]
        worst = next((s for s in tiles if s.state != STREAMING), tiles[0])
        counters = {k: sum(s.counters.get(k, 0) for s in tiles) for k in tiles[0].counters}
        counters["frames"] = self.stitcher.stitched if self.stitcher else 0
        counters["dropped_by_queue"] = self.frames.dropped
        if self.stitcher is not None:
            counters.update(self.stitcher.counters())
        state, reason = worst.state, (f"tile {tiles.index(worst)}: {worst.reason}" if worst.reason else "")
        if self.problem:
            state, reason = "incompatible", self.problem
        now = self.clock()
        return ReaderStatus(
            name=self.name, url=self.url, port=", ".join(s.port for s in tiles), state=state, reason=reason,
            hello=self._hello, counters=counters, rate_hz=tiles[0].rate_hz,
            last_frame_age_s=None if self._last_frame_host is None else now - self._last_frame_host,
            clock_offset_s=tiles[0].clock_offset_s, clock_drift_ppm=tiles[0].clock_drift_ppm,
            device_status=tiles[0].device_status, usb_serial=tiles[0].usb_serial, other_devices={},
        )

    # -- commands: to every tile ----------------------------------------------------------------

    def start_streaming(self, timeout: float = 1.0):
        return [r.start_streaming(timeout) for r in self.readers][0]

    def stop_streaming(self, timeout: float = 1.0):
        return [r.stop_streaming(timeout) for r in self.readers][0]

    def set_rate(self, rate_hz: float, timeout: float = 1.0):
        return [r.set_rate(rate_hz, timeout) for r in self.readers][0]

    def identify(self, seconds: int = 3, timeout: float = 1.0):
        return [r.identify(seconds, timeout) for r in self.readers][0]

    def zero(self, gate: int = 0, timeout: float = 2.0):
        """ZERO every tile (each refuses on its own while loaded); the walkway's HELLO follows."""
        acks = [r.zero(gate, timeout) for r in self.readers]
        self._relayout([r.hello for r in self.readers])
        return acks[0]

    # -- the stitching thread ---------------------------------------------------------------------

    def _relayout(self, hellos: list[Hello]) -> bool:
        """Place the tiles after their HELLOs (first time, a swap, a zero); False while refused."""
        if hellos == self._tile_hellos and self.stitcher is not None:
            return True
        try:
            walkway = place_tiles(self.specs, hellos)
        except TileError as exc:
            if str(exc) != self.problem:
                log.error("walkway: %s", exc)
            self.problem = str(exc)
            self.stitcher = None
            return False
        self.problem = ""
        hello = walkway_hello(walkway, hellos)
        if self.stitcher is None or walkway != self.walkway:
            self.stitcher = Stitcher(walkway, hello.serial, len(self.readers), self.wait_s)
        self.walkway, self._hello, self._tile_hellos = walkway, hello, list(hellos)
        self._ready.set()
        return True

    def _run(self) -> None:
        first = self.readers[0]
        while not self._stop.is_set():
            # Wake on the first tile (the walkway's clock); the others are drained at the same time.
            frame = first.frames.get(timeout=0.05)
            hellos = [r.hello for r in self.readers]
            if any(h is None for h in hellos) or not self._relayout(hellos):
                continue
            stitcher = self.stitcher
            batches = [([frame] if frame is not None else []) + first.frames.drain()]
            batches += [r.frames.drain() for r in self.readers[1:]]
            for i, (r, batch) in enumerate(zip(self.readers, batches, strict=True)):
                # A tile's host times are only as good as its clock fit: until it has one (its
                # first seconds, again after a reconnect) its frames could pair with another period.
                settled = r.aligner.fitted
                for f in batch:
                    if settled:
                        stitcher.add(i, f)
                    else:
                        stitcher.settling(i, f)
            taken = stitcher.take()
            now = self.clock()
            for out in taken:
                self._last_frame_host = out.t_host
                self.frames.put(out)
            if taken:
                self._last_out = now
            self._last_poll = now  # after the frame: read in the other order, never a false silence


# -- each tile its own calibration ---------------------------------------------------------------

COMPOSITE_PREFIX = "tiles:"  # a walkway's calibration made of its tiles' own: tiles:<id>@row.col.turns+...


@dataclass(frozen=True)
class TileCalibration:
    """One tile's calibration and where its counts lie in the walkway frame."""

    calibration_id: str
    row: int
    col: int
    turns: int


def composite_calibration_id(parts: list[TileCalibration]) -> str:
    """The id a walkway recording keeps when each tile's counts became kPa by the tile's own calibration:
    every tile's calibration id and placement, so its kPa can be made again from the raw counts."""
    return COMPOSITE_PREFIX + "+".join(f"{p.calibration_id}@{p.row}.{p.col}.{p.turns}" for p in parts)


def parse_composite_calibration_id(text: str | None) -> list[TileCalibration] | None:
    """The parts of a composite id, or None for any other id (ValueError if it is a damaged one)."""
    if not text or not text.startswith(COMPOSITE_PREFIX):
        return None
    parts = []
    for item in text[len(COMPOSITE_PREFIX):].split("+"):
        cid, sep, where = item.rpartition("@")
        numbers = where.split(".")
        if not sep or not cid or len(numbers) != 3 or not all(n.isdigit() for n in numbers):
            raise ValueError(f"calibration id {text!r} is not a walkway's tile calibrations")
        parts.append(TileCalibration(cid, int(numbers[0]), int(numbers[1]), int(numbers[2]) % 4))
    return parts


class TileConverter:
    """counts -> kPa of a walkway frame, each tile's area through that tile's own converter.

    ``pieces``: (placement, the tile's own rows and cols, convert) with ``convert`` taking the
    tile's counts as the tile sends them (2-D, or 3-D: frames x rows x cols). Floor no tile
    covers reads 0 kPa (no sensor lies there), as its counts do.
    """

    def __init__(self, shape: tuple[int, int], pieces: list[tuple[TileCalibration, tuple[int, int], Any]]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.pieces = pieces

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        counts = np.asarray(counts)
        out = np.zeros(counts.shape[:-2] + self.shape, dtype=np.float32)
        axes = (counts.ndim - 2, counts.ndim - 1)
        for place, (rows, cols), convert in self.pieces:
            laid_rows, laid_cols = (rows, cols) if place.turns % 2 == 0 else (cols, rows)
            window = (..., slice(place.row, place.row + laid_rows), slice(place.col, place.col + laid_cols))
            own = np.ascontiguousarray(np.rot90(counts[window], -place.turns, axes=axes))
            kpa = np.asarray(convert(own), dtype=np.float32)
            out[window] = np.rot90(kpa, place.turns, axes=axes)
        return out

    many = __call__
