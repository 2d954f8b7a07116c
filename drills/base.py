"""The drill protocol: a plain state machine fed by the kernels and a clock.

A drill never draws, sleeps, reads a device or looks at the wall clock. The
kiosk (``gaitkiosk/runtime.py``) calls, for every analysed frame::

    drill.update(t, frame, events, insoles)

with ``t`` the frame's host time in seconds (any monotonic origin),
``frame`` the mat's :class:`kernels.frame.FrameResult` (None when there is no
mat frame, e.g. an insole drill), ``events`` the detectors' :class:`kernels.
detectors.Event` list for that frame, and ``insoles`` a ``{"left": InsoleResult,
"right": ...}`` dict for insole drills. The screen reads :meth:`Drill.view`
(an immutable snapshot) and drains :meth:`Drill.take_cues` (tones and spoken
cues) and :meth:`Drill.take_alerts` (safety stops); buttons call
:meth:`begin`, :meth:`pause`, :meth:`resume`, :meth:`stop`. When ``phase`` is
``"done"``, :meth:`result` gives the score (0-100) and the measures.

Short runs for demos and tests: ``registry.create(name, params,
max_running_s=8)`` ends the drill as complete after 8 s of running time
(pauses excluded), below the prescribable minimums (``duration_s`` >= 10 s).
Drills made of timed parts shrink each part in proportion (the insole drill's
baseline and metronome parts, quiet standing's eyes-open and eyes-closed
parts), so a short run still goes through every part; the result's measures
record ``max_running_s``. Real visits never set it.

Phases::

    instruction --begin()--> countdown --(load held for countdown_s)--> running --> done
                                  ^                                      |  |
                                  +-------- resume() <-- paused <--------+  +--stop()--> done
                                  +-------- resume() <-- paused_safety <-- loss of balance

The countdown only runs while the patient stands on the mat (for mat drills);
it measures the reference :class:`~drills.geometry.Stance` (weight, feet,
resting COP) that targets and safety use. After any pause the drill counts
down again before it continues; time spent paused does not count.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from drills import params as params_mod
from drills.errors import DrillStateError
from drills.geometry import Stance, stance_from
from drills.safety import SafetyAlert, SafetyMonitor

PHASES = ("instruction", "countdown", "running", "paused", "paused_safety", "done")
COUNTDOWN_S = 3.0
MIN_STANDING_FRACTION = 0.5  # of the first load seen: below it the countdown waits ("stand on the mat")
MIN_FOOT_SHARE = 0.15  # each foot carries at least this share before a two-foot drill counts down
# A stopped drill scores only once this share of it was done, and then only for what was done
# (docs/drills.md, "A drill stopped early"): under half, a score says more about the stop than the practice.
MIN_SCORED_SHARE = 0.5


@dataclass(frozen=True)
class Target:
    """A place for the COP: centre (mat mm), radius (mm) and a short label ("forward", "heel")."""

    x_mm: float
    y_mm: float
    radius_mm: float
    label: str = ""

    def contains(self, p, extra_mm: float = 0.0) -> bool:
        return p is not None and math.hypot(p[0] - self.x_mm, p[1] - self.y_mm) <= self.radius_mm + extra_mm


@dataclass(frozen=True)
class Band:
    """A corridor for the COP: along ``axis`` ("ap" or "ml") between ``lo_mm`` and ``hi_mm``,
    within ``half_width_mm`` of ``centre_mm`` on the other axis."""

    axis: str
    lo_mm: float
    hi_mm: float
    centre_mm: float
    half_width_mm: float


@dataclass(frozen=True)
class Cue:
    """A sound for the UI to play: ``name`` is "countdown", "go", "tick", "target", "hit",
    "step_ok", "step_bad", "done" or "alarm"; ``say`` optional words to speak."""

    name: str
    t: float
    say: str | None = None


@dataclass
class Live:
    """Live feedback values (any of them None when the drill does not use them)."""

    cop_mm: tuple[float, float] | None = None
    zone: Target | None = None  # stay inside
    targets: tuple[Target, ...] = ()
    active_target: int | None = None  # index into targets: where to move now
    band: Band | None = None
    left_pct: float | None = None
    target_left_pct: float | None = None
    tolerance_pct: float | None = None
    metronome_period_s: float | None = None  # seconds between ticks (half a sway cycle; one step)
    beats: int = 0
    attempted_steps: int | None = None
    correct_steps: int | None = None
    target_steps: int | None = None
    cadence_steps_min: float | None = None
    target_cadence_steps_min: float | None = None
    values: dict = field(default_factory=dict)  # extra labelled numbers for display


@dataclass(frozen=True)
class DrillView:
    """What a screen shows, as data (a snapshot: later updates do not change it)."""

    drill: str
    title: str
    phase: str
    instruction: str  # one or two short sentences for the patient
    message: str  # a live cue ("place your heel against your toes"), or ""
    countdown_s: float | None  # seconds left in the countdown
    elapsed_s: float  # running time so far (pauses excluded)
    duration_s: float | None  # planned running time, None when the drill ends on a count
    progress: float  # 0..1
    live: Live
    alert: SafetyAlert | None  # the alert that paused the drill (phase paused_safety)


@dataclass(frozen=True)
class DrillResult:
    """The outcome: status "complete" or "stopped", score 0-100 (None when it cannot be given: a
    drill stopped before half of it was done, too little measured), the measures (JSON-ready), the
    safety alerts raised, the running time and ``done_pct``, the share of the drill done (running
    time of a timed drill, targets, cycles or steps of one that ends on a count)."""

    drill: str
    params: dict
    status: str
    score: float | None
    measures: dict
    alerts: tuple[SafetyAlert, ...]
    duration_s: float
    stance: dict | None
    done_pct: float = 0.0
    measures_version: int = 1  # the drill's MEASURES_VERSION: results of another are not compared

    def to_dict(self) -> dict:
        """JSON-ready (for ``store`` trial results)."""
        return {"drill": self.drill, "params": self.params, "status": self.status, "score": self.score,
                "measures": self.measures, "alerts": [a.to_dict() for a in self.alerts],
                "duration_s": self.duration_s, "stance": self.stance, "done_pct": self.done_pct,
                "measures_version": self.measures_version}


#: Added to every drill that has a progression ladder: the therapist may turn progression off.
PROGRESS_PARAM = params_mod.Param(
    "progress", bool, True, "raise the difficulty after 3 sessions scoring 80 or more (docs/drills.md)")


class Drill:
    """Base class: the shared lifecycle, countdown, reference stance, pauses and safety.

    Subclasses set the class attributes and override the ``on_*`` hooks and
    :meth:`measures`. Parameters are validated against ``PARAMS`` at
    construction (:class:`drills.errors.DrillParamError` when bad).
    """

    name = ""
    title = ""
    summary = ""  # one line for therapists
    PARAMS: tuple[params_mod.Param, ...] = ()
    #: Raised when the definition of one of the drill's measures changes (docs/drills.md): a run
    #: measured by another definition is not compared with this one (``scoring.not_comparable``).
    MEASURES_VERSION = 1
    #: (parameter, ordered values from easier to harder) that progression steps along, or None.
    PROGRESSION: tuple[str, tuple] | None = None
    SENSORS = ("mat",)  # or ("insoles",)
    #: (label, dotted path in measures, unit, "lower"/"higher" is better) shown on the result screen.
    HEADLINE: tuple[tuple[str, str, str, str], ...] = ()
    INSTRUCTION = ""
    #: Plain words for doing the drill at home, without the kiosk (the home-exercise sheet,
    #: docs/therapist.md): what to hold on to, what to do. Every drill has them
    #: (tests/test_home_sheet.py); drills whose words depend on a parameter override
    #: :meth:`home_instructions`.
    HOME = ""
    COUNTDOWN_S = COUNTDOWN_S
    #: Whether the countdown measures a standing reference stance (walking drills: no).
    NEEDS_STANCE = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.PROGRESSION is not None and all(p.name != "progress" for p in cls.PARAMS):
            cls.PARAMS = (*cls.PARAMS, PROGRESS_PARAM)

    def __init__(self, params: dict | None = None, *, mat_shape: tuple[int, int] | None = None,
                 mat_pitch_mm: tuple[float, float] | None = None, on_alert=None,
                 countdown_s: float | None = None, context: dict | None = None,
                 max_running_s: float | None = None):
        self.params = params_mod.validate(self.name, self.PARAMS, params)
        if max_running_s is not None and not (math.isfinite(max_running_s) and max_running_s > 0):
            raise ValueError(f"max_running_s must be a positive number of seconds, got {max_running_s!r}")
        # Demo/test option (module docstring): the drill ends as complete after this much running time.
        self.max_running_s = None if max_running_s is None else float(max_running_s)
        self.mat_pitch_mm = mat_pitch_mm  # (row, column) pitch: lets walking drills spot feet at the mat's edge
        # What the program knows about this patient (e.g. "limits_mm" measured last time).
        self.context = dict(context or {})
        self.mat_shape = mat_shape
        self.on_alert = on_alert
        self.countdown_total = self.COUNTDOWN_S if countdown_s is None else float(countdown_s)
        self.phase = "instruction"
        self.instruction = self.INSTRUCTION
        self.message = ""
        self.live = Live()
        self.stance: Stance | None = None
        self.alerts: list[SafetyAlert] = []
        self.status: str | None = None
        self.elapsed = 0.0
        self.t: float | None = None
        self._alert: SafetyAlert | None = None
        self._cues: list[Cue] = []
        self._new_alerts: list[SafetyAlert] = []
        self._countdown_left = self.countdown_total
        self._last_second = None
        self._ref: list = []  # (force, cop, feet) while counting down
        self._peak_load = 0.0
        self._ran = False
        self._safety: SafetyMonitor | None = None

    @property
    def safety(self) -> SafetyMonitor:
        """The drill's loss-of-balance monitor (built on first use, after the subclass's __init__)."""
        if self._safety is None:
            self._safety = self.make_safety()
        return self._safety

    # --- what subclasses provide ------------------------------------------------------------

    def make_safety(self) -> SafetyMonitor:
        return SafetyMonitor("two_feet", mat_shape=self.mat_shape)

    def ready(self, frame) -> tuple[bool, str]:
        """Whether the countdown may run on this frame, and what to tell the patient (why not, or a
        reminder that does not hold the countdown)."""
        if "mat" not in self.SENSORS or not self.NEEDS_STANCE:
            return True, ""
        force = 0.0 if frame is None else frame.force_n
        self._peak_load = max(self._peak_load, force)
        if frame is None or frame.cop_mm is None or force < 100.0 or force < MIN_STANDING_FRACTION * self._peak_load:
            return False, "Stand in the middle of the mat."
        if len(frame.feet) < 2:
            return False, "Stand with both feet on the mat."
        if min(f.force_n for f in frame.feet) < MIN_FOOT_SHARE * force:
            return False, "Stand with your weight on both feet."
        if self.at_mat_edge(frame):
            return False, "Move to the middle of the mat."
        return True, ""

    def at_mat_edge(self, frame) -> bool:
        """A loaded foot touches the mat's outermost rows or columns (part of it may be off the mat)."""
        if self.mat_shape is None or frame is None:
            return False
        rows, cols = self.mat_shape
        for foot in frame.feet:
            r0, c0, r1, c1 = foot.bbox_rc
            if foot.force_n > 20.0 and (r0 <= 0 or c0 <= 0 or r1 >= rows - 1 or c1 >= cols - 1):
                return True
        return False

    def reference_feet(self, frame):
        """The feet that make up the reference stance (default: all feet on the mat)."""
        return frame.feet

    def on_start(self, t: float) -> None:
        """Running begins for the first time (the stance is known)."""

    def on_resume(self, t: float) -> None:
        """Running continues after a pause (``self.stance`` was measured again: re-place targets)."""

    def on_frame(self, t: float, frame, events, insoles) -> None:
        """One frame while running; call :meth:`finish` when the drill is complete."""

    def on_pause(self, t: float) -> None:
        """The drill was paused (by the patient or a safety stop)."""

    def measures(self) -> tuple[float | None, dict]:
        """(score 0-100 or None, measures dict) of what was done so far."""
        return None, {}

    def preview_targets(self, stance: Stance) -> tuple[Target, ...]:
        """The targets this drill would place around ``stance`` (the instruction picture shows them
        before the patient's own stance is known). Drills without targets have none."""
        return ()

    def home_instructions(self) -> str:
        """What the home-exercise sheet tells the patient to do, for these parameters."""
        return self.HOME

    def home_details(self) -> list[str]:
        """How much, in words, beside the drill's length: a count ("10 steps") for a drill that ends
        on one, a share of weight... (the sheet says the length itself, from :meth:`planned_duration`)."""
        return []

    def planned_duration(self) -> float | None:
        """Running time the drill plans from its parameters (None: it ends on a count)."""
        return None

    def running_duration(self) -> float | None:
        """Running time this run will take: the planned one, or ``max_running_s`` when shorter."""
        planned = self.planned_duration()
        if self.max_running_s is None:
            return planned
        return min(planned, self.max_running_s) if planned else self.max_running_s

    def timed(self, seconds: float) -> float:
        """A timed part's length in this run: ``seconds`` shrunk in proportion under ``max_running_s``."""
        planned = self.planned_duration()
        if self.max_running_s is None or not planned or self.max_running_s >= planned:
            return seconds
        return seconds * self.max_running_s / planned

    def progress(self) -> float:
        """The share of the drill done, 0..1: running time of a timed drill (drills that end on a
        count override it: targets, cycles, steps)."""
        d = self.running_duration() if self.planned_duration() else None
        return min(1.0, self.elapsed / d) if d else 0.0

    def stopped_score(self, score: float, share: float) -> float:
        """The score of a drill stopped with ``share`` (0.5..1) of it done: points only for what
        was done, so the score of the part done times the share. Drills whose formula already
        counts what was not done as missed override this, so that it is not counted twice."""
        return score * share

    # --- lifecycle, called by the kiosk -------------------------------------------------------

    def begin(self, t: float | None = None) -> None:
        """The patient tapped Start on the instruction screen: count down (once standing)."""
        if self.phase != "instruction":
            return
        self._to_countdown()

    def update(self, t: float, frame=None, events=(), insoles=None) -> None:
        """Feed one analysed frame at time ``t`` (seconds, monotonic); see the module docstring."""
        t = float(t)
        dt = 0.0 if self.t is None else max(0.0, t - self.t)
        self.t = t
        if frame is not None:
            self.live.cop_mm = frame.cop_mm
            self._live_shares(frame)
        if self.phase == "countdown":
            self._count_down(t, dt, frame)
        elif self.phase == "running":
            self.elapsed += dt
            standing = "mat" in self.SENSORS and self.NEEDS_STANCE
            found = self.safety.check(t, frame) if standing else None
            if found is not None:
                self._safety_stop(found)
                return
            if standing and (frame is None or frame.cop_mm is None):
                return  # no COP this frame: the safety monitor is timing it (no_load after 40 ms)
            self.on_frame(t, frame, events, insoles)
            if self.phase == "running" and self.max_running_s is not None \
                    and self.elapsed >= self.max_running_s - 1e-9:
                self.finish(t)

    def pause(self, t: float | None = None) -> None:
        """The patient (or therapist) tapped Pause."""
        if self.phase in ("countdown", "running"):
            self.phase = "paused"
            self.message = "Paused. Tap Continue when you are ready."
            self.safety.disarm()
            self.on_pause(self._now(t))

    def resume(self, t: float | None = None) -> None:
        """Continue after a pause or a safety stop (after a fresh countdown)."""
        if self.phase in ("paused", "paused_safety"):
            self._alert = None
            self._to_countdown()

    def stop(self, t: float | None = None) -> None:
        """End the drill now (the Stop button): the result is kept with status "stopped"."""
        if self.phase != "done":
            self.safety.disarm()
            self.phase = "done"
            self.status = "stopped"
            self.message = "Stopped."
            self._cue("done", self._now(t))

    def finish(self, t: float) -> None:
        """Subclasses call this when the drill is complete."""
        self.safety.disarm()
        self.phase = "done"
        self.status = "complete"
        self.message = "Well done!"
        self._cue("done", t, "Well done.")

    def view(self) -> DrillView:
        return DrillView(
            drill=self.name, title=self.title, phase=self.phase, instruction=self.instruction,
            message=self._alert.message if self._alert else self.message,
            countdown_s=self._countdown_left if self.phase == "countdown" else None,
            elapsed_s=self.elapsed, duration_s=self.running_duration(), progress=self.progress(),
            live=dataclasses.replace(self.live, targets=tuple(self.live.targets), values=dict(self.live.values)),
            alert=self._alert,
        )

    def take_cues(self) -> list[Cue]:
        """Cues since the last call, oldest first (the UI plays them)."""
        out, self._cues = self._cues, []
        return out

    def take_alerts(self) -> list[SafetyAlert]:
        """Safety alerts since the last call (every alert also stays in ``alerts``)."""
        out, self._new_alerts = self._new_alerts, []
        return out

    def result(self) -> DrillResult:
        if self.phase != "done":
            raise DrillStateError(f"drill {self.name!r} has no result yet (phase {self.phase}); stop() it first")
        score, measures = self.measures() if self._ran else (None, {})
        share = self.progress() if self._ran else 0.0
        if self.status == "stopped" and score is not None:
            # No points for what was not done (docs/drills.md, "A drill stopped early").
            score = self.stopped_score(score, share) if measures and share >= MIN_SCORED_SHARE else None
        if self.max_running_s is not None and measures:
            measures = {**measures, "max_running_s": self.max_running_s}
        return DrillResult(self.name, dict(self.params), self.status, None if score is None else round(float(score), 1),
                           measures, tuple(self.alerts), self.elapsed,
                           self.stance.to_dict() if self.stance else None, round(100.0 * share, 1),
                           self.MEASURES_VERSION)

    # --- internals -------------------------------------------------------------------------

    def _now(self, t):
        return float(t) if t is not None else (self.t if self.t is not None else 0.0)

    def _cue(self, name: str, t: float, say: str | None = None) -> None:
        self._cues.append(Cue(name, t, say))

    def _live_shares(self, frame) -> None:
        left, right = frame.left, frame.right
        fl = left.force_n if left is not None else 0.0
        fr = right.force_n if right is not None else 0.0
        self.live.left_pct = 100.0 * fl / (fl + fr) if fl + fr > 0 else None

    def _to_countdown(self) -> None:
        self.phase = "countdown"
        self._countdown_left = self.countdown_total
        self._last_second = None
        self._ref = []
        self.message = ""

    def _count_down(self, t: float, dt: float, frame) -> None:
        ok, why = self.ready(frame)
        if not ok:
            self._countdown_left = self.countdown_total
            self._ref = []
            self._last_second = None
            self.message = why
            return
        self.message = why  # ready, perhaps with a gentle reminder ("Bring your feet together.")
        if frame is not None and frame.cop_mm is not None:
            self._ref.append((frame.force_n, frame.cop_mm, self.reference_feet(frame)))
        second = math.ceil(self._countdown_left - 1e-9)
        if second != self._last_second and second > 0:
            self._cue("countdown", t, str(second))
            self._last_second = second
        self._countdown_left -= dt
        if self._countdown_left > 1e-9:
            return
        self._countdown_left = 0.0
        if "mat" in self.SENSORS and self.NEEDS_STANCE:
            stance = self._measure_stance()
            if stance is None:  # could not see the feet: count again
                self._to_countdown()
                self.message = "Stand still with your feet flat on the mat."
                return
            # Measured again after every pause: a patient who stepped off comes back somewhere else.
            self.stance = stance
            self.safety.arm(self.stance)
        self.phase = "running"
        self._cue("go", t, "Go.")
        if not self._ran:
            self._ran = True
            self.on_start(t)
        else:
            self.on_resume(t)

    def _measure_stance(self) -> Stance | None:
        if not self._ref:
            return None
        n = len(self._ref)
        weight = sum(r[0] for r in self._ref) / n
        cx = sum(r[1][0] for r in self._ref) / n
        cy = sum(r[1][1] for r in self._ref) / n
        return stance_from(weight, self._ref[-1][2], (cx, cy))

    def raise_alert(self, found: SafetyAlert) -> None:
        """Pause at once for a loss of balance a drill detected itself (e.g. a side step while walking)."""
        if self.phase == "running":
            self._safety_stop(found)

    def _safety_stop(self, found: SafetyAlert) -> None:
        found = dataclasses.replace(found, drill=self.name)
        self.phase = "paused_safety"
        self.safety.disarm()
        self._alert = found
        self.alerts.append(found)
        self._new_alerts.append(found)
        self._cue("alarm", found.t, found.message)
        self.on_pause(found.t)
        if self.on_alert is not None:
            self.on_alert(found)
