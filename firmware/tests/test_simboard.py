"""The unix port's simulated board: the played ADC gives back each scan exactly, then switches."""

from firmware.scanner import Scanner
from firmware.simboard import PlayedAdc, SimPin, SimWdt
from firmware.tests.fakes import FakeClock


def _bytes(rows):
    out = bytearray()
    for row in rows:
        for x in row:
            out.extend(bytes([x & 0xFF, x >> 8]))
    return bytes(out)


def test_played_scans_come_back_exact_through_mux_and_oversampling():
    quiet = [[0, 1, 4095, 7], [2, 3, 4094, 8]]
    walk = [[100, 2000, 3000, 4000]]
    on = [False]
    clock, pins = FakeClock(), [SimPin(), SimPin()]
    adc = PlayedAdc(pins, _bytes(quiet), _bytes(walk), sensors=4, oversample=4, stepped_on=lambda: on[0])
    scanner = Scanner(adc, pins, clock, sensors=4, oversample=4)
    assert [list(scanner.scan()) for _ in range(3)] == [quiet[0], quiet[1], quiet[0]]
    on[0] = True
    seen = [list(scanner.scan()) for _ in range(40)]
    assert walk[0] in seen and seen[seen.index(walk[0]):] == [walk[0]] * (40 - seen.index(walk[0]))


def test_sim_watchdog_counts_feeds():
    wdt = SimWdt(__import__("time") if hasattr(__import__("time"), "ticks_ms") else _Ms(), timeout=100)
    wdt.feed()
    assert wdt.feeds == 1 and wdt.starving_ms() >= 0


class _Ms:
    def ticks_ms(self):
        return 0

    def ticks_diff(self, a, b):
        return a - b
