"""``gaitkiosk demo``: the configured sensors streaming to a live text summary.

    gaitkiosk demo                     the config's devices (default: the virtual patient, sim://)
    gaitkiosk demo --seconds 10        stop after 10 s
    gaitkiosk demo sim://mat "sim://insole?side=left" "sim://insole?side=right"
    gaitkiosk demo "sim://mat?scenario=walk"

About twice a second it prints, per device, the link state, frames, the
measured rate and the faults, then the whole-body centre of pressure from the
mat and the left/right weight share (mat feet, and insoles). On a terminal the
summary redraws in place; piped or in CI it prints one block per refresh, and
with ``--json`` one JSON object per line. The kiosk's main job until the UI
exists (``make demo``).

Pressure: a device that sends raw counts is analysed in counts (marked "raw");
COP and the left/right share are ratios and do not depend on the scale, so
they are right, while forces are not in newtons until calibration/ exists.
"""

from __future__ import annotations

import json
import logging
import sys
import time

log = logging.getLogger(__name__)

HELP = "stream the configured sensors (default: the virtual patient) to a live text summary"

# Raw ADC counts: below this a sensel is unloaded. The virtual mat's offsets are
# 12 +- 6 counts with 3 counts of noise, so 60 keeps noise out and feet in.
RAW_THRESHOLD_COUNTS = 60.0
FAULT_KEYS = ("crc_failures", "cobs_failures", "version_errors", "malformed", "lost_packets",
              "device_dropped", "dropped_by_queue", "silences")


def add_arguments(parser) -> None:
    parser.add_argument("urls", nargs="*", metavar="PORT_URL",
                        help="ports to open instead of the config's devices.mat and devices.insoles")
    from gaitkiosk import checks

    parser.add_argument("--seconds", type=checks.positive(most=checks.DAY_S, unit="seconds"), default=None,
                        help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--interval", type=checks.within(0.05, 60.0, unit="seconds"), default=0.5,
                        help="seconds between refreshes (default 0.5)")


def _urls(args, config) -> list[str]:
    from device.handlers.protocol_sim import apply_config_defaults
    from gaitkiosk.sensors import TILES_URL

    devices = config["devices"]
    mat = TILES_URL if devices.get("tiles") else devices["mat"]  # a walkway of tiles is the mat
    urls = list(args.urls) or [u for u in [mat, *devices["insoles"]] if u]
    return [u if u == TILES_URL else apply_config_defaults(u, config["sim"]) for u in urls]


class Summary:
    """Latest frames in, one summary dict out (the text rendering is :func:`render`)."""

    def __init__(self):
        self.pitch = (8.47, 8.47)  # (row, column) mm; the mat's HELLO replaces it
        self.mat_analyzer = None
        self.mat_key = None
        self.latest: dict[str, object] = {}

    def take(self, frame) -> None:
        self.latest[frame.kind] = frame

    def body(self) -> dict:
        out: dict = {"cop_mm": None, "mat_force": None, "mat_left_pct": None, "insole_left_pct": None, "raw": False}
        mat = self.latest.get("mat")
        if mat is not None:
            pressure, raw = _pressure(mat)
            threshold = RAW_THRESHOLD_COUNTS if raw else 10.0
            analyzer = self._analyzer(mat, pressure.shape, raw, threshold)
            if analyzer is not None:
                result = analyzer.analyze(pressure)
                force, cop = result.force_n, result.cop_mm
                lf = result.left.force_n if result.left is not None else 0.0
                rf = result.right.force_n if result.right is not None else 0.0
            else:
                force, cop, lf, rf = plain_cop(pressure, self.pitch, threshold)
            out["raw"] = raw
            out["mat_force"] = force
            out["cop_mm"] = None if cop is None else [round(v, 1) for v in cop]
            if lf + rf > 0:
                out["mat_left_pct"] = round(100.0 * lf / (lf + rf), 1)
        left, right = self.latest.get("insole_left"), self.latest.get("insole_right")
        if left is not None and right is not None:
            # Both insoles have the same sensor areas: the share of summed pressure is the share of force.
            lsum = float(_pressure(left)[0].sum())
            rsum = float(_pressure(right)[0].sum())
            if lsum + rsum > 0:
                out["insole_left_pct"] = round(100.0 * lsum / (lsum + rsum), 1)
        return out

    def _analyzer(self, frame, shape, raw, threshold):
        key = (frame.device, shape, raw, self.pitch)
        if key != self.mat_key:
            self.mat_key = key
            try:
                from kernels import FrameAnalyzer

                self.mat_analyzer = FrameAnalyzer(shape[0], shape[1], self.pitch, threshold_kpa=threshold)
            except Exception as exc:  # noqa: BLE001 - the demo keeps running on the plain helper
                log.warning("kernels.FrameAnalyzer unavailable (%s: %s); using the plain centroid", type(exc).__name__, exc)
                self.mat_analyzer = None
        return self.mat_analyzer


def plain_cop(pressure, pitch_mm, threshold):
    """FALLBACK ONLY, used when kernels.FrameAnalyzer cannot be loaded: the
    pressure-weighted centroid of the sensels above ``threshold`` (DESIGN 3), and
    a left/right split at the widest unloaded column gap between the feet (at
    the COP if the feet touch). Returns (force, cop_mm, left, right) in the
    frame's own units. Replace by kernels.FrameAnalyzer; never use for reports.
    """
    import numpy as np

    p = np.where(pressure >= threshold, pressure.astype(np.float64), 0.0)
    total = p.sum()
    if total <= 0:
        return 0.0, None, 0.0, 0.0
    rows, cols = p.shape
    x = (np.arange(cols) + 0.5) * pitch_mm[1]
    y = (np.arange(rows) + 0.5) * pitch_mm[0]
    col_load, row_load = p.sum(axis=0), p.sum(axis=1)
    cop = (float(col_load @ x / total), float(row_load @ y / total))
    # A column counts as under a foot with at least two loaded sensels: a lone hot
    # sensel (stuck at full scale) must not open a "gap" of its own.
    loaded = np.flatnonzero((p > 0).sum(axis=0) >= 2)
    split = cop[0]
    if len(loaded) >= 2:
        gaps = np.diff(loaded)
        if gaps.max() > 1:
            k = int(np.argmax(gaps))
            split = (x[loaded[k]] + x[loaded[k + 1]]) / 2
    left = float(col_load[x < split].sum())
    area = pitch_mm[0] * pitch_mm[1] * 1e-3
    return float(total * area), cop, left * area, float(total - left) * area


def _pressure(frame):
    import numpy as np

    if frame.kpa_per_count > 0:
        return np.ascontiguousarray(frame.kpa(), dtype=np.float32), False
    return np.ascontiguousarray(frame.counts, dtype=np.float32), True


def snapshot(readers, summary: Summary, elapsed: float) -> dict:
    devices = []
    for r in readers:
        st = r.status()
        faults = sum(st.counters.get(k, 0) for k in FAULT_KEYS)
        devices.append({
            "name": (st.hello.kind.label if st.hello else r.name), "url": r.url, "state": st.state,
            "reason": st.reason, "frames": st.counters["frames"], "rate_hz": round(st.rate_hz, 1),
            "faults": faults, "reconnects": st.counters["reconnects"],
            "serial": st.hello.serial if st.hello else None,
        })
    return {"t_s": round(elapsed, 1), "devices": devices, "body": summary.body()}


def render(snap: dict) -> str:
    lines = [f"gaitkiosk demo  {snap['t_s']:6.1f} s   (Ctrl-C to stop)",
             f"{'device':<13} {'state':<13} {'frames':>8} {'rate Hz':>8} {'faults':>7}  note"]
    for d in snap["devices"]:
        note = d["reason"] or (f"{d['reconnects']} reconnects" if d["reconnects"] else "")
        lines.append(f"{d['name']:<13} {d['state']:<13} {d['frames']:>8} {d['rate_hz']:>8.1f} {d['faults']:>7}  {note}")
    b = snap["body"]
    cop = "no contact" if b["cop_mm"] is None else f"x {b['cop_mm'][0]:6.1f} mm  y {b['cop_mm'][1]:6.1f} mm"
    share = "-" if b["mat_left_pct"] is None else f"left {b['mat_left_pct']:.0f} % / right {100 - b['mat_left_pct']:.0f} %"
    if b["mat_force"] is not None:
        lines.append(f"mat COP   {cop}   {share}" + ("   (raw counts: uncalibrated)" if b["raw"] else ""))
    if b["insole_left_pct"] is not None:
        lines.append(f"insoles   left {b['insole_left_pct']:.0f} % / right {100 - b['insole_left_pct']:.0f} %")
    return "\n".join(lines)


def run(args, ctx) -> int:
    from device.reader import DeviceReader, reader_options
    from gaitkiosk.errors import UsageError
    from gaitkiosk.sensors import TILES_URL

    if args.interval <= 0:
        raise UsageError("--interval must be positive")
    options = reader_options(ctx.config["devices"])
    readers = []
    summary = Summary()
    tty = sys.stdout.isatty() and not ctx.json
    start = time.monotonic()
    try:
        for url in _urls(args, ctx.config):
            if url == TILES_URL:
                from device.tiles import TiledMat, parse_tiles

                readers.append(TiledMat(parse_tiles(ctx.config["devices"]["tiles"]), **options).open())
            else:
                readers.append(DeviceReader(url, **options).open())
        start = time.monotonic()  # the run time counts from the open ports, not the imports
        next_draw = start + args.interval
        while args.seconds is None or time.monotonic() - start < args.seconds:
            for r in readers:
                for frame in r.frames.drain():
                    summary.take(frame)
                if r.hello is not None and r.hello.kind.label == "mat":
                    summary.pitch = tuple(r.hello.pitch_mm)
            now = time.monotonic()
            if now >= next_draw:
                _draw(ctx, snapshot(readers, summary, now - start), tty)
                next_draw += args.interval
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        final = snapshot(readers, summary, time.monotonic() - start) if readers else None
        for r in readers:
            r.close()
    if final is not None:
        _draw(ctx, final, tty, final=True)
    return 0


def _draw(ctx, snap: dict, tty: bool, final: bool = False) -> None:
    if ctx.json:
        ctx.out.write(json.dumps(snap) + "\n")
    elif tty and not final:
        ctx.out.write("\x1b[H\x1b[2J" + render(snap) + "\n")
    else:
        ctx.out.write(render(snap) + "\n\n")
    ctx.out.flush()
