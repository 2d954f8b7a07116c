"""``gaitkiosk run``: the kiosk itself, on the touchscreen.

    gaitkiosk run                       the devices of the config file, fullscreen per [ui]
    gaitkiosk run --simulate            a demo: the virtual patient instead of sensors
    gaitkiosk run --simulate --headless --screenshots shots/
    gaitkiosk run --simulate --tiles 4  the demo on a walkway of 4 virtual tiles (docs/walkway.md)
                                        a scripted demo visit with no display (also chosen
                                        for --simulate when there is no DISPLAY/WAYLAND_DISPLAY)

Without ``--simulate`` this is the clinic's kiosk on the configured sensors and
data directory. It needs a display (X, Wayland, or SDL's console driver such as
``SDL_VIDEODRIVER=kmsdrm`` on a unit); where none opens it says so and stops. It
never falls back to a simulation.

``--simulate`` is a demo: its sessions go to the demo's own data directory
(``~/.local/share/gaitkiosk-demo``, ``gaitkiosk.config.demo_data_dir``), never the
config's ``kiosk.data_dir``, unless ``--data-dir`` names one; and it never changes
or checks in as a real patient (``gaitkiosk.demo_seed``).

Headless, a scripted patient (code ``--code``, seeded with a program that
uses every drill) checks in, does each drill through the closed-loop virtual
patient, sees the results and says goodbye; a screenshot of every screen is
saved to ``--screenshots``. ``--seconds N`` ends each drill after N s of running
time (demos and tests; a real visit runs the prescribed durations). While it
runs, each exercise's start and end (with its score) is printed on stderr, so
that stdout holds only the summary (pure JSON with ``--json``).
"""

from __future__ import annotations

from gaitkiosk import checks
from gaitkiosk.config import ALLOWED
from gaitkiosk.demo_seed import DEMO_CODE
from gaitkiosk.patient_code import CODE

HELP = "run the kiosk (touchscreen UI); --simulate: a demo on the virtual patient, headless a scripted visit"

# Limits of the demo/test options: a drill, its countdown and a whole scripted visit.
HOUR_S = 3600.0


def add_arguments(parser) -> None:
    parser.add_argument("--simulate", action="store_true",
                        help="a demo on the virtual patient instead of the configured sensors, in its own data directory")
    parser.add_argument("--headless", action="store_true",
                        help="with --simulate: no window, a scripted visit (default when there is no display)")
    parser.add_argument("--screenshots", metavar="DIR", help="headless: save a PNG of every screen here")
    parser.add_argument("--seconds", type=checks.positive(most=HOUR_S, unit="seconds"), default=None,
                        help="end each drill after this many seconds of running (demos, tests)")
    parser.add_argument("--countdown", type=checks.within(0.0, 60.0, unit="seconds"), default=None,
                        help="seconds of 'get ready' before each drill (default: the drill's)")
    parser.add_argument("--fall-at", type=checks.positive(most=HOUR_S, unit="seconds"), default=None, metavar="S",
                        help="--simulate: the virtual person loses balance S s after stepping on for the first "
                             "standing drill (to see a safety stop)")
    parser.add_argument("--tiles", type=checks.integer(2, 16), default=None, metavar="N",
                        help="--simulate: the virtual mat is a walkway of N tiles of sim.mat_rows each, each its own "
                             "device and clock, stitched as real tiles are (docs/walkway.md)")
    parser.add_argument("--code", type=CODE, default=DEMO_CODE,
                        help=f"headless: the demo patient's code the script types (default {DEMO_CODE})")
    parser.add_argument("--size", metavar="WxH", help="window size in pixels (default: [ui] width x height)")
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo patient and program")
    parser.add_argument("--timeout", type=checks.positive(most=checks.DAY_S, unit="seconds"), default=900.0,
                        help="headless: give up after this many seconds (default 900)")


def _size(args, ui) -> tuple[int, int]:
    from gaitkiosk.errors import UsageError

    if not args.size:
        return int(ui["width"]), int(ui["height"])
    w_text, sep, h_text = args.size.lower().partition("x")
    if not sep:
        raise UsageError(f"--size {args.size!r}: give it as WIDTHxHEIGHT, e.g. 800x480")
    # The same ranges as [ui] width and height.
    return ALLOWED["ui.width"].parse(w_text, "--size width"), ALLOWED["ui.height"].parse(h_text, "--size height")


def run(args, ctx) -> int:
    from gaitkiosk.errors import UsageError

    if args.headless and not args.simulate:
        raise UsageError("--headless runs the scripted demo visit on the virtual patient: add --simulate "
                         "(the kiosk itself needs a display)")
    for name, given in (("--screenshots", args.screenshots), ("--fall-at", args.fall_at), ("--tiles", args.tiles)):
        if given is not None and not args.simulate:
            raise UsageError(f"{name} is for the demo on the virtual patient: add --simulate")
    from ui.app import has_display

    headless = args.simulate and (args.headless or not has_display())
    if not headless and args.screenshots:
        raise UsageError("--screenshots is for the headless scripted visit; add --headless")
    config = ctx.config
    if args.tiles:
        if args.tiles * config["sim"]["mat_rows"] > 256:
            raise UsageError(f"--tiles {args.tiles} of {config['sim']['mat_rows']} rows (sim.mat_rows) is more than "
                             "the 256 rows of the virtual walkway")
        config["sim"]["tiles"] = args.tiles
    size = _size(args, config["ui"])
    if args.simulate:
        from gaitkiosk.config import demo_data_dir

        ctx.data_dir = demo_data_dir(args.data_dir)
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        _demo_patient(ctx, args, headless)
    return _run(args, ctx, size, headless)


def _demo_patient(ctx, args, headless: bool) -> None:
    """Seed the demo patient (unless --no-seed); refuse a code that is a real patient's."""
    if not args.no_seed:
        from gaitkiosk.demo_seed import seed_demo

        seed_demo(ctx.data_dir, ctx.config, args.code)
    elif headless:
        from gaitkiosk.demo_seed import refuse_real_patient
        from store import open_store

        with open_store(ctx.data_dir, settings=ctx.config.get("store")) as st:
            refuse_real_patient(st, args.code)


def _run(args, ctx, size, headless: bool) -> int:
    import time

    import pygame

    from gaitkiosk.runtime import Runtime
    from ui import screens
    from ui.app import App, init_display
    from ui.sound import Sound
    from ui.theme import load_theme

    ui = ctx.config["ui"]
    try:
        surface = init_display(size, headless=headless, fullscreen=ui["fullscreen"])
    except pygame.error as exc:
        from gaitkiosk.errors import KioskError

        pygame.quit()
        raise KioskError(f"no display to show the kiosk on ({exc}): run it on the touchscreen's console "
                         "(SDL_VIDEODRIVER=kmsdrm) or under X/Wayland (DISPLAY); a demo without a display is "
                         "`gaitkiosk run --simulate --headless`") from None
    ctx.data_dir.mkdir(parents=True, exist_ok=True)  # only now: a kiosk that cannot show itself touches nothing
    try:
        theme = load_theme(ui["theme"] or None, ui["min_target_mm"])
        sound = Sound(enabled=ui["sound"] and not headless)
        app = App(surface, theme, diagonal_in=ui["diagonal_in"], router=screens.route, sound=sound,
                  idle_timeout_s=ui["idle_timeout_s"], escape_quits=not ui["fullscreen"])
        app.reset(screens.AttractScreen(app))
        shown = time.monotonic()
        runtime = Runtime(ctx.config, ctx.data_dir, simulate=args.simulate,
                          drill_seconds=args.seconds, countdown_s=args.countdown, sim_fall_at=args.fall_at)
        runtime.startup["display"] = shown
        runtime.start(app)
        dog = _watchdog(runtime, app)
        try:
            if headless:
                return _scripted(args, ctx, app, runtime)
            app.run(fps=ui["fps"])
            return 0
        finally:
            dog.stop()
            runtime.close()
    finally:
        pygame.quit()


def _watchdog(runtime, app):
    """systemd's READY=1 after the UI's first step (the attract screen), then WATCHDOG=1 while every
    part of the kiosk is alive (gaitkiosk/watchdog.py). Without $NOTIFY_SOCKET: heartbeats only."""
    import time

    from gaitkiosk import __version__
    from gaitkiosk.watchdog import Watchdog

    dog = Watchdog.from_environ(runtime, __version__).start()

    def step_done() -> None:
        runtime.beat("ui")
        if dog.ready_at is None:
            runtime.startup["first_screen"] = time.monotonic()
            dog.ready()

    app.heartbeat = step_done
    return dog


def _scripted(args, ctx, app, runtime) -> int:
    import sys
    from pathlib import Path

    from gaitkiosk.errors import KioskError
    from gaitkiosk.scripted import ScriptedVisit
    from store import open_store

    shots = Path(args.screenshots) if args.screenshots else None

    def progress(line: str) -> None:  # stderr: stdout is the summary alone (JSON with --json)
        print(line, file=sys.stderr, flush=True)

    progress(f"scripted visit on the virtual patient (gives up after {args.timeout:.0f} s); each exercise as it goes:")
    result = ScriptedVisit(app, args.code, shots, timeout_s=args.timeout, progress=progress).run()
    runtime.close()
    summary = _summary(open_store, ctx.data_dir, args.code)
    summary["screens"] = result.screens
    summary["screenshots"] = [str(p) for p in result.screenshots]
    summary["seconds"] = round(result.seconds, 1)
    summary["completed"] = result.completed
    summary["safety_stops_continued"] = result.alerts
    # How the runtime fared (frames, worst gaps, silences the mat's reader did not confirm): for tests and benches.
    summary["runtime"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in runtime.stats.items()}
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

