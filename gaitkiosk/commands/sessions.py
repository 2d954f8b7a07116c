"""`gaitkiosk sessions list|show ID|export ID --out FILE`: review and export stored sessions."""

from __future__ import annotations

import textwrap

HELP = "list, show and export stored sessions (docs/store.md)"


def add_arguments(parser) -> None:
    from gaitkiosk import checks

    # No action: the harmless one (list).
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    parser.set_defaults(action="list", limit=50, offset=0, patient=None, date_from=None, date_to=None, drill=None,
                        status=None)
    ls = sub.add_parser("list", help="newest sessions first, filtered")
    common_options(ls)
    _filters(ls)
    ls.add_argument("--limit", type=checks.integer(1, 1_000_000), default=50, help="how many to show (default 50)")
    ls.add_argument("--offset", type=checks.integer(0, 1_000_000_000), default=0, help="skip this many (paging)")
    show = sub.add_parser("show", help="one session: trials, results, recordings")
    common_options(show)
    show.add_argument("id", metavar="ID", help="session id (a unique prefix is enough)")
    ex = sub.add_parser("export", help="write .npz recordings (DESIGN 4.1) and a metrics CSV")
    common_options(ex)
    ex.add_argument("id", metavar="ID", nargs="?", help="session id; omit and use --from/--to for a date range")
    ex.add_argument("--out", metavar="FILE", required=True,
                    help="output .npz for one session; an existing directory for a date range")
    ex.add_argument("--mat-pitch-mm", type=checks.positive(most=100.0), metavar="MM",
                    help="mat sensel pitch when the device did not report it")
    ex.add_argument("--c3d", action="store_true",
                    help="also write each recording as C3D beside its .npz (docs/import.md; one file per time base)")
    _filters(ex)


def common_options(parser) -> None:
    """The CLI's common options, accepted after the action too (`sessions list --json`).

    SUPPRESS as default: a value given before the action is not reset by the sub-parser.
    """
    import argparse

    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="TOML config file")
    parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help="the kiosk's data directory")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks")


def _filters(p) -> None:
    p.add_argument("--patient", metavar="CODE", help="only this patient (pseudonymous code)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="on or after this local date")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="on or before this local date")
    p.add_argument("--drill", metavar="NAME", help="only sessions with a trial of this drill")
    p.add_argument("--status", choices=("open", "complete", "incomplete"), help="only sessions in this state")


def _local_day_start(text: str, days: int = 0) -> str:
    import datetime as dt

    from gaitkiosk.errors import UsageError
    from store.rows import format_time

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"date {text!r} must look like 2026-11-21") from None
    return format_time(dt.datetime.combine(day + dt.timedelta(days=days), dt.time()).astimezone())


def _local(stamp: str | None) -> str:
    if not stamp:
        return "-"
    from store.rows import parse_time

    return parse_time(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _query(st, args) -> dict:
    q = {"drill": args.drill, "status": args.status}
    if args.patient:
        from store.errors import NotFoundError

        try:
            q["patient_id"] = st.patients.by_code(args.patient).id
        except NotFoundError:
            raise NotFoundError(f"no patient with code {args.patient!r}; `gaitkiosk patients list` shows them") from None
    if args.date_from:
        q["since"] = _local_day_start(args.date_from)
    if args.date_to:
        q["before"] = _local_day_start(args.date_to, days=1)
    return q


def run(args, ctx) -> int:
    from store import open_store
    from store.api import store_settings

    with open_store(ctx.data_dir, settings=store_settings(ctx.config), create=False) as st:
        if args.action == "list":
            return _list(st, args, ctx)
        if args.action == "show":
            return _show(st, args, ctx)
        return _export(st, args, ctx)


def _list(st, args, ctx) -> int:
    q = _query(st, args)
    found = st.sessions.list(**q, limit=args.limit, offset=args.offset)
    total = st.sessions.count(**q)
    data = {"total": total, "offset": args.offset, "sessions": [
        {**s.session.__dict__, "patient_code": s.patient_code, "drills": s.drills, "trials": s.trials}
        for s in found]}
    lines = [f"{'session':<10} {'started':<16} {'patient':<12} {'status':<10} {'trials':>6}  drills"]
    for s in found:
        lines.append(f"{s.session.id[:8]:<10} {_local(s.session.started_at):<16} {s.patient_code:<12} "
                     f"{s.session.status:<10} {s.trials:>6}  {', '.join(s.drills)}")
    lines.append(f"{len(found)} of {total} sessions shown" + (f" (from {args.offset})" if args.offset else ""))
    ctx.emit(data, "\n".join(lines))
    return 0


def _show(st, args, ctx) -> int:
    session = st.sessions.find(args.id)
    patient = st.patients.get(session.patient_id)
    trials = st.trials.for_session(session.id)
    recordings = st.recordings.for_session(session.id)
    data = {"session": session.__dict__, "patient_code": patient.code,
            "trials": [t.__dict__ for t in trials], "recordings": [r.__dict__ for r in recordings]}
    lines = [f"session {session.id}", f"  patient  {patient.code}",
             f"  started  {_local(session.started_at)}   ended {_local(session.ended_at)}",
             f"  status   {session.status}" + (f" - {session.status_reason}" if session.status_reason else ""),
             f"  synced   {_local(session.synced_at) if session.synced_at else 'not yet'}", "  trials"]
    for t in trials:
        reason = f" ({t.status_reason})" if t.status_reason else ""
        recorded = f", recording {t.recording}" if t.recording else ""
        lines.append(f"    {t.position + 1}. {t.drill:<20} {t.status}{recorded}{reason}, "
                     f"metrics v{t.metrics_version or '-'}")
        lines += [f"         {line}" for line in trial_words(t.results or {}, t.report)]
    said = session_calibration_words(trials)
    if said:  # once for the session, not under every trial
        lines += textwrap.wrap(said, 96, initial_indent="  note     ", subsequent_indent="           ")
    lines.append("  recordings")
    position = {t.id: t.position for t in trials}
    for r in sorted(recordings, key=lambda r: (position.get(r.trial_id, -1), r.kind)):
        seconds = st.recordings.span_s(r.id)
        state = r.status + (" (raw frames pruned)" if r.pruned_at else "")
        where = f"{position[r.trial_id] + 1}." if r.trial_id in position else "-"
        lines.append(f"    {where:<3} {r.kind:<13} {r.device_serial:<22} {r.frames:>7} frames over {seconds:.1f} s, "
                     f"{r.stored_bytes / 1024:.0f} KiB, {state}, {missing_words(r.seq_gaps, r.dropped)}")
    ctx.emit(data, "\n".join(lines))
    return 0


def trial_words(results: dict, report: dict | None) -> list[str]:
    """A trial's score and key measures as a therapist reads them (the numbers are in ``--json``)."""
    from drills import scoring
    from gaitkiosk.liveview import comparison_lines

    out = []
    score = results.get("score")
    done = results.get("done_pct")
    if isinstance(score, int | float):
        stars = int(max(0, min(5, (score + 10) // 20)))
        line = f"score {score:.0f} of 100 ({stars} star{'s' if stars != 1 else ''})"
        if results.get("status") == "stopped" and isinstance(done, int | float):
            line += f", stopped with {done:.0f} % done: points only for that part"
        out.append(line)
    elif results.get("status") == "stopped":
        ran = results.get("duration_s") or 0.0
        out.append(f"no score: stopped after {ran:.0f} s of running" + (f" ({done:.0f} % done; a stopped drill scores "
                   "from half on)" if isinstance(done, int | float) and ran > 0 else ", before it began"))
    elif results:
        out.append("no score: too little was measured to score (the measures are kept)")
    comparison = results.get("comparison")
    if results.get("drill") and results.get("measures") and comparison is None:
        try:
            comparison = scoring.compare(results, None)
        except LookupError:  # a drill this version does not know
            comparison = None
    if comparison:
        # Stored before like-for-like was checked: compared whenever there was a last time.
        alike = comparison.get("like_for_like", comparison.get("previous_score") is not None)
        if alike and isinstance(comparison.get("previous_score"), int | float):
            out.append(f"last time {comparison['previous_score']:.0f} of 100 (the same exercise at the same level)")
        elif comparison.get("not_comparable") and comparison["not_comparable"] != "no earlier result":
            out.append(f"not compared with last time: {comparison['not_comparable']}")
        if not alike:
            comparison = {**comparison, "measures": [{**m, "before": None} for m in comparison.get("measures", [])]}
        measures = comparison_lines(comparison)
        if measures:
            out.append("the drill measured: " + " ".join(measures))
    alerts = results.get("alerts") or []
    if alerts:
        reasons = sorted({a.get("reason", "?") for a in alerts})
        out.append(f"{len(alerts)} safety pause{'s' if len(alerts) != 1 else ''} ({', '.join(reasons)})")
    if report:
        out.append(report_words(report))
    elif results.get("report_error"):
        out.append(f"no report: {results['report_error']}")
    state, _ = calibration_of(results, report)
    if state:
        out.append(f"calibration: {state}")
    return out


def _calibration(results: dict, report: dict | None) -> dict:
    cal = (report or {}).get("calibration") or results.get("calibration")
    return cal if isinstance(cal, dict) and cal.get("state") else {}


def calibration_of(results: dict, report: dict | None) -> tuple[str, str]:
    """``(state, words)`` of a trial's numbers (docs/metrics.md, "Calibration state"): the state of
    the sensors the drill used, each named; ("", "") for trials stored before the calibration block."""
    cal = _calibration(results, report)
    if not cal:
        return "", ""
    sensors = cal.get("sensors") or {}
    used = {k: v for k, v in sensors.items() if v.get("used", True)} or sensors
    detail = []
    for stream, v in used.items():
        name = stream.replace("_", " ")
        if v.get("uncalibrated"):
            detail.append(f"{name} not calibrated")
        elif v.get("calibration_id"):
            detail.append(f"{name} calibration {v['calibration_id'][:8]}")
        elif v.get("state"):
            detail.append(f"{name} {v['state']}")
    return cal["state"] + (f" ({', '.join(detail)})" if detail else ""), cal.get("words") or ""


def session_calibration_words(trials) -> str:
    """The calibration words for every sensor that was not calibrated in any trial of a session."""
    from kernels.calibration_state import words

    states = {}
    for t in trials:
        for stream, v in (_calibration(t.results or {}, t.report).get("sensors") or {}).items():
            if not v.get("uncalibrated") or not v.get("used", True):  # what no number came from is not said
                continue
            known = states.setdefault(stream, {**v, "serial": ""})
            serials = [x for x in known["serial"].split(", ") if x]
            if v.get("serial") and v["serial"] not in serials:  # one name, several devices (two mats)
                known["serial"] = ", ".join([*serials, v["serial"]])
    return words(states) if states else ""


def report_words(report: dict) -> str:
    """The analysis report's key measures (docs/metrics.md) over the whole recording, with the sensor
    they come from (forces and loads are left to ``--json``: their calibration state goes with them)."""
    parts = []
    sway = report.get("sway") or {}
    if isinstance(sway.get("ellipse95_area_mm2"), int | float):
        parts.append(f"sway area {sway['ellipse95_area_mm2']:.0f} mm²")
    if isinstance(sway.get("mean_velocity_mm_s"), int | float):
        parts.append(f"sway speed {sway['mean_velocity_mm_s']:.1f} mm/s")
    gait = report.get("gait") or {}
    if gait.get("step_count"):
        parts.append(f"{gait['step_count']} steps")
        if isinstance(gait.get("cadence_steps_min"), int | float):
            parts.append(f"cadence {gait['cadence_steps_min']:.0f} steps/min")
    source = report.get("source") or "?"
    seconds = report.get("duration_s")
    head = f"whole recording ({source}" + (f", {seconds:.1f} s)" if isinstance(seconds, int | float) else ")")
    return head + (": " + ", ".join(parts) if parts else ": no sway or gait measures")


def missing_words(missing: int, dropped: int) -> str:
    """What a recording lacks, in words (docs/store.md "What a recording's counts mean").

    ``missing``: frames absent on the sensor's own sample grid (lost on the cable, or never sent
    because the sensor's buffer overflowed): the reader counts them from the sensor's clock, so
    the status packets a sensor sends about once a second are not counted. ``dropped``: frames
    the kiosk received but could not keep (its analysis or the SD card fell behind).
    """
    if not missing and not dropped:
        return "no frames missing"
    parts = []
    if missing:
        parts.append(f"{missing} frame{'s' if missing != 1 else ''} missing from the sensor")
    if dropped:
        parts.append(f"{dropped} dropped by the kiosk")
    return ", ".join(parts)


def _export(st, args, ctx) -> int:
    from pathlib import Path

    from gaitkiosk.errors import UsageError
    from gaitkiosk.stored_analysis import derived
    from store import export
    from store.export import export_session, metrics_rows, write_metrics_csv

    if not export.converter_installed():
        # Raw counts become kPa through the calibration stored with each recording.
        from calibration.storage import install_export_converter

        install_export_converter()
    out = _export_target(args)
    if args.id:
        ids = [st.sessions.find(args.id).id]
        files = export_session(st, ids[0], out, mat_pitch_mm=args.mat_pitch_mm, derived=derived)
    else:
        if not (args.date_from or args.date_to or args.patient):
            raise UsageError("give a session ID, or --from/--to (and/or --patient) for a range")
        q = _query(st, args)
        ids = [s.session.id for s in st.sessions.list(**q, limit=1_000_000)]
        files = []
        for sid in ids:
            s = st.sessions.get(sid)
            code = st.patients.get(s.patient_id).code
            stem = f"{s.started_at[:10]}_{code}_{sid[:8]}.npz"
            files += export_session(st, sid, out / stem, mat_pitch_mm=args.mat_pitch_mm, derived=derived)
        files.append(write_metrics_csv(out / "metrics.csv", metrics_rows(st, ids)))
    if args.c3d:
        from device.c3d_file import write_c3d_per_time_base
        from device.recording import load_recording

        files += [c for f in list(files) if Path(f).suffix == ".npz"
                  for c in write_c3d_per_time_base(Path(f).with_suffix(".c3d"), load_recording(f))]
    st.audit.log("sessions.export", subject=",".join(ids)[:500], details={"files": [str(f) for f in files]})
    ctx.emit({"sessions": ids, "files": [str(f) for f in files]},
             "\n".join([f"exported {len(ids)} session(s):"] + [f"  {f}" for f in files]))
    return 0


def _export_target(args):
    """``--out`` as a path that already exists where it must (checked before anything is read or written).

    Nothing is created on the way: an export meant for a USB stick that is not mounted
    would otherwise fill the kiosk's own SD card under the empty mount point's name.
    """
    from pathlib import Path

    from gaitkiosk.errors import UsageError

    if not args.out.strip():
        raise UsageError("--out is empty: give a file (one session) or an existing directory (a range)")
    out = Path(args.out).expanduser()
    if args.id:
        if out.is_dir():
            raise UsageError(f"--out {out} is a directory: give the .npz file to write for one session")
        if not out.parent.is_dir():
            raise UsageError(f"--out {out}: the directory {out.parent} does not exist (is the USB stick mounted?)")
    elif not out.is_dir():
        what = "is not a directory" if out.exists() else "does not exist (is the USB stick mounted?)"
        raise UsageError(f"--out {out} {what}: a date range is exported into an existing directory")
    return out
