"""A foot rolling onto a long mat stays one foot (no ghost foot beside its heel).

On a 192 x 48 mat (a walkway of four tiles), with 650 mm steps, a right heel lands 61 mm from
the rear edge. 50 ms after contact its stance footprint was already 195 mm long (the
full_footprint_mm of a "whole" foot) but only as wide as the heel; the lateral band of the
midfoot, apart from the heel at the threshold, then lay "beside" it and was taken for the
other foot: a ghost left step 50 ms after the right contact, and the real left contact
found 100 ms late. A footprint that grew in the last frame is still landing: nothing beside it
counts as another foot (kernels/reference.py, _beside).
"""

from __future__ import annotations

import numpy as np
import pytest

from kernels import FrameAnalyzer, _backend

IMPLEMENTATIONS = ["reference"] + ([] if _backend.compiled("_frame") is None else ["compiled"])
PITCH = 8.47
# The sample instants that showed the ghost (the walkway test's tile clocks), from a finished
# right stance (9.37-10.03 s: its length is known) to after the next left contact (13.19 s).
T = 9.0214877 + np.arange(550) * 0.01


@pytest.fixture(scope="module")
def walk():
    from device.sim.patient import MatGeometry, VirtualPatient

    p = VirtualPatient("walk", seed=3, step_width_mm=110,
                       mat=MatGeometry(rows=192, cols=48, pitch_mm=(PITCH, PITCH), rate_hz=100))
    counts = [p.mat_counts(p.sample(t, insoles=False)) for t in T]
    kpa = [np.ascontiguousarray(np.nan_to_num(p.mat_sensor.true_kpa(c)), dtype=np.float32) for c in counts]
    return p, kpa


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_heel_landing_near_the_rear_edge_grows_into_one_foot(walk, implementation):
    p, kpa = walk
    analyzer = FrameAnalyzer(192, 48, (PITCH, PITCH), 10.0, implementation=implementation)
    first_seen = {}  # track -> (t, side)
    for t, frame in zip(T, kpa, strict=True):
        for foot in analyzer.analyze(frame).feet:
            first_seen.setdefault(foot.track_id, (float(t), foot.side))
    contacts = [(round(e.t, 3), e.side) for e in p.events_until(T[-1]) if e.kind == "contact" and e.t > T[0]]
    on_mat = [(t, side) for t, side in contacts if p.sample(t + 0.2, insoles=False).feet[side].on_mat]
    found = sorted(seen for seen in first_seen.values() if seen[0] > T[0])  # not one already down
    assert len(found) == len(on_mat), (found, on_mat)  # no ghost: one track per footfall
    for (t_found, side_found), (t_true, side_true) in zip(found, on_mat, strict=True):
        assert side_found == side_true and abs(t_found - t_true) < 0.03, (found, on_mat)
