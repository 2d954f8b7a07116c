"""The scan driver with fake ADC, pins and clock: counts, oversampling, jitter, missed deadlines."""

from firmware.scanner import Scanner
from firmware.tests.fakes import TICKS_PERIOD, FakeClock, FakeMuxAdc, FakePin

LOADS = [i * 200 + 7 for i in range(16)]


def make(loads=LOADS, noise=(0,), oversample=4, rate_hz=100, start=0, convert_us=2, settle_us=0):
    clock = FakeClock(start)
    pins = [FakePin() for _ in range(4)]
    adc = FakeMuxAdc(pins, clock, loads, noise=noise, convert_us=convert_us)
    scanner = Scanner(adc, pins, clock, oversample=oversample, rate_hz=rate_hz, settle_us=settle_us)
    return scanner, clock, adc


def test_scan_reads_each_channel_through_the_mux():
    scanner, _, adc = make()
    assert list(scanner.scan()) == LOADS
    assert adc.reads == 16 * 4
    assert list(scanner.scan()) == LOADS  # the second scan starts from channel 15's pin levels


def test_only_changing_select_lines_are_written():
    scanner, _, _ = make()
    pins = scanner.mux_pins
    before = sum(p.writes for p in pins)
    scanner.scan()
    scanner.scan()
    assert sum(p.writes for p in pins) - before == 26 + 30  # 0..15 in binary: 26 changes; then 15 -> 0 (4) first


def test_oversampling_averages_and_rounds():
    scanner, _, _ = make(noise=(0, 1, 1, 1))  # mean +0.75: rounds up
    assert list(scanner.scan()) == [x + 1 for x in LOADS]
    scanner, _, _ = make(noise=(0, 0, 0, 1))  # mean +0.25: rounds down
    assert list(scanner.scan()) == LOADS
    scanner, _, _ = make(noise=(-3, 3), oversample=2)
    assert list(scanner.scan()) == LOADS


def test_scan_time_is_measured():
    scanner, _, _ = make(convert_us=2, settle_us=5)
    scanner.scan()
    assert scanner.scan_us == 16 * (4 * 2 + 5)


def test_deadlines_on_time_have_no_jitter_and_no_misses():
    scanner, clock, _ = make(rate_hz=200)
    starts = []
    for _ in range(50):
        starts.append(scanner.wait())
        scanner.scan()
    assert [starts[i + 1] - starts[i] for i in range(49)] == [5000] * 49  # (the port's zip has no strict=)
    assert (scanner.missed, scanner.jitter_max_us) == (0, 0)


def test_late_start_is_jitter_and_overrun_is_missed_deadlines():
    scanner, clock, _ = make(rate_hz=100)
    scanner.wait()
    clock.advance(10000 + 300)  # the work after the scan ran past the next deadline by 300 us
    t = scanner.wait()
    assert (scanner.jitter_us, scanner.missed) == (300, 0)
    assert t == 2 * 10000 + 300
    clock.advance(3 * 10000 + 50)  # now at 50350: the deadlines at 30000 and 40000 went by
    scanner.wait()
    assert scanner.missed == 2  # skipped and counted, not caught up with a burst of late scans
    assert scanner.jitter_us == 350 and scanner.jitter_max_us == 350  # taken at the 50000 deadline


def test_clock_extends_past_the_tick_wrap():
    scanner, clock, _ = make(start=TICKS_PERIOD - 20000)
    before = scanner.now_us()
    for _ in range(10):  # 100 ms across the 2**30 us wrap of the rp2 tick counter
        scanner.wait()
    assert scanner.now_us() - before == 100000
    assert scanner.missed == 0


def test_set_rate_changes_the_period():
    scanner, _, _ = make(rate_hz=100)
    scanner.set_rate(200)
    a = scanner.wait()
    b = scanner.wait()
    assert b - a == 5000
