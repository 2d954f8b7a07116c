"""A patient's program: the therapist's prescriptions turned into today's drills, with progression.

    from drills.program import plan_for_patient, parse_prescription
    plan = plan_for_patient(store, "P001")        # today's drills for patient code P001
    for item in plan.items:
        drill = item.create(mat_shape=(48, 48))   # parameters for today, limits/foot length as context
        store.trials.start(session.id, item.drill, item.trial_params())
        ...
        scoring.compare(result.to_dict(), item.previous)   # "better than last time"

    parse_prescription("quiet_standing:stance=tandem,eyes=both")   # the CLI's text form

Progression (docs/drills.md, "Progression"): each drill names one parameter
and a ladder of values from easier to harder (``Drill.PROGRESSION``). Today's
level for a prescription is found from the patient's stored trials of it (the
trial parameters carry ``_prescription_id`` and ``_level``):

* the level of the most recent scored trial of this prescription (0 before any);
* one step harder when the last ``PROGRESS_SESSIONS`` (3) sessions at that level
  each had a best score of at least ``PROGRESS_SCORE`` (80);
* one step easier (never below the prescription) when the last 3 sessions at
  that level each stayed under ``REGRESS_SCORE`` (40);
* ``progress=false`` in a prescription turns it off.

Nothing is stored but the trials themselves, so the schema is unchanged and a
therapist's new prescription starts again from its own values, at level 0 or
at the level the therapist set (``_start_level`` in the prescription's
parameters, a bookkeeping key like the trials' ``_level``: the staff Programs
room writes it, so that saving an edited program keeps each drill's level, or
the therapist's override of it). Once the new prescription has scored trials,
progression goes on from their level as above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drills import registry, scoring
from drills.errors import DrillError, DrillParamError, ProgramError

PROGRESS_SESSIONS = 3
PROGRESS_SCORE = 80.0
REGRESS_SCORE = 40.0
HISTORY_SESSIONS = 60  # how far back a plan looks (sessions with this drill)
REPETITIONS = (1, 10)  # how often one prescription may repeat a drill in a visit
START_LEVEL = "_start_level"  # prescription parameter: the level a new prescription starts at


# --- the prescription text ----------------------------------------------------------------------

def parse_prescription(text: str) -> tuple[str, dict, int]:
    """``"DRILL[*N][:key=value,...]"`` -> (drill, checked params, repetitions).

    ``*N`` repeats the drill N times in a visit (1-10). Raises
    :class:`DrillParamError` / :class:`UnknownDrillError` with what is allowed.
    """
    text = text.strip()
    head, sep, tail = text.partition(":")
    name, star, reps = head.partition("*")
    name = name.strip()
    repetitions = 1
    if star:
        try:
            repetitions = int(reps)
        except ValueError:
            raise DrillParamError(f"{text!r}: repetitions after '*' must be a whole number, e.g. {name}*2") from None
        if not REPETITIONS[0] <= repetitions <= REPETITIONS[1]:
            raise DrillParamError(f"{text!r}: repetitions must be {REPETITIONS[0]} to {REPETITIONS[1]}, got {repetitions}")
    given: dict = {}
    if sep and tail.strip():
        for part in tail.split(","):
            key, eq, value = part.partition("=")
            key = key.strip()
            if not eq or not key:
                raise DrillParamError(f"{text!r}: {part.strip()!r} must look like key=value "
                                      f"(e.g. {name}:duration_s=30,eyes=both)")
            if key in given:
                raise DrillParamError(f"{text!r}: parameter {key!r} is given twice")
            given[key] = value.strip()
    return name, registry.validate(name, given), repetitions


def format_prescription(drill: str, params: dict, repetitions: int = 1) -> str:
    """The text form of a prescription, showing only values that differ from the defaults."""
    cls = registry.get(drill)
    changed = [f"{p.name}={_text(params[p.name])}" for p in cls.PARAMS  # in the drill's own order
               if p.name in params and params[p.name] != p.default]
    head = drill + (f"*{repetitions}" if repetitions > 1 else "")
    return head + (":" + ",".join(changed) if changed else "")


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --- progression ---------------------------------------------------------------------------------

def apply_level(drill: str, prescribed: dict, level: int) -> tuple[dict, int]:
    """(parameters at ``level`` steps up the drill's ladder from the prescription, the level used).

    The level is capped at the top of the ladder; a prescribed value that is not on
    the ladder starts from the nearest rung (level 0 keeps the prescribed value).
    """
    cls = registry.get(drill)
    params = dict(prescribed)
    if cls.PROGRESSION is None or level <= 0 or not params.get("progress", True):
        return params, 0
    name, ladder = cls.PROGRESSION
    value = params[name]
    if value in ladder:
        start = ladder.index(value)
    elif isinstance(value, int | float):
        start = min(range(len(ladder)), key=lambda i: abs(ladder[i] - value))
    else:
        return params, 0
    top = len(ladder) - 1
    used = min(level, top - start)
    if used > 0:
        params[name] = ladder[start + used]
    return params, max(used, 0)


@dataclass(frozen=True)
class TrialRecord:
    """One stored trial of a drill, as progression and comparison need it."""

    session_id: str
    started_at: str
    status: str
    score: float | None
    level: int
    prescription_id: str | None
    results: dict


def history(store, patient_id: str, drill: str, *, sessions: int = HISTORY_SESSIONS) -> list[TrialRecord]:
    """The patient's trials of ``drill``, newest first (from the last ``sessions`` sessions that had it)."""
    out = []
    for summary in store.sessions.list(patient_id=patient_id, drill=drill, limit=sessions):
        for t in store.trials.for_session(summary.session.id):
            if t.drill != drill:
                continue
            score = (t.results or {}).get("score")
            level = t.params.get("_level", 0)
            out.append(TrialRecord(
                session_id=t.session_id, started_at=t.started_at, status=t.status,
                score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
                level=int(level) if isinstance(level, int) and not isinstance(level, bool) else 0,
                prescription_id=t.params.get("_prescription_id"), results=t.results or {}))
    out.sort(key=lambda r: r.started_at, reverse=True)
    return out


def top_level(drill: str, prescribed: dict) -> int:
    """The highest level ``prescribed`` can reach on the drill's ladder (0: no progression)."""
    return apply_level(drill, prescribed, 1 << 30)[1]


def start_level(prescribed: dict) -> int:
    """The level a prescription starts at before it has scored trials (``_start_level``, else 0)."""
    value = prescribed.get(START_LEVEL, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def next_level(records: list[TrialRecord], prescription_id: str | None, start: int = 0) -> tuple[int, str]:
    """(level for today, a note for the therapist) from a prescription's history (newest first);
    ``start``: the level before any scored trial of it (set by the therapist)."""
    mine = [r for r in records if r.prescription_id == prescription_id and r.status == "complete"
            and r.score is not None]
    if not mine:
        return start, ("set by the therapist" if start else "")
    level = mine[0].level
    best: dict[str, float] = {}  # session -> best score at the current level, newest sessions first
    for r in mine:
        if r.level != level:
            break
        best[r.session_id] = max(best.get(r.session_id, r.score), r.score)
    recent = list(best.values())[:PROGRESS_SESSIONS]
    if len(recent) == PROGRESS_SESSIONS and min(recent) >= PROGRESS_SCORE:
        return level + 1, f"harder: {PROGRESS_SESSIONS} sessions scored {PROGRESS_SCORE:g} or more"
    if level > 0 and len(recent) == PROGRESS_SESSIONS and max(recent) < REGRESS_SCORE:
        return level - 1, f"easier: {PROGRESS_SESSIONS} sessions scored under {REGRESS_SCORE:g}"
    return level, ""


# --- the plan --------------------------------------------------------------------------------------

@dataclass
class PlannedDrill:
    """One drill of today's visit."""

    drill: str
    title: str
    params: dict  # today's parameters (prescription + progression)
    prescribed: dict  # as the therapist wrote them
    level: int  # steps up the progression ladder from the prescription
    repetition: int  # 1..repetitions of the prescription
    prescription_id: str
    context: dict = field(default_factory=dict)  # limits_mm, foot_length_mm measured before
    previous: dict | None = None  # last time: a complete result of this drill (DrillResult.to_dict()), like for like if any
    note: str = ""  # why the level changed today

    def create(self, **kwargs):
        """The drill instance (keyword arguments as :class:`drills.base.Drill`)."""
        return registry.create(self.drill, self.params, context={**self.context, **kwargs.pop("context", {})},
                               **kwargs)

    def trial_params(self) -> dict:
        """What to store as the trial's parameters: today's values plus the progression bookkeeping."""
        return {**self.params, "_level": self.level, "_prescription_id": self.prescription_id}


@dataclass
class Plan:
    patient_id: str
    patient_code: str
    program_id: str
    program_name: str
    items: list[PlannedDrill]
    skipped: list[tuple[str, str]]  # (drill, why) for prescriptions that cannot run (unknown drill...)


def _patient(store, patient):
    if isinstance(patient, str):
        try:
            return store.patients.by_code(patient)
        except LookupError:
            raise ProgramError(f"no patient with code {patient!r}; add one with `gaitkiosk patients add {patient}`") from None
    return patient


def active_program(store, patient):
    """The patient's current program (the newest active one), or ProgramError."""
    patient = _patient(store, patient)
    programs = store.programs.for_patient(patient.id)
    if not programs:
        raise ProgramError(f"patient {patient.code} has no program; set one with "
                           f"`gaitkiosk program set {patient.code} DRILL[:param=value,...] ...`")
    return programs[-1]


def patient_context(store, patient_id: str) -> dict:
    """What earlier drills measured that later ones use: limits of stability, foot length."""
    ctx: dict = {}
    for r in history(store, patient_id, "limits_of_stability", sessions=10):
        limits = (r.results.get("measures") or {}).get("limits_mm")
        if r.status == "complete" and limits:
            ctx["limits_mm"] = limits
            break
    for drill in ("quiet_standing", "limits_of_stability", "weight_symmetry"):
        for r in history(store, patient_id, drill, sessions=5):
            feet = (r.results.get("stance") or {}).get("feet") or []
            lengths = [f["length_mm"] for f in feet if isinstance(f.get("length_mm"), int | float)]
            if lengths:
                ctx["foot_length_mm"] = sum(lengths) / len(lengths)
                return ctx
    return ctx


def plan_for_patient(store, patient) -> Plan:
    """Today's drills for ``patient`` (a code or a store Patient) from their active program."""
    patient = _patient(store, patient)
    program = active_program(store, patient)
    context = patient_context(store, patient.id)
    items, skipped = [], []
    for rx in program.prescriptions:
        try:
            cls = registry.get(rx.drill)
            prescribed = registry.validate(rx.drill, rx.params)
        except DrillError as exc:
            skipped.append((rx.drill, str(exc)))
            continue
        start = start_level(prescribed)
        prescribed.pop(START_LEVEL, None)  # bookkeeping of the prescription, not a drill parameter
        records = history(store, patient.id, rx.drill)
        level, note = next_level(records, rx.id, start) if prescribed.get("progress", True) else (0, "")
        params, level = apply_level(rx.drill, prescribed, level)
        # Last time, like for like where there is one: the newest complete result at today's parameters
        # (drills.scoring.not_comparable); else the newest complete one (the screen then says "a new level").
        done = [r.results for r in records if r.status == "complete" and r.score is not None]
        previous = next((r for r in done if scoring.run_params(r) == scoring.run_params({"params": params})),
                        done[0] if done else None)
        for k in range(rx.repetitions):
            items.append(PlannedDrill(rx.drill, cls.title, params, prescribed, level, k + 1, rx.id,
                                      dict(context), previous, note))
    return Plan(patient.id, patient.code, program.id, program.name, items, skipped)
