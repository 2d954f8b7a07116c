"""Goodbye: what was done today; back to the start screen by itself."""

from __future__ import annotations

import pygame

from ui.screens.closing import ClosingScreen
from ui.screens.common import header, margin, paragraph


def summary_lines(summary: dict) -> list[str]:
    """What the goodbye says: exercises practised (complete, or stopped after they ran, as the result
    screen said "it still counts as practice"), and whether the results are saved."""
    practised, total = summary.get("practised", summary.get("done", 0)), summary.get("total", 0)
    lines = []
    if total and practised:
        lines.append(f"You practised {practised} of {total} exercise{'s' if total != 1 else ''} today.")
    elif total:
        lines.append("You did not do any exercises today. That is fine: come back another time.")
    if summary.get("saved", True):
        lines.append("Your results are saved for your therapist.")
    else:
        lines.append("Your results could not be saved. Please tell the staff.")
    lines.append("You can step off the mat now.")
    return lines


class GoodbyeScreen(ClosingScreen):
    """``summary``: {practised, finished, total, saved} from the runtime."""

    name = "goodbye"

    def __init__(self, app, summary: dict, linger_s: float = 20.0):
        super().__init__(app, linger_s)
        self.summary = summary

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        y = header(surface, app, "Thank you!")
        m = margin(app)
        w = app.size[0]
        rect = pygame.Rect(m, y + m, w - 2 * m, app.size[1] - y - 3 * m - app.target_px)
        for line in summary_lines(self.summary):
            color = c.warn if "could not" in line else c.text
            yy = paragraph(surface, app, line, rect, "body", color)
            rect = pygame.Rect(rect.left, yy + m // 2, rect.width, rect.bottom - yy - m // 2)
        self.buttons.draw(surface, app)
