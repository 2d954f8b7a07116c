"""The Patients room and a patient's Trends (issue 11 items 2 and 5), on the worker thread.

Views: ``patients`` (every patient, the screen filters and scrolls), ``patient`` (one patient's
page: program in words, last visit, sparklines), ``patient_new`` (a free code to start from),
``sessions`` (a patient's sessions and their trials), ``trends`` (the series of
``gaitkiosk.trends``) and ``compare`` (two sessions side by side). Actions: ``patient_add`` and
``patient_set_active``, each audited with the staff user. Adding checks what ``gaitkiosk patients
add`` checks (the same function).
"""

from __future__ import annotations

import random

from gaitkiosk.staff_views import Refused, action, view

THERAPIST = ("therapist",)
SPARK_POINTS = 12  # the last visits a sparkline shows
NEW_CODE_DIGITS = 6  # docs/therapist.md "Patients": why a new code is random, 6 digits


def _patient(desk, patient_id: str):
    from store.errors import NotFoundError

    try:
        return desk.store.patients.get(str(patient_id))
    except NotFoundError:
        raise Refused("That patient is no longer in the store.") from None


def _who(p) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name or "", "birth_year": p.birth_year, "notes": p.notes,
            "archived": p.archived, "since": p.created_at[:10]}


@view("patients", roles=THERAPIST)
def patients(desk, archived: bool = False) -> dict:
    """Every patient (deactivated ones too: the screen shows them on request), by code."""
    found = desk.store.db.execute("SELECT id, code, name, archived, created_at FROM patients ORDER BY code").fetchall()
    return {"patients": [(r[0], r[1], r[2] or "", bool(r[3]), r[4][:10]) for r in found], "archived": bool(archived)}


def free_code(store, rng: random.Random | None = None) -> str:
    """A code nobody has: random, ``NEW_CODE_DIGITS`` digits, not starting with 0 (a code handed out
    in order would tell whoever has one the codes of the patients before and after them)."""
    rng = rng or random.SystemRandom()
    taken = {r[0] for r in store.db.execute("SELECT code FROM patients")}
    lo, hi = 10 ** (NEW_CODE_DIGITS - 1), 10 ** NEW_CODE_DIGITS - 1
    for _ in range(1000):
        code = str(rng.randint(lo, hi))
        if code not in taken:
            return code
    raise Refused("No free code was found: type one.")


@view("patient_new", roles=THERAPIST)
def patient_new(desk) -> dict:
    from gaitkiosk.patient_code import MAX_DIGITS, MIN_DIGITS

    return {"code": free_code(desk.store), "min_digits": MIN_DIGITS, "max_digits": MAX_DIGITS}


def screen_words(error: str) -> str:
    """A CLI error as the screen says it: its first clause (what follows names commands), a sentence."""
    first = error.split(";")[0].split(" (")[0].split(", got")[0].strip()
    return first[:1].upper() + first[1:] + "."


@action("patient_add", roles=THERAPIST)
def patient_add(desk, code: str = "", name: str = "", notes: str = "") -> tuple[str, dict]:
    from gaitkiosk.commands.patients import add_patient
    from gaitkiosk.errors import UsageError
    from store.errors import InvalidRecordError

    try:
        p = add_patient(desk.store, str(code), name=str(name), notes=str(notes))
    except (UsageError, InvalidRecordError) as exc:
        raise Refused(screen_words(str(exc))) from None
    desk.audit("patient.add", subject=p.id, code=p.code, by="staff screen")
    return "staff_patient", patient_page(desk, p.id)


@action("patient_set_active", roles=THERAPIST)
def patient_set_active(desk, patient: str = "", active: bool = True) -> tuple[str, dict]:
    p = _patient(desk, patient)
    if p.archived == (not active):
        return "staff_patient", patient_page(desk, p.id)
    p.archived = not active
    desk.store.patients.update(p)
    desk.audit("patient.reactivate" if active else "patient.deactivate", subject=p.id, code=p.code)
    return "staff_patient", patient_page(desk, p.id)


# -- a patient's page ---------------------------------------------------------------------------------

def param_words(drill: str, params: dict) -> str:
    """A prescription's parameters as a therapist reads them: "stance semi tandem, eyes both, duration 30 s"
    (every parameter the drill runs with: the prescribed ones and the defaults), in the Programs
    room's words for a parameter and its value."""
    from drills import registry
    from gaitkiosk.staff_rooms.programs import label, value_words

    return ", ".join(f"{label(p.name).lower()} {value_words({'unit': p.unit}, params.get(p.name, p.default))}"
                     for p in registry.get(drill).PARAMS)


def program_lines(store, patient_id: str) -> dict | None:
    """The active program: name, when it was set, and its drills in order, in words."""
    from drills import registry
    from drills.errors import ProgramError
    from drills.program import active_program

    try:
        program = active_program(store, store.patients.get(patient_id))
    except ProgramError:
        return None
    items = []
    for rx in program.prescriptions:
        try:
            title, words = registry.get(rx.drill).title, param_words(rx.drill, rx.params)
        except LookupError:
            title, words = rx.drill, "a drill this kiosk does not know"
        items.append((title + (f" × {rx.repetitions}" if rx.repetitions > 1 else ""), words))
    return {"name": program.name, "set": program.created_at[:10], "items": items}


def last_visit(store, patient_id: str) -> str:
    """The last visit in words: "2026-11-30: 3 of 4 exercises done (1 stopped early)"."""
    found = store.sessions.list(patient_id=patient_id, limit=1)
    if not found:
        return "No visits yet."
    s = found[0]
    trials = store.trials.for_session(s.session.id)
    done = sum(1 for t in trials if t.status == "complete")
    stopped = sum(1 for t in trials if t.status in ("stopped", "incomplete"))
    text = f"{s.session.started_at[:10]}: {done} of {len(trials)} exercise{'s' if len(trials) != 1 else ''} done"
    if stopped:
        text += f" ({stopped} stopped early)"
    return text + "."


def sparklines(trends) -> list[dict]:
    """The page's sparklines: each drill's score and the eyes-open sway area over the last visits."""
    from gaitkiosk.trends import SCORE

    out = []
    for key, s in trends.series.items():
        if key.startswith(SCORE) or key == "sway_area_open":
            pts = s.points[-SPARK_POINTS:]
            out.append({"key": key, "label": s.label, "unit": s.unit, "values": [p[1] for p in pts],
                        "footings": [p[3] for p in pts], "last_at": pts[-1][0][:10]})
    return out


@view("patient", audit_view=True, roles=THERAPIST)
def patient_page(desk, patient: str = "") -> dict:
    from gaitkiosk import trends

    p = _patient(desk, patient)
    return {"patient": _who(p), "program": program_lines(desk.store, p.id), "last_visit": last_visit(desk.store, p.id),
            "sparklines": sparklines(trends.series(desk.store, p.id))}


@view("sessions", audit_view=True, roles=THERAPIST)
def sessions(desk, patient: str = "") -> dict:
    """The patient's sessions, newest first, each with its trials (one query for all the trials)."""
    from drills import registry

    p = _patient(desk, patient)
    found = desk.store.db.execute(
        "SELECT id, started_at, status FROM sessions WHERE patient_id = ? ORDER BY started_at DESC", [p.id]).fetchall()
    trials: dict[str, list] = {sid: [] for sid, _, _ in found}
    for tid, sid, drill, status, score in desk.store.db.execute(
            "SELECT t.id, t.session_id, t.drill, t.status, json_extract(t.results, '$.score') FROM trials t "
            "JOIN sessions s ON s.id = t.session_id WHERE s.patient_id = ? ORDER BY t.position", [p.id]):
        try:
            title = registry.get(drill).title
        except LookupError:
            title = drill
        trials[sid].append({"id": tid, "drill": drill, "title": title, "status": status,
                            "score": score if isinstance(score, int | float) else None})
    return {"patient": _who(p), "sessions": [{"id": sid, "started_at": at, "status": status, "trials": trials[sid]}
                                             for sid, at, status in found]}


@view("trends", audit_view=True, roles=THERAPIST)
def trends_view(desk, patient: str = "") -> dict:
    from gaitkiosk import trends

    p = _patient(desk, patient)
    return {"patient": _who(p), "trends": trends.series(desk.store, p.id)}


@view("compare", audit_view=True, roles=THERAPIST)
def compare_view(desk, patient: str = "", a: str = "", b: str = "") -> dict:
    from gaitkiosk import trends
    from store.errors import NotFoundError

    p = _patient(desk, patient)
    try:
        data = trends.compare(desk.store, str(a), str(b))
    except NotFoundError:
        raise Refused("One of the two sessions is no longer in the store.") from None
    return {"patient": _who(p), **data}
