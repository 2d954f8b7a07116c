"""kernels/cop_path.py against the per-frame analysis and the report: the session review's COP
path is the analysis' COP frame by frame, its low-pass gives the report's sway numbers, its gait
lines are as long as the report's, and the pressure images are the frames' peak and loaded mean."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gaitkiosk.demo_trials import simulate
from kernels.cop_path import gait_lines, lowpassed, mat_cop_path, path_length, peak_and_mean
from kernels.frame import FrameAnalyzer
from kernels.report import analyze_recording


@functools.cache
def recording(drill: str, seconds: float):
    _, rec, _ = simulate(drill, seconds)
    rec.meta["sensors"] = ["mat"]
    return rec, analyze_recording(rec)


def test_the_cop_path_is_the_frame_analysis_cop_of_every_frame():
    rec, _ = recording("quiet_standing", 3.0)
    kpa = rec.mat_kpa.copy()
    kpa[5] = 0.0  # nobody on the mat in one frame: no COP there
    kpa[6, 3, 3] = -4.0  # a bad value counts as 0
    cop, force = mat_cop_path(kpa, rec.mat_pitch_mm)
    analyzer = FrameAnalyzer(*kpa.shape[1:], pitch_mm=tuple(rec.mat_pitch_mm))
    for k in range(len(kpa)):
        r = analyzer.analyze(np.ascontiguousarray(kpa[k]))
        assert force[k] == pytest.approx(r.force_n, rel=1e-5, abs=1e-6)
        if r.cop_mm is None:
            assert np.isnan(cop[k]).all()
        else:
            assert cop[k] == pytest.approx(r.cop_mm, abs=1e-3)
    assert np.isnan(cop[5]).all()


def test_counts_and_their_conversion_give_the_same_path_as_kpa():
    rec, _ = recording("quiet_standing", 3.0)
    counts = np.rint(rec.mat_kpa / 0.25).astype(np.uint16)
    a, _ = mat_cop_path(counts, rec.mat_pitch_mm, to_kpa=lambda c: c.astype(np.float32) * np.float32(0.25))
    b, _ = mat_cop_path(counts.astype(np.float32) * 0.25, rec.mat_pitch_mm)
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.nanmax(np.abs(a - b)) < 1e-9


def test_the_low_passed_path_gives_the_reports_sway_numbers():
    rec, report = recording("quiet_standing", 10.0)
    cop, _ = mat_cop_path(rec.mat_kpa, rec.mat_pitch_mm)
    smooth = lowpassed(cop, report["rate_hz"], report["filter"]["cutoff_hz"])
    path = smooth[np.all(np.isfinite(smooth), axis=1)]
    assert path_length(path) == pytest.approx(report["sway"]["path_length_mm"], rel=1e-9)
    assert np.ptp(path[:, 0]) == pytest.approx(report["sway"]["range_ml_mm"], rel=1e-9)


def test_each_steps_gait_line_is_as_long_as_the_reports():
    rec, report = recording("tandem_walk", 20.0)
    steps = report["steps"]
    assert len(steps) >= 3
    lines = gait_lines(rec.mat_kpa, rec.mat_t, rec.mat_pitch_mm, steps)
    for line, step in zip(lines, steps, strict=True):
        assert len(line) >= 10
        assert path_length(line) == pytest.approx(step["gait_line_length_mm"], rel=1e-9)  # the same samples
        heel = np.asarray(step["heel_centre_mm"])
        assert np.hypot(*(line[0] - heel)) < 60.0  # the line starts at the heel


def test_peak_and_mean_pressure_images():
    rec, _ = recording("quiet_standing", 3.0)
    kpa = rec.mat_kpa
    peak, mean = peak_and_mean(kpa, threshold_kpa=10.0)
    loaded = np.where(kpa >= 10.0, kpa, 0.0)
    assert np.array_equal(peak, loaded.max(axis=0).astype(np.float32))
    n = (loaded > 0).sum(axis=0)
    expect = np.where(n > 0, loaded.sum(axis=0) / np.maximum(n, 1), 0.0)
    assert np.allclose(mean, expect, rtol=1e-5)
