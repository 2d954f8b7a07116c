"""The Patients room (issue 11 item 2), driven by taps through the real runtime (worker thread, SQLite
store, sim:// sensors): the list and its search, adding a patient on the on-screen keyboard and
checking them in, deactivating (check-in refused), the audit with the staff user, the page's
program, last visit and sparklines, the sessions list and its ways to the review and side by side."""

from __future__ import annotations

import patients_support
import staff_support
import ui_support
from staff_support import log_in, staff_entries
from ui_support import pump, tap, tap_button

from gaitkiosk import staff_views
from gaitkiosk.visit import DEACTIVATED
from store import open_store
from store.programs import Prescription, Program
from ui.screens.staff import STAFF_SCREENS, StaffScreen, do, view

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk


def by_staff(data, prefix):
    """Audit entries of ``prefix`` with a staff user (the demo seed's own are the CLI's, without one)."""
    return [e for e in staff_entries(data, prefix) if e.user_id]


def top_is(app, name):
    pump(app, lambda: app.top.name == name and not getattr(app.top, "busy", False), what=name)
    return app.top


def open_patients(app):
    log_in(app)
    tap_button(app, app.top.rooms_buttons.get("patients"))
    return top_is(app, "staff_patients")


def type_digits(app, pad, digits: str):
    for d in digits:
        tap_button(app, pad.buttons.get(f"key:{d}"))


def row_center(screen, i):
    lst = screen.list
    return lst.rect.left + lst.rect.width // 2, lst.rect.top + i * lst.row_h - int(lst.offset) + lst.row_h // 2


def check_in(app, code):
    """From the start screen, the patient's way: Start, the code, OK."""
    pump(app, lambda: app.top.name == "attract", what="start screen")
    tap(app, (app.size[0] // 2, app.size[1] // 2))  # anywhere but the Staff button
    screen = top_is(app, "checkin")
    type_digits(app, screen.keypad, code)
    tap_button(app, screen.keypad.buttons.get("key:ok"))


class EchoScreen(StaffScreen):
    name = "staff_echo"


def echo_rooms(monkeypatch):
    """Stand-ins for the rooms other engineers build (review, program): show what was asked for."""
    monkeypatch.setitem(STAFF_SCREENS, "staff_review", EchoScreen)
    monkeypatch.setitem(STAFF_SCREENS, "staff_program", EchoScreen)
    monkeypatch.setitem(staff_views.VIEWS, "review", (lambda desk, **p: dict(p), False, ("therapist",)))
    monkeypatch.setitem(staff_views.VIEWS, "program", (lambda desk, **p: dict(p), False, ("therapist",)))


def test_search_by_code_finds_the_patient_and_opens_their_page(kiosk):
    app, rt, data, clock, ann = kiosk
    with open_store(data) as st:
        patients_support.add_patients(st, 300, first=500000)
        patients_support.add_patient_with_visits(st, "731904", 3)
    screen = open_patients(app)
    assert len(screen.rows) == 300 - 6 + 2  # every 50th of the 300 is deactivated: hidden; 1234 and 731904
    tap_button(app, screen.side_set.get("search"))
    type_digits(app, screen.pad, "7319")
    assert [r[1] for r in screen.rows] == ["731904"]
    tap_button(app, screen.pad.buttons.get("key:ok"))
    assert not screen.searching
    tap(app, row_center(screen, 0))
    page = top_is(app, "staff_patient")
    assert page.patient["code"] == "731904"
    assert page.data["last_visit"].endswith("3 of 3 exercises done.")
    seen = staff_entries(data, "staff.view.patient")
    assert [(e.user_id, e.subject) for e in seen][-1] == (ann, page.patient["id"])


def test_the_list_scrolls_by_drag_fling_and_pages_and_shows_deactivated_on_request(kiosk):
    app, rt, data, clock, ann = kiosk
    with open_store(data) as st:
        patients_support.add_patients(st, 300, first=500000)
    screen = open_patients(app)
    lst = screen.list
    x, y = row_center(screen, 2)
    # a drag up by two rows moves the list two rows, and a tap after it opens nothing
    ui_support.drag(app, (x, y), (x, y - 2 * lst.row_h), steps=6)
    assert abs(lst.offset - 2 * lst.row_h) <= 2 and app.top is screen
    # a fling: the list runs on after the finger lifts, and slows to a stop
    ui_support.drag(app, (x, y), (x, y - lst.row_h), steps=3, dt=0.01)
    lifted = lst.offset
    app.step(0.05, [])
    assert lst.offset > lifted and lst.velocity > 0
    pump(app, lambda: lst.velocity == 0, what="the fling to stop")
    tap_button(app, screen.pager.get("down"))
    assert lst.offset > lifted
    first = lst.visible()[0]
    tap_button(app, screen.pager.get("up"))
    assert lst.visible()[0] < first
    shown = len(screen.rows)
    tap_button(app, screen.side_set.get("archived"))
    assert len(screen.rows) == shown + 6 and any(r[3] for r in screen.rows)


def test_add_a_patient_on_the_keyboard_then_they_check_in(kiosk):
    app, rt, data, clock, ann = kiosk
    screen = open_patients(app)
    tap_button(app, screen.side_set.get("add"))
    new = top_is(app, "staff_patient_new")
    offered = new.values["code"]
    assert offered.isdigit() and len(offered) == 6
    tap_button(app, new.fields.get("field:code"))
    for _ in offered:
        tap_button(app, new.pad.buttons.get("key:del"))
    type_digits(app, new.pad, "48213")
    tap_button(app, new.pad.buttons.get("key:ok"))
    tap_button(app, new.fields.get("field:name"))
    kb = new.keyboard
    for key in ("char:e", "char:v", "char:a", "space", "char:l", "char:u", "char:n", "char:d"):
        tap_button(app, kb.buttons.get(key))
    tap_button(app, kb.buttons.get("done"))
    assert new.values["name"] == "Eva Lund"
    tap_button(app, new.fields.get("field:notes"))
    for key in ("shift", "char:l", "char:e", "char:f", "char:t", "space", "layer", "char:2"):
        tap_button(app, new.keyboard.buttons.get(key))
    tap_button(app, new.keyboard.buttons.get("done"))
    assert new.values["notes"] == "Left 2"
    tap_button(app, new.save.get("save"))
    page = top_is(app, "staff_patient")
    assert page.patient["code"] == "48213" and page.patient["name"] == "Eva Lund"
    added = by_staff(data, "patient.add")
    assert [(e.user_id, e.subject, e.details["code"]) for e in added] == [(ann, page.patient["id"], "48213")]
    with open_store(data) as st:  # the program is the programs room's; here the store's API sets one
        p = st.patients.by_code("48213")
        assert (p.name, p.notes) == ("Eva Lund", "Left 2")
        st.programs.add(Program(p.id, "balance", [Prescription("quiet_standing", {})]))
    tap_button(app, page.bar.get("logout"))
    check_in(app, "48213")
    top_is(app, "program")


def test_adding_refuses_what_the_cli_refuses(kiosk):
    app, rt, data, clock, ann = kiosk
    screen = open_patients(app)
    tap_button(app, screen.side_set.get("add"))
    new = top_is(app, "staff_patient_new")
    tap_button(app, new.fields.get("field:code"))
    for _ in new.values["code"]:
        tap_button(app, new.pad.buttons.get("key:del"))
    type_digits(app, new.pad, "1234")  # the demo patient's code
    tap_button(app, new.pad.buttons.get("key:ok"))
    tap_button(app, new.save.get("save"))
    pump(app, lambda: new.message, what="the refusal")
    assert new.message.startswith("A patient with code 1234 already exists")
    new.message = None
    tap_button(app, new.fields.get("field:code"))
    for _ in "1234":
        tap_button(app, new.pad.buttons.get("key:del"))
    type_digits(app, new.pad, "12")
    tap_button(app, new.pad.buttons.get("key:ok"))
    tap_button(app, new.save.get("save"))
    pump(app, lambda: new.message, what="the refusal")
    assert "4 to 8 digits" in new.message and app.top is new
    assert by_staff(data, "patient.add") == []


def test_deactivate_after_confirming_then_check_in_is_refused_and_reactivate(kiosk):
    app, rt, data, clock, ann = kiosk
    screen = open_patients(app)
    tap_button(app, screen.side_set.get("search"))
    type_digits(app, screen.pad, "1234")
    tap(app, row_center(screen, 0))
    page = top_is(app, "staff_patient")
    assert page.patient["code"] == "1234" and not page.patient["archived"]
    tap_button(app, page.actions.get("active"))
    assert page.confirming
    tap_button(app, page.confirm.get("cancel"))  # cancelled: nothing changes
    assert not page.confirming and by_staff(data, "patient.") == []
    tap_button(app, page.actions.get("active"))
    tap_button(app, page.confirm.get("yes"))
    pump(app, lambda: app.top is not page and app.top.name == "staff_patient", what="the page again")
    page = app.top
    assert page.patient["archived"] and page.actions.get("active").label == "Reactivate"
    entries = by_staff(data, "patient.")
    assert [(e.action, e.user_id, e.subject) for e in entries] == [("patient.deactivate", ann, page.patient["id"])]
    tap_button(app, page.bar.get("logout"))
    check_in(app, "1234")
    pump(app, lambda: app.top.name == "checkin" and app.top.message, what="the refusal")
    assert app.top.message == DEACTIVATED and app.top.wait_s == 0  # a real code: no wrong-code wait
    with open_store(data) as st:
        assert st.audit.recent(5)[0].details["reason"] == "deactivated patient"
    tap_button(app, app.top.buttons.get("back"))
    screen = open_patients(app)
    tap_button(app, screen.side_set.get("archived"))
    tap_button(app, screen.side_set.get("search"))
    type_digits(app, screen.pad, "1234")
    tap(app, row_center(screen, 0))
    page = top_is(app, "staff_patient")
    tap_button(app, page.actions.get("active"))
    tap_button(app, page.confirm.get("yes"))
    pump(app, lambda: app.top is not page and app.top.name == "staff_patient", what="the page again")
    assert not app.top.patient["archived"]
    assert [e.action for e in by_staff(data, "patient.")] == ["patient.deactivate", "patient.reactivate"]


def test_a_technician_cannot_open_patients(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app, "Bo L.")
    assert "patients" not in [b.id for b in app.top.rooms_buttons.buttons]
    for name, params in (("patients", {}), ("patient_new", {}), ("trends", {"patient": "x"})):
        app.top.message = None
        app.post(view(name, **params))
        pump(app, lambda: app.top.message, what="the refusal")
        assert app.top.message == "A technician cannot open this screen." and app.top.name == "staff_home"
    app.top.message = None
    app.post(do("patient_add", code="55555"))
    pump(app, lambda: app.top.message, what="the refusal")
    assert app.top.message == "A technician cannot do this."
    with open_store(data) as st:
        assert [p.code for p in st.patients.list(include_archived=True)] == ["1234"]


def test_the_page_shows_program_last_visit_and_sparklines_of_the_stored_scores(kiosk):
    app, rt, data, clock, ann = kiosk
    with open_store(data) as st:
        p = patients_support.add_patient_with_visits(st, "620417", 15, uncalibrated_at={14}, stopped_at={13})
        stored = [t.results["score"] for s in reversed(st.sessions.list(patient_id=p.id, limit=99))
                  for t in st.trials.for_session(s.session.id) if t.drill == "quiet_standing" and t.status == "complete"]
    log_in(app)
    app.post(view("patient", patient=p.id))
    page = top_is(app, "staff_patient")
    assert page.data["program"]["items"][0] == ("Stand still", "stance apart, eyes open, duration 30 s, "
                                                                "zone radius 20 mm, progress on")
    assert page.data["last_visit"].endswith(": 3 of 3 exercises done.")
    spark = {s["key"]: s for s in page.data["sparklines"]}["score:quiet_standing"]
    assert spark["values"] == stored[-12:] and spark["footings"][-1] == "uncalibrated"
    app.step(0.01, [])
    pts = page.spark_points["score:quiet_standing"]
    assert len(pts) == 12
    # the line goes up where the score does: of two scores apart by a tenth of the range, the higher is higher up
    vals = spark["values"]
    span = max(vals) - min(vals)
    assert all(pts[i][1] < pts[j][1] for i in range(12) for j in range(12) if vals[i] - vals[j] > span / 10)
    assert [x for x, _ in pts] == sorted(x for x, _ in pts)  # oldest on the left


def test_sessions_list_opens_a_trials_review_and_the_program_room(kiosk, monkeypatch):
    app, rt, data, clock, ann = kiosk
    echo_rooms(monkeypatch)
    with open_store(data) as st:
        p = patients_support.add_patient_with_visits(st, "620417", 4)
        newest = st.sessions.list(patient_id=p.id, limit=1)[0].session
        first_trial = st.trials.for_session(newest.id)[0]
    log_in(app)
    app.post(view("patient", patient=p.id))
    page = top_is(app, "staff_patient")
    tap_button(app, page.actions.get("program"))
    assert top_is(app, "staff_echo").data == {"patient": p.id}
    app.post(view("patient", patient=p.id))
    tap_button(app, top_is(app, "staff_patient").actions.get("sessions"))
    sessions = top_is(app, "staff_sessions")
    assert [k for k, _ in sessions.items[:4]] == ["session", "trial", "trial", "trial"]
    assert sessions.items[0][1]["id"] == newest.id
    tap(app, row_center(sessions, 1))
    assert top_is(app, "staff_echo").data == {"trial": first_trial.id}
