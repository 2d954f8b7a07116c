"""``gaitkiosk run``: the kiosk itself, on the touchscreen.

    gaitkiosk run                       the devices of the config file, fullscreen per [ui]
    gaitkiosk run --simulate            the virtual patient instead of sensors
    gaitkiosk run --simulate --headless --screenshots shots/ --data-dir /tmp/kiosk
                                        a scripted visit with no display (also chosen
                                        automatically when there is no DISPLAY/WAYLAND_DISPLAY)

Headless, a scripted patient (code ``--code``, seeded with a program that
uses every drill) checks in, does each drill through the closed-loop virtual
patient, sees the results and says goodbye; a screenshot of every screen is
saved to ``--screenshots`` and the session lands in the database under
``--data-dir``. ``--seconds N`` ends each drill after N s of running time
(demos and tests; a real visit runs the prescribed durations).
"""

from __future__ import annotations

HELP = "run the kiosk (touchscreen UI); --simulate for the virtual patient, headless: a scripted visit"

DEMO_CODE = "1234"


def add_arguments(parser) -> None:
    parser.add_argument("--simulate", action="store_true", help="use the virtual patient instead of the configured sensors")
    parser.add_argument("--headless", action="store_true", help="no window: run the scripted visit (default when there is no display)")
    parser.add_argument("--screenshots", metavar="DIR", help="headless: save a PNG of every screen here")
    parser.add_argument("--seconds", type=float, default=None, help="end each drill after this many seconds of running (demos, tests)")
    parser.add_argument("--countdown", type=float, default=None, help="seconds of 'get ready' before each drill (default: the drill's)")
    parser.add_argument("--fall-at", type=float, default=None, metavar="S",
                        help="--simulate: the virtual person loses balance S s after stepping on for the first "
                             "standing drill (to see a safety stop)")
    parser.add_argument("--code", default=DEMO_CODE, help=f"headless: the patient code the script types (default {DEMO_CODE})")
    parser.add_argument("--size", metavar="WxH", help="window size in pixels (default: [ui] width x height)")
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo patient and program")
    parser.add_argument("--timeout", type=float, default=900.0, help="headless: give up after this many seconds (default 900)")


def _size(args, ui) -> tuple[int, int]:
    from gaitkiosk.errors import UsageError

    if not args.size:
        return int(ui["width"]), int(ui["height"])
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size {args.size!r}: give it as WIDTHxHEIGHT, e.g. 800x480") from None
    if w < 320 or h < 240:
        raise UsageError(f"--size {args.size}: at least 320x240")
    return w, h


def run(args, ctx) -> int:
    from gaitkiosk.errors import UsageError

    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    if args.fall_at is not None and args.fall_at <= 0:
        raise UsageError("--fall-at must be positive (seconds after the virtual person steps on)")
    if args.countdown is not None and args.countdown < 0:
        raise UsageError("--countdown must be 0 or more")
    from ui.app import has_display

    headless = args.headless or not has_display()
    if not headless and args.screenshots:
        raise UsageError("--screenshots is for the headless scripted visit; add --headless")
    config = ctx.config
    size = _size(args, config["ui"])
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    if (args.simulate or headless) and not args.no_seed:
        from gaitkiosk.demo_seed import seed_demo

        seed_demo(ctx.data_dir, config, args.code)
    if headless and not args.simulate and not _all_sim(config):
        raise UsageError("the headless scripted visit needs the virtual patient: add --simulate")
    return _run(args, ctx, size, headless)


def _all_sim(config) -> bool:
    d = config["devices"]
    return all(u.startswith("sim:") for u in [d["mat"], *d["insoles"]] if u)


def _run(args, ctx, size, headless: bool) -> int:
    import pygame

    from gaitkiosk.runtime import Runtime
    from ui import screens
    from ui.app import App, init_display
    from ui.sound import Sound
    from ui.theme import load_theme

    ui = ctx.config["ui"]
    surface = init_display(size, headless=headless, fullscreen=ui["fullscreen"])
    try:
        theme = load_theme(ui["theme"] or None, ui["min_target_mm"])
        sound = Sound(enabled=ui["sound"] and not headless)
        app = App(surface, theme, diagonal_in=ui["diagonal_in"], router=screens.route, sound=sound,
                  idle_timeout_s=ui["idle_timeout_s"], escape_quits=not ui["fullscreen"])
        app.reset(screens.AttractScreen(app))
        runtime = Runtime(ctx.config, ctx.data_dir, simulate=args.simulate or headless,
                          drill_seconds=args.seconds, countdown_s=args.countdown, sim_fall_at=args.fall_at)
        runtime.start(app)
        try:
            if headless:
                return _scripted(args, ctx, app, runtime)
            app.run(fps=ui["fps"])
            return 0
        finally:
            runtime.close()
    finally:
        pygame.quit()


def _scripted(args, ctx, app, runtime) -> int:
    from pathlib import Path

    from gaitkiosk.errors import KioskError
    from gaitkiosk.scripted import ScriptedVisit
    from store import open_store

    shots = Path(args.screenshots) if args.screenshots else None
    result = ScriptedVisit(app, args.code, shots, timeout_s=args.timeout).run()
    runtime.close()
    summary = _summary(open_store, ctx.data_dir, args.code)
    summary["screens"] = result.screens
    summary["screenshots"] = [str(p) for p in result.screenshots]
    summary["seconds"] = round(result.seconds, 1)
    summary["completed"] = result.completed
    summary["safety_stops_continued"] = result.alerts
    text = [f"scripted visit {'finished' if result.completed else 'did NOT finish'} in {result.seconds:.0f} s"
            + (f" ({result.reason})" if result.reason else "")]
    if summary.get("session"):
        s = summary["session"]
        text.append(f"session {s['id']} of patient {args.code}: {s['status']}, {len(s['trials'])} exercise(s)"
                    + (f" ({s['reason']})" if s["reason"] else ""))
        for t in s["trials"]:
            score = "-" if t["score"] is None else f"{t['score']:.0f}/100"
            text.append(f"  {t['drill']:<22} {t['status']:<9} score {score:>7}   frames {t['frames']:>6}   "
                        f"report {'yes' if t['report'] else 'no'}")
    if shots:
        text.append(f"{len(result.screenshots)} screenshots in {shots}")
    text.append(f"database: {summary['database']}")
    summary["staff_needed"] = result.staff_needed or None
    if result.staff_needed:
        text.append(f"the kiosk stopped the visit and asked for staff: {result.staff_needed}")
    ctx.emit(summary, "\n".join(text))
    if not result.completed:
        raise KioskError(result.reason or "the scripted visit did not finish")
    if result.staff_needed:
        raise KioskError(f"the visit was stopped: {result.staff_needed}")
    return 0


def _summary(open_store, data_dir, code: str) -> dict:
    with open_store(data_dir) as st:
        out = {"database": str(st.path), "session": None}
        try:
            patient = st.patients.by_code(code)
        except LookupError:
            return out
        found = st.sessions.list(patient_id=patient.id, limit=1)
        if not found:
            return out
        s = found[0].session
        trials = []
        for t in st.trials.for_session(s.id):
            frames = sum(r.frames for r in st.recordings.for_trial(t.id))
            trials.append({"id": t.id, "drill": t.drill, "status": t.status, "score": (t.results or {}).get("score"),
                           "frames": frames, "report": t.report is not None, "recording": t.recording,
                           "reason": t.status_reason})
        out["session"] = {"id": s.id, "status": s.status, "reason": s.status_reason, "trials": trials}
        return out

