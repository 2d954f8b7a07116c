"""``replay://`` -- a recording played back as a serial port (a pyserial URL handler).

    replay://recordings/walk.npz                 the mat (or the left insole if there is no mat), real pace
    replay:///abs/path/walk.npz?device=insole_left
    replay://walk.npz?speed=0                    as fast as the reader takes it
    replay://walk.npz?speed=2&loop=1             twice real pace, over and over

The recording (DESIGN 4.1, checked with ``device.recording.load_recording``;
a malformed file is refused when the port opens, with the reason) is played
through the same wire path as a live sensor: a
:class:`~device.virtual.VirtualDevice` that says HELLO, answers commands and
sends FRAME packets, so the reader, the clock alignment and everything
downstream cannot tell it from hardware.

Options:

=============  ==========================================================
device         ``mat``, ``insole_left`` or ``insole_right`` (also ``left``, ``right``)
speed          1 = real pace (default); 2 = twice as fast; 0 = as fast as possible
loop           1 = start again at the end (default 0: the port reports the end)
kpa_per_count  pressure of one count on the wire (default 0.05 kPa)
serial         serial number in the HELLO (default ``replay-<device>-<file name>``)
session        playback name: ports of the same file, speed and session share one
               start time, so the mat and insoles of a recording stay in step
=============  ==========================================================

Quantisation: recordings hold float kPa; the wire carries unsigned 16-bit
counts, so each value is sent as ``round(kpa / kpa_per_count)``, clipped to
0..65535. The HELLO declares ``kpa_per_count`` and ``RawFrame.kpa()`` turns
counts back into kPa: with the default 0.05 kPa/count the round trip is exact to
+-0.025 kPa, negative values (a zero offset) come back as 0, and anything above
3276.75 kPa saturates. The device clock (``t_device``) is the recording's own
time since its first sample, so ``gaitkiosk record replay://...`` keeps the
recorded timing. At ``speed`` other than 1 the device clock does not follow the
host's; the port says so (``realtime`` False) and the reader then maps device
time to host time by a fixed offset instead of fitting drift.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from serial.serialutil import SerialException

from device.errors import RecordingError
from device.framing import DeviceKind
from device.handlers.virtual_port import VirtualPort, parse_query, query_number, release_shared
from device.virtual import FrameSource, VirtualDevice

DEFAULT_KPA_PER_COUNT = 0.05
MAX_COUNT = 0xFFFF
DEVICE_ALIASES = {
    "mat": "mat",
    "insole_left": "insole_left", "insole-left": "insole_left", "left": "insole_left",
    "insole_right": "insole_right", "insole-right": "insole_right", "right": "insole_right",
}
OPTIONS = {"device", "speed", "loop", "kpa_per_count", "serial", "session"}


@dataclass
class _Playback:
    """One playback of a file: its start time, shared by every device port on it."""

    epoch: float | None = None
    refs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, now: float) -> float:
        with self.lock:
            if self.epoch is None:
                self.epoch = now
            return self.epoch


_playbacks: dict[tuple, _Playback] = {}
_playbacks_lock = threading.Lock()


def recording_path(url: str) -> Path:
    """The file a ``replay://`` URL names (relative paths from the current directory)."""
    parts = urllib.parse.urlsplit(url)
    return Path(urllib.parse.unquote(parts.netloc + parts.path))


def quantise(kpa: np.ndarray, kpa_per_count: float) -> np.ndarray:
    """kPa -> uint16 counts as sent on the wire (see the module docstring)."""
    counts = np.rint(np.asarray(kpa, dtype=np.float64) / kpa_per_count)
    return np.clip(np.nan_to_num(counts, nan=0.0), 0, MAX_COUNT).astype(np.uint16)


class ReplaySource(FrameSource):
    """One device's frames of a recording, on the recording's own timestamps."""

    recorded = True

    def __init__(self, rec, which: str, *, speed: float, loop: bool, kpa_per_count: float, playback: _Playback):
        self.bits = 16
        self.kpa_per_count = float(kpa_per_count)
        self.speed = float(speed)
        self.loop = bool(loop)
        self.playback = playback
        if which == "mat":
            self.kind = DeviceKind.MAT
            self.kpa = rec.mat_kpa
            t = rec.mat_t
            _, self.rows, self.cols = rec.mat_kpa.shape
            self.pitch_mm = (float(rec.mat_pitch_mm[0]), float(rec.mat_pitch_mm[1]))
        else:
            side = which.removeprefix("insole_")
            self.kind = DeviceKind.INSOLE_LEFT if side == "left" else DeviceKind.INSOLE_RIGHT
            self.kpa = getattr(rec, f"insole_{side}_kpa")
            t = rec.insole_t
            self.rows, self.cols = self.kpa.shape[1], 1
            self.sensors_mm = getattr(rec, f"insole_{side}_sensors_mm")
            self.sensor_area_mm2 = rec.insole_sensor_area_mm2
        self.t = np.asarray(t, dtype=np.float64)
        # Every device of a recording counts time from the recording's first sample,
        # so the mat and the insoles keep their recorded relation.
        starts = [float(a[0]) for a in (rec.mat_t, rec.insole_t) if a is not None and len(a)]
        self.t0 = min(starts)
        self.n = len(self.t)
        self.period = float(np.median(np.diff(self.t))) if self.n > 1 else 0.01
        self.rate_hz = 1.0 / self.period if self.period > 0 else 100.0
        self.lap_s = float(self.t[-1] - self.t0) + self.period
        self.saturated = int(np.count_nonzero(self.kpa > MAX_COUNT * self.kpa_per_count))

    def sample_time(self, index: int) -> float:
        lap, i = divmod(index, self.n)
        return float(self.t[i] - self.t0) + lap * self.lap_s

    def finished(self, index: int) -> bool:
        return not self.loop and index >= self.n

    def epoch(self, now: float) -> float:
        return self.playback.start(now)

    def counts(self, t_host: float, index: int) -> np.ndarray:
        return quantise(self.kpa[index % self.n], self.kpa_per_count)


class Serial(VirtualPort):
    """pyserial port for ``replay://`` URLs (see the module docstring)."""

    scheme = "replay"

    def __init__(self, *args, **kwargs):
        self._playback_key: tuple | None = None
        self.realtime = True
        super().__init__(*args, **kwargs)

    def make_device(self, url: str) -> VirtualDevice:
        from device.recording import load_recording

        _, params = parse_query(url, "replay")
        unknown = sorted(set(params) - OPTIONS)
        if unknown:
            raise SerialException(f"{url}: unknown option(s) {', '.join(unknown)}; replay:// takes {', '.join(sorted(OPTIONS))}")
        path = recording_path(url)
        if not str(path):
            raise SerialException(f"{url}: name a recording file, e.g. replay://recordings/walk.npz")
        try:
            rec = load_recording(path)
        except RecordingError as exc:
            raise SerialException(str(exc)) from None
        available = [name for name, present in (
            ("mat", rec.has_mat), ("insole_left", rec.has_insoles), ("insole_right", rec.has_insoles)) if present]
        if not available:
            raise SerialException(f"cannot replay {url}: {path} holds only centre-of-pressure data, no pressure frames to send")
        which = params.get("device", available[0]).lower()
        if which not in DEVICE_ALIASES:
            raise SerialException(f"{url}: device={which!r}; use mat, insole_left or insole_right")
        which = DEVICE_ALIASES[which]
        if which not in available:
            raise SerialException(f"cannot replay {url}: {path} has no {which} data (it has {', '.join(available)})")
        speed = query_number(url, params, "speed", 1.0)
        kpa_per_count = query_number(url, params, "kpa_per_count", DEFAULT_KPA_PER_COUNT)
        if speed < 0:
            raise SerialException(f"{url}: speed must be 0 (as fast as possible) or positive, got {speed:g}")
        if kpa_per_count <= 0:
            raise SerialException(f"{url}: kpa_per_count must be positive, got {kpa_per_count:g}")
        loop = params.get("loop", "0").lower() in ("1", "true", "yes")
        key = (os.path.abspath(path), speed, params.get("session", ""))
        with _playbacks_lock:
            playback = _playbacks.setdefault(key, _Playback())
            playback.refs += 1
        self._playback_key = key
        self.realtime = speed == 1.0
        source = ReplaySource(rec, which, speed=speed, loop=loop, kpa_per_count=kpa_per_count, playback=playback)
        return VirtualDevice(
            source,
            serial=params.get("serial") or f"replay-{which.replace('_', '-')}-{path.stem}",
            firmware="gaitkiosk-replay 1.0",
            rate_hz=source.rate_hz,
            clock=time.monotonic,
            seed=0,
        )

    def release(self) -> None:
        key, self._playback_key = self._playback_key, None
        release_shared(_playbacks, _playbacks_lock, key)

