"""The frame every staff room stands on (ui/screens/staff.py, gaitkiosk/staff_views.py): views and
actions run on the worker only for a logged-in user and never during a visit, refusals come back in
words, patient views are audited, and every staff screen logs out by itself like the home screen.

The rooms' own tests (patients, programs, review...) drive their screens; these use a small room
registered for the test, through the real runtime (worker thread, SQLite store, sim:// sensors).
"""

from __future__ import annotations

import numpy as np
import staff_support
import ui_support
from staff_support import log_in, staff_entries
from ui_support import FakeFeed, make_app, pump, tap_button, two_feet_frame

from gaitkiosk import staff_views
from gaitkiosk.runtime import LiveSnapshot
from ui import screens
from ui.app import Message
from ui.screens.staff import STAFF_SCREENS, StaffScreen, do, view

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk


class EchoScreen(StaffScreen):
    name = "staff_echo"

    def draw(self, surface) -> None:
        self.draw_top(surface, "Echo")


def echo(desk, **params):
    return {"user": desk.user.name, **params}


def boom(desk, **params):
    raise RuntimeError("a bug in a room")


def refuse(desk, **params):
    raise staff_views.Refused("That patient is deactivated.")


def register(monkeypatch):
    monkeypatch.setitem(STAFF_SCREENS, "staff_echo", EchoScreen)
    monkeypatch.setitem(staff_views.VIEWS, "echo", (echo, True, ("therapist",)))
    monkeypatch.setitem(staff_views.VIEWS, "boom", (boom, False, ("therapist",)))
    monkeypatch.setitem(staff_views.ACTIONS, "refuse", (refuse, ("therapist",)))


def test_a_staff_screen_message_without_a_logged_in_user_shows_the_start_screen(dummy_video, monkeypatch):
    register(monkeypatch)
    app = make_app(router=screens.route)
    app.deliver(Message("staff_echo", {"patient": "x"}))
    app.step(0.01, [])
    assert app.top.name == "attract"
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist"}))
    app.deliver(Message("staff_echo", {"patient": "x"}))
    app.step(0.01, [])
    assert app.top.name == "staff_echo" and app.top.data == {"patient": "x"}
    app.deliver(Message("reset"))  # logged out: the staff user is forgotten with the screen
    app.deliver(Message("staff_echo", {"patient": "x"}))
    app.step(0.01, [])
    assert app.top.name == "attract" and app.staff is None


def test_views_run_for_the_logged_in_user_audited_by_role_and_refusals_come_back_in_words(kiosk, monkeypatch):
    app, rt, data, clock, ann = kiosk
    register(monkeypatch)
    app.post(view("echo", patient="p-1"))  # nobody logged in: the worker refuses, the start screen stays
    log_in(app)
    assert app.top.name == "staff_home"
    assert [b.id for b in app.top.rooms_buttons.buttons] == ["patients", "calibration"]
    app.post(view("echo", patient="p-1"))
    pump(app, lambda: app.top.name == "staff_echo", what="the echo room")
    assert app.top.data == {"user": "Ann Berg", "patient": "p-1"}
    seen = staff_entries(data, "staff.view.")
    assert [(e.action, e.user_id, e.subject) for e in seen] == [("staff.view.echo", ann, "p-1")]
    app.top.message = None
    app.post(view("boom"))  # a bug in a room: the screen says so, the kiosk goes on
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "That did not work: the kiosk's log has the details."
    app.top.message = None
    app.post(do("refuse"))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "That patient is deactivated."
    tap_button(app, app.top.bar.get("back"))
    pump(app, lambda: app.top.name == "staff_home", what="back home")
    assert app.top.user_name == "Ann Berg"


def test_a_technician_cannot_open_a_therapists_room(kiosk, monkeypatch):
    app, rt, data, clock, ann = kiosk
    register(monkeypatch)
    log_in(app, "Bo L.")
    assert [b.id for b in app.top.rooms_buttons.buttons] == ["calibration", "diagnostics"]
    app.post(view("echo", patient="p-1"))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "A technician cannot open this screen." and app.top.name == "staff_home"
    assert staff_entries(data, "staff.view.") == []


def test_every_staff_screen_logs_out_after_idle_and_when_a_patient_walks_up(dummy_video, monkeypatch):
    register(monkeypatch)
    feed = FakeFeed(None)
    app = make_app(router=screens.route, feed=feed)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist", "idle_logout_s": 60.0}))
    app.deliver(Message("staff_echo", {}))
    app.step(0.01, [])
    app.take_intents()
    app.step(59.0, [])
    assert app.take_intents() == []
    app.step(1.5, [])
    assert [(i.kind, i.data) for i in app.take_intents()] == [("staff_logout", {"reason": "idle"})]
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist"}))
    app.deliver(Message("staff_echo", {}))
    feed.snapshot = LiveSnapshot(seq=1, mat_kpa=two_feet_frame(), mat_geometry=(48, 48, (8.47, 8.47)))
    app.step(0.01, [])
    app.step(0.01, [])
    assert app.take_intents() == []  # someone on the mat already: not a patient walking up
    feed.snapshot = LiveSnapshot(seq=2, mat_kpa=np.zeros((48, 48), np.float32), mat_geometry=(48, 48, (8.47, 8.47)))
    app.step(0.01, [])
    feed.snapshot = LiveSnapshot(seq=3, mat_kpa=two_feet_frame(), mat_geometry=(48, 48, (8.47, 8.47)))
    app.step(0.01, [])
    assert [(i.kind, i.data) for i in app.take_intents()] == [("staff_logout", {"reason": "patient"})]
