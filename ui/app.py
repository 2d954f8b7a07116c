"""The kiosk app: one loop (events -> update(dt) -> draw), a stack of screens.

The app knows nothing about devices, drills or the database. Screens post
:class:`Intent` objects (``app.post(Intent("checkin", code="1234"))``) into
:attr:`App.outbox`; whoever runs the kiosk (``gaitkiosk.runtime``) takes them
and answers with :class:`Message` objects through :meth:`App.deliver`, which
is safe to call from any thread. Live data (the latest frame, the drill's
state) is read each frame from a ``feed`` object with a ``latest()`` method;
reading it never blocks.

``draw`` never changes state (STYLE 12): everything a frame shows is decided
in ``update``. :meth:`App.step` runs one iteration with given events and dt,
which is how tests and the headless visit drive the app without a real
clock.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from ui.text import Fonts
from ui.theme import Metrics, Theme

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intent:
    """Something a patient asked for (a screen posts it; the runtime acts on it)."""

    kind: str
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]


@dataclass(frozen=True)
class Message:
    """Something the runtime tells the UI (patient found, drill ready, drill done...)."""

    kind: str
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)


class Screen:
    """Base class: override what you need. ``name`` labels screenshots and tests.

    ``idle_intent``: posted once when nobody has touched the screen for the app's
    ``idle_timeout_s`` (and :meth:`idle` agrees), so a visit a patient walked away
    from ends by itself instead of waiting forever.
    """

    name = "screen"
    idle_intent: str | None = None
    # True: draw() paints every pixel itself, and may keep what did not change from its last frame
    # (ui/screens/drill.py): App.step does not clear the surface first, and calls repaint() when the
    # surface may hold something else (another screen drew there since).
    opaque = False

    def idle(self) -> bool:
        return True

    def __init__(self, app: App):
        self.app = app

    def layout(self, size: tuple[int, int]) -> None:
        """(Re)compute geometry for a surface of ``size``; called before the first frame."""

    def handle(self, event) -> None:
        """One pygame event (touch, mouse, key)."""

    def on_message(self, msg: Message) -> bool:
        """A runtime message the router did not take; True if handled."""
        return False

    def update(self, dt: float) -> None:
        """Advance animations and read live data."""

    def draw(self, surface: pygame.Surface) -> None:
        """Paint the current state. Must not change it."""

    def repaint(self) -> None:
        """(``opaque`` screens) The surface no longer holds this screen's last frame: paint it all."""


class NullFeed:
    def latest(self):
        return None


class App:
    """Holds the window surface, the theme, the screen stack and the intent/message queues."""

    def __init__(self, surface: pygame.Surface, theme: Theme, *, diagonal_in: float = 7.0,
                 feed=None, router: Callable[[App, Message], bool] | None = None,
                 sound=None, idle_timeout_s: float = 90.0, escape_quits: bool = True):
        self.surface = surface
        self.size = surface.get_size()
        self.theme = theme
        self.metrics = Metrics(self.size[0], self.size[1], diagonal_in)
        self.fonts = Fonts()
        self.feed = feed or NullFeed()
        self.router = router
        self.sound = sound
        self.idle_timeout_s = idle_timeout_s
        # Esc quits on a desktop; fullscreen on a unit it does not (a stray keyboard must not end a visit).
        self.escape_quits = escape_quits
        self.stack: list[Screen] = []
        self.outbox: queue.SimpleQueue[Intent] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.running = True
        self.time = 0.0  # app time, advanced by update(dt)
        self.staff: dict | None = None  # the logged-in staff user (ui/screens/staff.py), None for patients
        self.last_input = 0.0
        self.frame_times: list[float] = []  # seconds per step, for benchmarks
        self.on_screen_change: Callable[[Screen], None] | None = None
        self.heartbeat: Callable[[], None] | None = None  # called after each step (the kiosk's watchdog)
        self._shown_at = 0.0
        self._idle_posted = False
        self._drawn: Screen | None = None  # the screen that drew the last frame

    # -- sizes --------------------------------------------------------------------------
    def mm(self, value_mm: float) -> int:
        return self.metrics.mm(value_mm)

    @property
    def target_px(self) -> int:
        """The smallest touch target: ``min_target_mm`` on the glass."""
        return self.metrics.mm(self.theme.min_target_mm)

    def text_px(self, kind: str) -> int:
        return self.metrics.mm(getattr(self.theme.type, f"{kind}_mm"))

    # -- screen stack ------------------------------------------------------------------------
    @property
    def top(self) -> Screen | None:
        return self.stack[-1] if self.stack else None

    def push(self, screen: Screen) -> Screen:
        screen.layout(self.size)
        self.stack.append(screen)
        self._changed()
        return screen

    def pop(self) -> Screen | None:
        s = self.stack.pop() if self.stack else None
        self._changed()
        return s

    def replace(self, screen: Screen) -> Screen:
        if self.stack:
            self.stack.pop()
        return self.push(screen)

    def reset(self, screen: Screen) -> Screen:
        self.stack.clear()
        return self.push(screen)

    def _changed(self) -> None:
        self._shown_at = self.time
        self._idle_posted = False
        if self.on_screen_change and self.top is not None:
            self.on_screen_change(self.top)

    # -- talking to the runtime ------------------------------------------------------------------
    def post(self, intent: Intent) -> None:
        log.debug("intent %s %s", intent.kind, intent.data)
        self.outbox.put(intent)

    def take_intents(self) -> list[Intent]:
        out = []
        while True:
            try:
                out.append(self.outbox.get_nowait())
            except queue.Empty:
                return out

    def deliver(self, msg: Message) -> None:
        """Thread-safe: queue a message for the UI thread."""
        self._inbox.put(msg)

    def _dispatch_messages(self) -> None:
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return
            log.debug("message %s", msg.kind)
            if self.router and self.router(self, msg):
                continue
            if self.top is not None:
                self.top.on_message(msg)

    # -- the loop ----------------------------------------------------------------------------
    def step(self, dt: float, events: list | None = None) -> None:
        """One iteration: events, messages, update(dt), draw. No flip, no sleep."""
        t0 = time.perf_counter()
        for event in events if events is not None else pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
                continue
            if event.type in (pygame.FINGERDOWN, pygame.MOUSEBUTTONDOWN, pygame.KEYDOWN):
                self.last_input = self.time
            if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE and self.escape_quits:
                self.running = False
                continue
            if self.top is not None:
                self.top.handle(event)
        self._dispatch_messages()
        self.time += dt
        top = self.top
        if top is not None and top.idle_intent and not self._idle_posted \
                and self.time - max(self.last_input, self._shown_at) > self.idle_timeout_s and top.idle():
            self._idle_posted = True
            self.post(Intent(top.idle_intent, {"idle": True}))
        top = self.top
        if top is not None:
            top.update(dt)
            if top is not self._drawn:
                top.repaint()
                self._drawn = top
            if not top.opaque:
                self.surface.fill(self.theme.colors.background)
            top.draw(self.surface)
        if self.heartbeat is not None:  # the kiosk's watchdog: the UI loop turned (gaitkiosk/watchdog.py)
            self.heartbeat()
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 10000:
            del self.frame_times[:5000]

    def run(self, fps: float = 60.0, on_frame: Callable[[App], None] | None = None) -> None:
        """The window loop: step, flip, hold ``fps``; ``on_frame`` runs after each flip."""
        clock = pygame.time.Clock()
        dt = 0.0
        while self.running:
            self.step(dt)
            pygame.display.flip()
            if on_frame:
                on_frame(self)
            dt = clock.tick(fps) / 1000.0

    def screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface, str(path))
        return path


def tap_events(pos: tuple[int, int], size: tuple[int, int], touch: bool = True) -> list:
    """The events of one tap at pixel ``pos``: a finger down/up pair, or a mouse click."""
    if touch:
        x, y = pos[0] / size[0], pos[1] / size[1]
        common = dict(touch_id=0, finger_id=0, x=x, y=y, dx=0.0, dy=0.0, pressure=1.0)
        return [pygame.event.Event(pygame.FINGERDOWN, common), pygame.event.Event(pygame.FINGERUP, common)]
    return [pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1, touch=False),
            pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1, touch=False)]


def init_display(size: tuple[int, int], *, headless: bool, fullscreen: bool = False,
                 title: str = "gaitkiosk") -> pygame.Surface:
    """Open the window (or an offscreen surface under the dummy driver when headless)."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    pygame.display.init()
    driver = pygame.display.get_driver()
    if not headless and driver in INVISIBLE_DRIVERS and os.environ.get("SDL_VIDEODRIVER") != driver:
        # SDL falls back to a driver that shows nothing when no display is found (SDL 2.32 picks
        # 'offscreen'): a kiosk nobody can see must stop and say so. Asked for by name, it is a test's.
        pygame.display.quit()
        raise pygame.error(f"SDL found no display, only its '{driver}' driver, which shows nothing")
    pygame.font.init()
    flags = 0
    if fullscreen and not headless:
        desktops = pygame.display.get_desktop_sizes() or [tuple(size)]
        if tuple(desktops[0]) == tuple(size):
            flags = pygame.FULLSCREEN
        else:
            # Fullscreen at a size other than the panel's makes SDL lay out for the whole screen
            # while X keeps a smaller window (the picture is cut off). Show a window instead and
            # say how to fix the config; on a unit, [ui] width/height should match the panel.
            log.warning("display is %dx%d but [ui] asks for %dx%d: opening a window instead of fullscreen "
                        "(set [ui] width and height to the panel's size)", *desktops[0], *size)
    surface = pygame.display.set_mode(size, flags)
    pygame.display.set_caption(title)
    return surface


INVISIBLE_DRIVERS = ("offscreen", "dummy")


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or \
        os.environ.get("SDL_VIDEODRIVER") in ("kmsdrm", "fbcon", "directfb")
