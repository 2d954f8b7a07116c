"""`gaitkiosk program set CODE DRILL[:param=value,...] ... | show CODE | sheet CODE --out FILE.pdf | drills [NAME]`:
prescribe drills, and print a patient's home-exercise sheet (docs/therapist.md)."""

from __future__ import annotations

HELP = "prescribe a patient's drills and see today's plan with progression (docs/drills.md)"


def add_arguments(parser) -> None:
    from gaitkiosk.commands.sessions import common_options

    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="drills", name=None)
    st = sub.add_parser("set", help="replace the patient's program (the old one is kept, inactive)",
                        description="DRILL[*N][:param=value,...], e.g. quiet_standing:stance=tandem,eyes=both "
                                    "limits_of_stability:reach_pct=80 tandem_walk*2. "
                                    "`gaitkiosk program drills` lists the drills and their parameters.")
    common_options(st)
    st.add_argument("code", metavar="CODE", help="the patient's code")
    st.add_argument("prescriptions", metavar="DRILL[:param=value,...]", nargs="+",
                    help="drills in the order the patient does them")
    st.add_argument("--name", dest="program_name", default=None, help="a name for the program (default: today's date)")
    st.add_argument("--notes", default="", help="notes for the therapist")
    show = sub.add_parser("show", help="the patient's program and today's plan (levels, parameters)")
    common_options(show)
    show.add_argument("code", metavar="CODE")
    sh = sub.add_parser("sheet", help="the patient's home-exercise sheet as a PDF (docs/therapist.md)")
    common_options(sh)
    sh.add_argument("code", metavar="CODE")
    sh.add_argument("--out", metavar="FILE.pdf", required=True,
                    help="the PDF to write, in an existing directory (replaced whole, never half-written)")
    dr = sub.add_parser("drills", help="the drills and their parameters (defaults, ranges)")
    common_options(dr)
    dr.add_argument("name", metavar="NAME", nargs="?", help="one drill")


def run(args, ctx) -> int:
    if args.action == "drills":
        return _drills(args, ctx)
    from store import open_store
    from store.api import store_settings

    if args.action == "set":
        # Parse every prescription before touching the database: one bad one stores nothing.
        from drills.program import parse_prescription

        parsed = [parse_prescription(text) for text in args.prescriptions]
        with open_store(ctx.data_dir, settings=store_settings(ctx.config)) as st:
            return _set(st, args, ctx, parsed)
    if args.action == "sheet":
        return _sheet(args, ctx)
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=False) as st:
        return _show(st, args, ctx)


def _sheet(args, ctx) -> int:
    """The home-exercise sheet of the patient's active program at today's levels."""
    import datetime as dt

    from drills.errors import ProgramError
    from gaitkiosk import home_sheet, pdf_page
    from store import open_store
    from store.api import store_settings

    out = pdf_page.target(args.out)  # checked before anything is read or drawn
    clinic = pdf_page.clinic_of(ctx.config)
    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=False) as st:
        try:
            patient = st.patients.by_code(args.code)
        except LookupError:
            raise ProgramError(f"no patient with code {args.code!r} (`gaitkiosk patients list` shows them)") from None
        sheet, skipped = home_sheet.sheet_for(st, patient, clinic, dt.date.today())
    pdf_page.write_whole(out, home_sheet.render(sheet))
    n = len(sheet["drills"])
    lines = [f"wrote {out} (home exercises of patient {patient.code}: {n} drill{'s' if n != 1 else ''})"]
    lines += [f"  left out: {d}: {w}" for d, w in skipped]
    ctx.emit({"patient": patient.code, "file": str(out), "drills": [d["drill"] for d in sheet["drills"]],
              "skipped": [{"drill": d, "why": w} for d, w in skipped]}, "\n".join(lines))
    return 0


def _set(st, args, ctx, parsed) -> int:
    import datetime as dt

    from drills.errors import ProgramError
    from drills.program import format_prescription
    from store.programs import Prescription, Program

    try:
        patient = st.patients.by_code(args.code)
    except LookupError:
        raise ProgramError(f"no patient with code {args.code!r}; add one with `gaitkiosk patients add {args.code}`") from None
    name = args.program_name or f"program of {dt.date.today().isoformat()}"
    old = st.programs.for_patient(patient.id)
    program = Program(patient_id=patient.id, name=name, notes=args.notes,
                      prescriptions=[Prescription(drill=d, params=p, repetitions=n) for d, p, n in parsed])
    st.programs.add(program)
    for p in old:
        st.programs.set_active(p.id, False)
    st.audit.log("program.set", subject=program.id, details={
        "patient": patient.code, "replaces": [p.id for p in old],
        "prescriptions": [format_prescription(d, p, n) for d, p, n in parsed]})
    lines = [f"program for {patient.code}: {name}"]
    lines += [f"  {i + 1}. {format_prescription(d, p, n)}" for i, (d, p, n) in enumerate(parsed)]
    if old:
        lines.append(f"  (replaces {len(old)} earlier program(s), kept in the history)")
    ctx.emit({"program_id": program.id, "patient": patient.code, "name": name,
              "prescriptions": [{"drill": d, "params": p, "repetitions": n} for d, p, n in parsed]}, "\n".join(lines))
    return 0


def _show(st, args, ctx) -> int:
    from drills.program import format_prescription, plan_for_patient, start_level

    plan = plan_for_patient(st, args.code)
    program = st.programs.get(plan.program_id)
    data = {"patient": plan.patient_code, "program": {"id": program.id, "name": program.name,
                                                       "created_at": program.created_at},
            "prescriptions": [{"drill": rx.drill, "params": rx.params, "repetitions": rx.repetitions}
                              for rx in program.prescriptions],
            "today": [{"drill": i.drill, "title": i.title, "params": i.params, "level": i.level, "note": i.note,
                       "repetition": i.repetition, "last_score": (i.previous or {}).get("score")} for i in plan.items],
            "skipped": [{"drill": d, "why": w} for d, w in plan.skipped]}
    lines = [f"program for {plan.patient_code}: {program.name} (set {program.created_at[:10]})", "  prescribed"]
    lines += [f"    {k + 1}. {format_prescription(rx.drill, rx.params, rx.repetitions)}"
              + (f" (starts at level {start_level(rx.params)})" if start_level(rx.params) else "")
              for k, rx in enumerate(program.prescriptions)]
    lines.append("  today")
    for k, i in enumerate(plan.items):
        level = f"level {i.level}" + (f" ({i.note})" if i.note else "")
        last = (i.previous or {}).get("score")
        lines.append(f"    {k + 1}. {i.title:<22} {format_prescription(i.drill, i.params):<48} {level}"
                     + (f", last score {last:g}" if isinstance(last, int | float) else ""))
    for d, why in plan.skipped:
        lines.append(f"  left out: {d}: {why}")
    ctx.emit(data, "\n".join(lines))
    return 0


def _drills(args, ctx) -> int:
    from drills import registry

    described = [registry.describe(args.name)] if args.name else list(registry.describe().values())
    lines = []
    for d in described:
        lines.append(f"{d['name']}: {d['title']} - {d['summary']}")
        for p in d["params"]:
            default = p["default"]
            lines.append(f"    {p['name']:<18} default {default!s:<10} {p['allowed']:<34} {p['help']}")
        if d["progression"]:
            steps = ", ".join(map(str, d["progression"]["steps"]))
            lines.append(f"    progression: {d['progression']['param']} through {steps}")
    ctx.emit(described if args.name is None else described[0], "\n".join(lines))
    return 0
