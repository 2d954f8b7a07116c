"""Wrong codes at the check-in keypad slow down and every failed check-in is audited (issue 9, defect 12).

The rule lives in gaitkiosk/lockout.py and runs on a fake clock here (nothing
sleeps); the kiosk test drives the real runtime (worker thread, SQLite store,
sim:// sensors) with the intents the keypad posts, the screen test the real
check-in screen with the messages the worker sends.
"""

from __future__ import annotations

import pytest
import ui_support
from staff_support import FakeClock
from ui_support import make_app, pump, tap_button

from gaitkiosk.config import default_config
from gaitkiosk.demo_seed import seed_demo
from gaitkiosk.lockout import KeypadLockout
from gaitkiosk.patient_code import MAX_DIGITS
from gaitkiosk.runtime import Runtime
from store import open_store
from store.patients import Patient
from ui import screens
from ui.app import Intent, Message
from ui.screens.checkin import wait_words

dummy_video = ui_support.dummy_video  # the fixture (SDL dummy video driver for these tests only)


# -- the rule -------------------------------------------------------------------------------------------
def test_the_third_wrong_code_within_an_hour_waits_30_s_and_each_further_one_doubles_to_15_min():
    clock = FakeClock()
    lock = KeypadLockout(clock)
    waits = []
    for _ in range(9):
        waits.append(lock.wrong())
        assert lock.wait_s() == waits[-1]
        clock.advance(waits[-1] + 1)  # the next try comes as soon as the keypad takes one
    assert waits == [0, 0, 30, 60, 120, 240, 480, 900, 900]


def test_a_correct_code_clears_nothing_but_an_hour_forgets():
    clock = FakeClock()
    lock = KeypadLockout(clock)
    lock.wrong()
    lock.wrong()
    # (a correct code here changes nothing: KeypadLockout has no "right" at all)
    clock.advance(10 * 60)
    assert lock.wrong() == 30  # the third within the hour
    clock.advance(3600.5)  # an hour after the last wrong code, all three are forgotten
    assert lock.recent_wrong() == 0
    assert lock.wrong() == 0


def test_a_typo_now_and_then_never_makes_anyone_wait():
    clock = FakeClock()
    lock = KeypadLockout(clock)
    for _ in range(50):  # one wrong code every 31 minutes, all day
        assert lock.wrong() == 0
        clock.advance(31 * 60)


def test_someone_trying_codes_all_day_gets_about_160():
    # The number gaitkiosk/patient_code.py and docs/kiosk.md quote: a greedy guesser on the real rule.
    clock = FakeClock(0.0)
    lock = KeypadLockout(clock)
    tries = 0
    while clock.t < 7 * 86400:
        clock.advance(lock.wait_s() + 1.0)  # a second to type each code
        lock.wrong()
        tries += 1
    per_day = tries / 7
    assert 140 <= per_day <= 170, per_day


@pytest.mark.parametrize("seconds, words", [(30, "30 seconds"), (1, "1 second"), (0.2, "1 second"), (59.5, "60 seconds"),
                                            (60, "60 seconds"), (61, "2 minutes"), (120, "2 minutes"),
                                            (900, "15 minutes")])
def test_waits_are_said_in_plain_words(seconds, words):
    assert wait_words(seconds) == words


# -- the screen -------------------------------------------------------------------------------------------
def test_the_keypad_waits_says_how_long_and_takes_no_code_meanwhile(dummy_video):
    app = make_app(router=screens.route)
    app.deliver(Message("checkin", {"max_len": MAX_DIGITS}))
    app.step(0.03, [])
    s = app.top
    assert s.name == "checkin" and s.keypad.max_len == MAX_DIGITS
    for key in "4712":
        tap_button(app, s.keypad.buttons.get(f"key:{key}"))
    tap_button(app, s.keypad.buttons.get("key:ok"))
    assert [(i.kind, i.data) for i in app.take_intents()] == [("checkin", {"code": "4712"})]
    app.deliver(Message("patient_unknown", {"code": "4712", "wait_s": 30.0}))
    app.step(0.03, [])
    assert "4712" in s.message and s.wait_text() == "Please wait 30 seconds, then try again."
    assert not any(b.enabled for b in s.keypad.buttons.buttons)
    tap_button(app, s.keypad.buttons.get("key:1"))  # a finger on a grey key does nothing
    assert s.keypad.code == "" and app.take_intents() == []
    app.step(20.0, [])
    assert s.wait_text() == "Please wait 10 seconds, then try again."
    app.step(10.0, [])
    assert s.wait_text() is None and s.message is None
    assert s.keypad.buttons.get("key:1").enabled
    tap_button(app, s.keypad.buttons.get("key:1"))
    assert s.keypad.code == "1"


def test_a_new_check_in_screen_keeps_the_workers_wait(dummy_video):
    # Back to the start and in again does not skip the wait: the worker sends it with "checkin".
    app = make_app(router=screens.route)
    app.deliver(Message("checkin", {"max_len": MAX_DIGITS, "wait_s": 45.0}))
    app.step(0.03, [])
    assert app.top.wait_text() == "Please wait 45 seconds, then try again."
    app.deliver(Message("checkin_wait", {"wait_s": 12.0}))
    app.step(0.0, [])
    assert app.top.wait_text() == "Please wait 12 seconds, then try again."


# -- the kiosk: the worker decides and audits ------------------------------------------------------------
@pytest.fixture
def kiosk(tmp_path, dummy_video):
    config = default_config()
    seed_demo(tmp_path, config, "1234")
    with open_store(tmp_path) as st:
        st.patients.add(Patient(code="9999"))  # a patient without a program
    clock = FakeClock()
    app = make_app(router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, tmp_path, simulate=True, keypad_lockout=KeypadLockout(clock)).start(app)
    yield app, rt, tmp_path, clock
    rt.close()


def checkin(app, code):
    app.post(Intent("checkin", {"code": code}))


def test_wrong_codes_at_the_kiosk_slow_down_and_every_failed_check_in_is_audited(kiosk):
    app, rt, data, clock = kiosk
    app.post(Intent("start"))
    pump(app, lambda: app.top.name == "checkin", what="check-in screen")
    assert app.top.keypad.max_len == MAX_DIGITS
    for n, code in enumerate(["1111", "2222", "3333"], 1):
        checkin(app, code)
        pump(app, lambda c=code: app.top.message is not None and c in app.top.message, what=f"wrong code {n}")
    assert app.top.wait_text() == "Please wait 30 seconds, then try again."
    # A code that comes anyway (not through the grey keypad) is not looked up: the worker holds the wait.
    checkin(app, "1234")
    pump(app, lambda: app.top.name == "checkin" and app.top.wait_s > 0 and app.top.message is None,
         what="refused during the wait")
    # A patient without a program is a failed check-in too, though not a wrong code.
    clock.advance(31)
    checkin(app, "9999")
    pump(app, lambda: app.top.message is not None and "no exercises" in app.top.message, what="no program")
    assert not app.top.waiting
    checkin(app, "4444")  # the fourth wrong code within the hour: 60 s
    pump(app, lambda: app.top.message is not None and "4444" in app.top.message, what="fourth wrong code")
    assert app.top.wait_text() == "Please wait 60 seconds, then try again."
    # Back to the start and in again: the new screen still waits.
    app.post(Intent("cancel"))
    pump(app, lambda: app.top.name == "attract", what="start screen")
    app.post(Intent("start"))
    pump(app, lambda: app.top.name == "checkin", what="check-in again")
    assert app.top.waiting
    clock.advance(61)
    checkin(app, "1234")  # the right code gets in once the wait is over
    pump(app, lambda: app.top.name == "program", what="program")
    rt.close()
    with open_store(data) as st:
        failed = [e for e in reversed(st.audit.recent(100)) if e.action == "checkin.failed"]
        patient = st.patients.by_code("9999")
    assert [(e.details["code"], e.details["reason"], e.details["wait_s"]) for e in failed] == [
        ("1111", "unknown code", 0), ("2222", "unknown code", 0), ("3333", "unknown code", 30.0),
        ("1234", "sent while the keypad waits after wrong codes", 30.0),
        ("9999", "no exercises set up", 0), ("4444", "unknown code", 60.0)]
    assert [e.details["wrong_codes_last_hour"] for e in failed] == [1, 2, 3, 3, 3, 4]
    assert failed[4].subject == patient.id and failed[0].subject == ""
