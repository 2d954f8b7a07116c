"""Today's program: the exercises the therapist prescribed, in order."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin, paragraph
from ui.text import blit_text
from ui.widgets import ButtonSet


def _duration(seconds) -> str:
    if not seconds:
        return ""
    if seconds < 90:
        return f"{int(round(seconds))} s"
    return f"{int(round(seconds / 60))} min"


class ProgramScreen(Screen):
    """``items``: [{title, seconds, status}] with status 'todo', 'done', 'stopped' or 'skipped'."""

    name = "program"
    idle_intent = "finish_visit"  # the patient walked away: end the visit (what was done is kept)

    def __init__(self, app, items: list[dict], greeting: str = "Hello!", next_index: int = 0):
        super().__init__(app)
        self.items = items
        self.greeting = greeting
        self.next_index = next_index
        self.waiting = False
        self.error: str | None = None  # why the last step could not start (shown until the next tap)

    def layout(self, size) -> None:
        first = self.next_index == 0
        self.buttons = ButtonSet(button_row(self.app, [
            ("end", "Not today" if first else "Finish", "quiet"),
            ("go", "Start" if first else "Continue", "primary"),
        ]))

    def handle(self, event) -> None:
        if self.waiting:
            return
        hit = self.buttons.handle(event, self.app.size)
        if hit == "go":
            self.waiting = True
            self.app.post(Intent("start_drill", {"index": self.next_index}))
        elif hit == "end":
            self.app.post(Intent("finish_visit"))

    def on_message(self, msg) -> bool:
        if msg.kind == "drill_failed":
            self.waiting = False
            self.error = msg.get("text")
            return True
        return False

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        n = len(self.items)
        y = header(surface, app, self.greeting, f"Today you have {n} exercise{'s' if n != 1 else ''}." if n else None)
        m = margin(app)
        size = app.text_px("small")
        row_h = int(size * 1.5)
        bottom = self.buttons.buttons[0].rect.top - m
        rows_fit = max(1, (bottom - y) // row_h)
        cols = 1 if n <= rows_fit else 2
        col_w = (app.size[0] - 2 * m) // cols
        for i, item in enumerate(self.items):
            col, row = divmod(i, max(rows_fit, (n + cols - 1) // cols))
            x = m + col * col_w
            yy = y + row * row_h
            if yy + row_h > bottom:
                break
            status = item.get("status", "todo")
            mark, color = {"done": ("done", c.good), "stopped": ("stopped", c.warn),
                           "skipped": ("skipped", c.muted)}.get(status, (None, c.text))
            if i == self.next_index and status == "todo":
                pygame.draw.rect(surface, c.panel, pygame.Rect(x - 4, yy - 2, col_w - m, row_h - 2), border_radius=6)
            blit_text(surface, app.fonts, f"{i + 1}.", size, c.muted, (x, yy))
            r = blit_text(surface, app.fonts, item["title"], size, color, (x + int(size * 1.6), yy))
            extra = mark or _duration(item.get("seconds"))
            if extra:
                blit_text(surface, app.fonts, extra, size, c.muted if not mark else color, (x + col_w - m - 8, yy), "topright")
            del r
        note = pygame.Rect(m, bottom + m, self.buttons.buttons[0].rect.left - 2 * m, app.target_px)
        if self.waiting:
            paragraph(surface, app, "Getting ready...", note, "small", c.muted)
        elif self.error:
            paragraph(surface, app, self.error, note, "small", c.warn)
        self.buttons.draw(surface, app)
