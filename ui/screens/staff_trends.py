"""A patient's trends over weeks (``staff_trends``) and two sessions side by side (``staff_compare``).

Trends: four pages of plots (Scores; Sway: sway area, sway speed, Romberg ratio; Weight: the
left foot's share; Walking: cadence), drawn by matplotlib on the plot renderer's thread (ui/plots.py)
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
from ui.screens.staff_patients import below_header
from ui.scroll import Row, ScrollList
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet

TABS = (("scores", "Scores"), ("balance", "Sway"), ("weight", "Weight"), ("walking", "Walking"))
PAGES = {  # tab -> [(panel title, unit, series keys)]; "score:" takes every drill's score
    "scores": [("Score per exercise", "points", ["score:"])],
    "balance": [("Sway area (95 % ellipse)", "mm²", ["sway_area_open", "sway_area_closed"]),
                ("Sway speed", "mm/s", ["sway_speed_open", "sway_speed_closed"]),
                ("Romberg ratio, sway area eyes closed / eyes open", "", ["romberg_area"])],
    "weight": [("Weight on the left foot", "%", ["standing_left", "symmetry_left"])],
    "walking": [("Cadence", "steps/min", ["cadence_insoles", "cadence_tandem"])],
}
KEY = "dashed line: the program changed; hollow point: sensors not calibrated"


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
                # the legend names what tells the lines apart ("eyes open"); the panel's title says the rest
                lines.append({"label": s.label.removeprefix("Score, ").split(", ")[-1], "dates": [p[0] for p in s.points],
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

    fg, bg, muted, pt = style["text"], style["background"], style["muted"], style.get("pt", 9.0)
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
        ax.set_title(panel["title"] + (f" ({panel['unit']})" if panel["unit"] else ""), color=fg, fontsize=pt + 1, loc="left")
        ax.tick_params(colors=fg, labelsize=pt)
        for spine in ax.spines.values():
            spine.set_color(muted)
        ax.grid(True, color=muted, alpha=0.25)
        if len(panel["lines"]) > 1 or panel["title"].startswith("Score"):
            ax.legend(fontsize=pt - 1, facecolor=bg, labelcolor=fg, edgecolor=muted, loc="best", framealpha=0.6)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.tight_layout(pad=0.4, rect=(0, 1.8 * pt / 72 * 100 / fig.bbox.height, 1, 1))
    fig.text(0.01, 0.01, KEY, color=muted, fontsize=pt - 1)


def plot_style(app) -> dict:
    c = app.theme.colors

    def hexc(rgb):
        return "#" + "".join(f"{v:02x}" for v in rgb[:3])

    # text in points (matplotlib's unit: 1/72 inch, at its 100 dpi 1.39 px) from the theme's small size
    return {"pt": round(app.text_px("small") * 0.36, 1), "text": hexc(c.text), "background": hexc(c.background),
            "muted": hexc(c.muted),
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
        top = below_header(app)
        bw = (w - 2 * m - len(TABS) * (m // 2) - app.mm(40)) // len(TABS)
        tabs = [Button(f"tab:{t}", label, pygame.Rect(m + k * (bw + m // 2), top, bw, app.target_px), "quiet")
                for k, (t, label) in enumerate(TABS)]
        tabs.append(Button("sessions", "Side by side", pygame.Rect(w - m - app.mm(40), top, app.mm(40), app.target_px)))
        self.tabs = ButtonSet(tabs)
        y = top + app.target_px + m // 2
        self.plot_rect = pygame.Rect(m, y, w - 2 * m, h - y - m)

    def handle_content(self, event) -> None:
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
        self.draw_top(surface, f"Trends of {self.patient.get('code', '')}", span)
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


def cell_lines(app, text: str, width: int) -> list[str]:
    return app.fonts.wrap(text, app.text_px("small"), width) or [""]


@staff_screen("staff_compare")
class CompareScreen(StaffScreen):
    """Three columns (what, the older visit, the newer one); every cell wraps onto as many rows as it needs."""

    name = "staff_compare"

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.patient = self.data.get("patient") or {}
        self.back = ("sessions", {"patient": self.patient.get("id", "")})
        self.items: list[tuple] = []  # (kind, label line, a line, b line): kind head/drill/why/row/dim

    def value(self, v, unit: str) -> str:
        if v is None:
            return "-"
        return f"{v:.0f} of 100" if unit == "of 100" else number(v, unit)

    def build(self) -> None:
        app = self.app
        wl, wa, wb = self.widths
        a, b = self.data.get("a") or {}, self.data.get("b") or {}
        out = []

        def add(kind, label, ta, tb):
            la, lb, lc = cell_lines(app, label, wl), cell_lines(app, ta, wa), cell_lines(app, tb, wb)
            for k in range(max(len(la), len(lb), len(lc))):
                out.append((kind, la[k] if k < len(la) else "", lb[k] if k < len(lb) else "", lc[k] if k < len(lc) else ""))

        add("head", "Visit", when(a.get("started_at", "")), when(b.get("started_at", "")))
        add("head", "Sensors", a.get("sensors", ""), b.get("sensors", ""))
        add("head", "Calibration", a.get("calibration", ""), b.get("calibration", ""))
        for d in self.data.get("drills") or []:
            out.append(("drill", d["title"], "", ""))
            if d["why"]:
                for line in cell_lines(app, f"Not comparable: {d['why']}.", wl + wa + wb):
                    out.append(("why", line, "", ""))
            for label, unit, va, vb in d["rows"]:
                add("row" if not d["why"] else "dim", label, self.value(va, unit), self.value(vb, unit))
        self.items = out

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        m = margin(app)
        w, h = size
        top = below_header(app)
        side_w = app.mm(20)
        self.pager = ButtonSet([
            Button("up", "Up", pygame.Rect(w - m - side_w, top, side_w, app.target_px), "quiet"),
            Button("down", "Down", pygame.Rect(w - m - side_w, h - m - app.target_px, side_w, app.target_px), "quiet")])
        row_h = int(app.text_px("small") * 1.45)
        width = w - 3 * m - side_w
        rect = pygame.Rect(m, top, width, max(row_h, (h - m - top) // row_h * row_h))
        gap = app.mm(2)
        self.widths = (int(width * 0.4) - gap, int(width * 0.3) - gap, width - int(width * 0.4) - int(width * 0.3) - gap)
        self.cols = (rect.left, rect.left + int(width * 0.4), rect.left + int(width * 0.7))
        self.build()
        self.list = ScrollList(rect, row_h, self.render_row, lambda i: i, app.mm(3))
        self.list.set_count(len(self.items))

    def render_row(self, i: int, size) -> Row:
        app, c = self.app, self.app.theme.colors
        kind, label, a, b = self.items[i]
        row = Row(size)
        small = app.text_px("small")
        y = (size[1] - small) // 2
        left = self.list.rect.left
        if kind == "drill":
            pygame.draw.line(row.surface, c.muted, (0, 1), (size[0], 1), 1)
        color = {"head": c.text, "drill": c.text, "why": c.warn, "row": c.text, "dim": c.muted}[kind]
        row.text(app.fonts, label, small, c.muted if kind in ("row", "dim", "head") else color, (0, y))
        for x, text in ((self.cols[1] - left, a), (self.cols[2] - left, b)):
            row.text(app.fonts, text, small, color, (x, y))
        return row

    def handle_content(self, event) -> None:
        page = self.pager.handle(event, self.app.size)
        if page:
            self.list.page(1 if page == "down" else -1)
        self.list.handle(event, self.app.size)

    def update(self, dt: float) -> None:
        if not self.watch(dt):
            self.list.update(dt)

    def draw(self, surface) -> None:
        app = self.app
        self.draw_top(surface, f"Side by side: {self.patient.get('code', '')}", "older visit left, newer right")
        self.list.draw(surface)
        self.pager.get("up").enabled = self.list.offset > 0
        self.pager.get("down").enabled = self.list.offset < self.list.max_offset
        self.pager.draw(surface, app)
        self.draw_message(surface)
