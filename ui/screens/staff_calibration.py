"""The calibration room's device screen and history screen (docs/therapist.md "Calibration").

``staff_calibration``: one tab per attached sensor (mat, left and right insole) with its serial,
how its kPa are made now, the active calibration's date and accuracy, and what is due; the
procedures it can run, and its History. Body weight (and an insole's verification, which the
person stands for) first asks for the person's weight on the keypad.

``staff_calibration_history``: the device's stored calibrations (newest first: date, procedures,
pass/fail, accuracy from the store, response change), a plot of verification errors and of the
response over time (ui/plots.py, drawn off the UI thread), the drift and what is due next.

Staff stand on the mat and put weights on it here: these screens never log out on a load on the
mat (``walk_up_logout = False``); the idle logout stays.
"""

from __future__ import annotations

import pygame

from ui.screens.common import fit_in_rect, margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet, Keypad

STATUS_WORDS = {"ok": "ok", "due": "due", "out of spec": "OUT OF SPEC", "uncalibrated": "not calibrated"}
SOURCE_WORDS = {"calibrated": "calibrated", "factory-nominal (uncalibrated)": "factory line, NOT calibrated",
                "device": "calibrated by its maker", None: "no kPa (not calibrated)"}


def _pct(v, signed: bool = False) -> str:
    if v is None:
        return "n/a"
    digits = 2 if abs(v) < 0.1 else 1  # a near-perfect fit reads 0.01 %, not a suspicious 0.0 %
    return f"{v:+.{digits}f} %" if signed else f"{v:.{digits}f} %"


def reasons_words(reasons: list[str]) -> str:
    """health.py's reasons without their what-to-do part (the screen itself is what to do)."""
    return "; ".join(r.split(":")[0] for r in reasons)


def device_words(d: dict) -> str:
    """One device's state in three short lines: serial and kPa source, calibration in force, status."""
    parts = [f"{d['serial']}: kPa {SOURCE_WORDS.get(d['source'], d['source'])}."]
    if d["calibration_id"]:
        parts.append(f"Calibrated {d['calibrated_on']}, accuracy {_pct(d['accuracy_pct'])}"
                     + (f", verified {_pct(d['last_error_pct'], True)}" if d["last_error_pct"] is not None
                        else "") + ".")
    status = STATUS_WORDS.get(d["status"], d["status"])
    due = reasons_words(d["reasons"])
    parts.append(f"Status: {status}" + (f" ({due})." if due else "."))
    return " ".join(parts)


@staff_screen("staff_calibration")
class CalibrationScreen(StaffScreen):
    name = "staff_calibration"
    walk_up_logout = False  # weights and people on the mat are the work here

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.devices = list(self.data.get("devices") or [])
        self.labels = dict(self.data.get("labels") or {})
        self.selected = 0
        self.weight_for: str | None = None  # a procedure waiting for the person's weight
        self.message = self.data.get("notice") or None

    @property
    def device(self) -> dict | None:
        return self.devices[self.selected] if self.devices else None

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top(subtitle=False)
        tab_w = (w - 2 * m - 2 * m) // 3
        self.tabs = ButtonSet([Button(f"device:{k}", d["label"], pygame.Rect(m + k * (tab_w + m), self.top, tab_w,
                                                                               app.target_px),
                                      "primary" if k == self.selected else "normal")
                               for k, d in enumerate(self.devices)])
        small = app.text_px("small")
        self.words_box = pygame.Rect(m, self.top + app.target_px + m // 2, w - 2 * m, int(small * 1.25 * 3) + 2)
        # procedures and History: two rows of four at the bottom
        cols, rows = 4, 2
        bw = (w - 2 * m - (cols - 1) * m) // cols
        bottom = h - m
        ids = (self.device or {}).get("procedures", []) + ["history"]
        self.actions = ButtonSet()
        for i, pid in enumerate(ids):
            r, c = divmod(i, cols)
            y = bottom - (rows - r) * app.target_px - (rows - r - 1) * (m // 2)
            label = "History" if pid == "history" else self.labels.get(pid, pid)
            self.actions.add(Button(pid, label, pygame.Rect(m + c * (bw + m), y, bw, app.target_px),
                                    "quiet" if pid == "history" else "normal"))
        # the weight keypad (body weight; an insole's verification)
        kp_w = min(int(w * 0.42), 3 * app.mm(20))
        kp = pygame.Rect(w - m - kp_w, self.top, kp_w, h - m - self.top)
        self.keypad = Keypad(kp, app.target_px, 3)
        self.weight_buttons = ButtonSet([Button("weight-cancel", "Cancel", pygame.Rect(
            m, h - m - app.target_px, app.mm(30), app.target_px), "quiet")])

    def handle_content(self, event) -> None:
        if self.busy:  # the answer to the last tap is not back yet
            return
        if self.weight_for:
            if self.weight_buttons.handle(event, self.app.size) == "weight-cancel":
                self.weight_for = None
            elif self.keypad.handle(event, self.app.size) == "ok":
                self.start(self.weight_for, self.keypad.code)
            return
        hit = self.tabs.handle(event, self.app.size)
        if hit:
            self.selected = int(hit.split(":")[1])
            self.message = None
            self.layout(self.app.size)
            return
        pid = self.actions.handle(event, self.app.size)
        if pid == "history":
            self.ask(view("calibration_history", device=self.device["serial"]))
        elif pid:
            self.message = None
            if pid in self.device.get("needs_weight", []):
                self.weight_for, self.keypad.code = pid, ""
            else:
                self.start(pid)

    def start(self, procedure: str, weight_kg: str | None = None) -> None:
        params = {"device": self.device["serial"], "procedure": procedure}
        if weight_kg is not None:
            params["weight_kg"] = weight_kg
        self.ask(do("calibration_start", **params))

    def refused(self, text: str) -> None:
        super().refused(text)
        self.weight_for = None

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        if self.weight_for:
            self._draw_weight(surface)
            return
        self.draw_top(surface, "Calibration", None)
        if not self.devices:
            fit_in_rect(surface, app, "No sensor is attached. Check the cables, then open Calibration again.",
                        pygame.Rect(m, self.top, app.size[0] - 2 * m, app.size[1] - self.top - m), c.warn)
            self.draw_message(surface)
            return
        self.tabs.draw(surface, app)
        d = self.device
        if self.message:  # a refusal or "cancelled" stands where the device's state is, until a tab is tapped
            fit_in_rect(surface, app, self.message, self.words_box, c.warn)
        else:
            fit_in_rect(surface, app, device_words(d), self.words_box, c.text if d["status"] == "ok" else c.warn)
        self.actions.draw(surface, app)

    def _draw_weight(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        d = self.device
        left = pygame.Rect(m, m, self.keypad.rect.left - 2 * m, self.weight_buttons.buttons[0].rect.top - 2 * m)
        what = self.labels.get(self.weight_for, self.weight_for)
        heading = f"{d['label']}: {what}"
        size = fit_size(app.fonts, heading, app.text_px("title"), left.width, app.text_px("body"))
        y = blit_text(surface, app.fonts, heading, size, c.text, left.topleft, room=left).bottom + m // 2
        y = fit_in_rect(surface, app, "Type the weight of the person who will stand on the sensor, in kg "
                        "(weigh them on a clinic scale first).", pygame.Rect(left.left, y, left.width,
                                                                             app.text_px("body") * 4), c.muted)
        typed = f"{self.keypad.code or '...'} kg"
        blit_text(surface, app.fonts, typed, app.text_px("title"), c.accent, (left.left, y + m), room=left)
        self.keypad.draw(surface, app)
        self.weight_buttons.draw(surface, app)
        self.draw_message(surface)


# -- history ------------------------------------------------------------------------------------------


def draw_history(fig, calibrations: list, verifications: list, tolerance_pct: float, reference_counts: float) -> None:
    """Verification errors (%) and each calibration's accuracy (%) over time; the response (kPa at
    ``reference_counts`` above zero) of each calibration below: drift shows as a slope."""
    import datetime as dt

    def when(text):
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    fs = max(7.0, min(11.0, fig.get_figheight() * 1.6))  # type that grows with the plot, as the screen's does
    ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    ax.axhspan(-tolerance_pct, tolerance_pct, color="#d8f0e6", label=f"within +-{tolerance_pct:g} %")
    if verifications:
        ax.plot([when(v["at"]) for v in verifications], [v["error_pct"] for v in verifications], "o-",
                color="#0072B2", label="verification error")
    acc = [(when(r["at"]), r["accuracy_pct"]) for r in calibrations if r["accuracy_pct"] is not None]
    if acc:
        ax.plot([a[0] for a in acc], [a[1] for a in acc], "s", color="#E69F00", label="calibration accuracy")
    ax.set_ylabel("%", fontsize=fs)
    ax.tick_params(labelsize=fs)
    ax.legend(fontsize=fs * 0.9, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.1, handlelength=1.2, columnspacing=0.8)
    resp = [(when(r["at"]), r["response_kpa"]) for r in calibrations if r["response_kpa"] is not None]
    if resp:
        resp.sort()
        ax2.plot([a[0] for a in resp], [a[1] for a in resp], "o-", color="#009E73")
    ax2.set_ylabel(f"kPa at {reference_counts:g}\ncounts", fontsize=fs)
    ax2.tick_params(labelsize=fs)
    locator = AutoDateLocator(minticks=2, maxticks=4)
    ax2.xaxis.set_major_locator(locator)
    ax2.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if not (acc or resp or verifications):
        ax.text(0.5, 0.5, "nothing stored yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout(pad=0.4)


PROCEDURE_SHORT = {"zero": "zero", "equilibrate": "equilibrate", "known_load": "known load",
                   "bodyweight": "body weight", "sweep": "sweep", "verify": "verify"}


def history_rows(data: dict) -> list[tuple[str, str]]:
    """Two lines per stored calibration, newest first: (text, "in force" | "head" | "detail")."""
    out = []
    for r in data.get("calibrations", []):
        procs = " + ".join(PROCEDURE_SHORT.get(p, str(p)) for p in r["procedures"]) or "?"
        change = r.get("response_change_pct")
        head = f"{r['at'][:10]}  {'pass' if r['passed'] else 'FAIL'}" + (
            f"  {_pct(r['accuracy_pct'])}" if r["accuracy_pct"] is not None else "")
        out.append((head + ("  in force" if r["active"] else ""), "in force" if r["active"] else "head"))
        out.append((procs + (f", resp. {change:+.1f} %" if change is not None else ""), "detail"))
    return out


def due_words(data: dict) -> str:
    """The status, what is due next (dates), and the drift of the verification errors."""
    h = data.get("health") or {}
    status = STATUS_WORDS.get(h.get("status"), h.get("status") or "")
    drift = h.get("drift_pct_per_30_days")
    due = reasons_words(h.get("reasons", []))
    nxt = [f"verify by {data['next_verify']}" if data.get("next_verify") else "",
           f"recalibrate by {data['next_calibration']}" if data.get("next_calibration") else ""]
    nxt = [n for n in nxt if n]
    return (f"Status: {status}" + (f" ({due})" if due else "") + "."
            + (f" Next: {', '.join(nxt)}." if nxt else "")
            + (f" Drift {drift:+.2f} % per 30 days." if drift is not None else ""))


@staff_screen("staff_calibration_history")
class CalibrationHistoryScreen(StaffScreen):
    name = "staff_calibration_history"
    walk_up_logout = False
    back = ("calibration", {})

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top()
        small = app.text_px("small")
        self.due_box = pygame.Rect(m, h - m - int(small * 1.25 * 3) - 2, w - 2 * m, int(small * 1.25 * 3) + 2)
        self.table = pygame.Rect(m, self.top, int(w * 0.56) - m, self.due_box.top - m // 2 - self.top)
        self.plot_box = pygame.Rect(self.table.right + m, self.top, w - self.table.right - 2 * m, self.table.height)

    def plot_key(self):
        d = self.data
        return ("calibration-history", d.get("serial"), tuple(r["id"] for r in d.get("calibrations", [])),
                len(d.get("verifications", [])))

    def draw(self, surface) -> None:
        from ui.plots import plots_of

        app, c = self.app, self.app.theme.colors
        d = self.data
        self.draw_top(surface, f"{d.get('label', '')} history", d.get("serial"))
        small = app.text_px("small")
        line = int(small * 1.25)
        rows = history_rows(d) or [("Nothing stored yet.", "detail")]
        fits = max(2, self.table.height // line // 2 * 2)
        if len(rows) > fits:
            rows = rows[:fits - 2] + [(f"... and {(len(rows) - fits) // 2 + 1} older", "detail")]
        colours = {"in force": c.good, "head": c.text, "detail": c.muted}
        for k, (text, style) in enumerate(rows):
            blit_text(surface, app.fonts, text, small, colours[style], (self.table.left, self.table.top + k * line),
                      room=self.table)
        plot = plots_of(app).get(self.plot_key(), draw_history,
                                 (d.get("calibrations", []), d.get("verifications", []),
                                  float(d.get("limits", {}).get("max_error_pct", 3.0)),
                                  float(d.get("reference_counts", 500.0))), self.plot_box.size)
        if plot is not None:
            surface.blit(plot, self.plot_box)
        else:
            failed = plots_of(app).failed(self.plot_key(), self.plot_box.size)
            fit_in_rect(surface, app, failed or "Drawing...", self.plot_box, c.muted)
        fit_in_rect(surface, app, due_words(d), self.due_box, c.muted)
        self.draw_message(surface)
