"""Short runs for demos and tests (``max_running_s``), patient wording of the drills, the sensor_lost alert."""

from __future__ import annotations

import math

import pytest

from drills import registry
from drills.autopilot import patient_for, run_drill
from drills.safety import MESSAGES, alert

MAT = (48, 48)


def every_variant():
    """(name, params) for each drill, with every stance/eyes/posture choice that changes the words."""
    for name in registry.names():
        if name == "quiet_standing":
            for stance in registry.get(name).PARAMS[0].choices:
                for eyes in ("open", "closed", "both"):
                    yield name, {"stance": stance, "eyes": eyes}
        elif name == "weight_symmetry":
            for posture in ("standing", "squat", "sit_to_stand"):
                yield name, {"posture": posture}
        else:
            yield name, {}


@pytest.mark.parametrize("name,params", list(every_variant()))
def test_every_instruction_is_one_or_two_short_sentences(name, params):
    d = registry.create(name, params)
    words = [d.instruction]
    if name == "quiet_standing" and params["eyes"] == "both":
        d.cond_index = 1
        words.append(d._words())
    for text in words:
        sentences = [s for s in text.replace("!", ".").split(".") if s.strip()]
        # At arm's length on a 7-inch screen, ~80 characters is what fits at body size beside the picture.
        assert len(text) <= 80 and 1 <= len(sentences) <= 2, text
        assert not any(unit in text for unit in ("mm", "%", "COP", "cadence")), text


def test_sensor_lost_has_a_plain_message_that_asks_the_patient_to_wait_for_staff():
    a = alert("sensor_lost", 12.5, "quiet_standing")
    assert a.message == MESSAGES["sensor_lost"] and a.reason == "sensor_lost" and a.t == 12.5
    assert a.message.startswith("Please wait") and "staff" in a.message and "rail" in a.message
    # The kiosk's runtime raises exactly this alert (no message of its own that could drift).
    import gaitkiosk.runtime as runtime

    assert not hasattr(runtime, "SENSOR_LOST_MESSAGE")


def test_max_running_s_ends_a_drill_below_its_minimum_duration_as_complete():
    d = registry.create("quiet_standing", {"duration_s": 30}, mat_shape=MAT, max_running_s=4)
    assert d.planned_duration() == 30 and d.running_duration() == 4 and d.view().duration_s == 4
    out = run_drill(d, patient_for(d, seed=1), max_s=20.0)
    r = out.result
    assert r.status == "complete" and r.duration_s == pytest.approx(4.0, abs=0.02)
    assert r.score is not None and r.score > 80 and r.measures["max_running_s"] == 4.0
    assert d.progress() == 1.0


def test_a_short_run_goes_through_every_timed_part():
    d = registry.create("quiet_standing", {"duration_s": 20, "eyes": "both"}, mat_shape=MAT, max_running_s=8)
    r = run_drill(d, patient_for(d, seed=1), max_s=30.0).result
    conds = r.measures["conditions"]
    assert set(conds) == {"eyes_open", "eyes_closed"} and r.measures["romberg"]["ellipse_area_ratio"] > 0
    assert all(c["duration_s"] == pytest.approx(4.0, abs=0.05) for c in conds.values())


def test_the_insole_drill_in_a_short_run_has_a_baseline_then_the_beat_and_a_good_score():
    # Default parts 30 s + 60 s shrink to 4 s + 8 s: a cooperative walker on a beat at their own pace.
    d = registry.create("gait_insoles", {"uplift_pct": 0}, max_running_s=12)
    r = run_drill(d, patient_for(d, seed=2)).result
    m = r.measures
    assert r.status == "complete" and r.duration_s == pytest.approx(12.0, abs=0.02)
    assert m["baseline"]["steps"] >= 4 and m["training"]["steps"] >= 10
    assert m["baseline_cadence_steps_min"] == pytest.approx(110.0, abs=3.0)
    assert r.score is not None and r.score > 80


def test_without_max_running_s_nothing_changes():
    d = registry.create("gait_insoles", {"baseline_s": 10, "training_s": 20})
    assert d.running_duration() == 30 and d.timed(10) == 10
    d = registry.create("tandem_walk", {})
    assert d.running_duration() is None
    assert registry.create("tandem_walk", {}, max_running_s=40).running_duration() == 40


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf])
def test_a_bad_max_running_s_is_refused(bad):
    with pytest.raises(ValueError, match="max_running_s"):
        registry.create("quiet_standing", {}, max_running_s=bad)


def test_a_cooperative_tandem_walker_scores_full_marks_in_the_demos_time():
    # The demo (gaitkiosk/demo_seed.py) prescribes 3 steps and gives the walk 40 s (gaitkiosk/visit.py).
    from device.sim import MatGeometry

    d = registry.create("tandem_walk", {"steps": 3}, mat_shape=(96, 48), mat_pitch_mm=(8.47, 8.47), max_running_s=40)
    out = run_drill(d, patient_for(d, seed=1, mat=MatGeometry(rows=96, cols=48)), max_s=60.0)
    r = out.result
    assert r.status == "complete" and r.duration_s < 40 and r.score == 100.0


def test_a_tandem_walk_cut_short_before_any_judged_step_has_no_score_not_a_low_one():
    from gaitkiosk.resultwords import patient_lines

    d = registry.create("tandem_walk", {}, mat_shape=(96, 48), mat_pitch_mm=(8.47, 8.47), max_running_s=2)
    r = run_drill(d, patient_for(d, seed=1)).result
    assert r.status == "complete" and r.score is None
    assert "The mat could not count enough steps to give points this time." in patient_lines(r.to_dict())
