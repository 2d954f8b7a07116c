"""Check-in: the patient types the short code from their card on a big keypad.

The runtime says how many digits a code may have (``max_len``, from
``gaitkiosk.patient_code``) and, after wrong codes, how long the keypad must wait
(``wait_s``, from the worker's ``gaitkiosk.lockout``). While it waits the keys are
greyed out and one plain sentence says for how long; the worker refuses a code
that comes anyway, so the wait does not depend on this screen.
"""

from __future__ import annotations

import math

import pygame

from ui.app import Intent, Screen
from ui.screens.common import header, margin, paragraph
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet, Keypad


def wait_words(seconds: float) -> str:
    """A wait as a patient says it: "30 seconds", "1 minute", "4 minutes" (always rounded up)."""
    if seconds <= 60:
        n = max(1, math.ceil(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    n = math.ceil(seconds / 60)
    return f"{n} minute{'s' if n != 1 else ''}"


class KeypadScreen(Screen):
    """A screen whose keypad a worker's lockout can hold for ``wait_s`` seconds (check-in, staff
    login): the keys greyed out while it runs down, the wait said in words, and back to the start
    when nobody touches it for ``app.idle_timeout_s`` (unless a code is being checked)."""

    def __init__(self, app, wait_s: float = 0.0):
        super().__init__(app)
        self.message: str | None = None
        self.busy = False
        self.idle = 0.0
        self.wait_s = float(wait_s)  # the keypad takes no code until this has run down

    @property
    def waiting(self) -> bool:
        return self.wait_s > 0

    def keys_open(self) -> bool:
        return not self.waiting

    def wait_over(self) -> None:
        """Called once when the wait has run down (before the keys open)."""

    def _enable_keys(self) -> None:
        for b in self.keypad.buttons.buttons:
            b.enabled = self.keys_open()

    def wait_text(self) -> str | None:
        """What the screen says while the keypad waits (None: it does not)."""
        if not self.waiting:
            return None
        return f"Please wait {wait_words(self.wait_s)}, then try again."

    def update(self, dt: float) -> None:
        if self.waiting:
            self.wait_s = max(0.0, self.wait_s - dt)
            if not self.waiting:
                self.wait_over()
                self._enable_keys()
        self.idle += dt
        if self.idle > self.app.idle_timeout_s and not self.busy:
            self.idle = 0.0
            self.app.post(Intent("cancel"))


class CheckInScreen(KeypadScreen):
    name = "checkin"

    def __init__(self, app, max_len: int = 8, wait_s: float = 0.0):
        super().__init__(app, wait_s)
        self.max_len = max_len

    def layout(self, size) -> None:
        app = self.app
        w, h = size
        m = margin(app)
        kp_w = min(int(w * 0.5), 3 * app.mm(24))
        kp = pygame.Rect(w - kp_w - m, m, kp_w, h - 2 * m)
        self.keypad = Keypad(kp, app.target_px, self.max_len)
        self.left = pygame.Rect(m, m, kp.left - 2 * m, h - 2 * m)
        self.buttons = ButtonSet([Button("back", "Back", pygame.Rect(m, h - m - app.target_px, app.mm(34), app.target_px), "quiet")])
        self._enable_keys()

    def handle(self, event) -> None:
        if self.busy:
            return
        if self.buttons.handle(event, self.app.size) == "back":
            self.app.post(Intent("cancel"))
            return
        self.idle = 0.0
        if self.waiting:
            return
        before = self.keypad.code
        if self.keypad.handle(event, self.app.size) == "ok":
            self.busy = True
            self.message = None
            self.app.post(Intent("checkin", {"code": self.keypad.code}))
        elif self.keypad.code != before:
            self.message = None

    def on_message(self, msg) -> bool:
        if msg.kind == "patient_unknown":
            self.busy = False
            self.message = msg.get("text") or (f"We could not find the code {msg['code']}. Please check the card, "
                                               "or ask your therapist.")
            self.keypad.code = ""
            self.wait_s = float(msg.get("wait_s") or 0.0)
            self._enable_keys()
            return True
        if msg.kind == "checkin_wait":  # a code came while the keypad still had to wait: only the wait matters
            self.busy = False
            self.message = None
            self.keypad.code = ""
            self.wait_s = float(msg["wait_s"])
            self._enable_keys()
            return True
        return False

    def wait_over(self) -> None:
        self.message = None  # "wrong code" belonged to the wait

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        y = header(surface, app, "Your code")
        # What the keypad says (looking up, a wrong code, a wait) takes the place of the instruction,
        # above the code: all the room down to the code box over the Back button is its own.
        back = self.buttons.get("back").rect
        room = pygame.Rect(self.left.left, y, self.left.width, back.top - 2 * m - app.target_px - y)
        if self.busy:
            y = paragraph(surface, app, "Looking you up...", room, "small", c.muted)
        elif self.message or self.waiting:
            y = paragraph(surface, app, " ".join(t for t in (self.message, self.wait_text()) if t), room, "small", c.warn)
        else:
            y = paragraph(surface, app, "Type the number on your card, then press OK.", room, "small", c.muted)
        box = pygame.Rect(self.left.left, y + m // 2, self.left.width, app.target_px)
        pygame.draw.rect(surface, c.panel, box, border_radius=8)
        pygame.draw.rect(surface, c.accent, box, width=3, border_radius=8)
        code = " ".join(self.keypad.code) if self.keypad.code else ""
        inside = box.inflate(-2 * m, 0)
        size = fit_size(app.fonts, code, app.text_px("title"), inside.width, app.text_px("body"))
        blit_text(surface, app.fonts, code, size, c.text, (inside.left, box.centery), "midleft", room=inside)
        self.keypad.draw(surface, app)  # greyed out while waiting (the code is empty then, so OK is too)
        self.buttons.draw(surface, app)
