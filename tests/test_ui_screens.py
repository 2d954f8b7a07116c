"""Every patient screen driven by injected touch and mouse events (SDL dummy video driver).

Screens must post intents (never act themselves), follow the runtime's
messages through the router, keep every touch target >= 15 mm, and never
change state in draw().
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import ui_support
from ui_support import FakeFeed, make_app, tap, tap_button, two_feet_frame, view

from gaitkiosk.runtime import LiveSnapshot
from ui import screens
from ui.app import Message
from ui.sound import Sound

dummy_video = ui_support.dummy_video  # the fixture (SDL dummy video driver for these tests only)

SIZES = [((800, 480), 7.0), ((1280, 800), 10.1)]
ITEMS = [{"title": "Stand still", "seconds": 30, "status": "done"},
         {"title": "Lean to the targets", "seconds": 60, "status": "todo"},
         {"title": "Heel-to-toe walk", "seconds": None, "status": "todo"}]
INTRO = {"index": 1, "count": 3, "title": "Lean to the targets", "instruction": "Lean your body to each yellow circle.",
         "picture": "lean", "safety": "Hold on to the rail if you feel unsteady."}
RESULT = {"index": 1, "count": 3, "title": "Lean to the targets", "status": "complete", "score": 72.0,
          "previous_score": 65.0, "lines": ["You reached 7 of 8 targets."], "last": False}


def snapshot(seq=1, **drill):
    return LiveSnapshot(seq=seq, t_frame=10.0, mat_kpa=two_feet_frame(), mat_geometry=(48, 48, (8.47, 8.47)),
                        cop_mm=(200.0, 180.0), cop_trail=((199.0, 179.0), (200.0, 180.0)), drill=view(**drill))


def all_screens(app):
    return [screens.AttractScreen(app), screens.CheckInScreen(app), screens.ProgramScreen(app, ITEMS, next_index=1),
            screens.InstructionScreen(app, INTRO), screens.LiveDrillScreen(app, INTRO), screens.ResultScreen(app, RESULT),
            screens.GoodbyeScreen(app, {"done": 2, "total": 3, "saved": True}),
            screens.StaffNeededScreen(app, 2, 5, "the disk or the database size limit (store.max_db_mb) is full")]


def kinds(app):
    return [i.kind for i in app.take_intents()]


@pytest.mark.parametrize("touch", [True, False])
def test_attract_tap_anywhere_starts(dummy_video, touch):
    app = make_app()
    app.push(screens.AttractScreen(app))
    app.step(0.1, [])
    tap(app, (50, 50), touch)
    assert kinds(app) == ["start"]


@pytest.mark.parametrize("touch", [True, False])
def test_checkin_keypad_posts_the_code_and_shows_an_unknown_code(dummy_video, touch):
    app = make_app(router=screens.route)
    s = app.push(screens.CheckInScreen(app))
    for key in "4711":
        tap_button(app, s.keypad.buttons.get(f"key:{key}"), touch)
    tap_button(app, s.keypad.buttons.get("key:ok"), touch)
    got = app.take_intents()
    assert [(i.kind, i.data) for i in got] == [("checkin", {"code": "4711"})]
    assert s.busy
    tap_button(app, s.keypad.buttons.get("key:1"), touch)  # ignored while looking up
    assert s.keypad.code == "4711"
    app.deliver(Message("patient_unknown", {"code": "4711"}))
    app.step(0.03, [])
    assert not s.busy and "4711" in s.message and s.keypad.code == ""
    tap_button(app, s.buttons.get("back"), touch)
    assert kinds(app) == ["cancel"]


def test_checkin_goes_back_to_the_start_after_idle(dummy_video):
    app = make_app()
    app.idle_timeout_s = 5.0
    app.push(screens.CheckInScreen(app))
    for _ in range(6):
        app.step(1.0, [])
    assert "cancel" in kinds(app)


@pytest.mark.parametrize("touch", [True, False])
def test_program_start_and_finish(dummy_video, touch):
    app = make_app()
    s = app.push(screens.ProgramScreen(app, ITEMS, next_index=1))
    app.step(0.03, [])
    assert s.buttons.get("go").label == "Continue"  # not the first exercise
    tap_button(app, s.buttons.get("go"), touch)
    got = app.take_intents()
    assert [(i.kind, i.data) for i in got] == [("start_drill", {"index": 1})]
    tap_button(app, s.buttons.get("go"), touch)  # a second tap while preparing does nothing
    assert kinds(app) == []
    app.deliver(Message("drill_failed", {"text": "The mat is not ready."}))
    app.step(0.03, [])
    tap_button(app, s.buttons.get("end"), touch)
    assert kinds(app) == ["finish_visit"]


@pytest.mark.parametrize("touch", [True, False])
def test_instruction_start_and_skip(dummy_video, touch):
    app = make_app(sound=Sound(enabled=False))
    s = app.push(screens.InstructionScreen(app, INTRO))
    assert app.sound.played == ["start"]  # the tone cue on arrival
    for _ in range(5):
        app.step(0.1, [])  # the picture animates
    tap_button(app, s.buttons.get("begin"), touch)
    assert [(i.kind, i.data) for i in app.take_intents()] == [("begin_drill", {"index": 1})]
    s2 = app.replace(screens.InstructionScreen(app, INTRO))
    tap_button(app, s2.buttons.get("skip"), touch)
    assert kinds(app) == ["skip_drill"]


@pytest.mark.parametrize("touch", [True, False])
def test_live_drill_pause_resume_stop(dummy_video, touch):
    feed = FakeFeed(snapshot(1))
    app = make_app(feed=feed, sound=Sound(enabled=False))
    s = app.push(screens.LiveDrillScreen(app, INTRO))
    app.step(0.03, [])
    assert s.mat is not None and s.frame_t == 10.0
    tap_button(app, s.buttons.get("pause"), touch)
    assert kinds(app) == ["pause_drill"]
    feed.snapshot = snapshot(2, phase="paused")
    app.step(0.03, [])
    assert s.buttons.get("pause").label == "Continue"
    tap_button(app, s.buttons.get("pause"), touch)
    assert kinds(app) == ["resume_drill"]
    tap_button(app, s.buttons.get("stop"), touch)
    assert kinds(app) == ["stop_drill"]


def test_live_drill_shows_a_safety_alert_and_plays_the_cues(dummy_video):
    feed = FakeFeed(snapshot(1))
    app = make_app(feed=feed, sound=Sound(enabled=False))
    s = app.push(screens.LiveDrillScreen(app, INTRO))
    feed.snapshot = snapshot(2, phase="alert", alert="Paused: you leaned too far. Hold on to the rail.")
    app.deliver(Message("cue", {"name": "alarm", "say": None}))
    app.step(0.03, [])
    assert s.buttons.get("pause").label == "Continue" and app.sound.played == ["alert"]
    # The banner is drawn in the Stop colour across the middle of the screen.
    mid = app.surface.get_at((app.size[0] // 2, app.size[1] // 2 - app.target_px // 2))[:3]
    assert mid == app.theme.colors.stop


def test_live_drill_draws_targets_share_bar_and_insoles(dummy_video):
    targets = [{"x_mm": 200.0, "y_mm": 300.0, "radius_mm": 20.0, "state": "active"},
               {"x_mm": 300.0, "y_mm": 200.0, "radius_mm": 20.0, "state": "done"}]
    feed = FakeFeed(snapshot(1, targets=targets, share={"left_pct": 45.0, "target_pct": 50.0, "tolerance_pct": 7.0},
                             progress="Target 1 of 8", values=[("Steps per minute", "112")]))
    app = make_app(feed=feed)
    s = app.push(screens.LiveDrillScreen(app, INTRO))
    app.step(0.03, [])
    px = s.mat.to_px(200.0, 300.0)
    assert app.surface.get_at(px)[:3] == app.theme.colors.dark_text  # the active target's centre
    feed.snapshot = LiveSnapshot(seq=2, t_frame=11.0, insole_kpa={"left": np.full(16, 100.0), "right": np.zeros(16)},
                                 insole_layout={"left": np.random.default_rng(0).uniform(0, 200, (16, 2)),
                                                "right": np.random.default_rng(1).uniform(0, 200, (16, 2))},
                                 drill=view(view="insoles", zone=None))
    app.step(0.03, [])
    assert set(s.insoles.layout) == {"left", "right"}


@pytest.mark.parametrize("touch", [True, False])
def test_result_next_and_finish(dummy_video, touch):
    app = make_app(sound=Sound(enabled=False))
    s = app.push(screens.ResultScreen(app, RESULT))
    assert app.sound.played == ["done"]
    app.step(0.03, [])
    tap_button(app, s.buttons.get("next"), touch)
    assert [(i.kind, i.data) for i in app.take_intents()] == [("start_drill", {"index": 2})]
    s2 = app.replace(screens.ResultScreen(app, {**RESULT, "last": True, "previous_score": None}))
    assert [b.id for b in s2.buttons.buttons] == ["next"] and s2.buttons.get("next").label == "Finish"
    tap_button(app, s2.buttons.get("next"), touch)
    assert kinds(app) == ["finish_visit"]


def test_goodbye_done_or_timeout(dummy_video):
    app = make_app()
    s = app.push(screens.GoodbyeScreen(app, {"done": 1, "total": 2, "saved": False}, linger_s=2.0))
    tap_button(app, s.buttons.get("done"))
    assert kinds(app) == ["goodbye_done"]
    app.replace(screens.GoodbyeScreen(app, {"done": 1, "total": 2}, linger_s=2.0))
    for _ in range(3):
        app.step(1.0, [])
    assert kinds(app) == ["goodbye_done"]  # once, not every frame


def test_staff_needed_says_what_is_kept_and_goes_back_by_itself(dummy_video):
    from ui.screens.staff_needed import patient_lines

    assert patient_lines(0, 3)[0] == "The kiosk cannot save exercises right now."
    assert "The 2 exercises you did today are saved" in " ".join(patient_lines(2, 3))
    assert "The 1 exercise you did today is saved" in " ".join(patient_lines(1, 3))
    app = make_app(router=screens.route, feed=FakeFeed(snapshot(1)))
    app.deliver(Message("staff_needed", {"done": 1, "total": 3, "staff": "storage full"}))
    app.step(0.03, [])
    s = app.top
    assert s.name == "staff_needed" and s.staff == "storage full"
    tap_button(app, s.buttons.get("done"))
    assert kinds(app) == ["goodbye_done"]
    app.replace(screens.StaffNeededScreen(app, 0, 0, "", linger_s=2.0))
    for _ in range(3):
        app.step(1.0, [])
    assert kinds(app) == ["goodbye_done"]  # once, by itself


def test_router_follows_the_visit(dummy_video):
    app = make_app(router=screens.route, feed=FakeFeed(snapshot(1)))
    flow = [("checkin", {}, "checkin"), ("patient", {"items": ITEMS}, "program"),
            ("drill_ready", {"drill": INTRO}, "instruction"), ("drill_live", {"drill": INTRO}, "drill"),
            ("drill_done", {"result": RESULT}, "result"), ("visit_done", {"summary": {"done": 1, "total": 3}}, "goodbye"),
            ("reset", {}, "attract")]
    for kind, data, name in flow:
        app.deliver(Message(kind, data))
        app.step(0.03, [])
        assert app.top.name == name and len(app.stack) == 1


@pytest.mark.parametrize("size,diag", SIZES)
def test_every_screen_draws_with_targets_of_15_mm_and_draw_changes_nothing(dummy_video, size, diag):
    app = make_app(size, diag, feed=FakeFeed(snapshot(1)))
    for s in all_screens(app):
        app.reset(s)
        app.step(0.05, [])
        for attr in ("buttons",):
            for b in getattr(s, attr).buttons if hasattr(s, attr) else []:
                assert min(b.rect.size) / app.metrics.px_per_mm >= 15.0 - 0.5, (s.name, b.id)
                assert app.surface.get_rect().contains(b.rect), (s.name, b.id)  # on screen
        before = {k: copy.copy(v) for k, v in vars(s).items() if isinstance(v, int | float | str | bool | dict | list)}
        s.draw(app.surface)
        s.draw(app.surface)
        after = {k: v for k, v in vars(s).items() if k in before}
        assert after == before, s.name


def test_the_window_loop_takes_real_queued_events_until_quit(dummy_video):
    import pygame

    from ui.app import App, tap_events
    from ui.theme import load_theme

    surface = pygame.display.set_mode((800, 480))
    app = App(surface, load_theme())
    app.push(screens.AttractScreen(app))
    frames = []

    def on_frame(a):
        frames.append(a.top.name)
        if len(frames) == 3:
            for e in tap_events((400, 240), a.size):  # through SDL's own queue, like a finger
                pygame.event.post(e)
        if len(frames) == 6:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    app.run(fps=200, on_frame=on_frame)
    assert not app.running and len(frames) == 7  # the QUIT is read on the frame after it was posted
    assert [i.kind for i in app.take_intents()] == ["start"]


def test_a_visit_left_alone_ends_by_itself(dummy_video):
    app = make_app()
    app.idle_timeout_s = 10.0
    for screen in (screens.ProgramScreen(app, ITEMS), screens.InstructionScreen(app, INTRO),
                   screens.ResultScreen(app, RESULT)):
        app.reset(screen)
        for _ in range(9):
            app.step(1.0, [])
        assert kinds(app) == []
        tap(app, (5, 5))  # a touch anywhere restarts the wait
        for _ in range(9):
            app.step(1.0, [])
        assert kinds(app) == []
        for _ in range(5):
            app.step(1.0, [])
        assert [(i.kind, i.data) for i in app.take_intents()] == [("finish_visit", {"idle": True})]  # once


def test_a_running_drill_is_never_ended_for_idleness_but_a_forgotten_pause_is(dummy_video):
    feed = FakeFeed(snapshot(1))
    app = make_app(feed=feed)
    app.idle_timeout_s = 10.0
    app.push(screens.LiveDrillScreen(app, INTRO))
    for _ in range(30):
        app.step(1.0, [])  # standing still, not touching: normal during a drill
    assert kinds(app) == []
    feed.snapshot = snapshot(2, phase="paused")
    for _ in range(9):
        app.step(1.0, [])
    assert kinds(app) == []
    for _ in range(3):
        app.step(1.0, [])
    assert kinds(app) == ["stop_drill"]


def test_spoken_cues_are_optional(dummy_video, monkeypatch):
    from ui.sound import Sound

    monkeypatch.setenv("PATH", "/nonexistent")  # no espeak-ng: speaking is skipped, nothing fails
    s = Sound(enabled=False)
    feed = FakeFeed(snapshot(1))
    app = make_app(feed=feed, sound=s)
    app.push(screens.LiveDrillScreen(app, INTRO))
    app.deliver(Message("cue", {"name": "go", "say": "Go."}))
    app.step(0.03, [])
    assert s.played == ["start"] and s.said == ["Go."]


def test_a_step_that_cannot_start_says_why(dummy_video):
    app = make_app()
    s = app.push(screens.ProgramScreen(app, ITEMS))
    tap_button(app, s.buttons.get("go"))
    assert s.waiting
    app.deliver(Message("drill_failed", {"text": "The mat is not ready. Please tell the staff."}))
    app.step(0.03, [])
    assert not s.waiting and s.error.startswith("The mat is not ready")
    # the message is drawn whole, in the warning colour, across the screen above the buttons
    from ui.text import TextLog

    with TextLog() as log:
        app.step(0.03, [])
    (line,) = [d for d in log.drawn if d.text.startswith("The mat is not ready")]
    assert line.text == "The mat is not ready. Please tell the staff." and not line.cut
    first = s.buttons.buttons[0].rect
    assert line.ink.bottom <= first.top
    strip = [app.surface.get_at((x, y))[:3] for x in range(line.ink.left, line.ink.right) for y in range(line.ink.top, line.ink.bottom)]
    assert app.theme.colors.warn in strip


def test_the_start_screen_shows_a_sensor_problem(dummy_video):
    from gaitkiosk.runtime import LiveSnapshot

    app = make_app(feed=FakeFeed(LiveSnapshot(seq=1, device_problem="A sensor is not connected. Please tell the staff.")))
    s = app.push(screens.AttractScreen(app))
    app.step(0.03, [])
    assert s.status.startswith("A sensor is not connected")


def test_escape_quits_only_where_allowed(dummy_video):
    import pygame

    esc = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=41)
    app = make_app()
    app.push(screens.AttractScreen(app))
    app.escape_quits = False  # fullscreen on a unit
    app.step(0.03, [esc])
    assert app.running
    app.escape_quits = True  # a desktop window
    app.step(0.03, [esc])
    assert not app.running
