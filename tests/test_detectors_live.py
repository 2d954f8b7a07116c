"""LiveMat: the live loop's per-frame view agrees with the whole-recording report."""

from __future__ import annotations

import metrics_synth as ms
import pytest

from kernels.frame import FrameAnalyzer
from kernels.live import LiveMat
from kernels.report import analyze_recording


def run_live(rec):
    rows, cols = rec.mat_kpa.shape[1:]
    live = LiveMat(FrameAnalyzer(rows, cols, pitch_mm=tuple(rec.mat_pitch_mm)), rate_hz=100.0)
    events = []
    for t, frame in zip(rec.mat_t, rec.mat_kpa, strict=True):
        update = live.update(float(t), frame)
        assert update.result.force_n >= 0
        events.extend(update.events)
    return live, events


def test_live_events_are_the_reports_steps():
    rec, truth = ms.walk()
    live, events = run_live(rec)
    report = analyze_recording(rec)
    steps = [e.metrics for e in events if e.kind == "step"]
    assert len(steps) == len(report["steps"]) == len(truth)
    for got, want in zip(steps, report["steps"], strict=True):
        assert got["contact_s"] == pytest.approx(want["contact_s"])
        assert got["off_s"] == pytest.approx(want["off_s"])
        assert got["peak_force_n"] == pytest.approx(want["peak_force_n"])
    kinds = [e.kind for e in events]
    assert kinds.count("contact") == kinds.count("off") == len(truth)
    # every contact event comes before its step's off event
    assert kinds.index("contact") < kinds.index("off") < kinds.index("step")


def test_live_sway_and_share_match_the_report():
    rec, _ = ms.stand(seconds=3.0)
    live, _ = run_live(rec)
    # the running sway is of the COP as it comes (a live loop cannot filter both ways): the
    # report's with its mat low-pass off (docs/metrics.md section 2, "Live sway")
    report = analyze_recording(rec, lowpass_hz=None)
    sway = live.sway()
    for key in ("path_length_mm", "mean_velocity_mm_s", "range_ml_mm", "range_ap_mm", "rms_distance_mm",
                "ellipse95_area_mm2"):
        assert sway[key] == pytest.approx(report["sway"][key], rel=1e-9), key
    assert live.left_pct == pytest.approx(report["weight"]["left_pct"], rel=1e-12)
    live.reset(3.0)
    assert live.sway()["n"] == 0 and live.left_pct is None


def test_a_bad_frame_is_refused_and_counted_not_raised():
    import numpy as np

    live = LiveMat(FrameAnalyzer(48, 48, pitch_mm=(8.47, 8.47)), rate_hz=100.0)
    for bad in (np.zeros((48, 48)), np.zeros((40, 48), np.float32), [[0.0] * 48] * 48):
        update = live.update(0.0, bad)
        assert update.result is None and update.error
    assert live.rejected_frames == 3
    good = live.update(0.01, np.zeros((48, 48), np.float32))
    assert good.error is None and good.result.cop_mm is None
