"""Touch widgets: buttons, the check-in keypad, the left/right bar, the countdown ring.

Widgets hold geometry and a label; they never act themselves. A screen asks
``button.hit(pos)`` and posts an intent. Sizes come from the screen's
:class:`ui.theme.Metrics`, so a button is never smaller than the theme's
``min_target_mm`` (15 mm by default) on the glass.

Pointer input: :func:`pointer` turns a mouse click or a finger touch into a
pixel position. SDL also turns every touch into a synthetic mouse click (with
``event.touch`` set); those are ignored so that one tap is one press.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

from ui.text import blit_text, fit_size

DOWN = "down"
UP = "up"
MOVE = "move"


def pointer(event, size: tuple[int, int]) -> tuple[str, tuple[int, int]] | None:
    """('down'|'up'|'move', (x, y)) for a mouse or touch event, else None."""
    t = event.type
    if t in (pygame.FINGERDOWN, pygame.FINGERUP, pygame.FINGERMOTION):
        kind = {pygame.FINGERDOWN: DOWN, pygame.FINGERUP: UP, pygame.FINGERMOTION: MOVE}[t]
        return kind, (int(event.x * size[0]), int(event.y * size[1]))
    if t in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        if getattr(event, "touch", False) or event.button != 1:
            return None
        return (DOWN if t == pygame.MOUSEBUTTONDOWN else UP), tuple(event.pos)
    if t == pygame.MOUSEMOTION and not getattr(event, "touch", False):
        return MOVE, tuple(event.pos)
    return None


@dataclass
class Button:
    """A labelled touch target.

    ``style`` picks the fill: 'normal', 'primary' (the expected next step),
    'stop', 'warn' or 'quiet'. ``on_press`` buttons act on touch-down (stop and
    pause: a patient who is losing balance must not have to lift a finger
    precisely); the others act on release inside the button, so a finger
    that slides off cancels.
    """

    id: str
    label: str
    rect: pygame.Rect
    style: str = "normal"
    on_press: bool = False
    enabled: bool = True
    pressed: bool = False

    def hit(self, pos) -> bool:
        return self.enabled and self.rect.collidepoint(pos)

    def draw(self, surface, ui) -> None:
        c = ui.theme.colors
        fill, fg = {
            "primary": (c.accent, c.dark_text),
            "stop": (c.stop, c.dark_text),  # black on vermillion: 5.4:1 (white would be 3.9:1)
            "warn": (c.warn, c.dark_text),
            "good": (c.good, c.dark_text),
            "quiet": (c.panel, c.text),
        }.get(self.style, (c.button, c.button_text))
        if not self.enabled:
            fill, fg = c.panel, c.muted
        rect = self.rect.inflate(-4, -4) if self.pressed else self.rect
        radius = max(6, rect.height // 5)
        pygame.draw.rect(surface, fill, rect, border_radius=radius)
        if self.style in ("normal", "quiet"):
            pygame.draw.rect(surface, c.muted, rect, width=2, border_radius=radius)
        size = ui.text_px("body")
        # Shrink a long label to fit rather than clip it.
        while size > ui.text_px("small") and ui.fonts.font(size).size(self.label)[0] > rect.width - 12:
            size = max(ui.text_px("small"), size - 2)  # never under the small size (body 34, small 25)
        blit_text(surface, ui.fonts, self.label, size, fg, rect.center, "center", room=rect)


class ButtonSet:
    """The buttons of one screen, with press/release tracking."""

    def __init__(self, buttons: list[Button] | None = None):
        self.buttons: list[Button] = list(buttons or [])
        self._down: Button | None = None

    def add(self, button: Button) -> Button:
        self.buttons.append(button)
        return button

    def get(self, id: str) -> Button:
        for b in self.buttons:
            if b.id == id:
                return b
        raise KeyError(id)

    def handle(self, event, size) -> str | None:
        """The id of the button this event activates, if any."""
        p = pointer(event, size)
        if p is None:
            return None
        kind, pos = p
        if kind == DOWN:
            for b in self.buttons:
                if b.hit(pos):
                    if b.on_press:
                        return b.id
                    b.pressed = True
                    self._down = b
                    return None
        elif kind == UP:
            down, self._down = self._down, None
            if down is not None:
                down.pressed = False
                if down.hit(pos):
                    return down.id
        elif kind == MOVE and self._down is not None:
            self._down.pressed = self._down.rect.collidepoint(pos)
        return None

    def draw(self, surface, ui) -> None:
        for b in self.buttons:
            b.draw(surface, ui)


class Keypad:
    """Digits 0-9, delete and OK, laid out like a phone keypad inside ``rect``."""

    KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok")

    def __init__(self, rect: pygame.Rect, min_px: int, max_len: int = 8):
        gap = max(6, min_px // 8)
        cols, rows = 3, 4
        w = max(min_px, (rect.width - gap * (cols - 1)) // cols)
        h = max(min_px, (rect.height - gap * (rows - 1)) // rows)
        self.rect = pygame.Rect(rect.left, rect.top, cols * w + gap * (cols - 1), rows * h + gap * (rows - 1))
        self.max_len = max_len
        self.code = ""
        labels = {"del": "Delete", "ok": "OK"}
        self.buttons = ButtonSet()
        for i, key in enumerate(self.KEYS):
            r, c = divmod(i, cols)
            style = "primary" if key == "ok" else ("quiet" if key == "del" else "normal")
            self.buttons.add(Button(f"key:{key}", labels.get(key, key),
                                    pygame.Rect(rect.left + c * (w + gap), rect.top + r * (h + gap), w, h), style))

    def handle(self, event, size) -> str | None:
        """'ok' when OK is pressed with a code entered; the code stays in :attr:`code`."""
        hit = self.buttons.handle(event, size)
        if hit is None:
            return None
        key = hit.split(":", 1)[1]
        if key == "del":
            self.code = self.code[:-1]
        elif key == "ok":
            return "ok" if self.code else None
        elif len(self.code) < self.max_len:
            self.code += key
        return None

    def update_enabled(self) -> None:
        self.buttons.get("key:ok").enabled = bool(self.code)
        self.buttons.get("key:del").enabled = bool(self.code)

    def draw(self, surface, ui) -> None:
        self.update_enabled()
        self.buttons.draw(surface, ui)


# The weight bar shows the target share +- BAR_TOLERANCES x the tolerance, not 0-100 %: the green
# band is then a quarter of the bar, wide enough to read from a metre (a 7-point band on a 0-100 %
# bar was ~4 mm on the 7-inch panel, and the marker covered half of it).
BAR_TOLERANCES = 4.0
BAR_MIN_HALF_SPAN = 5.0  # percentage points each side of the target, at least
MARKER_MM = 1.6  # the marker's light core (it has a black edge)


@dataclass(frozen=True)
class LRBar:
    """Where the parts of the left/right weight bar go (pixels): drawn by :func:`draw_lr_bar_shapes`."""

    rect: pygame.Rect
    hi_pct: float  # the left share at the bar's left end (more weight on the left: further left)
    lo_pct: float  # ... at its right end
    band: pygame.Rect | None
    target_x: int | None
    marker: pygame.Rect | None  # the marker's light core
    inside: bool

    def x_of(self, left_pct: float) -> float:
        return self.rect.left + self.rect.width * (self.hi_pct - left_pct) / (self.hi_pct - self.lo_pct)


def lr_bar(rect: pygame.Rect, left_pct: float | None, target_pct: float | None, tolerance_pct: float | None,
           px_per_mm: float) -> LRBar:
    """The bar's geometry: the span around the target, the band, the marker (clamped to the bar)."""
    tol = float(tolerance_pct or 0.0)
    if target_pct is None:
        hi, lo = 100.0, 0.0
    else:
        half = min(50.0, max(BAR_MIN_HALF_SPAN, BAR_TOLERANCES * tol))
        hi, lo = target_pct + half, target_pct - half
        shift = max(0.0, hi - 100.0) - max(0.0, -lo)  # keep the span inside 0-100 %
        hi, lo = hi - shift, lo - shift
    geo = LRBar(rect, hi, lo, None, None, None, True)
    band = target_x = None
    if target_pct is not None:
        x0, x1 = geo.x_of(min(100.0, target_pct + tol)), geo.x_of(max(0.0, target_pct - tol))
        band = pygame.Rect(int(round(x0)), rect.top, max(3, int(round(x1 - x0))), rect.height)
        target_x = int(round(geo.x_of(target_pct)))
    marker = None
    inside = True
    if left_pct is not None:
        inside = target_pct is None or abs(left_pct - target_pct) <= tol
        w = max(3, int(round(MARKER_MM * px_per_mm)))
        x = int(round(geo.x_of(max(lo, min(hi, left_pct)))))
        x = max(rect.left + w // 2, min(rect.right - (w + 1) // 2, x))
        over = max(3, rect.height // 4)
        marker = pygame.Rect(x - w // 2, rect.top - over, w, rect.height + 2 * over)
    return LRBar(rect, hi, lo, band, target_x, marker, inside)


def draw_lr_bar_shapes(surface, colors, geo: LRBar, edge_px: int = 2) -> None:
    """The bar, its green band, the target line and the marker (no words: pictures use this too)."""
    rect = geo.rect
    radius = max(2, rect.height // 4)
    pygame.draw.rect(surface, colors.panel, rect, border_radius=radius)
    if geo.band is not None:
        pygame.draw.rect(surface, colors.good, geo.band, border_radius=max(2, rect.height // 6))
    pygame.draw.rect(surface, colors.muted, rect, width=2, border_radius=radius)
    if geo.target_x is not None:
        pygame.draw.line(surface, colors.muted, (geo.target_x, rect.top - 6), (geo.target_x, rect.bottom + 6), 3)
    if geo.marker is not None:
        m = geo.marker
        color = colors.text if geo.inside else colors.accent
        pygame.draw.rect(surface, colors.dark_text, m.inflate(2 * edge_px, 2 * edge_px), border_radius=3)
        pygame.draw.rect(surface, color, m, border_radius=2)


def draw_lr_bar(surface, ui, rect: pygame.Rect, left_pct: float | None, target_pct: float | None = None,
                tolerance_pct: float | None = None) -> LRBar:
    """A horizontal bar: the marker sits at the share of weight on the RIGHT foot.

    Marker left of the middle means more weight on the left foot, as the patient sees it facing
    the screen. The middle is the target share and the band around it (green: the drills say
    "keep the marker in the green band") its tolerance; the marker turns white inside the band.
    Words under the ends ("Left 48 %") carry the meaning without colour.
    """
    c = ui.theme.colors
    geo = lr_bar(rect, left_pct, target_pct, tolerance_pct, ui.metrics.px_per_mm)
    draw_lr_bar_shapes(surface, c, geo, max(2, ui.mm(0.5)))
    small = ui.text_px("small")
    if left_pct is None:
        blit_text(surface, ui.fonts, "no weight", small, c.muted, rect.center, "center")
        return geo
    y = rect.bottom + max(10, geo.marker.bottom - rect.bottom + 4)
    blit_text(surface, ui.fonts, f"Left {left_pct:.0f} %", small, c.text, (rect.left, y), "topleft")
    blit_text(surface, ui.fonts, f"Right {100 - left_pct:.0f} %", small, c.text, (rect.right, y), "topright")
    return geo


def draw_ring(surface, ui, center, radius: int, fraction: float, label: str, color=None) -> None:
    """A countdown ring: the coloured arc is the time left (full at the start)."""
    c = ui.theme.colors
    thickness = max(6, radius // 5)
    rect = pygame.Rect(0, 0, 2 * radius, 2 * radius)
    rect.center = center
    pygame.draw.circle(surface, c.panel, center, radius, thickness)
    fraction = max(0.0, min(1.0, fraction))
    if fraction > 0:
        start = math.pi / 2  # 12 o'clock, running clockwise as time passes
        pygame.draw.arc(surface, color or c.accent, rect, start, start + 2 * math.pi * fraction, thickness)
    # The number sits inside the ring's hole with a margin, however many digits it has.
    inner = 2 * (radius - thickness) - 14
    size = fit_size(ui.fonts, label, min(ui.text_px("number"), int(radius * 1.1)), inner, 10)
    hole = pygame.Rect(0, 0, 2 * (radius - thickness), 2 * (radius - thickness))
    hole.center = center
    blit_text(surface, ui.fonts, label, size, c.text, center, "center", room=hole)


def draw_stars(surface, ui, topleft, size: int, filled: int, total: int = 5, color=None) -> pygame.Rect:
    """``filled`` of ``total`` five-pointed stars, ``size`` px each: filled ones solid, the rest outlined
    (shape, not only colour, tells them apart). Returns the area drawn."""
    c = ui.theme.colors
    color = color or c.accent
    gap = max(2, size // 5)
    x0, y0 = topleft
    r_out, r_in = size / 2.0, size / 2.0 * 0.45
    for i in range(total):
        cx, cy = x0 + i * (size + gap) + size / 2.0, y0 + size / 2.0
        pts = [(cx + (r_out if k % 2 == 0 else r_in) * math.sin(math.pi * k / 5.0),
                cy - (r_out if k % 2 == 0 else r_in) * math.cos(math.pi * k / 5.0)) for k in range(10)]
        if i < filled:
            pygame.draw.polygon(surface, color, pts)
        else:
            pygame.draw.polygon(surface, c.muted, pts, max(2, size // 14))
    return pygame.Rect(x0, y0, total * size + (total - 1) * gap, size)
