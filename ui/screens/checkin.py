"""Check-in: the patient types the short code from their card on a big keypad."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import header, margin, paragraph
from ui.text import blit_text
from ui.widgets import Button, ButtonSet, Keypad


class CheckInScreen(Screen):
    name = "checkin"

    def __init__(self, app, max_len: int = 8):
        super().__init__(app)
        self.max_len = max_len
        self.message: str | None = None
        self.busy = False
        self.idle = 0.0

    def layout(self, size) -> None:
        app = self.app
        w, h = size
        m = margin(app)
        kp_w = min(int(w * 0.5), 3 * app.mm(24))
        kp = pygame.Rect(w - kp_w - m, m, kp_w, h - 2 * m)
        self.keypad = Keypad(kp, app.target_px, self.max_len)
        self.left = pygame.Rect(m, m, kp.left - 2 * m, h - 2 * m)
        self.buttons = ButtonSet([Button("back", "Back", pygame.Rect(m, h - m - app.target_px, app.mm(34), app.target_px), "quiet")])

    def handle(self, event) -> None:
        if self.busy:
            return
        if self.buttons.handle(event, self.app.size) == "back":
            self.app.post(Intent("cancel"))
            return
        before = self.keypad.code
        if self.keypad.handle(event, self.app.size) == "ok":
            self.busy = True
            self.message = None
            self.app.post(Intent("checkin", {"code": self.keypad.code}))
        elif self.keypad.code != before:
            self.message = None
        self.idle = 0.0

    def on_message(self, msg) -> bool:
        if msg.kind == "patient_unknown":
            self.busy = False
            self.message = msg.get("text") or (f"We could not find the code {msg['code']}. Please check the card, "
                                               "or ask your therapist.")
            self.keypad.code = ""
            return True
        return False

    def update(self, dt: float) -> None:
        self.idle += dt
        if self.idle > self.app.idle_timeout_s and not self.busy:
            self.idle = 0.0
            self.app.post(Intent("cancel"))

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        y = header(surface, app, "Your code")
        rect = pygame.Rect(self.left.left, y, self.left.width, self.left.height)
        y = paragraph(surface, app, "Type the number on your card, then press OK.", rect, "small", c.muted)
        box = pygame.Rect(self.left.left, y + margin(app) // 2, self.left.width, app.target_px)
        pygame.draw.rect(surface, c.panel, box, border_radius=8)
        pygame.draw.rect(surface, c.accent, box, width=3, border_radius=8)
        code = " ".join(self.keypad.code) if self.keypad.code else ""
        blit_text(surface, app.fonts, code, app.text_px("title"), c.text, (box.left + margin(app), box.centery), "midleft")
        if self.busy:
            paragraph(surface, app, "Looking you up...", pygame.Rect(box.left, box.bottom + margin(app), box.width, app.mm(30)), "small", c.muted)
        elif self.message:
            paragraph(surface, app, self.message, pygame.Rect(box.left, box.bottom + margin(app), box.width, app.mm(40)), "small", c.warn)
        self.keypad.draw(surface, app)
        self.buttons.draw(surface, app)
