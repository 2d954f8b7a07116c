"""Quiet standing driven end to end by the closed-loop virtual patient, and safety stops
for every kind of simulated loss of balance (within 200 ms of simulated time)."""

from __future__ import annotations

import pytest
from drill_support import edge_time

from drills import registry
from drills.autopilot import patient_for, run_drill

MAT = (48, 48)


def test_quiet_standing_completes_with_a_plausible_score_and_sway():
    d = registry.create("quiet_standing", {"duration_s": 10}, mat_shape=MAT)
    out = run_drill(d, patient_for(d, seed=2))
    r = out.result
    assert r.status == "complete" and not out.alerts
    assert 80 <= r.score <= 100
    sway = r.measures["conditions"]["eyes_open"]["sway"]
    # Healthy young adults, eyes open (Santos & Duarte 2016; docs/virtual-patient.md): ~10 mm/s.
    assert 5 < sway["mean_velocity_mm_s"] < 20
    assert 50 < sway["ellipse95_area_mm2"] < 400
    assert r.stance["weight_n"] == pytest.approx(686.5, rel=0.05)  # 70 kg


def test_eyes_both_runs_two_conditions_and_reports_the_romberg_ratios():
    d = registry.create("quiet_standing", {"duration_s": 10, "eyes": "both"}, mat_shape=MAT)
    out = run_drill(d, patient_for(d, seed=3))
    m = out.result.measures
    assert set(m["conditions"]) == {"eyes_open", "eyes_closed"}
    assert out.result.duration_s == pytest.approx(20.0, abs=0.05)
    assert m["romberg"]["mean_velocity_ratio"] > 1.1  # the simulated person sways more with eyes closed
    assert any(c.say and "close your eyes" in c.say for c in out.cues)


def test_single_leg_stance_counts_down_once_the_foot_is_up():
    d = registry.create("quiet_standing", {"duration_s": 10, "stance": "single_left"}, mat_shape=MAT)
    out = run_drill(d, patient_for(d, seed=4))
    assert out.result.status == "complete" and not out.alerts
    single = out.result.measures["conditions"]["eyes_open"]["sway"]["ellipse95_area_mm2"]
    assert single > 200  # one narrow foot: more sway than two feet apart
    assert len(out.result.stance["feet"]) == 1


def test_single_leg_foot_down_is_a_safety_stop():
    d = registry.create("quiet_standing", {"duration_s": 20, "stance": "single_right"}, mat_shape=MAT)
    p = patient_for(d, seed=4)
    p = type(p)("single_leg", seed=4, side="right", lift_at=0.5, hold_s=6.0)  # puts the foot down at 6.5 s
    out = run_drill(d, p)
    assert [a.reason for a in out.alerts] == ["foot_down"]
    # The truth: the moment the free foot carries 5 % of body weight (the sim lowers it over 0.6 s).
    down = next(k / 100 for k in range(600, 800) if p.sample(k / 100, mat=False, insoles=False)
                .feet["left"].force_n > 0.05 * p.body.weight_n)
    assert 0 <= out.alerts[0].t - down <= 0.2


FALLS = [
    ("edge", {"fall_dir": "forward"}, "cop_outside"),
    ("edge", {"fall_dir": "backward"}, "cop_outside"),
    ("edge", {"fall_dir": "left"}, "foot_unloaded"),
    ("edge", {"fall_dir": "right"}, "foot_unloaded"),
    ("unload", {"fall_side": "left"}, "foot_unloaded"),
    ("unload", {"fall_side": "right"}, "foot_unloaded"),
    ("step_off", {}, "foot_unloaded"),
]


@pytest.mark.parametrize("kind, extra, reason", FALLS, ids=[f"{k}-{'-'.join(e.values())}" for k, e, _ in FALLS])
def test_loss_of_balance_stops_the_drill_within_200_ms(kind, extra, reason):
    fall_at = 5.0
    d = registry.create("quiet_standing", {"duration_s": 20}, mat_shape=MAT)
    p = patient_for(d, seed=5, fall_at=fall_at, fall=kind, **extra)
    out = run_drill(d, p)
    assert [a.reason for a in out.alerts] == [reason]
    assert out.result.status == "stopped"
    t_alert = out.alerts[0].t
    if kind == "edge":
        # The truth: the COP reaches the edge of the simulated person's base of support.
        truth = edge_time(p, fall_at, fall_at + 1.0)
    else:
        truth = min(e.t for e in p.events_until(fall_at + 2.0) if e.kind == "off")
    assert truth is not None
    assert fall_at < t_alert <= truth + 0.2, (t_alert, truth)


def test_no_false_alarm_over_a_minute_of_quiet_standing_feet_together():
    d = registry.create("quiet_standing", {"duration_s": 60, "stance": "together", "eyes": "closed"}, mat_shape=MAT)
    out = run_drill(d, patient_for(d, seed=6))
    assert not out.alerts and out.result.status == "complete"


def test_after_a_safety_stop_the_patient_continues_and_finishes():
    d = registry.create("quiet_standing", {"duration_s": 10}, mat_shape=MAT)
    p = patient_for(d, seed=7, fall_at=6.0, fall="unload", fall_hold_s=1.0)
    out = run_drill(d, p, resume_after_s=3.0)
    assert [a.reason for a in out.alerts] == ["foot_unloaded"]
    assert out.result.status == "complete" and out.result.duration_s == pytest.approx(10.0, abs=0.05)


def test_the_countdown_waits_while_a_foot_is_over_the_edge_of_the_mat():
    d = registry.create("quiet_standing", {"duration_s": 10}, mat_shape=MAT)
    p = patient_for(d, seed=2, position_x_mm=95.0)  # the left foot hangs over the left edge
    messages = set()
    out = run_drill(d, p, max_s=8.0, on_frame=lambda t, dr: messages.add(dr.view().message))
    assert out.result.status == "stopped" and out.result.score is None and d.elapsed == 0.0
    assert "Move to the middle of the mat." in messages
