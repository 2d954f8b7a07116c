"""Clock alignment: drift, USB jitter, stalls and device resets.

The simulated link: a device whose crystal runs ``drift_ppm`` fast samples
at its own 100 Hz; each packet reaches the host after a latency that is
never negative (uniform jitter, plus occasional long stalls). The host only
sees (t_device, t_arrival); the test knows the true instant of every sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.clock import ClockAligner

PERIOD = 0.01  # 100 Hz


def link(true_t, *, drift_ppm, offset_s, jitter_s, rng, stall_every=0, stall_s=0.2):
    """Device timestamps and host arrival times for samples taken at ``true_t``."""
    t_device = offset_s + true_t * (1 + drift_ppm * 1e-6)
    latency = rng.uniform(0.0, jitter_s, size=true_t.shape)
    if stall_every:
        # Every stall_every-th second every packet is late: a busy bus or a
        # reader thread that was not scheduled.
        stalled = (np.floor(true_t) % stall_every) == stall_every - 1
        latency = latency + stalled * stall_s
    # A serial link delivers in order: arrival never goes backwards.
    arrival = np.maximum.accumulate(true_t + latency)
    return t_device, arrival


def align(t_device, arrival, aligner=None):
    aligner = aligner or ClockAligner()
    return np.array([aligner.add(d, h) for d, h in zip(t_device, arrival, strict=True)]), aligner


def test_constant_offset_without_jitter_is_exact():
    true_t = np.arange(0, 10, PERIOD) + 1000.0
    t_device, arrival = link(true_t, drift_ppm=0, offset_s=-987.654, jitter_s=0.0, rng=np.random.default_rng(0))
    mapped, aligner = align(t_device, arrival)
    np.testing.assert_allclose(mapped, true_t, atol=1e-9)
    assert abs(aligner.offset_s - 987.654) < 1e-9


@pytest.mark.parametrize("drift_ppm", [-100.0, 100.0])
def test_drift_is_estimated_and_removed(drift_ppm):
    rng = np.random.default_rng(1)
    true_t = np.arange(0, 180, PERIOD) + 50.0
    t_device, arrival = link(true_t, drift_ppm=drift_ppm, offset_s=12.0, jitter_s=0.003, rng=rng)
    mapped, aligner = align(t_device, arrival)
    assert aligner.fitted
    assert abs(aligner.drift_ppm - drift_ppm) < 5.0
    # After a few seconds of warm-up every sample sits within 1 ms of its true
    # instant (plus the minimum latency, here ~0).
    settled = true_t > true_t[0] + 5
    err = mapped[settled] - true_t[settled]
    assert np.max(np.abs(err)) < 0.001
    # Without the drift term the error would have grown to 18 ms over 3 minutes.
    assert abs(drift_ppm * 1e-6 * 180) > 0.015


def test_mat_and_insoles_line_up_within_one_sample_period():
    rng = np.random.default_rng(2)
    true_t = np.arange(0, 120, PERIOD) + 7.0
    mat_dev, mat_arr = link(true_t, drift_ppm=+100, offset_s=3.2, jitter_s=0.004, rng=rng)
    left_dev, left_arr = link(true_t, drift_ppm=-100, offset_s=-40.0, jitter_s=0.003, rng=rng)
    right_dev, right_arr = link(true_t, drift_ppm=+35, offset_s=1e5, jitter_s=0.005, rng=rng, stall_every=7)
    mat, _ = align(mat_dev, mat_arr)
    left, _ = align(left_dev, left_arr)
    right, _ = align(right_dev, right_arr)
    # From the very first frame: the first-frame estimate is off by at most its latency.
    assert np.max(np.abs(mat - left)) < PERIOD
    assert np.max(np.abs(mat - right)) < PERIOD
    settled = slice(500, None)
    assert np.max(np.abs(mat[settled] - left[settled])) < 0.002
    assert np.max(np.abs(mat[settled] - right[settled])) < 0.002


def test_stalled_buckets_do_not_tilt_the_fit():
    rng = np.random.default_rng(3)
    true_t = np.arange(0, 90, PERIOD)
    t_device, arrival = link(true_t, drift_ppm=50, offset_s=0.5, jitter_s=0.002, rng=rng, stall_every=3, stall_s=0.4)
    mapped, aligner = align(t_device, arrival)
    assert abs(aligner.drift_ppm - 50) < 5
    settled = true_t > 5
    assert np.max(np.abs(mapped[settled] - true_t[settled])) < 0.001


def test_device_reset_is_detected_and_refitted():
    rng = np.random.default_rng(4)
    true_t = np.arange(0, 40, PERIOD) + 100.0
    t_device, arrival = link(true_t, drift_ppm=80, offset_s=5.0, jitter_s=0.003, rng=rng)
    # The device reboots at 20 s: its clock restarts near zero.
    after = true_t >= 120.0
    t_device[after] = (true_t[after] - 120.0) * (1 + 80e-6) + 0.25
    mapped, aligner = align(t_device, arrival)
    assert aligner.resets == 1
    # Every frame, including the ones just after the reboot, lands within one period.
    assert np.max(np.abs(mapped - true_t)) < PERIOD
    assert np.max(np.abs(mapped[true_t > 125] - true_t[true_t > 125])) < 0.001


def test_clock_jumping_forward_is_a_reset():
    aligner = ClockAligner()
    for k in range(300):
        aligner.add(10.0 + k * PERIOD, 500.0 + k * PERIOD)
    # The device clock leaps 1 hour ahead while the host moved on by one period.
    mapped = aligner.add(3610.0 + 300 * PERIOD, 500.0 + 300 * PERIOD)
    assert aligner.resets == 1
    assert abs(mapped - (500.0 + 300 * PERIOD)) < 1e-9


def test_explicit_reset_counts_only_after_data():
    aligner = ClockAligner()
    aligner.reset()
    assert aligner.resets == 0
    aligner.add(1.0, 2.0)
    aligner.reset()
    assert aligner.resets == 1
    assert aligner.to_host(5.0) == 5.0  # nothing known: identity until the next point


def test_bad_window_is_refused():
    with pytest.raises(ValueError, match="window_s"):
        ClockAligner(window_s=1.0, bucket_s=1.0)


@settings(max_examples=25, deadline=None)
@given(
    drift_ppm=st.floats(-200, 200),
    offset_s=st.floats(-1e6, 1e6),
    jitter_ms=st.floats(0, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_alignment_error_stays_below_one_period(drift_ppm, offset_s, jitter_ms, seed):
    rng = np.random.default_rng(seed)
    true_t = np.arange(0, 30, PERIOD) + 3.0
    t_device, arrival = link(true_t, drift_ppm=drift_ppm, offset_s=offset_s, jitter_s=jitter_ms / 1e3, rng=rng)
    mapped, _ = align(t_device, arrival)
    # Error is bounded by the jitter from the first frame on, never by the offset.
    assert np.max(np.abs(mapped - true_t)) < PERIOD


# -- FrameClock: what the reader hands downstream ----------------------------------------------

from device.clock import FrameClock  # noqa: E402


def test_a_burst_is_mapped_with_its_newest_frames_estimate():
    fc = FrameClock()
    # Five frames sampled 10 ms apart reach the host together 50 ms after the first.
    t_dev = [100.0 + 0.01 * k for k in range(5)]
    mapped = fc.map(t_dev, now=5000.05)
    # The newest was delayed 10 ms: that is the offset for all of them.
    np.testing.assert_allclose(mapped, [4900.01 + t for t in t_dev], atol=1e-9)
    assert fc.slewed == 0


def test_host_times_slew_instead_of_stepping_back():
    fc = FrameClock()
    late = fc.map([10.00], now=1000.040)  # first frame 40 ms late
    prompt = [fc.map([10.00 + 0.01 * k], now=1000.0 + 0.01 * k + 0.0005)[0] for k in range(1, 12)]
    times = np.array(late + prompt)
    assert np.all(np.diff(times) >= 0.005 - 1e-12)  # never less than half the 10 ms spacing
    assert fc.slewed >= 5
    assert abs(times[-1] - (1000.11 + 0.0005)) < 1e-9  # caught up with the fit


def test_fixed_offset_for_a_clock_unrelated_to_ours():
    fc = FrameClock()
    fc.new_session(realtime=False)
    # A replay at speed 0: 100 s of recording arrive within a second.
    first = fc.map([0.0, 0.01, 0.02], now=50.0)
    later = fc.map([99.99], now=50.4)
    assert first == [50.0, 50.01, 50.02] and later == [149.99]
    assert fc.aligner.resets == 0 and not fc.aligner.fitted


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0001, 0.05), st.floats(0.0, 0.2), st.integers(1, 4)), min_size=1, max_size=200))
def test_frame_times_never_decrease(reads):
    """Whatever the latencies and burst sizes, mapped host times keep increasing."""
    fc = FrameClock()
    t_dev, out = 0.0, []
    for spacing, latency, count in reads:
        batch = [t_dev + spacing * (k + 1) for k in range(count)]
        t_dev = batch[-1]
        out += fc.map(batch, now=1000.0 + t_dev + latency)
    assert np.all(np.diff(out) > 0)
