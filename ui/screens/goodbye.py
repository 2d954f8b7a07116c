"""Goodbye: what was done today; back to the start screen by itself."""

from __future__ import annotations

import pygame

from ui.screens.closing import ClosingScreen
from ui.screens.common import header, margin, paragraph


class GoodbyeScreen(ClosingScreen):
    name = "goodbye"

    def __init__(self, app, summary: dict, linger_s: float = 20.0):
        super().__init__(app, linger_s)
        self.summary = summary

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
