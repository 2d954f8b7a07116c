"""The recording writer: RawFrames in, ~1 s chunks per device committed to SQLite.

It runs on its own thread with its own connection, so neither the reader
threads nor the UI ever wait for the SD card. ``put()`` never blocks: the
queue is bounded (``store.writer_queue_frames``, 30 s of a mat and two
insoles at 100 Hz by default: enough to ride out a slow fsync or a backup),
and when it is full the frame is *counted*, per device, into the
recording's ``dropped`` column, the writer's stats and a log warning. A
clinical recording may have a hole; it may never have a hole nobody can see.

The thread takes what gathered in the queue every ``gather_s`` (50 ms), not each frame as it comes:
a wake-up per frame (300 a second for a mat and two insoles) cost more than storing the frames
(bench/bench_kiosk_cpu.py). The queue holds 30 s; chunks are a second.

Each chunk is one durable transaction (``synchronous=FULL``). A disk that
fills (real ENOSPC or the ``store.max_db_mb`` cap) or the low-disk threshold
stops the recording with a clear error in :attr:`RecordingWriter.error`;
what was committed stays intact and the kiosk keeps running.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from device import stall
from store import codec
from store.codec import Chunk
from store.db import connect, full_error
from store.errors import DiskFullError, LowDiskError, StoreError
from store.recordings import Recording, Recordings
from store.retention import check_free_space, fs_free_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommitInfo:
    """Handed to ``on_commit`` after a chunk is durably stored."""

    recording_id: str
    device: str
    idx: int
    frames: int
    digest: str  # codec.Chunk.digest() of the frames as handed in


@dataclass
class WriterStats:
    queued: int = 0
    committed_frames: int = 0
    committed_chunks: int = 0
    dropped: int = 0  # the writer's queue was full, or the reader's (RawFrame.dropped_before)
    lost_on_stop: int = 0  # accepted but not stored because the recording stopped on an error
    refused: int = 0  # put() after the writer stopped
    rejected: int = 0  # frames whose shape changed mid-recording
    seq_gaps: int = 0  # frames missing from the sensor before frames it sent (RawFrame.lost_before)
    running: bool = False
    error: str | None = None
    recordings: dict[str, str] = field(default_factory=dict)  # device serial -> recording id

    def outcome(self) -> tuple[str, str]:
        """('complete' | 'partial' | 'none', what was lost and why): the trial's recording state."""
        lost = [(self.lost_on_stop + (self.refused if self.error else 0), "not stored after the recording stopped"),
                (self.dropped, "dropped because the kiosk could not keep up"),
                (self.seq_gaps, "missing from the sensor (lost on the link, or not sent by the device)"),
                (self.rejected, "refused because the frame size changed")]
        parts = [f"{n} frame{'s' if n != 1 else ''} {why}" for n, why in lost if n]
        if self.error:
            parts.append(f"recording stopped: {self.error}")
        if self.committed_frames == 0:
            return "none", "nothing was recorded" + (f" ({'; '.join(parts)})" if parts else "")
        if parts:
            return "partial", f"{self.committed_frames} frames stored, " + "; ".join(parts)
        return "complete", ""


# With the codec method "auto" every candidate encodes a chunk and the smallest is kept: on a 256 x 64
# walkway at 200 Hz that was 70-87 ms of CPU for each second of frames, the writer's whole cost. A
# device's frames change their character slowly (a patient steps on, stands, steps off), so the choice
# is made afresh on a stream's first chunk and every AUTO_RECHOOSE_CHUNKS-th after it, and the chunks
# between are encoded with the last choice only (tests/test_store_writer.py). Any method decodes.
AUTO_RECHOOSE_CHUNKS = 10


class _Buffer:
    def __init__(self, recording: Recording, opened_at: float):
        self.recording = recording
        self.frames: list = []
        self.idx = 0
        self.opened_at = opened_at
        self.last_seq: int | None = None
        self.seq_gaps = 0
        self.chosen: str | None = None  # the method "auto" last chose for this stream


class RecordingWriter:
    """Stream one session's (or trial's) frames into the database."""

    def __init__(self, db_path: str | Path, session_id: str, *, trial_id: str | None = None,
                 calibration_ids: dict[str, str] | None = None, chunk_s: float = 1.0,
                 queue_frames: int = 9000, method: str = codec.DEFAULT_METHOD, min_free_bytes: int = 0,
                 max_db_bytes: int | None = None, t_origin: float | None = None,
                 disk_free: Callable[[Path], int] = fs_free_bytes, clock: Callable[[], float] = time.monotonic,
                 on_commit: Callable[[CommitInfo], None] | None = None,
                 on_error: Callable[[StoreError], None] | None = None, gather_s: float = 0.05):
        if method not in codec.METHOD_IDS and method != codec.AUTO:
            raise ValueError(f"unknown codec method {method!r}")
        self.db_path = Path(db_path)
        self.session_id, self.trial_id = session_id, trial_id
        self.calibration_ids = dict(calibration_ids or {})
        self.chunk_s, self.method = chunk_s, method
        self.min_free_bytes, self.max_db_bytes = min_free_bytes, max_db_bytes
        self.t_origin = t_origin
        self.disk_free, self.clock = disk_free, clock
        self.on_commit, self.on_error = on_commit, on_error
        self.gather_s = gather_s  # the thread sleeps this long between turns while frames come
        # A plain deque, not a queue.Queue: append and popleft need no lock of their own (the GIL), and
        # nobody waits on it (the thread looks every gather_s), so a frame handed over costs no
        # condition variable (put() runs on the analysis thread for every frame).
        self._queue: collections.deque = collections.deque()
        self.queue_frames = queue_frames
        self._stop = threading.Event()
        self._failed = threading.Event()
        self._lock = threading.Lock()
        self._dropped: dict[str, int] = {}
        self._buffers: dict[str, _Buffer] = {}
        self._thread: threading.Thread | None = None
        self.heartbeat = time.monotonic()  # the writer thread's latest turn (gaitkiosk/watchdog.py)
        self.error: StoreError | None = None
        self.stats = WriterStats()

    # -- producer side (reader threads) ------------------------------------------
    def put(self, frame) -> bool:
        """Hand over one RawFrame without blocking. False: not stored (counted)."""
        if self._failed.is_set() or self._stop.is_set():
            with self._lock:
                self.stats.refused += 1
            return False
        if len(self._queue) < self.queue_frames:
            self._queue.append(frame)
            return True
        # the queue is full: the frame is counted, never waited for
        with self._lock:
            self._dropped[frame.device] = self._dropped.get(frame.device, 0) + 1
            self.stats.dropped += 1
            first = self.stats.dropped == 1
        if first:
            log.warning("recording writer cannot keep up: frames are being dropped (counted per device)")
        return False

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> RecordingWriter:
        """Start the thread; refuses (LowDiskError) when the disk is already too full."""
        if self.min_free_bytes:
            check_free_space(self.db_path.parent, self.min_free_bytes, disk_free=self.disk_free)
        self._db = connect(self.db_path, create=False, migrate=False, max_bytes=self.max_db_bytes)
        self._recordings = Recordings(self._db)
        self.stats.running = True
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> WriterStats:
        """Flush what is queued, close the recordings, return the final stats."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("recording writer did not finish within %s s", timeout)
        return self.stats

    def snapshot(self) -> WriterStats:
        """Current numbers for the diagnostics screen (safe from any thread)."""
        with self._lock:
            return replace(self.stats, queued=len(self._queue), running=self.running,
                           recordings=dict(self.stats.recordings))

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    # -- writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                stall.point("writer")
                self.heartbeat = time.monotonic()  # the kiosk's watchdog reads it (gaitkiosk/watchdog.py)
                took = self._take_queued()
                self._flush(final=False)
                if not took and self._stop.is_set():
                    break
                self._stop.wait(self.gather_s)  # let the next frames gather: one wake-up for them all
            self._flush(final=True)
            for buf in self._buffers.values():
                self._recordings.finish(buf.recording.id, status="complete",
                                        dropped=self._dropped.get(buf.recording.device_serial, 0))
        except (StoreError, sqlite3.Error, OSError) as exc:
            self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must still stop the recording loudly, not silently
            log.exception("recording writer crashed")
            self._fail(StoreError(f"internal error {type(exc).__name__}: {exc}"))
        finally:
            self.stats.running = False
            self.stats.queued = len(self._queue)
            self._db.close()

    def _take_queued(self) -> int:
        """Every frame waiting in the queue, without waiting for more (how many); a chunk committed as
        soon as it is full, as when the frames came one by one (a backlog after a slow disk is not
        one chunk)."""
        n = 0
        while self._queue:
            frame = self._queue.popleft()
            self.heartbeat = time.monotonic()
            self._add(frame)
            self._flush(final=False)
            n += 1
        return n

    def _add(self, frame) -> None:
        buf = self._buffers.get(frame.device)
        if buf is None:
            if self.t_origin is None:
                self.t_origin = float(frame.t_host)
            rec = Recording(session_id=self.session_id, trial_id=self.trial_id, device_serial=frame.device,
                            kind=frame.kind, shape=list(frame.counts.shape),
                            calibration_id=self.calibration_ids.get(frame.device),
                            kpa_per_count=float(frame.kpa_per_count), t_origin=self.t_origin)
            self._recordings.create(rec)
            buf = self._buffers[frame.device] = _Buffer(rec, self.clock())
            self.stats.recordings[frame.device] = rec.id
        if list(frame.counts.shape) != buf.recording.shape:
            self.stats.rejected += 1
            log.warning("device %s changed frame shape to %s mid-recording; frame not stored",
                        frame.device, frame.counts.shape)
            return
        if buf.frames or buf.idx:  # losses before the recording's first frame are not its own
            lost = int(getattr(frame, "lost_before", 0))
            buf.seq_gaps += lost
            self.stats.seq_gaps += lost
            behind = int(getattr(frame, "dropped_before", 0))  # the reader's queue overflowed
            if behind:
                with self._lock:
                    self._dropped[frame.device] = self._dropped.get(frame.device, 0) + behind
                    self.stats.dropped += behind
        if not buf.frames:
            buf.opened_at = self.clock()
        buf.frames.append(frame)

    def _flush(self, final: bool) -> None:
        now = self.clock()
        for buf in self._buffers.values():
            if not buf.frames:
                continue
            span = buf.frames[-1].t_host - buf.frames[0].t_host
            # Also flush on wall time: a device that went quiet must not hold frames uncommitted.
            if final or span >= self.chunk_s or now - buf.opened_at >= 2 * self.chunk_s:
                self._commit(buf)

    def _commit(self, buf: _Buffer) -> None:
        chunk = Chunk.from_frames(buf.frames)
        if self.method != codec.AUTO:
            blob = codec.encode(chunk, self.method)
        elif buf.chosen is None or buf.idx % AUTO_RECHOOSE_CHUNKS == 0:
            blob = codec.encode(chunk, codec.AUTO)
            buf.chosen = codec.method_of(blob)
        else:
            blob = codec.encode(chunk, buf.chosen)
        if self.min_free_bytes:
            check_free_space(self.db_path.parent, self.min_free_bytes, db=self._db, disk_free=self.disk_free)
        with self._lock:
            dropped = self._dropped.get(buf.recording.device_serial, 0)
        self._recordings.append(buf.recording.id, buf.idx, chunk, blob, dropped=dropped, seq_gaps=buf.seq_gaps)
        if self.on_commit:
            try:
                self.on_commit(CommitInfo(buf.recording.id, buf.recording.device_serial, buf.idx, chunk.frames,
                                          chunk.digest()))
            except Exception:  # noqa: BLE001 - the chunk is stored; a listener's bug must not stop recording
                log.exception("on_commit callback failed")
        buf.idx += 1
        buf.frames = []
        self.stats.committed_frames += chunk.frames
        self.stats.committed_chunks += 1

    def _fail(self, exc: BaseException) -> None:
        self._failed.set()
        stored = f"{self.stats.committed_chunks} chunks ({self.stats.committed_frames} frames) already stored are intact"
        if isinstance(exc, LowDiskError):
            error: StoreError = exc
        elif isinstance(exc, DiskFullError) or full_error(exc):
            error = DiskFullError(f"the disk or the database size limit is full: recording stopped; {stored}. "
                                  "Free space (sync, then `gaitkiosk db prune`) before the next recording")
        else:
            error = StoreError(f"recording stopped on a database error ({exc}); {stored}")
        self.error = error
        self.stats.error = str(error)
        pending = sum(len(b.frames) for b in self._buffers.values()) + len(self._queue)
        self.stats.lost_on_stop = pending
        log.error("%s (%d frames not stored)", error, pending)
        for buf in self._buffers.values():
            try:
                self._recordings.finish(buf.recording.id, status="failed", reason=str(error)[:500],
                                        dropped=self._dropped.get(buf.recording.device_serial, 0) + pending)
            except (StoreError, sqlite3.Error):
                pass  # marked incomplete when the session closes or at the next start
        if self.on_error:
            try:
                self.on_error(error)
            except Exception:  # noqa: BLE001 - a broken callback must not hide the original error
                log.exception("on_error callback failed")
