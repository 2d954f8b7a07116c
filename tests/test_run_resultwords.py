"""What the patient reads after a drill: plain words, stars, one comparison with last time; numbers stay stored."""

from __future__ import annotations

import re

import pytest
import ui_support
from ui_support import make_app

from drills import registry
from drills.autopilot import patient_for, run_drill
from gaitkiosk.resultwords import MEASURE, comparison, patient_lines, stars
from ui import screens
from ui.screens.result import stars_for

dummy_video = ui_support.dummy_video

JARGON = re.compile(r"mm|%|sway|cadence|excursion|symmetry|ratio|COP|SPARC|index|N/s", re.IGNORECASE)


def result(drill, score, **measures):
    return {"drill": drill, "status": "complete", "score": score, "measures": measures}


@pytest.mark.parametrize("score,n", [(None, 0), (0, 0), (9.9, 0), (10, 1), (49, 2), (70, 4), (89, 4), (90, 5), (100, 5)])
def test_stars_are_one_per_twenty_points_rounded(score, n):
    assert stars(score) == n and stars_for(score) == n


def test_quiet_standing_steadier_means_a_smaller_sway_area():
    now = result("quiet_standing", 90, headline={"ellipse95_area_mm2": 60.0})
    assert comparison(now, result("quiet_standing", 95, headline={"ellipse95_area_mm2": 120.0})) == \
        {"text": "Steadier than last time.", "direction": 1}
    assert comparison(now, result("quiet_standing", 80, headline={"ellipse95_area_mm2": 30.0}))["direction"] == -1
    assert comparison(now, result("quiet_standing", 90, headline={"ellipse95_area_mm2": 61.0}))["direction"] == 0
    assert comparison(now, None) is None


def test_without_the_measure_the_score_decides_and_a_stopped_run_is_not_compared():
    now = result("tandem_walk", 80)
    assert comparison(now, result("tandem_walk", 60)) == {"text": "Better than last time.", "direction": 1}
    assert comparison(now, result("tandem_walk", 79))["direction"] == 0
    assert comparison(now, {**result("tandem_walk", 20), "status": "stopped"}) is None


@pytest.mark.parametrize("name", sorted(MEASURE))
def test_a_real_result_of_every_drill_reads_in_plain_words(name):
    params = {"quiet_standing": {"duration_s": 10}, "tandem_walk": {"steps": 3}, "gait_insoles": {"uplift_pct": 0},
              "limits_of_stability": {"time_limit_s": 3, "centre_hold_s": 0.5}, "rhythmic_shift": {"cycles": 3},
              "heel_toe_rocking": {"cycles": 3}, "weight_symmetry": {"duration_s": 10}}[name]
    mat = (96, 48) if name == "tandem_walk" else (48, 48)
    d = registry.create(name, params, mat_shape=mat, mat_pitch_mm=(8.47, 8.47), max_running_s=40)
    r = run_drill(d, patient_for(d, seed=1), max_s=60.0).result.to_dict()
    lines = patient_lines(r)
    assert lines and all(len(line) <= 70 and not JARGON.search(line) for line in lines), lines
    again = comparison(r, r)
    assert again["direction"] == 0 and not JARGON.search(again["text"])


def test_alerts_and_an_early_stop_are_said_plainly():
    stopped = {**result("weight_symmetry", 40, time_in_band_pct=95.0), "status": "stopped", "duration_s": 20.0,
               "done_pct": 66.7}
    assert patient_lines(stopped, alerts=2) == [
        "Your weight was where it should be almost all the time.",
        "The exercise paused 2 times to keep you safe.",
        "The points are for the part you did. It still counts as practice."]
    early = {**stopped, "score": None, "duration_s": 7.0, "done_pct": 23.3}
    assert patient_lines(early, alerts=1) == [
        "No points: less than half of it was done. That is fine: it still counts as practice.",
        "Your weight was where it should be almost all the time.",
        "The exercise paused once to keep you safe."]
    assert patient_lines({**stopped, "score": None, "duration_s": 0.0, "done_pct": 0.0, "measures": {}}) == \
        ["You stopped before the exercise began."]


def test_the_result_screen_draws_stars_and_the_comparison_in_words(dummy_video):
    app = make_app()
    r = {"index": 0, "count": 7, "title": "Stand still", "status": "complete", "score": 86.0, "stars": 4,
         "previous_score": 80.0, "compare": {"text": "Steadier than last time.", "direction": 1},
         "lines": ["You stood still for 30 seconds."], "last": False}
    s = app.push(screens.ResultScreen(app, r))
    app.step(0.03, [])
    accent = app.theme.colors.accent
    # Four solid stars beside the number, then one: count the accent-coloured pixels right of the score.
    before = sum(app.surface.get_at((x, y))[:3] == accent for x in range(140, 420) for y in range(140, 200))
    app.replace(screens.ResultScreen(app, {**r, "stars": 1}))
    app.step(0.03, [])
    after = sum(app.surface.get_at((x, y))[:3] == accent for x in range(140, 420) for y in range(140, 200))
    assert before > 3 * after > 0
    assert s.buttons.get("next").label == "Next exercise"


def test_the_stored_comparison_is_json_even_when_measures_hold_numpy_numbers():
    import json

    import numpy as np

    from drills.scoring import compare

    now = result("quiet_standing", 90.0, headline={"ellipse95_area_mm2": np.float64(60.0), "mean_velocity_mm_s": np.float64(9.0)})
    before = result("quiet_standing", 80.0, headline={"ellipse95_area_mm2": np.float64(90.0), "mean_velocity_mm_s": np.float64(8.0)})
    out = compare(now, before)
    assert [m["improved"] for m in out["measures"]] == [True, False]
    json.dumps(out, allow_nan=False)  # the visit stores it in the trial's results
    assert comparison(now, before) == {"text": "Steadier than last time.", "direction": 1}


def test_an_unscored_tandem_walk_says_why_first():
    r = {**result("tandem_walk", None, attempted_steps=2, correct_steps=1), "score": None}
    assert patient_lines(r) == ["The mat could not count enough steps to give points this time.",
                                "1 of 2 steps had the heel right against the toes."]


def test_only_like_is_compared_with_like():
    """docs/drills.md: a stopped run is never compared; a run at another level is a new starting point."""
    from drills.scoring import compare
    from gaitkiosk.resultwords import screen_result

    before = {**result("quiet_standing", 100.0, headline={"ellipse95_area_mm2": 60.0}), "params": {"stance": "apart"}}
    # the case: stopped after 7 of 30 s, last time a full run with a smaller sway area
    stopped = {**result("quiet_standing", None, headline={"ellipse95_area_mm2": 90.0}), "status": "stopped",
               "params": {"stance": "apart"}, "duration_s": 7.0, "done_pct": 23.3}
    shown = screen_result(stopped, before, index=0, count=7, title="Stand still", last=False)
    assert shown["compare"] is None and shown["previous_score"] is None and shown["score"] is None
    assert shown["stars"] == 0 and not shown["new_start"]
    assert "practice" in shown["lines"][0] and "No points" in shown["lines"][0]
    numbers = compare(stopped, before)
    assert numbers["previous_score"] == 100.0 and numbers["score_change"] is None  # kept for the therapist, unjudged
    assert not numbers["like_for_like"] and "stopped" in numbers["not_comparable"]
    assert [m["improved"] for m in numbers["measures"]] == [None, None]

    harder = {**result("quiet_standing", 80.0, headline={"ellipse95_area_mm2": 90.0}), "params": {"stance": "together"}}
    shown = screen_result(harder, before, index=0, count=7, title="Stand still", last=False)
    assert shown["compare"] is None and shown["previous_score"] is None and shown["new_start"]
    alike = {**harder, "params": {"stance": "apart"}}
    shown = screen_result(alike, before, index=0, count=7, title="Stand still", last=False)
    assert shown["compare"] == {"text": "A little less steady than last time.", "direction": -1}
    assert shown["previous_score"] == 100.0 and not shown["first"] and not shown["new_start"]
    demo = {**alike, "measures": {**alike["measures"], "max_running_s": 8.0}}
    assert screen_result(demo, before, index=0, count=7, title="Stand still", last=False)["compare"] is None
    assert screen_result(alike, None, index=0, count=7, title="Stand still", last=False)["first"]
    # last time's measures were defined differently (before a kiosk update): a new starting point, not compared
    older = {**alike, "measures_version": 1}
    shown = screen_result({**alike, "measures_version": 2}, older, index=0, count=7, title="Stand still", last=False)
    assert shown["compare"] is None and shown["previous_score"] is None
    assert shown["new_start"] and shown["new_start_why"] == "update" and not shown["first"]
    assert "older definition" in compare({**alike, "measures_version": 2}, older)["not_comparable"]
    # last time was measured through another calibration: the visit passes no previous; not a first time
    shown = screen_result(alike, None, index=0, count=7, title="Stand still", last=False, recalibrated=True)
    assert not shown["first"] and shown["new_start"] and shown["new_start_why"] == "calibration"
    assert shown["compare"] is None and shown["previous_score"] is None


def test_the_goodbye_counts_the_exercises_the_result_screen_called_practice():
    from gaitkiosk.resultwords import practised
    from ui.screens.goodbye import summary_lines

    ran = {"status": "stopped", "duration_s": 7.0}
    never = {"status": "stopped", "duration_s": 0.0}
    items = [("stopped", ran), ("stopped", ran), ("stopped", never), ("skipped", None), ("todo", None),
             ("done", {"status": "complete", "duration_s": 30.0}), ("todo", None)]
    assert practised(items) == 3
    assert summary_lines({"practised": 2, "finished": 0, "total": 7})[0] == "You practised 2 of 7 exercises today."
    assert summary_lines({"practised": 1, "finished": 1, "total": 1})[0] == "You practised 1 of 1 exercise today."
    assert summary_lines({"practised": 0, "finished": 0, "total": 7})[0].startswith("You did not do any exercises")
