"""Walkway scale: per-stage cost of a tiled mat against the single 48 x 48 mat, in the same run.

Three mats, the virtual patient walking on each (issue 16, "Tiled mats"):

* ``single``: one 48 x 48 mat at 100 Hz (today's kiosk; no stitching);
* ``walkway``: 4 tiles of 48 x 48 end to end = 192 x 48 sensels (1.63 m) at 100 Hz;
* ``walkway_big``: 4 tiles of 64 x 64 = 256 x 64 sensels at 200 Hz.

Per walkway frame, each stage called once per frame from Python as the live path does:

1. decode: every tile's FRAME packet (12-bit packed, as the virtual and real mats send
   it) through ``framing.Deframer`` (COBS, CRC, unpacking);
2. stitch: ``device.tiles.Stitcher`` pairing the tiles' RawFrames and placing them;
3. calibration: counts -> kPa with a full per-sensel model (offset, gain, mask, power curve)
   through the compiled ``calibration.CountsToKpa``;
4. analysis: ``kernels.FrameAnalyzer.analyze`` on the kPa frame;

then the share of one core these four stages take at the mat's rate (sum x rate). The link:
with the devices in ANOTHER process (``gaitkiosk simulate --pty [--tiles 4]``, walking), this
process reads them as the kiosk does (one DeviceReader per tile, the TiledMat stitching thread,
a consumer draining at 60 Hz) and its CPU (user + system, per thread from /proc) over 8 s is
the reading + stitching share of one core, against the single mat's in the same run. The
store: bytes per minute of the zero-gated stream (what the kiosk stores) with the
``auto`` codec, and the recording writer's sustained frames/s (encode + durable commit)
against the frames/s the mat produces. The live screen: ``ui.heatmap.MatView`` drawing
the mat at its size in the 800 x 480 drill layout (set_frame + draw), ms per frame.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sim_link  # bench/sim_link.py: the devices in another process, CPU per thread

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

PITCH = 8.47
MATS = [  # name, tile rows, tile cols, tiles, rate
    ("single", 48, 48, 1, 100.0),
    ("walkway", 48, 48, 4, 100.0),
    ("walkway_big", 64, 64, 4, 200.0),
]
N_FRAMES = 300  # loaded frames per mat (a foot on the mat)


def walk_counts(rows, cols, rate, n):
    """Zero-gated counts of the virtual patient walking the mat: frames with a foot on it."""
    from bench_store import _zero_gated

    from device.sim import MatGeometry, VirtualPatient

    # a step length whose footfalls land on the mat, and one pass after another
    p = VirtualPatient("walk", seed=1, mat=MatGeometry(rows=rows, cols=cols, pitch_mm=(PITCH, PITCH), rate_hz=rate),
                       lap_mm=rows * PITCH + 700.0)
    out, t = [], 0.0
    while len(out) < n and t < 120.0:
        s = p.sample(t, insoles=False)
        if s.force_n > 50.0:
            out.append(p.mat_counts(s))
        t += 1.0 / rate
    counts = np.array(out)
    return p, _zero_gated(p.mat_sensor, counts), counts


def per_frame_us(fn, items, repeat=3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, (time.perf_counter() - t0) / len(items))
    return best * 1e6


def calibration_model(patient, rows, cols):
    from calibration.curves import PowerLawCurve
    from calibration.model import CalibrationModel

    s = patient.mat_sensor
    m = CalibrationModel.for_device("bench", "mat", (rows, cols), sensel_area_mm2=PITCH * PITCH,
                                    pitch_mm=(PITCH, PITCH))
    m.offset = s.offset.astype(np.float32)
    m.noise = np.full((rows, cols), 3.0, np.float32)
    m.gain = s.gain.astype(np.float32)
    m.mask = (s.dead.astype(np.uint8) + 2 * s.hot.astype(np.uint8))
    # the sensor's own response, as a calibration would find it: kPa = a * n^b over gain-normalised counts
    m.curve = PowerLawCurve(s.full_scale_kpa / float(s.full_counts) ** (1.0 / s.exponent), 1.0 / s.exponent)
    return m


def stages(name, tile_rows, tile_cols, tiles, rate):
    from calibration.apply import CountsToKpa
    from device import framing
    from device.frames import MAT, RawFrame
    from device.framing import DeviceKind, Hello
    from device.tiles import Stitcher, parse_tiles, place_tiles
    from kernels import FrameAnalyzer

    rows, cols = tile_rows * tiles, tile_cols
    patient, zeroed, raw = walk_counts(rows, cols, rate, N_FRAMES)
    # each tile's part, as its controller sends it (12-bit packed FRAME packets)
    parts = [[c[i * tile_rows:(i + 1) * tile_rows] for i in range(tiles)] for c in zeroed]
    wires = [[framing.encode_frame(1, k, k * 10_000, part, bits=12) for part in frame] for k, frame in enumerate(parts)]
    out = {"mat": f"{rows} x {cols} @ {rate:g} Hz", "tiles": tiles, "frame_bytes_on_wire": sum(len(w) for w in wires[0])}

    deframers = [framing.Deframer() for _ in range(tiles)]

    def decode(frame_wires):
        for d, w in zip(deframers, frame_wires, strict=True):
            d.feed(w)

    out["decode_us"] = per_frame_us(decode, wires)

    if tiles > 1:
        hellos = [Hello(DeviceKind.MAT, f"T{i}", "fw", rate, tile_rows, tile_cols, (PITCH, PITCH), 12)
                  for i in range(tiles)]
        walkway = place_tiles(parse_tiles([{"port": f"p{i}"} for i in range(tiles)]), hellos)
        period = 1.0 / rate
        raws = [[RawFrame(f"T{i}", MAT, k, k * period, 100.0 + k * period + 0.001 * i, part)
                 for i, part in enumerate(frame)] for k, frame in enumerate(parts)]
        stitcher = Stitcher(walkway, "W", tiles)

        def stitch(frame_raws):
            for i, f in enumerate(frame_raws):
                stitcher.add(i, f)
            stitcher.take()

        out["stitch_us"] = per_frame_us(stitch, raws, repeat=1)  # once: the stitcher's clock runs forward
        assert stitcher.stitched >= len(raws) - 2, stitcher.counters()
    else:
        out["stitch_us"] = 0.0

    convert = CountsToKpa(calibration_model(patient, rows, cols), "compiled")
    out["calibration_us"] = per_frame_us(convert, list(raw))
    kpa = [convert(c) for c in raw]
    analyzer = FrameAnalyzer(rows, cols, (PITCH, PITCH))
    out["analysis_us"] = per_frame_us(analyzer.analyze, kpa)
    total = out["decode_us"] + out["stitch_us"] + out["calibration_us"] + out["analysis_us"]
    out["total_us"] = total
    out["core_pct_at_rate"] = total * 1e-6 * rate * 100.0
    return out, zeroed, rate


def store_numbers(zeroed, rate, tmp: Path, name: str) -> dict:
    from device.frames import RawFrame
    from store import codec, open_store
    from store.codec import Chunk
    from store.patients import Patient

    n = len(zeroed)
    per = int(rate)
    size = 0
    for k in range(0, n, per):  # one-second chunks, as the writer makes them
        sl = slice(k, k + per)
        t = np.arange(k, min(k + per, n)) / rate
        size += len(codec.encode(Chunk(counts=zeroed[sl], seq=np.arange(k, min(k + per, n), dtype=np.uint32),
                                       t_device=t, t_host=t + 1234.5), codec.AUTO))
    bytes_min = size * 60.0 * rate / n
    frames = [RawFrame("MAT", "mat", i, i / rate, i / rate, zeroed[i % n]) for i in range(max(3 * n, int(10 * rate)))]
    st = open_store(tmp / name)
    session = st.sessions.start(st.patients.add(Patient(code="bench")).id)
    writer = st.recording_writer(session.id, queue_frames=len(frames) + 1, min_free_bytes=0).start()
    t0 = time.perf_counter()
    for f in frames:
        writer.put(f)
    stats = writer.stop(timeout=600)
    elapsed = time.perf_counter() - t0
    st.sessions.finish(session.id)
    st.close()
    fps = stats.committed_frames / elapsed
    return {"store_bytes_min": bytes_min, "writer_frames_s": fps, "writer_x_rate": fps / rate,
            "raw_bytes_min": zeroed[0].nbytes * rate * 60.0}


def screen_ms(rows, cols, frames_kpa) -> float:
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from ui.heatmap import MatView
    from ui.theme import Colors

    pygame.display.init()
    surface = pygame.Surface((800, 480))
    box = pygame.Rect(0, 0, int(800 * 0.56), 480)
    view = MatView(rows, cols, (PITCH, PITCH), box)
    colors = Colors()
    n = 200
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(n):
            view.set_frame(frames_kpa[i % len(frames_kpa)])
            view.draw(surface, colors)
        best = min(best, (time.perf_counter() - t0) / n * 1e3)
    return best


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by its Python name, the readers together."""
    return sim_link.thread_cpu(lambda name: "reader" if name.startswith(("reader", "tile ")) else name)


def link_cpu(tiles: int, rows: int = 48, cols: int = 48, rate: float = 100.0, warmup_s: float = 4.0,
             measure_s: float = 8.0) -> dict:
    """This process's CPU reading the mat (and stitching) with the devices in another process."""
    import resource
    import signal
    import subprocess
    import threading

    import device  # noqa: F401
    from device.reader import DeviceReader
    from device.tiles import TiledMat, parse_tiles

    args = ["--seconds", "120", "--scenario", "walk", "--no-insoles", "--rows", str(rows), "--cols", str(cols),
            "--rate", f"{rate:g}"] + (["--tiles", str(tiles)] if tiles > 1 else [])
    proc, named = sim_link.start_pty_devices(args, tiles)
    paths = list(named.values())  # in the order the tiles are laid
    try:
        if tiles > 1:
            mat = TiledMat(parse_tiles([{"port": p} for p in paths])).open()
        else:
            mat = DeviceReader(paths[0], name="reader mat").open()
        count = [0]
        stop = threading.Event()

        def consume():  # the kiosk's analysis thread draining the queue, minus the analysis
            while not stop.is_set():
                count[0] += len(mat.frames.drain())
                time.sleep(1 / 60)

        consumer = threading.Thread(target=consume, name="consumer", daemon=True)
        try:
            mat.wait_ready(30)
            consumer.start()
            time.sleep(warmup_s)
            ru0, th0, n0, w0 = resource.getrusage(resource.RUSAGE_SELF), _thread_cpu(), count[0], time.monotonic()
            c0 = mat.status().counters
            time.sleep(measure_s)
            ru1, th1, n1, w1 = resource.getrusage(resource.RUSAGE_SELF), _thread_cpu(), count[0], time.monotonic()
            c1 = mat.status().counters
            counters = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1}  # in the window
        finally:
            stop.set()
            consumer.join(2)
            mat.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    wall = w1 - w0
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return {"process_cpu_pct": 100.0 * cpu / wall, "frames_hz": (n1 - n0) / wall,
            "threads_cpu_pct": {k: round(100.0 * (th1.get(k, 0.0) - th0.get(k, 0.0)) / wall, 2) for k in th1},
            "gaps": counters.get("gaps", 0), "resyncs": counters.get("resyncs", 0),
            "lost_packets": counters.get("lost_packets", 0), "expected_hz": rate}


def main() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-walkway-"))
    results = {}
    try:
        for name, tr, tc, tiles, rate in MATS:
            row, zeroed, rate = stages(name, tr, tc, tiles, rate)
            row |= store_numbers(zeroed, rate, tmp, name)
            kpa = [c.astype(np.float32) * np.float32(0.2) for c in zeroed[:50]]
            row["screen_ms"] = screen_ms(tr * tiles, tc, kpa)
            results[name] = row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, tr, tc, tiles, rate in MATS:  # the link of each, in the same run
        results[name]["link"] = link_cpu(tiles, tr, tc, rate)
    # the baseline in the same run: the readers taking a backlog through pyserial (select + read +
    # ioctl per 4 kB) as before issue 16's walkway_big fix, instead of one read per 4 kB
    import device.reader

    device.reader.DRAIN_FD = False
    try:
        results["walkway_big"]["link_before"] = link_cpu(4, 64, 64, 200.0)
    finally:
        device.reader.DRAIN_FD = True
    base = results["single"]
    for row in results.values():
        row["x_single_total"] = row["total_us"] / base["total_us"]
        row["x_single_store_bytes"] = row["store_bytes_min"] / base["store_bytes_min"]
    cols = ("decode_us", "stitch_us", "calibration_us", "analysis_us", "total_us", "core_pct_at_rate",
            "store_bytes_min", "writer_frames_s", "writer_x_rate", "screen_ms")
    print(f"{'mat':>26} " + " ".join(f"{c:>16}" for c in cols))
    for name, row in results.items():
        print(f"{name + ' ' + row['mat']:>26} " + " ".join(f"{row[c]:>16.1f}" for c in cols))
    for name, key in [(n, "link") for n in results] + [("walkway_big", "link_before")]:
        link = results[name][key]
        name = name + (" (readers as before)" if key == "link_before" else "")
        print(f"{name}: reading{' + stitching' if name != 'single' else ''} with the devices in another process: "
              f"{link['process_cpu_pct']:.1f} % of one core, {link['frames_hz']:.1f} frames/s of "
              f"{link['expected_hz']:g}, threads {link['threads_cpu_pct']}, gaps {link['gaps']}, "
              f"lost packets {link['lost_packets']}, resyncs {link['resyncs']}")
    return results


if __name__ == "__main__":
    main()
