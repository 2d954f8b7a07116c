"""The virtual calibration rig (device/sim/loads.py): its loads' truth and its sensors."""

import numpy as np
import pytest

from device.sim import VirtualPatient
from device.sim.loads import CalibrationRig, Plate, Uniform, plate_coverage, rig_frames
from device.sim.mat import MatGeometry


def test_plate_truth_is_its_weight_on_the_mat_share():
    rig = CalibrationRig(seed=1)
    rig.set_load(Plate(400.0, size_mm=(100.0, 100.0)), at=0.0)
    s = rig.sample(1.0)
    assert s.force_n == pytest.approx(400.0, rel=1e-5)
    assert s.cop_mm == pytest.approx(rig.mat.centre_mm, abs=0.01)
    # half of the plate over the left edge: the mat carries half
    rig.set_load(Plate(400.0, centre_mm=(0.0, 200.0)), at=2.0)
    assert rig.sample(3.0).force_n == pytest.approx(200.0, rel=1e-5)


def test_plate_coverage_sums_to_its_area():
    mat = MatGeometry()
    cover = plate_coverage(mat, (150.3, 170.9), (100.0, 60.0))
    assert cover.sum() * mat.sensel_area_mm2 == pytest.approx(6000.0, rel=1e-9)
    assert cover.max() == pytest.approx(1.0) and cover.min() == 0.0


def test_bladder_and_empty():
    rig = CalibrationRig(seed=1)
    rig.set_load(Uniform(120.0, rise_s=0.5), at=0.0)
    s = rig.sample(2.0)
    assert np.all(s.mat_kpa == np.float32(120.0))
    assert all(np.all(v == np.float32(120.0)) for v in s.insole_kpa.values())
    assert rig.sample(0.25).mat_kpa.max() < 120.0  # still inflating
    rig.perform({"load": "empty"}, at=3.0)
    assert rig.sample(3.5).force_n == 0.0 and rig.sample(3.5).cop_mm is None


def test_rig_sensors_are_the_virtual_patients():
    """A calibration made on the rig is valid for sim:// devices of the same seed."""
    rig, patient = CalibrationRig(seed=7), VirtualPatient("quiet", seed=7)
    for name in ("gain", "offset", "dead", "hot"):
        assert np.array_equal(getattr(rig.mat_sensor, name), getattr(patient.mat_sensor, name))
        for side in ("left", "right"):
            assert np.array_equal(getattr(rig.insole_sensor_for(side), name), getattr(patient.insole_sensor_for(side), name))
    s = patient.sample(1.0)
    assert np.array_equal(rig.mat_counts(s), patient.mat_counts(s))


def test_person_loads_follow_the_scenarios():
    rig = CalibrationRig(seed=1)
    rig.perform({"load": "person", "stance": "left"}, at=0.0)
    s = rig.sample(5.0)
    assert s.feet["right"].force_n == 0.0 and s.feet["left"].force_n == pytest.approx(rig.body.weight_n, rel=0.01)
    rig.perform({"load": "person", "stance": "walk"}, at=10.0)
    forces = [rig.sample(10.0 + t).feet["left"].force_n for t in np.arange(0, 3, 0.05)]
    assert min(forces) == 0.0 and max(forces) > rig.body.weight_n


def test_mistakes():
    with pytest.raises(ValueError, match="unknown rig mistake"):
        CalibrationRig(seed=1, misbehave="sneeze")
    rig = CalibrationRig(seed=1, misbehave="zero,unstable,offarea")
    rig.perform({"load": "empty"}, at=0.0)
    assert rig.sample(2.0).force_n > 100  # someone stayed on the mat
    rig.perform({"load": "plate", "force_n": 300.0}, at=3.0)
    a, b = rig.sample(4.0).force_n, rig.sample(6.0).force_n
    assert a < 300.0 * 0.6 and b > a * 1.05  # half off the mat, and creeping


def test_rig_frames_continue_after_the_latest_sample():
    rig = CalibrationRig(seed=1)
    rig.sample(12.0)
    t, counts = next(rig_frames(rig))
    assert t > 12.0 and counts.shape == (48, 48) and counts.dtype == np.uint16
    t, counts = next(rig_frames(rig, "insole_right", start_s=0.0))
    assert t == 0.0 and counts.shape == (16,)


def test_sim_url_builds_the_rig():
    import serial

    import device  # noqa: F401 - registers the sim:// handler
    from device.handlers import protocol_sim

    port = serial.serial_for_url("sim://mat?rig=1&patient=rigtest&misbehave=offarea")
    try:
        rig = protocol_sim.patient("rigtest")
        assert isinstance(rig, CalibrationRig) and rig.misbehave == ("offarea",)
    finally:
        port.close()
