"""The Programs room: a therapist edits a patient's prescription on the touchscreen.

The screen (ui/screens/staff_program.py) keeps the draft: a list of rows
``{"drill", "params", "repetitions", "level", "source"}`` (``source``: the
prescription the row came from, None for an added drill). The worker owns every
rule: the view ``program`` loads the active program, today's level of each drill
(``drills.program.plan_for_patient``, the plan the next check-in would make) and
the drills' parameter schemas; ``program_check`` checks a draft after each change
and answers each row's words and level range; ``program_save`` stores it. Both
validate with ``drills.registry.validate``, the code behind ``gaitkiosk program
set``, so a refusal reads exactly as the CLI's error.

Saving never overwrites: it stores a new program version and deactivates the
old one (``store.programs.Programs.replace``) in one transaction with the audit
entry, which lists each change (old -> new) and the staff user. Every row
carries its level into the new version as ``_start_level`` (drills/program.py),
so a reorder does not send a patient back to level 0, and the therapist's
override of a level takes effect at the next check-in.
"""

from __future__ import annotations

import datetime as dt
import math

from drills import program as rxmod
from drills import registry
from drills.errors import DrillError
from gaitkiosk.staff_views import Refused, action, view

THERAPISTS = ("therapist",)
_SUFFIXES = ("_s", "_mm", "_pct", "_n")


# -- words -------------------------------------------------------------------------------------------

def label(name: str) -> str:
    """A parameter's name for the screen: ``zone_radius_mm`` -> "Zone radius"."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("_", " ").capitalize()


def value_words(param: dict, value) -> str:
    """A value with its unit: "30 s", "75 %", "on", "semi tandem"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return f"{value:g} {param['unit']}".strip()
    return str(value).replace("_", " ")


def step(param: dict) -> float:
    """The step of a number's -/+ buttons: the smallest of 1, 2, 5 x 10^k that crosses the range in
    at most 30 taps (whole numbers for an int)."""
    if param["min"] is None or param["max"] is None:
        return 1
    span = (param["max"] - param["min"]) / 30
    k = math.floor(math.log10(span)) if span > 0 else 0
    for mult in (1, 2, 5, 10):
        s = mult * 10.0 ** k
        if s >= span - 1e-12:
            break
    return max(1, int(round(s))) if param["type"] == "int" else round(s, 6)


def schemas() -> list[dict]:
    """Every available drill: name, title, summary, parameters (label, range in words, step), ladder."""
    out = []
    for d in registry.describe().values():
        params = [{**p, "label": label(p["name"]), "step": step(p) if p["type"] in ("int", "float") else None}
                  for p in d["params"]]
        out.append({"name": d["name"], "title": d["title"], "summary": d["summary"], "params": params,
                    "progression": d["progression"]})
    return out


def _checked(row: dict) -> dict:
    """A row's parameters as the CLI would store them (``Refused`` with the CLI's words if not)."""
    try:
        return registry.validate(str(row.get("drill", "")), _plain(row.get("params")))
    except DrillError as exc:
        raise Refused(str(exc)) from None


def _plain(params) -> dict:
    """The drill parameters of a row (the bookkeeping ``_`` keys are the room's own, not the screen's)."""
    return {k: v for k, v in dict(params or {}).items() if not str(k).startswith("_")}


def _repetitions(row: dict) -> int:
    low, high = rxmod.REPETITIONS
    n = row.get("repetitions", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not low <= n <= high:
        raise Refused(f"drill {row.get('drill')!r}: repetitions must be {low} to {high}, got {n!r}")
    return n


def _level(row: dict) -> int:
    n = row.get("level", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise Refused(f"drill {row.get('drill')!r}: the level must be 0 or more, got {n!r}")
    return n


def describe_row(row: dict, params: dict, note: str = "") -> dict:
    """A checked row with what the screen shows: title, parameters in words, the level's range and effect."""
    drill = row["drill"]
    cls = registry.get(drill)
    top = rxmod.top_level(drill, params)
    level = min(_level(row), top)
    today, _ = rxmod.apply_level(drill, params, level)
    schema = {p.name: {"unit": p.unit} for p in cls.PARAMS}
    # The list shows what differs from the drill's usual settings (as `program set` writes it); the drill's
    # page shows every parameter.
    words = ", ".join(f"{label(p.name).lower()} {value_words(schema[p.name], params[p.name])}"
                      for p in cls.PARAMS if params.get(p.name, p.default) != p.default) or "usual settings"
    if cls.PROGRESSION is None:
        level_words = "This drill has no levels."
    elif not params.get("progress", True):
        level_words = "Progression is off: the drill stays as set."
    else:
        name = cls.PROGRESSION[0]
        level_words = f"{label(name).lower()} {value_words(schema[name], today[name])} at this level"
    return {"drill": drill, "title": cls.title, "params": params, "repetitions": _repetitions(row),
            "level": level, "level_max": top, "level_words": level_words, "note": note, "words": words,
            "source": row.get("source")}


def check_rows(rows) -> list[dict]:
    """Each row of a draft checked and described; ``Refused`` at the first bad one (nothing is kept)."""
    if not isinstance(rows, list | tuple):
        raise Refused("The program was not sent as a list of drills.")
    out = []
    for row in rows:
        if not isinstance(row, dict):
            raise Refused("A drill of the program was sent without its settings.")
        out.append(describe_row(row, _checked(row), str(row.get("note") or "")))
    return out


# -- the views and actions ---------------------------------------------------------------------------

def _patient(desk, patient):
    try:
        found = desk.store.patients.get(str(patient or ""))
    except LookupError:
        raise Refused("That patient is not on this kiosk.") from None
    if found.archived:
        raise Refused(f"Patient {found.code} is deactivated: their program cannot change.")
    return found


def _current(desk, patient) -> tuple[object, list[dict]]:
    """(the active program or None, its rows with today's levels as the next check-in would plan them)."""
    programs = desk.store.programs.for_patient(patient.id)
    if not programs:
        return None, []
    program = programs[-1]
    plan = rxmod.plan_for_patient(desk.store, patient)
    planned = {item.prescription_id: item for item in plan.items}
    rows = []
    for rx in program.prescriptions:
        item = planned.get(rx.id)
        row = {"drill": rx.drill, "params": _plain(rx.params), "repetitions": rx.repetitions,
               "level": item.level if item else 0, "source": rx.id}
        try:
            rows.append(describe_row(row, registry.validate(rx.drill, row["params"]), item.note if item else ""))
        except DrillError:  # a drill this kiosk no longer has: shown, and Save refuses it
            rows.append(_missing(row))
    return program, rows


def _missing(row: dict) -> dict:
    """A row whose drill this kiosk does not have (any more): shown as it is, to be removed."""
    try:
        registry.get(str(row.get("drill")))
        why = ""
    except DrillError as exc:
        why = str(exc)
    return {**row, "title": str(row.get("drill")), "words": why, "level_max": 0, "level_words": "", "note": "",
            "missing": True}


def _program_data(desk, patient, note: str = "") -> dict:
    program, rows = _current(desk, patient)
    return {"patient": {"id": patient.id, "code": patient.code},
            "program": None if program is None else {"id": program.id, "name": program.name,
                                                     "created_at": program.created_at},
            "rows": rows, "drills": schemas(), "repetitions": list(rxmod.REPETITIONS), "note": note}


@view("program", audit_view=True, roles=THERAPISTS)
def program_view(desk, patient=None, **_) -> dict:
    return _program_data(desk, _patient(desk, patient))


@action("program_check", roles=THERAPISTS)
def program_check(desk, patient=None, rows=None, **_) -> tuple[str, dict]:
    """A draft after a change: each row's words and level range (nothing is stored)."""
    _patient(desk, patient)
    known = set(registry.names())
    # A drill this kiosk no longer has stays in the draft as it was (Save refuses it, in the CLI's words).
    if isinstance(rows, list | tuple) and all(isinstance(r, dict) for r in rows):
        described = iter(check_rows([r for r in rows if r.get("drill") in known]))
        return "staff_program_checked", {"rows": [next(described) if r.get("drill") in known else _missing(r)
                                                  for r in rows]}
    return "staff_program_checked", {"rows": check_rows(rows)}


@action("program_save", roles=THERAPISTS)
def program_save(desk, patient=None, rows=None, **_) -> tuple[str, dict]:
    """Store the draft as the patient's program (a new version; the old one kept, inactive), audited."""
    from drills.program import format_prescription
    from store.programs import Prescription, Program

    who = _patient(desk, patient)
    checked = check_rows(rows)
    if not checked:
        raise Refused("A program needs at least one drill: add one, or leave the old program as it is.")
    old_program, old_rows = _current(desk, who)
    changes = changes_between(old_rows, checked)
    if old_program is not None and not changes:
        raise Refused("Nothing changed: the program is as it was.")
    name = f"program of {dt.date.today().isoformat()}"
    program = Program(patient_id=who.id, name=name, created_by=desk.user.id,
                      notes=old_program.notes if old_program else "",
                      prescriptions=[Prescription(drill=r["drill"], params=_stored(r), repetitions=r["repetitions"])
                                     for r in checked])

    def audit(replaced) -> None:
        desk.audit("program.set", subject=program.id, patient=who.code, replaces=[p.id for p in replaced],
                   changes=changes, prescriptions=[format_prescription(r["drill"], r["params"], r["repetitions"])
                                                   + (f" (level {r['level']})" if r["level"] else "")
                                                   for r in checked])

    desk.store.programs.replace(program, then=audit)
    return "staff_program", _program_data(desk, who, "Saved. The new program starts at the next check-in.")


def _stored(row: dict) -> dict:
    """The prescription's parameters as stored: the drill's, plus the level it starts at."""
    return {**row["params"], **({rxmod.START_LEVEL: row["level"]} if row["level"] else {})}


def changes_between(old: list[dict], new: list[dict]) -> list[str]:
    """What a save changes, in words, old -> new: drills added, removed, moved, repeated, parameters, levels."""
    out = []
    before = {r["source"]: (i, r) for i, r in enumerate(old) if r.get("source")}
    kept = set()
    for i, r in enumerate(new):
        src = r.get("source")
        if src not in before or src in kept:
            out.append(f"added {r['drill']} at {i + 1}")
            continue
        kept.add(src)
        j, o = before[src]
        name = r["drill"]
        if j != i:
            out.append(f"{name}: position {j + 1} -> {i + 1}")
        if o["repetitions"] != r["repetitions"]:
            out.append(f"{name}: repetitions {o['repetitions']} -> {r['repetitions']}")
        for key, value in r["params"].items():
            if o["params"].get(key) != value:
                out.append(f"{name}: {key} {_text(o['params'].get(key))} -> {_text(value)}")
        if o.get("level", 0) != r["level"]:
            out.append(f"{name}: level {o.get('level', 0)} -> {r['level']}")
    for src, (j, o) in before.items():
        if src not in kept:
            out.append(f"removed {o['drill']} from {j + 1}")
    return out


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v:g}" if isinstance(v, float) else str(v)
