"""The live drill: the feet as a heat map, the cue, the countdown, pause and stop.

Reads the runtime's latest snapshot each frame (never waits for it). The
snapshot's ``drill`` is a plain dict made by the runtime from the drill's
state (see ``gaitkiosk.runtime.drill_view``):

    phase        'countdown' | 'running' | 'paused' | 'alert' | 'done' (others shown as running)
    title, cue   the exercise and what to do right now (one short sentence)
    remaining_s, duration_s    the countdown ring (None: no ring)
    progress     e.g. '3 of 8' (targets, steps, cycles) or None
    targets, zone, base_of_support   drawn on the heat map in mat mm
    share        {left_pct, target_pct, tolerance_pct} for the left/right bar, or None
    values       [(label, text)] a few live numbers
    alert        the safety message while the drill is stopped for safety
    view         'mat' or 'insoles'
    beat         a counter that steps on each metronome beat

Pause and Stop are always on screen. Stop asks nothing further: a patient who
wants to stop has stopped.
"""

from __future__ import annotations

import pygame

from ui.app import Intent, Screen
from ui.heatmap import InsoleView, MatView
from ui.screens.common import banner, fit_paragraph, margin, paragraph
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet, draw_lr_bar, draw_ring


class LiveDrillScreen(Screen):
    name = "drill"
    idle_intent = "stop_drill"  # only while paused: see idle()

    def __init__(self, app, drill: dict):
        super().__init__(app)
        self.drill = drill  # the intro dict (title, index, count)
        self.view: dict = {}
        self.snapshot = None
        self.seq = -1
        self.frame_t: float | None = None  # device time of the newest frame shown (latency)
        self.mat: MatView | None = None
        self.insoles: InsoleView | None = None
        self._geometry = None
        self._paused_since: float | None = None

    def layout(self, size) -> None:
        app = self.app
        w, h = size
        m = margin(app)
        side = min(h - 2 * m, int(w * 0.56))
        self.map_box = pygame.Rect(m, m, side, h - 2 * m)
        self.col = pygame.Rect(self.map_box.right + 2 * m, m, w - self.map_box.right - 3 * m, h - 2 * m)
        # Pause becomes "Continue" after a stop: the wider button, so that its label keeps full size.
        bw = int((self.col.width - m) * 0.58)
        sw = self.col.width - m - bw
        bh = app.target_px
        y = self.col.bottom - bh
        self.buttons = ButtonSet([
            Button("pause", "Pause", pygame.Rect(self.col.left, y, bw, bh), "warn", on_press=True),
            Button("stop", "Stop", pygame.Rect(self.col.left + bw + m, y, sw, bh), "stop", on_press=True),
        ])
        self.insoles = InsoleView(self.map_box)

    def idle(self) -> bool:
        """A drill left paused (the patient walked away) is stopped; a running one never is."""
        return self._paused_since is not None and self.app.time - self._paused_since > self.app.idle_timeout_s

    # -- input ------------------------------------------------------------------------------
    def handle(self, event) -> None:
        hit = self.buttons.handle(event, self.app.size)
        if hit == "stop":
            self.app.post(Intent("stop_drill"))
        elif hit == "pause":
            paused = self.view.get("phase") in ("paused", "alert")
            self.app.post(Intent("resume_drill" if paused else "pause_drill"))

    # -- live data ----------------------------------------------------------------------------
    def update(self, dt: float) -> None:
        snap = self.app.feed.latest()
        if snap is None or snap.seq == self.seq:
            return
        self.seq = snap.seq
        self.snapshot = snap
        self.view = snap.drill or {}
        self.frame_t = snap.t_frame
        geometry = snap.mat_geometry
        if geometry is not None and geometry != self._geometry:
            rows, cols, pitch = geometry
            self.mat = MatView(rows, cols, pitch, self.map_box, background=self.app.theme.colors.background)
            self._geometry = geometry
        if self.mat is not None and snap.mat_kpa is not None:
            self.mat.set_frame(snap.mat_kpa)
        for side, layout in (snap.insole_layout or {}).items():
            if side not in self.insoles.layout:
                self.insoles.set_layout(side, layout)
        for side, kpa in (snap.insole_kpa or {}).items():
            self.insoles.set_frame(side, kpa)
        paused = self.view.get("phase") in ("paused", "alert")
        if not paused:
            self._paused_since = None
        elif self._paused_since is None:
            self._paused_since = self.app.time
        b = self.buttons.get("pause")
        b.label, b.style = ("Continue", "good") if paused else ("Pause", "warn")

    def on_message(self, msg) -> bool:
        if msg.kind == "cue":
            if self.app.sound:
                self.app.sound.play(msg["name"])
                self.app.sound.say(msg.get("say"))
            return True
        return False

    # -- drawing ---------------------------------------------------------------------------------
    def draw(self, surface) -> None:
        app, c = self.app, self.app.theme.colors
        v = self.view
        m = margin(app)
        if v.get("view") == "insoles":
            pygame.draw.rect(surface, c.panel, self.map_box, border_radius=12)
            self.insoles.draw(surface, c)
        elif self.mat is not None:
            cop = self.snapshot.cop_mm if self.snapshot is not None else None
            self.mat.draw(surface, c, cop_mm=cop, trail=self.snapshot.cop_trail if self.snapshot and v.get("trail", True) else (), targets=v.get("targets") or (), zone=v.get("zone"),
                          base_of_support=v.get("base_of_support"))
        else:
            pygame.draw.rect(surface, c.panel, self.map_box, border_radius=12)
            blit_text(surface, app.fonts, "Waiting for the mat...", app.text_px("small"), c.muted, self.map_box.center, "center")
        col = self.col
        r = blit_text(surface, app.fonts, v.get("title") or self.drill.get("title", ""), app.text_px("small"), c.muted,
                      col.topleft, room=col)
        body = app.text_px("body")
        phase = v.get("phase")
        cue = "" if phase in ("alert", "paused") else (v.get("cue") or "")  # the banner says it then
        y = fit_paragraph(surface, app, cue, pygame.Rect(col.left, r.bottom + m // 2, col.width, 0), 3)
        ring_r = min(app.mm(8 if app.size[1] < 600 else 10), col.width // 4)  # bigger where there is room
        remaining, duration = v.get("remaining_s"), v.get("duration_s")
        progress = v.get("progress")
        small = app.text_px("small")
        held = phase in ("alert", "paused")  # the band says what to do; what it would cover is left out
        if not held and remaining is not None and duration and phase != "countdown":  # counting down: the cue's number
            center = (col.left + ring_r + 4, y + ring_r + m // 2)
            draw_ring(surface, app, center, ring_r, remaining / duration, f"{max(0, remaining):.0f}")
            y = center[1] + ring_r + m
            if progress:
                x = center[0] + ring_r + m
                if app.fonts.font(small).size(progress)[0] <= col.right - x:
                    blit_text(surface, app.fonts, progress, small, c.text, (x, center[1]), "midleft", room=col)
                else:  # too long beside the ring: under it
                    r = blit_text(surface, app.fonts, progress, small, c.text, (col.left, y - m // 2), room=col)
                    y = r.bottom + m // 2
        elif not held and progress:  # "5 good steps of 10": as big as the column allows
            size = fit_size(app.fonts, progress, body, col.width, small)
            r = blit_text(surface, app.fonts, progress, size, c.text, (col.left, y + m // 2), room=col)
            y = r.bottom + m
        bar_top = self.buttons.buttons[0].rect.top - m - small - app.mm(8)
        limit = bar_top if v.get("share") is not None else self.buttons.buttons[0].rect.top
        for label, text in [] if held else (v.get("values") or [])[:3]:
            y = paragraph(surface, app, f"{label}: {text}", pygame.Rect(col.left, y, col.width, max(0, limit - m - y)),
                          "small") + int(small * 0.1)
        share = v.get("share")
        if share is not None:
            bar = pygame.Rect(col.left, bar_top, col.width, app.mm(8))
            draw_lr_bar(surface, app, bar, share.get("left_pct"), share.get("target_pct"), share.get("tolerance_pct"))
        # The countdown is the cue's "Get ready: N" alone (gaitkiosk.liveview): no ring, no band then.
        if phase == "alert":
            banner(surface, app, v.get("alert") or "Stopped for your safety. Stand still and hold the rail.", "stop")
        elif phase == "paused":
            banner(surface, app, "Paused. Press Continue when you are ready.", "warn")
        self.buttons.draw(surface, app)
