"""The staff home screen: who is logged in, the way to each staff room, and Log out.

It exists only after the worker checked a PIN (``staff_home`` carries the name
and role; the router refuses one without them). Like every staff screen
(ui/screens/staff.py) it logs out by itself after ``idle_logout_s`` without a
touch and when a patient steps onto the mat.
"""

from __future__ import annotations

import pygame

from ui.screens.checkin import wait_words
from ui.screens.common import margin, paragraph
from ui.screens.staff import StaffScreen, mat_load_n, view
from ui.widgets import Button, ButtonSet

__all__ = ["StaffHomeScreen", "mat_load_n"]

# (button id = the view it asks for, label, who sees it)
ROOMS = (
    ("patients", "Patients", ("therapist",)),
    ("calibration", "Calibration", ("therapist", "technician")),
    ("diagnostics", "Diagnostics", ("technician",)),
)


class StaffHomeScreen(StaffScreen):
    name = "staff_home"
    back = None  # home is where Back leads

    def __init__(self, app, name: str, role: str, idle_logout_s: float = 120.0, walk_up_n: float = 30.0):
        app.staff = {"name": name, "role": role, "idle_logout_s": float(idle_logout_s), "walk_up_n": float(walk_up_n)}
        super().__init__(app)
        from ui.plots import plots_of

        plots_of(app).warm()  # the staff rooms' plots: matplotlib is imported while the home is shown
        self.user_name = name
        self.role = role

    def rooms(self) -> list[tuple[str, str]]:
        return [(vid, label) for vid, label, roles in ROOMS if self.role in roles]

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = app.mm(60), int(app.target_px * 1.3)
        top = self.content_top() + m
        self.rooms_buttons = ButtonSet([
            Button(vid, label, pygame.Rect(m + i * (w + m), top, w, h), "primary" if i == 0 else "normal")
            for i, (vid, label) in enumerate(self.rooms())])

    def handle_content(self, event) -> None:
        room = self.rooms_buttons.handle(event, self.app.size)
        if room:
            self.app.post(view(room))

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        w, h = app.size
        self.draw_top(surface, self.user_name, f"Logged in as {self.role}")
        self.rooms_buttons.draw(surface, app)
        below = max(b.rect.bottom for b in self.rooms_buttons.buttons) if self.rooms_buttons.buttons else 0
        room = pygame.Rect(m, below + m, w - 2 * m, h - below - 2 * m)
        paragraph(surface, app, f"You are logged out after {wait_words(self.idle_logout_s)} without a touch, "
                  "and as soon as someone steps onto the mat.", room, "small", c.muted)
        self.draw_message(surface)
