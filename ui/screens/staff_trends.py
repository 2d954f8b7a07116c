"""A patient's trends over weeks (``staff_trends``) and two sessions side by side (``staff_compare``).

Trends: three pages of plots (Scores; Balance: sway area, sway speed, Romberg ratio; Weight and
walking: left share, cadence), drawn by matplotlib on the plot renderer's thread (ui/plots.py)
from the series of ``gaitkiosk.trends`` that the worker sent. Each prescription change (a program
stored for the patient) is a dashed line across every plot; points whose numbers rest on sensors
that were not calibrated are hollow. The plot's data is :func:`panels`, a plain function of the
series, so a test can hold the plot against the stored numbers.

Side by side: the two sessions' key numbers per exercise in two columns with their units, each
column headed by its date, sensors and calibration state. An exercise whose two runs are not like
for like (another level, calibration, or definition of the measures) says why in orange, and its
numbers are drawn grey: they are shown, not compared.
"""

from __future__ import annotations

import pygame

from ui.plots import plots_of
from ui.screens.common import margin
from ui.screens.staff import StaffScreen, staff_screen, view
from ui.screens.staff_patient import number, when
from ui.screens.staff_patients import list_area
from ui.scroll import Row, ScrollList
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet

TABS = (("scores", "Scores"), ("balance", "Balance"), ("walking", "Weight, walking"))
PAGES = {  # tab -> [(panel title, unit, series keys)]; "score:" takes every drill's score
    "scores": [("Score per exercise", "points", ["score:"])],
    "balance": [("Sway area (95 % ellipse)", "mm²", ["sway_area_open", "sway_area_closed"]),
                ("Sway speed", "mm/s", ["sway_speed_open", "sway_speed_closed"]),
                ("Romberg ratio, sway area closed / open", "", ["romberg_area"])],
    "walking": [("Weight on the left foot", "%", ["standing_left", "symmetry_left"]),
                ("Cadence", "steps/min", ["cadence_insoles", "cadence_tandem"])],
}


def panels(trends, tab: str) -> list[dict]:
    """What the plot of page ``tab`` shows: [{"title", "unit", "lines": [{"label", "dates", "values",
    "footings"}]}] (dates: ISO strings), panels without any point left out."""
    out = []
    for title, unit, keys in PAGES[tab]:
        lines = []
        for key in keys:
            found = [s for k, s in trends.series.items() if k.startswith(key)] if key.endswith(":") else \
                [trends.series[key]] if key in trends.series else []
            for s in found:
                lines.append({"label": s.label.removeprefix("Score, "), "dates": [p[0] for p in s.points],
                              "values": [p[1] for p in s.points], "footings": [p[3] for p in s.points]})
        if lines:
            out.append({"title": title, "unit": unit, "lines": lines})
    return out


def draw_trends(fig, data: list[dict], changes: list[str], style: dict) -> None:
    """The panels one above the other on a shared time axis (renderer thread: matplotlib only here)."""
    import datetime as dt

    import matplotlib.dates as mdates

    def day(iso):
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))

    fg, bg, muted = style["text"], style["background"], style["muted"]
    fig.patch.set_facecolor(bg)
    n = len(data)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    colors = style["lines"]
    for ax, panel in zip(axes, data, strict=True):
        ax.set_facecolor(bg)
        for k, line in enumerate(panel["lines"]):
            color = colors[k % len(colors)]
            xs = [day(d) for d in line["dates"]]
            ax.plot(xs, line["values"], "-", color=color, lw=1.5, label=line["label"])
            filled = [(x, v) for x, v, f in zip(xs, line["values"], line["footings"], strict=True) if f == "calibrated"]
            hollow = [(x, v) for x, v, f in zip(xs, line["values"], line["footings"], strict=True) if f != "calibrated"]
            if filled:
                ax.plot(*zip(*filled, strict=True), "o", color=color, ms=4)
            if hollow:
                ax.plot(*zip(*hollow, strict=True), "o", mfc=bg, mec=color, ms=5)
        for c in changes:
            ax.axvline(day(c), color=muted, ls="--", lw=1)
        ax.set_title(panel["title"] + (f" ({panel['unit']})" if panel["unit"] else ""), color=fg, fontsize=10, loc="left")
        ax.tick_params(colors=fg, labelsize=8)
        for spine in ax.spines.values():
            spine.set_color(muted)
        ax.grid(True, color=muted, alpha=0.25)
        if len(panel["lines"]) > 1 or panel["title"].startswith("Score"):
            ax.legend(fontsize=7, facecolor=bg, labelcolor=fg, edgecolor=muted, loc="best")
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.tight_layout(pad=0.4)


def plot_style(app) -> dict:
    c = app.theme.colors

    def hexc(rgb):
        return "#" + "".join(f"{v:02x}" for v in rgb[:3])

    return {"text": hexc(c.text), "background": hexc(c.background), "muted": hexc(c.muted),
            "lines": [hexc(x) for x in (c.accent, c.warn, c.good, c.target, c.right, c.left)]}


@staff_screen("staff_trends")
class TrendsScreen(StaffScreen):
    name = "staff_trends"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = self.data.get("patient") or {}
        self.back = ("patient", {"patient": self.patient.get("id", "")})
        self.trends = self.data.get("trends")
        self.tab = "scores"
        self.pages = {tab: panels(self.trends, tab) for tab, _ in TABS} if self.trends else {}

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        top = app.target_px + 2 * app.mm(2) + m
        bw = (w - 2 * m - len(TABS) * m // 2 - app.mm(40)) // len(TABS)
        tabs = [Button(f"tab:{t}", label, pygame.Rect(m + k * (bw + m // 2), top, bw, app.target_px), "quiet")
                for k, (t, label) in enumerate(TABS)]
        tabs.append(Button("sessions", "Side by side", pygame.Rect(w - m - app.mm(40), top, app.mm(40), app.target_px)))
        self.tabs = ButtonSet(tabs)
        y = top + app.target_px + m // 2
        self.plot_rect = pygame.Rect(m, y, w - 2 * m, h - y - m)

    def handle(self, event) -> None:
        if self.leaving:
            return
        self.touched()
        if self.handle_bar(event):
            return
        hit = self.tabs.handle(event, self.app.size)
        if hit and hit.startswith("tab:"):
            self.tab = hit.split(":", 1)[1]
        elif hit == "sessions":
            self.ask(view("sessions", patient=self.patient.get("id", "")))

    def plot_key(self):
        return ("trends", self.patient.get("id"), self.tab, self.trends.sessions if self.trends else 0,
                self.trends.last if self.trends else None)

    def plot(self):
        """The page's plot surface, or None while the renderer draws it (asked for if new)."""
        data = self.pages.get(self.tab) or []
        if not data:
            return None
        changes = [c[0] for c in self.trends.changes]
        return plots_of(self.app).get(self.plot_key(), draw_trends, (data, changes, plot_style(self.app)),
                                      self.plot_rect.size)

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        t = self.trends
        span = f"{t.sessions} visit{'s' if t.sessions != 1 else ''}" + (
            f", {t.first[:10]} to {t.last[:10]}" if t and t.first else "") if t else ""
        self.draw_top(surface, f"Trends of {self.patient.get('code', '')}", span + "; dashed: program changed")
        for b in self.tabs.buttons:
            b.style = "primary" if b.id == f"tab:{self.tab}" else ("quiet" if b.id.startswith("tab:") else "normal")
        self.tabs.draw(surface, app)
        small = app.text_px("small")
        if not self.pages.get(self.tab):
            blit_text(surface, app.fonts, "No results of this kind yet.", small, c.muted, self.plot_rect.topleft,
                      room=self.plot_rect)
        else:
            surf = self.plot()
            failed = plots_of(app).failed(self.plot_key(), self.plot_rect.size)
            if surf is not None:
                surface.blit(surf, self.plot_rect)
            else:
                text = f"The plot could not be drawn: {failed}" if failed else "Drawing the plot..."
                blit_text(surface, app.fonts, text, fit_size(app.fonts, text, small, self.plot_rect.width, small - 6),
                          c.warn if failed else c.muted, self.plot_rect.topleft, room=self.plot_rect)
        self.draw_message(surface)


@staff_screen("staff_compare")
class CompareScreen(StaffScreen):
    name = "staff_compare"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = self.data.get("patient") or {}
        self.back = ("sessions", {"patient": self.patient.get("id", "")})
        self.items: list[tuple] = []  # ("drill", drill dict) or ("row", (label, unit, a, b), drill dict)
        for d in self.data.get("drills") or []:
            self.items.append(("drill", d, d))
            self.items += [("row", r, d) for r in d["rows"]]

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        small = app.text_px("small")
        self.head_top = app.target_px + 2 * app.mm(2) + m
        self.head_h = 3 * int(small * 1.2)
        side_w = app.target_px
        self.pager = ButtonSet([
            Button("up", "Up", pygame.Rect(w - m - side_w, self.head_top + self.head_h, side_w, app.target_px), "quiet"),
            Button("down", "Down", pygame.Rect(w - m - side_w, h - m - app.target_px, side_w, app.target_px), "quiet")])
        rect, _ = list_area(app, self.head_top + self.head_h + m // 2, m, w - 2 * m - side_w, h - m)
        row_h = int(small * 1.6)
        rect.height = max(row_h, (h - m - rect.top) // row_h * row_h)
        self.list = ScrollList(rect, row_h, self.render_row, lambda i: i, app.mm(3))
        self.list.set_count(len(self.items))
        # columns: label | session A | session B
        self.col_a = rect.left + int(rect.width * 0.46)
        self.col_b = rect.left + int(rect.width * 0.73)

    def render_row(self, i: int, size) -> Row:
        app, c = self.app, self.app.theme.colors
        kind, item, drill = self.items[i]
        row = Row(size)
        small = app.text_px("small")
        tiny = max(small - 6, small * 3 // 4)
        mid = size[1] // 2
        x_a, x_b = self.col_a - self.list.rect.left, self.col_b - self.list.rect.left
        if kind == "drill":
            pygame.draw.line(row.surface, c.muted, (0, 1), (size[0], 1), 1)
            r = row.text(app.fonts, item["title"], small, c.text, (0, mid), "midleft")
            if item["why"]:
                why = f"not comparable: {item['why']}"
                room = size[0] - r.right - app.mm(3)
                ws = fit_size(app.fonts, why, tiny, room, 8)
                while app.fonts.font(ws).size(why)[0] > room and len(why) > 10:
                    why = why[:-5] + "..."
                row.text(app.fonts, why, ws, c.warn, (r.right + app.mm(3), mid), "midleft")
            return row
        label, unit, a, b = item
        alike = not drill["why"]
        row.text(app.fonts, label, fit_size(app.fonts, label, tiny, x_a - app.mm(8), 8), c.muted, (app.mm(3), mid),
                 "midleft")
        for x, v in ((x_a, a), (x_b, b)):
            text = "-" if v is None else number(v, unit if unit != "of 100" else "points") + (
                " of 100" if unit == "of 100" else "")
            row.text(app.fonts, text, tiny, c.text if alike else c.muted, (x, mid), "midleft")
        return row

    def handle(self, event) -> None:
        if self.leaving:
            return
        self.touched()
        if self.handle_bar(event):
            return
        page = self.pager.handle(event, self.app.size)
        if page:
            self.list.page(1 if page == "down" else -1)
        self.list.handle(event, self.app.size)

    def update(self, dt: float) -> None:
        if not self.watch(dt):
            self.list.update(dt)

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        self.draw_top(surface, f"Side by side: {self.patient.get('code', '')}",
                      "Grey numbers with an orange note are not comparable.")
        small = app.text_px("small")
        tiny = max(small - 6, small * 3 // 4)
        line = int(small * 1.2)
        for x, right, col in ((self.col_a, self.col_b, self.data.get("a") or {}),
                              (self.col_b, self.list.rect.right, self.data.get("b") or {})):
            room = pygame.Rect(x, self.head_top, right - x - app.mm(2), self.head_h)
            for k, text in enumerate((when(col.get("started_at", "")), f"sensors: {col.get('sensors', '')}",
                                      col.get("calibration", ""))):
                size = fit_size(app.fonts, text, tiny if k else small, room.width, 8)
                blit_text(surface, app.fonts, text, size, c.text if k == 0 else c.muted, (x, self.head_top + k * line),
                          room=room)
        self.list.draw(surface)
        self.pager.get("up").enabled = self.list.offset > 0
        self.pager.get("down").enabled = self.list.offset < self.list.max_offset
        self.pager.draw(surface, app)
        self.draw_message(surface)
