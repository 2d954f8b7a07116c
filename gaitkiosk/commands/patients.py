"""`gaitkiosk patients add CODE | list | show CODE | recode OLD NEW`: the patients a therapist prescribes for.

A code is what the patient types at the kiosk: 4 to 8 digits (``gaitkiosk.patient_code``).
Codes stored before that rule are listed with what is wrong with them; ``recode``
gives such a patient a new one, keeping their history.
"""

from __future__ import annotations

HELP = "add, list and show patients (pseudonymous codes; docs/drills.md)"


def add_arguments(parser) -> None:
    from gaitkiosk import checks
    from gaitkiosk.commands.sessions import common_options

    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="list", all=False)
    add = sub.add_parser("add", help="add a patient by a short pseudonymous code (what they type at the kiosk)")
    common_options(add)
    add.add_argument("code", metavar="CODE", help="the patient's code: 4 to 8 digits, typed at the kiosk's keypad (e.g. 40712)")
    add.add_argument("--name", help="optional name (stays on this unit)")
    add.add_argument("--birth-year", type=checks.integer(1900, 2100), metavar="YYYY", help="optional birth year")
    add.add_argument("--notes", default="", help="optional notes")
    ls = sub.add_parser("list", help="all patients, by code")
    common_options(ls)
    ls.add_argument("--all", action="store_true", help="include archived patients")
    show = sub.add_parser("show", help="one patient: program and recent results")
    common_options(show)
    show.add_argument("code", metavar="CODE")
    rc = sub.add_parser("recode", help="give a patient a new code (e.g. one the keypad can type); history is kept")
    common_options(rc)
    rc.add_argument("old", metavar="OLD", help="the patient's current code")
    rc.add_argument("new", metavar="NEW", help="the new code: 4 to 8 digits")


def run(args, ctx) -> int:
    from store import open_store
    from store.api import store_settings

    create = args.action == "add"
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=create) as st:
        if args.action == "add":
            return _add(st, args, ctx)
        if args.action == "show":
            return _show(st, args, ctx)
        if args.action == "recode":
            return _recode(st, args, ctx)
        return _list(st, args, ctx)


def add_patient(st, code: str, *, name: str | None = None, birth_year: int | None = None, notes: str = ""):
    """Store a new patient after the checks every way of adding one shares (this command and the
    staff screen): a code the keypad can type (``gaitkiosk.patient_code``) that nobody has yet.
    Bad input raises a one-line :class:`UsageError`; the caller audits who added them."""
    from gaitkiosk.errors import UsageError
    from gaitkiosk.patient_code import check_code
    from store.patients import Patient

    code = check_code(code)
    try:
        st.patients.by_code(code)
    except LookupError:
        pass
    else:
        raise UsageError(f"a patient with code {code} already exists; `gaitkiosk patients show {code}` shows them")
    return st.patients.add(Patient(code=code, name=(name or "").strip() or None, birth_year=birth_year,
                                   notes=(notes or "").strip()))


def _add(st, args, ctx) -> int:
    patient = add_patient(st, args.code, name=args.name, birth_year=args.birth_year, notes=args.notes)
    code = patient.code
    st.audit.log("patient.add", subject=patient.id, details={"code": code, "by": "gaitkiosk patients add"})
    ctx.emit({"id": patient.id, "code": code},
             f"added patient {code}; next: gaitkiosk program set {code} DRILL[:param=value,...] ...")
    return 0


def _recode(st, args, ctx) -> int:
    from gaitkiosk.errors import UsageError
    from gaitkiosk.patient_code import check_code
    from store.errors import NotFoundError

    new = check_code(args.new, "NEW")
    try:
        patient = st.patients.by_code(args.old)
    except NotFoundError:
        raise NotFoundError(f"no patient with code {args.old!r}; `gaitkiosk patients list` shows them") from None
    try:
        other = st.patients.by_code(new)
    except NotFoundError:
        other = None
    if other is not None:
        raise UsageError(f"code {new} already belongs to {'this' if other.id == patient.id else 'another'} patient")
    old = patient.code
    patient.code = new
    st.patients.update(patient)
    st.audit.log("patient.recode", subject=patient.id, details={"old": old, "new": new, "by": "gaitkiosk patients recode"})
    ctx.emit({"id": patient.id, "old": old, "code": new},
             f"patient {old} now has code {new} (history kept); give them a new card")
    return 0


def _list(st, args, ctx) -> int:
    from gaitkiosk.patient_code import problem

    patients = st.patients.list(include_archived=args.all)
    problems = {p.code: problem(p.code) for p in patients}
    lines = [f"{'code':<16} {'since':<11} name"]
    lines += [f"{p.code:<16} {p.created_at[:10]:<11} {p.name or ''}"
              + (f"  [code {problems[p.code]}: gaitkiosk patients recode {p.code} NEW]" if problems[p.code] else "")
              for p in patients]
    lines.append(f"{len(patients)} patient(s)")
    ctx.emit({"patients": [{**p.__dict__, "code_problem": problems[p.code]} for p in patients]}, "\n".join(lines))
    return 0


def _show(st, args, ctx) -> int:
    from drills.program import format_prescription, history
    from store.errors import NotFoundError

    try:
        patient = st.patients.by_code(args.code)
    except NotFoundError:
        raise NotFoundError(f"no patient with code {args.code!r}; `gaitkiosk patients list` shows them") from None
    programs = st.programs.for_patient(patient.id)
    program = programs[-1] if programs else None
    recent = {}
    for rx in program.prescriptions if program else []:
        if rx.drill not in recent:
            recent[rx.drill] = [{"started_at": r.started_at, "status": r.status, "score": r.score, "level": r.level}
                                for r in history(st, patient.id, rx.drill, sessions=5)]
    data = {"patient": patient.__dict__, "program": None if program is None else {
        "id": program.id, "name": program.name, "created_at": program.created_at,
        "prescriptions": [{"drill": rx.drill, "params": rx.params, "repetitions": rx.repetitions}
                          for rx in program.prescriptions]}, "recent": recent}
    lines = [f"patient {patient.code}" + (f" ({patient.name})" if patient.name else ""), f"  since    {patient.created_at[:10]}"]
    if program is None:
        lines.append(f"  program  none yet: gaitkiosk program set {patient.code} DRILL ...")
    else:
        lines.append(f"  program  {program.name} (set {program.created_at[:10]})")
        for rx in program.prescriptions:
            scores = [r["score"] for r in recent.get(rx.drill, []) if r["score"] is not None][:5]
            last = ", ".join(f"{s:g}" for s in scores) if scores else "no results yet"
            lines.append(f"    {format_prescription(rx.drill, rx.params, rx.repetitions):<50} last scores: {last}")
    ctx.emit(data, "\n".join(lines))
    return 0
