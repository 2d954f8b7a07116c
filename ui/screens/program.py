"""Today's program: the exercises the therapist prescribed, in order."""

from __future__ import annotations

import math

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin, paragraph
from ui.text import blit_text, paragraph_height
from ui.widgets import ButtonSet


def duration_words(seconds) -> str:
    """An exercise's length as people say it: "45 seconds", "1 minute", "1½ minutes", "about 3 minutes".

    Whole and half minutes are said as such; other lengths under 2 minutes in seconds ("75 seconds"),
    longer ones to the nearest half minute with "about".
    """
    if not seconds or seconds <= 0:
        return ""
    s = float(seconds)
    halves = math.floor(s / 30 + 0.5)
    exact = halves >= 2 and abs(s - 30 * halves) < 1.0
    if not exact and s < 120:
        n = max(1, int(math.floor(s + 0.5)))
        return f"{n} second{'s' if n != 1 else ''}"
    whole, half = divmod(halves, 2)
    text = f"{whole}{'½' if half else ''} minute{'s' if halves != 2 else ''}"
    return text if exact else f"about {text}"


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

    def _row(self, surface, i: int, item: dict, row: pygame.Rect, size: int) -> None:
        """One exercise: its number, its name, and its length or what became of it today."""
        app, c = self.app, self.app.theme.colors
        status = item.get("status", "todo")
        mark, color = {"done": ("done", c.good), "stopped": ("stopped", c.warn),
                       "skipped": ("skipped", c.muted)}.get(status, (None, c.text))
        if i == self.next_index and status == "todo":
            pygame.draw.rect(surface, c.panel, pygame.Rect(row.left - 4, row.top - 2, row.width, row.height - 2),
                             border_radius=6)
        blit_text(surface, app.fonts, f"{i + 1}.", size, c.muted, row.topleft, room=row)
        extra = mark or duration_words(item.get("seconds"))
        right = row.right - 8
        if extra:
            e = blit_text(surface, app.fonts, extra, size, c.muted if not mark else color, (right, row.top), "topright",
                          room=row)
            right = e.left - size // 2
        name = pygame.Rect(row.left + int(size * 1.6), row.top, right - row.left - int(size * 1.6), row.height)
        blit_text(surface, app.fonts, item["title"], size, color, name.topleft, room=name)

    def _row_width(self, size: int) -> int:
        """The width the widest row needs: number, name, a gap, and its length or mark."""
        font = self.app.fonts.font(size)
        widest = 0
        for item in self.items:
            extra = {"done": "done", "stopped": "stopped", "skipped": "skipped"}.get(item.get("status"), "") \
                or duration_words(item.get("seconds"))
            widest = max(widest, font.size(item["title"])[0] + (font.size(extra)[0] + size // 2 if extra else 0))
        return int(size * 1.6) + widest + 12

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        n = len(self.items)
        y = header(surface, app, self.greeting, f"Today you have {n} exercise{'s' if n != 1 else ''}." if n else None,
                   beside=True)
        m = margin(app)
        size = app.text_px("small")
        row_h = int(size * 1.5)
        bottom = self.buttons.buttons[0].rect.top - m
        note = "Getting ready..." if self.waiting else self.error
        if note:  # across the screen above the buttons; the list gets the room above it
            width = app.size[0] - 2 * m
            height = paragraph_height(len(app.fonts.wrap(note, size, width)), size)
            bottom -= height + m // 2
            paragraph(surface, app, note, pygame.Rect(m, bottom + m // 2, width, height), "small",
                      c.muted if self.waiting else c.warn)
        rows_fit = max(1, (bottom - y) // row_h)
        # Two columns where one is too short, if each row's name and length fit in half the width.
        cols = 1 if n <= rows_fit or self._row_width(size) > (app.size[0] - 2 * m) // 2 - m else 2
        col_w = (app.size[0] - 2 * m) // cols
        per_col = max(rows_fit, (n + cols - 1) // cols)
        shown = list(enumerate(self.items))
        if n > cols * rows_fit:  # more than fit: a window that holds the next one, and "+ N more"
            per_col = rows_fit
            room = cols * rows_fit - 1
            first = min(max(0, self.next_index - 1), n - room)
            shown = shown[first:first + room]
        for k, (i, item) in enumerate(shown):
            col, row = divmod(k, per_col)
            self._row(surface, i, item, pygame.Rect(m + col * col_w, y + row * row_h, col_w - m, row_h), size)
        if len(shown) < n:
            col, row = divmod(len(shown), per_col)
            hidden = n - len(shown)
            blit_text(surface, app.fonts, f"+ {hidden} more", size, c.muted, (m + col * col_w, y + row * row_h),
                      room=pygame.Rect(m + col * col_w, y + row * row_h, col_w - m, row_h))
        self.buttons.draw(surface, app)
