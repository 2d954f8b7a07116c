"""Sensor model: monotone nonlinear response, gain spread, dead/hot sensels, nominal error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from device.sim import SensorModel, SimulationError, VirtualPatient


def test_counts_rise_monotonically_with_pressure_on_every_sensel():
    m = SensorModel((6, 7), seed=3, noise_counts=0.0, dead=0, hot=0)
    levels = np.linspace(0, 2000, 300)
    counts = np.stack([m.counts(np.full(m.shape, p), key=i) for i, p in enumerate(levels)])
    assert np.all(np.diff(counts.astype(int), axis=0) >= 0)
    assert counts[0].max() < 40  # only the zero offset when unloaded
    assert counts[-1].min() == m.max_counts  # saturates at 12 bits
    # nonlinear: doubling the pressure does not double the counts above the offset
    c100, c200 = (m.expected_counts(np.full(m.shape, p)) - m.offset for p in (100.0, 200.0))
    np.testing.assert_allclose(c200 / c100, 2**m.exponent)


def test_per_sensel_gain_spread_and_offsets_are_exposed_truth():
    m = SensorModel((48, 48), seed=1)
    assert 0.05 < m.gain.std() < 0.15 and m.gain.min() > 0.7 and m.gain.max() < 1.3
    assert m.offset.min() >= 0 and m.offset.mean() > 5
    # the true inverse recovers the pressure from noise-free counts (up to rounding)
    p = np.full(m.shape, 150.0)
    back = m.true_kpa(m.expected_counts(p))
    ok = ~(m.dead | m.hot)
    np.testing.assert_allclose(back[ok], 150.0, rtol=1e-9)
    assert np.isnan(back[~ok]).all()


def test_dead_sensels_read_zero_and_hot_ones_saturate():
    m = SensorModel((48, 48), seed=2, dead=4, hot=3)
    assert m.dead.sum() == 4 and m.hot.sum() == 3 and not (m.dead & m.hot).any()
    c = m.counts(np.full(m.shape, 200.0), key=5)
    assert (c[m.dead] == 0).all() and (c[m.hot] == 4095).all()
    c0 = m.counts(np.zeros(m.shape), key=6)
    assert (c0[m.hot] == 4095).all()


def test_noise_is_seeded_per_frame_key():
    m = SensorModel((16,), seed=4)
    p = np.full(16, 80.0)
    np.testing.assert_array_equal(m.counts(p, key=10), m.counts(p, key=10))
    assert not np.array_equal(m.counts(p, key=10), m.counts(p, key=11))
    assert m.counts(p).dtype == np.uint16


def test_sixteen_bit_adc_and_bad_settings():
    m = SensorModel((4,), bits=16, dead=0, hot=0)
    assert m.counts(np.full(4, 2000.0)).max() == 65535
    with pytest.raises(ValueError, match="bits"):
        SensorModel((4,), bits=10)
    with pytest.raises(ValueError, match="packet_drop_rate"):
        SensorModel((4,), packet_drop_rate=1.5)
    with pytest.raises(ValueError, match="shape"):
        m.counts(np.zeros(5))


def test_uncalibrated_nominal_force_is_off_by_at_least_20_percent():
    p = VirtualPatient("quiet", seed=1)
    area = p.mat.sensel_area_mm2
    for t in (1.0, 5.0, 9.0):
        s = p.sample(t)
        counts = p.mat_counts(s)
        nominal = p.mat_sensor.nominal_kpa(counts).astype(np.float64)
        nominal_force = nominal.sum() * area * 1e-3
        assert abs(nominal_force - s.force_n) / s.force_n >= 0.20
        # even with the zero offset subtracted (a tare), the curve alone is off by >= 20 %
        tared = np.clip(counts.astype(float) - p.mat_sensor.offset, 0, None)
        tared[p.mat_sensor.hot | p.mat_sensor.dead] = 0
        loaded = s.mat_kpa > 0
        f = (tared[loaded] * p.mat_sensor.kpa_per_count).sum() * area * 1e-3
        assert abs(f - s.force_n) / s.force_n >= 0.20
    for side in ("left", "right"):
        sensor = p.insole_sensor_for(side)
        k = sensor.nominal_kpa(p.insole_counts(s, side))
        assert np.abs(k - s.insole_kpa[side]).max() > 0.2 * s.insole_kpa[side].max()


def test_patient_sensor_models_are_seeded_and_overridable():
    a = VirtualPatient("quiet", seed=1)
    b = VirtualPatient("quiet", seed=1, mat_sensor={"exponent": 0.8, "dead": 0})
    assert a.mat_sensor.dead.sum() == 3 and b.mat_sensor.dead.sum() == 0 and b.mat_sensor.exponent == 0.8
    np.testing.assert_array_equal(a.mat_sensor.gain, VirtualPatient("quiet", seed=1).mat_sensor.gain)
    assert not np.array_equal(a.insole_sensor_for("left").gain, a.insole_sensor_for("right").gain)


def test_calibration_rigs_apply_known_uniform_pressures():
    p = VirtualPatient("bladder", seed=2, levels_kpa="0,50,200", step_s=4.0)
    area = p.mat.sensel_area_mm2 * p.mat.rows * p.mat.cols
    for t, level in ((2.0, 0.0), (6.0, 50.0), (10.0, 200.0), (14.0, 0.0)):
        s = p.sample(t)
        assert np.all(s.mat_kpa == level) and np.all(s.insole_kpa["right"] == level)
        assert s.force_n == pytest.approx(level * area * 1e-3)
        assert s.grf_n == 0.0 and p.events_until(t) == []
    # what a calibration procedure sees: each sensel's counts follow its own true curve
    s = p.sample(10.0)
    counts = p.mat_counts(s)
    ok = ~(p.mat_sensor.dead | p.mat_sensor.hot)
    recovered = p.mat_sensor.true_kpa(counts)[ok]
    assert np.abs(recovered - 200.0).max() < 5.0  # read noise only
    empty = VirtualPatient("empty", seed=2)
    s = empty.sample(1.0)
    assert s.force_n == 0 and s.cop_mm is None
    c = empty.mat_counts(s)
    np.testing.assert_allclose(c[ok].mean(), empty.mat_sensor.offset[ok].mean(), atol=0.5)
    with pytest.raises(SimulationError, match="levels_kpa"):
        VirtualPatient("bladder", levels_kpa="a,b")


@given(
    seed=st.integers(0, 2**31),
    kpa=hnp.arrays(np.float64, 24, elements=st.floats(0.0, 600.0)),
    exponent=st.floats(0.4, 1.5),
)
@settings(max_examples=60, deadline=None)
def test_true_inverse_round_trips_the_noise_free_response(seed, kpa, exponent):
    m = SensorModel((24,), seed=seed, exponent=exponent, noise_counts=0.0, dead=2, hot=1)
    back = m.true_kpa(m.expected_counts(kpa))
    ok = ~(m.dead | m.hot)
    np.testing.assert_allclose(back[ok], kpa[ok], rtol=1e-9, atol=1e-9)
    # and counts never decrease with pressure, sensel by sensel
    more = m.counts(kpa + 10.0, key=1).astype(int)
    assert np.all(m.counts(kpa, key=1).astype(int)[ok] <= more[ok])  # noise-free: monotone
