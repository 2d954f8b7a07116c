"""Goodbye: what was done today; back to the start screen by itself."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin, paragraph
from ui.widgets import ButtonSet


class GoodbyeScreen(Screen):
    name = "goodbye"

    def __init__(self, app, summary: dict, linger_s: float = 20.0):
        super().__init__(app)
        self.summary = summary
        self.linger_s = linger_s
        self.t = 0.0
        self.sent = False

    def layout(self, size) -> None:
        self.buttons = ButtonSet(button_row(self.app, [("done", "Done", "primary")]))

    def handle(self, event) -> None:
        if self.buttons.handle(event, self.app.size) == "done":
            self._leave()

    def _leave(self) -> None:
        if not self.sent:
            self.sent = True
            self.app.post(Intent("goodbye_done"))

    def update(self, dt: float) -> None:
        self.t += dt
        if self.t >= self.linger_s:
            self._leave()

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        s = self.summary
        y = header(surface, app, "Thank you!")
        m = margin(app)
        w = app.size[0]
        done, total = s.get("done", 0), s.get("total", 0)
        lines = []
        if total:
            lines.append(f"You did {done} of {total} exercises today.")
        if s.get("saved", True):
            lines.append("Your results are saved for your therapist.")
        else:
            lines.append("Your results could not be saved. Please tell the staff.")
        lines.append("You can step off the mat now.")
        rect = pygame.Rect(m, y + m, w - 2 * m, app.size[1] - y - 2 * m - app.target_px)
        for line in lines:
            color = c.warn if "could not" in line else c.text
            yy = paragraph(surface, app, line, rect, "body", color)
            rect = pygame.Rect(rect.left, yy + m // 2, rect.width, rect.bottom - yy - m // 2)
        self.buttons.draw(surface, app)
