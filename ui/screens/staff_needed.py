"""'Please tell the staff': the kiosk cannot go on with this visit (its storage failed).

The patient reads two plain sentences: what happened to them (their
exercises so far are kept) and what to do (tell the staff, step off). Staff
read one smaller line with the technical reason; the same reason is on the
start screen until it is fixed, in the log and in the audit log.
Back to the start screen by itself, like the goodbye screen.
"""

from __future__ import annotations

import pygame

from ui.screens.closing import ClosingScreen
from ui.screens.common import header, margin, paragraph
from ui.text import blit_paragraph, paragraph_height


def patient_lines(done: int, total: int) -> list[str]:
    """What the patient reads: no jargon, nothing to fix themselves."""
    lines = ["The kiosk cannot save exercises right now."]
    if done:
        lines.append(f"The {done} exercise{'s' if done != 1 else ''} you did today {'are' if done != 1 else 'is'} "
                     "saved for your therapist.")
    lines.append("You can step off the mat now.")
    return lines


class StaffNeededScreen(ClosingScreen):
    name = "staff_needed"
    button_label = "OK"

    def __init__(self, app, done: int = 0, total: int = 0, staff: str = "", linger_s: float = 60.0):
        super().__init__(app, linger_s)
        self.lines = patient_lines(done, total)
        self.staff = staff

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        y = header(surface, app, "Please tell the staff")
        m = margin(app)
        w, h = app.size
        ok = self.buttons.buttons[0].rect
        small = app.text_px("small")
        bottom = ok.top - m
        if self.staff:  # the technical reason, small, across the screen above the OK button
            text = f"For staff: {self.staff}."
            height = paragraph_height(len(app.fonts.wrap(text, small, w - 2 * m)), small)
            bottom -= height + m // 2
            paragraph(surface, app, text, pygame.Rect(m, bottom + m // 2, w - 2 * m, height), "small", c.muted)
        # The patient's sentences above it, shrunk (never below the small size) to fit.
        top, gap = y + m, m // 2
        size = app.text_px("body")
        while size > small and self._height(size, w - 2 * m, gap) > bottom - top:
            size = max(small, size - 2)
        rect = pygame.Rect(m, top, w - 2 * m, bottom - top)
        for line in self.lines:
            color = c.warn if "cannot" in line else c.text
            yy = blit_paragraph(surface, app.fonts, line, size, color, rect)
            rect = pygame.Rect(rect.left, yy + gap, rect.width, max(0, rect.bottom - yy - gap))
        self.buttons.draw(surface, app)

    def _height(self, size: int, width: int, gap: int) -> int:
        """The height the patient's lines take at ``size``, as they are drawn (each line's step, then a gap)."""
        fonts = self.app.fonts
        return sum(len(fonts.wrap(line, size, width)) * int(size * 1.25) + gap for line in self.lines)
