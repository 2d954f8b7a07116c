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

from ui.screens.common import button_row, margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.screens.staff_patients import draw_row_frame, list_area, side_buttons
from ui.scroll import Row, ScrollList
from ui.text import blit_text, fit_size
from ui.widgets import ButtonSet


def who(patient: dict) -> str:
    parts = [patient.get("name") or "", f"born {patient['birth_year']}" if patient.get("birth_year") else "",
             f"since {patient.get('since', '')}", "DEACTIVATED: cannot check in" if patient.get("archived") else ""]
    return ", ".join(p for p in parts if p)


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
            ("sheet", "Home sheet", "normal"),
            ("active", "Reactivate" if archived else "Deactivate", "primary" if archived else "warn")], width_mm=26))
        self.confirm = ButtonSet(button_row(app, [
            ("cancel", "Cancel", "quiet"), ("yes", "Reactivate" if archived else "Deactivate",
                                            "primary" if archived else "warn")], width_mm=34))

    def handle(self, event) -> None:
        if self.leaving:
            return
        self.touched()
        if self.handle_bar(event):
            return
        if self.confirming:
            hit = self.confirm.handle(event, self.app.size)
            if hit == "cancel":
                self.confirming = False
            elif hit == "yes":
                self.confirming = False
                self.ask(do("patient_set_active", patient=self.pid, active=bool(self.patient.get("archived"))))
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
        top = self.draw_top(surface, f"Patient {self.patient.get('code', '')}", who(self.patient))
        bottom = self.actions.buttons[0].rect.top - m // 2
        small = app.text_px("small")
        line = int(small * 1.3)
        left = pygame.Rect(m, top, (w - 3 * m) // 2, bottom - top)
        y = self._program(surface, left, small, line)
        visit = f"Last visit: {self.data.get('last_visit') or 'none yet.'}"
        vs = fit_size(app.fonts, visit, small, left.width, small - 4)
        if y + line <= left.bottom:
            blit_text(surface, app.fonts, visit, vs, c.text, (left.left, y + line // 3), room=left)
        right = pygame.Rect(left.right + m, top, w - left.right - 2 * m, bottom - top)
        self._sparklines(surface, right, small, line)
        if self.confirming:
            box = pygame.Rect(0, bottom - 2 * line, w, 2 * line + m // 2)
            pygame.draw.rect(surface, c.background, box.inflate(0, 2 * app.target_px))
            code = self.patient.get("code", "")
            text = (f"Reactivate {code}? Their code checks in again." if self.patient.get("archived")
                    else f"Deactivate {code}? Their code will not check in; their records stay.")
            blit_text(surface, app.fonts, text, fit_size(app.fonts, text, app.text_px("body"), w - 2 * m, small),
                      c.warn, (m, box.centery), "midleft", room=pygame.Rect(m, box.top, w - 2 * m, box.height))
            self.confirm.draw(surface, app)
        else:
            self.actions.draw(surface, app)
            self.draw_message(surface, bottom)

    def _program(self, surface, rect, small, line) -> int:
        app, c = self.app, self.app.theme.colors
        prog = self.data.get("program")
        y = rect.top
        if prog is None:
            blit_text(surface, app.fonts, "No program yet: tap Program.", small, c.warn, (rect.left, y), room=rect)
            return y + line
        head = f"Program: {prog['name']} (set {prog['set']})"
        blit_text(surface, app.fonts, head, fit_size(app.fonts, head, small, rect.width, small - 4), c.text,
                  (rect.left, y), room=rect)
        y += line
        items = prog.get("items") or []
        tiny = max(small - 4, app.text_px("small") * 3 // 4)
        for k, (title, words) in enumerate(items):
            if y + 2 * line + line > rect.bottom:  # keep a line for the last visit
                more = f"and {len(items) - k} more (tap Program)"
                blit_text(surface, app.fonts, more, tiny, c.muted, (rect.left, y), room=rect)
                return y + line
            t = f"{k + 1}. {title}"
            blit_text(surface, app.fonts, t, fit_size(app.fonts, t, small, rect.width, tiny), c.text, (rect.left, y),
                      room=rect)
            y += int(small * 1.15)
            wtext = words
            while app.fonts.font(tiny).size(wtext)[0] > rect.width - app.mm(3) and len(wtext) > 4:
                wtext = wtext[:wtext.rfind(",")] + "..." if "," in wtext[:-3] else wtext[:-4] + "..."
            blit_text(surface, app.fonts, wtext, tiny, c.muted, (rect.left + app.mm(3), y), room=rect)
            y += int(tiny * 1.3)
        return y

    def _sparklines(self, surface, rect, small, line) -> None:
        app, c = self.app, self.app.theme.colors
        sparks = self.data.get("sparklines") or []
        if not sparks:
            blit_text(surface, app.fonts, "No results yet.", small, c.muted, rect.topleft, room=rect)
            return
        tiny = max(small - 4, small * 3 // 4)
        each = max(line + app.mm(8), min(rect.height // len(sparks), 2 * line + app.mm(10)))
        y = rect.top
        self.spark_points = {}
        for k, s in enumerate(sparks):
            if y + each > rect.bottom:
                more = f"and {len(sparks) - k} more in Trends"
                blit_text(surface, app.fonts, more, tiny, c.muted, (rect.left, y), room=rect)
                break
            last = number(s["values"][-1], s["unit"])
            label = s["label"].removeprefix("Score, ")
            lw = app.fonts.font(tiny).size(last)[0]
            blit_text(surface, app.fonts, label, fit_size(app.fonts, label, tiny, rect.width - lw - app.mm(3), tiny - 4),
                      c.text, (rect.left, y), room=rect)
            blit_text(surface, app.fonts, last, tiny, c.accent, (rect.right, y), "topright", room=rect)
            plot = pygame.Rect(rect.left + app.mm(2), y + int(tiny * 1.3) + app.mm(1.5), rect.width - app.mm(4),
                               each - int(tiny * 1.3) - app.mm(4))
            self.spark_points[s["key"]] = sparkline(surface, app, plot, s["values"], s["footings"])
            y += each


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
        top = app.target_px + 2 * app.mm(2) + m
        side_w = min(app.mm(44), w // 3)
        self.side = side_buttons(app, w - m, top, [("compare", "Side by side", "primary"), ("up", "Up", "quiet"),
                                                    ("down", "Down", "quiet")], side_w)
        rect, row_h = list_area(app, top + app.text_px("small") + m, m, w - 2 * m - side_w, h - m)
        self.list = ScrollList(rect, row_h, self.render_row, self.row_key, app.mm(3))
        self.list.set_count(len(self.items))

    def row_key(self, i: int):
        kind, item = self.items[i]
        return (item["id"], item["id"] in self.picked)

    def render_row(self, i: int, size) -> Row:
        app, c = self.app, self.app.theme.colors
        kind, item = self.items[i]
        row = Row(size)
        m = margin(app) // 2
        small = app.text_px("small")
        mid = size[1] // 2
        if kind == "session":
            picked = item["id"] in self.picked
            draw_row_frame(row, app, picked)
            n = len(item["trials"])
            r = row.text(app.fonts, when(item["started_at"]), small, c.text, (m, mid), "midleft")
            tail = f"{item['status']}, {n} exercise{'s' if n != 1 else ''}" + (", picked" if picked else "")
            row.text(app.fonts, tail, small, c.accent if picked else c.muted, (r.right + 2 * m, mid), "midleft")
        else:
            draw_row_frame(row, app)
            score = item.get("score")
            right = (f"{score:.0f} points" if isinstance(score, int | float) else "no score") + f", {item['status']}"
            rr = row.text(app.fonts, right, small, c.muted, (size[0] - m, mid), "midright")
            title = item["title"]
            ts = fit_size(app.fonts, title, small, rr.left - 5 * m, small - 6)
            row.text(app.fonts, title, ts, c.text, (4 * m, mid), "midleft")
        return row

    def handle(self, event) -> None:
        if self.leaving:
            return
        self.touched()
        if self.handle_bar(event):
            return
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
        app, c = self.app, self.app.theme.colors
        n = sum(1 for k, _ in self.items if k == "session")
        self.draw_top(surface, f"Sessions of {self.patient.get('code', '')}", f"{n} visit{'s' if n != 1 else ''}")
        small = app.text_px("small")
        hint = "Tap an exercise to review it; tap two visits to compare them." if n else "No visits yet."
        room = pygame.Rect(self.list.rect.left, self.list.rect.top - small - margin(app) // 2, self.list.rect.width,
                           small + 4)
        blit_text(surface, app.fonts, hint, fit_size(app.fonts, hint, small, room.width, small - 6), c.muted,
                  room.topleft, room=room)
        self.list.draw(surface)
        self.side.get("compare").enabled = len(self.picked) == 2
        self.side.get("up").enabled = self.list.offset > 0
        self.side.get("down").enabled = self.list.offset < self.list.max_offset
        self.side.draw(surface, app)
        self.draw_message(surface)


__all__ = ["PatientScreen", "SessionsScreen"]
