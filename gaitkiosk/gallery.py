"""Every patient screen (and the staff login screens) in every state: the cases of the text-fit test and the screenshot gallery.

    python -m gaitkiosk.gallery DIR        a PNG of each gallery state at 800 x 480 and 1280 x 800

A state is a screen with what the runtime would hand it, made by the same code
the running kiosk uses: the drills' own titles, instructions and cues (their
live views come from real runs of each drill on the virtual patient's
autopilot, through ``gaitkiosk.liveview``), results in the words of
``gaitkiosk.resultwords`` from real results (complete, stopped at every
stage, compared like for like, with long numbers and singular/plural
counts), the visit's own messages (unknown codes, waits, storage failures).
``tests/test_ui_fit.py`` draws every state at both sizes and checks that
every string can be read whole (``ui.text.TextLog``); the gallery is the
subset worth a picture (``State.picture``), in ``docs/screenshots/states/``.
"""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

SIZES = {"800x480": ((800, 480), 7.0), "1280x800": ((1280, 800), 10.1)}
RUN_PARAMS = {  # short runs of each drill: the strings they show are the same as in a full one
    "quiet_standing": {"duration_s": 10, "eyes": "both"}, "tandem_walk": {"steps": 3},
    "gait_insoles": {"uplift_pct": 0, "baseline_s": 10, "training_s": 20},
    "limits_of_stability": {"time_limit_s": 3, "centre_hold_s": 0.5}, "rhythmic_shift": {"cycles": 3},
    "heel_toe_rocking": {"cycles": 3}, "weight_symmetry": {"duration_s": 10},
}
STOP_AT = (0.25, 0.7)  # shares of a drill done when the stopped variants are taken


@dataclass(frozen=True)
class State:
    """One screen in one state: ``make(app)`` builds it, ``setup(screen)`` puts it in the state
    (messages, a typed code) after its layout; ``snapshot`` is the live feed (drill screens)."""

    name: str
    make: Callable
    setup: Callable | None = None
    snapshot: object = None
    picture: bool = False  # in the screenshot gallery (every state is in the fit test)


class _Feed:
    def __init__(self, snapshot):
        self.snapshot = snapshot

    def latest(self):
        return self.snapshot


def show(state: State, size: tuple[int, int], diagonal_in: float, theme=None):
    """An offscreen app showing ``state`` after one frame: (app, screen)."""
    import pygame

    from ui.app import App
    from ui.theme import load_theme

    app = App(pygame.Surface(size), theme or load_theme(), diagonal_in=diagonal_in, feed=_Feed(state.snapshot))
    screen = app.reset(state.make(app))
    if state.setup is not None:
        state.setup(screen)
    app.step(1 / 30, [])
    plots = getattr(app, "plots", None)
    if plots is not None and plots.pending():  # a staff plot being drawn: the picture shows it drawn
        from ui.text import new_frame

        plots.wait()
        new_frame()
        app.step(1 / 30, [])
    return app, screen


# -- the states ----------------------------------------------------------------------------------


@functools.cache
def states() -> tuple[State, ...]:
    return (*_attract(), *_checkin(), *_program(), *_instruction(), *_live(), *_results(), *_closing(), *_staff(),
            *_staff_save(), *_patients(), *_programs(), *_review(), *_calibration(), *_diagnostics())


def _attract():
    from gaitkiosk.runtime import LiveSnapshot
    from gaitkiosk.visit import start_screen_line, storage_problem
    from store.errors import DiskFullError
    from ui.screens import AttractScreen

    def status(text):  # what the start screen reads from the live feed each frame
        return LiveSnapshot(seq=1, device_problem=text)

    return [
        State("attract", AttractScreen, picture=True),
        State("attract-storage", AttractScreen, snapshot=status(start_screen_line(storage_problem(DiskFullError("full"))[0])),
              picture=True),
        State("attract-sensor", AttractScreen, snapshot=status(
            "sensor GK-MAT-000123 is not calibrated yet; a therapist or technician must calibrate it before drills "
            "can run (gaitkiosk calibrate)"), picture=True),
        State("attract-unplugged", AttractScreen, snapshot=status(
            "Sensor /dev/serial/by-id/usb-gaitkiosk_mat_GK-MAT-000123-if00-port0 is disconnected: "
            "/dev/serial/by-id/usb-gaitkiosk_mat_GK-MAT-000123-if00-port0 is not there (unplugged?); retrying")),
    ]


def _checkin():
    from gaitkiosk.patient_code import MAX_DIGITS
    from gaitkiosk.visit import NO_PROGRAM
    from ui.app import Message
    from ui.screens import CheckInScreen

    def make(app):
        return CheckInScreen(app, MAX_DIGITS)

    def typed(code):
        return lambda s: setattr(s.keypad, "code", code)

    def told(kind, **data):
        return lambda s: s.on_message(Message(kind, data))

    longest = "9" * MAX_DIGITS
    return [
        State("checkin", make, picture=True),
        State("checkin-typed", make, typed(longest), picture=True),
        State("checkin-busy", make, lambda s: (typed(longest)(s), setattr(s, "busy", True))),
        State("checkin-unknown", make, told("patient_unknown", code=longest, wait_s=0.0), picture=True),
        State("checkin-wait-seconds", make, told("patient_unknown", code=longest, wait_s=30.0), picture=True),
        State("checkin-wait-minutes", make, told("checkin_wait", wait_s=900.0)),
        State("checkin-wait-1-second", make, told("checkin_wait", wait_s=0.6)),
        State("checkin-no-program", make, told("patient_unknown", code=longest, text=NO_PROGRAM)),
    ]


def _items(statuses=(), n=None):
    from drills import registry

    names = registry.names()
    items = []
    for i in range(len(names) if n is None else n):
        cls = registry.get(names[i % len(names)])
        status = statuses[i] if i < len(statuses) else "todo"
        items.append({"title": cls.title, "seconds": cls(None).planned_duration(), "status": status})
    return items


def _program():
    from ui.app import Message
    from ui.screens import ProgramScreen

    def program(items, next_index=0):
        return lambda app: ProgramScreen(app, items, "Hello!", next_index)

    def error(text):
        return lambda s: s.on_message(Message("drill_failed", {"text": text}))

    later = _items(("done", "stopped", "skipped"))
    return [
        State("program", program(_items()), picture=True),
        State("program-later", program(later, 3), picture=True),
        State("program-one", program(_items(n=1))),
        State("program-twelve", program(_items(n=12))),
        State("program-thirty", program(_items(("done",) * 20, n=30), 20), picture=True),
        State("program-waiting", program(_items()), lambda s: setattr(s, "waiting", True)),
        State("program-error", program(later, 3), error("The left insole is not ready. Please tell the staff."),
              picture=True),
        State("program-went-wrong", program(later, 3), error("Something went wrong. Please tell the staff.")),
    ]


def _instruction():
    from drills import registry
    from gaitkiosk.visit import drill_intro
    from ui.app import Message
    from ui.screens import InstructionScreen

    out, seen = [], set()
    names = registry.names()
    for k, name in enumerate(names):
        cls = registry.get(name)
        variants = [{}] + [{p.name: v} for p in cls.PARAMS for v in p.choices]
        for params in variants:
            intro = drill_intro(cls(params), k, len(names))
            if (intro["instruction"], intro["picture"]) in seen:
                continue
            seen.add((intro["instruction"], intro["picture"]))
            label = "-".join(f"{v}" for v in params.values())
            out.append(State(f"instruction-{name}" + (f"-{label}" if label else ""),
                             functools.partial(InstructionScreen, drill=intro), picture=not params and k < 2))
    intro = drill_intro(registry.get(names[-1])(None), len(names) - 1, len(names))
    out.append(State("instruction-waiting", functools.partial(InstructionScreen, drill=intro),
                     lambda s: setattr(s, "waiting", True)))
    out.append(State("instruction-error", functools.partial(InstructionScreen, drill=intro),
                     lambda s: s.on_message(Message("drill_failed", {"text": "The mat is not ready. Please tell the staff."})),
                     picture=True))
    return out


# -- live drill screens and results, from real runs ---------------------------------------------------


@dataclass
class _Run:
    """One drill run on the autopilot: its distinct live views, and its results (complete, stopped)."""

    views: list  # (label, LiveSnapshot)
    complete: dict
    stopped: dict  # label -> results of a copy stopped there
    title: str


@functools.cache
def _run(name: str) -> _Run:
    from drills import registry
    from drills.autopilot import patient_for, run_drill
    from gaitkiosk.liveview import drill_view

    mat = (96, 48) if name == "tandem_walk" else (48, 48)
    d = registry.create(name, RUN_PARAMS.get(name, {}), mat_shape=mat, mat_pitch_mm=(8.47, 8.47), countdown_s=2.0)
    patient = patient_for(d, seed=1)
    views, seen, stopped = [], set(), {}
    stops = list(STOP_AT)

    def on_frame(t, drill):
        v = drill_view(drill)
        key = (v["phase"], v["cue"], v["progress"], tuple(v["values"]), v["alert"])
        if key not in seen:
            seen.add(key)
            same = sum(1 for label, _ in views if label.split("-")[0] == v["phase"])
            views.append((v["phase"] + (f"-{same + 1}" if same else ""), _snapshot(drill, patient, t, v, len(views))))
        if drill.phase == "countdown" and "countdown" not in stopped and drill.countdown_total - (drill.view().countdown_s or 0) > 0.5:
            stopped["countdown"] = _stopped(drill, t)
        while stops and drill.phase == "running" and drill.progress() >= stops[0]:
            stopped[f"{int(100 * stops.pop(0))}pct"] = _stopped(drill, t)

    out = run_drill(d, patient, max_s=120.0, resume_after_s=1.0, on_frame=on_frame)
    return _Run(views, out.result.to_dict(), stopped, d.title)


def _stopped(drill, t) -> dict:
    twin = copy.deepcopy(drill)
    twin.stop(t)
    return twin.result().to_dict()


def _snapshot(drill, patient, t, view, seq):
    from gaitkiosk.runtime import LiveSnapshot

    s = patient.sample(t, mat="mat" in drill.SENSORS, insoles="insoles" in drill.SENSORS)
    mat = (patient.mat.rows, patient.mat.cols, tuple(patient.mat.pitch_mm)) if "mat" in drill.SENSORS else None
    insoles = {side: patient.insoles.positions(side) for side in ("left", "right")} if "insoles" in drill.SENSORS else None
    cop = drill.live.cop_mm
    return LiveSnapshot(seq=seq + 1, t_frame=t, mat_kpa=getattr(s, "mat_kpa", None) if mat else None, mat_geometry=mat,
                        cop_mm=cop, cop_trail=(cop,) if cop else (), insole_kpa=dict(s.insole_kpa) if insoles else None,
                        insole_layout=insoles, drill=view)


def _live():
    from drills import registry
    from drills.safety import MESSAGES
    from ui.screens import LiveDrillScreen

    out = []
    for name in registry.names():
        run = _run(name)
        intro = {"index": 0, "count": 7, "title": run.title}
        make = functools.partial(LiveDrillScreen, drill=intro)
        running = _busiest([snap for _, snap in run.views if snap.drill["phase"] == "running"] or [run.views[-1][1]])
        for label, snap in run.views:  # pictured: each drill running (feet on the mat), and one countdown
            picture = snap is running or (label == "countdown" and name == "quiet_standing")
            out.append(State(f"drill-{name}-{label}", make, snapshot=snap, picture=picture))
        out.append(State(f"drill-{name}-paused", make, snapshot=_with(running, phase="paused")))
        # Long numbers where a drill counts: many steps, a long exercise, a fast cadence.
        long = {"remaining_s": 599.0, "duration_s": 600.0}
        if running.drill.get("progress"):
            long["progress"] = {"tandem_walk": "38 good steps of 40"}.get(name, "Target 8 of 8")
        if running.drill.get("values"):
            long["values"] = [("Steps per minute", "188 (aim 197)")]
        out.append(State(f"drill-{name}-long-numbers", make, snapshot=_with(running, **long)))
        if name == "tandem_walk":  # a real visit: no time on the ring, the count alone
            out.append(State("drill-tandem_walk-count-only", make,
                             snapshot=_with(running, remaining_s=None, duration_s=None, progress="2 good steps of 3"),
                             picture=True))
            out.append(State("drill-tandem_walk-count-one", make,
                             snapshot=_with(running, remaining_s=None, duration_s=None, progress="1 good step of 40")))
    # Every cue a drill can say, also those the cooperative virtual patient never hears.
    seen = {snap.drill["cue"] for name in registry.names() for _, snap in _run(name).views}
    for name in registry.names():
        run = _run(name)
        running = next((snap for _, snap in run.views if snap.drill["phase"] == "running"), run.views[-1][1])
        make = functools.partial(LiveDrillScreen, drill={"index": 0, "count": 7, "title": run.title})
        for k, cue in enumerate(sorted(set(drill_cues(name)) - seen)):
            out.append(State(f"drill-{name}-cue-{k}", make, snapshot=_with(running, cue=cue)))
    standing = _run("quiet_standing").views
    running = next(snap for _, snap in standing if snap.drill["phase"] == "running")
    make = functools.partial(LiveDrillScreen, drill={"index": 0, "count": 7, "title": _run("quiet_standing").title})
    for reason, message in MESSAGES.items():
        out.append(State(f"drill-alert-{reason}", make, snapshot=_with(running, phase="alert", alert=message),
                         picture=reason in ("cop_outside", "sensor_lost")))
    return out


def drill_cues(name: str) -> list[str]:
    """The live cues a drill's code can say (read from its source and its base class's): every
    string it sets as ``self.message`` or gives as the reason to wait in ``ready``/``stance_hint``;
    a value filled in at run time reads "forward right" (the longest direction)."""
    import ast
    import inspect

    from drills import registry

    said = set()
    for cls in registry.get(name).__mro__:
        if not cls.__module__.startswith("drills."):
            continue
        for node in ast.walk(ast.parse(inspect.getsource(inspect.getmodule(cls)))):
            value = None
            if isinstance(node, ast.Assign) and any(ast.unparse(t) == "self.message" for t in node.targets):
                value = node.value
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
                value = node.value.elts[1]
            elif isinstance(node, ast.FunctionDef) and node.name == "stance_hint":
                said |= {r.value.value for r in ast.walk(node) if isinstance(r, ast.Return)
                         and isinstance(r.value, ast.Constant) and isinstance(r.value.value, str)}
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                said.add(value.value)
            elif isinstance(value, ast.JoinedStr):
                said.add("".join(v.value if isinstance(v, ast.Constant) else "forward right" for v in value.values))
    return sorted(t for t in said if t.strip())


def _busiest(snapshots):
    """The snapshot with the most load on the mat (a walking drill's first frames may show none)."""
    def load(snap):
        return 0.0 if snap.mat_kpa is None else float(snap.mat_kpa.sum())
    return max(snapshots, key=load)


def _with(snapshot, **view):
    return replace(snapshot, drill={**snapshot.drill, **view})


def _results():
    from drills import registry
    from gaitkiosk.resultwords import MEASURE, screen_result
    from ui.app import Message
    from ui.screens import ResultScreen

    out = []
    names = registry.names()

    def add(label, results, previous=None, *, index=0, last=False, picture=False, setup=None, recalibrated=False):
        r = screen_result(results, previous, index=index, count=len(names), title=registry.get(results["drill"]).title,
                          last=last, recalibrated=recalibrated)
        out.append(State(f"result-{results['drill']}-{label}", functools.partial(ResultScreen, result=r), setup,
                         picture=picture))

    for k, name in enumerate(names):
        run = _run(name)
        done = run.complete
        add("first", done, index=k, picture=k == 0)
        path, better = MEASURE[name][:2]
        for label, factor in (("better", 2.0), ("worse", 0.5), ("same", 1.0)):  # last time, if lower is better
            if better == "higher":
                factor = 1.0 / factor
            add(label, done, _scaled(done, path, factor), index=k, picture=k == 0 and label != "same")
        add("recalibrated", done, index=k, recalibrated=True, picture=k == 0)
        add("updated", {**done, "measures_version": 2}, {**done, "measures_version": 1}, index=k)
        add("new-level", done, {**done, "params": {**done["params"], "_changed": 1, "zz": 1}}, index=k)
        add("alerts-1", {**done, "alerts": done["alerts"][:1] or [{"reason": "cop_outside"}]}, index=k)
        add("alerts-12", {**done, "alerts": [{"reason": "cop_outside"}] * 12}, done, index=k, last=True)
        for label, stopped in run.stopped.items():
            add(f"stopped-{label}", stopped, done, index=k, picture=k == 0)
            add(f"stopped-{label}-alerts", {**stopped, "alerts": [{"reason": "foot_unloaded"}] * 2}, done, index=k)
        add("error", done, done, index=k, setup=lambda s: s.on_message(
            Message("drill_failed", {"text": "Something went wrong. Please tell the staff."})), picture=k == 0)
    for label, results in _counted_results():
        add(label, results, picture=label == "tandem_walk-one-step")
    return out


def _scaled(results: dict, path: str, factor: float) -> dict:
    """``results`` with the measure at ``path`` (or the score) times ``factor``: last time, better or worse."""
    out = copy.deepcopy(results)
    if path == "score":
        out["score"] = min(100.0, (out.get("score") or 50.0) * factor)
        return out
    node = out["measures"]
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = (node.get(leaf) or 10.0) * factor
    out["score"] = out.get("score") or 50.0
    return out


def _counted_results():
    """Results with long numbers and with counts of one (singular words), as a long visit has them."""
    def r(drill, score=88.0, **measures):
        return {"drill": drill, "status": "complete", "score": score, "measures": measures, "alerts": [],
                "duration_s": 60.0, "params": {}, "done_pct": 100.0}

    quiet = {"conditions": {"eyes_open": {"duration_s": 120.0, "time_in_zone_pct": 95.0},
                            "eyes_closed": {"duration_s": 120.0, "time_in_zone_pct": 35.0}}}
    return [
        ("quiet_standing-long", r("quiet_standing", **quiet)),
        ("quiet_standing-one-second", r("quiet_standing", conditions={"eyes_open": {"duration_s": 1.0,
                                                                                    "time_in_zone_pct": 10.0}})),
        ("tandem_walk-long", r("tandem_walk", attempted_steps=40, correct_steps=39)),
        ("tandem_walk-one-step", r("tandem_walk", None, attempted_steps=1, correct_steps=1)),
        ("limits_of_stability-none", r("limits_of_stability", summary={"targets": 8, "targets_reached": 0})),
        ("rhythmic_shift-long", r("rhythmic_shift", beats=60, targets_hit=59)),
        ("heel_toe_rocking-one", r("heel_toe_rocking", cycles_complete=1, time_in_band_pct=61.0)),
        ("heel_toe_rocking-long", r("heel_toe_rocking", cycles_complete=30, time_in_band_pct=99.0)),
        ("weight_symmetry-stands", r("weight_symmetry", time_in_band_pct=92.0, stands=1)),
        ("weight_symmetry-many-stands", r("weight_symmetry", time_in_band_pct=12.0, stands=40)),
        ("gait_insoles-long", r("gait_insoles", baseline={"steps": 412}, training={"steps": 1234}, on_beat_pct=93.0)),
        ("gait_insoles-no-beat", r("gait_insoles", None, baseline={"steps": 12}, training={"steps": 0})),
    ]


def _closing():
    from gaitkiosk.visit import storage_problem
    from store.errors import CorruptDatabaseError, DiskFullError, LowDiskError, ReadOnlyStoreError
    from ui.screens import GoodbyeScreen, StaffNeededScreen

    out = []
    for label, summary in (("", {"practised": 7, "finished": 5, "total": 7, "saved": True}),
                           ("-one", {"practised": 1, "finished": 1, "total": 1, "saved": True}),
                           ("-none", {"practised": 0, "finished": 0, "total": 7, "saved": True}),
                           ("-long", {"practised": 29, "finished": 29, "total": 30, "saved": True}),
                           ("-not-saved", {"practised": 2, "finished": 1, "total": 7, "saved": False})):
        out.append(State(f"goodbye{label}", functools.partial(GoodbyeScreen, summary=summary),
                         picture=label in ("", "-not-saved")))
    errors = [LowDiskError("low"), DiskFullError("full"), CorruptDatabaseError("damaged"),
              ReadOnlyStoreError("read-only"), _sqlite_error()]
    for k, exc in enumerate(errors):
        staff = storage_problem(exc)[1]
        for done in ((0, 2, 1) if k == 1 else (2,)):
            out.append(State(f"staff_needed-{type(exc).__name__}-{done}",
                             functools.partial(StaffNeededScreen, done=done, total=7, staff=staff),
                             picture=k == 1 and done == 2))
    return out


def _staff():
    from store.users import NAME_MAX
    from ui.app import Message
    from ui.screens import StaffHomeScreen, StaffLoginScreen

    def login(users, wait_s=0.0):
        return lambda app: StaffLoginScreen(app, users, wait_s)

    def told(kind, **data):
        return lambda s: s.on_message(Message(kind, data))

    longest = "W" * NAME_MAX  # the widest name store.users allows
    team = [{"name": longest, "role": "technician"}] + \
        [{"name": n, "role": "therapist"} for n in ("Ann Berg", "Bo Lindqvist", "Carla M.-O.")]
    many = [{"name": f"Therapist {k:02d}", "role": "therapist"} for k in range(1, 15)]
    return [
        State("staff_login", login(team), picture=True),
        State("staff_login-none", login([])),
        State("staff_login-one", login(team[:1]), lambda s: setattr(s.keypad, "code", "12345678")),
        State("staff_login-many", login(many)),
        State("staff_login-wrong", login(team), told("staff_refused", name="Ann Berg", wait_s=0.0)),
        State("staff_login-wait", login(team), told("staff_refused", name="Ann Berg", wait_s=30.0), picture=True),
        State("staff_login-wait-minutes", login(team), told("staff_wait", wait_s=900.0)),
        State("staff_login-choose", login(team), lambda s: setattr(s, "message", "Choose your name first.")),
        State("staff_home", lambda app: StaffHomeScreen(app, "Ann Berg", "therapist"), picture=True),
        State("staff_home-long", lambda app: StaffHomeScreen(app, longest, "technician", idle_logout_s=3600.0)),
    ]


def _staff_save():
    from ui.app import Message
    from ui.screens import SaveScreen

    def save(places, refused, kind="session report"):
        return lambda app: SaveScreen(app, {"what": "session", "id": "x", "kind": kind, "patient": "20417",
                                            "places": places, "refused": refused})

    folder = {"label": "folder /srv/clinic-share/gait-reports", "path": "/srv/clinic-share/gait-reports"}
    stick = {"label": "USB stick KINGSTON", "path": "/media/KINGSTON"}
    no_stick = "No USB stick is plugged in (none is mounted under /media)."
    no_folder = "No folder is set up for reports ([reports] folder in the config)."
    return [
        State("staff_save", save([folder, stick], []), picture=True),
        State("staff_save-saved", save([stick], [no_folder], "home-exercise sheet"), lambda s: s.on_message(
            Message("staff_saved", {"name": "P20417-2026-12-04-exercises-2.pdf", "label": "USB stick KINGSTON"})),
            picture=True),
        State("staff_save-none", save([], [no_stick, no_folder]), picture=True),
        State("staff_save-refused", save([stick], [no_folder]), lambda s: s.refused(
            "That place cannot take a PDF now (was the USB stick pulled out?). Choose again.")),
    ]


def _patients():
    from gaitkiosk.gallery_patients import states as patient_states

    return patient_states()


def _programs():
    """The Programs room (ui/screens/staff_program.py) with the demo program as the worker describes it."""
    from drills import registry
    from gaitkiosk.demo_seed import demo_prescriptions
    from gaitkiosk.staff_rooms import programs as room
    from ui.app import Message
    from ui.screens import ProgramEditScreen

    def row(rx, k, **over):
        r = {"drill": rx.drill, "params": dict(rx.params), "repetitions": 1, "level": 0, "source": f"rx-{k}", **over}
        return room.describe_row(r, registry.validate(rx.drill, r["params"]), r.pop("note", ""))

    demo = demo_prescriptions()
    rows = [row(rx, k) for k, rx in enumerate(demo)]
    busy = [row(rx, k, repetitions=10 if k == 0 else 2, level=2, note="harder: 3 sessions scored 80 or more")
            for k, rx in enumerate(demo)]
    gone = {"drill": "hopscotch", "params": {}, "repetitions": 1, "level": 0, "source": "rx-9", "title": "hopscotch",
            "words": "unknown drill 'hopscotch'; the drills are: " + ", ".join(registry.names()), "level_max": 0,
            "level_words": "", "note": "", "missing": True}

    def data(rows, note=""):
        return {"patient": {"id": "p-1", "code": "12345678"}, "rows": rows, "drills": room.schemas(),
                "repetitions": [1, 10], "note": note,
                "program": {"id": "pr-1", "name": "program of 2026-11-02", "created_at": "2026-11-02T09:14:03Z"}}

    def screen(rows, note=""):
        return lambda app: ProgramEditScreen(app, data(rows, note))

    def then(**attrs):
        def setup(s):
            for key, value in attrs.items():
                setattr(s, key, value)
            s._build()
        return setup

    def moved(s):
        s.rows[0], s.rows[1] = s.rows[1], s.rows[0]
        s._build()

    out = [
        State("staff_program", screen(rows), picture=True),
        State("staff_program-changed", screen(rows), moved, picture=True),
        State("staff_program-later", screen(busy), then(page=1)),
        State("staff_program-last", screen(busy), then(page=3)),
        State("staff_program-saved", screen(busy, "Saved. The new program starts at the next check-in.")),
        State("staff_program-empty", screen([])),
        State("staff_program-missing", screen([*rows[:2], gone])),
        State("staff_program-checking", screen(rows), then(busy=True)),
        State("staff_program-refused", screen(rows), lambda s: s.on_message(Message("staff_refused_action", {
            "text": "drill 'quiet_standing': duration_s=500 is out of range: it must be 10 to 120 s"}))),
        State("staff_program-add", screen(rows), then(mode="add"), picture=True),
        State("staff_program-confirm", screen(rows), lambda s: (moved(s), then(mode="confirm")(s)), picture=True),
        State("staff_program-edit-missing", screen([gone]), then(mode="edit")),
    ]
    for k, rx in enumerate(demo):  # every drill's page, every page of it, plain and at its busiest
        for page in range(4):
            for label, these in (("", rows), ("-busy", busy)):
                out.append(State(f"staff_program-edit-{rx.drill}{label}-{page + 1}", screen(these),
                                 then(mode="edit", editing=k, page=page),
                                 picture=not label and (rx.drill, page) in (("quiet_standing", 0), ("quiet_standing", 1),
                                                                           ("limits_of_stability", 0))))
    return out




@functools.cache
def review_data() -> dict:
    """What the worker hands the session review for stored trials of the virtual patient: a
    quiet standing, a tandem walk and an insole walk (gaitkiosk.demo_trials, in a scratch store)."""
    import tempfile

    from gaitkiosk.config import default_config
    from gaitkiosk.demo_seed import seed_demo
    from gaitkiosk.demo_trials import store_virtual_trial
    from gaitkiosk.staff_views import Desk, show
    from store import open_store

    out = {}
    with tempfile.TemporaryDirectory(prefix="gaitkiosk-gallery-") as tmp:
        patient = seed_demo(tmp, default_config(), "1234")
        with open_store(tmp) as st:
            user = st.users.add("Ann Berg", "therapist", "482913")
            desk = Desk(st, user, default_config())
            for drill, seconds in (("quiet_standing", 12), ("tandem_walk", 24), ("gait_insoles", 10)):
                trial = store_virtual_trial(st, patient, drill, seconds)
                out[drill] = show(desk, "review", {"trial": trial.id})[1]
    return out


def _review():
    from ui.plots import plots_of
    from ui.screens import ReviewScreen

    def review(drill, **change):
        def make(app):
            data = copy.copy(review_data()[drill])
            data["trial"] = {**data["trial"], "started": "2026-11-21 10:05"}  # the same picture on every run
            data.update(change)
            return ReviewScreen(app, data)
        return make

    def at(tab, *, mode=None, steps=None, define=None, page=0, play_s=None):
        def setup(screen):
            screen.tab = tab
            screen.pressure_mode = mode or screen.pressure_mode
            screen.steps_mode = steps or screen.steps_mode
            screen.pages[tab if tab != "steps" or steps != "per_step" else "table"] = page
            screen.update(0.0)  # asks for the tab's plot
            plots_of(screen.app).wait()
            if play_s is not None:
                screen.playing = True
                screen.update(play_s)
            if define is not None:
                screen.defining = define(screen.data)
        return setup

    def sway(key):
        return lambda data: next(r for r in data["sway"] if r["key"] == key)

    return [
        State("staff_review", review("quiet_standing"), at("sway"), picture=True),
        State("staff_review-sway-more", review("quiet_standing"), at("sway", page=1)),
        State("staff_review-pressure", review("quiet_standing"), at("pressure"), picture=True),
        State("staff_review-pressure-mean", review("quiet_standing"), at("pressure", mode="mean", page=1)),
        State("staff_review-pressure-walk", review("tandem_walk"), at("pressure"), picture=True),
        State("staff_review-steps-walk", review("tandem_walk"), at("steps", steps="per_step"), picture=True),
        State("staff_review-steps-walk-summary", review("tandem_walk"), at("steps")),
        State("staff_review-steps-insoles", review("gait_insoles"), at("steps"), picture=True),
        State("staff_review-pressure-insoles", review("gait_insoles"), at("pressure"), picture=True),
        State("staff_review-sway-insoles", review("gait_insoles"), at("sway")),
        State("staff_review-replay", review("quiet_standing"), at("replay", play_s=3.0), picture=True),
        State("staff_review-replay-walk", review("tandem_walk"), at("replay", play_s=8.0)),
        State("staff_review-replay-insoles", review("gait_insoles"), at("replay", play_s=2.0)),
        State("staff_review-definition", review("quiet_standing"), at("sway", define=sway("sway.ellipse95_area_mm2")),
              picture=True),
        State("staff_review-definition-speed", review("quiet_standing"),
              at("sway", define=sway("sway.mean_velocity_mm_s"))),
        State("staff_review-definition-cpei", review("tandem_walk"),
              at("steps", steps="per_step", define=lambda d: d["steps"][0]["cells"][1])),
        State("staff_review-definition-null", review("gait_insoles"), at("sway", define=sway("sway.ellipse95_axes_mm"))),
        State("staff_review-no-frames", review("quiet_standing", mat=None, frames_problem=(
            "The trial's frames cannot be shown (recording chunk cannot be decoded: bad header). "
            "The stored numbers are shown.")), at("sway"), picture=True),
        State("staff_review-no-frames-replay", review("quiet_standing", mat=None, frames_problem=(
            "No frames of this trial are stored (nothing was recorded, or they were deleted): "
            "the stored numbers are shown, without pictures or replay.")), at("replay")),
        State("staff_review-no-report", review("quiet_standing", report=None, sway=[], weight=[], summary=[],
                                               steps=[], report_error="no frames were recorded"), at("sway")),
    ]


def _calibration():
    """The calibration room (ui/screens/staff_calibration*.py) with what a real run on the virtual
    calibration rig gives (device/sim/loads.py): its instructions, frames, results and messages."""
    import numpy as np

    from calibration import steps
    from calibration.errors import LoadedDuringZeroError
    from calibration.model import CalibrationModel
    from device.sim.loads import CalibrationRig, rig_frames
    from gaitkiosk.calibrating import procedures_for
    from gaitkiosk.config import default_config
    from gaitkiosk.staff_rooms.calibration import (
        PROCEDURE_LABELS,
        _needs_weight,
        _procedures_of,
        _words,
    )
    from ui.app import Message
    from ui.screens.staff_calibration import CalibrationHistoryScreen, CalibrationScreen
    from ui.screens.staff_calibration_run import CalibrationResultScreen, CalibrationRunScreen

    config = default_config()
    rig = CalibrationRig(seed=1)
    mat = CalibrationModel.for_device("sim-mat-48x48-seed1", "mat", (48, 48), sensel_area_mm2=8.47 ** 2,
                                      pitch_mm=(8.47, 8.47))
    procs = procedures_for("load", "mat", config["calibration"])
    result = steps.run(procs, mat, rig_frames(rig, "mat"), operator=lambda st: rig.perform(st.request))
    zero = np.asarray(result.model.offset, np.float32)

    def frame(request, t=3.0):
        rig.perform(request, at=100.0)
        return np.clip(rig.mat_counts(rig.sample(100.0 + t)).astype(np.float32) - zero, 0.0, None)

    def device(serial, kind, label, source, status, reasons, cal=True, error=None):
        return {"serial": serial, "kind": kind, "label": label, "source": source,
                "calibration_id": "c-5f1e" if cal else None, "calibrated_on": "2026-06-02" if cal else "",
                "accuracy_pct": result.procedures[-1].accuracy_pct_ if cal else None, "operator": "Ann Berg",
                "status": status, "reasons": reasons, "last_error_pct": error, "procedures": _procedures_of(kind),
                "needs_weight": [p for p in _procedures_of(kind) if _needs_weight(p, kind)],
                "factory_calibrated": False}

    devices = {"labels": PROCEDURE_LABELS, "notice": "", "running": False, "devices": [
        device("sim-mat-48x48-seed1", "mat", "Mat", "calibrated", "due",
               ["not verified for 31 days (every 30): run gaitkiosk calibrate verify"], error=-0.4),
        device("sim-insole-left-seed1", "insole_left", "Left insole", "factory-nominal (uncalibrated)",
               "uncalibrated", ["no active calibration: run gaitkiosk calibrate equilibrate for this device"],
               cal=False),
        device("sim-insole-right-seed1", "insole_right", "Right insole", "calibrated", "out of spec",
               ["last verification erred +4.2 % (limit +-3 %): recalibrate before measuring patients"], error=4.2)]}
    cancelled = {**devices, "notice": "Cancelled: nothing was stored, the previous calibration stays in force."}

    def screen(cls, data):
        return lambda app: cls(app, data)

    def select(k):
        def setup(s):
            s.selected = k
            s.layout(s.app.size)
        return setup

    def weight(s):
        s.weight_for, s.keypad.code = "bodyweight", "72"

    run = {"job": 1, "serial": "sim-mat-48x48-seed1", "device_kind": "mat", "label": "Mat", "procedure": "load",
           "title": "Known load", "steps": 5, "max_counts": 4095, "geometry": (48, 48, (8.47, 8.47)),
           "sensors_mm": None, "weight_kg": None}
    plate_step = procs[1].steps(result.model)[1]
    person = procedures_for("bodyweight", "mat", config["calibration"], weight_kg=72.0)[0].steps(result.model)[0]

    def told(step, state, fraction, waiting, step_no, counts, procedure="known_load", steps_n=4, k=2):
        p = {"procedure": procedure, "step": k, "steps": steps_n, "step_id": step.id, "instruction": step.instruction,
             "state": state, "fraction": fraction, "detail": ""}
        return lambda s: s.on_message(Message("calibration_progress", {
            "job": 1, "state": "running", "waiting": waiting, "step_no": step_no, "frame": counts, "progress": p}))

    left = CalibrationModel.for_device("sim-insole-left-seed1", "insole_left", (16,), sensel_area_mm2=154.0)
    insole_step = procedures_for("zero", "insole_left", config["calibration"])[0].steps(left)[0]
    rig.perform({"load": "person", "stance": "right"}, at=200.0)
    insole_counts = rig.insole_counts(rig.sample(203.0), "left").astype(np.float32)
    insole_run = {**run, "serial": "sim-insole-left-seed1", "device_kind": "insole_left", "label": "Left insole",
                  "procedure": "zero", "title": "Zero", "steps": 1, "geometry": None,
                  "sensors_mm": [list(map(float, p)) for p in rig.insoles.positions("left")]}

    kept = {"calibration_id": "c-77a0", "active": True, "complete": True}
    procs_words = [_words({"procedure": p.name, "passed": bool(p.passed_), "accuracy_pct": p.accuracy_pct_,
                           "message": p.message_}) for p in result.procedures]
    passed = {"serial": run["serial"], "device_kind": "mat", "label": "Mat", "procedure": "load", "title": "Known load",
              "passed": True, "error": None, "procedures": procs_words, "kept": kept}
    try:
        procs[0].check(procs[0].steps(mat)[0], steps.Capture(procs[0].steps(mat)[0],
                       np.stack([rig.mat_counts(rig.sample(100.0 + t)) for t in (3.0, 3.1)]), np.array([0.0, 0.1])), mat)
        refusal = ""
    except LoadedDuringZeroError as exc:
        refusal = str(exc)
    failed = {**passed, "title": "Zero", "procedure": "zero", "passed": False, "procedures": [],
              "kept": None, "error": refusal or "the load did not settle"}
    verify = {**passed, "title": "Verify", "procedure": "verify", "procedures": [_words(
        {"procedure": "verify", "passed": True, "accuracy_pct": 0.42,
         "message": "read 199.2 N for 200.0 N: -0.42 % (within +-3 %)"})],
        "kept": {"verification": {"measured_n": 199.2, "known_n": 200.0, "error_pct": -0.42, "tolerance_pct": 3.0}}}

    history_rows = []
    for k, (day, procs_, acc, resp) in enumerate([
            ("2026-12-01T09:12:00+00:00", ["zero"], None, 171.3),
            ("2026-09-14T10:02:00+00:00", ["zero", "known_load"], 0.8, 170.1),
            ("2026-06-02T08:40:00+00:00", ["zero", "known_load"], 0.6, 166.0),
            ("2026-03-20T15:31:00+00:00", ["zero", "equilibrate"], 2.4, 163.9),
            ("2026-01-05T11:00:00+00:00", ["zero", "known_load"], 4.1, None)]):
        history_rows.append({"id": f"c-{k}", "at": day, "active": k == 0, "passed": acc is None or acc <= 3.0,
                             "accuracy_pct": acc, "operator": "Ann Berg", "procedures": procs_, "response_kpa": resp})
    older = None
    for row in reversed(history_rows):
        r = row["response_kpa"]
        row["response_change_pct"] = None if r is None or older is None else 100.0 * (r / older - 1.0)
        older = r if r is not None else older
    verifications = [{"at": f"2026-{m:02d}-15T09:00:00+00:00", "error_pct": e, "calibration_id": "c-1"}
                     for m, e in ((7, -0.3), (8, 0.4), (9, 1.1), (10, 0.2), (11, 0.9))]
    limits = {"due_after_days": 180.0, "verify_every_days": 30.0, "max_error_pct": 3.0}
    health = {"status": "due", "reasons": ["not verified for 31 days (every 30): run gaitkiosk calibrate verify"],
              "drift_pct_per_30_days": 0.21, "calibration_id": "c-0"}
    history = {"serial": "sim-mat-48x48-seed1", "device_kind": "mat", "label": "Mat", "calibrations": history_rows,
               "verifications": verifications, "health": health, "limits": limits, "reference_counts": 500.0,
               "next_verify": "2026-12-15", "next_calibration": "2027-05-30"}
    empty_history = {**history, "calibrations": [], "verifications": [],
                     "health": {"status": "uncalibrated", "reasons": ["no active calibration"],
                                "drift_pct_per_30_days": None}, "next_verify": None, "next_calibration": None}
    return [
        State("staff_calibration", screen(CalibrationScreen, devices), picture=True),
        State("staff_calibration-insole", screen(CalibrationScreen, devices), select(1)),
        State("staff_calibration-out-of-spec", screen(CalibrationScreen, devices), select(2)),
        State("staff_calibration-cancelled", screen(CalibrationScreen, cancelled), picture=True),
        State("staff_calibration-none", screen(CalibrationScreen, {"devices": [], "labels": PROCEDURE_LABELS})),
        State("staff_calibration-weight", screen(CalibrationScreen, devices), weight, picture=True),
        State("staff_calibration_run-waiting", screen(CalibrationRunScreen, run),
              told(plate_step, "waiting", 0.0, 2, 2, frame({"load": "empty"})), picture=True),
        State("staff_calibration_run-measuring", screen(CalibrationRunScreen, run),
              told(plate_step, "measuring", 0.62, 0, 2, frame(plate_step.request)), picture=True),
        State("staff_calibration_run-bodyweight", screen(CalibrationRunScreen, {**run, "title": "Body weight",
                                                                                "steps": 1}),
              told(person, "settling", 0.3, 0, 1, frame(person.request), "bodyweight", 1, 1)),
        State("staff_calibration_run-insole", screen(CalibrationRunScreen, insole_run),
              told(insole_step, "waiting", 0.0, 1, 1, insole_counts, "zero", 1, 1), picture=True),
        State("staff_calibration_result", screen(CalibrationResultScreen, passed), picture=True),
        State("staff_calibration_result-failed", screen(CalibrationResultScreen, failed), picture=True),
        State("staff_calibration_result-verify", screen(CalibrationResultScreen, verify)),
        State("staff_calibration_history", screen(CalibrationHistoryScreen, history), picture=True),
        State("staff_calibration_history-empty", screen(CalibrationHistoryScreen, empty_history)),
    ]


def _sqlite_error():
    import sqlite3

    return sqlite3.OperationalError("disk I/O error while writing page 81723 of /var/lib/gaitkiosk/gaitkiosk.db "
                                    "(the card returned EIO; check dmesg for mmcblk0 errors)")


# -- the gallery ------------------------------------------------------------------------------------


def write_gallery(out_dir: Path, sizes=SIZES) -> list[Path]:
    """A PNG of every gallery state at every size (``DIR/NAME-WxH.png``) and ``DIR/README.md`` listing them."""
    import pygame

    pygame.font.init()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    index = ["# Every patient screen in every state", "",
             "Made by `make screenshots` (`python -m gaitkiosk.gallery docs/screenshots/states`) from",
             "`gaitkiosk.gallery.states()`, the states `tests/test_ui_fit.py` checks for text that does not fit",
             "(that test draws many more: every live cue, every drill's results; these are the ones worth a",
             "picture). Regenerate after changing a screen.", ""]
    for state in states():
        if not state.picture:
            continue
        index.append(f"## {state.name}")
        index.append("")
        for label, (size, diagonal) in sizes.items():
            app, _ = show(state, size, diagonal)
            path = app.screenshot(out_dir / f"{state.name}-{label}.png")
            written.append(path)
            index.append(f"![{state.name} at {label.replace('x', ' x ')}]({path.name})")
        index.append("")
    (out_dir / "README.md").write_text("\n".join(index), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    import os

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gaitkiosk.gallery DIR", file=sys.stderr)
        return 2
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    files = write_gallery(Path(args[0]))
    print(f"{len(files)} screenshots in {args[0]}")
    return 0


def _diagnostics():
    """The diagnostics room (ui/screens/staff_diagnostics.py): readings as the room's view gives them,
    the counters a reader keeps (device/linkstate.py), the virtual patient's raw counts on the live
    map, and the longest words each line can hold."""
    import numpy as np

    from calibration.model import MASK_DEAD, MASK_HOT
    from device.linkstate import LinkCounters
    from drills.autopilot import patient_for
    from drills.registry import create
    from gaitkiosk.runtime import LiveSnapshot
    from gaitkiosk.staff_rooms.diagnostics import FAULTS
    from ui.screens.staff_diagnostics import DiagnosticsScreen, SensorDiagnosticsScreen

    drill = create("quiet_standing", {}, mat_shape=(48, 48), mat_pitch_mm=(8.47, 8.47))
    person = patient_for(drill, seed=1)
    sample = person.sample(5.0, mat=True, insoles=True)
    raw = {"mat": person.mat_counts(sample), "insole_left": person.insole_counts(sample, "left")}
    counters = {**LinkCounters(frames=1_234_567, bytes=4_012_345_678, packets=1_240_001, crc_failures=3,
                               lost_packets=12, gaps=2, silences=1, reconnects=1).as_dict(),
                "dropped_by_queue": 0, "clock_clamps": 0}

    def sensor(label, kind, serial, state="streaming", reason="", faults=0, firmware="gaitkiosk-mat 2.4.17"):
        return {"label": label, "kind": kind, "serial": serial, "port": "/dev/gaitkiosk/" + kind.replace("_", "-"),
                "state": state, "reason": reason, "rate_hz": 99.8 if state == "streaming" else 0.0, "nominal_hz": 100.0,
                "firmware": firmware, "protocol": [1, 2], "geometry": [48, 48], "clock_offset_ms": 36213.52,
                "clock_drift_ppm": -41.7, "faults": faults, "fault_names": list(FAULTS), "counters": counters,
                "battery_pct": None,
                "temperature_c": 41.5, "device_errors": {"frames_dropped": 0, "rx_errors": 1, "sensor_faults": 0}}

    sensors = [sensor("Mat", "mat", "GK-MAT-000123", faults=18),
               {**sensor("Left insole", "insole_left", "GK-INS-L-000456", firmware="gaitkiosk-insole 1.12.3"),
                "firmware_outdated": True},
               sensor("Right insole", "insole_right", "GK-INS-R-000457", "reconnecting",
                      "the device did not answer for 1 s", faults=1, firmware="gaitkiosk-insole 1.12.3")]
    data = {
        "taken_at": "2026-12-04T14:05:33+00:00", "sensors": sensors,
        "system": {"cpu": {"load_1m": 1.42, "load_5m": 1.18, "load_15m": 0.97, "cpus": 4}, "cpu_temperature_c": 61.3,
                   "disk": {"free_bytes": 21_400_000_000, "total_bytes": 31_100_000_000},
                   "database": {"bytes": 1_843_000_000, "free_bytes": 0, "wal_bytes": 4_100_000}},
        "sync": {"pending": 1204, "oldest_at": "2026-11-28T09:41:12Z", "oldest_entity": "recording",
                 "oldest_attempts": 3, "oldest_error": ""},
        "calibration": [{"serial": "GK-MAT-000123", "status": "ok", "due": "2027-01-03"},
                        {"serial": "GK-INS-L-000456", "status": "due", "due": "2026-11-30"},
                        {"serial": "GK-INS-R-000457", "status": "out of spec", "due": "2027-02-11"}],
        "versions": {"installed": "0.10.2", "rollback": "0.10.1", "installed_by": "install"},
        "update": {"state": "staged", "staged": "0.10.3", "offered": "0.10.3", "checked_at": "2026-12-04T13:10:02+00:00",
                   "error": ""},
        "panel": {"enabled": True, "light": "ready"},
        "places": [{"label": "USB stick KINGSTON", "path": "/media/KINGSTON"}], "refused": [], "notice": ""}
    nothing = {**data, "places": [], "refused": ["No USB stick is plugged in (none is mounted under /media).",
                                                 "No folder is set up for reports ([reports] folder in the config)."]}
    bare = {**data, "system": {"cpu": None, "cpu_temperature_c": None, "disk": None, "database": {"bytes": 0}},
            "versions": {"installed": "0.1.0", "rollback": None}, "panel": {"enabled": False}, "calibration": []}
    saved = {**data, "notice": "Saved gaitkiosk-diagnostics-2026-12-04-2.zip (with patient data) to USB stick KINGSTON."}
    mask = np.zeros((48, 48), np.uint8)
    mask[3, 7] = mask[3, 8] = mask[40, 12] = MASK_DEAD
    mask[22, 30] = MASK_HOT
    mat = {"sensor": sensors[0], "mask": mask, "mask_note": "From calibration c-5f1e20: 3 dead, 1 hot."}
    insole = {"sensor": sensors[1], "mask": None,
              "mask_note": "No calibration yet: run Calibration, Dead sensels, to map dead and hot sensels."}
    live = LiveSnapshot(seq=1, raw_counts=raw)

    def room(d, tab=None):
        return lambda app: DiagnosticsScreen(app, d, tab=tab)

    def detail(d, tab="maps"):
        return lambda app: SensorDiagnosticsScreen(app, d, tab=tab)

    def ticked(s):
        s.patient_data = True
        s.export_buttons.get("patient_data").label = s.tick_label()

    return [
        State("staff_diagnostics", room(data), picture=True),
        State("staff_diagnostics-unit", room(data, "unit"), picture=True),
        State("staff_diagnostics-calibration", room(data, "calibration"), picture=True),
        State("staff_diagnostics-export", room(data, "export"), ticked, picture=True),
        State("staff_diagnostics-saved", room(saved)),
        State("staff_diagnostics-nowhere", room(nothing, "export")),
        State("staff_diagnostics-bare", room(bare, "unit")),
        State("staff_diagnostics-refused", room(data, "export"), lambda s: s.refused(
            "That place cannot take the archive now (was the USB stick pulled out?). Choose again.")),
        State("staff_diagnostics_sensor", detail(mat), lambda s: s.update(1.0), snapshot=live, picture=True),
        State("staff_diagnostics_sensor-insole", detail(insole), lambda s: s.update(1.0), snapshot=live,
              picture=True),
        State("staff_diagnostics_sensor-waiting", detail({**mat, "sensor": sensors[2]}), snapshot=live),
        State("staff_diagnostics_sensor-counters", detail(mat, "counters"), picture=True),
        State("staff_diagnostics_sensor-device", detail({**mat, "sensor": sensors[2]}, "device"), picture=True),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
