"""The result of one exercise, compared with last time, in plain words."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin, paragraph
from ui.text import blit_text
from ui.widgets import ButtonSet


class ResultScreen(Screen):
    """``result``: {index, count, title, status, score, previous_score, headline, lines, last}."""

    name = "result"
    idle_intent = "finish_visit"  # the patient walked away: end the visit (what was done is kept)

    def __init__(self, app, result: dict):
        super().__init__(app)
        self.result = result
        self.waiting = False
        self.error: str | None = None  # why the last step could not start (shown until the next tap)

    def layout(self, size) -> None:
        last = self.result.get("last", False)
        self.buttons = ButtonSet(button_row(self.app, [
            ("finish", "Finish", "quiet"),
            ("next", "Finish" if last else "Next exercise", "primary"),
        ] if not last else [("next", "Finish", "primary")], width_mm=48))
        if self.app.sound:
            self.app.sound.play("done")

    def handle(self, event) -> None:
        if self.waiting:
            return
        hit = self.buttons.handle(event, self.app.size)
        if hit == "next" and not self.result.get("last"):
            self.waiting = True
            self.app.post(Intent("start_drill", {"index": self.result.get("index", 0) + 1}))
        elif hit in ("next", "finish"):
            self.waiting = True
            self.app.post(Intent("finish_visit"))

    def on_message(self, msg) -> bool:
        if msg.kind == "drill_failed":
            self.waiting = False
            self.error = msg.get("text")
            return True
        return False

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        r = self.result
        stopped = r.get("status") != "complete"
        title = r.get("headline") or ("Stopped early" if stopped else "Well done!")
        y = header(surface, app, title, r.get("title"))
        m = margin(app)
        w = app.size[0]
        bottom = self.buttons.buttons[0].rect.top - m
        score = r.get("score")
        if score is not None:
            big = app.text_px("number")
            sr = blit_text(surface, app.fonts, f"{score:.0f}", big, c.accent, (m, y))
            blit_text(surface, app.fonts, "points out of 100", app.text_px("small"), c.muted, (sr.right + m, sr.centery), "midleft")
            y = sr.bottom + m // 2
            prev = r.get("previous_score")
            if prev is not None:
                diff = score - prev
                if abs(diff) < 1:
                    text, color = f"Same as last time ({prev:.0f}).", c.text
                elif diff > 0:
                    text, color = f"Up {diff:.0f} from last time ({prev:.0f}). Better!", c.good
                else:
                    text, color = f"Down {-diff:.0f} from last time ({prev:.0f}).", c.warn
                # an arrow shape as well as the colour and the words
                ax, ay = m + app.mm(3), y + app.text_px("body") // 2
                d = app.mm(3) if diff > 0 else -app.mm(3)
                x = m
                if abs(diff) >= 1:
                    pygame.draw.polygon(surface, color, [(ax - app.mm(3), ay + d // 2), (ax + app.mm(3), ay + d // 2), (ax, ay - d)])
                    x = m + app.mm(8)
                blit_text(surface, app.fonts, text, app.text_px("body"), color, (x, y))
                y += int(app.text_px("body") * 1.4)
            else:
                blit_text(surface, app.fonts, "Your first time: this is your starting point.", app.text_px("small"), c.muted, (m, y))
                y += int(app.text_px("small") * 1.5)
        else:
            y = paragraph(surface, app, "Good practice. There was not enough of the exercise this time to give points.",
                          pygame.Rect(m, y, w - 2 * m, bottom - y), "body", c.text) + m // 2
        for line in r.get("lines", [])[:4]:
            if y + app.text_px("small") > bottom:
                break
            y = paragraph(surface, app, line, pygame.Rect(m, y, w - 2 * m, bottom - y), "small", c.text)
        if self.error:
            first = self.buttons.buttons[0].rect
            paragraph(surface, app, self.error, pygame.Rect(m, first.top, first.left - 2 * m, first.height), "small", c.warn)
        self.buttons.draw(surface, app)
