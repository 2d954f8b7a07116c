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


def patient_lines(done: int, total: int) -> list[str]:
    """What the patient reads: no jargon, nothing to fix themselves."""
    lines = ["The kiosk cannot save exercises right now."]
    if done:
        lines.append(f"The {done} exercise{'s' if done != 1 else ''} you finished today {'are' if done != 1 else 'is'} "
                     "saved for your therapist.")
    lines.append("Please tell the staff. You can step off the mat now.")
    return lines


class StaffNeededScreen(ClosingScreen):
    name = "staff_needed"
    button_label = "OK"

    def __init__(self, app, done: int = 0, total: int = 0, staff: str = "", linger_s: float = 60.0):
        super().__init__(app, linger_s)
        self.lines = patient_lines(done, total)
        self.staff = staff

    def _body_size(self, width: int, height: int, gap: int) -> int:
        """The largest text size (body down to small) at which every patient line fits."""
        app = self.app
        size, small = app.text_px("body"), app.text_px("small")
        while size > small:
            need = sum(len(app.fonts.wrap(line, size, width)) * int(size * 1.25) + gap for line in self.lines)
            if need <= height:
                break
            size -= 2
        return size

    def draw(self, surface) -> None:
        from ui.text import blit_paragraph

        app, c = self.app, self.app.theme.colors
        y = header(surface, app, "Please tell the staff")
        m = margin(app)
        w, h = app.size
        ok = self.buttons.buttons[0].rect
        # The patient's sentences above the button row, shrunk (never below the small size) to fit.
        top, bottom = y + m, ok.top - m
        size = self._body_size(w - 2 * m, bottom - top, m // 2)
        rect = pygame.Rect(m, top, w - 2 * m, bottom - top)
        for line in self.lines:
            color = c.warn if "cannot" in line else c.text
            yy = blit_paragraph(surface, app.fonts, line, size, color, rect)
            rect = pygame.Rect(rect.left, yy + m // 2, rect.width, max(0, rect.bottom - yy - m // 2))
        if self.staff:  # the technical reason, small, beside the OK button
            staff = pygame.Rect(m, ok.top, ok.left - 2 * m, ok.height)
            paragraph(surface, app, f"For staff: {self.staff}.", staff, "small", c.muted)
        self.buttons.draw(surface, app)
