"""``gaitkiosk record``: record any sensors into the interchange file (DESIGN 4.1).

    gaitkiosk record /dev/gaitkiosk/mat /dev/gaitkiosk/insole-left /dev/gaitkiosk/insole-right --seconds 30 --out walk.npz
    gaitkiosk record sim://mat "sim://insole?side=left" --seconds 10 --out sim.npz
    gaitkiosk record "replay://walk.npz?speed=0" --seconds 5 --out first5s.npz
    gaitkiosk record tiles://devices /dev/gaitkiosk/insole-left --seconds 30 --out walkway.npz

``tiles://devices`` is the walkway of the config's ``[[devices.tiles]]``, stitched into one
mat as the kiosk reads it (docs/walkway.md): its gaps are the file's seq gaps.

Every port URL gets its own reader (device/reader.py); frames are put on the
host's clock by each device's clock alignment, so ``mat_t`` and ``insole_t``
are seconds since the recording started on ONE time base. The meta names every
device (serial, firmware, port, USB serial) with its link counters and clock fit.

Pressure: devices that declare ``kpa_per_count`` in their HELLO are stored in
kPa. Raw devices (uncalibrated ADC counts, e.g. the virtual patient) are stored
as counts x ``--kpa-per-count`` (default 1: the counts themselves), and the
meta says so per device, until calibration/ converts them properly.

``--zero`` first sends ZERO to every device (all must be unloaded): each then
subtracts its own baseline and sends 0 below its noise gate
(``--zero-gate``, default the config's ``devices.zero_gate``; docs/protocol.md
9.1), as the kiosk records. The meta keeps every device's zero state.

A device swap (another serial, or the same serial with another geometry, says
HELLO on a recorded port) ends the recording for every device at that instant:
the file keeps what came before, under the first device, its meta says
``stopped_by`` the swap, and the command exits 1 saying what happened. One file
holds one set of devices; record again for the new one.

Insoles: the file has one ``insole_t`` for both feet, while the two insoles
sample on their own clocks. The left insole's instants are the time base; the
right insole is linearly interpolated onto them between its two neighbouring
frames when those are at most two sample periods apart, and instants where it
is not (a lost stretch) are left out of both arrays and counted in the meta.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

from gaitkiosk import checks
from gaitkiosk.config import ALLOWED
from gaitkiosk.errors import KioskError, UsageError

HELP = "record frames from port URLs (real ports, sim://, replay://) into a recording file"

POLL_S = 0.02
LATE_MARGIN_S = 0.25  # wait this long past the end for frames still in flight
STALL_S = 2.0  # give up waiting for a device this long after the end
MAX_BYTES = 2 << 30  # frames held in memory while recording
WALKWAY_SETTLE_S = 15.0  # a walkway's tiles' clock fits settle (~3 s) before its first stitched frame


def add_arguments(parser) -> None:
    parser.add_argument("urls", nargs="+", metavar="PORT_URL",
                        help="a mat and/or insoles: /dev/..., sim://mat, sim://insole?side=left, replay://file.npz, "
                             "tiles://devices (the configured walkway) ...")
    parser.add_argument("--seconds", type=checks.positive(most=checks.DAY_S, unit="seconds"), default=10.0, help="how long to record (default 10)")
    parser.add_argument("--out", required=True, metavar="FILE", help="the recording to write (.npz)")
    parser.add_argument("--kpa-per-count", type=checks.positive(most=1000.0), default=None, metavar="K",
                        help="kPa of one count for devices that send raw counts (default 1: store the counts)")
    parser.add_argument("--zero", action="store_true",
                        help="ZERO every device first (nobody on them): baseline subtracted, noise gated on the device")
    parser.add_argument("--zero-gate", type=ALLOWED["devices.zero_gate"], default=None, metavar="N",
                        help="with --zero: 0 each sensel's 3 sigma, N counts, -1 baseline only (default: devices.zero_gate)")


def run(args, ctx) -> int:
    from device.reader import reader_options

    gate = ctx.config["devices"]["zero_gate"] if args.zero_gate is None else args.zero_gate
    if args.zero_gate is not None and not args.zero:
        raise UsageError("--zero-gate goes with --zero")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    options = reader_options(ctx.config["devices"])
    # Drained every POLL_S: room for a fast replay's bursts without dropping.
    options["queue_frames"] = max(options["queue_frames"], 8192)
    readers: list = []
    try:
        for url in args.urls:
            readers.append(_reader(url, ctx.config, options).open())
        hellos = [r.wait_ready(options["hello_timeout_s"] + 1.0) for r in readers]
        if args.zero:
            hellos = [_zero(r, gate) for r in readers]
        _check_roles(args.urls, hellos)
        _check_size(args.seconds, hellos)
        for r in readers:
            _first_stitched(r)
        frames, interrupted, swap = _collect(readers, args.seconds)
    finally:
        for r in readers:
            r.close()
    return _write(args, ctx, readers, hellos, frames, interrupted, swap)


def _reader(url: str, config: dict, options: dict):
    """A DeviceReader, or for ``tiles://devices`` the configured walkway's tiles as one mat."""
    from device.handlers.protocol_sim import apply_config_defaults
    from device.reader import DeviceReader
    from gaitkiosk.sensors import TILES_URL

    if url == TILES_URL:
        from device.tiles import TiledMat, parse_tiles

        tiles = config["devices"].get("tiles") or []
        if not tiles:
            raise UsageError(f"{TILES_URL} is the configured walkway, but the config lists no [[devices.tiles]] "
                             "(docs/walkway.md)")
        return TiledMat(parse_tiles(tiles), **options)
    return DeviceReader(apply_config_defaults(url, config["sim"]), name=url, **options)


def _first_stitched(reader, timeout_s: float = WALKWAY_SETTLE_S) -> None:
    """A walkway records from its first stitched frame: its tiles' clock fits settle first (~3 s)."""
    if getattr(reader, "stitcher", False) is False:
        return  # one device: its frames come from the handshake on
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if reader.stitcher is not None and reader.stitcher.stitched > 0:
            return
        time.sleep(POLL_S)
    st = reader.status()
    raise KioskError(f"{reader.name}: no stitched frame within {timeout_s:g} s ({st.state}"
                     + (f": {st.reason}" if st.reason else "") + "); `gaitkiosk demo --json` shows each tile")


def _zero(reader, gate: int):
    from device.reader import CommandError

    try:
        reader.zero(gate)
    except CommandError as exc:
        raise KioskError(f"cannot zero {reader.name}: {exc}; record without --zero, or clear the sensor first") from None
    if not reader.hello.zeroed:
        raise KioskError(f"{reader.name} acknowledged ZERO but its HELLO does not say zeroed; check its firmware")
    return reader.hello


def _check_size(seconds: float, hellos) -> None:
    # Frames are held in memory until the end (as uint16, then float32 kPa):
    # refuse up front what would not fit a Pi rather than fail after an hour.
    need = sum(seconds * max(h.rate_hz, 1.0) * h.rows * h.cols * 6 for h in hellos)
    if need > MAX_BYTES:
        most = seconds * MAX_BYTES / need
        raise UsageError(f"{seconds:g} s of these devices needs about {need / 2**30:.1f} GiB of memory; "
                         f"record at most {most:.0f} s per file")


def _check_roles(urls: list[str], hellos) -> None:
    seen: dict[str, str] = {}
    for url, hello in zip(urls, hellos, strict=True):
        kind = hello.kind.label
        if kind in seen:
            raise UsageError(f"{seen[kind]} and {url} are both a {kind}: record one of each at a time")
        seen[kind] = url


def _collect(readers, seconds: float) -> tuple[list[list], bool, dict | None]:
    """(time, frame) pairs of each reader whose time falls in [start, start + seconds).

    Live devices (and real-pace replays): host-clock times, and the recording
    starts when every device is ready. Replays faster or slower than real time
    have no relation to our clock but share the recording's own: their device
    times are used, from the first frame, so none is lost and the mat and
    insoles keep their recorded relation exactly. Ctrl-C ends the recording
    early and keeps what came (the second value says so). A device swap ends
    it at the swap for every device (the third value describes it, else None).
    """
    realtime = [r.realtime for r in readers]
    if any(realtime) and not all(realtime):
        raise UsageError("cannot record live ports together with a replay:// that is not at speed=1")
    collector = _Collector(readers, seconds, device_clock=not any(realtime))
    try:
        collector.run()
    except KeyboardInterrupt:
        return collector.cut(), True, collector.swap
    return collector.cut(), False, collector.swap


class _Collector:
    def __init__(self, readers, seconds: float, device_clock: bool):
        self.readers = readers
        self.device_clock = device_clock
        self.pending = [r.frames.drain() for r in readers]
        start = time.monotonic()
        if device_clock:
            start = min((self.when(fs[0]) for fs in self.pending if fs), default=0.0)
        self.start, self.end = start, start + seconds
        self.wall_end = time.monotonic() + seconds
        self.frames: list[list] = [[] for _ in readers]
        self.latest = [-float("inf")] * len(readers)
        self.swaps = [r.swap_count for r in readers]  # the devices being recorded
        self.swap: dict | None = None

    def when(self, frame) -> float:
        return frame.t_device if self.device_clock else frame.t_host

    def run(self) -> None:
        while True:
            now = time.monotonic()
            for i, r in enumerate(self.readers):
                for f in self.pending[i] + r.frames.drain():
                    t = self.when(f)
                    self.latest[i] = max(self.latest[i], t)
                    if f.swaps != self.swaps[i]:
                        self.swapped(i, t)
                    elif self.start <= t < self.end:
                        self.frames[i].append((t - self.start, f))
                self.pending[i] = []
                if r.swap_count != self.swaps[i]:
                    self.swapped(i, None)
            done = [self.latest[i] >= self.end or r.status().state == "finished" or r.swap_count != self.swaps[i]
                    for i, r in enumerate(self.readers)]
            if all(done) or now > self.wall_end + STALL_S:
                return
            if now > self.wall_end + LATE_MARGIN_S and not self.device_clock:
                return
            time.sleep(POLL_S)

    def swapped(self, i: int, t_frame: float | None) -> None:
        """Reader ``i``'s device was replaced: the recording of every device ends there."""
        r = self.readers[i]
        swap = r.swaps[self.swaps[i]]  # the first one since recording began
        # Live: when its HELLO was read. (A replay on the device clock has no swaps;
        # should one come, the new device's first frame marks it.)
        t = swap.t_host if not self.device_clock else t_frame if t_frame is not None else self.latest[i]
        if t >= self.end:
            return  # after the end, or after an earlier swap that ended the recording
        self.end = max(t, self.start)
        at = round(self.end - self.start, 3)
        self.swap = {
            "url": r.url, "kind": swap.old.kind.label, "at_s": at,
            "from": {"serial": swap.old.serial, "rows": swap.old.rows, "cols": swap.old.cols},
            "to": {"serial": swap.new.serial, "kind": swap.new.kind.label, "rows": swap.new.rows,
                   "cols": swap.new.cols},
            "message": f"{swap.describe()} on {r.url} {at:.2f} s into the recording",
        }

    def cut(self) -> list[list]:
        """The frames, none at or after a swap (devices that ran ahead are cut there too)."""
        if self.swap is None:
            return self.frames
        limit = self.end - self.start
        return [[(t, f) for t, f in fs if t < limit] for fs in self.frames]


def _to_kpa(frame, scale: float):
    import numpy as np

    if frame.kpa_per_count > 0:
        return frame.kpa()
    return frame.counts.astype(np.float32) * np.float32(scale)


def _write(args, ctx, readers, hellos, frames, interrupted: bool = False, swap: dict | None = None) -> int:
    import numpy as np

    from device import calibration_state
    from device.recording import Recording
    from gaitkiosk.stored_analysis import save_with_analysis

    scale = args.kpa_per_count if args.kpa_per_count is not None else 1.0
    rec = Recording()
    by_kind = {h.kind.label: (i, h) for i, h in enumerate(hellos)}
    meta_devices = []
    for i, (r, h) in enumerate(zip(readers, hellos, strict=True)):
        st = r.status()
        meta_devices.append({
            "url": r.url, "port": st.port, "kind": h.kind.label, "serial": h.serial, "firmware": h.firmware,
            "usb_serial": st.usb_serial, "rate_hz": h.rate_hz, "bits": h.bits,
            "pressure": "kPa (device-calibrated)" if h.kpa_per_count > 0
            else f"raw counts x {scale:g} (uncalibrated)",
            "kpa_per_count": h.kpa_per_count if h.kpa_per_count > 0 else scale,
            "frames": len(frames[i]), "counters": st.counters, "zero": h.zero_state,
            "clock": {"offset_s": st.clock_offset_s, "drift_ppm": st.clock_drift_ppm},
        })
    if "mat" in by_kind:
        i, h = by_kind["mat"]
        if frames[i]:
            rec.mat_t = np.array([t for t, _ in frames[i]], dtype=np.float64)
            rec.mat_kpa = np.stack([_to_kpa(f, scale) for _, f in frames[i]]).astype(np.float32)
            rec.mat_pitch_mm = np.array(h.pitch_mm, dtype=np.float64)
    pairing = _insoles(rec, by_kind, frames, scale)
    meta = {
        "source": "gaitkiosk record",
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "interrupted": interrupted,
        "time_base": "host monotonic clock, seconds since the recording started",
        "devices": meta_devices,
        "calibration": {h.kind.label: calibration_state.entry(
            h.serial, calibration_state.DEVICE if h.kpa_per_count > 0 else calibration_state.RAW,
            kpa_per_count=h.kpa_per_count if h.kpa_per_count > 0 else scale) for h in hellos},
    }
    if swap is not None:
        meta["stopped_by"] = {"device_swap": swap}
    if pairing:
        meta["insole_pairing"] = pairing
    rec.meta = meta
    empty = [d for d in meta_devices if d["frames"] == 0]
    if len(empty) == len(meta_devices):
        if swap is not None:
            raise KioskError(f"{swap['message']}, before any frame was recorded; nothing written: "
                             "record again for the new device")
        raise KioskError("no frames arrived from any device; nothing written: "
                         + "; ".join(f"{r.name}: {r.status().state} {r.status().reason}".strip() for r in readers))
    save_with_analysis(args.out, rec)
    summary = ", ".join(f"{d['kind']} {d['frames']} frames" for d in meta_devices)
    faults = {d["kind"]: {k: v for k, v in d["counters"].items() if v and k in _FAULT_KEYS} for d in meta_devices}
    fault_text = "; ".join(f"{k}: " + ", ".join(f"{n} {v}" for n, v in f.items()) for k, f in faults.items() if f)
    what = "interrupted, kept what was recorded" if interrupted else f"{args.seconds:g} s"
    if swap is not None:
        what = f"stopped by a device swap after {swap['at_s']:g} s of {args.seconds:g} s"
    ctx.emit({"out": str(args.out), "meta": meta},
             f"wrote {args.out}: {what}, {summary}; faults: {fault_text or 'none'}")
    if swap is not None:
        # Exit 1: a script that asked for N seconds of these devices did not get them.
        raise KioskError(f"{swap['message']}: stopped there; {args.out} holds the {swap['at_s']:g} s before it, "
                         f"under {swap['from']['serial']} (one file holds one set of devices): "
                         "record again for the new device")
    if empty:
        raise KioskError(f"wrote {args.out}, but {', '.join(d['url'] for d in empty)} delivered no frames")
    return 0


_FAULT_KEYS = ("crc_failures", "cobs_failures", "version_errors", "malformed", "gaps", "lost_packets",
               "device_dropped", "device_resets", "device_swaps", "other_devices", "unknown_address", "dropped_by_queue",
               "silences", "reconnects")


def _insoles(rec, by_kind, frames, scale) -> dict:
    """Fill the insole group; the left insole's instants are the time base (module docstring)."""
    import numpy as np

    sides = [s for s in ("insole_left", "insole_right") if s in by_kind and frames[by_kind[s][0]]]
    if not sides:
        return {}
    hellos = {side: by_kind[side][1] for side in sides}
    unknown = [s for s in sides if hellos[s].sensors_mm is None or hellos[s].sensor_area_mm2 is None]
    if unknown:
        # The format needs each sensor's position and area; inventing them would mislead analysis.
        return {"left_out": f"{', '.join(unknown)} sent no sensor positions/areas in its HELLO"}
    base = sides[0]
    i = by_kind[base][0]
    t = np.array([t for t, _ in frames[i]], dtype=np.float64)
    data = {base: np.stack([_to_kpa(f, scale) for _, f in frames[i]]).astype(np.float32)}
    keep = np.ones(len(t), dtype=bool)
    if len(sides) == 2:
        other = sides[1]
        j = by_kind[other][0]
        t2 = np.array([t for t, _ in frames[j]], dtype=np.float64)
        k2 = np.stack([_to_kpa(f, scale) for _, f in frames[j]]).astype(np.float64)
        rate = hellos[other].rate_hz
        period = 1.0 / rate if rate > 0 else 0.01
        lo = np.searchsorted(t2, t, side="right") - 1  # last right frame at or before t
        hi = np.minimum(lo + 1, len(t2) - 1)
        lo_c = np.maximum(lo, 0)
        exact = (lo >= 0) & (t2[lo_c] == t)
        bracketed = (lo >= 0) & (lo + 1 < len(t2)) & (t2[hi] - t2[lo_c] <= 2 * period)
        keep = exact | bracketed
        span = np.where(t2[hi] > t2[lo_c], t2[hi] - t2[lo_c], 1.0)
        w = np.clip((t - t2[lo_c]) / span, 0.0, 1.0)[:, None]
        w[exact] = 0.0
        data[other] = ((1 - w) * k2[lo_c] + w * k2[hi]).astype(np.float32)
    rec.insole_t = t[keep]
    for side, kpa in data.items():
        setattr(rec, f"{side}_kpa", kpa[keep])
        setattr(rec, f"{side}_sensors_mm", np.asarray(hellos[side].sensors_mm, dtype=np.float64))
    rec.insole_sensor_area_mm2 = np.asarray(hellos[base].sensor_area_mm2, dtype=np.float64)
    return {"time_base": base, "interpolated": sides[1] if len(sides) == 2 else None,
            "instants_dropped": int((~keep).sum())}
