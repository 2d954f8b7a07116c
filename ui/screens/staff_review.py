"""Session review (issue 11 item 4): one stored trial on the touchscreen, in four tabs.

- **Sway**: the COP path with the stored 95 % ellipse and its axes (``ui.review_plots.cop_plot``),
  the sway numbers beside it.
- **Pressure**: the peak or mean pressure image with a kPa colour bar and each step's gait line
  (matplotlib), the weight shares and the rear/mid/fore regions beside it.
- **Steps**: the per-step table of a walking drill (contact time, CPEI, strike index, loading
  rate, step length and width) or the insole drill's cadence, contact times and symmetry.
- **Replay**: the recorded frames drawn as the live screen drew them (``ui.heatmap.MatView`` /
  ``InsoleView`` with the COP dot and trail) at 1x or 4x, with play/pause and a position bar.

Every number is a row the therapist can tap: its definition (docs/metrics.md, carried in the
row by the worker: gaitkiosk/review_words.py), the sensor it comes from and that sensor's
calibration state open over the screen; a tap closes it.

The worker's ``staff_review`` message carries the stored report's rows, the mat's raw counts with
their conversion and the COP path (gaitkiosk/staff_rooms/review.py). Plots are drawn by
``ui.plots`` off the UI thread: :meth:`update` asks for the visible tab's plot each frame and
shows "Drawing..." until it is there; the pressure images and gait lines are computed inside
their plot function, on the renderer thread, only when their tab is opened. Back goes to the
patient's page (view ``patient``).
"""

from __future__ import annotations

import time

import numpy as np
import pygame

from ui.heatmap import InsoleView, MatView
from ui.plots import plots_of
from ui.screens.common import margin
from ui.screens.definition import draw_definition
from ui.screens.staff import StaffScreen, staff_screen, view
from ui.text import blit_paragraph, blit_text, paragraph_height
from ui.widgets import DOWN, UP, Button, ButtonSet, pointer

TABS = (("sway", "Sway"), ("pressure", "Pressure"), ("steps", "Steps"), ("replay", "Replay"))
SPEEDS = (1, 4)
TRAIL_S = 1.0  # the replay's COP trail: the last second, as the live screen's


def _rgb(color) -> tuple:
    return tuple(v / 255.0 for v in color[:3])


@staff_screen("staff_review")
class ReviewScreen(StaffScreen):
    name = "staff_review"
    bar_extra = (("pdf", "Save PDF"),)  # the session's one-page report

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        d = self.data
        self.trial = d.get("trial") or {}
        self.report = d.get("report")
        self.mat = d.get("mat")
        self.insoles = d.get("insoles")
        patient = (d.get("patient") or {}).get("id")
        self.back = ("patient", {"patient": patient}) if patient else ("home", {})
        self.tab = "sway" if self.mat is not None or self.insoles is None else "steps"
        self.pressure_mode = "peak"
        self.steps_mode = "summary"
        self.pages: dict[str, int] = {}
        self.defining: dict | None = None  # the row whose definition is open
        self.plot = None  # the visible tab's plot (a Surface), set by update
        self.plot_problem = ""
        self.opened_at = time.perf_counter()
        self.first_plot_s: float | None = None  # from this screen's creation to its first plot on screen
        self.playing = False
        self.speed = 1
        self.play_t = 0.0  # replay position, s from the recording's first frame
        self.replay_index = -1
        self.view = None  # MatView / InsoleView of the replay

    # -- what is shown ------------------------------------------------------------------------
    def times(self) -> np.ndarray | None:
        if self.mat is not None:
            return self.mat["t"]
        if self.insoles is not None:
            return self.insoles["t"]
        return None

    def duration_s(self) -> float:
        t = self.times()
        return float(t[-1] - t[0]) if t is not None and len(t) > 1 else 0.0

    def rows_of_tab(self) -> list[dict]:
        d = self.data
        if self.tab == "sway":
            return list(d.get("sway") or [])
        if self.tab == "pressure":
            return list(d.get("weight") or [])
        if self.tab == "steps" and self.steps_mode == "summary":
            return list(d.get("summary") or [])
        return []

    def walking(self) -> bool:
        return bool(self.data.get("steps"))

    # -- layout ---------------------------------------------------------------------------------
    def bar_tapped(self, button_id: str) -> None:
        if button_id == "pdf" and self.trial.get("session"):  # the session's report (gaitkiosk/staff_rooms/reports.py)
            self.ask(view("save", what="session", id=self.trial["session"], back=["review", {"trial": self.trial.get("id")}]))

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        self.small = app.text_px("small")
        title_h = app.fonts.font(app.text_px("title")).get_height()
        self.top_y = max(app.mm(2) + app.target_px, m + title_h + m // 2 + app.fonts.font(self.small).get_height()) + m // 2
        bh = app.target_px
        tab_w = app.mm(26)
        gap = max(4, (h - self.top_y - m - len(TABS) * bh) // max(1, len(TABS) - 1))
        gap = min(gap, m // 2)
        self.tabs = ButtonSet([Button(tid, label, pygame.Rect(m, self.top_y + i * (bh + gap), tab_w, bh), "quiet")
                               for i, (tid, label) in enumerate(TABS)])
        self.content = pygame.Rect(m + tab_w + m, self.top_y, w - tab_w - 3 * m, h - self.top_y - m)
        c = self.content
        self.row_h = int(self.small * 1.45)
        self.page_h = max(app.mm(9), self.row_h)  # the "More" button: 9 mm, a staff list's touch target
        # a plot on the left, the numbers on the right
        list_w = max(int(c.width * 0.46), min(c.width // 2, app.mm(70)))
        self.plot_box = pygame.Rect(c.left, c.top, c.width - list_w - m, c.height)
        self.list_box = pygame.Rect(self.plot_box.right + m, c.top, list_w, c.height)
        self.side_buttons = ButtonSet()
        lb = self.list_box
        self.side_buttons.add(Button("mode", "Mean", pygame.Rect(lb.left, lb.top, lb.width, bh)))
        self.steps_buttons = ButtonSet([
            Button("summary", "Summary", pygame.Rect(c.left, c.top, (c.width - m) // 2, bh)),
            Button("per_step", "Per step", pygame.Rect(c.left + (c.width + m) // 2, c.top, (c.width - m) // 2, bh))])
        self.table_page_button = Button("page", "More", pygame.Rect(c.right - app.mm(40), c.bottom - self.page_h,
                                                                    app.mm(40), self.page_h))
        # replay: the map on the left, play/speed on the right, the position bar along the bottom
        ctrl_w = app.mm(34)
        bar_h = max(app.mm(9), self.small + 8)
        self.replay_box = pygame.Rect(c.left, c.top, c.width - ctrl_w - m, c.height - bar_h - m)
        self.position_bar = pygame.Rect(c.left, c.bottom - bar_h, c.width, bar_h)
        self.replay_buttons = ButtonSet([
            Button("play", "Play", pygame.Rect(c.right - ctrl_w, c.top, ctrl_w, bh), "primary"),
            Button("speed", "Speed 1x", pygame.Rect(c.right - ctrl_w, c.top + bh + m, ctrl_w, bh)),
        ])
        self.overlay = pygame.Rect(m, self.top_y, w - 2 * m, h - self.top_y - m)
        self.close_button = Button("close", "Close", pygame.Rect(self.overlay.right - m // 2 - app.mm(30),
                                                                 self.overlay.top + m // 2, app.mm(30), bh), "primary")
        self.view = None
        self.replay_index = -1

    def list_rows_area(self) -> pygame.Rect:
        """Where the tab's number rows go: under the pressure tab's Peak/Mean button, above the
        sensor line (and the page button when the rows need more than one page)."""
        lb = self.list_box
        top = lb.top + (self.app.target_px + margin(self.app) // 2 if self.tab == "pressure" else 0)
        return pygame.Rect(lb.left, top, lb.width, lb.bottom - top - paragraph_height(2, self.small) - 4)

    def paged(self, rows: list, area: pygame.Rect, row_h: int, key: str) -> tuple[list, pygame.Rect, bool]:
        """(the rows of this page, the rows' area, more than one page)."""
        per = max(1, area.height // row_h)
        if len(rows) <= per:
            return rows, area, False
        area = pygame.Rect(area.left, area.top, area.width, area.height - self.page_h - margin(self.app) // 2)
        per = max(1, area.height // row_h)
        pages = (len(rows) + per - 1) // per
        page = self.pages.get(key, 0) % pages
        return rows[page * per:(page + 1) * per], area, True

    def row_rects(self) -> list[tuple[pygame.Rect, dict]]:
        """Each visible number and where it is on the screen (tapping it opens its definition)."""
        if self.tab == "replay":
            return []
        if self.tab == "steps":
            return self.step_cells() if self.steps_mode == "per_step" else self._list_rects(self.content_list_area())
        return self._list_rects(self.list_rows_area())

    def content_list_area(self) -> pygame.Rect:
        c = self.content
        top = c.top + (self.app.target_px + margin(self.app) // 2 if self.walking() else 0)
        return pygame.Rect(c.left, top, min(c.width, self.app.mm(120)), c.bottom - top - paragraph_height(2, self.small) - 4)

    def _list_rects(self, area: pygame.Rect) -> list:
        rows, area, _ = self.paged(self.rows_of_tab(), area, self.row_h, self.tab)
        return [(pygame.Rect(area.left, area.top + i * self.row_h, area.width, self.row_h), r) for i, r in enumerate(rows)]

    def table_geometry(self):
        """(header rect, the step entries of this page, their row rects, more pages)."""
        c = self.content
        top = c.top + self.app.target_px + margin(self.app) // 2
        head = pygame.Rect(c.left, top, c.width, 2 * int(self.small * 1.2))
        area = pygame.Rect(c.left, head.bottom, c.width, c.bottom - head.bottom)
        steps, area, more = self.paged(self.data.get("steps") or [], area, self.row_h, "table")
        rects = [pygame.Rect(area.left, area.top + i * self.row_h, area.width, self.row_h) for i in range(len(steps))]
        return head, steps, rects, more

    def columns(self) -> list[pygame.Rect]:
        """x extents of the table's columns: the foot, then one per STEP_COLUMNS entry."""
        c = self.content
        foot_w = self.app.fonts.font(self.small).size("8 L")[0] + margin(self.app)
        n = len(((self.data.get("steps") or [{}])[0]).get("cells") or []) or 6
        w = (c.width - foot_w) // n
        return [pygame.Rect(c.left, 0, foot_w, 1)] + [pygame.Rect(c.left + foot_w + k * w, 0, w, 1) for k in range(n)]

    def step_cells(self) -> list:
        _, steps, rects, _ = self.table_geometry()
        cols = self.columns()
        out = []
        for s, r in zip(steps, rects, strict=True):
            for col, cell in zip(cols[1:], s["cells"], strict=False):
                out.append((pygame.Rect(col.left, r.top, col.width, r.height), cell))
        return out

    # -- input ------------------------------------------------------------------------------------
    def handle_content(self, event) -> None:
        if self.defining is not None:  # the definition is open: any other tap closes it
            p = pointer(event, self.app.size)
            if p and p[0] == UP:
                self.defining = None
            return
        hit = self.tabs.handle(event, self.app.size)
        if hit:
            self.tab = hit
            self.plot, self.plot_problem = None, ""
            return
        if self.tab == "pressure" and self.side_buttons.handle(event, self.app.size) == "mode":
            self.pressure_mode = "mean" if self.pressure_mode == "peak" else "peak"
            self.plot = None
            return
        if self.tab == "steps" and self.walking():
            hit = self.steps_buttons.handle(event, self.app.size)
            if hit:
                self.steps_mode = hit
                return
        if self.tab == "replay":
            self.handle_replay(event)
            return
        p = pointer(event, self.app.size)
        if p is None or p[0] != UP:
            return
        page = self.page_rect()
        if page is not None and page.collidepoint(p[1]):
            key = "table" if self.tab == "steps" and self.steps_mode == "per_step" else self.tab
            self.pages[key] = self.pages.get(key, 0) + 1
            return
        for rect, r in self.row_rects():
            if rect.collidepoint(p[1]):
                self.defining = r
                return

    def page_rect(self) -> pygame.Rect | None:
        """The visible "More" button (next page of numbers), or None."""
        if self.tab == "replay":
            return None
        if self.tab == "steps" and self.steps_mode == "per_step":
            return self.table_page_button.rect if self.table_geometry()[3] else None
        area = self.content_list_area() if self.tab == "steps" else self.list_rows_area()
        return self.list_layout(area)[2]

    def handle_replay(self, event) -> None:
        hit = self.replay_buttons.handle(event, self.app.size)
        if hit == "play":
            if not self.playing and self.play_t >= self.duration_s():
                self.play_t = 0.0  # at the end: play from the start
            self.playing = not self.playing
        elif hit == "speed":
            self.speed = SPEEDS[(SPEEDS.index(self.speed) + 1) % len(SPEEDS)]
        p = pointer(event, self.app.size)
        if p and p[0] in (DOWN, UP) and self.position_bar.collidepoint(p[1]):
            share = (p[1][0] - self.position_bar.left) / max(1, self.position_bar.width)
            self.play_t = min(max(share, 0.0), 1.0) * self.duration_s()

    # -- update: plots and replay -----------------------------------------------------------------
    def update(self, dt: float) -> None:
        if self.watch(dt):
            return
        for b in self.tabs.buttons:
            b.style = "primary" if b.id == self.tab else "quiet"
        for b in self.steps_buttons.buttons:
            b.style = "primary" if b.id == self.steps_mode else "quiet"
        self.side_buttons.get("mode").label = "Show mean" if self.pressure_mode == "peak" else "Show peak"
        self.replay_buttons.get("play").label = "Pause" if self.playing else "Play"
        self.replay_buttons.get("speed").label = f"Speed {self.speed}x"
        if self.tab == "replay":
            self.update_replay(dt)
            return
        if self.tab in ("sway", "pressure"):
            self.plot, self.plot_problem = self.ask_plot()
            if self.plot is not None and self.first_plot_s is None:
                self.first_plot_s = time.perf_counter() - self.opened_at

    def colors(self) -> dict:
        c = self.app.theme.colors
        return {k: _rgb(getattr(c, k)) for k in ("background", "text", "muted", "left", "right", "accent", "target")}

    def ask_plot(self):
        """(surface or None, a problem in words): the visible tab's plot from the renderer."""
        from ui import review_plots

        plots = plots_of(self.app)
        size = self.plot_box.size
        tid = self.trial.get("id")
        if self.tab == "sway":
            sway = (self.report or {}).get("sway") or {}
            if self.mat is None or not sway.get("ellipse95_axes_mm"):
                return None, self.no_plot_words("sway")
            key = ("review-cop", tid)
            args = (self.mat["cop_lowpassed"], sway.get("ellipse95_axes_mm"), sway.get("ellipse95_angle_deg"),
                    self.colors())
            fn = review_plots.cop_plot
        else:
            if self.mat is None and self.insoles is None:
                return None, self.no_plot_words("pressure")
            key = ("review-pressure", tid, self.pressure_mode)
            fn, args = review_plots.pressure_plot, (self.mat, self.insoles, (self.report or {}).get("steps") or [],
                                       self.pressure_mode, self.colors(), (self.report or {}).get("parameters") or {})
        surface = plots.get(key, fn, args, size)
        return surface, (plots.failed(key, size) or "")

    def no_plot_words(self, tab: str) -> str:
        if self.data.get("frames_problem"):
            return self.data["frames_problem"]
        if tab == "sway":
            if not self.report:
                return "No analysis report is stored for this trial: " + (self.data.get("report_error") or "")
            if self.mat is None:
                return "No sway plot: this trial used the insoles, which give each foot's pressure but not a whole-body centre of pressure."
            return "No sway plot: the stored report has no 95 % ellipse for this trial (see its numbers)."
        return "No pressure frames are stored for this trial."

    def update_replay(self, dt: float) -> None:
        t = self.times()
        if t is None or len(t) == 0:
            return
        if self.playing:
            self.play_t += dt * self.speed
            if self.play_t >= self.duration_s():
                self.play_t = self.duration_s()
                self.playing = False
        index = int(min(len(t) - 1, np.searchsorted(t, t[0] + self.play_t, side="right") - 1))
        index = max(0, index)
        if self.view is None:
            self.view = self.make_view()
        if index != self.replay_index and self.view is not None:
            self.replay_index = index
            if self.mat is not None:
                frame = self.mat["to_kpa"](self.mat["counts"][index:index + 1])[0]
                self.view.set_frame(np.asarray(frame, np.float32))
            else:
                for side, s in self.insoles["sides"].items():
                    self.view.set_frame(side, s["kpa"][index])

    def make_view(self):
        c = self.app.theme.colors
        if self.mat is not None:
            rows, cols = self.mat["counts"].shape[1:]
            return MatView(rows, cols, self.mat["pitch_mm"], self.replay_box, background=c.background,
                           px_per_mm=self.app.metrics.px_per_mm)
        if self.insoles is not None:
            view = InsoleView(self.replay_box)
            for side, s in self.insoles["sides"].items():
                view.set_layout(side, s["sensors_mm"])
            return view
        return None

    # -- drawing -------------------------------------------------------------------------------------
    def title_words(self) -> tuple[str, str]:
        """The drill's title, and the patient, when and (unless complete) how it ended, as much as fits."""
        t = self.trial
        patient = (self.data.get("patient") or {}).get("code") or "?"
        parts = [f"Patient {patient}", t.get("started", "")] + ([t["status"]] if t.get("status") not in (None, "complete") else [])
        room = min(b.rect.left for b in self.bar.buttons) - 3 * margin(self.app) // 2
        font = self.app.fonts.font(self.small)
        while len(parts) > 1 and font.size(" · ".join(parts))[0] > room:
            parts.pop()
        return t.get("title") or t.get("drill") or "Trial", " · ".join(p for p in parts if p)

    def draw(self, surface) -> None:
        title, subtitle = self.title_words()
        self.draw_top(surface, title, subtitle)
        if self.defining is not None:  # over the tabs and the numbers, which are not drawn meanwhile
            self.draw_definition(surface)
            self.draw_message(surface)
            return
        self.tabs.draw(surface, self.app)
        if self.tab == "replay":
            self.draw_replay(surface)
        elif self.tab == "steps":
            self.draw_steps(surface)
        else:
            self.draw_plot(surface)
            if self.tab == "pressure":
                self.side_buttons.draw(surface, self.app)
            self.draw_rows(surface, self.list_rows_area(), self.sensor_words(self.tab))
        self.draw_message(surface)

    def sensor_words(self, tab: str) -> str:
        rows = self.rows_of_tab() if tab != "steps" or self.steps_mode == "summary" else \
            [c for s in self.data.get("steps") or [] for c in s["cells"]]
        if not rows:
            return ""
        r = rows[0]
        return f"{r['sensor']}: {r['calibration']}"

    def draw_plot(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        box = self.plot_box
        if self.plot is not None:
            surface.blit(self.plot, self.plot.get_rect(topleft=box.topleft))
            return
        pygame.draw.rect(surface, c.panel, box, border_radius=8)
        words = self.plot_problem or "Drawing..."
        blit_paragraph(surface, app.fonts, words, self.small, c.text if self.plot_problem else c.muted,
                       box.inflate(-2 * margin(app), -2 * margin(app)))

    def list_layout(self, area: pygame.Rect):
        """(the rows of this page, their area, the page button's rect or None, the sensor line's rect)."""
        app = self.app
        rows, area, more = self.paged(self.rows_of_tab(), area, self.row_h, self.tab)
        page = pygame.Rect(area.left, area.bottom + margin(app) // 2, area.width, self.page_h) if more else None
        below = page.bottom if page else area.bottom
        return rows, area, page, pygame.Rect(area.left, below, area.width, paragraph_height(2, self.small) + 4)

    def draw_rows(self, surface, area: pygame.Rect, footer: str) -> None:
        app, c = self.app, self.app.theme.colors
        if not self.report:
            blit_paragraph(surface, app.fonts, "No numbers: no analysis report is stored for this trial ("
                           + (self.data.get("report_error") or "no reason stored") + ").", self.small, c.text, area)
            return
        rows, area, page, room = self.list_layout(area)
        for i, r in enumerate(rows):
            self.draw_row(surface, pygame.Rect(area.left, area.top + i * self.row_h, area.width, self.row_h), r)
        if page is not None:
            Button("page", "More", page).draw(surface, app)
        if footer:
            blit_paragraph(surface, app.fonts, footer, self.small, c.muted, room.move(0, 4))

    def draw_row(self, surface, rect: pygame.Rect, r: dict) -> None:
        app, c = self.app, self.app.theme.colors
        value = f"{r['text']} {r['unit']}".strip() if r["text"] != "n/a" else "n/a"
        vw = app.fonts.font(self.small).size(value)[0]
        pygame.draw.line(surface, c.panel, rect.bottomleft, (rect.right, rect.bottom - 1))
        label_room = pygame.Rect(rect.left, rect.top, rect.width - vw - 8, rect.height)
        label = r["label"] if app.fonts.font(self.small).size(r["label"])[0] <= label_room.width else r.get("short", "")
        blit_text(surface, app.fonts, label, self.small, c.muted, (rect.left, rect.centery), "midleft",
                  room=label_room)
        blit_text(surface, app.fonts, value, self.small, c.text, (rect.right, rect.centery), "midright", room=rect)

    def draw_steps(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        if self.walking():
            self.steps_buttons.draw(surface, app)
        if self.steps_mode == "summary" or not self.walking():
            self.draw_rows(surface, self.content_list_area(), self.sensor_words("steps"))
            return
        head, steps, rects, more = self.table_geometry()
        cols = self.columns()
        first = steps[0]["cells"] if steps else []
        line = int(self.small * 1.2)
        font = self.app.fonts.font(self.small)
        widest = max((font.size(cell["short"])[0] for cell in first), default=0)
        pad = max(2, min(10, (cols[-1].width - widest) if len(cols) > 1 else 2))  # a gap between columns
        for col, cell in zip(cols[1:], first, strict=False):
            for k, words in enumerate((cell["short"], cell["unit"])):
                blit_text(surface, app.fonts, words, self.small, c.muted, (col.right - pad, head.top + k * line), "topright",
                          room=pygame.Rect(col.left, head.top, col.width, head.height))
        for s, r in zip(steps, rects, strict=True):
            pygame.draw.line(surface, c.panel, r.bottomleft, (r.right, r.bottom - 1))
            foot = {"left": "L", "right": "R"}.get(s["foot"], "?")
            blit_text(surface, app.fonts, f"{s['number']} {foot}", self.small,
                      c.left if s["foot"] == "left" else c.right if s["foot"] == "right" else c.muted,
                      (cols[0].left, r.centery), "midleft", room=pygame.Rect(cols[0].left, r.top, cols[0].width, r.height))
            for col, cell in zip(cols[1:], s["cells"], strict=False):
                blit_text(surface, app.fonts, cell["text"], self.small, c.text, (col.right - pad, r.centery), "midright",
                          room=pygame.Rect(col.left, r.top, col.width, r.height))
        if more:
            self.table_page_button.draw(surface, app)

    def draw_replay(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        if self.view is None:
            blit_paragraph(surface, app.fonts, self.data.get("frames_problem") or "No frames are stored for this trial.",
                           self.small, c.text, self.content)
            return
        if self.mat is not None:
            cop = self.mat["cop"]
            i = max(0, self.replay_index)
            t = self.mat["t"]
            lo = int(np.searchsorted(t, t[i] - TRAIL_S))
            trail = [tuple(p) for p in cop[lo:i + 1:2] if np.all(np.isfinite(p))]
            here = tuple(cop[i]) if np.all(np.isfinite(cop[i])) else None
            self.view.draw(surface, c, cop_mm=here, trail=trail)
        else:
            self.view.draw(surface, c)
        self.replay_buttons.draw(surface, app)
        bar = self.position_bar
        pygame.draw.rect(surface, c.panel, bar, border_radius=6)
        total = self.duration_s()
        share = self.play_t / total if total > 0 else 0.0
        pygame.draw.rect(surface, c.accent, pygame.Rect(bar.left, bar.top, int(bar.width * share), bar.height),
                         border_radius=6)
        words = f"{self.play_t:.1f} s of {total:.1f} s"
        blit_text(surface, app.fonts, words, self.small, c.text, bar.center, "center", room=bar)

    def draw_definition(self, surface) -> None:
        draw_definition(surface, self.app, self.defining, self.overlay, self.close_button)
