"""The seam between drills and the live screen: real drills, driven by the autopilot in simulated time."""

from __future__ import annotations

from drills import registry
from drills.autopilot import patient_for, run_drill
from gaitkiosk.liveview import drill_view, picture_for, result_lines


def test_limits_of_stability_view_shows_the_active_target_and_progress():
    drill = registry.create("limits_of_stability", {}, mat_shape=(48, 48))
    seen = []

    def look(t, d):
        v = drill_view(d)
        if v["phase"] == "running" and any(tg["state"] == "active" for tg in v["targets"]):
            seen.append(v)

    out = run_drill(drill, patient_for(drill, seed=2), max_s=60.0, on_frame=look)
    assert seen, "no frame showed an active target"
    first, late = seen[0], seen[-1]
    assert len(first["targets"]) == 8 and first["progress"] == "Target 1 of 8"
    assert [t["state"] for t in first["targets"]].count("active") == 1
    assert any(t["state"] == "done" for t in late["targets"])
    assert first["view"] == "mat" and first["trail"] is True and first["cue"]
    assert out.result.status == "complete"
    assert drill_view(drill)["phase"] == "done"


def test_quiet_standing_view_has_a_zone_and_a_countdown_and_a_time_limit():
    drill = registry.create("quiet_standing", {"duration_s": 10}, mat_shape=(48, 48))
    views = []
    run_drill(drill, patient_for(drill, seed=1), max_s=30.0, on_frame=lambda t, d: views.append(drill_view(d, time_limit_s=4.0)))
    running = [v for v in views if v["phase"] == "running"]
    assert running[0]["zone"]["radius_mm"] == 20.0
    assert running[0]["duration_s"] == 4.0 and 3.9 < running[0]["remaining_s"] <= 4.0
    counting = [v for v in views if v["phase"] == "countdown"]
    assert counting and counting[0]["cue"].startswith(("Get ready", "Stand"))
    assert picture_for(drill) == "stand"


def test_a_safety_stop_becomes_the_alert_phase_with_the_drills_message():
    drill = registry.create("quiet_standing", {}, mat_shape=(48, 48))
    patient = patient_for(drill, seed=3, fall_at=5.0, fall="edge", fall_dir="forward")
    out = run_drill(drill, patient, max_s=20.0, resume_after_s=100.0,
                    on_frame=lambda t, d: d.phase == "paused_safety" and d.stop(t))
    assert out.alerts
    lines = result_lines(out.result)
    # stopped at a few seconds: under half done, so no points, and it still counts as practice (docs/drills.md)
    assert any("paused once" in line for line in lines)
    assert any("No points" in line and "practice" in line for line in lines)


def test_insole_drill_shows_the_insoles_and_no_trail():
    drill = registry.create("gait_insoles", {})
    v = drill_view(drill)
    assert v["view"] == "insoles" and v["trail"] is False and picture_for(drill) == "walk"


def test_comparison_lines_say_same_when_the_shown_numbers_are_equal():
    from gaitkiosk.liveview import comparison_lines

    cmp = {"measures": [
        {"label": "Reach", "unit": "%", "now": 56.2, "before": 55.9, "improved": True},
        {"label": "Sway area", "unit": "mm²", "now": 676.0, "before": 58.0, "improved": False},
        {"label": "Control", "unit": "%", "now": 89.0, "before": None, "improved": None},
        {"label": "Missing", "unit": "", "now": None, "before": 3.0, "improved": None}]}
    assert comparison_lines(cmp) == ["Reach: 56 % (same as last time: 56 %).",
                                     "Sway area: 676 mm² (not as good as last time: 58 mm²).",
                                     "Control: 89 %."]
