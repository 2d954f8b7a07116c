"""Step width and length between GAITRite heel centres (issue 10, item 3; docs/metrics.md section 6).

Before: step width was measured from the rear end of each footprint's long axis, not
from the heel centre that docs/metrics.md (and a GAITRite or Zeno walkway) uses:
125 mm for a true 110 mm, 0 mm for a true -20 mm tandem crossing.

Now: the heel centre is the centroid of the footprint's heel area (its rear quarter).
The truth comes from walks whose heel centres are known: the virtual patient's
anatomical feet, rendered as the mat sees them (``tests/metrics_synth.heel_walk``)
and the virtual patient walking a 2 m mat. Both per-frame kernels (compiled and
the numpy reference) give the footprints; the heel centre is computed from them
in ``kernels/steps.py``, one implementation for both.
"""

from __future__ import annotations

import math

import metrics_synth as ms
import numpy as np
import pytest

from device.sim.patient import MatGeometry, VirtualPatient
from device.sim.record import simulate_recording
from kernels import _backend
from kernels.report import analyze_recording

WIDTH_TOLERANCE_MM = 5.0  # issue 10: step widths within 5 mm of the truth
HEEL_TOLERANCE_MM = 3.5  # each heel centre (about 0.4 sensel at 8.47 mm)


@pytest.fixture(params=["default", "reference"])
def implementation(request, monkeypatch):
    """Run the report on the per-frame kernel that runs by default (the compiled one when
    built), then on its numpy reference."""
    from kernels.frame import FrameAnalyzer

    if request.param == "reference":
        monkeypatch.setattr(_backend, "PURE", True)
        assert FrameAnalyzer(8, 8).implementation == "reference"  # the report's analyzer will be this one
    return request.param


def true_widths(truth: list[dict]) -> list[float]:
    """GAITRite step width of each footfall from the true heel centres (the walk runs along +y,
    so the other foot's line of progression is parallel to y)."""
    out = []
    for i in range(1, len(truth)):
        here, before = truth[i], truth[i - 1]
        d = here["heel"][0] - before["heel"][0]
        out.append(-d if here["side"] == "left" else d)
    return out


@pytest.mark.parametrize("width, length, toe_out, steps", [
    (110.0, 500.0, 8.0, 4),    # ordinary walking
    (180.0, 500.0, 15.0, 4),   # a wide base, feet turned out
    (60.0, 500.0, 0.0, 4),     # narrow, feet straight
    (-20.0, 280.0, 0.0, 6),    # tandem: each heel 20 mm across the other foot's line
    (-20.0, 300.0, 5.0, 6),    # tandem, feet a little turned out
])
def test_step_width_and_length_on_walks_with_known_heel_centres(implementation, width, length, toe_out, steps):
    tandem = length < 400
    rec, truth = ms.heel_walk(step_width_mm=width, step_length_mm=length, toe_out_deg=toe_out, n_steps=steps,
                              step_s=0.6 if tandem else 0.55, stance_s=0.8 if tandem else 0.65)
    report = analyze_recording(rec)
    got = report["steps"]
    assert [s["foot"] for s in got] == [t["side"] for t in truth]
    assert all(w == pytest.approx(width) for w in true_widths(truth))
    gait = report["gait"]
    assert gait["step_width_mm"] == pytest.approx(width, abs=WIDTH_TOLERANCE_MM)
    assert gait["step_length_mm"] == pytest.approx(length, abs=WIDTH_TOLERANCE_MM)
    if width < 0:
        assert gait["step_width_mm"] < 0  # the crossing is seen as one
    for s, t in zip(got, truth, strict=True):
        assert math.dist(s["heel_centre_mm"], t["heel"]) <= HEEL_TOLERANCE_MM, (s["heel_centre_mm"], t["heel"])


def test_the_rear_end_of_the_footprint_is_not_the_heel_centre():
    """The point lengths along the foot start from stays the rear end; it is ~30 mm behind the centre."""
    rec, truth = ms.heel_walk()
    for s, t in zip(analyze_recording(rec)["steps"], truth, strict=True):
        behind = t["heel"][1] - s["heel_mm"][1]
        assert 15.0 < behind < 40.0  # the heel centre is 0.11 foot lengths (27.5 mm) in front of the rear edge


def test_virtual_patient_walking_a_long_mat():
    """Three footfalls a pass on a 2 m mat, the walkway looping: only footfalls of one pass pair up."""
    width = 110.0
    p = VirtualPatient("walk", seed=5, step_width_mm=width,
                       mat=MatGeometry(rows=240, cols=48, pitch_mm=(8.47, 8.47), rate_hz=100))
    rec = simulate_recording(p, 20.0, insoles=False)
    report = analyze_recording(rec)
    gait = report["gait"]
    assert gait["step_count"] >= 12
    assert gait["step_width_mm"] == pytest.approx(width, abs=WIDTH_TOLERANCE_MM)
    assert gait["step_length_mm"] == pytest.approx(650.0, abs=WIDTH_TOLERANCE_MM)  # the walker's step length
    assert gait["cadence_steps_min"] == pytest.approx(110.0, rel=0.02)  # within passes, not across them
    truth_t, truth_heels = rec.truth["truth_t"], rec.truth["truth_heel_mm"]
    for s in report["steps"]:
        k = int(np.searchsorted(truth_t, 0.5 * (s["contact_s"] + s["off_s"])))
        side = 0 if s["foot"] == "left" else 1
        assert math.dist(s["heel_centre_mm"], truth_heels[k, side]) <= HEEL_TOLERANCE_MM
