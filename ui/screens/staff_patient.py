"""One patient's page (``staff_patient``) and their sessions (``staff_sessions``).

The page: the active program (drills in order, parameters in words), the last visit in words,
sparklines of each drill's score and the eyes-open sway area over the last visits, and the way to
the patient's other rooms: Program (``program``), Sessions (here), Trends (ui/screens/staff_trends.py),
Home sheet (``sheet``), and Deactivate / Reactivate after a confirmation.

Sparklines are drawn directly in pygame, not by matplotlib: a dozen points joined by lines cost
well under a millisecond a frame (``bench/bench_staff_lists.py`` measures the page's frame), show
with the page instead of after the plot renderer's turn, and need no axes. Points whose numbers
rest on uncalibrated sensors are drawn hollow (docs/metrics.md section 10).

Sessions: newest first, each with its exercises. Tap an exercise to review it (``review``); tap
two visits to put them side by side (``compare``).
"""

from __future__ import annotations

import pygame

from ui.screens.common import button_row, margin, paragraph
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.screens.staff_patients import (
    below_header,
    draw_row_frame,
    ellipsize,
    hint,
    hint_height,
    list_area,
    side_buttons,
)
from ui.scroll import Row, ScrollList
from ui.text import blit_text
from ui.widgets import Button, ButtonSet


def who(patient: dict) -> str:
    parts = ["DEACTIVATED" if patient.get("archived") else "", patient.get("name") or "",
             f"born {patient['birth_year']}" if patient.get("birth_year") else ""]
    return ", ".join(p for p in parts if p) or f"since {patient.get('since', '')}"


def draw_title(screen, surface, title: str, subtitle: str) -> int:
    """The title bar with the subtitle cut to the room left of Back and Log out; the y under it."""
    app = screen.app
    room = min(b.rect.left for b in screen.bar.buttons) - 2 * margin(app)
    return screen.draw_top(surface, title, ellipsize(app, subtitle, app.text_px("small"), room))


def number(value: float, unit: str) -> str:
    text = f"{value:.0f}" if abs(value) >= 100 or unit in ("points", "%", "steps/min") else f"{value:.2g}" \
        if abs(value) < 1 else f"{value:.1f}"
    return f"{text} {unit}".strip() if unit != "points" else text


def sparkline(surface, app, rect: pygame.Rect, values: list[float], footings: list[str]) -> list[tuple[int, int]]:
    """The values as a line across ``rect`` (lowest at the bottom); returns the points' pixels."""
    c = app.theme.colors
    if not values:
        return []
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    n = len(values)
    pts = [(rect.left + (rect.width * k // max(1, n - 1) if n > 1 else rect.width // 2),
            rect.bottom - int(round((v - lo) / span * rect.height)) if hi > lo else rect.centery)
           for k, v in enumerate(values)]
    if n > 1:
        pygame.draw.lines(surface, c.accent, False, pts, 2)
    r = max(3, app.mm(0.8))
    for (x, y), f in zip(pts, footings, strict=True):
        pygame.draw.circle(surface, c.accent, (x, y), r, 0 if f == "calibrated" else 2)
    return pts


@staff_screen("staff_patient")
class PatientScreen(StaffScreen):
    name = "staff_patient"
    back = ("patients", {})

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = self.data.get("patient") or {}
        self.confirming = False

    @property
    def pid(self) -> str:
        return self.patient.get("id", "")

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        archived = self.patient.get("archived")
        self.actions = ButtonSet(button_row(app, [
            ("program", "Program", "normal"), ("sessions", "Sessions", "normal"), ("trends", "Trends", "normal"),
            ("active", "Reactivate" if archived else "Deactivate", "primary" if archived else "warn")],
            width_mm=min(34.0, (app.size[0] - 5 * margin(app)) / 4 / app.metrics.px_per_mm)))
        # The home-exercise sheet (a PDF of the program, gaitkiosk/home_sheet.py): under the program, for an
        # active patient who has one.
        m = margin(app)
        sheet = pygame.Rect(m, 0, (app.size[0] - 3 * m) // 2, app.target_px)
        sheet.bottom = self.actions.buttons[0].rect.top - m // 2
        self.sheet = ButtonSet([Button("sheet", "Home sheet PDF", sheet, "quiet")]
                               if self.data.get("program") and not archived else [])
        self.confirm = ButtonSet(button_row(app, [
            ("cancel", "Cancel", "quiet"), ("yes", "Reactivate" if archived else "Deactivate",
                                            "primary" if archived else "warn")], width_mm=34))

    def handle_content(self, event) -> None:
        if self.confirming:
            hit = self.confirm.handle(event, self.app.size)
            if hit == "cancel":
                self.confirming = False
            elif hit == "yes":
                self.confirming = False
                self.ask(do("patient_set_active", patient=self.pid, active=bool(self.patient.get("archived"))))
            return
        if self.sheet.handle(event, self.app.size) == "sheet":
            self.ask(view("save", what="sheet", id=self.pid, back=["patient", {"patient": self.pid}]))
            return
        hit = self.actions.handle(event, self.app.size)
        if hit == "active":
            self.confirming = True
        elif hit:
            self.ask(view(hit, patient=self.pid))

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        w, _ = app.size
        top = draw_title(self, surface, f"Patient {self.patient.get('code', '')}", who(self.patient))
        bottom = self.actions.buttons[0].rect.top - m // 2
        small = app.text_px("small")
        line = int(small * 1.25)
        if self.confirming:  # the question above its buttons, the page shorter
            code = self.patient.get("code", "")
            text = (f"Reactivate {code}? Their code checks in again." if self.patient.get("archived")
                    else f"Deactivate {code}? Their code will not check in; their records stay.")
            lines = len(app.fonts.wrap(text, small, w - 2 * m))
            bottom -= lines * line + m // 2
            paragraph(surface, app, text, pygame.Rect(m, bottom + m // 2, w - 2 * m, lines * line + 2), "small", c.warn)
            self.confirm.draw(surface, app)
        else:
            self.actions.draw(surface, app)
        if self.sheet.buttons and not self.confirming:
            self.sheet.draw(surface, app)
            left = pygame.Rect(m, top, (w - 3 * m) // 2, self.sheet.buttons[0].rect.top - m // 2 - top)
        else:
            left = pygame.Rect(m, top, (w - 3 * m) // 2, bottom - top)
        visit = f"Last visit: {self.data.get('last_visit') or 'none yet.'}"
        visit_h = min(3, len(app.fonts.wrap(visit, small, left.width))) * line
        self._program(surface, pygame.Rect(left.left, left.top, left.width, left.height - visit_h - m // 2), small, line)
        paragraph(surface, app, visit, pygame.Rect(left.left, left.bottom - visit_h, left.width, visit_h + 2), "small")
        right = pygame.Rect(left.right + m, top, w - left.right - 2 * m, bottom - top)
        self._sparklines(surface, right, small, line)
        if not self.confirming:
            self.draw_message(surface, self.actions.buttons[0].rect.top - m // 2)

    def _program(self, surface, rect, small, line) -> None:
        app, c = self.app, self.app.theme.colors
        prog = self.data.get("program")
        if prog is None:
            paragraph(surface, app, "No program yet: tap Program.", rect, "small", c.warn)
            return
        y = rect.top
        if rect.height < line:
            return
        head = f"Program: {prog['name']}, set {prog['set']}"
        blit_text(surface, app.fonts, ellipsize(app, head, small, rect.width), small, c.text, (rect.left, y), room=rect)
        y += line
        items = prog.get("items") or []
        indent = app.mm(4)
        wrapped = [app.fonts.wrap(words, small, rect.width - indent) for _, words in items]
        if (1 + len(items) + sum(len(w) for w in wrapped)) * line <= rect.height:  # room: every setting in full
            for k, ((title, _), lines) in enumerate(zip(items, wrapped, strict=True)):
                blit_text(surface, app.fonts, ellipsize(app, f"{k + 1}. {title}", small, rect.width), small, c.text,
                          (rect.left, y), room=rect)
                y += line
                for text in lines:
                    blit_text(surface, app.fonts, text, small, c.muted, (rect.left + indent, y), room=rect)
                    y += line
            return
        for k, (title, words) in enumerate(items):
            if y + line > rect.bottom:
                return
            if y + 2 * line > rect.bottom and k < len(items) - 1:
                more = f"and {len(items) - k} more: tap Program"
                blit_text(surface, app.fonts, ellipsize(app, more, small, rect.width), small, c.muted, (rect.left, y),
                          room=rect)
                return
            text = ellipsize(app, f"{k + 1}. {title}: {words}", small, rect.width)
            blit_text(surface, app.fonts, text, small, c.muted, (rect.left, y), room=rect)
            y += line

    def _sparklines(self, surface, rect, small, line) -> None:
        app, c = self.app, self.app.theme.colors
        sparks = self.data.get("sparklines") or []
        self.spark_points = {}
        if not sparks:
            paragraph(surface, app, "No results yet.", rect, "small", c.muted)
            return
        each = line + max(app.mm(5), min(app.mm(12), rect.height // len(sparks) - line))
        fit = len(sparks) if len(sparks) * each <= rect.height else max(1, (rect.height - line) // each)
        y = rect.top
        for s in sparks[:fit]:
            last = number(s["values"][-1], s["unit"])
            lw = app.fonts.font(small).size(last)[0]
            label = ellipsize(app, s["label"].removeprefix("Score, "), small, rect.width - lw - app.mm(3))
            blit_text(surface, app.fonts, label, small, c.text, (rect.left, y), room=rect)
            blit_text(surface, app.fonts, last, small, c.accent, (rect.right, y), "topright", room=rect)
            plot = pygame.Rect(rect.left + app.mm(1.5), y + line + app.mm(1), rect.width - app.mm(3), each - line - app.mm(2.5))
            self.spark_points[s["key"]] = sparkline(surface, app, plot, s["values"], s["footings"])
            y += each
        if fit < len(sparks):
            more = f"and {len(sparks) - fit} more in Trends"
            blit_text(surface, app.fonts, ellipsize(app, more, small, rect.width), small, c.muted, (rect.left, y),
                      room=rect)


def when(iso: str) -> str:
    return iso[:16].replace("T", " ") if iso else ""


@staff_screen("staff_sessions")
class SessionsScreen(StaffScreen):
    name = "staff_sessions"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = self.data.get("patient") or {}
        self.back = ("patient", {"patient": self.patient.get("id", "")})
        self.items: list[tuple] = []  # ("session", session dict) or ("trial", trial dict)
        for s in self.data.get("sessions") or []:
            self.items.append(("session", s))
            self.items += [("trial", t) for t in s["trials"]]
        self.picked: list[str] = []  # session ids (two: Side by side)

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        top = below_header(app)
        side_w = min(app.mm(44), w // 3)
        self.side = side_buttons(app, w - m, top, [("compare", "Side by side", "primary"), ("up", "Up", "quiet"),
                                                    ("down", "Down", "quiet")], side_w)
        self.hint_top = top
        self.hint = "Tap an exercise to review it, or two visits to compare them." if self.items else "No visits yet."
        rect, row_h = list_area(app, top + hint_height(app, self.hint, w - 3 * m - side_w), m, w - 2 * m - side_w, h - m)
        self.list = ScrollList(rect, row_h, self.render_row, self.row_key, app.mm(3))
        self.list.set_count(len(self.items))

    def row_key(self, i: int):
        kind, item = self.items[i]
        return (item["id"], item["id"] in self.picked)

    def render_row(self, i: int, size) -> Row:
        """A visit: its date and time, then its state; an exercise (indented): its name, then score and state."""
        app, c = self.app, self.app.theme.colors
        kind, item = self.items[i]
        row = Row(size)
        m = margin(app) // 2
        small = app.text_px("small")
        line = int(small * 1.25)
        y1 = (size[1] - 2 * line) // 2
        if kind == "session":
            picked = item["id"] in self.picked
            draw_row_frame(row, app, picked)
            n = len(item["trials"])
            row.text(app.fonts, when(item["started_at"]), small, c.text, (m, y1))
            if picked:
                row.text(app.fonts, "picked", small, c.accent, (size[0] - m, y1), "topright")
            row.text(app.fonts, f"{item['status']}, {n} exercise{'s' if n != 1 else ''}", small, c.muted, (m, y1 + line))
        else:
            draw_row_frame(row, app)
            x = 4 * m
            score = item.get("score")
            row.text(app.fonts, ellipsize(app, item["title"], small, size[0] - x - m), small, c.text, (x, y1))
            tail = (f"{score:.0f} points" if isinstance(score, int | float) else "no score") + f", {item['status']}"
            row.text(app.fonts, ellipsize(app, tail, small, size[0] - x - m), small, c.muted, (x, y1 + line))
        return row

    def handle_content(self, event) -> None:
        hit = self.side.handle(event, self.app.size)
        if hit in ("up", "down"):
            self.list.page(1 if hit == "down" else -1)
        elif hit == "compare" and len(self.picked) == 2:
            self.ask(view("compare", patient=self.patient.get("id", ""), a=self.picked[0], b=self.picked[1]))
        tapped = self.list.handle(event, self.app.size)
        if tapped is None:
            return
        kind, item = self.items[tapped]
        if kind == "trial":
            self.ask(view("review", trial=item["id"]))
        elif item["id"] in self.picked:
            self.picked.remove(item["id"])
        else:
            self.picked = [*self.picked[-1:], item["id"]]

    def update(self, dt: float) -> None:
        if not self.watch(dt):
            self.list.update(dt)

    def draw(self, surface) -> None:
        app = self.app
        n = sum(1 for k, _ in self.items if k == "session")
        self.draw_top(surface, f"Sessions of {self.patient.get('code', '')}", f"{n} visit{'s' if n != 1 else ''}")
        hint(surface, app, self.hint, self.list.rect.left, self.hint_top, self.list.rect.width)
        self.list.draw(surface)
        self.side.get("compare").enabled = len(self.picked) == 2
        self.side.get("up").enabled = self.list.offset > 0
        self.side.get("down").enabled = self.list.offset < self.list.max_offset
        self.side.draw(surface, app)
        self.draw_message(surface)


__all__ = ["PatientScreen", "SessionsScreen"]
