"""The headless scripted visit: a virtual patient walks up, checks in and does the program.

Used by ``gaitkiosk run`` where there is no display (or with ``--headless``)
and by the tests. It drives the real app with injected touch events, the
same ones a finger on the glass produces, found from each screen's own
buttons (so a moved button cannot make the script lie), and saves a
screenshot of every screen it passes through.

The drills themselves are performed by the closed-loop virtual patient
(``drills.autopilot``) behind the ``sim://`` sensors, in real time. A visit
takes minutes, so ``progress`` (a callable taking one line) hears what
happens as it happens: each exercise as it starts and ends, with its score,
safety stops, goodbye (``gaitkiosk run`` prints it on stderr).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from ui.app import tap_events

log = logging.getLogger(__name__)

SETTLE_S = 0.5  # let a screen's animation run before its picture is taken
LIVE_SHOT_AFTER_S = 1.5  # running time of a drill before its live screenshot
BEAT_SHOT_WAIT_S = 40.0  # how long the live screenshot of a walk to the beat waits for a beat
ALERT_WAIT_S = 2.0  # after a safety stop, the scripted patient waits this long before Continue
MAX_ALERTS = 3  # ...and stops the exercise at the third stop


@dataclass
class ScriptResult:
    screenshots: list[Path] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)
    completed: bool = False
    seconds: float = 0.0
    reason: str = ""
    alerts: int = 0  # safety stops the scripted patient continued after
    staff_needed: str = ""  # the kiosk stopped the visit and asked for staff (storage failed): why


class ScriptedVisit:
    def __init__(self, app, code: str, shots_dir: Path | None = None, *, fps: float = 30.0,
                 timeout_s: float = 600.0, touch: bool = True, progress=None):
        self.app = app
        self.progress = progress or (lambda line: None)
        self.code = code
        self.shots_dir = Path(shots_dir) if shots_dir else None
        self.fps = fps
        self.timeout_s = timeout_s
        self.touch = touch
        self.result = ScriptResult()
        self._screen = None
        self._since = 0.0
        self._acted = False
        self._shot = False
        self._typed = 0
        self._pending: list = []
        self._drills = 0
        self._alert_since = None
        self._drill_alerts = 0

    def _tap(self, button) -> None:
        self._pending.extend(tap_events(button.rect.center, self.app.size, self.touch))

    def _button(self, screen, bid):
        for attr in ("buttons",):
            bs = getattr(screen, attr, None)
            if bs is not None:
                for b in bs.buttons:
                    if b.id == bid:
                        return b
        return None

    def _screenshot(self, label: str) -> None:
        if self.shots_dir is None:
            return
        n = len(self.result.screenshots) + 1
        path = self.shots_dir / f"{n:02d}-{label}.png"
        self.result.screenshots.append(self.app.screenshot(path))

    def run(self) -> ScriptResult:
        start = time.monotonic()
        last = start
        while self.app.running:
            now = time.monotonic()
            if now - start > self.timeout_s:
                self.result.reason = f"the scripted visit did not finish within {self.timeout_s:.0f} s"
                break
            # pygame's own queue too: SDL turns SIGTERM/SIGINT into QUIT, which must still stop us.
            events, self._pending = pygame.event.get() + self._pending, []
            self.app.step(now - last, events)
            last = now
            if self._act(now):
                self.result.completed = True
                break
            time.sleep(max(0.0, 1.0 / self.fps - (time.monotonic() - now)))
        self.result.seconds = time.monotonic() - start
        return self.result

    def _act(self, now: float) -> bool:
        """Look at the top screen and do what a patient would. True when the visit is over."""
        screen = self.app.top
        if screen is None:
            return False
        if screen is not self._screen:
            self._screen, self._since, self._acted, self._shot, self._typed = screen, now, False, False, 0
            self._alert_since = None
            self.result.screens.append(screen.name)
            self._tell(screen)
        age = now - self._since
        name = screen.name
        if name == "attract":
            if "goodbye" in self.result.screens or "staff_needed" in self.result.screens:
                return True  # back at the start: the visit is over
            if age > SETTLE_S and not self._acted:
                self._screenshot("attract")
                self._pending.extend(tap_events((self.app.size[0] // 2, self.app.size[1] // 2), self.app.size, self.touch))
                self._acted = True
        elif name == "checkin":
            keypad = screen.keypad
            if age > 0.3 and self._typed < len(self.code) and len(self._pending) == 0:
                self._tap(keypad.buttons.get(f"key:{self.code[self._typed]}"))
                self._typed += 1
            elif self._typed == len(self.code) and not self._acted and age > SETTLE_S:
                self._screenshot("checkin")
                self._tap(keypad.buttons.get("key:ok"))
                self._acted = True
        elif name == "program":
            if age > SETTLE_S and not self._acted:
                self._screenshot("program")
                self._tap(self._button(screen, "go"))
                self._acted = True
        elif name == "instruction":
            if age > SETTLE_S * 2 and not self._acted:
                self._screenshot(f"instruction-{self._drill_label(screen.drill)}")
                self._tap(self._button(screen, "begin"))
                self._acted = True
        elif name == "drill":
            v = screen.view
            if v.get("phase") == "alert":
                # A cooperative patient steadies, then taps Continue (the drill counts down again).
                if self._alert_since is None:
                    self._alert_since = now
                    self.progress(f"  safety stop: {v.get('alert') or 'the drill paused'}")
                    if self._drill_alerts == 0:
                        self._screenshot(f"alert-{v.get('name', 'live')}")
                elif now - self._alert_since > ALERT_WAIT_S and not self._pending:
                    self._drill_alerts += 1
                    # Three stops in one exercise: a real patient (and the script) calls it a day.
                    self._tap(self._button(screen, "stop" if self._drill_alerts >= MAX_ALERTS else "pause"))
                    self._alert_since = None
                    self.result.alerts += 1
                return False
            ready = v.get("phase") == "running" and (
                (v.get("duration_s") and (v["duration_s"] - (v.get("remaining_s") or 0)) > LIVE_SHOT_AFTER_S)
                or age > LIVE_SHOT_AFTER_S + 4)
            if ready and v.get("view") == "insoles" and age < BEAT_SHOT_WAIT_S:
                # Walking to the beat: the picture shows the beat ring as it flashes.
                pulse = screen.beat_pulse()
                ready = pulse is not None and pulse < 0.2
            if not self._shot and ready:
                self._screenshot(f"drill-{v.get('name', 'live')}")
                self._shot = True
        elif name == "result":
            self._drill_alerts = 0
            if age > SETTLE_S and not self._acted:
                self._screenshot(f"result-{self._drill_label(screen.result)}")
                self._tap(self._button(screen, "next"))
                self._acted = True
                self._drills += 1
        elif name == "goodbye":
            if age > SETTLE_S and not self._acted:
                self._screenshot("goodbye")
                self._tap(self._button(screen, "done"))
                self._acted = True
        elif name == "staff_needed":
            # The patient does as told: reads it, taps OK (the staff line says why).
            if age > SETTLE_S and not self._acted:
                self.result.staff_needed = screen.staff or "the kiosk asked for staff"
                self._screenshot("staff_needed")
                self._tap(self._button(screen, "done"))
                self._acted = True
        return False

    def _tell(self, screen) -> None:
        """One line of progress for a screen the visit just reached."""
        name = screen.name
        if name == "program":
            self.progress(f"checked in as patient {self.code}: {len(screen.items)} exercises")
        elif name == "drill":
            self.progress(f"{_which(screen.drill)}: started")
        elif name == "result":
            self.progress(f"{_which(screen.result)}: {_outcome(screen.result)}")
        elif name == "goodbye":
            s = screen.summary
            self.progress(f"goodbye: {s.get('practised', 0)} of {s.get('total', 0)} exercises practised"
                          + ("" if s.get("saved", True) else "; the results could NOT be saved"))
        elif name == "staff_needed":
            self.progress(f"the kiosk stopped the visit and asked for staff: {screen.staff}")

    def _drill_label(self, d: dict) -> str:
        return f"{d.get('index', 0) + 1}-" + "".join(ch if ch.isalnum() else "_" for ch in d.get("title", "drill").lower())


def _which(d: dict) -> str:
    """ "exercise 2 of 7 (Lean to the targets)" from a screen's drill or result dict."""
    return f"exercise {d.get('index', 0) + 1} of {d.get('count', '?')} ({d.get('title', 'drill')})"


def _outcome(r: dict) -> str:
    """A result as the progress line says it: "complete, 87 points (4 stars)", "stopped early, no points"."""
    status = "complete" if r.get("status") == "complete" else "stopped early"
    score = r.get("score")
    if score is None:
        return f"{status}, no points"
    stars = r.get("stars", 0)
    return f"{status}, {score:.0f} points ({stars} star{'s' if stars != 1 else ''})"
