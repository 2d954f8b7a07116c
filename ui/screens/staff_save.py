"""Save a PDF (session report, home-exercise sheet): choose where, then see where it went.

Built from the ``staff_save`` message (gaitkiosk/staff_rooms/reports.py): the places that can
take a PDF now (a configured folder, mounted USB sticks), one button each, and why the others
cannot, in words. With nowhere to save, the screen says why and offers nothing to press.
"""

from __future__ import annotations

import pygame

from ui.screens.common import margin, paragraph
from ui.screens.staff import StaffScreen, do, staff_screen
from ui.widgets import Button, ButtonSet


@staff_screen("staff_save")
class SaveScreen(StaffScreen):
    name = "staff_save"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        back = self.data.get("back")
        self.back = (back[0], dict(back[1])) if back else ("home", {})
        self.saved: str | None = None  # "Saved ... to ..." once the worker wrote it

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        top = app.mm(2) + app.target_px + app.text_px("small") + 2 * m  # under the title bar and its second line
        w = size[0] - 2 * m
        self.places = ButtonSet([
            Button(f"place:{i}", p["label"], pygame.Rect(m, top + i * (app.target_px + m), w, app.target_px),
                   "primary" if i == 0 else "normal")
            for i, p in enumerate(self.data.get("places") or [])])

    def handle_content(self, event) -> None:
        if self.busy:  # the answer to the last tap is not back yet
            return
        hit = self.places.handle(event, self.app.size)
        if hit:
            place = self.data["places"][int(hit.split(":")[1])]
            self.message = None
            self.ask(do("save_pdf", what=self.data["what"], id=self.data["id"], path=place["path"]))

    def on_message(self, msg) -> bool:
        if msg.kind == "staff_saved":
            self.busy = False
            self.saved = f"Saved {msg['name']} to {msg['label']}."
            return True
        return super().on_message(msg)

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        w, h = app.size
        kind = self.data.get("kind", "PDF")
        top = self.draw_top(surface, "Save PDF", f"The {kind} of patient {self.data.get('patient', '')}")
        self.places.draw(surface, app)
        below = max((b.rect.bottom for b in self.places.buttons), default=top) + m
        room = pygame.Rect(m, below, w - 2 * m, h - below - m)
        if self.busy:
            room.top = paragraph(surface, app, "Saving...", room, "body") + m
        elif self.saved:
            room.top = paragraph(surface, app, self.saved, room, "body", c.good) + m
        if not self.places.buttons:
            room.top = paragraph(surface, app, "Nowhere to save a PDF now.", room, "body") + m
        for reason in self.data.get("refused") or []:
            room.top = paragraph(surface, app, reason, room, "small", c.muted) + m // 2
        self.draw_message(surface)
