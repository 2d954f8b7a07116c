"""Limits of stability, rhythmic weight shift, heel-toe rocking and weight-bearing symmetry,
each driven end to end by the closed-loop virtual patient; safety stops during each."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from drills import registry, scoring
from drills.autopilot import patient_for, run_drill

MAT = (48, 48)


def run(name, params, seed=2, **patient):
    d = registry.create(name, params, mat_shape=MAT)
    return d, run_drill(d, patient_for(d, seed=seed, **patient))


def test_limits_of_stability_visits_eight_targets_with_neurocom_measures():
    d, out = run("limits_of_stability", {"hold_s": 0.5})
    r = out.result
    assert r.status == "complete" and not out.alerts
    dirs = r.measures["directions"]
    assert [x["direction"] for x in dirs] == ["forward", "forward_right", "right", "back_right", "back", "back_left",
                                              "left", "forward_left"]
    assert all(x["reached"] for x in dirs)
    s = r.measures["summary"]
    # The virtual patient reacts after 0.25 s and moves on a minimum-jerk path straight to the target.
    assert 0.25 <= s["reaction_time_s"] < 0.6
    assert s["directional_control_pct"] > 75
    assert 70 < s["endpoint_excursion_pct"] <= 100 and s["max_excursion_pct"] >= s["endpoint_excursion_pct"]
    assert s["movement_velocity_mm_s"] > 30
    assert 80 <= r.score <= 100
    assert r.measures["limits_mm"] == {}  # targets at 75 %: not a measurement of the limits
    json.dumps(r.to_dict())


def test_limits_of_stability_at_100_percent_measures_the_limits():
    d, out = run("limits_of_stability", {"hold_s": 0.3, "reach_pct": 100})
    limits = out.result.measures["limits_mm"]
    assert out.result.status == "complete" and not out.alerts
    assert set(limits) == {name for name, _ in __import__("drills.limits_of_stability").limits_of_stability.DIRECTIONS}
    for name, mm in limits.items():
        assert 0.85 * d.limits[name] < mm < 1.3 * d.limits[name]


def test_limits_of_stability_uses_measured_limits_but_never_beyond_the_safe_default():
    d = registry.create("limits_of_stability", {"reach_pct": 100}, mat_shape=MAT,
                        context={"limits_mm": {"forward": 40.0, "back": 500.0}})
    out = run_drill(d, patient_for(d, seed=2), on_frame=lambda t, dr: dr.stop(t) if dr.live.targets else None)
    targets = {tg.label: tg for tg in d.live.targets}
    c = d.stance.centre_mm
    assert targets["forward"].y_mm - c[1] == pytest.approx(40.0)
    assert c[1] - targets["back"].y_mm == pytest.approx(d.stance.limit((0.0, -1.0)))
    assert out.result.status == "stopped"


def _gaps(targets):
    """Clear distance (mm) between every pair of targets' areas."""
    return {(a.label, b.label): math.dist((a.x_mm, a.y_mm), (b.x_mm, b.y_mm)) - a.radius_mm - b.radius_mm
            for i, a in enumerate(targets) for b in targets[i + 1:]}


def test_limits_of_stability_targets_keep_a_gap_and_stay_off_the_feet():
    """Issue 10: the three backward targets touched each other (and their neighbours). On the virtual
    patient's own stance every pair keeps TARGET_GAP_MM, and no target covers a loaded sensel of
    the feet as the patient stood when the targets were placed."""
    from drills.limits_of_stability import TARGET_GAP_MM

    d = registry.create("limits_of_stability", {}, mat_shape=MAT)
    p = patient_for(d, seed=2)
    seen = {}

    def stop_when_placed(t, drill):
        if drill.live.targets and not seen:
            seen["kpa"] = p.sample(t, mat=True, insoles=False).mat_kpa
            drill.stop(t)

    run_drill(d, p, on_frame=stop_when_placed)
    targets = d.live.targets
    assert len(targets) == 8
    gaps = _gaps(targets)
    assert min(gaps.values()) >= TARGET_GAP_MM - 1e-6, {k: round(v, 1) for k, v in gaps.items() if v < TARGET_GAP_MM}
    # Every target still big enough to see and to hold (the autopilot test above reaches them all).
    assert min(t.radius_mm for t in targets) >= 8.0
    kpa = seen["kpa"]
    pr, pc = p.mat.pitch_mm
    rows, cols = np.nonzero(kpa >= 10.0)
    assert len(rows) > 50  # both feet are on the mat
    for t in targets:
        # distance from the target's centre to the nearest point of each loaded sensel's square
        dx = np.maximum(np.abs((cols + 0.5) * pc - t.x_mm) - pc / 2, 0.0)
        dy = np.maximum(np.abs((rows + 0.5) * pr - t.y_mm) - pr / 2, 0.0)
        assert np.hypot(dx, dy).min() > t.radius_mm, t.label


@pytest.mark.parametrize("gap_mm", [100.0, 170.0, 260.0])
def test_limits_of_stability_targets_keep_their_gap_in_narrow_and_wide_stances(gap_mm):
    from drills import geometry
    from drills.limits_of_stability import TARGET_GAP_MM, place_targets

    base = geometry.typical_stance((200.0, 180.0))
    feet = tuple(dataclasses.replace(f, heel_mm=(200.0 + (gap_mm / 2) * (1 if f.side == "right" else -1), f.heel_mm[1]))
                 for f in base.feet)
    corners = [c for f in feet for c in f.zone_corners()]
    stance = dataclasses.replace(base, feet=feet, zone=tuple(geometry.convex_hull(corners)))
    for reach in (40.0, 75.0, 100.0):
        targets, _ = place_targets(stance, reach, 40.0)
        assert min(_gaps(targets).values()) >= TARGET_GAP_MM - 1e-6, (gap_mm, reach)
        for t in targets:  # never covering the middle, where the patient starts
            assert math.hypot(t.x_mm - 200.0, t.y_mm - 180.0) >= 2 * t.radius_mm - 1e-6


def test_a_patient_who_does_not_move_scores_low_on_limits_of_stability():
    d = registry.create("limits_of_stability", {"time_limit_s": 3, "centre_hold_s": 0.5}, mat_shape=MAT)
    p = patient_for(d, seed=2)
    p.set_target = lambda *a, **k: None  # hears the cue, does not lean
    r = run_drill(d, p).result
    assert r.status == "complete" and r.measures["summary"]["targets_reached"] == 0
    assert r.score < 20


@pytest.mark.parametrize("axis", ["ml", "ap"])
def test_rhythmic_shift_follows_the_metronome(axis):
    d, out = run("rhythmic_shift", {"cycles": 4, "period_s": 3, "axis": axis})
    r = out.result
    assert r.status == "complete" and not out.alerts
    assert r.duration_s == pytest.approx(12.0, abs=0.02)
    assert sum(c.name == "tick" for c in out.cues) == r.measures["beats"] == 9
    assert 80 < r.measures["on_axis_velocity_pct"] < 130
    assert r.measures["directional_control_pct"] > 70
    assert r.score > 75


def test_rhythmic_shift_at_one_second_is_too_fast_for_the_simulated_person():
    _, slow = run("rhythmic_shift", {"cycles": 4, "period_s": 3})
    _, fast = run("rhythmic_shift", {"cycles": 8, "period_s": 1})
    assert fast.result.measures["on_axis_velocity_pct"] < 70
    assert fast.result.score < slow.result.score


def test_heel_toe_rocking_reaches_both_targets_smoothly_within_the_band():
    d, out = run("heel_toe_rocking", {"cycles": 4})
    r = out.result
    assert r.status == "complete" and not out.alerts
    m = r.measures
    assert m["cycles_complete"] == 4 and m["time_in_band_pct"] > 95
    assert 90 < m["excursion_pct"] < 130
    assert -3.5 < m["smoothness_sparc"] < -1.4
    assert r.score > 70


def test_sparc_prefers_a_smooth_reach_to_a_jerky_one():
    import numpy as np

    from drills.heel_toe_rocking import sparc

    t = np.linspace(0, 1, 101)
    smooth = 30 * t ** 2 * (1 - t) ** 2  # minimum-jerk speed profile
    jerky = smooth * (1 + 0.6 * np.sin(2 * np.pi * 6 * t))
    # One minimum-jerk movement: the smoothest reach, the top of the drill's smoothness scale.
    assert sparc(smooth, 100.0) == pytest.approx(-1.41, abs=0.01)
    assert sparc(smooth * 7.0, 100.0) == pytest.approx(sparc(smooth, 100.0))  # independent of amplitude
    assert sparc(jerky, 100.0) < sparc(smooth, 100.0) - 0.5


@pytest.mark.parametrize("target", [50.0, 40.0, 62.0])
def test_weight_symmetry_holds_the_prescribed_share(target):
    d, out = run("weight_symmetry", {"duration_s": 10, "target_left_pct": target})
    m = out.result.measures
    assert out.result.status == "complete" and not out.alerts
    assert m["mean_left_pct"] == pytest.approx(target, abs=2.0)
    assert m["time_in_band_pct"] > 85 and out.result.score == pytest.approx(m["time_in_band_pct"], abs=0.1)
    assert d.view().live.target_left_pct == target and d.view().live.tolerance_pct == 3.5


def test_an_uneven_patient_ignoring_the_bar_scores_low():
    d = registry.create("weight_symmetry", {"duration_s": 10}, mat_shape=MAT)
    p = patient_for(d, seed=2, weight_left_pct=62)
    p.set_weight_share = lambda *a, **k: None
    r = run_drill(d, p).result
    assert r.measures["mean_left_pct"] == pytest.approx(62, abs=2.5)
    assert r.score < 10


def test_sit_to_stand_counts_stands_and_scores_only_loaded_time():
    d, out = run("weight_symmetry", {"duration_s": 30, "posture": "sit_to_stand"})
    m = out.result.measures
    assert out.result.status == "complete" and not out.alerts
    assert m["stands"] == 3  # a 10 s sit-stand-sit cycle
    assert 10 < m["loaded_s"] < 25
    assert out.result.stance["weight_n"] > 600  # followed up to standing body weight


@pytest.mark.parametrize("name, params", [
    ("limits_of_stability", {"hold_s": 0.5}),
    ("rhythmic_shift", {"cycles": 10}),
    ("heel_toe_rocking", {"cycles": 10}),
    ("weight_symmetry", {"duration_s": 30}),
])
@pytest.mark.parametrize("fall", [("unload", {}), ("edge", {"fall_dir": "forward"})], ids=["unload", "edge"])
def test_loss_of_balance_stops_every_standing_drill(name, params, fall):
    kind, extra = fall
    d, out = run(name, params, seed=3, fall_at=9.0, fall=kind, **extra)
    assert len(out.alerts) == 1 and out.result.status == "stopped"
    assert out.alerts[0].reason in ("foot_unloaded", "cop_outside")
    assert 9.0 < out.alerts[0].t < 9.0 + 0.5 + 0.2  # the edge is reached 0.5 s after the fall starts


def test_compare_with_last_time_says_what_improved():
    _, a = run("weight_symmetry", {"duration_s": 10}, seed=2)
    d = registry.create("weight_symmetry", {"duration_s": 10}, mat_shape=MAT)
    p = patient_for(d, seed=2, weight_left_pct=58)
    p.set_weight_share = lambda *a, **k: None
    b = run_drill(d, p)
    cmp = scoring.compare(a.result.to_dict(), b.result.to_dict())
    assert cmp["score_change"] > 50
    assert [m["improved"] for m in cmp["measures"]] == [True, True]
    first = scoring.compare(a.result.to_dict(), None)
    assert first["previous_score"] is None and first["measures"][0]["improved"] is None
