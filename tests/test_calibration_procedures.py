"""Calibration procedures on the virtual rig, checked against the simulator's truth.

The measured numbers (accuracy of the calibrated mat against the true kPa on a
standing and a walking patient) are asserted here and quoted in
docs/calibration.md and docs/performance.md (bench/bench_calibration.py prints them).
"""

import numpy as np
import pytest
from calibration_support import blank_insole, blank_mat, run_on_rig, truth_frames

from calibration import (
    BodyWeightCalibration,
    DeadSenselDetection,
    EquilibrationCalibration,
    KnownLoadCalibration,
    Verification,
    ZeroCalibration,
    steps,
)
from calibration.accuracy import accuracy
from calibration.errors import (
    CalibrationError,
    CurveFitError,
    LoadedDuringZeroError,
    NotCalibratedError,
    NotStableError,
    OffAreaError,
    WrongLoadError,
)
from calibration.model import MASK_DEAD, MASK_HOT
from device.sim.loads import CalibrationRig, rig_frames

AREA = 8.47 * 8.47


@pytest.fixture(scope="module")
def calibrated():
    """zero + equilibration (4 bladder pressures) of the seed-1 virtual mat."""
    result, rig = run_on_rig([ZeroCalibration(), EquilibrationCalibration()], blank_mat())
    return result, rig


def test_zero_and_equilibration_pass(calibrated):
    result, _ = calibrated
    zero, eq = result.procedures
    assert zero.passed_ and eq.passed_
    assert eq.curve_report_["chosen"] == "power"
    assert result.model.complete


def test_offsets_gains_and_masks_match_the_truth(calibrated):
    result, rig = calibrated
    truth = rig.mat_sensor
    m = result.model
    live = m.mask == 0
    assert np.array_equal(m.mask == MASK_DEAD, truth.dead)
    assert np.array_equal(m.mask == MASK_HOT, truth.hot)
    # offsets: the truth's offset within the mean of ~100 noisy frames (sd 3 counts / 10)
    # (sensels whose offset is near 0 read clipped noise: compare the others)
    clear = live & (truth.offset > 10)
    assert np.abs(m.offset[clear] - truth.offset[clear]).max() < 1.5
    ratio = m.gain[live] / truth.gain[live]
    assert ratio.std() / ratio.mean() < 0.01
    # the response exponent of the sensor is 0.7: counts -> kPa goes with the power 1/0.7
    assert m.curve.b == pytest.approx(1.0 / truth.exponent, rel=0.01)


@pytest.mark.parametrize("scenario", ["quiet", "walk"])
def test_calibrated_mat_accuracy(calibrated, scenario):
    result, _ = calibrated
    p, counts, truth = truth_frames(scenario, seconds=6.0)
    cal = accuracy(result.model.converter(), counts, truth, AREA, (8.47, 8.47))
    raw = accuracy(p.mat_sensor.nominal_kpa, counts, truth, AREA, (8.47, 8.47))
    # the targets of the issue: < 3 % total force, < 5 % median sensel error...
    assert cal["force_mean_abs_pct"] < 3.0 and cal["force_p95_pct"] < 3.0
    assert cal["sensel_median_pct"] < 5.0 and cal["sensel_p95_pct"] < 10.0
    assert cal["cop_mean_mm"] < 2.0
    # ...where the factory-nominal counts are off by 20 % or more
    assert raw["force_mean_abs_pct"] > 20.0 and raw["sensel_median_pct"] > 20.0


def test_known_load_curve(calibrated):
    result, rig = calibrated
    res, _ = run_on_rig([KnownLoadCalibration()], result.model, rig)
    kl = res.procedures[0]
    assert kl.passed_
    assert max(abs(e) for e in kl.error_pct_) < 1.0
    assert res.model.curve.b == pytest.approx(1.0 / rig.mat_sensor.exponent, rel=0.02)


def test_known_load_alone_calibrates_an_unequilibrated_mat():
    res, _ = run_on_rig([ZeroCalibration(), KnownLoadCalibration()], blank_mat())
    _, counts, truth = truth_frames("quiet", seconds=3.0)
    acc = accuracy(res.model.converter(), counts, truth, AREA)
    assert acc["force_mean_abs_pct"] < 5.0  # the gain spread averages out over a foot


def test_bodyweight_point_on_the_mat(calibrated):
    result, rig = calibrated
    res, _ = run_on_rig([BodyWeightCalibration(weight_kg=rig.body.mass_kg)], result.model, rig)
    bw = res.procedures[0]
    assert bw.passed_ and bw.factor_ == pytest.approx(1.0, abs=0.02)
    assert res.model.scale == pytest.approx(result.model.scale * bw.factor_)


def test_step_method_refused_on_a_mat(calibrated):
    result, rig = calibrated
    with pytest.raises(CalibrationError, match="--method point"):
        run_on_rig([BodyWeightCalibration(70, method="step")], result.model, rig)


@pytest.mark.parametrize("side", ["left", "right"])
def test_insole_zero_equilibrate_bodyweight_verify(side):
    rig = CalibrationRig(seed=1)
    kind = f"insole_{side}"
    res, _ = run_on_rig([ZeroCalibration(), EquilibrationCalibration(), BodyWeightCalibration(70.0)],
                        blank_insole(side), rig, kind)
    zero = res.procedures[0]
    assert zero.steps(res.model)[0].request == {"load": "person", "stance": "right" if side == "left" else "left"}
    assert all(p.passed_ for p in res.procedures)
    # sparse insole sensors read well under the foot's force: the body-weight factor restores it
    assert 1.5 < res.procedures[2].factor_ < 5.0
    ver, _ = run_on_rig([Verification(weight_kg=70.0)], res.model, rig, kind)
    assert abs(ver.procedures[0].error_pct_) < 3.0


def test_insole_step_calibration_counts_steps():
    rig = CalibrationRig(seed=2)
    res, _ = run_on_rig([ZeroCalibration(), EquilibrationCalibration(levels_kpa=(100, 300)),
                         BodyWeightCalibration(70.0, method="step", walk_s=12.0)], blank_insole("left"), rig, "insole_left")
    bw = res.procedures[-1]
    assert bw.steps_ >= 8
    assert bw.stride_s_ == pytest.approx(2 * 60 / 110, rel=0.02)  # the walker's cadence is 110 steps/min
    assert bw.passed_


def test_sweep_finds_the_dead_and_hot_sensels(calibrated):
    result, rig = calibrated
    blank = blank_mat()
    res, _ = run_on_rig([ZeroCalibration(), DeadSenselDetection()], blank, rig)
    sweep = res.procedures[1]
    assert np.array_equal(np.asarray(sweep.dead_), rig.mat_sensor.dead)
    assert np.array_equal(np.asarray(sweep.hot_), rig.mat_sensor.hot)
    assert np.array_equal(res.model.mask != 0, rig.mat_sensor.dead | rig.mat_sensor.hot)
    assert sweep.passed_


def test_verification(calibrated):
    result, rig = calibrated
    res, _ = run_on_rig([Verification(weight_n=300.0)], result.model, rig)
    v = res.procedures[0]
    assert v.passed_ and abs(v.error_pct_) < 1.0
    assert res.model.curve.to_json() == result.model.curve.to_json()  # verifying changes nothing


def test_verification_needs_a_calibration():
    with pytest.raises(NotCalibratedError):
        run_on_rig([Verification()], blank_mat())


def test_progress_is_data(calibrated):
    result, rig = calibrated
    seen = []
    steps.run([Verification(weight_n=200.0)], result.model, rig_frames(rig), operator=lambda s: rig.perform(s.request),
              on_progress=seen.append)
    states = [p.state for p in seen]
    assert states[0] == "waiting" and states[-1] == "done"
    assert "verification weight" in seen[0].instruction
    assert all(0.0 <= p.fraction <= 1.0 for p in seen)
    assert seen[0].to_json()["step_id"] == "known"


# --- bad input ---------------------------------------------------------------------------------


def test_someone_on_the_mat_during_zeroing_is_refused(calibrated):
    result, _ = calibrated
    before = result.model.to_json()
    rig = CalibrationRig(seed=1, misbehave="zero")
    with pytest.raises(LoadedDuringZeroError, match="step off the mat") as info:
        run_on_rig([ZeroCalibration()], result.model, rig)
    assert "previous zero is kept" in str(info.value)
    assert result.model.to_json() == before


def test_a_foot_on_the_insole_during_zeroing_is_refused():
    rig = CalibrationRig(seed=1)
    feed = rig_frames(rig, "insole_left")
    with pytest.raises(LoadedDuringZeroError, match="lift that foot"):
        steps.run([ZeroCalibration()], blank_insole("left"), feed,
                  operator=lambda s: rig.perform({"load": "person", "stance": "both"}))


def test_a_load_that_never_settles_is_refused(calibrated):
    result, _ = calibrated
    rig = CalibrationRig(seed=1, misbehave="unstable")
    with pytest.raises(NotStableError, match="did not settle within 5 s") as info:
        run_on_rig([Verification(timeout_s=5.0)], result.model, rig)
    assert "% per second" in str(info.value)


def test_a_weight_off_the_sensing_area_is_refused(calibrated):
    result, _ = calibrated
    rig = CalibrationRig(seed=1, misbehave="offarea")
    with pytest.raises(OffAreaError, match="middle of the mat"):
        run_on_rig([KnownLoadCalibration()], result.model, rig)
    with pytest.raises(OffAreaError):
        run_on_rig([Verification()], result.model, rig)


def test_equilibration_without_a_full_bladder_is_refused():
    rig = CalibrationRig(seed=1)
    zeroed, _ = run_on_rig([ZeroCalibration()], blank_mat(), rig)
    with pytest.raises(WrongLoadError, match="whole sensor"):
        steps.run([EquilibrationCalibration()], zeroed.model, rig_frames(rig),
                  operator=lambda s: rig.perform({"load": "plate", "force_n": 400.0}))


def test_one_bladder_level_needs_an_existing_curve(calibrated):
    result, rig = calibrated
    zeroed, _ = run_on_rig([ZeroCalibration()], blank_mat(), rig)
    with pytest.raises(CurveFitError, match="two or more pressures"):
        run_on_rig([EquilibrationCalibration(levels_kpa=(100,))], zeroed.model, rig)
    res, _ = run_on_rig([EquilibrationCalibration(levels_kpa=(100,))], result.model, rig)
    assert res.procedures[0].curve_ is None
    assert res.model.curve.to_json() == result.model.curve.to_json()


def test_known_loads_with_too_few_weights_refused(calibrated):
    result, rig = calibrated
    with pytest.raises(CurveFitError, match="at least 2"):
        run_on_rig([KnownLoadCalibration(weights_n=(200,))], result.model, rig)


def test_wrong_body_weight_refused(calibrated):
    result, rig = calibrated
    with pytest.raises(WrongLoadError, match="Check the weight entered"):
        run_on_rig([BodyWeightCalibration(weight_kg=20.0)], result.model, rig)


def test_a_person_half_off_the_mat_is_refused_for_body_weight(calibrated):
    result, rig = calibrated
    feed = rig_frames(rig)
    with pytest.raises(OffAreaError, match="stand in the middle of the mat"):
        steps.run([BodyWeightCalibration(70.0)], result.model, feed,
                  operator=lambda s: rig.set_load(rig.person("quiet", "both", position_x_mm=90.0)))
