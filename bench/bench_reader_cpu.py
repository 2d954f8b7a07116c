"""Reader CPU: one 100 Hz 48 x 48 mat and two 100 Hz insoles through pseudo-terminals.

The virtual devices run in ANOTHER process (``gaitkiosk simulate --pty``), so
this process holds only what a kiosk holds: three DeviceReader threads (pyserial
on the pty, Deframer, clock alignment, RawFrame queue) and a consumer draining
the queues. Its CPU time (``resource.getrusage``, user + system, all threads)
over a wall-clock window is the number; the target is under 5 % of one core.

Baseline, measured in the same run on the same ports: a bare pyserial loop that
reads and discards the bytes (the floor any reader pays for the tty layer and
wake-ups). The difference is what decoding, alignment and queueing cost.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sim_link  # bench/sim_link.py: the devices in another process, CPU per thread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARMUP_S = 2.0
MEASURE_S = 8.0
ROUNDS = 3  # the machine is shared: alternate baseline and reader, report medians
TARGET_PCT = 5.0
# For comparison, once: read_interval_s = 0 (every device read packet by packet; the
# default 0.02 s batches the insoles, whose packets are small, and not the mat).


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _start_devices() -> tuple[subprocess.Popen, dict[str, str]]:
    return sim_link.start_pty_devices(["--seconds", "600", "--scenario", "walk"], 3)


def _measure_readers(paths: dict[str, str], read_interval_s: float | None = None) -> dict:
    import device  # noqa: F401
    from device.reader import DeviceReader

    options = {} if read_interval_s is None else {"read_interval_s": read_interval_s}  # None: the default
    readers = [DeviceReader(paths[n], name=n, **options).open() for n in ("mat", "insole_left", "insole_right")]
    frames = dict.fromkeys(paths, 0)
    stop = threading.Event()

    def consume():  # what the kiosk's analysis thread does with the queues, minus the analysis
        while not stop.is_set():
            for r in readers:
                frames[r.name] += len(r.frames.drain())
            time.sleep(1 / 60)  # a UI loop at 60 frames per second

    try:
        for r in readers:
            r.wait_ready(10)
        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        time.sleep(WARMUP_S)
        before = {r.name: r.status().counters["frames"] for r in readers}
        bytes_before = sum(r.status().counters["bytes"] for r in readers)
        c0, w0 = _cpu(), time.monotonic()
        time.sleep(MEASURE_S)
        c1, w1 = _cpu(), time.monotonic()
        after = {r.name: r.status().counters for r in readers}
        stop.set()
        consumer.join()
    finally:
        for r in readers:
            r.close()
    wall = w1 - w0
    return {
        "cpu_pct": 100.0 * (c1 - c0) / wall,
        "wall_s": wall,
        "rates_hz": {n: (after[n]["frames"] - before[n]) / wall for n in before},
        "bytes_per_s": (sum(c["bytes"] for c in after.values()) - bytes_before) / wall,
        "faults": {n: c["resyncs"] + c["lost_packets"] + c["dropped_by_queue"] for n, c in after.items()},
    }


def _measure_raw(paths: dict[str, str]) -> dict:
    """Baseline: read and discard with pyserial, the way the reader reads (in_waiting or 1)."""
    import serial

    from device import framing
    from device.framing import Command, CommandOp, Packet, PacketType

    stop = threading.Event()
    total = [0]
    ports = [serial.Serial(p, 921600, timeout=0.05) for p in paths.values()]
    start_cmd = framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 1, 0, Command(CommandOp.START)))

    def pump(port):
        port.write(start_cmd)
        while not stop.is_set():
            total[0] += len(port.read(port.in_waiting or 1))

    threads = [threading.Thread(target=pump, args=(p,), daemon=True) for p in ports]
    for t in threads:
        t.start()
    time.sleep(WARMUP_S)
    b0, c0, w0 = total[0], _cpu(), time.monotonic()
    time.sleep(MEASURE_S)
    b1, c1, w1 = total[0], _cpu(), time.monotonic()
    stop.set()
    for t in threads:
        t.join()
    stop_cmd = framing.encode_packet(Packet(PacketType.COMMAND, 0xFFFF, 2, 0, Command(CommandOp.STOP)))
    for p in ports:
        p.write(stop_cmd)
        p.close()
    return {"cpu_pct": 100.0 * (c1 - c0) / (w1 - w0), "bytes_per_s": (b1 - b0) / (w1 - w0)}


def main() -> dict:
    import statistics

    from device import codec

    proc, paths = _start_devices()
    raws, runs = [], []
    try:
        for _ in range(ROUNDS):
            raws.append(_measure_raw(paths))
            runs.append(_measure_readers(paths))
        every = _measure_readers(paths, read_interval_s=0.0)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    raw = {"cpu_pct": statistics.median(r["cpu_pct"] for r in raws)}
    readers = sorted(runs, key=lambda r: r["cpu_pct"])[len(runs) // 2]
    load = os.getloadavg()[0]
    numbers = {
        "reader_cpu_pct": round(readers["cpu_pct"], 2),
        "reader_cpu_pct_rounds": [round(r["cpu_pct"], 2) for r in runs],
        "reader_cpu_pct_every_packet": round(every["cpu_pct"], 2),
        "faults_every_packet": every["faults"],
        "raw_read_cpu_pct_rounds": [round(r["cpu_pct"], 2) for r in raws],
        "load_average_1min": round(load, 2),
        "raw_read_cpu_pct": round(raw["cpu_pct"], 2),
        "target_pct": TARGET_PCT,
        "target_over_measured": round(TARGET_PCT / readers["cpu_pct"], 1) if readers["cpu_pct"] > 0 else None,
        "reader_over_raw": round(readers["cpu_pct"] / raw["cpu_pct"], 2) if raw["cpu_pct"] > 0 else None,
        "rates_hz": {k: round(v, 1) for k, v in readers["rates_hz"].items()},
        "bytes_per_s": round(readers["bytes_per_s"]),
        "faults": readers["faults"],
        "codec": codec.IMPLEMENTATION,
        "measure_s": MEASURE_S,
    }
    print(f"reader CPU, 48x48 mat + 2 insoles at 100 Hz through ptys ({codec.IMPLEMENTATION} codec), "
          f"median of {ROUNDS} x {MEASURE_S:g} s; machine load average {load:.1f}")
    print(f"{'what':<40} {'CPU % of one core':>18}")
    print(f"{'baseline: bare pyserial read + discard':<40} {raw['cpu_pct']:>18.2f}   rounds {numbers['raw_read_cpu_pct_rounds']}")
    print(f"{'DeviceReader x3 + queue consumer':<40} {readers['cpu_pct']:>18.2f}   rounds {numbers['reader_cpu_pct_rounds']}")
    print(f"{'same, read_interval_s=0 (one round)':<40} {every['cpu_pct']:>18.2f}   faults {every['faults']}")
    print(f"{'target':<40} {TARGET_PCT:>18.2f}")
    print(f"rates Hz: {numbers['rates_hz']}   {numbers['bytes_per_s'] / 1e3:.0f} kB/s   faults: {numbers['faults']}")
    print(f"target / measured = {numbers['target_over_measured']}x;  reader / bare read = {numbers['reader_over_raw']}x")
    return numbers


if __name__ == "__main__":
    main()
