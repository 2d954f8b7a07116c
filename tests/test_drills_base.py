"""The drill protocol: lifecycle, countdown, pauses, cues, parameters, registry, safety monitor."""

from __future__ import annotations

import json

import pytest
from drill_support import drive, empty, standing
from hypothesis import given, settings
from hypothesis import strategies as st

from drills import registry
from drills.base import PHASES
from drills.errors import DrillParamError, DrillStateError, UnknownDrillError
from drills.geometry import convex_hull, inside, reach, stance_from
from drills.safety import SafetyMonitor


def quiet(**params):
    return registry.create("quiet_standing", {"duration_s": 10, **params})


# --- parameters and registry -------------------------------------------------------------------

def test_registry_lists_the_seven_drills_in_program_order():
    assert registry.names() == ["quiet_standing", "limits_of_stability", "rhythmic_shift", "tandem_walk",
                                "heel_toe_rocking", "weight_symmetry", "gait_insoles"]


def test_unknown_drill_names_the_valid_ones():
    with pytest.raises(UnknownDrillError, match="unknown drill 'quiet'.*quiet_standing"):
        registry.get("quiet")


def test_unknown_parameter_lists_the_drills_parameters():
    with pytest.raises(DrillParamError, match="no parameter 'seconds'.*duration_s"):
        registry.validate("quiet_standing", {"seconds": 30})


@pytest.mark.parametrize("value", ["5", 121, "abc", "nan", True])
def test_out_of_range_or_wrong_type_says_what_is_allowed(value):
    with pytest.raises(DrillParamError, match=r"duration_s=.*10 to 120 s"):
        registry.validate("quiet_standing", {"duration_s": value})


def test_choices_are_checked():
    with pytest.raises(DrillParamError, match="one of apart, together"):
        registry.validate("quiet_standing", {"stance": "wide"})


def test_defaults_are_filled_and_text_is_converted():
    p = registry.validate("quiet_standing", {"duration_s": "45", "eyes": "both"})
    assert p == {"stance": "apart", "eyes": "both", "duration_s": 45.0, "zone_radius_mm": 20.0, "progress": True}


def test_every_drill_describes_itself_as_json_and_its_defaults_validate():
    described = registry.describe()
    json.dumps(described)
    for name in registry.names():
        cls = registry.get(name)
        assert cls.title and cls.summary and cls.INSTRUCTION or cls.name == "quiet_standing"
        defaults = registry.validate(name, {})
        assert set(defaults) == {p.name for p in cls.PARAMS}
        if cls.PROGRESSION:
            pname, steps = cls.PROGRESSION
            spec = {p.name: p for p in cls.PARAMS}[pname]
            for value in steps:  # every progression step is itself a valid prescription
                registry.validate(name, {pname: value})
            assert spec.default in steps or spec.kind in (int, float)


@given(st.floats(10, 120), st.sampled_from(["apart", "tandem", "single_left"]))
def test_validation_round_trips_through_text(duration, stance):
    p = registry.validate("quiet_standing", {"duration_s": duration, "stance": stance})
    again = registry.validate("quiet_standing", {k: str(v) for k, v in p.items()})
    assert again == p


# --- lifecycle --------------------------------------------------------------------------------

def test_phases_from_instruction_to_done_with_countdown_cues():
    d = quiet()
    assert d.phase == "instruction" and d.phase in PHASES
    drive(d, [standing()] * 10)
    assert d.phase == "instruction", "nothing starts before the patient taps Start"
    d.begin()
    t = drive(d, [standing()] * 301, t0=1.0)
    assert d.phase == "running"
    cues = d.take_cues()
    assert [c.name for c in cues] == ["countdown"] * 3 + ["go"]
    assert [c.say for c in cues[:3]] == ["3", "2", "1"]
    drive(d, [standing()] * 1001, t0=t + 0.01)
    assert d.phase == "done"
    r = d.result()
    assert r.status == "complete" and r.score == 100.0
    assert r.duration_s == pytest.approx(10.0, abs=0.02)
    assert d.take_cues()[-1].name == "done"


def test_countdown_waits_for_the_patient_to_stand_on_the_mat():
    d = quiet()
    d.begin(0.0)
    drive(d, [empty()] * 500)
    v = d.view()
    assert v.phase == "countdown" and v.countdown_s == 3.0
    assert "Stand" in v.message
    t = drive(d, [standing()] * 200, t0=5.0)
    drive(d, [standing(left=0.0)] * 10, t0=t + 0.01)  # one foot lifted: start again
    assert d.view().countdown_s == 3.0 and "both feet" in d.view().message


def test_pause_resume_excludes_paused_time_and_counts_down_again():
    d = quiet()
    d.begin(0.0)
    t = drive(d, [standing()] * 801)  # 3 s countdown + 5 s running
    assert d.elapsed == pytest.approx(5.0, abs=0.011)
    d.pause()
    assert d.view().phase == "paused"
    t = drive(d, [standing()] * 1000, t0=t + 0.01)
    assert d.elapsed == pytest.approx(5.0, abs=0.011)
    d.resume()
    assert d.phase == "countdown"
    drive(d, [standing()] * 301, t0=t + 0.01)
    assert d.phase == "running" and d.elapsed == pytest.approx(5.0, abs=0.02)


def test_stop_keeps_a_result_and_result_before_the_end_is_refused():
    d = quiet()
    with pytest.raises(DrillStateError, match="no result yet"):
        d.result()
    d.begin(0.0)
    drive(d, [standing()] * 601)
    d.stop()
    r = d.result()
    assert r.status == "stopped" and r.duration_s == pytest.approx(3.0, abs=0.02)
    json.dumps(r.to_dict())


@pytest.mark.parametrize("running_s,score", [(3.0, None), (4.9, None), (7.0, 70.0), (10.0, 100.0)])
def test_a_stopped_drill_scores_only_what_was_done_and_only_from_half_on(running_s, score):
    """docs/drills.md "A drill stopped early": no points for the time not done; none under half done."""
    d = quiet()
    d.begin(0.0)
    frames = int(round((3.0 + running_s) / 0.01)) + 1  # 3 s countdown, then the running time
    drive(d, [standing()] * frames)
    if d.phase != "done":
        d.stop()
    r = d.result()
    assert r.status == ("complete" if running_s >= 10.0 else "stopped")
    assert r.done_pct == pytest.approx(10.0 * running_s, abs=0.5)
    assert r.measures["conditions"]["eyes_open"]["time_in_zone_pct"] == pytest.approx(100.0)  # all of it was good
    if score is None:
        assert r.score is None  # the measures are kept for the therapist, without points
    else:
        assert r.score == pytest.approx(score, abs=0.6)


def test_stop_before_running_has_no_score():
    d = quiet()
    d.begin(0.0)
    d.stop(0.5)
    r = d.result()
    assert r.status == "stopped" and r.score is None and r.measures == {}


def test_view_is_a_snapshot():
    d = quiet()
    d.begin(0.0)
    drive(d, [standing()] * 310)
    v = d.view()
    drive(d, [standing(cop=(150.0, 200.0))] * 10, t0=3.2)
    assert v.live.cop_mm != d.view().live.cop_mm


def test_a_safety_stop_pauses_at_once_and_calls_back():
    seen = []
    d = registry.create("quiet_standing", {"duration_s": 10}, on_alert=seen.append)
    d.begin(0.0)
    t = drive(d, [standing()] * 400)
    t = drive(d, [standing(left=5.0, right=695.0)] * 10, t0=t + 0.01)
    assert d.phase == "paused_safety"
    assert [a.reason for a in seen] == ["foot_unloaded"] and seen[0].drill == "quiet_standing"
    assert d.view().alert == seen[0] and "lifted a foot" in d.view().message
    assert d.take_alerts() == seen and d.take_alerts() == []
    assert d.take_cues()[-1].name == "alarm"
    d.resume()
    drive(d, [standing()] * 301, t0=t + 1)
    assert d.phase == "running" and d.view().alert is None


# --- safety monitor on hand-made frames ----------------------------------------------------------

def armed(mode="two_feet", **kw):
    ref = standing()
    stance = stance_from(ref.force_n, ref.feet, ref.cop_mm)
    m = SafetyMonitor(mode, **kw)
    m.arm(stance)
    return m


def first_alert(monitor, frames, dt=0.01):
    for i, fr in enumerate(frames):
        a = monitor.check(i * dt, fr)
        if a:
            return a
    return None


@pytest.mark.parametrize("frame, reason, confirm", [
    (empty(), "no_load", 0.04),
    (standing(left=60.0, right=60.0), "no_load", 0.04),
    (standing(left=10.0, right=690.0), "foot_unloaded", 0.04),
    (standing(cop=(200.0, 330.0)), "cop_outside", 0.10),
    (standing(cop=(200.0, 90.0)), "cop_outside", 0.10),
])
def test_each_condition_is_confirmed_after_its_time(frame, reason, confirm):
    m = armed()
    a = first_alert(m, [frame] * 20)
    assert a.reason == reason and a.t == pytest.approx(confirm)


def test_one_bad_frame_does_not_stop_a_drill():
    m = armed()
    assert first_alert(m, [standing(), empty(), empty(), standing()] * 20) is None


def test_a_foot_at_the_mat_edge_is_off_mat():
    m = armed(mat_shape=(48, 48))
    assert first_alert(m, [standing(bbox=(0, 10, 30, 20))] * 10).reason == "off_mat"


def test_single_leg_mode_allows_the_free_foot_up_and_alerts_when_it_comes_down():
    ref = standing(right=0.0, left=700.0)
    stance = stance_from(ref.force_n, ref.feet, ref.cop_mm)
    m = SafetyMonitor("single_leg", stance_side="left")
    m.arm(stance)
    assert first_alert(m, [ref] * 20) is None
    assert first_alert(m, [standing(left=500.0, right=200.0, cop=(110.0, 200.0))] * 10).reason == "foot_down"


def test_geometry_hull_inside_and_reach():
    square = convex_hull([(0, 0), (10, 0), (10, 10), (0, 10), (5, 5)])
    assert len(square) == 4
    assert inside(square, (5, 5)) and not inside(square, (11, 5))
    assert reach(square, (5, 5), (1, 0)) == pytest.approx(5.0)
    assert reach(square, (5, 5), (1, 1)) == pytest.approx(5 * 2 ** 0.5)
    assert reach(square, (20, 5), (1, 0)) == 0.0


def test_docs_describe_every_drill_parameter_and_alert():
    from pathlib import Path

    from drills.safety import MESSAGES

    doc = (Path(__file__).resolve().parent.parent / "docs" / "drills.md").read_text()
    for name in registry.names():
        assert f"(`{name}`)" in doc, f"docs/drills.md has no section for {name}"
        section = doc.split(f"(`{name}`)", 1)[1].split("\n### ", 1)[0]
        for p in registry.get(name).PARAMS:
            if p.name != "progress":
                assert f"`{p.name}`" in section, f"docs/drills.md does not describe {name}.{p.name}"
    assert "`progress=false`" in doc
    for reason in MESSAGES:
        assert f"`{reason}`" in doc, f"docs/drills.md does not explain the {reason} alert"


# --- the state machine under any sequence of taps and frames ------------------------------------

_FRAMES = {"stand": standing(), "empty": empty(), "lift": standing(left=5.0, right=695.0),
           "lean": standing(cop=(200.0, 330.0)), "shift": standing(left=420.0, right=280.0)}


@given(st.sampled_from(["quiet_standing", "limits_of_stability", "rhythmic_shift", "heel_toe_rocking",
                        "weight_symmetry", "tandem_walk", "gait_insoles"]),
       st.lists(st.tuples(st.sampled_from(["begin", "pause", "resume", "stop", *_FRAMES]),
                          st.integers(1, 150)), max_size=25))
@settings(max_examples=150, deadline=None)
def test_any_sequence_of_taps_and_frames_keeps_the_drill_consistent(name, script):
    d = registry.create(name, {}, countdown_s=0.5)
    t = 0.0
    for action, n in script:
        if action in ("begin", "pause", "resume", "stop"):
            before = d.phase
            getattr(d, action)(t)
            if action == "stop":
                assert d.phase == "done"
            if action == "pause" and before in ("countdown", "running"):
                assert d.phase == "paused"
            continue
        for _ in range(n):
            phase, elapsed = d.phase, d.elapsed
            d.update(t, _FRAMES[action])
            t += 0.01
            assert d.phase in PHASES
            assert d.elapsed >= elapsed
            if phase not in ("running",):
                assert d.elapsed == elapsed, "time only counts while running"
            if phase == "done":
                assert d.phase == "done"
    v = d.view()
    assert v.phase == d.phase and 0.0 <= v.progress <= 1.0
    if d.phase != "done":
        with pytest.raises(DrillStateError):
            d.result()
        d.stop(t)
    r = d.result()
    assert r.status in ("complete", "stopped")
    assert r.score is None or 0.0 <= r.score <= 100.0
    assert len(r.alerts) == len(d.alerts)
    json.dumps(r.to_dict(), allow_nan=False)


def test_a_result_round_trips_through_the_store(tmp_path):
    from drill_support import drive as feed

    from store import open_store
    from store.patients import Patient

    d = quiet()
    d.begin(0.0)
    feed(d, [standing()] * 400 + [standing(cop=(200.0 + 0.1 * k, 200.0)) for k in range(1000)])
    assert d.phase == "done"
    result = d.result().to_dict()
    with open_store(tmp_path) as st:
        p = st.patients.add(Patient(code="R1"))
        s = st.sessions.start(p.id)
        trial = st.trials.start(s.id, "quiet_standing", d.params)
        st.trials.finish(trial.id, results=result)
        assert st.trials.get(trial.id).results == json.loads(json.dumps(result))


def test_after_a_pause_the_stance_and_zone_follow_where_the_patient_stands_now():
    d = quiet()
    d.begin(0.0)
    t = drive(d, [standing()] * 500)
    assert d.view().live.zone.x_mm == pytest.approx(200.0)
    d.pause()
    moved = standing(lx=170.0, rx=350.0)  # came back 60 mm further right
    t = drive(d, [moved] * 500, t0=t + 0.01)
    d.resume()
    drive(d, [moved] * 500, t0=t + 0.01)
    assert d.phase == "running" and not d.alerts
    assert d.view().live.zone.x_mm == pytest.approx(260.0)
    assert d.stance.centre_mm[0] == pytest.approx(260.0)


@pytest.mark.parametrize("stance, frame, hint", [
    ("together", standing(), "Bring your feet together."),
    ("together", standing(lx=150.0, rx=250.0), ""),
    ("tandem", standing(), "Put one foot in front of the other."),
    ("apart", standing(), ""),
])
def test_a_stance_reminder_does_not_hold_the_countdown(stance, frame, hint):
    d = quiet(stance=stance)
    d.begin(0.0)
    drive(d, [frame] * 100)
    v = d.view()
    assert v.phase == "countdown" and v.countdown_s < 2.1 and v.message == hint
    drive(d, [frame] * 300, t0=1.0)
    r = d.phase
    assert r == "running"


def test_quiet_standing_records_where_the_feet_stood():
    d = quiet()
    d.begin(0.0)
    drive(d, [standing()] * 1400)
    feet = d.result().measures["feet"]
    assert feet == {"feet": 2, "heels_sideways_mm": pytest.approx(180.0), "heels_front_back_mm": pytest.approx(0.0)}


def test_a_result_names_the_definition_of_its_measures():
    """Quiet standing's sway is from the 10 Hz low-passed COP since metrics version 3: its results
    say so (measures_version 2), so the first run after the update is not compared with the last."""
    from drills import registry
    from drills.autopilot import patient_for, run_drill

    drill = registry.create("quiet_standing", {"duration_s": 10, "eyes": "open"}, mat_shape=(48, 48))
    out = run_drill(drill, patient_for(drill, seed=1), max_s=30.0)
    assert out.result.to_dict()["measures_version"] == type(drill).MEASURES_VERSION == 2
    other = registry.create("weight_symmetry", {}, mat_shape=(48, 48))
    assert type(other).MEASURES_VERSION == 1
