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

import math

import pygame

from ui import marks
from ui.app import Intent, Screen
from ui.heatmap import InsoleView, MatView
from ui.screens.common import banner, fit_paragraph, margin, paragraph
from ui.text import blit_text, fit_size, text_logged
from ui.widgets import Button, ButtonSet, draw_lr_bar, draw_ring

BEAT_STRIP_MM = 24.0  # the top of the map box while a beat runs: the pulsing beat ring
SHARE_BAR_MM = 10.0  # the left/right weight bar's height
# The pressure picture is coloured at most this often; the COP dot and its trail, which the patient
# steers, move every frame. A foot's load shifts over a tenth of a second, so a picture 33 ms old
# looks the same, and colouring and smoothing it was 40 % of the screen's time (issue 16, "CPU
# budget": bench/bench_kiosk_cpu.py, tests/test_ui_live.py).
MAP_HZ = 30.0


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
        self._map_at = None  # app.time the pressure picture was last coloured
        self._paused_since: float | None = None
        self._beat_seen = 0  # the view's beat counter last seen
        self._beat_at: float | None = None  # app time of the last beat (the pulse's start)
        self._kept = _Kept()  # what draw() keeps from frame to frame (see draw)

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
            self._map_at = None  # a new view has no picture yet
        # A frame up to a quarter period early counts: at 60 fps every other frame, whatever the jitter.
        if self.mat is not None and snap.mat_kpa is not None and (
                self._map_at is None or self.app.time - self._map_at >= 0.75 / MAP_HZ):
            self.mat.set_frame(snap.mat_kpa)
            self._map_at = self.app.time
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
    # The screen is drawn in two layers. The column (title, cue, count, buttons) and the empty map
    # box change a few times a drill: they are painted once into a kept layer (``_Kept``). The map with its
    # marks, the countdown ring, the weight bar and a pause/alert band change with the data: each
    # frame they are painted over the copy of the layer that is already on the screen, after the
    # layer is put back where they were (``_restore``). A frame drawn this way is the frame drawn
    # from scratch, pixel for pixel (tests/test_ui_live.py); it redraws the map's box and the ring,
    # not the whole screen (bench/bench_kiosk_cpu.py: the column was a third of the screen's time).
    opaque = True  # draw() paints every pixel (App.step does not clear the screen first)

    def draw(self, surface) -> None:
        key = self._layer_key()
        # A TextLog (tests, the gallery) sees every string of every frame: the layer is painted afresh.
        if text_logged() or key != self._kept.layer_at or surface is not self._kept.painted:
            if self._kept.layer is None or self._kept.layer.get_size() != surface.get_size():
                self._kept.layer = pygame.Surface(surface.get_size(), 0, surface)  # the screen's pixel format
            self._kept.layer.fill(self.app.theme.colors.background)
            self._draw_column(self._kept.layer)
            self._kept.layer_at = key
            surface.blit(self._kept.layer, (0, 0))
            self._kept.painted, self._kept.ring_shown = surface, None
            self._kept.dirty = [surface.get_rect()]
        else:
            self._kept.dirty = self._restore(surface)
        self._draw_live(surface)

    def _layer_key(self) -> tuple:
        """Everything the kept layer shows: when it changes, the layer is painted again."""
        v = self.view
        return (v.get("view"), self.mat is None, v.get("title") or self.drill.get("title", ""), v.get("phase"),
                v.get("cue"), v.get("remaining_s") is not None, bool(v.get("duration_s")), v.get("progress"),
                repr(v.get("cadence")), repr(v.get("values")),
                tuple(self.map_box), tuple((b.label, b.style, b.enabled, b.pressed, tuple(b.rect)) for b in self.buttons.buttons))

    @property
    def dirty(self) -> list[pygame.Rect]:
        """The areas the last frame painted (the rest of the screen is as the frame before left it)."""
        return self._kept.dirty

    def repaint(self) -> None:
        self._kept.painted = None  # the next frame puts the whole layer on the screen

    def _restore(self, surface) -> list[pygame.Rect]:
        """Put the layer back under what the last frame painted over it; the areas put back."""
        out = []
        opaque = self.mat.rect if self.view.get("view") != "insoles" and self.mat is not None else None
        for r in _around(self.map_box, opaque):  # the map's own rectangle is painted whole
            surface.blit(self._kept.layer, r, r)
            out.append(r)
        if opaque is not None:
            out.append(opaque)
        if self._kept.ring_shown is not None and self._kept.ring_shown != self._ring_now():
            r = self._kept.ring_rect
            surface.blit(self._kept.layer, r, r)
            out.append(r)
            self._kept.ring_shown = None
        for r in ([self._kept.band] if self._kept.band is not None else []) + \
                ([b.rect for b in self.buttons.buttons] if self._kept.live_buttons else []):
            surface.blit(self._kept.layer, r, r)
            out.append(r)
        return out

    def _draw_column(self, surface) -> None:
        """The kept layer: the map box's background or its waiting note, the title, the cue, the count
        beside the ring, steps a minute, the values and the buttons."""
        app, c = self.app, self.app.theme.colors
        v = self.view
        m = margin(app)
        if v.get("view") == "insoles":
            pass  # the insoles are drawn live
        elif self.mat is None:
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
        self._kept.ring = None
        if not held and remaining is not None and duration and phase != "countdown":  # counting down: the cue's number
            center = (col.left + ring_r + 4, y + ring_r + m // 2)
            self._kept.ring = (center, ring_r)  # drawn live (_draw_live): its arc moves every frame
            self._kept.ring_rect = pygame.Rect(center[0] - ring_r - 2, center[1] - ring_r - 2, 2 * ring_r + 5, 2 * ring_r + 5)
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
        self._kept.live_buttons = held  # over the band then: drawn live, after it (_draw_live)
        if not held:
            self.buttons.draw(surface, app)

    def _ring_now(self):
        """What the ring shows now: (fraction of the time left, its number), or None. The fraction is
        rounded to half a pixel of the ring's rim, so the ring is painted again when its arc moves on
        the glass (a few times a second), not on every frame."""
        if self._kept.ring is None:
            return None
        remaining, duration = self.view.get("remaining_s"), self.view.get("duration_s")
        steps = math.ceil(4 * math.pi * self._kept.ring[1])  # half-pixel steps round the rim
        return round(remaining / duration * steps) / steps, f"{max(0, remaining):.0f}"

    def _draw_live(self, surface) -> None:
        """What changes with the data, over the layer: the map or the insoles, the ring, the weight
        bar, and the pause or alert band."""
        app, c = self.app, self.app.theme.colors
        v = self.view
        surface.set_clip(self.map_box)  # nothing of the map spills into the column
        try:
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
                self.mat.draw(surface, c, cop_mm=cop, trail=self.snapshot.cop_trail if self.snapshot and v.get("trail", True) else (),
                              targets=v.get("targets") or (), zone=v.get("zone"), base_of_support=v.get("base_of_support"))
            share = v.get("share")
            if share is not None:  # under the feet (``share_bar``), as wide as the map
                draw_lr_bar(surface, app, self.share_bar, share.get("left_pct"), share.get("target_pct"),
                            share.get("tolerance_pct"))
        finally:
            surface.set_clip(None)
        ring = self._ring_now()
        if ring is not None and ring != self._kept.ring_shown:
            draw_ring(surface, app, self._kept.ring[0], self._kept.ring[1], *ring)
            self._kept.ring_shown = ring
            self._kept.dirty.append(self._kept.ring_rect)
        # The countdown is the cue's "Get ready: N" alone (gaitkiosk.liveview): no ring, no band then.
        phase = v.get("phase")
        self._kept.band = None
        if phase == "alert":
            self._kept.band = banner(surface, app, v.get("alert") or "Stopped for your safety. Stand still and hold the rail.", "stop")
        elif phase == "paused":
            self._kept.band = banner(surface, app, "Paused. Press Continue when you are ready.", "warn")
        if self._kept.band is not None:
            self._kept.dirty.append(self._kept.band)
        if self._kept.live_buttons:
            self.buttons.draw(surface, app)
            self._kept.dirty += [b.rect for b in self.buttons.buttons]

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


class _Kept:
    """What the live screen keeps between frames to paint only what changed: a cache of pixels, not
    the screen's state (draw() still changes nothing the screen shows)."""

    def __init__(self):
        self.layer: pygame.Surface | None = None  # the column and the empty map box
        self.layer_at = None  # the _layer_key it shows
        self.painted = None  # the surface the layer was last put on whole
        self.ring = None  # (centre, radius) of the countdown ring, or None
        self.ring_rect = pygame.Rect(0, 0, 0, 0)
        self.ring_shown = None  # what the ring on the screen shows (see _ring_now)
        self.band: pygame.Rect | None = None  # the pause/alert band of the last frame
        self.live_buttons = False  # True while a band is shown: the buttons are drawn over it
        self.dirty: list[pygame.Rect] = []  # the areas the last frame painted


def _around(box: pygame.Rect, inner: pygame.Rect | None) -> list[pygame.Rect]:
    """``box`` less ``inner`` (inside it) as up to four rectangles; all of ``box`` when there is no inner."""
    if inner is None:
        return [box]
    inner = inner.clip(box)
    parts = [pygame.Rect(box.left, box.top, box.width, inner.top - box.top),
             pygame.Rect(box.left, inner.bottom, box.width, box.bottom - inner.bottom),
             pygame.Rect(box.left, inner.top, inner.left - box.left, inner.height),
             pygame.Rect(inner.right, inner.top, box.right - inner.right, inner.height)]
    return [r for r in parts if r.width > 0 and r.height > 0]
