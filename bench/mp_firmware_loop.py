"""Run BY MICROPYTHON (bench/bench_firmware.py starts it): the firmware's work per frame.

    micropython bench/mp_firmware_loop.py SIM.json FRAMES

One pass of the streaming loop without its sleep: scan 16 sensels x 4 reads through the
simulated mux ADC, remember the scan for ZERO, apply the zero gate, pack FRAME12, seal
(CRC-32, COBS, delimiters) and write to a sink. Prints JSON: microseconds per frame, and the
same for the scan alone and for the packet alone, each the best of several rounds.
"""

import json
import sys
import time


def _root():
    parts = __file__.replace("\\", "/").split("/")
    return "/".join(parts[:-2]) or "."


sys.path.insert(0, _root())

from firmware import config, simboard, wire  # noqa: E402
from firmware.insole import Insole  # noqa: E402
from firmware.scanner import Scanner  # noqa: E402


class Sink:
    def __init__(self):
        self.bytes = 0

    def read(self, n=64):
        return b""

    def write(self, data):
        self.bytes += len(data)

    def room(self):
        return True


def build(sim):
    cfg = config.check(sim["config"])
    pins = [simboard.SimPin() for _ in cfg["pins"]["mux"]]
    adc = simboard.PlayedAdc(pins, simboard.read_counts(sim["unloaded"]), simboard.read_counts(sim["loaded"]),
                             sensors=cfg["sensors"], oversample=cfg["oversample"], bits=cfg["bits"])
    adc.on = True  # the walking loads
    scanner = Scanner(adc, pins, time, sensors=cfg["sensors"], bits=cfg["bits"], oversample=cfg["oversample"],
                      settle_us=0, rate_hz=cfg["rate_hz"])
    return Insole(cfg, scanner, Sink(), simboard.SimWdt(time)), scanner


def rounds(fn, frames, n=5):
    best = None
    for _ in range(n):
        t0 = time.ticks_us()
        for _ in range(frames):
            fn()
        dt = time.ticks_diff(time.ticks_us(), t0) / frames
        best = dt if best is None or dt < best else best
    return best


def main():
    with open(sys.argv[1]) as f:
        sim = json.load(f)
    frames = int(sys.argv[2])
    dev, scanner = build(sim)
    for _ in range(32):
        dev.zero.remember(scanner.scan())
    dev.zero.measure(0)  # frames carry the gate, as after the kiosk's ZERO
    out = dev.out

    def scan_only():
        dev.zero.remember(scanner.scan())

    def packet_only():
        dev.send(wire.FRAME12, wire.frame_payload(dev.zero.apply(scanner.counts, out), 12), 0)

    def frame():
        raw = scanner.scan()
        dev.zero.remember(raw)
        dev.send(wire.FRAME12, wire.frame_payload(dev.zero.apply(raw, out), 12), 0)

    adc, reads = scanner.adc, 16 * scanner.oversample

    def adc_only():  # the simulated ADC itself: on a board machine.ADC.read_u16 is C
        for _ in range(reads):
            adc.read_u16()

    class PlainAdc:  # the cheapest Python read_u16: the nearest a PC gets to the board's C call
        def read_u16(self):
            return 0x5550

    plain = Scanner(PlainAdc(), scanner.mux_pins, time, sensors=16, bits=12, oversample=scanner.oversample)

    def frame_plain():
        raw = plain.scan()
        dev.zero.remember(raw)
        dev.send(wire.FRAME12, wire.frame_payload(dev.zero.apply(raw, out), 12), 0)

    result = {"frame_us": rounds(frame, frames), "sim_adc_us": rounds(adc_only, frames),
              "frame_plain_adc_us": rounds(frame_plain, frames), "scan_us": rounds(scan_only, frames),
              "packet_us": rounds(packet_only, frames), "frames": frames,
              "packet_bytes": dev.link.bytes // max(1, dev.seq)}
    print(json.dumps(result))


main()
