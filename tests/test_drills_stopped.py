"""A drill stopped early (docs/drills.md): no points for what was not done, none under half done.

Every drill runs on the virtual patient's autopilot; copies of it are stopped
at about a third and at about two thirds of the way, as the Stop button does.
"""

from __future__ import annotations

import copy

import pytest

from drills import registry, scoring
from drills.autopilot import patient_for, run_drill
from drills.base import MIN_SCORED_SHARE

PARAMS = {"quiet_standing": {"duration_s": 10}, "tandem_walk": {"steps": 6}, "gait_insoles": {"uplift_pct": 0,
          "baseline_s": 10, "training_s": 20}, "limits_of_stability": {"time_limit_s": 3, "centre_hold_s": 0.5},
          "rhythmic_shift": {"cycles": 4}, "heel_toe_rocking": {"cycles": 5}, "weight_symmetry": {"duration_s": 10}}


def stopped_copies(name):
    mat = (96, 48) if name == "tandem_walk" else (48, 48)
    d = registry.create(name, PARAMS[name], mat_shape=mat, mat_pitch_mm=(8.47, 8.47), countdown_s=1.0)
    taken = {}

    def on_frame(t, drill):
        for label, share in (("early", 0.2), ("late", 0.6)):
            if label not in taken and drill.phase == "running" and drill.progress() >= share:
                twin = copy.deepcopy(drill)
                quality = twin.measures()[0]
                twin.stop(t)
                taken[label] = (twin, quality, twin.result())

    out = run_drill(d, patient_for(d, seed=2), max_s=120.0, on_frame=on_frame)
    assert out.result.status == "complete"
    return taken


@pytest.mark.parametrize("name", registry.names())
def test_a_stopped_drill_scores_only_what_was_done(name):
    taken = stopped_copies(name)
    twin, quality, r = taken["early"]
    assert r.status == "stopped" and MIN_SCORED_SHARE * 100 > r.done_pct >= 20.0 - 1e-6
    assert r.score is None and r.measures  # no points under half done; the measures stay for the therapist
    twin, quality, r = taken["late"]
    share = r.done_pct / 100.0
    assert r.status == "stopped" and share >= 0.6 - 1e-6
    if quality is None:  # too little measured to score at all (e.g. no metronome part yet)
        assert r.score is None
        return
    if name == "tandem_walk":  # its formula already multiplies by judged / asked steps
        want = quality
    elif name == "limits_of_stability":  # "reached" already counts untried targets as missed
        parts = r.measures["score_parts"]
        want = scoring.weighted({"excursion": (parts["excursion"] * share, 0.4),
                                 "control": (parts["control"] * share, 0.3), "reached": (parts["reached"], 0.3)})
    else:
        want = quality * share
    assert r.score == pytest.approx(want, abs=0.06)
    assert r.score <= quality + 0.05  # (stored to 0.1) never more than the same work done in a complete run
