"""Helpers for the UI tests: a pygame surface under the dummy video driver, taps, a fake feed."""

from __future__ import annotations

import os
import time

import numpy as np
import pygame
import pytest

from ui.app import App, tap_events
from ui.theme import load_theme


@pytest.fixture
def dummy_video(monkeypatch):
    """pygame with SDL's dummy video driver (set here, not for the whole suite)."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.display.quit()


def make_app(size=(800, 480), diagonal_in=7.0, feed=None, router=None, sound=None) -> App:
    surface = pygame.Surface(size)
    return App(surface, load_theme(), diagonal_in=diagonal_in, feed=feed, router=router, sound=sound)


def tap(app: App, pos, touch: bool = True, dt: float = 1 / 30) -> None:
    app.step(dt, tap_events(tuple(int(v) for v in pos), app.size, touch))


def tap_button(app: App, button, touch: bool = True) -> None:
    tap(app, button.rect.center, touch)


def drag(app: App, start, end, steps: int = 5, dt: float = 1 / 30) -> None:
    """A finger put down at ``start``, moved to ``end`` in ``steps`` frames of ``dt``, and lifted there."""
    import pygame

    def finger(kind, pos):
        return pygame.event.Event(kind, touch_id=0, finger_id=0, x=pos[0] / app.size[0], y=pos[1] / app.size[1],
                                  dx=0.0, dy=0.0, pressure=1.0)

    app.step(dt, [finger(pygame.FINGERDOWN, start)])
    for k in range(1, steps + 1):
        pos = (start[0] + (end[0] - start[0]) * k / steps, start[1] + (end[1] - start[1]) * k / steps)
        app.step(dt, [finger(pygame.FINGERMOTION, pos)])
    app.step(0.0, [finger(pygame.FINGERUP, end)])


def intents(app: App) -> list:
    return app.take_intents()


class FakeFeed:
    """Stands in for the runtime's feed: hands the screen a given snapshot."""

    def __init__(self, snapshot=None):
        self.snapshot = snapshot

    def latest(self):
        return self.snapshot


def two_feet_frame(rows=48, cols=48) -> np.ndarray:
    """A frame with two rectangular 'feet' (kPa): left half columns 10-17, right 30-37, rows 8-35."""
    f = np.zeros((rows, cols), np.float32)
    f[8:36, 10:18] = 120.0
    f[8:36, 30:38] = 120.0
    return f


def view(**over) -> dict:
    base = {"name": "quiet_standing", "title": "Stand still", "phase": "running", "cue": "Keep the dot in the circle.",
            "countdown_s": None, "remaining_s": 12.0, "duration_s": 30.0, "progress": None, "targets": [],
            "zone": {"x_mm": 200.0, "y_mm": 180.0, "radius_mm": 20.0}, "share": None, "values": [],
            "alert": None, "view": "mat", "beat": 0}
    base.update(over)
    return base


os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def pump(app, until, timeout=60.0, what=""):
    """Step ``app`` until ``until()`` holds. A guard against a hang, not a timing assertion: it
    returns as soon as the event is there; generous, as the suite runs beside busy processes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step(0.01, [])
        if until():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or until}; top screen {app.top.name if app.top else None}")
