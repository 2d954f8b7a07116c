"""Insole analysis: hand-computed values, bad input, and the gaitpdb insole geometry."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import FrameError, InsoleAnalyzer, ParameterError, _backend

IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])

# A hand-checkable 4-sensor insole: heel, two midfoot, one forefoot sensor (mm, insole frame).
SENSORS = np.array([[0.0, 0.0], [-20.0, 100.0], [20.0, 100.0], [0.0, 200.0]])


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    return request.param


def test_hand_computed_force_cop_and_regions(impl):
    a = InsoleAnalyzer(SENSORS, 100.0, implementation=impl)
    assert a.regions.tolist() == [0, 1, 1, 2]  # y fractions 0, 0.5, 0.5, 1
    r = a.analyze(np.array([200.0, 100.0, 50.0, 150.0], np.float32))
    # force = (200 + 100 + 50 + 150) kPa * 100 mm^2 * 1e-3 = 50 N
    assert r.force_n == pytest.approx(50.0)
    # COP x = (100*-20 + 50*20) / 500 = -2; y = (150*100 + 150*200) / 500 = 90
    assert r.cop_mm == pytest.approx((-2.0, 90.0))
    assert r.regions_n == pytest.approx((20.0, 15.0, 15.0))
    assert r.peak_kpa == 200.0 and r.invalid_sensors == 0 and r.negative_sensors == 0


def test_per_sensor_areas_weight_the_cop(impl):
    a = InsoleAnalyzer(SENSORS, [100.0, 50.0, 50.0, 200.0], implementation=impl)
    r = a.analyze(np.array([100.0, 0.0, 0.0, 100.0], np.float32))
    assert r.force_n == pytest.approx(30.0)
    assert r.cop_mm == pytest.approx((0.0, 200.0 * 20 / 30))


def test_explicit_outline_moves_region_cuts(impl):
    # heel edge 50 mm behind the heel sensor, 300 mm long: 100/300 = 0.5 -> midfoot; 200 -> 0.83 fore
    a = InsoleAnalyzer(SENSORS, 100.0, heel_y_mm=-50.0, length_mm=300.0, implementation=impl)
    assert a.regions.tolist() == [0, 1, 1, 2]
    b = InsoleAnalyzer(SENSORS, 100.0, heel_y_mm=-100.0, length_mm=300.0, implementation=impl)
    assert b.regions.tolist() == [1, 2, 2, 2]  # 100/300 = 0.33, 200/300 = 0.67


def test_light_frame_has_force_but_no_cop(impl):
    a = InsoleAnalyzer(SENSORS, 100.0, implementation=impl)
    r = a.analyze(np.array([50.0, 0.0, 0.0, 0.0], np.float32))  # 5 N < 10 N
    assert r.force_n == pytest.approx(5.0) and r.cop_mm is None


def test_nan_and_negative_count_as_zero(impl):
    a = InsoleAnalyzer(SENSORS, 100.0, implementation=impl)
    r = a.analyze(np.array([np.nan, -3.0, np.inf, 300.0], np.float32))
    assert r.invalid_sensors == 2 and r.negative_sensors == 1
    assert r.force_n == pytest.approx(30.0) and r.cop_mm == pytest.approx((0.0, 200.0))


def test_threshold_drops_noise(impl):
    a = InsoleAnalyzer(SENSORS, 100.0, threshold_kpa=20.0, implementation=impl)
    r = a.analyze(np.array([19.0, 0.0, 0.0, 200.0], np.float32))
    assert r.force_n == pytest.approx(20.0) and r.peak_kpa == 200.0


@pytest.mark.parametrize("frame", [
    np.zeros(4, np.float64), np.zeros(5, np.float32), np.zeros((4, 1), np.float32),
    np.zeros(8, np.float32)[::2], [0.0, 0.0, 0.0, 0.0],
])
def test_wrong_frame_raises(impl, frame):
    with pytest.raises(FrameError):
        InsoleAnalyzer(SENSORS, 100.0, implementation=impl).analyze(frame)


@pytest.mark.parametrize("sensors, area", [
    (np.zeros((4, 3)), 100.0), (SENSORS, -1.0), (SENSORS, [1.0, 2.0]),
    (np.array([[0.0, 5.0], [1.0, 5.0]]), 100.0), (np.array([[np.nan, 0.0], [0.0, 1.0]]), 1.0),
])
def test_bad_geometry_raises(sensors, area):
    with pytest.raises(ParameterError):
        InsoleAnalyzer(sensors, area)


def _gaitpdb_layout(shared_data):
    import csv

    with open(shared_data / "gaitpdb-physionet" / "sensor_positions.csv") as fh:
        rows = list(csv.DictReader(fh))
    left = np.array([[float(r["x"]), float(r["y"])] for r in rows if r["sensor"].startswith("L")])
    right = np.array([[float(r["x"]), float(r["y"])] for r in rows if r["sensor"].startswith("R")])
    return left, right


def test_gaitpdb_geometry_regions_and_forces(impl, shared_data):
    """The PhysioNet gaitpdb layout (8 sensors, newtons): our force equals its column 18/19."""
    left, right = _gaitpdb_layout(shared_data)
    area = 100.0  # any area: newtons -> kPa -> newtons round trip
    a = InsoleAnalyzer(left, area, min_force_n=20.0, implementation=impl)
    # L1 heel; L2/L3 (y=-400, 25 %) rearfoot; L4/L5 (50 %) midfoot; L6-L8 forefoot
    assert a.regions.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    data = np.loadtxt(shared_data / "gaitpdb-physionet" / "data" / "GaCo01_01.txt", max_rows=1500)
    newtons = data[:, 1:9]
    ys = []
    for row, total in zip(newtons, data[:, 17], strict=True):
        kpa = (row / area * 1e3).astype(np.float32)
        r = a.analyze(kpa)
        assert r.force_n == pytest.approx(total, rel=1e-6, abs=1e-3)
        assert sum(r.regions_n) == pytest.approx(r.force_n, rel=1e-9)
        if r.cop_mm is not None:
            cop_y = (row * left[:, 1]).sum() / row.sum()
            assert r.cop_mm[1] == pytest.approx(cop_y, rel=1e-5, abs=1e-3)
            ys.append(r.cop_mm[1])
    assert min(ys) < -600 and max(ys) > 400  # heel to toe during stance
    b = InsoleAnalyzer(right, area, implementation=impl)
    assert b.regions.tolist() == a.regions.tolist()  # mirrored in x only
