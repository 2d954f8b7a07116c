"""The Patients room: the list (search by code, scroll, deactivated on request) and adding a patient.

The worker sends every patient once (``staff_patients``: id, code, name, deactivated, since);
searching and scrolling happen here without asking it again: a code typed on the digit pad keeps
the patients whose code starts with it. The list draws only the rows in view and keeps each row's
picture (ui/scroll.py), so 5,000 patients scroll at the display's frame rate
(``bench/bench_staff_lists.py``). Tapping a row opens the patient's page (``staff_patient``).

Adding a patient (``staff_patient_new``): the code (a free one the worker picked, or typed on the
digit pad), an optional name and note typed on the on-screen keyboard (ui/keyboard.py); Save asks
the worker (``patient_add``: the checks of ``gaitkiosk patients add``, audited with the user).
"""

from __future__ import annotations

import pygame

from ui.keyboard import Keyboard
from ui.screens.common import margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.scroll import Row, ScrollList
from ui.text import blit_text
from ui.widgets import Button, ButtonSet, Keypad


class DigitPad(Keypad):
    """The check-in keypad for searching and typing codes: OK (close the pad) works with no digits too."""

    def handle(self, event, size) -> str | None:
        hit = self.buttons.handle(event, size)
        if hit == "key:ok":
            return "ok"
        if hit == "key:del":
            self.code = self.code[:-1]
        elif hit is not None and len(self.code) < self.max_len:
            self.code += hit.split(":", 1)[1]
        return None

    def update_enabled(self) -> None:
        self.buttons.get("key:del").enabled = bool(self.code)


def ellipsize(app, text: str, size: int, width: int) -> str:
    """``text`` cut at the end with "..." to fit ``width`` pixels at ``size`` (a name in a row)."""
    font = app.fonts.font(size)
    if font.size(text)[0] <= width:
        return text
    while text and font.size(text.rstrip() + "...")[0] > width:
        text = text[:-1]
    return text.rstrip() + "..."


def hint(surface, app, text: str, left: int, top: int, width: int, color=None) -> int:
    """A line (or two) of small text over a list; returns the y under it."""
    from ui.screens.common import paragraph

    return paragraph(surface, app, text, pygame.Rect(left, top, width, 2 * int(app.text_px("small") * 1.25) + 4),
                     "small", color or app.theme.colors.muted)


def hint_height(app, text: str, width: int) -> int:
    small = app.text_px("small")
    return len(app.fonts.wrap(text, small, width)[:2]) * int(small * 1.25) + app.mm(1)


def below_header(app) -> int:
    """The y under a staff screen's title and subtitle (ui/screens/common.py ``header``) and its bar buttons."""
    m = margin(app)
    text = m + app.fonts.font(app.text_px("title")).get_linesize() + m // 2 + \
        app.fonts.font(app.text_px("small")).get_linesize() + m // 2
    return max(text, app.target_px + app.mm(2) + m // 2)


def side_buttons(app, right: int, top: int, ids_labels: list[tuple[str, str, str]], width: int) -> ButtonSet:
    m = margin(app) // 2
    out = []
    for bid, label, style in ids_labels:
        out.append(Button(bid, label, pygame.Rect(right - width, top, width, app.target_px), style))
        top += app.target_px + m
    return ButtonSet(out)


def list_area(app, top: int, left: int, right: int, bottom: int) -> tuple[pygame.Rect, int]:
    """The rect of a scroll list holding whole rows only (a row: the smallest touch target high)."""
    row_h = app.target_px
    rows = max(1, (bottom - top) // row_h)
    return pygame.Rect(left, top, right - left, rows * row_h), row_h


def draw_row_frame(row: Row, app, selected: bool = False) -> None:
    c = app.theme.colors
    r = row.surface.get_rect()
    if selected:
        pygame.draw.rect(row.surface, c.panel, r.inflate(0, -4), border_radius=6)
        pygame.draw.rect(row.surface, c.accent, r.inflate(0, -4), width=3, border_radius=6)
    pygame.draw.line(row.surface, c.panel, (0, r.bottom - 1), (r.right, r.bottom - 1), 2)


@staff_screen("staff_patients")
class PatientsScreen(StaffScreen):
    name = "staff_patients"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.all = list(self.data.get("patients") or [])  # (id, code, name, archived, since)
        self.show_archived = bool(self.data.get("archived"))
        self.searching = False
        self.rows: list[tuple] = []

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        top = below_header(app)
        side_w = max(3 * app.target_px + 2 * max(6, app.target_px // 8), app.mm(60))  # "Delete" whole on its key
        self.side = pygame.Rect(w - m - side_w, top, side_w, h - top - m)
        self.pad = DigitPad(self.side, app.target_px, 8)
        self.side_set = side_buttons(app, self.side.right, top, [
            ("search", "Search by code", "normal"), ("add", "Add patient", "primary"),
            ("archived", "Show deactivated", "quiet")], side_w)
        pager_w = app.mm(20)
        pager_x = self.side.left - m - pager_w
        self.pager = ButtonSet([
            Button("up", "Up", pygame.Rect(pager_x, top, pager_w, app.target_px), "quiet"),
            Button("down", "Down", pygame.Rect(pager_x, h - m - app.target_px, pager_w, app.target_px), "quiet")])
        self.hint_top = top
        longest = "No patient's code starts with 12345678."  # the longest line over the list
        rect, row_h = list_area(app, top + hint_height(app, longest, pager_x - 2 * m), m, pager_x - m, h - m)
        self.list = ScrollList(rect, row_h, self.render_row, self.row_key, app.mm(3))
        self.refilter()

    def refilter(self) -> None:
        typed = self.pad.code
        self.rows = [p for p in self.all if (self.show_archived or not p[3]) and p[1].startswith(typed)]
        self.list.set_count(len(self.rows))
        self.side_set.get("archived").label = "Hide deactivated" if self.show_archived else "Show deactivated"

    def row_key(self, i: int):
        return self.rows[i][0]

    def render_row(self, i: int, size) -> Row:
        """Two lines: the code (and "deactivated"), then the name and since when."""
        app, c = self.app, self.app.theme.colors
        pid, code, name, archived, since = self.rows[i]
        row = Row(size)
        draw_row_frame(row, app)
        small = app.text_px("small")
        m = margin(app) // 2
        line = int(small * 1.25)
        y1 = (size[1] - 2 * line) // 2
        row.text(app.fonts, code, small, c.muted if archived else c.text, (m, y1))
        if archived:
            row.text(app.fonts, "deactivated", small, c.warn, (size[0] - m, y1), "topright")
        rr = row.text(app.fonts, since, small, c.muted, (size[0] - m, y1 + line), "topright")
        if name:
            row.text(app.fonts, ellipsize(app, name, small, rr.left - 3 * m), small, c.muted, (m, y1 + line))
        return row

    def handle_content(self, event) -> None:
        if self.searching:
            before = self.pad.code
            if self.pad.handle(event, self.app.size) == "ok":
                self.searching = False
            if self.pad.code != before:
                self.refilter()
        else:
            hit = self.side_set.handle(event, self.app.size)
            if hit == "search":
                self.searching = True
            elif hit == "add":
                self.ask(view("patient_new"))
            elif hit == "archived":
                self.show_archived = not self.show_archived
                self.refilter()
        page = self.pager.handle(event, self.app.size)
        if page:
            self.list.page(1 if page == "down" else -1)
        tapped = self.list.handle(event, self.app.size)
        if tapped is not None:
            self.ask(view("patient", patient=self.rows[tapped][0]))

    def update(self, dt: float) -> None:
        if not self.watch(dt):
            self.list.update(dt)

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        shown = len(self.rows)
        self.draw_top(surface, "Patients", f"{shown} patient{'s' if shown != 1 else ''}"
                      + (" (deactivated too)" if self.show_archived else ""))
        label = (f"Code starts with {self.pad.code}" if self.pad.code else
                 "Tap a patient to open their page.") if shown else (
            f"No patient's code starts with {self.pad.code}." if self.pad.code else "No patients yet: add one.")
        hint(surface, app, label, self.list.rect.left, self.hint_top, self.pager.get("up").rect.left - 2 * margin(app),
             c.warn if self.pad.code and not shown else c.muted)
        self.list.draw(surface)
        for b in self.pager.buttons:
            b.enabled = (b.id == "up" and self.list.offset > 0) or (b.id == "down" and self.list.offset < self.list.max_offset)
        self.pager.draw(surface, app)
        if self.searching:
            self.pad.draw(surface, app)
        else:
            self.side_set.draw(surface, app)
        self.draw_message(surface)


@staff_screen("staff_patient_new")
class NewPatientScreen(StaffScreen):
    """Code, name and note of a new patient; one field is typed at a time, on its own keys."""

    name = "staff_patient_new"
    back = ("patients", {})
    FIELDS = (("code", "Code"), ("name", "Name (optional)"), ("notes", "Note (optional)"))

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.values = {"code": str(self.data.get("code") or ""), "name": "", "notes": ""}
        self.editing: str | None = None

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        top = below_header(app)
        self.fields = ButtonSet([
            Button(f"field:{fid}", "", pygame.Rect(m, top + k * (app.target_px + m // 2), w - 2 * m, app.target_px), "quiet")
            for k, (fid, _) in enumerate(self.FIELDS)])
        self.save = ButtonSet([Button("save", "Save", pygame.Rect(w - m - app.mm(42), h - m - app.target_px,
                                                                  app.mm(42), app.target_px), "primary")])
        rows = min(4 * app.target_px, h - top - app.target_px - m)
        self.keys_rect = pygame.Rect(0, h - rows, w, rows)
        self.edit_row = pygame.Rect(m, self.keys_rect.top - app.target_px - m // 2, w - 2 * m, app.target_px)
        pad_w = max(3 * app.target_px + 2 * max(6, app.target_px // 8), app.mm(60))
        self.pad_rect = pygame.Rect(w - m - pad_w, top, pad_w, h - top - m)
        self.keyboard = None
        self.pad = None

    def open(self, fid: str) -> None:
        self.editing = fid
        if fid == "code":
            self.pad = DigitPad(self.pad_rect, self.app.target_px, 8)
            self.pad.code = self.values["code"]
        else:
            self.keyboard = Keyboard(self.keys_rect, self.app.target_px, 60 if fid == "name" else 200, self.values[fid])

    def close(self) -> None:
        if self.editing == "code":
            self.values["code"] = self.pad.code
        elif self.editing:
            self.values[self.editing] = self.keyboard.text.strip()
        self.editing, self.keyboard, self.pad = None, None, None

    def handle_content(self, event) -> None:
        if self.editing == "code":
            if self.pad.handle(event, self.app.size) == "ok":
                self.close()
            return
        if self.editing:
            if self.keyboard.handle(event, self.app.size) == "done":
                self.close()
            return
        hit = self.fields.handle(event, self.app.size)
        if hit:
            self.message = None
            self.open(hit.split(":", 1)[1])
        elif self.save.handle(event, self.app.size) == "save":
            self.message = None
            self.ask(do("patient_add", **self.values))

    def refused(self, text: str) -> None:
        self.message = text

    def _field_text(self, surface, fid: str, label: str, rect: pygame.Rect, value: str, cursor: bool = False) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app) // 2
        small, body = app.text_px("small"), app.text_px("body")
        lr = blit_text(surface, app.fonts, label, small, c.muted, (rect.left + m, rect.centery), "midleft", room=rect)
        room = pygame.Rect(lr.right + 2 * m, rect.top, rect.right - lr.right - 3 * m, rect.height)
        shown = value + ("|" if cursor else "")
        if not value and not cursor:
            shown = {"code": "tap to type", "name": "none", "notes": "none"}[fid]
        size = body if app.fonts.font(body).size(shown)[0] <= room.width else small
        while app.fonts.font(size).size(shown)[0] > room.width and len(shown) > 4:
            shown = "..." + shown[4:]  # the end of a long note: where the typing is
        blit_text(surface, app.fonts, shown, size, c.text if value or cursor else c.muted,
                  (room.left, rect.centery), "midleft", room=room)

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        self.draw_top(surface, "New patient", "The code: 4 to 8 digits")
        if self.editing == "code":
            b = self.fields.get("field:code")
            rect = pygame.Rect(b.rect.left, b.rect.top, self.pad_rect.left - b.rect.left - margin(app), b.rect.height)
            pygame.draw.rect(surface, c.panel, rect, border_radius=8)
            pygame.draw.rect(surface, c.accent, rect, width=3, border_radius=8)
            self._field_text(surface, "code", "Code", rect, self.pad.code, True)
            self.pad.draw(surface, app)
            return
        if self.editing:
            pygame.draw.rect(surface, c.panel, self.edit_row, border_radius=8)
            pygame.draw.rect(surface, c.accent, self.edit_row, width=3, border_radius=8)
            label = dict(self.FIELDS)[self.editing]
            self._field_text(surface, self.editing, label, self.edit_row, self.keyboard.text, True)
            self.keyboard.draw(surface, app)
            return
        for (fid, label), b in zip(self.FIELDS, self.fields.buttons, strict=True):
            b.draw(surface, app)
            self._field_text(surface, fid, label, b.rect, self.values[fid])
        self.save.draw(surface, app)
        if self.message:  # beside Save: the fields stay in view
            save = self.save.get("save").rect
            room = pygame.Rect(margin(app), save.top, save.left - 2 * margin(app), save.height)
            from ui.screens.common import paragraph

            paragraph(surface, app, self.message, room, "small", c.warn)
