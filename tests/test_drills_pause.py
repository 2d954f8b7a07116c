"""Pause, resume and stop in the middle of every drill, with the virtual patient."""

from __future__ import annotations

import pytest

from drills import registry
from drills.autopilot import patient_for, run_drill

DRILLS = [
    ("quiet_standing", {"duration_s": 10}, (48, 48)),
    ("limits_of_stability", {"hold_s": 0.3}, (48, 48)),
    ("rhythmic_shift", {"cycles": 4}, (48, 48)),
    ("heel_toe_rocking", {"cycles": 4}, (48, 48)),
    ("weight_symmetry", {"duration_s": 10}, (48, 48)),
    ("tandem_walk", {"steps": 4}, (96, 48)),
    ("gait_insoles", {"baseline_s": 10, "training_s": 20}, None),
]


@pytest.mark.parametrize("name, params, mat", DRILLS, ids=[d[0] for d in DRILLS])
def test_pause_then_resume_finishes_with_the_pause_not_counted(name, params, mat):
    d = registry.create(name, params, mat_shape=mat, mat_pitch_mm=(8.47, 8.47) if mat else None)
    log = {}

    def taps(t, drill):
        if "paused" not in log and drill.phase == "running" and drill.elapsed >= 4.0:
            drill.pause(t)
            log["paused"] = (t, drill.elapsed)
        elif "paused" in log and "resumed" not in log:
            assert drill.elapsed == log["paused"][1]  # the clock stands still
            if t >= log["paused"][0] + 2.0:
                drill.resume(t)
                log["resumed"] = t

    out = run_drill(d, patient_for(d, seed=4), on_frame=taps)
    r = out.result
    assert r.status == "complete" and not out.alerts
    assert "resumed" in log and r.score is not None
    planned = d.planned_duration()
    if planned:
        assert r.duration_s == pytest.approx(planned, abs=0.03)
    assert sum(c.name == "go" for c in out.cues) == 2  # counted down again after the pause


@pytest.mark.parametrize("name, params, mat", DRILLS, ids=[d[0] for d in DRILLS])
def test_stop_midway_keeps_what_was_measured(name, params, mat):
    d = registry.create(name, params, mat_shape=mat, mat_pitch_mm=(8.47, 8.47) if mat else None)
    out = run_drill(d, patient_for(d, seed=5),
                    on_frame=lambda t, dr: dr.stop(t) if dr.phase == "running" and dr.elapsed >= 12.0 else None)
    r = out.result
    assert r.status == "stopped" or (r.status == "complete" and r.duration_s <= 12.02)
    assert r.score is None or 0 <= r.score <= 100
