"""Staff login at the kiosk (issue 11, item 1): the screens driven by taps under the dummy video
driver, and the real runtime (worker thread, SQLite store, sim:// sensors) deciding and auditing.

Wrong PINs run on a fake clock for the lockout (nothing sleeps); idle logout runs on the app's
own time (``app.step(dt)``); a patient walking up is a live snapshot with load on the mat.
"""

from __future__ import annotations

import numpy as np
import staff_support
import ui_support
from staff_support import TEAM, staff_entries, type_pin
from ui_support import FakeFeed, make_app, pump, tap, tap_button, two_feet_frame

from gaitkiosk.gallery import states
from gaitkiosk.runtime import LiveSnapshot
from ui import screens
from ui.app import Intent, Message
from ui.screens.staff_home import mat_load_n

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk

GEOMETRY = (48, 48, (8.47, 8.47))


def snapshot(kpa) -> LiveSnapshot:
    return LiveSnapshot(seq=1, mat_kpa=kpa, mat_geometry=GEOMETRY)


# -- the screens -----------------------------------------------------------------------------------
def test_the_start_screen_has_a_staff_button_and_anywhere_else_still_starts(dummy_video):
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    app.step(0.03, [])
    tap_button(app, app.top.buttons.get("staff"))
    assert [i.kind for i in app.take_intents()] == ["staff"]
    tap(app, (app.size[0] // 2, app.size[1] // 2))
    assert [i.kind for i in app.take_intents()] == ["start"]


def test_login_screen_posts_name_and_pin_shows_no_digits_and_waits_after_wrong_pins(dummy_video):
    app = make_app(router=screens.route)
    app.deliver(Message("staff_login", {"users": TEAM, "wait_s": 0.0}))
    app.step(0.03, [])
    s = app.top
    assert s.name == "staff_login" and s.selected is None
    type_pin(app, s, "4829")  # no name chosen yet: nothing is sent
    assert app.take_intents() == [] and s.message == "Choose your name first."
    tap_button(app, s.names.get("user:Bo L."))
    assert s.selected == "Bo L." and s.keypad.code == "4829"  # the PIN typed first is kept: the name, then OK
    tap_button(app, s.keypad.buttons.get("key:ok"))
    assert [(i.kind, i.data) for i in app.take_intents()] == [("staff_login", {"name": "Bo L.", "pin": "4829"})]
    assert s.keypad.code == "" and s.busy  # the PIN is not kept once sent
    app.deliver(Message("staff_refused", {"name": "Bo L.", "wait_s": 30.0}))
    app.step(0.03, [])
    assert s.status_text() == "Wrong name or PIN. Please wait 30 seconds, then try again."
    assert not any(b.enabled for b in s.keypad.buttons.buttons)
    tap_button(app, s.keypad.buttons.get("key:1"))
    assert s.keypad.code == ""
    app.step(30.0, [])
    assert s.keypad.buttons.get("key:1").enabled
    tap_button(app, s.keypad.buttons.get("key:1"))
    assert s.keypad.code == "1"
    tap_button(app, s.buttons.get("back"))
    assert [i.kind for i in app.take_intents()] == ["cancel"]


def test_login_screen_pages_through_many_names_and_says_when_there_are_none(dummy_video):
    many = [{"name": f"T{k:02d}", "role": "therapist"} for k in range(30)]
    app = make_app(router=screens.route)
    app.deliver(Message("staff_login", {"users": many}))
    app.step(0.03, [])
    s = app.top
    seen = set()
    for _ in range(-(-len(many) // s.per_page)):
        seen |= {b.label for b in s.names.buttons}
        tap_button(app, s.buttons.get("more"))
    assert seen == {u["name"] for u in many}
    app.deliver(Message("staff_login", {"users": []}))
    app.step(0.03, [])
    assert "gaitkiosk users add" in app.top.status_text()
    assert not any(b.enabled for b in app.top.keypad.buttons.buttons)


def test_no_staff_home_without_a_logged_in_user(dummy_video):
    app = make_app(router=screens.route)
    for data in ({}, {"name": "Ann Berg"}, {"role": "therapist"}, {"name": "", "role": "therapist"}):
        app.deliver(Message("staff_home", data))
        app.step(0.03, [])
        assert app.top.name == "attract", data
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist"}))
    app.step(0.03, [])
    assert app.top.name == "staff_home"


def test_staff_home_logs_out_after_idle_and_a_touch_restarts_the_count(dummy_video):
    app = make_app(router=screens.route)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist", "idle_logout_s": 120.0}))
    app.step(0.03, [])
    app.step(100.0, [])
    tap(app, (5, 5))  # a touch anywhere counts
    app.step(100.0, [])
    assert app.take_intents() == []
    app.step(20.0, [])
    assert [(i.kind, i.data) for i in app.take_intents()] == [("staff_logout", {"reason": "idle"})]
    app.step(200.0, [])
    assert app.take_intents() == []  # posted once


def test_staff_home_logs_out_when_someone_steps_onto_the_mat(dummy_video):
    feed = FakeFeed(snapshot(two_feet_frame()))  # already loaded at login: the therapist on the mat
    assert mat_load_n(feed.snapshot) > 30.0
    app = make_app(router=screens.route, feed=feed)
    app.deliver(Message("staff_home", {"name": "Ann Berg", "role": "therapist", "walk_up_n": 30.0}))
    for _ in range(3):
        app.step(0.1, [])
    assert app.take_intents() == []
    feed.snapshot = snapshot(np.zeros((48, 48), np.float32))
    app.step(0.1, [])
    feed.snapshot = snapshot(np.full((48, 48), 0.1, np.float32))  # noise: 17 N over the whole mat
    app.step(0.1, [])
    assert app.take_intents() == []
    feed.snapshot = snapshot(two_feet_frame())
    app.step(0.1, [])
    assert [(i.kind, i.data) for i in app.take_intents()] == [("staff_logout", {"reason": "patient"})]


def test_no_patient_screen_has_a_way_to_a_staff_screen(dummy_video):
    # Every patient screen in every gallery state, every button tapped: none posts a staff intent.
    # (Only the start screen's Staff button does; the worker then decides.)
    from gaitkiosk.gallery import show

    tapped = 0
    for state in states():
        if state.name.startswith(("staff", "attract")):
            continue
        app, screen = show(state, (800, 480), 7.0)
        for widget in vars(screen).values():  # its ButtonSets and keypads
            found = getattr(widget, "buttons", None)
            found = getattr(found, "buttons", found)  # a keypad holds a ButtonSet
            for b in list(found) if isinstance(found, list) else []:
                if b.enabled:
                    tap(app, b.rect.center)
                    tapped += 1
        kinds = {i.kind for i in app.take_intents()}
        assert not any(k.startswith("staff") for k in kinds), (state.name, kinds)
    assert tapped > 100


# -- the kiosk: the worker checks and audits ---------------------------------------------------------
def test_wrong_pins_wait_then_login_and_logout_are_audited_with_the_user(kiosk):
    app, rt, data, clock, ann = kiosk
    pump(app, lambda: app.top.name == "attract", what="start screen")
    tap_button(app, app.top.buttons.get("staff"))
    pump(app, lambda: app.top.name == "staff_login", what="staff login")
    s = app.top
    assert s.users == TEAM  # active users only, names and roles only
    tap_button(app, s.names.get("user:Ann Berg"))
    for n in range(3):
        type_pin(app, s, "0000")
        pump(app, lambda: not s.busy, what=f"wrong PIN {n + 1}")
    assert s.status_text() == "Wrong name or PIN. Please wait 30 seconds, then try again."
    # The right PIN sent anyway during the wait (not through the grey keypad) is not checked.
    app.post(Intent("staff_login", {"name": "Ann Berg", "pin": "482913"}))
    s.busy = True
    pump(app, lambda: not s.busy, what="refused during the wait")
    assert app.top is s and s.waiting
    clock.advance(31)
    app.step(31.0, [])  # the screen's own count of the wait runs down too
    type_pin(app, s, "0000")  # the fourth wrong PIN within the hour: 60 s
    pump(app, lambda: not s.busy, what="fourth wrong PIN")
    assert s.status_text() == "Wrong name or PIN. Please wait 60 seconds, then try again."
    clock.advance(61)
    app.step(61.0, [])
    type_pin(app, s, "482913")
    pump(app, lambda: app.top.name == "staff_home", what="staff home")
    home = app.top
    assert (home.user_name, home.role, home.idle_logout_s) == ("Ann Berg", "therapist", 120.0)
    tap_button(app, home.bar.get("logout"))
    pump(app, lambda: app.top.name == "attract", what="start screen after logout")
    rt.close()
    entries = staff_entries(data)
    assert [(e.action, e.details.get("reason"), e.details.get("wait_s")) for e in entries] == [
        ("staff.login_failed", "wrong name or PIN", 0), ("staff.login_failed", "wrong name or PIN", 0),
        ("staff.login_failed", "wrong name or PIN", 30.0),
        ("staff.login_failed", "sent while the keypad waits after wrong PINs", 30.0),
        ("staff.login_failed", "wrong name or PIN", 60.0),
        ("staff.login", None, None), ("staff.logout", "button", None)]
    assert all(e.subject == ann for e in entries)
    assert [e.user_id for e in entries[-2:]] == [ann, ann]
    assert all("482913" not in str(e.details) and "0000" not in str(e.details) for e in entries)


def test_a_deactivated_or_unknown_user_cannot_log_in(kiosk):
    app, rt, data, clock, ann = kiosk
    for name, pin in (("Cy", "2222"), ("Nobody", "2222")):
        app.post(Intent("staff_login", {"name": name, "pin": pin}))
    pump(app, lambda: len(staff_entries(data)) == 2, what="two refusals")
    assert app.top.name == "attract"
    assert [e.details["name"] for e in staff_entries(data)] == ["Cy", "Nobody"]


def test_idle_logout_is_audited(kiosk):
    app, rt, data, clock, ann = kiosk
    app.post(Intent("staff_login", {"name": "Ann Berg", "pin": "482913"}))
    pump(app, lambda: app.top.name == "staff_home", what="staff home")
    app.step(121.0, [])
    pump(app, lambda: app.top.name == "attract", what="start screen after idle")
    assert [(e.action, e.details.get("reason"), e.user_id) for e in staff_entries(data)][-1] == \
        ("staff.logout", "idle", ann)


def test_a_patient_walking_up_logs_staff_out(kiosk):
    app, rt, data, clock, ann = kiosk
    app.post(Intent("staff_login", {"name": "Ann Berg", "pin": "482913"}))
    pump(app, lambda: app.top.name == "staff_home", what="staff home")
    feed = FakeFeed(snapshot(np.zeros((48, 48), np.float32)))  # the virtual patient always stands: an empty mat here
    app.feed = feed
    app.step(0.1, [])
    feed.snapshot = snapshot(two_feet_frame())
    pump(app, lambda: app.top.name == "attract", what="start screen after a walk-up")
    assert [(e.action, e.details.get("reason"), e.user_id) for e in staff_entries(data)][-1] == \
        ("staff.logout", "patient", ann)


def test_a_check_in_logs_staff_out_and_no_login_is_taken_during_a_visit(kiosk):
    app, rt, data, clock, ann = kiosk
    app.post(Intent("staff_login", {"name": "Ann Berg", "pin": "482913"}))
    pump(app, lambda: app.top.name == "staff_home", what="staff home")
    app.post(Intent("checkin", {"code": "1234"}))  # a patient's check-in, however it came
    pump(app, lambda: app.top.name == "program", what="the patient's program")
    app.post(Intent("staff"))
    app.post(Intent("staff_login", {"name": "Ann Berg", "pin": "482913"}))
    pump(app, lambda: staff_entries(data)[-1].action == "staff.login_failed", what="refused during the visit")
    app.step(0.1, [])
    assert app.top.name == "program"
    assert [(e.action, e.details.get("reason")) for e in staff_entries(data)] == [
        ("staff.login", None), ("staff.logout", "checkin"), ("staff.login_failed", "during a patient's visit")]


def test_a_late_staff_logout_never_takes_a_patients_screen_away(kiosk):
    # A staff home's logout (idle, walk-up) that reaches the worker after a patient checked in
    # must not send the patient back to the start screen in the middle of their visit.
    app, rt, data, clock, ann = kiosk
    app.post(Intent("checkin", {"code": "1234"}))
    pump(app, lambda: app.top.name == "program", what="the patient's program")
    app.post(Intent("staff_logout", {"reason": "idle"}))
    app.post(Intent("staff_login", {"name": "Nobody", "pin": "0000"}))  # a marker: handled after the logout
    pump(app, lambda: any(e.details.get("name") == "Nobody" for e in staff_entries(data)), what="the marker")
    app.step(0.1, [])
    assert app.top.name == "program"
