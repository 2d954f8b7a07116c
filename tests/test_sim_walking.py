"""Walking scenarios: every step reaches the insoles, stance times, roll-over, GRF, the mat."""

from __future__ import annotations

import numpy as np
import pytest

from device.sim import VirtualPatient

WEIGHT = 70.0 * 9.81
RATE = 100.0


@pytest.fixture(scope="module")
def walk():
    p = VirtualPatient("walk", seed=1)
    t = np.arange(0, 12, 1 / RATE)
    samples = [p.sample(x, mat=False) for x in t]
    return p, t, samples


def insole_force(s, side, p) -> float:
    return float(s.insole_kpa[side].sum() * p.insoles.sensor_area_mm2 * 1e-3)


def stances(events, side):
    on = [e.t for e in events if e.side == side and e.kind == "contact"]
    off = [e.t for e in events if e.side == side and e.kind == "off"]
    off = [x for x in off if x > on[0]]
    return list(zip(on, off, strict=False))


def test_insoles_see_every_step_with_plausible_stance_times(walk):
    p, t, samples = walk
    events = p.events_until(t[-1])
    contacts = [e for e in events if e.kind == "contact"]
    # ~110 steps/min -> ~22 steps in 12 s, alternating feet
    assert 20 <= len(contacts) <= 23
    assert all(a.side != b.side for a, b in zip(contacts, contacts[1:], strict=False))
    cadence = 60.0 / np.mean(np.diff([e.t for e in contacts]))
    assert cadence == pytest.approx(110, abs=1)
    for side in ("left", "right"):
        for on, off in stances(events, side):
            assert 0.55 <= off - on <= 0.75  # ~0.6 s stance at ~110 steps/min
            mid = (on + off) / 2
            i = int(round(mid * RATE))
            assert insole_force(samples[i], side, p) > 100  # the insole sees the step
            assert samples[i].feet[side].in_contact
        # in swing the insole reads nothing
        stance_list = stances(events, side)
        for (_, off), (on_next, _) in zip(stance_list, stance_list[1:], strict=False):
            i = int(round((off + on_next) / 2 * RATE))
            assert samples[i].insole_kpa[side].max() == 0.0 and not samples[i].feet[side].in_contact


def test_foot_cop_rolls_from_heel_to_toe(walk):
    p, t, samples = walk
    on, off = stances(p.events_until(t[-1]), "right")[1]
    idx = [i for i, x in enumerate(t) if on + 0.01 < x < off - 0.01]
    y = np.array([samples[i].feet["right"].insole_cop_mm[1] for i in idx])
    L = p.body.foot_length_mm
    assert y[0] < 0.1 * L  # heel strike: at the heel
    assert y[-1] > 0.6 * L  # push-off: through the forefoot
    assert np.all(np.diff(y) >= -1e-6)  # never rolls backward
    # ... and the insole's own COP (sensor-weighted) follows it
    pos = p.insoles.positions("right")
    first = samples[idx[2]].insole_kpa["right"]
    last = samples[idx[-3]].insole_kpa["right"]
    assert (first @ pos[:, 1]) / first.sum() < 40 < 120 < (last @ pos[:, 1]) / last.sum()


def test_vertical_force_has_the_double_hump(walk):
    p, t, samples = walk
    on, off = stances(p.events_until(t[-1]), "left")[2]
    idx = [i for i, x in enumerate(t) if on < x < off]
    f = np.array([samples[i].feet["left"].force_n for i in idx]) / WEIGHT
    tau = (t[idx] - on) / (off - on)
    early, mid, late = f[tau < 0.4].max(), f[(tau > 0.4) & (tau < 0.6)].min(), f[tau > 0.6].max()
    assert early > 1.05 and late > 1.05 and mid < 0.9
    # over whole strides the feet carry the body weight on average
    grf = np.array([s.grf_n for s in samples])
    assert grf[100:1100].mean() == pytest.approx(WEIGHT, rel=0.05)


def test_reduced_push_off_on_one_side():
    p = VirtualPatient("walk", seed=1, push_off_right=0.5)
    events = p.events_until(6)
    late, fore = {}, {}
    for side in ("left", "right"):
        on, off = stances(events, side)[1]
        tau = np.linspace(0.6, 0.9, 31)
        ss = [p.sample(on + x * (off - on), mat=False, insoles=False).feet[side] for x in tau]
        late[side] = max(f.force_n for f in ss)
        fore[side] = max(f.regions_n[2] for f in ss)
    assert late["right"] < 0.9 * late["left"]  # lower second hump
    assert fore["right"] < 0.9 * fore["left"]  # less load through the forefoot


def test_walking_feet_enter_and_leave_the_mat():
    p = VirtualPatient("walk", seed=1)
    t = np.arange(0, 15, 0.02)
    ss = [p.sample(x, insoles=False) for x in t]
    on_mat = np.array([s.force_n for s in ss])
    assert (on_mat > 100).any() and (on_mat == 0).any()
    area = p.mat.sensel_area_mm2
    for s in ss:
        assert s.force_n <= s.grf_n + 1e-6
        assert float(s.mat_kpa.astype(np.float64).sum() * area * 1e-3) == pytest.approx(s.force_n, rel=1e-4, abs=1e-6)
        if s.force_n == 0:
            assert s.cop_mm is None


def test_tandem_walking_places_heel_to_toe_on_one_line():
    p = VirtualPatient("tandem", seed=1, lap_mm=10000)
    events = [e for e in p.events_until(12) if e.kind == "contact"]
    heels = [p.sample(e.t + 0.05, mat=False, insoles=False).feet[e.side].heel_mm for e in events]
    xs = np.array([h[0] for h in heels])
    dy = np.diff([h[1] for h in heels])
    assert np.ptp(xs) < 1e-9  # one line
    L = p.body.foot_length_mm
    assert np.all(np.abs(dy - L) < 5)  # each heel just in front of the other foot's toes
    # quasi-static: the two feet share the body weight
    for x in np.arange(2, 10, 0.1):
        assert p.sample(x, mat=False, insoles=False).grf_n == pytest.approx(WEIGHT, rel=1e-6)
