"""The Programs room (ui/screens/staff_program.py, gaitkiosk/staff_rooms/programs.py): a therapist edits a
patient's program by taps through the real runtime (worker thread, SQLite store, sim:// sensors), and
what is saved is what the next check-in plans."""

from __future__ import annotations

import staff_support
import ui_support
from staff_support import log_in
from ui_support import pump, tap, tap_button

from gaitkiosk import cli
from store import open_store
from ui.app import Intent
from ui.screens.staff import do, view

dummy_video = ui_support.dummy_video
kiosk = staff_support.kiosk
DEMO_TITLES = ["Stand still", "Lean to the targets", "Sway in time", "Heel-to-toe walk", "Rock heel to toe",
               "Even weight", "Walk to the beat"]


def patient_id(data, code="1234") -> str:
    with open_store(data) as st:
        return st.patients.by_code(code).id


def programs(data, pid):
    with open_store(data) as st:
        return st.programs.for_patient(pid, active_only=False)


def program_entries(data):
    with open_store(data) as st:
        return [e for e in reversed(st.audit.recent(500)) if e.action == "program.set"]


def open_program(app, data, who="Ann Berg") -> str:
    pid = patient_id(data)
    log_in(app, who)
    app.post(view("program", patient=pid))
    pump(app, lambda: app.top.name == "staff_program", what="the program screen")
    return pid


def settle(app) -> None:
    pump(app, lambda: not getattr(app.top, "busy", False), what="the worker's answer")


def press(app, button) -> None:
    """Tap ``button`` and wait until the worker answered the change it makes."""
    assert button.enabled, f"{button.id} is greyed out"
    tap_button(app, button)
    settle(app)


def find(app, ids: str, buttons: str):
    """The button ``ids`` of ``app.top.<buttons>``, turning the pages with More until it is shown."""
    for _ in range(10):
        for b in getattr(app.top, buttons).buttons:
            if b.id == ids:
                return b
        press(app, app.top.buttons.get("more"))
    raise AssertionError(f"no {ids} on any page")


def row(app, i):
    return find(app, f"row:{i}", "panels")


def control(app, ids):
    return find(app, ids, "controls")


def check_in(app, code="1234") -> list[str]:
    """Log out by the button, check the patient in; the titles on the patient's program screen."""
    tap_button(app, app.top.bar.get("logout"))
    pump(app, lambda: app.top.name == "attract", what="the start screen")
    app.post(Intent("start"))
    pump(app, lambda: app.top.name == "checkin", what="check-in")
    app.post(Intent("checkin", {"code": code}))
    pump(app, lambda: app.top.name == "program", what="the patient's program")
    return [i["title"] for i in app.top.items]


def test_reorder_remove_repeat_add_and_parameters_are_saved_and_planned_at_the_next_checkin(kiosk):
    app, rt, data, clock, ann = kiosk
    pid = open_program(app, data)
    screen = app.top
    assert [r["title"] for r in screen.rows] == DEMO_TITLES
    assert not screen.buttons.get("save").enabled  # nothing changed yet
    press(app, screen.row_buttons.get("down:0"))  # Stand still after Lean to the targets
    assert [r["drill"] for r in app.top.rows[:2]] == ["limits_of_stability", "quiet_standing"]
    assert app.top.status() == ("Changed, not saved yet.", True)
    tap_button(app, row(app, 1))
    assert app.top.mode == "edit" and app.top.title() == "Stand still (2 of 7)"
    press(app, control(app, "reps:plus"))
    press(app, control(app, "p:eyes:closed"))
    press(app, control(app, "p:duration_s:plus"))
    assert app.top.rows[1]["words"] == "eyes closed, duration 35 s"  # what differs from the usual
    tap_button(app, app.top.buttons.get("done"))
    tap_button(app, row(app, 6))  # Walk to the beat, on a later page at 800 x 480
    press(app, app.top.buttons.get("remove"))
    tap_button(app, app.top.buttons.get("add"))
    assert app.top.mode == "add" and [b.label for b in app.top.buttons.buttons] == \
        ["Stand still", "Lean to the targets", "Sway in time", "Heel-to-toe walk", "Rock heel to toe", "Even weight",
         "Walk to the beat"]
    press(app, app.top.buttons.get("add:tandem_walk"))
    assert app.top.mode == "edit" and app.top.title() == "Heel-to-toe walk (7 of 7)"
    press(app, control(app, "p:steps:minus"))  # 10 -> 8 (steps of 2)
    tap_button(app, app.top.buttons.get("done"))
    press(app, app.top.buttons.get("save"))
    assert app.top.note == "Saved. The new program starts at the next check-in." and not app.top.changed
    titles = ["Lean to the targets", "Stand still", "Sway in time", "Heel-to-toe walk", "Rock heel to toe",
              "Even weight", "Heel-to-toe walk"]
    assert [r["title"] for r in app.top.rows] == titles
    # A new version; the old one is kept, inactive (the trends room marks prescription changes).
    old, new = programs(data, pid)
    assert (old.active, new.active, new.created_by) == (False, True, ann)
    rx = new.prescriptions[1]
    assert (rx.drill, rx.repetitions, rx.params["eyes"], rx.params["duration_s"]) == ("quiet_standing", 2, "closed", 35.0)
    assert new.prescriptions[6].params["steps"] == 8
    (entry,) = program_entries(data)
    assert (entry.user_id, entry.subject, entry.details["patient"], entry.details["replaces"]) == \
        (ann, new.id, "1234", [old.id])
    assert entry.details["changes"] == [
        "limits_of_stability: position 2 -> 1", "quiet_standing: position 1 -> 2", "quiet_standing: repetitions 1 -> 2",
        "quiet_standing: eyes open -> closed", "quiet_standing: duration_s 30 -> 35", "added tandem_walk at 7",
        "removed gait_insoles from 7"]
    # The next check-in plans from it: Stand still twice, no walk to the beat, a second heel-to-toe walk.
    assert check_in(app) == ["Lean to the targets", "Stand still", "Stand still", "Sway in time", "Heel-to-toe walk",
                             "Rock heel to toe", "Even weight", "Heel-to-toe walk"]


def test_a_value_sent_out_of_range_is_refused_in_the_clis_words_and_nothing_is_stored(kiosk, capsys):
    app, rt, data, clock, ann = kiosk
    pid = open_program(app, data)
    # The steppers stop at the end of the range: period 3 s -> 4 s in steps of 0.1 s, then + is greyed out.
    tap_button(app, row(app, 2))
    assert app.top.rows[2]["drill"] == "rhythmic_shift"
    for _ in range(10):
        press(app, control(app, "p:period_s:plus"))
    assert app.top.rows[2]["params"]["period_s"] == 4.0 and not control(app, "p:period_s:plus").enabled
    tap_button(app, app.top.bar.get("back"))
    assert app.top.mode == "list"

    def cli_error(*prescriptions) -> str:
        assert cli.main(["program", "set", "1234", *prescriptions, "--data-dir", str(data)]) != 0
        line = capsys.readouterr().err.strip()
        return line.split(": error: ", 1)[1]

    def sent(rows) -> str:
        app.top.message = None
        app.post(do("program_save", patient=pid, rows=rows))
        pump(app, lambda: app.top.message, what="the refusal")
        return app.top.message

    rx = {"drill": "quiet_standing", "params": {"duration_s": 500}, "repetitions": 1, "level": 0, "source": None}
    assert sent([rx]) == cli_error("quiet_standing:duration_s=500") == \
        "drill 'quiet_standing': duration_s=500 is out of range: it must be 10 to 120 s"
    assert sent([{**rx, "params": {"eyes": "shut"}}]) == cli_error("quiet_standing:eyes=shut")
    assert sent([{**rx, "drill": "hopscotch", "params": {}}]) == cli_error("hopscotch")
    assert sent([{**rx, "params": {}, "repetitions": 11}]) == \
        "drill 'quiet_standing': repetitions must be 1 to 10, got 11"
    assert sent([]) == "A program needs at least one drill: add one, or leave the old program as it is."
    app.top.message = None
    app.post(do("program_check", patient=pid, rows=[rx]))  # the check after each change refuses alike
    pump(app, lambda: app.top.message, what="the refusal")
    assert app.top.message == cli_error("quiet_standing:duration_s=500")
    assert len(programs(data, pid)) == 1 and program_entries(data) == []
    assert app.top.name == "staff_program" and app.top.rows[2]["params"]["period_s"] == 4.0  # the draft stays


def test_a_drill_that_no_longer_exists_is_shown_and_must_be_removed_before_saving(kiosk, monkeypatch):
    app, rt, data, clock, ann = kiosk
    from drills import registry

    pid = open_program(app, data)
    monkeypatch.delitem(registry._DRILLS, "gait_insoles")  # a kiosk without the insole drill
    monkeypatch.delitem(registry._cache, "gait_insoles", raising=False)
    app.post(view("program", patient=pid))
    pump(app, lambda: app.top.name == "staff_program" and app.top.rows[6].get("missing"), what="the reloaded program")
    press(app, app.top.row_buttons.get("down:0"))  # changes are checked without complaint meanwhile
    assert app.top.message is None and app.top.rows[6]["missing"] and app.top.rows[0]["drill"] == "limits_of_stability"
    tap_button(app, app.top.buttons.get("save"))
    pump(app, lambda: app.top.message, what="the refusal")
    assert app.top.message.startswith("unknown drill 'gait_insoles'; the drills are: quiet_standing")
    tap(app, (app.size[0] // 2, app.size[1] - 5))  # a tap reads the band away, and does nothing else
    assert app.top.message is None and app.top.mode == "list"
    tap_button(app, row(app, 6))
    press(app, app.top.buttons.get("remove"))
    press(app, app.top.buttons.get("save"))
    assert app.top.note.startswith("Saved") and len(app.top.rows) == 6
    assert "removed gait_insoles from 7" in program_entries(data)[0].details["changes"]


def test_the_level_shown_can_be_overridden_and_the_next_checkin_starts_there(kiosk, capsys):
    app, rt, data, clock, ann = kiosk
    pid = open_program(app, data)
    tap_button(app, row(app, 0))
    level = next(s for s in app.top.settings() if s["id"] == "level")
    assert (level["value"], level["range"]) == ("0 of 4", "stance apart at this level")
    press(app, control(app, "level:plus"))
    level = next(s for s in app.top.settings() if s["id"] == "level")
    assert (level["value"], level["range"]) == ("1 of 4", "stance together at this level")
    assert control(app, "level:minus").enabled
    tap_button(app, app.top.buttons.get("done"))
    press(app, app.top.buttons.get("save"))
    assert program_entries(data)[0].details["changes"] == ["quiet_standing: level 0 -> 1"]
    # It persists: the room opened again shows level 1, set by the therapist.
    app.post(view("program", patient=pid))
    pump(app, lambda: app.top.name == "staff_program" and not app.top.note, what="the program again")
    assert (app.top.rows[0]["level"], app.top.rows[0]["note"]) == (1, "set by the therapist")
    tap_button(app, row(app, 0))
    assert app.top.status() == ("Level 1: set by the therapist.", False)
    tap_button(app, app.top.buttons.get("done"))
    # Saving something else keeps the level (it is carried into the new version).
    tap_button(app, row(app, 1))
    press(app, control(app, "reps:plus"))
    tap_button(app, app.top.buttons.get("done"))
    press(app, app.top.buttons.get("save"))
    assert app.top.rows[0]["level"] == 1
    assert program_entries(data)[1].details["changes"] == ["limits_of_stability: repetitions 1 -> 2"]
    # `program show` says so too (it reads the store beside the running kiosk).
    assert cli.main(["program", "show", "1234", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "1. quiet_standing (starts at level 1)" in out and "level 1 (set by the therapist)" in out
    # The next check-in plans Stand still one step harder: feet together.
    check_in(app)
    app.post(Intent("start_drill", {"index": 0}))
    pump(app, lambda: app.top.name == "instruction", what="the first drill's instruction")
    assert "feet together" in app.top.drill["instruction"]


def test_cancel_asks_before_discarding_and_back_leads_to_the_patients_page(kiosk, monkeypatch):
    app, rt, data, clock, ann = kiosk
    pid = open_program(app, data)
    posted = []
    post = app.post
    monkeypatch.setattr(app, "post", lambda intent: (posted.append(intent), post(intent)))
    press(app, app.top.row_buttons.get("down:0"))
    tap_button(app, app.top.buttons.get("cancel"))
    assert app.top.mode == "confirm" and app.top.status() == ("Your changes are not saved.", True)
    tap_button(app, app.top.buttons.get("keep"))
    assert app.top.mode == "list" and app.top.changed
    tap_button(app, app.top.bar.get("back"))  # Back asks too
    assert app.top.mode == "confirm"
    posted.clear()
    tap_button(app, app.top.buttons.get("discard"))
    assert [(i.kind, i.data) for i in posted] == [("staff_view", {"view": "patient", "patient": pid})]
    assert len(programs(data, pid)) == 1 and program_entries(data) == []
    # Nothing changed: Cancel leaves at once.
    app.post(view("program", patient=pid))
    pump(app, lambda: app.top.name == "staff_program" and app.top.mode == "list" and not app.top.changed,
         what="the program again")
    posted.clear()
    tap_button(app, app.top.buttons.get("cancel"))
    assert [(i.kind, i.data) for i in posted] == [("staff_view", {"view": "patient", "patient": pid})]


def test_a_technician_can_neither_open_nor_save_a_program(kiosk):
    app, rt, data, clock, ann = kiosk
    pid = patient_id(data)
    log_in(app, "Bo L.")
    app.post(view("program", patient=pid))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "A technician cannot open this screen." and app.top.name == "staff_home"
    app.top.message = None
    app.post(do("program_save", patient=pid, rows=[{"drill": "quiet_standing", "params": {}, "repetitions": 1,
                                                    "level": 0, "source": None}]))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "A technician cannot do this."
    assert len(programs(data, pid)) == 1 and program_entries(data) == []


def test_a_patient_that_is_not_there_is_refused(kiosk):
    app, rt, data, clock, ann = kiosk
    log_in(app)
    app.post(view("program", patient="no-such-id"))
    pump(app, lambda: getattr(app.top, "message", None), what="the refusal")
    assert app.top.message == "That patient is not on this kiosk." and app.top.name == "staff_home"


def test_a_save_is_one_transaction_with_its_audit_entry(tmp_path):
    """Programs.replace: the new version, the old one deactivated and the audit entry, or none of them."""
    import pytest

    from store.patients import Patient
    from store.programs import Prescription, Program

    with open_store(tmp_path) as st:
        p = st.patients.add(Patient(code="5555"))
        first = st.programs.add(Program(patient_id=p.id, name="first", prescriptions=[Prescription("quiet_standing")]))

        def audit_fails(replaced):
            st.audit.log("program.set", subject="x", details={"replaces": [r.id for r in replaced]})
            raise RuntimeError("the audit entry could not be written")

        second = Program(patient_id=p.id, name="second", prescriptions=[Prescription("tandem_walk")])
        with pytest.raises(RuntimeError):
            st.programs.replace(second, then=audit_fails)
        assert [(q.id, q.active) for q in st.programs.for_patient(p.id, active_only=False)] == [(first.id, True)]
        assert [e for e in st.audit.recent(50) if e.action == "program.set"] == []
        old = st.programs.replace(second, then=lambda replaced: None)
        assert [q.id for q in old] == [first.id]
        assert [(q.name, q.active) for q in st.programs.for_patient(p.id, active_only=False)] == \
            [("first", False), ("second", True)]
