"""`gaitkiosk patients add CODE | list | show CODE`: the patients a therapist prescribes for."""

from __future__ import annotations

HELP = "add, list and show patients (pseudonymous codes; docs/drills.md)"


def add_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options

    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="list", all=False)
    add = sub.add_parser("add", help="add a patient by a short pseudonymous code (what they type at the kiosk)")
    common_options(add)
    add.add_argument("code", metavar="CODE", help="the patient's code, e.g. P001 (digits are easiest on the keypad)")
    add.add_argument("--name", help="optional name (stays on this unit)")
    add.add_argument("--birth-year", type=int, metavar="YYYY", help="optional birth year")
    add.add_argument("--notes", default="", help="optional notes")
    ls = sub.add_parser("list", help="all patients, by code")
    common_options(ls)
    ls.add_argument("--all", action="store_true", help="include archived patients")
    show = sub.add_parser("show", help="one patient: program and recent results")
    common_options(show)
    show.add_argument("code", metavar="CODE")


def run(args, ctx) -> int:
    from store import open_store
    from store.api import store_settings

    create = args.action == "add"
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=create) as st:
        if args.action == "add":
            return _add(st, args, ctx)
        if args.action == "show":
            return _show(st, args, ctx)
        return _list(st, args, ctx)


def check_code(code: str) -> str:
    """A patient code: 1-16 letters, digits or '-', so it can be typed on the kiosk's keypad."""
    from gaitkiosk.errors import UsageError

    if not code or len(code) > 16 or not all(c.isalnum() or c == "-" for c in code) or not code.isascii():
        raise UsageError(f"patient code {code!r} must be 1-16 letters, digits or '-' (e.g. P001)")
    return code


def _add(st, args, ctx) -> int:
    from gaitkiosk.errors import UsageError
    from store.patients import Patient

    code = check_code(args.code)
    try:
        st.patients.by_code(code)
    except LookupError:
        pass
    else:
        raise UsageError(f"a patient with code {code} already exists; `gaitkiosk patients show {code}` shows them")
    patient = st.patients.add(Patient(code=code, name=args.name, birth_year=args.birth_year, notes=args.notes))
    st.audit.log("patient.add", subject=patient.id, details={"code": code, "by": "gaitkiosk patients add"})
    ctx.emit({"id": patient.id, "code": code},
             f"added patient {code}; next: gaitkiosk program set {code} DRILL[:param=value,...] ...")
    return 0


def _list(st, args, ctx) -> int:
    patients = st.patients.list(include_archived=args.all)
    lines = [f"{'code':<16} {'since':<11} name"]
    lines += [f"{p.code:<16} {p.created_at[:10]:<11} {p.name or ''}" for p in patients]
    lines.append(f"{len(patients)} patient(s)")
    ctx.emit({"patients": [p.__dict__ for p in patients]}, "\n".join(lines))
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
