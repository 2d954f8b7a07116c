"""Procedures as data: steps with instructions, progress events, and the runner.

A procedure (calibration/procedures.py) is UI-independent. It lists its
:class:`Step` s -- what to tell the user ("Step off the mat"), what load the
step needs as plain data (``request``, which the virtual technician of
``device.sim.loads`` acts out), how long to let the load settle and measure
it -- and it checks what was measured. :func:`run` drives one or more
procedures over any frame feed:

    for each step:  operator(step)  ->  frames  ->  wait until the load is stable
                    ->  procedure.check(step, capture)   (refuse early, with what to do)
    procedure.fit(captures, model)                       (results in attributes ending in _)

and reports :class:`Progress` events as data, so the CLI prints them and the
therapist screens will draw them. Time is the frames' own clock (``t_host``),
never the wall clock, so tests drive the runner with simulated frames at any
speed.

Stability: over the last ``window_s`` the summed counts above zero, S(t), is
fitted with a line; the load is stable when the line's change over the window
is at most ``rel_tol`` of the mean load plus five times the summed read noise.
A load still creeping after ``timeout_s`` is refused (:class:`NotStableError`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from calibration.errors import NotStableError

WAITING, SETTLING, MEASURING, DONE, FAILED = "waiting", "settling", "measuring", "done", "failed"


@dataclass(frozen=True)
class Step:
    """One thing the user does, and how the runner measures it."""

    id: str
    instruction: str  # shown to the user, plain words
    request: dict  # the load this step needs, as data: {"load": "empty" | "uniform" | "plate" | "person", ...}
    settle_s: float = 1.0  # ignore frames this long after the user is ready
    window_s: float = 1.0  # measure this long
    timeout_s: float = 20.0  # give up if not stable by then
    stable: bool = True  # False: measure window_s whatever the load does (walking, sweeps)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Capture:
    """The frames measured for one step: counts (T, *shape) uint16 and their times (T,)."""

    step: Step
    counts: np.ndarray
    t: np.ndarray

    def mean(self) -> np.ndarray:
        return self.counts.astype(np.float64).mean(axis=0)


@dataclass
class Progress:
    """A progress event for a UI: where the procedure is and what the user should do."""

    procedure: str
    step: int  # 1-based
    steps: int
    step_id: str
    instruction: str
    state: str  # waiting | settling | measuring | done | failed
    fraction: float = 0.0  # of this step, 0..1
    detail: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        head = f"[{self.procedure} {self.step}/{self.steps}] "
        if self.state == WAITING:
            return head + self.instruction
        return head + f"{self.state}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Stability:
    """Is the summed load steady over a window? (module docstring)"""

    rel_tol: float = 0.02
    baseline: float = 0.0  # summed zero offsets (0 before the first zero)
    noise_sum: float = 0.0  # SD of the summed read noise, counts

    def drift(self, t: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        """(change of S over the window by a line fit, mean load above the baseline)."""
        level = float(np.mean(s) - self.baseline)
        if len(t) < 3 or t[-1] <= t[0]:
            return 0.0, level
        slope = np.polyfit(t - t[0], s, 1)[0]
        return float(abs(slope) * (t[-1] - t[0])), level

    def stable(self, t: np.ndarray, s: np.ndarray) -> bool:
        change, level = self.drift(t, s)
        return change <= self.rel_tol * abs(level) + 5.0 * self.noise_sum


Feed = Iterator[tuple[float, np.ndarray]]
Operator = Callable[[Step], None]


def measure(step: Step, feed: Feed, stability: Stability, report: Callable[[str, float, str], None] | None = None) -> Capture:
    """Read frames until ``step``'s load is measured (stable for window_s), or NotStableError."""
    t0 = None
    buf: deque[tuple[float, np.ndarray]] = deque()
    sums: deque[float] = deque()
    last_change = (0.0, 0.0)
    for t, counts in feed:
        if t0 is None:
            t0 = t
        elapsed = t - t0
        if elapsed < step.settle_s:
            if report:
                report(SETTLING, elapsed / max(step.settle_s + step.window_s, 1e-9), "")
            continue
        buf.append((t, counts))
        sums.append(float(counts.sum(dtype=np.int64)))
        while buf and buf[-1][0] - buf[0][0] > step.window_s:
            buf.popleft()
            sums.popleft()
        span = buf[-1][0] - buf[0][0]
        full = span >= step.window_s * 0.98
        if full:
            ts = np.array([b[0] for b in buf])
            s = np.array(sums)
            if not step.stable or stability.stable(ts, s):
                counts_arr = np.stack([b[1] for b in buf])
                if report:
                    report(DONE, 1.0, "")
                return Capture(step, counts_arr, ts)
            last_change = stability.drift(ts, s)
        if report:
            report(MEASURING, min(elapsed / (step.settle_s + step.window_s), 0.99), "")
        if elapsed > step.timeout_s:
            change, level = last_change
            pct = 100.0 * change / abs(level) / step.window_s if level else math.inf
            raise NotStableError(
                f"step '{step.id}': the load did not settle within {step.timeout_s:g} s (it kept changing by about "
                f"{pct:.1f} % per second). Make sure nothing else touches the sensor and nobody leans or shifts, "
                "wait until the load is steady, and run the procedure again")
    raise NotStableError(f"step '{step.id}': the device stopped sending frames before the load was measured; "
                         "check the cable and run again")


@dataclass
class RunResult:
    model: object  # the new CalibrationModel
    procedures: list = field(default_factory=list)
    progress: list = field(default_factory=list)


def run(procedures: Iterable, model, feed: Feed, *, operator: Operator | None = None,
        on_progress: Callable[[Progress], None] | None = None, rel_tol: float = 0.02) -> RunResult:
    """Run ``procedures`` in order on ``model`` (each fits on the model the previous ones left).

    ``operator(step)`` is called when a step starts: a UI shows the
    instruction and returns when the user is ready; the virtual rig puts the
    load on. Raises the first procedure's CalibrationError; ``model`` itself is
    never modified.
    """
    procedures = list(procedures)
    events: list[Progress] = []
    current = model.copy()

    def emit(p: Progress) -> None:
        events.append(p)
        if on_progress:
            on_progress(p)

    for proc in procedures:
        steps = proc.steps(current)
        captures = {}
        n_steps = len(steps)
        for i, step in enumerate(steps, start=1):
            def report(state, fraction, detail, _i=i, _step=step, _name=proc.name, _n=n_steps):
                emit(Progress(_name, _i, _n, _step.id, _step.instruction, state, fraction, detail))

            report(WAITING, 0.0, "")
            if operator:
                operator(step)
            noise = float(np.sqrt(np.sum(np.square(current.noise[current.mask == 0]))))
            stab = Stability(rel_tol, float(current.offset[current.mask == 0].sum()), noise)
            try:
                cap = measure(step, feed, stab, report)
                proc.check(step, cap, current)
            except Exception as exc:
                report(FAILED, 1.0, str(exc))
                raise
            captures[step.id] = cap
        proc.fit(captures, current)
        current = proc.update(current)
    return RunResult(current, procedures, events)


def frames_from(source: Iterable) -> Feed:
    """A feed from RawFrame-like objects (``t_host``, ``counts``) or (t, counts) pairs."""
    for item in source:
        if isinstance(item, tuple):
            yield item
        else:
            yield item.t_host, item.counts
