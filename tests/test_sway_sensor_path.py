"""Sway speed through the mat's sensor path against the virtual patient's truth (metrics version 3).

Before: the sway speed (``mean_velocity_mm_s``) of 20 s of quiet standing of the 70 kg virtual
patient read 21.3 mm/s through the calibrated sensor path against 9.1 mm/s on the simulator's
true kPa (2.3 x), and 11.9 mm/s through the factory line, whose COP excursions are only two
thirds of the truth's. The cause, measured (docs/performance.md, "Uncalibrated sensors and the
report"): the sensels' read noise makes a white, frame-to-frame COP jitter that the path length
sums; ADC steps, the device's zero and its noise gate add nothing measurable. Now the mat's COP
is low-passed at 10 Hz before the sway measures, in the report and in the quiet-standing drill.

Real parts: the virtual mat's counts with their read noise, the device's ZERO and noise gate,
the CLI's calibration on the virtual rig, the factory-nominal line, the per-frame analysis
and the report; the drill driven by the closed-loop virtual patient.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from calibration_support import PITCH
from test_calibration_visit import quiet as quiet_cli

from calibration.storage import active_model
from device.sim import VirtualPatient
from device.sim.zero_gate import ZERO_WINDOW_SCANS, ZeroGate
from drills import registry
from drills.autopilot import feed_for, patient_for, run_drill
from gaitkiosk.pressure import NOMINAL, Pressure
from kernels.report import analyze_recording
from store import open_store

SERIAL = "sim-mat-48x48-seed1"
RATE = 100.0
SECONDS = 20.0
# Stated tolerance: the calibrated sensor path's sway speed within 15 % of the true kPa's (the
# same definition on both; measured +3 %). The factory line is a conversion error the report
# flags: its COP excursions are ~2/3 of the truth's, and its sway speed must scale the same way
# (within 15 % of the AP range's ratio; measured within 3 %), not be inflated by noise.
TOLERANCE = 0.15


class SensorPath:
    """The seed-1 virtual mat read as the kiosk reads it: counts, the device's ZERO, kPa."""

    def __init__(self, sensor, convert):
        self.sensor = sensor
        empty = np.zeros(sensor.shape)  # ZERO at power-up, nobody on the mat (per-sensel gate)
        self.gate = ZeroGate.measure(np.stack([sensor.counts(empty, key=(1 << 47) + k)
                                               for k in range(ZERO_WINDOW_SCANS)]), 0)
        self.convert = convert

    def kpa(self, true_kpa, t: float) -> np.ndarray:
        counts = self.gate.apply(self.sensor.counts(true_kpa, key=round(t * 1e6)))
        return np.asarray(self.convert(counts), dtype=np.float32)


@pytest.fixture(scope="module")
def conversions(tmp_path_factory):
    """{name: counts -> kPa} for the calibrated and the factory-nominal path of the seed-1 mat.

    The calibration is the one ``gaitkiosk calibrate equilibrate sim://mat`` makes and the kiosk
    uses (zero + 4 bladder pressures on the virtual rig, in real time: ~15 s), applied without
    its offsets to the device-zeroed stream, as in ``bench/bench_uncalibrated.py``.
    """
    data = tmp_path_factory.mktemp("calibrated")
    code, _, err = quiet_cli("calibrate", "equilibrate", "sim://mat?patient=sway-test", "--data-dir", str(data))
    assert code == 0, err[-2000:]
    with open_store(data) as st:
        model = active_model(st, SERIAL)[1]
    calibrated = model.for_stream({"zeroed": True, "gate_counts": 0})[0].converter()
    sensor = VirtualPatient("quiet", seed=1).mat_sensor
    nominal = Pressure(SERIAL, NOMINAL, kpa_per_count=float(sensor.kpa_per_count), stuck_counts=sensor.max_counts)
    return {"calibrated": lambda c: calibrated.many(c[None])[0], "factory line": nominal.kpa}


def report(frames, t) -> dict:
    rec = SimpleNamespace(meta="{}", mat_kpa=np.asarray(frames, np.float32), mat_t=t, mat_pitch_mm=np.array(PITCH))
    return analyze_recording(rec)["sway"]


@pytest.fixture(scope="module")
def quiet(conversions):
    """The sway of 20 s of quiet standing, evenly: on the true kPa and through each sensor path."""
    patient = VirtualPatient("quiet", seed=1)
    t = np.arange(0.0, SECONDS, 1.0 / RATE)
    samples = [patient.sample(x, insoles=False) for x in t]
    out = {"truth": report([s.mat_kpa for s in samples], t)}
    for name, convert in conversions.items():
        path = SensorPath(patient.mat_sensor, convert)
        out[name] = report([path.kpa(s.mat_kpa, s.t) for s in samples], t)
    return out


def test_calibrated_sway_speed_is_within_15_pct_of_the_true_kpa(quiet):
    truth, got = quiet["truth"]["mean_velocity_mm_s"], quiet["calibrated"]["mean_velocity_mm_s"]
    assert 5.0 < truth < 15.0  # healthy quiet standing, eyes open
    assert got == pytest.approx(truth, rel=TOLERANCE), f"calibrated {got:.2f} mm/s, true kPa {truth:.2f} mm/s"
    for axis in ("mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s"):
        assert quiet["calibrated"][axis] == pytest.approx(quiet["truth"][axis], rel=TOLERANCE), axis
    # what the filter must not change: the excursions, which were right before
    assert quiet["calibrated"]["ellipse95_area_mm2"] == pytest.approx(quiet["truth"]["ellipse95_area_mm2"], rel=0.05)


def test_factory_line_sway_speed_scales_like_its_excursions_not_its_noise(quiet):
    truth, got = quiet["truth"], quiet["factory line"]
    shrink = got["range_ap_mm"] / truth["range_ap_mm"]
    assert 0.5 < shrink < 0.8  # the straight line over the p^0.7 sensor compresses the COP's excursions
    speed = got["mean_velocity_mm_s"] / truth["mean_velocity_mm_s"]
    assert speed == pytest.approx(shrink, rel=TOLERANCE), f"speed x{speed:.2f} against excursions x{shrink:.2f}"


def test_mean_power_frequency_is_the_truths(quiet):
    # the white COP jitter also moved the spectrum's power up (0.309 against 0.279 Hz)
    got, want = quiet["calibrated"]["mean_power_frequency_hz"], quiet["truth"]["mean_power_frequency_hz"]
    assert got == pytest.approx(want, rel=0.03)


class SensorPathFeed:
    """The drill's kernels fed the mat through the sensor path (the autopilot gives true kPa)."""

    def __init__(self, feed, path: SensorPath):
        self.feed, self.path = feed, path
        self.frames: dict[float, np.ndarray] = {}
        self.truth: dict[float, np.ndarray] = {}

    def mat_frame(self, t, kpa):
        self.truth[t], self.frames[t] = kpa, self.path.kpa(kpa, t)
        return self.feed.mat_frame(t, self.frames[t])

    def __getattr__(self, name):
        return getattr(self.feed, name)


def test_the_drills_sway_speed_is_the_reports_and_near_the_truth(conversions):
    drill = registry.create("quiet_standing", {"duration_s": 20}, mat_shape=(48, 48))
    patient = patient_for(drill, seed=1)
    feed = SensorPathFeed(feed_for(drill, patient), SensorPath(patient.mat_sensor, conversions["calibrated"]))
    out = run_drill(drill, patient, feed=feed)
    assert out.result.status == "complete"
    shown = out.result.measures["headline"]["mean_velocity_mm_s"]  # "Sway speed" on the results screen
    condition = out.result.measures["conditions"]["eyes_open"]
    # the frames of the drill's running phase (the drill keeps the COP of those)
    times = np.array(sorted(t for t in feed.frames if drill._samples[0][0][0] <= t <= drill._samples[0][-1][0]))
    truth = report([feed.truth[t] for t in times], times)
    assert shown == pytest.approx(truth["mean_velocity_mm_s"], rel=TOLERANCE)
    sway = report([feed.frames[t] for t in times], times)  # the report of the same frames
    assert shown == pytest.approx(sway["mean_velocity_mm_s"], rel=1e-9)
    assert condition["sway"]["ellipse95_area_mm2"] == pytest.approx(sway["ellipse95_area_mm2"], rel=1e-9)
    assert condition["filter"]["cutoff_hz"] == 10.0
