"""Heel-to-toe walk on the mat and gait retraining with the insoles, driven by the virtual patient."""

from __future__ import annotations

import json

import pytest

from drills import registry
from drills.autopilot import patient_for, run_drill
from drills.gait_insoles import cadence, strike_pattern

MAT = (96, 48)
PITCH = (8.47, 8.47)


def tandem(params, scenario=None, seed=2, messages=None, rows=MAT[0], **extra):
    from device.sim import MatGeometry, VirtualPatient

    d = registry.create("tandem_walk", params, mat_shape=(rows, MAT[1]), mat_pitch_mm=PITCH)
    mat = MatGeometry(rows=rows, cols=MAT[1])
    p = VirtualPatient(scenario, seed=seed, mat=mat, **extra) if scenario else patient_for(d, seed=seed, mat=mat, **extra)
    seen = messages if messages is not None else []
    return d, run_drill(d, p, on_frame=lambda t, dr: seen.append(dr.view().message))


def test_tandem_walk_judges_each_step_heel_against_toes():
    d, out = tandem({"steps": 4})
    r = out.result
    m = r.measures
    assert r.status == "complete" and not out.alerts
    assert m["attempted_steps"] == 4 and m["correct_steps"] == 4
    # The simulated tandem walker puts each heel one foot length ahead: against the toes (the
    # mat sees a footprint a sensel or two shorter than the foot, hence a gap of ~15 mm).
    assert abs(m["mean_gap_mm"]) < 25 and abs(m["mean_width_mm"]) < 30
    assert m["mean_roll_quality_pct"] == 100.0
    assert all(s["heel_first"] and s["push_off"] for s in m["steps"])
    assert len(d.steps) > m["attempted_steps"]  # the first step of each pass has none before it to judge
    # 40 steps/min, one foot length (~266 mm) per step: ~180 mm/s.
    assert 120 < m["speed_mm_s"] < 240
    assert r.score == 100.0
    assert sum(c.name == "step_ok" for c in out.cues) == 4 and d.view().live.correct_steps == 4
    json.dumps(r.to_dict())


def test_ordinary_walking_is_not_heel_to_toe():
    messages = []
    d, out = tandem({"steps": 3, "time_limit_s": 60}, scenario="walk", step_length_mm=400, cadence=60,
                    step_width_mm=120, messages=messages, rows=144)  # 1.2 m: room for ordinary steps
    m = out.result.measures
    assert m["attempted_steps"] >= 1 and m["correct_steps"] == 0
    assert m["mean_gap_mm"] > 100
    assert out.result.score < 40
    assert "Place your heel against your toes." in messages


def test_a_wide_side_step_is_a_safety_stop():
    d, out = tandem({"steps": 6, "catch_step_mm": 150}, scenario="walk", step_length_mm=300, cadence=60,
                    step_width_mm=260, rows=144)
    assert [a.reason for a in out.alerts] == ["side_step"]
    assert out.result.status == "stopped"


def test_tandem_walk_ends_at_its_time_limit():
    d, out = tandem({"steps": 40, "time_limit_s": 30})
    assert out.result.status == "complete" and out.result.duration_s == pytest.approx(30.0, abs=0.02)
    assert out.result.measures["score_parts"]["completion_pct"] < 50


def test_gait_with_insoles_baseline_then_metronome():
    d = registry.create("gait_insoles", {"baseline_s": 10, "training_s": 20, "uplift_pct": 10})
    out = run_drill(d, patient_for(d, seed=2))
    r = out.result
    m = r.measures
    assert r.status == "complete" and r.duration_s == pytest.approx(30.0, abs=0.02)
    assert m["baseline_cadence_steps_min"] == pytest.approx(110.0, abs=2.0)  # the simulated walker's cadence
    assert m["target_cadence_steps_min"] == pytest.approx(1.1 * m["baseline_cadence_steps_min"])
    for part in ("baseline", "training"):
        s = m[part]
        assert 0.55 < s["contact_time_s"] < 0.75  # 60 % stance of a 1.09 s stride
        assert s["strike_pattern"]["heel"] == s["steps"] > 5
        assert s["loading_rate_n_s"] > 500 and abs(s["symmetry_index_pct"]) < 5
    ticks = [c.t for c in out.cues if c.name == "tick"]
    assert len(ticks) == pytest.approx(20 * m["target_cadence_steps_min"] / 60, abs=1.5)
    # The simulator cannot change its cadence: it walks on at 110 and misses the beat.
    assert m["on_beat_pct"] == 0.0 and r.score < 40
    assert d.view().live.target_cadence_steps_min == m["target_cadence_steps_min"]


def test_gait_with_insoles_on_the_beat_scores_high():
    d = registry.create("gait_insoles", {"baseline_s": 10, "training_s": 20, "uplift_pct": 0})
    r = run_drill(d, patient_for(d, seed=2)).result
    assert r.measures["on_beat_pct"] > 90 and r.score > 90


def test_cadence_and_strike_pattern_helpers():
    assert cadence([0.0, 0.5, 1.0, 1.5]) == pytest.approx(120.0)
    assert cadence([1.0]) is None
    assert [strike_pattern(x) for x in (10, 40, 80, None)] == ["heel", "midfoot", "forefoot", None]


def test_footprints_at_the_mat_ends_or_not_a_whole_foot_are_not_judged():
    import numpy as np

    from kernels.steps import Footprint

    d = registry.create("tandem_walk", {}, mat_shape=(96, 48), mat_pitch_mm=PITCH)

    def fp(y0, length):
        ys = np.arange(y0, y0 + length, 8.47)
        pts = np.column_stack([np.full_like(ys, 200.0), ys])
        return Footprint(heel_mm=(200.0, y0), axis=(0.0, 1.0), length_mm=length, points_mm=pts, pitch_mm=8.47)

    assert d._on_mat(fp(100.0, 250.0))
    assert not d._on_mat(fp(4.0, 250.0))  # the heel is in the rearmost row: the foot may go on behind
    assert not d._on_mat(fp(610.0, 210.0))  # reaches the front row (the mat is 813 mm long)
    assert d._whole_foot(250.0) and not d._whole_foot(150.0) and not d._whole_foot(360.0)
    d.context["foot_length_mm"] = 260.0
    assert d._whole_foot(230.0) and not d._whole_foot(200.0)
