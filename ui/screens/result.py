"""The result of one exercise, compared with last time, in plain words."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin, paragraph
from ui.text import blit_text
from ui.widgets import ButtonSet, draw_stars


class ResultScreen(Screen):
    """``result``: {index, count, title, status, score, stars, previous_score, compare, headline, lines, last}.

    ``compare`` is {text, direction} (+1 better, 0 same, -1 worse) in the patient's words; without
    it the change of score is shown. ``lines`` are plain sentences (no units, no measure names).
    """

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
        ] if not last else [("next", "Finish", "primary")], width_mm=54))
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
        unscored = r.get("score") is None
        title = r.get("headline") or ("Stopped early" if stopped else "Good practice!" if unscored else "Well done!")
        y = header(surface, app, title, r.get("title"))
        m = margin(app)
        w = app.size[0]
        bottom = self.buttons.buttons[0].rect.top - m
        score = r.get("score")
        if score is not None:
            big = app.text_px("number")
            sr = blit_text(surface, app.fonts, f"{score:.0f}", big, c.accent, (m, y))
            # Stars as well as the number: a score at a glance, for those who do not read numbers easily.
            star = app.mm(9)
            count = r.get("stars", stars_for(score))
            st = draw_stars(surface, app, (sr.right + m, sr.top + max(0, (sr.height - star - app.text_px("small")) // 2)),
                            star, count)
            blit_text(surface, app.fonts, "points out of 100", app.text_px("small"), c.muted, (st.left, st.bottom + 2))
            y = sr.bottom + m // 2
            y = self._compare(surface, score, y)
        elif not r.get("lines"):  # the drill's own words say why there are no points, when it has them
            y = paragraph(surface, app, "There was not enough of the exercise this time to give points.",
                          pygame.Rect(m, y, w - 2 * m, bottom - y), "body", c.text) + m // 2
        for i, line in enumerate(r.get("lines", [])[:3]):
            if score is None and i == 0:  # no points: the first sentence is the news, at body size
                y = paragraph(surface, app, line, pygame.Rect(m, y, w - 2 * m, bottom - y), "body", c.text) + m // 2
                continue
            if y + app.text_px("small") > bottom:
                break
            y = paragraph(surface, app, line, pygame.Rect(m, y, w - 2 * m, bottom - y), "small", c.text)
        if self.error:
            first = self.buttons.buttons[0].rect
            paragraph(surface, app, self.error, pygame.Rect(m, first.top, first.left - 2 * m, first.height), "small", c.warn)
        self.buttons.draw(surface, app)

    def _compare(self, surface, score: float, y: int) -> int:
        """Last time, in words, with an arrow shape as well as the colour; returns the next y."""
        app, c, r = self.app, self.app.theme.colors, self.result
        m = margin(app)
        cmp = r.get("compare")
        prev = r.get("previous_score")
        if cmp is None and prev is not None:  # no words from the drill: the score decides
            diff = score - prev
            cmp = ({"text": "About the same as last time.", "direction": 0} if abs(diff) < 1 else
                   {"text": f"Up {diff:.0f} points from last time. Better!", "direction": 1} if diff > 0 else
                   {"text": f"Down {-diff:.0f} points from last time.", "direction": -1})
        if cmp is None:
            blit_text(surface, app.fonts, "Your first time: this is your starting point.", app.text_px("small"), c.muted, (m, y))
            return y + int(app.text_px("small") * 1.5)
        direction = cmp.get("direction", 0)
        color = c.good if direction > 0 else c.warn if direction < 0 else c.text
        body = app.text_px("body")
        x = m
        if direction:
            ax, ay, d = m + app.mm(3), y + body // 2, app.mm(3) * (1 if direction > 0 else -1)
            pygame.draw.polygon(surface, color, [(ax - app.mm(3), ay + d // 2), (ax + app.mm(3), ay + d // 2), (ax, ay - d)])
            x = m + app.mm(8)
        blit_text(surface, app.fonts, cmp["text"], body, color, (x, y))
        return y + int(body * 1.4)


def stars_for(score: float | None) -> int:
    """0-5 stars for a 0-100 score, one per 20 points rounded (as gaitkiosk.resultwords.stars)."""
    if score is None:
        return 0
    return int(max(0, min(5, (score + 10) // 20)))
