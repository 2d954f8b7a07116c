"""The staff home screen: who is logged in, and Log out.

It exists only after the worker checked a PIN (``staff_home`` carries the name
and role; the router refuses one without them). It logs out by itself when
nobody touched it for ``idle_logout_s`` (config ``ui.staff_idle_logout_s``) and
as soon as someone steps onto the mat: the live snapshot's mat load rising from
below ``walk_up_n`` (config ``analysis.contact_on_n``, a foot's contact
threshold) to above it means a patient walked up, and the kiosk goes back to the
start screen for them. A load already there at login (the therapist on the mat,
the virtual patient of ``--simulate``, who always stands) logs nobody out until
the mat has been clear once.
"""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.checkin import wait_words
from ui.screens.common import button_row, header, margin, paragraph
from ui.widgets import ButtonSet


def mat_load_n(snapshot) -> float:
    """The force on the mat in a live snapshot (N): kPa summed over the sensels times a sensel's area."""
    kpa = getattr(snapshot, "mat_kpa", None)
    geometry = getattr(snapshot, "mat_geometry", None)
    if kpa is None or geometry is None:
        return 0.0
    row_mm, col_mm = geometry[2]
    return float(kpa.sum()) * row_mm * col_mm / 1000.0  # kPa x mm^2 = mN


class StaffHomeScreen(Screen):
    name = "staff_home"

    def __init__(self, app, name: str, role: str, idle_logout_s: float = 120.0, walk_up_n: float = 30.0):
        super().__init__(app)
        self.user_name = name
        self.role = role
        self.idle_logout_s = float(idle_logout_s)
        self.walk_up_n = float(walk_up_n)
        self.idle = 0.0
        self.leaving: str | None = None  # the logout reason once posted (posted once)
        self.mat_clear = False  # the mat has been seen without load since this screen opened

    def layout(self, size) -> None:
        self.buttons = ButtonSet(button_row(self.app, [("logout", "Log out", "primary")]))

    def handle(self, event) -> None:
        if self.leaving:
            return
        self.idle = 0.0
        if self.buttons.handle(event, self.app.size) == "logout":
            self._logout("button")

    def update(self, dt: float) -> None:
        if self.leaving:
            return
        self.idle += dt
        if self.idle >= self.idle_logout_s:
            self._logout("idle")
            return
        loaded = mat_load_n(self.app.feed.latest()) >= self.walk_up_n
        if loaded and self.mat_clear:
            self._logout("patient")
        self.mat_clear = self.mat_clear or not loaded

    def _logout(self, reason: str) -> None:
        self.leaving = reason
        self.app.post(Intent("staff_logout", {"reason": reason}))

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        w, h = app.size
        y = header(surface, app, self.user_name, f"Logged in as {self.role}")
        room = pygame.Rect(m, y + m, w - 2 * m, self.buttons.get("logout").rect.top - y - 2 * m)
        paragraph(surface, app, f"You are logged out after {wait_words(self.idle_logout_s)} without a touch, "
                  "and as soon as someone steps onto the mat.", room, "small", c.muted)
        self.buttons.draw(surface, app)
