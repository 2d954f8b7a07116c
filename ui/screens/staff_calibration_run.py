"""A calibration procedure running, and its result (docs/therapist.md "Calibration").

``staff_calibration_run``: the step's instruction in the procedure's own words, Ready (the
staff user has put the load on, or cleared the sensor), the step's progress while the kiosk
settles and measures, Cancel at any moment (nothing is stored: the old calibration stays in
force), and the live sensel map of that device: its raw counts above the starting zero, from
the ``calibration_progress`` messages of the run (gaitkiosk/calibration_job.py), drawn with
ui/heatmap.py as the live screen draws the feet.

``staff_calibration_result``: pass or fail with the procedures' own accuracy numbers and
messages, and which calibration the kiosk uses now.

Idle logout: while a step settles or measures and its frames keep arriving (a progress message
in the last IDLE_HOLD_S), the staff user waits hands-off, so the idle count is held at zero; while
the screen waits for Ready it counts as on every staff screen. A step cannot measure forever (its
own timeout, ``calibration.step_timeout_s``), and a sensor that goes silent lets the count run.
"""

from __future__ import annotations

import numpy as np
import pygame

from ui.screens.common import fit_in_rect, margin
from ui.screens.staff import StaffScreen, do, staff_screen, view
from ui.screens.staff_calibration import _pct
from ui.text import blit_text
from ui.widgets import Button, ButtonSet

IDLE_HOLD_S = 1.0
PROCEDURE_WORDS = {"zero": "zero", "equilibrate": "equilibration", "known_load": "known load",
                   "bodyweight": "body weight", "sweep": "dead-sensel sweep", "verify": "verification"}
STATE_WORDS = {"waiting": "Tap Ready when done.", "settling": "Settling, hands off:",
               "measuring": "Measuring, hands off:", "done": "Measured.", "failed": "Refused."}


@staff_screen("staff_calibration_run")
class CalibrationRunScreen(StaffScreen):
    name = "staff_calibration_run"
    walk_up_logout = False
    back = None  # Cancel is the way out; Log out cancels too

    def __init__(self, app, data: dict | None = None):
        super().__init__(app, data)
        self.progress: dict | None = None
        self.waiting = 0  # the step (over the whole run) that waits for Ready; 0: none
        self.step_no = 0
        self.sent_ready = 0
        self.since_progress = 1e9  # s since the last progress message of a settling/measuring step
        self.frame = None
        self.mat = None
        self.insoles = None
        self.cancelling = False

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top()
        small = app.text_px("small")
        legend_h = int(small * 1.25) + 2
        side = min(h - self.top - m - legend_h, int(w * 0.45))
        self.map_box = pygame.Rect(m, self.top, side, side)
        self.legend = pygame.Rect(m, self.map_box.bottom, side, legend_h)
        self.col = pygame.Rect(self.map_box.right + m, self.top, w - self.map_box.right - 2 * m, h - self.top - m)
        bw = (self.col.width - m) // 2
        y = self.col.bottom - app.target_px
        self.buttons = ButtonSet([
            Button("ready", "Ready", pygame.Rect(self.col.left, y, bw, app.target_px), "primary"),
            Button("cancel", "Cancel", pygame.Rect(self.col.left + bw + m, y, bw, app.target_px), "stop"),
        ])
        self._make_views()

    def _make_views(self) -> None:
        from ui.heatmap import InsoleView, MatView
        from ui.pressure import PressureScale

        max_counts = float(self.data.get("max_counts", 4095))
        # Counts above the zero: half the range spans the loads of a calibration; 10 counts is noise.
        scale = PressureScale(max_counts / 2.0, 10.0)
        geometry = self.data.get("geometry")
        if geometry:
            rows, cols, pitch = geometry
            self.mat = MatView(rows, cols, pitch, self.map_box, background=self.app.theme.colors.background,
                               scale=scale, px_per_mm=self.app.metrics.px_per_mm, despeckle=False)
        elif self.data.get("sensors_mm"):
            self.insoles = InsoleView(self.map_box, scale=scale)
            side = "left" if self.data.get("device_kind") == "insole_left" else "right"
            self.insoles.set_layout(side, np.asarray(self.data["sensors_mm"], dtype=float))
        self._show(self.frame)

    def _show(self, frame) -> None:
        if frame is None:
            return
        if self.mat is not None and frame.ndim == 2:
            self.mat.set_frame(frame)
        elif self.insoles is not None and frame.ndim == 1:
            self.insoles.set_frame("left" if self.data.get("device_kind") == "insole_left" else "right", frame)

    # -- messages from the run -----------------------------------------------------------------------------
    def on_message(self, msg) -> bool:
        if msg.kind == "calibration_progress":
            if msg.get("job") != self.data.get("job"):
                return True
            self.progress = msg.get("progress")
            self.waiting = int(msg.get("waiting") or 0)
            self.step_no = int(msg.get("step_no") or 0)
            if self.progress and self.progress.get("state") in ("settling", "measuring"):
                self.since_progress = 0.0
            if msg.get("frame") is not None:
                self.frame = msg.get("frame")
                self._show(self.frame)
            return True
        if msg.kind == "calibration_ack":
            self.busy = False
            return True
        return super().on_message(msg)

    # -- input ---------------------------------------------------------------------------------------------
    def handle_content(self, event) -> None:
        hit = self.buttons.handle(event, self.app.size)
        if hit == "cancel" and not self.cancelling:
            self.cancelling = True
            self.app.post(do("calibration_cancel", job=self.data.get("job")))
        elif hit == "ready" and self.can_ready():
            self.sent_ready = self.waiting
            self.app.post(do("calibration_ready", job=self.data.get("job"), step=self.waiting))

    def can_ready(self) -> bool:
        return self.waiting > 0 and self.sent_ready != self.waiting and not self.cancelling

    def hands_off(self) -> bool:
        """A step settles or measures and its frames keep coming: the user waits, hands off."""
        return self.since_progress < IDLE_HOLD_S and self.waiting == 0

    def update(self, dt: float) -> None:
        self.since_progress += dt
        if self.hands_off():
            self.touched()
        self.watch(dt)

    # -- drawing -------------------------------------------------------------------------------------------
    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        m = margin(app)
        d = self.data
        p = self.progress or {}
        steps = int(d.get("steps") or 0)
        step = self.waiting or self.step_no
        what = PROCEDURE_WORDS.get(p.get("procedure"), p.get("procedure"))
        sub = f"Step {max(step, 1)} of {steps}" + (f": {what}" if what else "")
        self.draw_top(surface, f"{d.get('label', '')}: {d.get('title', '')}", sub)
        if self.mat is not None:
            self.mat.draw(surface, c)
        elif self.insoles is not None:
            self.insoles.draw(surface, c)
        legend = f"Live counts, 0-{float(d.get('max_counts', 4095)) / 2:.0f}"
        blit_text(surface, app.fonts, legend, app.text_px("small"), c.muted, self.legend.topleft, room=self.legend)
        state = "cancelling" if self.cancelling else p.get("state", "waiting")
        buttons_top = self.buttons.buttons[0].rect.top
        small = app.text_px("small")
        status_h = int(small * 1.25) + 2
        bar_h = app.mm(3)
        text_box = pygame.Rect(self.col.left, self.col.top, self.col.width,
                               buttons_top - self.col.top - status_h - bar_h - 2 * m)
        fit_in_rect(surface, app, p.get("instruction") or "Getting the sensor ready...", text_box)
        words = "Cancelling..." if self.cancelling else STATE_WORDS.get(state, state)
        if state in ("settling", "measuring"):
            words = f"{words} {100 * float(p.get('fraction') or 0):.0f} %"
        y = text_box.bottom + m // 2
        blit_text(surface, app.fonts, words, small, c.accent if self.waiting else c.text, (self.col.left, y),
                  room=pygame.Rect(self.col.left, y, self.col.width, status_h))
        bar = pygame.Rect(self.col.left, y + status_h + m // 2, self.col.width, bar_h)
        pygame.draw.rect(surface, c.panel, bar, border_radius=bar_h // 2)
        frac = 0.0 if self.waiting else float(p.get("fraction") or 0.0)
        if frac > 0:
            pygame.draw.rect(surface, c.good, pygame.Rect(bar.left, bar.top, int(bar.width * min(frac, 1.0)), bar_h),
                             border_radius=bar_h // 2)
        self.buttons.get("ready").enabled = self.can_ready()
        self.buttons.draw(surface, app)
        self.draw_message(surface)


def result_words(data: dict) -> str:
    """Pass/fail, each procedure's own numbers and message, and what the kiosk uses now."""
    if data.get("error"):
        error = data["error"]
        return f"{error[:1].upper()}{error[1:]} Nothing was stored: the previous calibration stays in force."
    parts = []
    for p in data.get("procedures", []):
        acc = f", accuracy {_pct(p['accuracy_pct'])}" if p.get("accuracy_pct") is not None else ""
        parts.append(f"{p['label']}: {'PASS' if p['passed'] else 'FAIL'}{acc} ({p['message']}).")
    kept = data.get("kept") or {}
    if "verification" in kept:
        v = kept["verification"]
        parts.append(f"Verification stored: read {v['measured_n']:.0f} N for {v['known_n']:.0f} N "
                     f"({v['error_pct']:+.1f} %, limit +-{v['tolerance_pct']:g} %).")
    elif kept.get("active"):
        parts.append(f"Calibration {kept['calibration_id']} is now in force; the kiosk uses it from now on.")
    elif kept:
        why = ("it has no response curve yet (run equilibrate or known load next)" if not kept.get("complete")
               else "it did not pass")
        parts.append(f"Stored for the record but NOT in force: {why}. The previous calibration stays in force.")
    return " ".join(parts)


@staff_screen("staff_calibration_result")
class CalibrationResultScreen(StaffScreen):
    name = "staff_calibration_result"
    walk_up_logout = False
    back = ("calibration", {})

    def layout(self, size) -> None:
        super().layout(size)
        app = self.app
        w, h = size
        m = margin(app)
        self.top = self.content_top()
        bw = app.mm(42)
        y = h - m - app.target_px
        self.buttons = ButtonSet([
            Button("history", "History", pygame.Rect(w - m - 2 * bw - m, y, bw, app.target_px), "quiet"),
            Button("devices", "Calibration", pygame.Rect(w - m - bw, y, bw, app.target_px), "primary"),
        ])
        self.text_box = pygame.Rect(m, self.top, w - 2 * m, y - m // 2 - self.top)

    def handle_content(self, event) -> None:
        if self.busy:  # the answer to the last tap is not back yet
            return
        hit = self.buttons.handle(event, self.app.size)
        if hit == "history":
            self.ask(view("calibration_history", device=self.data.get("serial")))
        elif hit == "devices":
            self.ask(view("calibration"))

    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        d = self.data
        ok = d.get("passed") and not d.get("error")
        self.draw_top(surface, f"{d.get('label', '')}: {d.get('title', '')} {'passed' if ok else 'failed'}",
                      d.get("serial"))
        fit_in_rect(surface, app, result_words(d), self.text_box, c.text if ok else c.warn)
        self.buttons.draw(surface, app)
        self.draw_message(surface)
