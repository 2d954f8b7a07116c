"""Programs: a therapist edits one patient's prescription (the drills of a visit) on the touchscreen.

The screen holds the draft, a list of rows ``{"drill", "params", "repetitions",
"level", "source"}``, and knows no rule: after each change it asks the worker
(``program_check``, gaitkiosk/staff_rooms/programs.py) to check the draft with
the same code as ``gaitkiosk program set`` and to describe each row (parameters
in words, the level's range and what it means). The -/+ steppers stay inside
each parameter's range as the worker sent it; whatever arrives anyway is
refused there, in the CLI's words. Save (``program_save``) stores a new program
version; the next check-in plans from it.

Four modes on one screen, so that nothing typed is lost between them:
``list`` (the drills in order: up/down per row, tap a row to change it, Add
drill, Save, Cancel), ``edit`` (one drill: repeats, level, each parameter;
Remove drill, Done), ``add`` (the chooser of drills) and ``confirm`` (discard
the changes?). Back in the title bar leads to the patient's page from the list
(asking first when something changed) and to the list from the other modes.
"""

from __future__ import annotations

import math

import pygame

from ui.screens.common import margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet

EDITABLE = ("drill", "params", "repetitions", "level", "source")


def draft_of(rows: list[dict]) -> list[dict]:
    """The editable part of the rows: what check and save are sent."""
    return [{k: (dict(r[k]) if k == "params" else r.get(k)) for k in EDITABLE} for r in rows]


def one_line(fonts, text: str, size: int, width: int) -> str:
    """``text`` cut to one line of ``width`` with an ellipsis (the whole of it is on the drill's page)."""
    if fonts.font(size).size(text)[0] <= width:
        return text
    while text and fonts.font(size).size(text + "…")[0] > width:
        text = text[:-1]
    return text.rstrip(" ,·") + "…"


def stepped(value: float, step: float, sign: int, low, high):
    """The next value on the step grid above (sign 1) or below (-1) ``value``, kept inside [low, high]."""
    k = value / step
    k = math.floor(k + 1e-9) + 1 if sign > 0 else math.ceil(k - 1e-9) - 1
    out = round(k * step, 6)
    if low is not None:
        out = max(out, low)
    if high is not None:
        out = min(out, high)
    return out


def number_words(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@staff_screen("staff_program")
class ProgramEditScreen(StaffScreen):
    name = "staff_program"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = dict(self.data.get("patient") or {})
        self.back = ("patient", {"patient": self.patient.get("id")})
        self.schemas = {d["name"]: d for d in self.data.get("drills") or []}
        self.rows = [dict(r) for r in self.data.get("rows") or []]
        self.saved = draft_of(self.rows)
        # Why each saved drill is at its level today ("harder: 3 sessions scored 80 or more"): shown while
        # the level is the one the plan found.
        self.notes = {r["source"]: (r.get("level"), r["note"]) for r in self.rows if r.get("source") and r.get("note")}
        self.repetitions = tuple(self.data.get("repetitions") or (1, 10))
        self.program = self.data.get("program")
        self.note = self.data.get("note") or ""
        self.mode = "list"
        self.editing = 0
        self.page = 0

    # -- the draft ------------------------------------------------------------------------------------
    @property
    def changed(self) -> bool:
        return draft_of(self.rows) != self.saved

    def _check(self) -> None:
        """The draft changed: the worker checks it and describes the rows again."""
        self.message = None
        self.ask(do("program_check", patient=self.patient.get("id"), rows=draft_of(self.rows)))

    def on_message(self, msg) -> bool:
        if msg.kind == "staff_program_checked":
            self.busy = False
            self.rows = [dict(r) for r in msg.get("rows") or []]
            self._build()
            return True
        return super().on_message(msg)

    def refused(self, text: str) -> None:
        super().refused(text)
        self._build()

    # -- layout ---------------------------------------------------------------------------------------
    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        title_h = app.fonts.font(app.text_px("title")).get_linesize()
        bar = max(b.rect.bottom for b in self.bar.buttons)
        self.top = max(bar, m + title_h) + m // 2
        self.status_top = self.top
        self.body_top = self.top + app.fonts.font(app.text_px("small")).get_linesize() + m // 2
        self.col_w = app.mm(36)
        self.list_right = size[0] - 2 * m - self.col_w
        self._build()

    def _column(self, buttons: list[tuple[str, str, str]]) -> ButtonSet:
        """Buttons stacked in the right-hand column, from the top of the body down."""
        app, m = self.app, margin(self.app)
        x = self.app.size[0] - m - self.col_w
        gap = m // 3
        return ButtonSet([Button(bid, label, pygame.Rect(x, self.status_top + i * (app.target_px + gap), self.col_w,
                                                         app.target_px), style)
                          for i, (bid, label, style) in enumerate(buttons)])

    def _rows_per_page(self, row_h: int) -> int:
        m = margin(self.app)
        return max(1, (self.app.size[1] - m - self.body_top + m // 3) // (row_h + m // 3))

    def _build(self) -> None:
        """The buttons of the current mode (after a mode, page or draft change)."""
        getattr(self, f"_build_{self.mode}")()

    def _build_list(self) -> None:
        app, m = self.app, margin(self.app)
        t = app.target_px
        small = app.text_px("small")
        self.row_h = max(t, app.fonts.font(app.text_px("body")).get_linesize() + app.fonts.font(small).get_linesize()
                         + m // 2)
        self.per_page = self._rows_per_page(self.row_h)
        self.pages = pages = max(1, -(-len(self.rows) // self.per_page))
        self.page = min(self.page, pages - 1)
        column = [("save", "Save", "primary"), ("add", "Add drill", "normal"), ("cancel", "Cancel", "quiet")]
        if pages > 1:
            column.append(("more", f"More {self.page + 1}/{pages}", "quiet"))
        self.buttons = self._column(column)
        self.buttons.get("save").enabled = self.changed and bool(self.rows)
        self.row_buttons = ButtonSet()
        self.panels = ButtonSet()
        first = self.page * self.per_page
        gap = m // 3
        for k, i in enumerate(range(first, min(first + self.per_page, len(self.rows)))):
            y = self.body_top + k * (self.row_h + gap)
            up = Button(f"up:{i}", "▲", pygame.Rect(m, y, t, self.row_h), "quiet")
            down = Button(f"down:{i}", "▼", pygame.Rect(m + t + gap, y, t, self.row_h), "quiet")
            up.enabled, down.enabled = i > 0, i < len(self.rows) - 1
            self.row_buttons.add(up)
            self.row_buttons.add(down)
            left = down.rect.right + gap
            self.panels.add(Button(f"row:{i}", "", pygame.Rect(left, y, self.list_right - left, self.row_h)))

    def _build_edit(self) -> None:
        app, m = self.app, margin(self.app)
        self.per_page = self._rows_per_page(app.target_px)
        settings = self.settings()
        self.pages = pages = max(1, -(-len(settings) // self.per_page))
        self.page = min(self.page, pages - 1)
        column = [("done", "Done", "primary"), ("remove", "Remove drill", "stop")]
        if pages > 1:
            column.append(("more", f"More {self.page + 1}/{pages}", "quiet"))
        self.buttons = self._column(column)
        self.controls = ButtonSet()
        self.shown = []  # (setting, row rect) on this page
        t, gap = app.target_px, m // 3
        first = self.page * self.per_page
        for k, s in enumerate(settings[first:first + self.per_page]):
            rect = pygame.Rect(m, self.body_top + k * (t + gap), self.list_right - m, t)
            right = rect.right
            for bid, label, selected, enabled in reversed(s["controls"]):
                w = max(t, app.fonts.font(app.text_px("small")).size(label)[0] + m) if len(s["controls"]) > 2 else t
                b = Button(f"{s['id']}:{bid}", label, pygame.Rect(right - w, rect.top, w, t),
                           "primary" if selected else "normal")
                b.enabled = enabled
                self.controls.add(b)
                right -= w + gap
            self.shown.append((s, pygame.Rect(rect.left, rect.top, right - rect.left, t)))

    def _build_add(self) -> None:
        """The drills as buttons: three across where every title fits, else two (and no line above them
        if that is what it takes to show them all)."""
        app, m = self.app, margin(self.app)
        self.pages = 1
        gap = m // 3
        font = app.fonts.font(app.text_px("small"))
        for cols in (3, 2, 1):
            w = (app.size[0] - 2 * m - (cols - 1) * gap) // cols
            if all(font.size(d["title"])[0] + 12 <= w for d in self.schemas.values()):
                break
        rows = -(-len(self.schemas) // cols)
        top = self.body_top
        if top + rows * (app.target_px + gap) > app.size[1] - m + gap:
            top = self.top
        self.add_top = top
        self.buttons = ButtonSet([
            Button(f"add:{d}", self.schemas[d]["title"], pygame.Rect(m + (k % cols) * (w + gap),
                                                                     top + (k // cols) * (app.target_px + gap),
                                                                     w, app.target_px))
            for k, d in enumerate(self.schemas)])

    def _build_confirm(self) -> None:
        app, m = self.app, margin(self.app)
        self.pages = 1
        w = app.mm(50)
        y = app.size[1] - m - app.target_px
        self.buttons = ButtonSet([
            Button("keep", "Keep editing", pygame.Rect(app.size[0] - 2 * m - 2 * w, y, w, app.target_px), "primary"),
            Button("discard", "Discard changes", pygame.Rect(app.size[0] - m - w, y, w, app.target_px), "stop")])

    # -- one drill's settings -------------------------------------------------------------------------
    def settings(self) -> list[dict]:
        """The rows of the drill page: repeats, level, then each parameter (label, value, range, controls)."""
        row = self.rows[self.editing]
        low, high = self.repetitions
        n = row["repetitions"]
        out = [{"id": "reps", "label": "Repeats", "value": f"{n} time{'s' if n != 1 else ''} in a visit",
                "range": f"{low} to {high} times", "controls": [("minus", "−", False, n > low), ("plus", "+", False, n < high)]}]
        top = row.get("level_max", 0)
        level = row.get("level", 0)
        out.append({"id": "level", "label": "Level", "value": f"{level} of {top}" if top else "none",
                    "range": row.get("level_words", ""),
                    "controls": [("minus", "−", False, level > 0), ("plus", "+", False, level < top)] if top else []})
        schema = self.schemas.get(row["drill"])
        for p in (schema or {}).get("params", []):
            value = row["params"].get(p["name"], p["default"])
            s = {"id": f"p:{p['name']}", "label": p["label"], "value": _value_words(p, value), "range": p["allowed"]}
            if p["type"] == "bool":
                s["controls"] = [(c, "on" if c == "true" else "off", value == (c == "true"), True) for c in ("true", "false")]
            elif p["choices"] and len(p["choices"]) <= 3 and self._buttons_fit(p["choices"]):
                s["controls"] = [(c, str(c).replace("_", " "), value == c, True) for c in p["choices"]]
                s["range"] = p["help"]
            elif p["choices"]:
                i = p["choices"].index(value) if value in p["choices"] else 0
                s["controls"] = [("minus", "◀", False, i > 0), ("plus", "▶", False, i < len(p["choices"]) - 1)]
                s["range"] = f"{i + 1} of {len(p['choices'])}: {p['help']}"
            else:
                s["controls"] = [("minus", "−", False, p["min"] is None or value > p["min"]),
                                 ("plus", "+", False, p["max"] is None or value < p["max"])]
            out.append(s)
        return out

    def _buttons_fit(self, choices) -> bool:
        """Whether a button per choice leaves 40 % of the row for the words (else: ◀ ▶ through them)."""
        app, m = self.app, margin(self.app)
        font = app.fonts.font(app.text_px("small"))
        need = sum(max(app.target_px, font.size(str(c).replace("_", " "))[0] + m) + m // 3 for c in choices)
        return need <= (self.list_right - m) * 0.6

    def _set(self, setting: str, control: str) -> None:
        row = self.rows[self.editing]
        sign = 1 if control == "plus" else -1
        if setting == "reps":
            low, high = self.repetitions
            row["repetitions"] = min(high, max(low, row["repetitions"] + sign))
        elif setting == "level":
            row["level"] = min(row.get("level_max", 0), max(0, row.get("level", 0) + sign))
        else:
            name = setting[2:]
            p = next(p for p in self.schemas[row["drill"]]["params"] if p["name"] == name)
            value = row["params"].get(name, p["default"])
            if p["type"] == "bool":
                row["params"][name] = control == "true"
            elif p["choices"] and control not in ("minus", "plus"):
                row["params"][name] = control
            elif p["choices"]:
                i = p["choices"].index(value) if value in p["choices"] else 0
                row["params"][name] = p["choices"][min(len(p["choices"]) - 1, max(0, i + sign))]
            else:
                new = stepped(value, p["step"], sign, p["min"], p["max"])
                row["params"][name] = int(new) if p["type"] == "int" else float(new)
        self._check()

    # -- input ----------------------------------------------------------------------------------------
    def handle(self, event) -> None:
        if self.leaving:
            return
        self.touched()
        hit = self.bar.handle(event, self.app.size)
        if hit == "logout":
            self.logout("button")
            return
        if hit == "back":
            self._back()
            return
        if self.busy:  # the worker has not answered the last change yet: the next one waits
            return
        if self.message:  # a refusal's band covers the bottom of the screen: a tap reads it away
            if event.type in (pygame.FINGERUP, pygame.MOUSEBUTTONUP):
                self.message = None
            return
        size = self.app.size
        hit = self.buttons.handle(event, size)
        if self.mode == "list":
            hit = hit or self.row_buttons.handle(event, size) or self.panels.handle(event, size)
        elif self.mode == "edit":
            hit = hit or self.controls.handle(event, size)
        if hit:
            self._tapped(hit)

    def _back(self) -> None:
        if self.mode == "list":
            self._leave()
        else:
            self._show("list")

    def _leave(self) -> None:
        if self.changed:
            self._show("confirm")
        else:
            self.app.post(view(self.back[0], **self.back[1]))

    def _show(self, mode: str, page: int = 0) -> None:
        self.mode, self.page = mode, page
        self._build()

    def _tapped(self, hit: str) -> None:
        what, _, arg = hit.partition(":")
        if hit == "more":
            self.page = (self.page + 1) % self.pages
            self._build()
        elif hit == "save":
            self.note = ""
            self.message = None
            self.ask(do("program_save", patient=self.patient.get("id"), rows=draft_of(self.rows)))
        elif hit == "add":
            self._show("add")
        elif hit == "cancel":
            self._leave()
        elif what == "add":
            schema = self.schemas[arg]
            self.rows.append({"drill": arg, "title": schema["title"], "repetitions": 1, "level": 0, "source": None,
                              "params": {p["name"]: p["default"] for p in schema["params"]}, "words": ""})
            self.editing = len(self.rows) - 1
            self._show("edit")
            self._check()
        elif what in ("up", "down"):
            i = int(arg)
            j = i - 1 if what == "up" else i + 1
            self.rows[i], self.rows[j] = self.rows[j], self.rows[i]
            self.page = j // self.per_page
            self._build()
            self._check()
        elif what == "row":
            self.editing = int(arg)
            self._show("edit")
        elif hit == "done":
            self._show("list")
            self.page = self.editing // self.per_page  # back where the drill is in the list
            self._build()
        elif hit == "remove":
            del self.rows[self.editing]
            self._show("list")
            self._check()
        elif hit == "keep":
            self._show("list")
        elif hit == "discard":
            self.app.post(view(self.back[0], **self.back[1]))
        elif self.mode == "edit":
            setting, _, control = hit.rpartition(":")
            self._set(setting, control)

    # -- drawing --------------------------------------------------------------------------------------
    def title(self) -> str:
        code = self.patient.get("code", "")
        if self.mode == "edit" and self.rows:
            return f"{self.rows[self.editing].get('title', '')} ({self.editing + 1} of {len(self.rows)})"
        if self.mode == "add":
            return "Add a drill"
        return f"Program of {code}"

    def status(self) -> tuple[str, bool]:
        """The line under the title and whether it is a warning."""
        if self.busy:
            return "Checking...", False
        if self.mode == "add":
            return "Tap the drill to add; it comes last, with its usual settings.", False
        if self.mode == "confirm":
            return "Your changes are not saved.", True
        if self.mode == "edit":
            row = self.rows[self.editing] if self.rows else {}
            level, note = self.notes.get(row.get("source"), (None, ""))
            if note and row.get("level") == level:
                return f"Level {level}: {note}.", False
            return "Starts at the next check-in once saved.", False
        if self.note:
            return self.note, False
        if self.changed:
            return "Changed, not saved yet.", True
        if not self.rows:
            return "No drills yet: add the first one.", False
        when = (self.program or {}).get("created_at", "")[:10]
        return f"As saved on {when}." if when else "", False

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        self.draw_top(surface, self.title())
        text, warn = self.status()
        small = app.text_px("small")
        room = pygame.Rect(m, self.status_top, (self.list_right if self.mode in ("list", "edit") else app.size[0] - m) - m,
                           self.body_top - self.status_top)
        if text and not (self.mode == "add" and self.add_top < self.body_top):
            blit_text(surface, app.fonts, one_line(app.fonts, text, small, room.width), small,
                      c.warn if warn else c.muted, room.topleft, room=room)
        getattr(self, f"_draw_{self.mode}")(surface)
        self.buttons.draw(surface, app)
        self.draw_message(surface)

    def _draw_list(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        body, small = app.text_px("body"), app.text_px("small")
        self.row_buttons.draw(surface, app)
        for b in self.panels.buttons:
            i = int(b.id.split(":")[1])
            row = self.rows[i]
            rect = b.rect.inflate(-4, -4) if b.pressed else b.rect
            pygame.draw.rect(surface, c.button, rect, border_radius=8)
            pygame.draw.rect(surface, c.stop if row.get("missing") else c.muted, rect, width=2, border_radius=8)
            inner = rect.inflate(-m, -m // 4)
            reps = row.get("repetitions", 1)
            head = f"{i + 1}. {row.get('title', row['drill'])}" + (f"  ×{reps}" if reps > 1 else "")
            size = max(small, fit_size(app.fonts, head, body, inner.width, small))
            r = blit_text(surface, app.fonts, one_line(app.fonts, head, size, inner.width), size, c.text,
                          inner.topleft, room=inner)
            if row.get("missing"):
                line = "Not on this kiosk: remove it. " + row.get("words", "")
            else:
                level = f"level {row['level']} · " if row.get("level") else ""
                line = level + row.get("words", "")
            blit_text(surface, app.fonts, one_line(app.fonts, line, small, inner.width), small,
                      c.warn if row.get("missing") else c.muted, (inner.left, r.bottom), room=inner)

    def _draw_edit(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        body, small = app.text_px("body"), app.text_px("small")
        self.controls.draw(surface, app)
        for s, rect in self.shown:
            inner = pygame.Rect(rect.left, rect.top, rect.width - m // 2, rect.height)
            head = f"{s['label']}: {s['value']}"
            size = max(small, fit_size(app.fonts, head, body, inner.width, small))
            r = blit_text(surface, app.fonts, one_line(app.fonts, head, size, inner.width), size, c.text,
                          inner.topleft, room=inner)
            if s["range"]:
                blit_text(surface, app.fonts, one_line(app.fonts, s["range"], small, inner.width), small, c.muted,
                          (inner.left, r.bottom), room=inner)

    def _draw_add(self, surface) -> None:
        pass

    def _draw_confirm(self, surface) -> None:
        from ui.screens.common import paragraph

        app, m = self.app, margin(self.app)
        room = pygame.Rect(m, self.body_top, app.size[0] - 2 * m, self.buttons.buttons[0].rect.top - self.body_top - m)
        paragraph(surface, app, "Discard the changes to this program? The patient keeps the program as it was saved.",
                  room)


def _value_words(p: dict, value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return f"{number_words(value)} {p['unit']}".strip()
    return str(value).replace("_", " ")
