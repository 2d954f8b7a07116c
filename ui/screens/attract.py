"""Attract / idle: the screen a patient walks up to."""

from __future__ import annotations

import math

import pygame

from ui.app import Intent, Screen
from ui.pictures import draw_picture
from ui.text import blit_paragraph, blit_text, fit_size, paragraph_height
from ui.widgets import Button, ButtonSet, pointer


class AttractScreen(Screen):
    name = "attract"

    def __init__(self, app, clinic: str = "Balance and walking practice"):
        super().__init__(app)
        self.clinic = clinic
        self.t = 0.0
        self.status: str | None = None  # sensors not ready, shown small at the bottom

    def layout(self, size) -> None:
        # A small Staff button in the top right corner (staff login, docs/therapist.md); the title keeps clear of it.
        app = self.app
        rect = pygame.Rect(0, 0, app.mm(24), app.target_px)
        rect.topright = (size[0] - app.mm(2), app.mm(2))
        self.buttons = ButtonSet([Button("staff", "Staff", rect, "quiet")])

    def handle(self, event) -> None:
        if self.buttons.handle(event, self.app.size) == "staff":
            self.app.post(Intent("staff"))
            return
        p = pointer(event, self.app.size)
        if p and p[0] == "up" and not self.buttons.get("staff").rect.collidepoint(p[1]):  # anywhere else
            self.app.post(Intent("start"))

    def update(self, dt: float) -> None:
        self.t += dt
        live = self.app.feed.latest()
        self.status = getattr(live, "device_problem", None) if live is not None else None

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        w, h = app.size
        staff = self.buttons.get("staff").rect
        side = w - staff.left + app.mm(2)  # the title's room stays clear of the Staff button, both sides alike
        size = fit_size(app.fonts, self.clinic, app.text_px("title"), w - 2 * side, app.text_px("body"))
        title = blit_text(surface, app.fonts, self.clinic, size, c.text, (w // 2, app.mm(5)), "midtop",
                          room=pygame.Rect(side, 0, w - 2 * side, h))
        # A status line for staff (a sensor or the storage) gets its own room under the button,
        # wrapped over as many lines as it needs; the picture gives way.
        small = app.text_px("small")
        status_w = w - app.mm(4)
        lines = len(app.fonts.wrap(self.status, small, status_w)) if self.status else 0
        status_room = paragraph_height(lines, small) + app.mm(2) if lines else 0
        pic = pygame.Rect(0, 0, int(w * 0.5), int(h - title.bottom - app.target_px - app.mm(14) - status_room))
        pic.midtop = (w // 2, title.bottom + app.mm(3))
        draw_picture("stand", surface, pic, self.t, c)
        pulse = 0.5 + 0.5 * math.sin(self.t * 3.0)
        label_y = pic.bottom + app.mm(4)
        r = pygame.Rect(0, 0, int(w * 0.7), app.target_px)
        r.midtop = (w // 2, label_y)
        pygame.draw.rect(surface, c.accent, r, border_radius=r.height // 3)
        pygame.draw.rect(surface, c.text, r.inflate(int(8 * pulse), int(8 * pulse)), width=2, border_radius=r.height // 3)
        blit_text(surface, app.fonts, "Touch here to start", app.text_px("body"), c.dark_text, r.center, "center", room=r)
        self.buttons.draw(surface, app)
        if self.status:
            box = pygame.Rect(app.mm(2), h - app.mm(2) - paragraph_height(lines, small), status_w, paragraph_height(lines, small))
            blit_paragraph(surface, app.fonts, self.status, small, c.warn, box, align="center")
