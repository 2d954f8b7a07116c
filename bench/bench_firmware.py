"""The insole firmware on the real MicroPython unix port (docs/firmware.md, docs/performance.md).

1. Work per frame: ``bench/mp_firmware_loop.py`` under ``micropython`` (128 KB heap): scan
   16 sensels x 4 reads through the simulated multiplexer ADC, zero gate, FRAME12, CRC-32,
   COBS, write; its share of the 10 ms (100 Hz) and 5 ms (200 Hz) period.
2. Streaming end to end: ``firmware/unix_main.py`` behind a real pty, read by the kiosk's
   DeviceReader, zeroed and then walked on (the virtual patient's loads), for
   GAITKIOSK_FIRMWARE_BENCH_S seconds (default 60; the report's run used 600) at 100 Hz, and
   a shorter run at 200 Hz: frames per second that reached the reader, frames lost, missed
   deadlines, scan-start jitter, and the heap in use after a collection every tenth of the run
   (it must not grow).

    python bench/run.py firmware
    GAITKIOSK_FIRMWARE_BENCH_S=600 nice -n 5 .venv/bin/python bench/run.py firmware
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from firmware_support import CONFIG, HEAP, FirmwareOnPty, micropython, patient_loads  # noqa: E402

SECONDS = float(os.environ.get("GAITKIOSK_FIRMWARE_BENCH_S", "60"))
FRAMES = 500  # per round of the per-frame measurement


def per_frame(tmp: Path, unloaded, loaded) -> dict:
    (tmp / "loop").mkdir()
    fw = FirmwareOnPty(tmp / "loop", unloaded, loaded)
    fw.close()  # only its files: the loop bench writes to a sink, no port
    done = subprocess.run([micropython(), "-X", f"heapsize={HEAP}", str(ROOT / "bench" / "mp_firmware_loop.py"),
                           str(fw.sim), str(FRAMES)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    r = json.loads(done.stdout)
    r["share_of_10ms_pct"] = round(r["frame_us"] / 100, 2)
    r["share_of_5ms_pct"] = round(r["frame_us"] / 50, 2)
    # What the firmware itself costs: the simulated ADC's Python is C (machine.ADC) on a board.
    r["firmware_us"] = round(r["frame_us"] - r["sim_adc_us"], 1)
    return r


def streaming(tmp: Path, unloaded, loaded, rate_hz: int, seconds: float) -> dict:
    from device.reader import DeviceReader

    run_dir = tmp / f"stream{rate_hz}"
    run_dir.mkdir()
    config = dict(CONFIG, rate_hz=rate_hz)
    fw = FirmwareOnPty(run_dir, unloaded, loaded, config=config, seconds=seconds)
    sim = json.loads(fw.sim.read_text())
    sim["mem_every_s"] = max(1.0, seconds / 10)
    fw.sim.write_text(json.dumps(sim))
    fw.start()
    reader = DeviceReader(fw.path, queue_frames=100000, silence_timeout_s=5.0, hello_timeout_s=5.0)
    frames, first, last = 0, None, None
    try:
        reader.open()
        reader.wait_ready(30)
        if not reader.zero(0, timeout=5.0).ok:
            raise RuntimeError("ZERO refused")
        fw.step_on()
        while fw.proc.poll() is None or len(reader.frames):
            f = reader.get(0.5)
            if f is None:
                continue
            frames += 1
            first = f.t_host if first is None else first
            last = f.t_host
        counters = reader.status().counters
        status = reader.status().device_status
    finally:
        reader.close()
        fw.close()
    report = json.loads(fw.stderr().strip().splitlines()[-1])
    mem = report["mem_samples"]
    return {
        "rate_hz": rate_hz, "seconds": seconds, "frames_received": frames,
        "fps_end_to_end": round((frames - 1) / (last - first), 2) if frames > 1 and last > first else 0.0,
        "scans": report["scans"], "frames_sent": report["frames_sent"],
        "frames_dropped_on_device": report["frames_dropped"], "missed_deadlines": report["missed"],
        "lost_packets_seen_by_reader": counters["lost_packets"], "crc_failures": counters["crc_failures"],
        "jitter_mean_us": report["jitter_mean_us"], "jitter_max_us": report["jitter_max_us"],
        "heap_total_bytes": report["heap_total"], "mem_alloc_samples": mem,
        "mem_growth_bytes": mem[-1] - mem[1] if len(mem) > 2 else mem[-1] - mem[0],
        "last_status_rate_hz": None if status is None else status.rate_hz,
    }


def main() -> dict:
    unloaded, loaded = patient_loads(seconds=3.0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        loop = per_frame(tmp, unloaded, loaded)
        print(f"per frame (16 sensels x 4 reads, zero gate, FRAME12, CRC, COBS): {loop['frame_us']:.1f} us "
              f"= {loop['share_of_10ms_pct']} % of 10 ms, {loop['share_of_5ms_pct']} % of 5 ms "
              f"(scan {loop['scan_us']:.1f} us, packet {loop['packet_us']:.1f} us; the simulated ADC's own "
              f"{loop['sim_adc_us']:.1f} us of it; the firmware without it {loop['firmware_us']} us)", flush=True)
        t0 = time.monotonic()
        s100 = streaming(tmp, unloaded, loaded, 100, SECONDS)
        s200 = streaming(tmp, unloaded, loaded, 200, min(SECONDS, 60.0))
        for s in (s100, s200):
            print(f"{s['rate_hz']} Hz for {s['seconds']:g} s through the pty: {s['fps_end_to_end']} frames/s at the reader, "
                  f"{s['frames_received']} of {s['frames_sent']} sent, dropped on device {s['frames_dropped_on_device']}, "
                  f"missed deadlines {s['missed_deadlines']} of {s['scans'] + s['missed_deadlines']}, jitter mean "
                  f"{s['jitter_mean_us']} us max {s['jitter_max_us']} us; heap in use {s['mem_alloc_samples'][0]} -> "
                  f"{s['mem_alloc_samples'][-1]} bytes of {s['heap_total_bytes']} (growth {s['mem_growth_bytes']})", flush=True)
        print(f"({time.monotonic() - t0:.0f} s of streaming)")
    return {"per_frame": loop, "stream_100hz": s100, "stream_200hz": s200}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
