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
    cadence      {steps_min, aim} for walking drills (steps per minute; either may be None), or None
    alert        the safety message while the drill is stopped for safety
    view         'mat' or 'insoles'
    beat         a counter that steps on each metronome beat
    beat_period_s  seconds between beats (None: no beat): a ring pulses on each beat

Pause and Stop are always on screen. Stop asks nothing further: a patient who
wants to stop has stopped.
"""

from __future__ import annotations

import pygame

from ui import marks
from ui.app import Intent, Screen
from ui.heatmap import InsoleView, MatView
from ui.screens.common import banner, fit_paragraph, margin, paragraph
from ui.text import blit_text, fit_size
from ui.widgets import Button, ButtonSet, draw_lr_bar, draw_ring

BEAT_STRIP_MM = 24.0  # the top of the map box while a beat runs: the pulsing beat ring
SHARE_BAR_MM = 10.0  # the left/right weight bar's height


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
        self._beat_seen = 0  # the view's beat counter last seen
        self._beat_at: float | None = None  # app time of the last beat (the pulse's start)

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
        # Drills with a weight share put the bar under the feet, as wide as the map: left on the
        # left like the feet above it, and its band wide enough to read from a metre.
        bar_h = app.mm(SHARE_BAR_MM)
        over = bar_h // 4  # the marker reaches this far above and below the bar
        under = over + 4 + int(app.text_px("small") * 1.2)  # "Left 48 %" under the bar's ends
        self.share_bar = pygame.Rect(self.map_box.left + m, self.map_box.bottom - under - bar_h,
                                     self.map_box.width - 2 * m, bar_h)
        self.share_map_box = pygame.Rect(self.map_box.left, self.map_box.top, self.map_box.width,
                                         self.share_bar.top - over - m // 2 - self.map_box.top)

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
        box = self.share_map_box if self.view.get("share") is not None else self.map_box
        if geometry is not None and (geometry, tuple(box)) != self._geometry:
            rows, cols, pitch = geometry
            self.mat = MatView(rows, cols, pitch, box, background=self.app.theme.colors.background,
                               px_per_mm=self.app.metrics.px_per_mm)
            self._geometry = (geometry, tuple(box))
        if self.mat is not None and snap.mat_kpa is not None:
            self.mat.set_frame(snap.mat_kpa)
        for side, layout in (snap.insole_layout or {}).items():
            if side not in self.insoles.layout:
                self.insoles.set_layout(side, layout)
        for side, kpa in (snap.insole_kpa or {}).items():
            self.insoles.set_frame(side, kpa)
        beat = self.view.get("beat") or 0
        if beat != self._beat_seen:
            self._beat_at = self.app.time if beat > 0 and self.view.get("beat_period_s") else None
            self._beat_seen = beat
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
            strip = self.beat_strip()
            if strip is not None:
                self._draw_beat(surface, strip)
                self.insoles.draw(surface, c, self.map_box.clip(pygame.Rect(
                    self.map_box.left, strip.bottom, self.map_box.width, self.map_box.bottom - strip.bottom)))
            else:
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
        bottom = self.buttons.buttons[0].rect.top - m
        if not held and v.get("cadence") is not None:
            y = self._draw_cadence(surface, v["cadence"], pygame.Rect(col.left, y, col.width, bottom - y))
        for label, text in [] if held else (v.get("values") or [])[:3]:
            if y + small > bottom:
                break
            y = paragraph(surface, app, f"{label}: {text}", pygame.Rect(col.left, y, col.width, bottom - y),
                          "small") + int(small * 0.1)
        share = v.get("share")
        if share is not None:  # under the feet (``share_bar``), as wide as the map
            draw_lr_bar(surface, app, self.share_bar, share.get("left_pct"), share.get("target_pct"),
                        share.get("tolerance_pct"))
        # The countdown is the cue's "Get ready: N" alone (gaitkiosk.liveview): no ring, no band then.
        if phase == "alert":
            banner(surface, app, v.get("alert") or "Stopped for your safety. Stand still and hold the rail.", "stop")
        elif phase == "paused":
            banner(surface, app, "Paused. Press Continue when you are ready.", "warn")
        self.buttons.draw(surface, app)

    # -- the walking drills' beat and steps per minute ---------------------------------------------
    def beat_strip(self) -> pygame.Rect | None:
        """Where the beat ring pulses (the top of the map box), or None when there is no beat."""
        if not self.view.get("beat_period_s") or self.view.get("view") != "insoles":
            return None
        return pygame.Rect(self.map_box.left, self.map_box.top, self.map_box.width,
                           min(self.map_box.height // 3, self.app.mm(BEAT_STRIP_MM)))

    def beat_pulse(self) -> float | None:
        """0 at a beat, rising to 1 at the next one (None before the first beat)."""
        period = self.view.get("beat_period_s")
        if self._beat_at is None or not period:
            return None
        return min(1.0, max(0.0, (self.app.time - self._beat_at) / period))

    def _draw_beat(self, surface, strip: pygame.Rect) -> None:
        """A ring that flashes full and filled on each beat, then shrinks to an outline until the
        next: the beat can be seen (the tick is heard) from across the room, and shape, not only
        colour, says "now"."""
        c = self.app.theme.colors
        big = max(6, int(strip.height * 0.42))
        phase = self.beat_pulse()
        sizes = marks.MarkSizes.for_display(self.app.metrics.px_per_mm)
        center = strip.center
        if phase is None:  # the beat is about to start: a quiet outline
            marks.draw_target(surface, c, center, int(big * 0.6), "missed", sizes)
            return
        r = int(big * (1.0 - 0.4 * min(1.0, phase / 0.5)))
        marks.draw_target(surface, c, center, r, "flash" if phase < 0.3 else "next", sizes)

    def _draw_cadence(self, surface, cadence: dict, rect: pygame.Rect) -> int:
        """Steps per minute as a big number with its words beside it, the aim under it; returns the
        y below. A dash until two steps have been counted."""
        app, c = self.app, self.app.theme.colors
        small, body = app.text_px("small"), app.text_px("body")
        steps, aim = cadence.get("steps_min"), cadence.get("aim")
        number = "-" if steps is None else f"{steps:.0f}"
        room_h = rect.height - (app.fonts.font(small).get_height() if aim else 0)
        size = fit_size(app.fonts, number, min(app.text_px("number"), max(body, room_h)), rect.width // 2, body)
        while size > body and app.fonts.font(size).get_height() > room_h:  # the aim's line under it too
            size -= 2
        r = blit_text(surface, app.fonts, number, size, c.text, rect.topleft, room=rect)
        gap = app.mm(2)
        lines = app.fonts.wrap("steps a minute", small, rect.right - r.right - gap)
        line_h = int(small * 1.15)
        ly = r.centery - len(lines) * line_h // 2
        for line in lines:
            blit_text(surface, app.fonts, line, small, c.text, (r.right + gap, ly), room=rect)
            ly += line_h
        y = max(r.bottom, ly)
        if aim:
            y = blit_text(surface, app.fonts, f"Aim: {aim:.0f}", small, c.muted, (rect.left, y), room=rect).bottom
        return y + margin(app) // 2
