"""Physical consistency of the standing scenarios: forces, COPs, sway, closed loop, falls."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from device.sim import Body, SimulationError, VirtualPatient
from device.sim.footprint import distance_to_edge, inside_polygon

AREA = 8.47 * 8.47  # default sensel area, mm^2
WEIGHT = 70.0 * 9.81


def mat_force(s) -> float:
    return float(s.mat_kpa.astype(np.float64).sum() * AREA * 1e-3)


def mat_cop(s) -> np.ndarray:
    m = s.mat_kpa.astype(np.float64)
    rows, cols = m.shape
    x = (np.arange(cols) + 0.5) * 8.47
    y = (np.arange(rows) + 0.5) * 8.47
    return np.array([(m.sum(axis=0) * x).sum(), (m.sum(axis=1) * y).sum()]) / m.sum()


def cop_track(p, seconds, rate=100.0):
    return np.array([p.sample(t, mat=False, insoles=False).cop_mm for t in np.arange(0, seconds, 1 / rate)])


def sway_metrics(c, fs=100.0):
    c = c - c.mean(axis=0)
    n = len(c)
    path = np.hypot(*np.diff(c, axis=0).T).sum()
    lam = np.sort(np.linalg.eigvalsh(np.cov(c.T)))[::-1]
    k = stats.f.ppf(0.95, 2, n - 2) * (n - 1) * 2 * (n + 1) / (n * (n - 2))
    return {"velocity": path / (n / fs), "area": np.pi * k * np.sqrt(lam[0] * lam[1]), "sd_ml": c[:, 0].std(), "sd_ap": c[:, 1].std()}


@pytest.mark.parametrize("scenario", ["quiet", "quiet_eyes_closed", "weight_shift", "rhythmic_shift", "rocking", "single_leg"])
def test_standing_force_is_body_weight_and_the_cop_stays_in_the_base_of_support(scenario):
    p = VirtualPatient(scenario, seed=11)
    bos = p.base_of_support()
    for t in np.arange(0.0, 12.0, 0.25):
        s = p.sample(t)
        assert s.force_n == pytest.approx(WEIGHT, rel=1e-9)
        assert s.grf_n == pytest.approx(WEIGHT, rel=1e-9)
        # the rendered frame carries exactly that force...
        assert mat_force(s) == pytest.approx(WEIGHT, rel=1e-4)
        # ...and its pressure-weighted centroid is the truth COP (discretisation only)
        assert np.hypot(*(mat_cop(s) - s.cop_mm)) < 1.5
        assert inside_polygon(np.array(s.cop_mm), bos) or distance_to_edge(np.array(s.cop_mm), bos) > -0.5
        # the whole-body COP is the force-weighted mean of the feet's COPs
        feet = [s.feet[k] for k in ("left", "right") if s.feet[k].force_n > 0]
        mean = sum(np.array(f.cop_mm) * f.force_n for f in feet) / sum(f.force_n for f in feet)
        np.testing.assert_allclose(mean, s.cop_mm, atol=1e-9)
        for f in feet:
            assert sum(f.regions_n) == pytest.approx(f.force_n, rel=1e-9)


def test_quiet_standing_sway_looks_like_healthy_adults():
    # Santos & Duarte 2016 (young adults, rigid surface, eyes open): mean velocity ~8-12 mm/s,
    # 95 % ellipse ~100-300 mm^2; the seeds below stand in for a small group of people.
    for seed in (1, 2, 3):
        m = sway_metrics(cop_track(VirtualPatient("quiet", seed=seed), 60))
        assert 7.0 < m["velocity"] < 15.0, m
        assert 80.0 < m["area"] < 350.0, m
        assert m["sd_ml"] < m["sd_ap"] * 1.2, m


def test_eyes_closed_sway_is_larger_than_eyes_open():
    for seed in (4, 5, 6):
        eo = sway_metrics(cop_track(VirtualPatient("quiet", seed=seed), 40))
        ec = sway_metrics(cop_track(VirtualPatient("quiet", seed=seed, eyes="closed"), 40))
        assert ec["sd_ml"] > eo["sd_ml"] * 1.2
        assert ec["velocity"] > eo["velocity"] * 1.2
        assert ec["area"] > eo["area"] * 1.5


def test_asymmetric_weight_bearing():
    p = VirtualPatient("quiet", seed=2, body=Body(weight_left_pct=60))
    shares = [p.sample(t, mat=False, insoles=False).feet["left"].force_n / WEIGHT for t in np.arange(0, 20, 0.1)]
    assert np.mean(shares) == pytest.approx(0.60, abs=0.02)


def test_set_target_is_reached_after_a_reaction_time_with_a_bell_shaped_velocity():
    p = VirtualPatient("weight_shift", seed=3, sway_scale=0.0)  # no sway: look at the movement itself
    rest = np.array(p.sample(5.0).cop_mm)
    target = rest + np.array((-50.0, 20.0))
    got = p.set_target(*target)
    np.testing.assert_allclose(got, target)
    t = np.arange(5.0, 7.5, 0.01)
    c = np.array([p.sample(x, mat=False, insoles=False).cop_mm for x in t])
    moved = np.hypot(*(c - rest).T)
    onset = t[np.argmax(moved > 0.01)]
    assert 0.2 <= onset - 5.0 <= 0.3  # human reaction time
    assert np.hypot(*(c[-1] - target)) < 1.0
    speed = np.hypot(*np.diff(c, axis=0).T) / 0.01
    moving = speed > 0.05 * speed.max()
    span = t[1:][moving]
    peak_at = t[1:][np.argmax(speed)]
    # bell-shaped: one peak in the middle of the movement, slow at both ends
    assert abs(peak_at - (span[0] + span[-1]) / 2) < 0.05
    assert speed[moving][0] < 0.2 * speed.max() and speed[moving][-1] < 0.2 * speed.max()


def test_targets_beyond_the_base_of_support_stop_at_its_edge():
    p = VirtualPatient("weight_shift", seed=3)
    p.sample(1.0)
    got = np.array(p.set_target(-500.0, 200.0))
    assert abs(distance_to_edge(got, p.base_of_support())) < 1e-6
    c = np.array(p.sample(4.0).cop_mm)
    assert distance_to_edge(c, p.base_of_support()) > -1.0


def test_set_weight_share_moves_the_load():
    p = VirtualPatient("weight_shift", seed=8)
    p.sample(2.0)
    p.set_weight_share(75)
    shares = [p.sample(t, mat=False, insoles=False).feet["left"].force_n / WEIGHT for t in np.arange(4.0, 8.0, 0.1)]
    assert np.mean(shares) == pytest.approx(0.75, abs=0.03)


def test_commands_never_change_the_past():
    p = VirtualPatient("weight_shift", seed=8)
    before = p.sample(3.0).cop_mm
    p.set_target(100.0, 250.0)
    assert p.sample(3.0).cop_mm == before
    assert p.sample(3.2).cop_mm == VirtualPatient("weight_shift", seed=8).sample(3.2).cop_mm


def test_auto_targets_visit_left_and_right():
    p = VirtualPatient("weight_shift", seed=1, auto_targets=True, hold_s=3.0)
    rest = p.rest_cop()
    left = p.sample(4.5).cop_mm  # first cue at 2 s: left
    right = p.sample(10.5).cop_mm  # third cue at 8 s: right
    assert left[0] < rest[0] - 30 and right[0] > rest[0] + 30


def test_rhythmic_shift_and_rocking_move_along_their_axis():
    ml = cop_track(VirtualPatient("rhythmic_shift", seed=1, period_s=4.0), 8)
    ap = cop_track(VirtualPatient("rhythmic_shift", seed=1, axis="ap", period_s=4.0), 8)
    rock = cop_track(VirtualPatient("rocking", seed=1), 6)
    assert np.ptp(ml[:, 0]) > 100 and np.ptp(ml[:, 1]) < 30
    assert np.ptp(ap[:, 1]) > 60 and np.ptp(ap[:, 0]) < 30
    assert np.ptp(rock[:, 1]) > np.ptp(ap[:, 1])


def test_single_leg_stance_lifts_the_free_foot():
    p = VirtualPatient("single_leg", seed=1, side="right", lift_at=2.0, hold_s=5.0)
    s = p.sample(4.0)
    assert s.feet["left"].force_n == 0 and not s.feet["left"].in_contact and s.feet["left"].on_mat
    assert s.feet["right"].force_n == pytest.approx(WEIGHT)
    assert s.cop_mm[0] > p.rest_cop()[0] + 50
    assert p.events_until(8.0) == [(2.0, "left", "off"), (7.0, "left", "contact")]
    assert p.sample(8.0).feet["left"].force_n > 0


def test_sit_to_stand_weight_bearing():
    p = VirtualPatient("sit_to_stand", seed=1)
    f = np.array([p.sample(t, mat=False, insoles=False).grf_n for t in np.arange(0, 10, 0.02)]) / WEIGHT
    assert f[:50].max() < 0.25  # seated: the chair carries most of the weight
    assert f.max() > 1.08  # seat-off peak
    assert f[250:330].mean() == pytest.approx(1.0, abs=0.01)  # standing


def test_loss_of_balance_to_the_edge():
    p = VirtualPatient("loss_of_balance", seed=1, fall_at=5.0, fall_dir="forward")
    bos = p.base_of_support()
    before = np.array(p.sample(4.9).cop_mm)
    at_edge = np.array(p.sample(5.6).cop_mm)
    assert distance_to_edge(before, bos) > 30
    assert abs(distance_to_edge(at_edge, bos)) < 3.0
    assert at_edge[1] > before[1] + 50
    later = np.array(p.sample(10.0).cop_mm)  # recovered
    assert distance_to_edge(later, bos) > 30


def test_loss_of_balance_by_unloading_a_foot():
    p = VirtualPatient("quiet", seed=1, fall_at=3.0, fall="unload", fall_side="right", fall_recover=False)
    s = p.sample(3.5)
    assert s.feet["right"].force_n == 0 and not s.feet["right"].in_contact
    assert s.feet["left"].force_n == pytest.approx(WEIGHT)
    assert p.events_until(10) == [(3.15, "right", "off")]


def test_loss_of_balance_by_stepping_off_the_mat():
    p = VirtualPatient("quiet", seed=1, fall_at=3.0, fall="step_off")
    assert p.sample(2.9).force_n == pytest.approx(WEIGHT)
    s = p.sample(5.0)
    assert s.force_n == 0.0 and s.cop_mm is None and s.mat_kpa.max() == 0.0
    assert s.grf_n == pytest.approx(WEIGHT)  # the insoles still carry the person
    assert not s.feet["left"].on_mat and not s.feet["right"].on_mat
    kinds = [(e.side, e.kind) for e in p.events_until(10)]
    assert kinds == [("left", "off"), ("left", "contact"), ("right", "off"), ("right", "contact")]


def test_a_drill_command_overrides_the_scripted_cues():
    p = VirtualPatient("weight_shift", seed=1, auto_targets=True, hold_s=3.0)
    p.sample(3.0)
    target = np.array(p.rest_cop()) + np.array((0.0, 40.0))
    p.set_target(*target)
    for t in (5.0, 9.0, 14.0):  # the scripted left/right cues no longer happen
        c = np.array(p.sample(t, mat=False, insoles=False).cop_mm)
        assert np.hypot(*(c - target)) < 20
    with pytest.raises(SimulationError, match="time order"):
        p.set_target(0.0, 0.0, at=1.0)


def _mean_power_frequency(c, fs=100.0):
    from scipy import signal

    n = len(c)
    parts = []
    for ax in range(2):
        f, pw = signal.welch(c[:, ax] - c[:, ax].mean(), fs=fs, window="hann", nperseg=n // 2, noverlap=n // 4, nfft=n // 2)
        parts.append((np.trapezoid(f * pw, f) / np.trapezoid(pw, f), pw.sum()))
    return (parts[0][0] * parts[0][1] + parts[1][0] * parts[1][1]) / (parts[0][1] + parts[1][1])


def test_quiet_standing_sits_inside_the_bds_young_adult_population(shared_data):
    # The BDS reference values of all 261 young-adult, eyes-open, firm-surface trials
    # (Santos & Duarte 2016): the simulated person must fall between their quartiles.
    import csv

    info = shared_data / "bds-santos-duarte-2016" / "BDSinfoCOP.txt"
    if not info.exists():
        pytest.skip(f"{info} not found")
    with info.open() as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if (r["AgeGroup"], r["Vision"], r["Surface"]) == ("Young", "Open", "Firm")]
    area = np.array([float(r["COParea"]) for r in rows]) * 100.0  # cm^2 -> mm^2
    velo = np.array([float(r["COPvelo"]) for r in rows]) * 10.0  # cm/s -> mm/s
    mpf = np.array([float(r["COPmfreq"]) for r in rows])
    c = cop_track(VirtualPatient("quiet", seed=1), 60)
    m = sway_metrics(c)
    assert np.percentile(area, 25) < m["area"] < np.percentile(area, 75)
    assert np.percentile(velo, 25) < m["velocity"] < np.percentile(velo, 75)
    assert np.percentile(mpf, 25) < _mean_power_frequency(c) < np.percentile(mpf, 75)


def test_unloading_starts_from_the_current_weight_bearing_without_a_jump():
    p = VirtualPatient("quiet", seed=1, body=Body(weight_left_pct=65), fall_at=3.0, fall="unload", fall_side="left")
    before = p.sample(2.999, mat=False, insoles=False).feet["left"].force_n
    after = p.sample(3.001, mat=False, insoles=False).feet["left"].force_n
    assert before == pytest.approx(0.65 * WEIGHT, rel=0.05)
    assert abs(after - before) < 0.01 * WEIGHT
    assert p.sample(3.2, mat=False, insoles=False).feet["left"].force_n == 0.0


def test_closing_the_eyes_during_a_trial():
    p = VirtualPatient("quiet", seed=5)
    ref = VirtualPatient("quiet", seed=5)
    p.sample(20.0)
    p.set_eyes("closed")  # from t = 20 s
    for t in (5.0, 19.9):
        assert p.sample(t).cop_mm == ref.sample(t).cop_mm  # the past is untouched
    eo = sway_metrics(np.array([ref.sample(t, mat=False, insoles=False).cop_mm for t in np.arange(21, 51, 0.01)]))
    ec = sway_metrics(np.array([p.sample(t, mat=False, insoles=False).cop_mm for t in np.arange(21, 51, 0.01)]))
    assert ec["area"] > 1.5 * eo["area"]
    with pytest.raises(SimulationError, match="open' or 'closed"):
        p.set_eyes("shut")
