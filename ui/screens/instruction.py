"""What to do next: an animated picture, one or two short sentences, Start."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.pictures import draw_picture
from ui.screens.common import button_row, fit_in_rect, header, margin, paragraph
from ui.widgets import ButtonSet


class InstructionScreen(Screen):
    """``drill``: {index, count, title, instruction, picture, safety} from the runtime."""

    name = "instruction"
    idle_intent = "finish_visit"  # the patient walked away: end the visit (what was done is kept)

    def __init__(self, app, drill: dict):
        super().__init__(app)
        self.drill = drill
        self.t = 0.0
        self.waiting = False
        self.error: str | None = None  # why the last step could not start (shown until the next tap)

    def layout(self, size) -> None:
        self.buttons = ButtonSet(button_row(self.app, [("skip", "Skip", "quiet"), ("begin", "Start", "primary")]))
        if self.app.sound:
            self.app.sound.play("start")

    def handle(self, event) -> None:
        if self.waiting:
            return
        hit = self.buttons.handle(event, self.app.size)
        if hit == "begin":
            self.waiting = True
            self.app.post(Intent("begin_drill", {"index": self.drill.get("index", 0)}))
        elif hit == "skip":
            self.waiting = True
            self.app.post(Intent("skip_drill", {"index": self.drill.get("index", 0)}))

    def on_message(self, msg) -> bool:
        if msg.kind == "drill_failed":
            self.waiting = False
            self.error = msg.get("text")
            return True
        return False

    def update(self, dt: float) -> None:
        self.t += dt

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        d = self.drill
        sub = f"Exercise {d['index'] + 1} of {d['count']}" if "count" in d else None
        y = header(surface, app, d.get("title", "Next exercise"), sub)
        w, h = app.size
        m = margin(app)
        bottom = self.buttons.buttons[0].rect.top - m
        pic = pygame.Rect(m, y, int(w * 0.4), bottom - y)
        pygame.draw.rect(surface, c.panel, pic, border_radius=12)
        draw_picture(d.get("picture", "stand"), surface, pic.inflate(-2 * m, -2 * m), self.t, c, d.get("layout"),
                     app.metrics.px_per_mm)
        text = pygame.Rect(pic.right + 2 * m, y, w - pic.right - 3 * m, bottom - y)
        fit_in_rect(surface, app, d.get("instruction", ""), text)
        # Beside the buttons: the safety line, or "getting ready" while the runtime prepares.
        first = self.buttons.buttons[0].rect
        note = pygame.Rect(m, first.top, first.left - 2 * m, first.height)
        if self.waiting:
            paragraph(surface, app, "Getting ready...", note, "small", c.muted)
        elif self.error:
            paragraph(surface, app, self.error, note, "small", c.warn)
        elif d.get("safety"):
            paragraph(surface, app, d["safety"], note, "small", c.warn)
        self.buttons.draw(surface, app)
