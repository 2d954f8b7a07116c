"""VirtualPatient API: shapes, determinism, order/thread independence, clear errors."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from device.sim import (
    SCENARIOS,
    Body,
    InsoleGeometry,
    MatGeometry,
    PatientSample,
    SensorModel,
    SimulationError,
    VirtualPatient,
)
from device.sim.insole import SENSOR_NAMES
from gaitkiosk.errors import KioskError


def test_sample_has_the_documented_truth():
    p = VirtualPatient(scenario="quiet", seed=1)
    s = p.sample(1.0)
    assert isinstance(s, PatientSample)
    assert s.t == 1.0
    assert s.mat_kpa.dtype == np.float32 and s.mat_kpa.shape == (48, 48)
    assert set(s.insole_kpa) == {"left", "right"}
    for side in ("left", "right"):
        assert s.insole_kpa[side].dtype == np.float32 and s.insole_kpa[side].shape == (16,)
        f = s.feet[side]
        assert f.on_mat and f.in_contact
        assert len(f.regions_n) == 3 and len(f.cop_mm) == 2 and len(f.insole_cop_mm) == 2
    assert s.cop_mm is not None and s.force_n > 0
    assert p.mat_counts(s).dtype == np.uint16 and p.mat_counts(s).shape == (48, 48)
    assert p.insole_counts(s, "left").dtype == np.uint16
    assert isinstance(p.mat_sensor, SensorModel) and isinstance(p.insole_sensor, SensorModel)


def test_geometry_is_configurable():
    p = VirtualPatient(
        "quiet", seed=2, body=Body(mass_kg=90, foot_length_mm=280),
        mat=MatGeometry(rows=64, cols=40, pitch_mm=(7.62, 10.0), rate_hz=200), insoles=InsoleGeometry(rate_hz=50),
    )
    s = p.sample(0.5)
    assert s.mat_kpa.shape == (64, 40)
    assert s.force_n == pytest.approx(90 * 9.81, rel=1e-6)
    # the insole layout scales with the foot
    assert p.insoles.positions("right")[:, 1].max() > InsoleGeometry(foot_length_mm=260).positions("right")[:, 1].max()


def test_left_insole_layout_mirrors_the_right():
    g = InsoleGeometry(foot_length_mm=260)
    np.testing.assert_array_equal(g.positions("left")[:, 0], -g.positions("right")[:, 0])
    # lateral (5th metatarsal) on the +x side of the right foot, medial hallux on -x
    right = dict(zip(SENSOR_NAMES, g.positions("right"), strict=True))
    assert right["mth5"][0] > 0 > right["mth1"][0]
    assert right["hallux"][1] > right["mth1"][1] > right["midfoot_lateral"][1] > right["heel_medial"][1]


def _frames(p, times):
    return [p.sample(t) for t in times]


def test_same_seed_same_frames_and_counts():
    times = np.arange(0, 3, 0.05)
    a, b = VirtualPatient("walk", seed=5), VirtualPatient("walk", seed=5)
    for sa, sb in zip(_frames(a, times), _frames(b, times), strict=True):
        np.testing.assert_array_equal(sa.mat_kpa, sb.mat_kpa)
        np.testing.assert_array_equal(a.mat_counts(sa), b.mat_counts(sb))
        np.testing.assert_array_equal(a.insole_counts(sa, "right"), b.insole_counts(sb, "right"))
    c = VirtualPatient("quiet", seed=6)
    d = VirtualPatient("quiet", seed=7)
    assert c.sample(2.0).cop_mm != d.sample(2.0).cop_mm


def test_order_of_sampling_does_not_matter():
    times = list(np.arange(0, 40, 0.37))
    forward = VirtualPatient("quiet_eyes_closed", seed=3)
    ref = {t: forward.sample(t, mat=False).cop_mm for t in times}
    shuffled = VirtualPatient("quiet_eyes_closed", seed=3)
    order = times[:]
    random.Random(1).shuffle(order)
    for t in order:
        assert shuffled.sample(t, mat=False).cop_mm == ref[t]


def test_two_devices_in_two_threads_see_one_consistent_patient():
    # mat at 100 Hz and insoles at 60 Hz with a phase offset, each its own increasing times,
    # sampling one patient from two threads; every value equals a single-threaded reference.
    mat_times = np.arange(0, 6, 0.01)
    ins_times = np.arange(0.004, 6, 1 / 60)
    p = VirtualPatient("rhythmic_shift", seed=4)
    got: dict[str, list] = {"mat": [], "ins": []}

    def run_mat():
        for t in mat_times:
            s = p.sample(t, insoles=False)
            got["mat"].append((s.cop_mm, float(s.mat_kpa.sum())))

    def run_ins():
        for t in ins_times:
            s = p.sample(t, mat=False)
            got["ins"].append(s.insole_kpa["left"].copy())

    threads = [threading.Thread(target=run_mat), threading.Thread(target=run_ins)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ref = VirtualPatient("rhythmic_shift", seed=4)
    for t, (cop, total) in zip(mat_times, got["mat"], strict=True):
        s = ref.sample(t, insoles=False)
        assert cop == s.cop_mm and total == float(s.mat_kpa.sum())
    for t, kpa in zip(ins_times, got["ins"], strict=True):
        np.testing.assert_array_equal(kpa, ref.sample(t, mat=False).insole_kpa["left"])


def test_unknown_scenario_lists_the_valid_ones():
    with pytest.raises(SimulationError) as err:
        VirtualPatient("moonwalk")
    msg = str(err.value)
    assert "moonwalk" in msg
    for name in SCENARIOS:
        assert name in msg
    assert isinstance(err.value, KioskError) and isinstance(err.value, ValueError)


def test_unknown_or_bad_parameters_are_refused_clearly():
    with pytest.raises(SimulationError, match="cadense.*cadence"):
        VirtualPatient("walk", cadense=100)
    with pytest.raises(SimulationError, match="eyes must be one of open, closed"):
        VirtualPatient("quiet", eyes="shut")
    with pytest.raises(SimulationError, match="mass_kg"):
        VirtualPatient("quiet", mass_kg=1000)
    with pytest.raises(SimulationError, match=">= 0"):
        VirtualPatient("quiet").sample(-1.0)


def test_string_parameters_from_urls_are_converted():
    p = VirtualPatient("walk", cadence="100", mass_kg="80", step_length_mm="600")
    assert p.body.mass_kg == 80.0
    assert p.params["cadence"] == 100.0


def test_every_scenario_runs_and_describes_itself():
    for name, info in SCENARIOS.items():
        assert info.description
        p = VirtualPatient(name, seed=1)
        s = p.sample(3.0)
        assert s.grf_n >= 0 and np.isfinite(s.mat_kpa).all()
        d = p.describe()
        assert d["scenario"] == name and d["mat_sensor"]["kpa_per_count"] > 0
