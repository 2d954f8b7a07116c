"""The firmware on the MicroPython unix port: the simulated board, the link on stdin/stdout.

    micropython firmware/unix_main.py SIM.json

SIM.json names the board's ``config`` (as config.json on flash), the ``unloaded`` and
``loaded`` count files (firmware/simboard.py) and a ``go`` path: the loaded scans play once
that file exists. stdin and stdout are the link, as USB CDC is on the board: start it with
both on one end of a pseudo-terminal and the kiosk's reader on the other (tests/test_firmware_e2e.py).
Optional ``seconds``: stop after that long and print the loop's numbers as JSON on stderr
(bench/bench_firmware.py).
"""

import json
import select
import sys
import time


def _root():
    parts = __file__.replace("\\", "/").split("/")
    return "/".join(parts[:-2]) or "."


if _root() not in sys.path:
    sys.path.insert(0, _root())

from firmware import config, simboard  # noqa: E402
from firmware.insole import Insole  # noqa: E402
from firmware.link import StreamLink  # noqa: E402
from firmware.scanner import Scanner  # noqa: E402


def _exists(path):
    import os

    try:
        os.stat(path)
    except OSError:
        return False
    return True


def build(sim):
    cfg = config.check(sim["config"])
    pins = [simboard.SimPin() for _ in cfg["pins"]["mux"]]
    adc = simboard.PlayedAdc(pins, simboard.read_counts(sim["unloaded"]), simboard.read_counts(sim["loaded"]),
                             sensors=cfg["sensors"], oversample=cfg["oversample"], bits=cfg["bits"],
                             stepped_on=lambda: _exists(sim["go"]))
    scanner = Scanner(adc, pins, time, sensors=cfg["sensors"], bits=cfg["bits"], oversample=cfg["oversample"],
                      settle_us=cfg["settle_us"], rate_hz=cfg["rate_hz"])
    link = StreamLink(sys.stdin.buffer, sys.stdout.buffer, select)
    led = simboard.SimPin() if cfg["pins"].get("led") is not None else None
    return Insole(cfg, scanner, link, simboard.SimWdt(time), led=led)


def main(argv):
    with open(argv[1]) as f:
        sim = json.load(f)
    insole = build(sim)
    seconds = sim.get("seconds")
    if not seconds:
        insole.run()
        return 0
    import gc

    every_ms = int(sim.get("mem_every_s", 60) * 1000)  # heap in use, sampled after a collection
    end = time.ticks_add(time.ticks_ms(), int(seconds * 1000))
    insole.start()
    gc.collect()
    mem_start = gc.mem_alloc()
    mem = [mem_start] * (int(seconds * 1000) // every_ms + 2)  # allocated now: sampling must not grow the heap
    taken = 1
    sample = time.ticks_add(time.ticks_ms(), every_ms)
    while time.ticks_diff(end, time.ticks_ms()) > 0 and not insole.break_in:
        insole.step()
        if time.ticks_diff(time.ticks_ms(), sample) >= 0 and taken < len(mem):
            gc.collect()
            mem[taken] = gc.mem_alloc()
            taken += 1
            sample = time.ticks_add(sample, every_ms)
    mem = mem[:taken]
    gc.collect()
    s = insole.scanner
    sys.stderr.write(json.dumps({
        "scans": s.scans, "frames_sent": insole.frames_sent, "frames_dropped": insole.frames_dropped,
        "missed": s.missed, "jitter_mean_us": s.jitter_mean_us(), "jitter_max_us": s.jitter_max_us,
        "mem_start": mem_start, "mem_end": gc.mem_alloc(), "mem_samples": mem, "seq": insole.seq,
        "heap_total": gc.mem_alloc() + gc.mem_free()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
