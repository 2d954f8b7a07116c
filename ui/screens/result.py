"""The result of one exercise, compared with last time, in plain words."""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.screens.common import button_row, header, margin
from ui.text import blit_paragraph, blit_text, paragraph_height
from ui.widgets import ButtonSet, draw_stars


class ResultScreen(Screen):
    """``result``: {index, count, title, status, score, stars, previous_score, compare, first, new_start,
    headline, lines, last}, as ``gaitkiosk.resultwords.screen_result`` makes it.

    ``compare`` is {text, direction} (+1 better, 0 same, -1 worse) in the patient's words; without
    it the change of score is shown when ``previous_score`` is given (the runtime gives both only
    like for like, never for a stopped run). ``first``: there is no last time; ``new_start``: last
    time was another level (``new_start_why`` "calibration": the sensors were recalibrated since). ``lines`` are plain sentences (no units, no measure names), all shown:
    they shrink from the body size toward the small one to fit.
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
        m = margin(app)
        w = app.size[0]
        stopped = r.get("status") != "complete"
        score = r.get("score")
        title = r.get("headline") or ("Stopped early" if stopped else "Good practice!" if score is None else "Well done!")
        y = header(surface, app, title, r.get("title"), beside=True)
        bottom = self.buttons.buttons[0].rect.top - m
        if self.error:  # the next step could not start: that is the news now, in place of the sentences
            lines = [(self.error, c.warn)]
        else:
            lines = [(line, c.text) for line in r.get("lines") or []]
        if score is None and not lines:  # the drill's own words say why there are no points, when it has them
            lines = [("There was not enough of the exercise this time to give points.", c.text)]
        if score is not None:
            # The big number where the sentences still fit under it at the smallest size, else a smaller one.
            big = app.text_px("number")
            under = self._height([t for t, _ in lines], app.text_px("small"), w - 2 * m, m // 3) \
                + (int(app.text_px("body") * 1.4) if not stopped else 0)  # the line about last time
            if y + app.fonts.font(big).get_height() + m // 2 + under > bottom:
                big = app.text_px("title")
            sr = blit_text(surface, app.fonts, f"{score:.0f}", big, c.accent, (m, y))
            # Stars as well as the number: a score at a glance, for those who do not read numbers easily.
            star = min(app.mm(9), sr.height - app.text_px("small"))
            count = r.get("stars", stars_for(score))
            st = draw_stars(surface, app, (sr.right + m, sr.top + max(0, (sr.height - star - app.text_px("small")) // 2)),
                            star, count)
            blit_text(surface, app.fonts, "points out of 100", app.text_px("small"), c.muted, (st.left, st.bottom + 2))
            y = sr.bottom + m // 2
            if not stopped:  # a stopped run is never compared with last time (docs/drills.md)
                y = self._compare(surface, score, y)
        self._sentences(surface, lines, pygame.Rect(m, y, w - 2 * m, bottom - y))
        self.buttons.draw(surface, app)

    def _sentences(self, surface, lines: list[tuple[str, tuple]], rect: pygame.Rect) -> None:
        """Each sentence a paragraph of its own, all at one size: the body size if they fit, else smaller."""
        app = self.app
        gap = margin(app) // 3
        size, small = app.text_px("body"), app.text_px("small")
        while size > small and self._height([t for t, _ in lines], size, rect.width, gap) > rect.height:
            size -= 2
        size = max(size, small)
        y = rect.top
        for text, color in lines:
            box = pygame.Rect(rect.left, y, rect.width, max(0, rect.bottom - y))
            n = len(app.fonts.wrap(text, size, rect.width))
            blit_paragraph(surface, app.fonts, text, size, color, box)
            y += paragraph_height(n, size) + gap

    def _height(self, lines: list[str], size: int, width: int, gap: int) -> int:
        fonts = self.app.fonts
        return sum(paragraph_height(len(fonts.wrap(t, size, width)), size) + gap for t in lines) - gap

    def _compare_text(self, score: float) -> dict | None:
        """{text, direction} against last time: the drill's words, else the change of score, else None."""
        r = self.result
        cmp = r.get("compare")
        prev = r.get("previous_score")
        if cmp is None and prev is not None:  # no words from the drill: the score decides
            diff = score - prev
            cmp = ({"text": "About the same as last time.", "direction": 0} if abs(diff) < 1 else
                   {"text": f"Up {diff:.0f} points from last time. Better!", "direction": 1} if diff > 0 else
                   {"text": f"Down {-diff:.0f} points from last time.", "direction": -1})
        return cmp

    def _compare(self, surface, score: float, y: int) -> int:
        """Last time, in words, with an arrow shape as well as the colour; returns the next y."""
        app, c, r = self.app, self.app.theme.colors, self.result
        m = margin(app)
        w = app.size[0]
        cmp = self._compare_text(score)
        if cmp is None:
            if r.get("first", r.get("previous_score") is None):
                text = "Your first time: this is your starting point."
            elif r.get("new_start") and r.get("new_start_why") == "calibration":
                text = "The kiosk was recalibrated: this is your new starting point."
            elif r.get("new_start") and r.get("new_start_why") == "update":
                text = "Measured a new way now: this is your new starting point."
            elif r.get("new_start"):
                text = "A new level: this is your new starting point."
            else:
                return y
            small = app.text_px("small")
            blit_text(surface, app.fonts, text, small, c.muted, (m, y), room=pygame.Rect(m, y, w - 2 * m, 2 * small))
            return y + int(small * 1.5)
        direction = cmp.get("direction", 0)
        color = c.good if direction > 0 else c.warn if direction < 0 else c.text
        body = app.text_px("body")
        x = m
        if direction:
            ax, ay, d = m + app.mm(3), y + body // 2, app.mm(3) * (1 if direction > 0 else -1)
            pygame.draw.polygon(surface, color, [(ax - app.mm(3), ay + d // 2), (ax + app.mm(3), ay + d // 2), (ax, ay - d)])
            x = m + app.mm(8)
        blit_text(surface, app.fonts, cmp["text"], body, color, (x, y), room=pygame.Rect(x, y, w - m - x, 2 * body))
        return y + int(body * 1.4)


def stars_for(score: float | None) -> int:
    """0-5 stars for a 0-100 score, one per 20 points rounded (as gaitkiosk.resultwords.stars)."""
    if score is None:
        return 0
    return int(max(0, min(5, (score + 10) // 20)))
