"""Animated pictures of what to do, drawn from shapes (no image files).

Each picture is a function ``(surface, rect, t, colors, layout=None, px_per_mm=None)`` drawing one
frame at animation time ``t`` (s) seen from above, forward up, like the heat map the patient will
see during the drill: foot outlines, a dot for where the weight is, arrows for where to move it.
``PICTURES`` maps a key (a drill's ``picture``) to its function; an unknown key draws the plain
standing feet.

A picture shows what the live screen will show: ``layout`` (``gaitkiosk.liveview.picture_layout``)
carries the drill's own targets around a typical stance and the weight bar's band, drawn with the
live screen's own marks (``ui.marks``) and bar (``ui.widgets.lr_bar``). ``px_per_mm`` (pixels per
millimetre of glass) sizes the marks as on the live screen.
"""

from __future__ import annotations

import math

import pygame

from ui import marks
from ui.widgets import draw_lr_bar_shapes, lr_bar

DEFAULT_PX_PER_MM = 5.25  # the 7-inch 800 x 480 panel


def _foot_outline(heel, length, angle_deg=90.0, y_down=True):
    """The corners of a foot outline: heel at ``heel``, pointing ``angle_deg`` (90 = up)."""
    a = math.radians(angle_deg)
    ux, uy = math.cos(a), (-1.0 if y_down else 1.0) * math.sin(a)
    px, py = -uy, ux
    w = length * 0.38
    pts = []
    for f, half in ((0.0, 0.28), (0.15, 0.42), (0.45, 0.36), (0.7, 0.5), (0.9, 0.44), (1.0, 0.25)):
        pts.append((heel[0] + ux * length * f + px * w * half, heel[1] + uy * length * f + py * w * half))
    for f, half in ((1.0, 0.25), (0.9, 0.44), (0.7, 0.5), (0.45, 0.2), (0.15, 0.42), (0.0, 0.28)):
        pts.append((heel[0] + ux * length * f - px * w * half, heel[1] + uy * length * f - py * w * half))
    return pts


def _foot(surface, color, heel, length, angle_deg=90.0, filled=False, width=3):
    """A foot outline: heel at ``heel`` (px), pointing ``angle_deg`` (90 = up)."""
    pygame.draw.polygon(surface, color, _foot_outline(heel, length, angle_deg), 0 if filled else width)


def _dot(surface, colors, pos, r):
    pygame.draw.circle(surface, colors.background, (int(pos[0]), int(pos[1])), r + 3)
    pygame.draw.circle(surface, colors.accent, (int(pos[0]), int(pos[1])), r)


def _arrow(surface, color, a, b, width=5):
    pygame.draw.line(surface, color, a, b, width)
    ang = math.atan2(b[1] - a[1], b[0] - a[0])
    head = 3.5 * width
    for s in (-1, 1):
        pygame.draw.line(surface, color, b, (b[0] - head * math.cos(ang + s * 0.5), b[1] - head * math.sin(ang + s * 0.5)), width)


def _stance(rect, gap_frac, offset_frac=0.0):
    """Heel points of the left and right foot for a stance (gap between the feet)."""
    length = rect.height * 0.55
    cx = rect.centerx
    y = rect.centery + length / 2
    g = rect.width * gap_frac
    return length, (cx - g / 2, y), (cx + g / 2, y - length * offset_frac)


def stand(surface, rect, t, colors, gap=0.22, offset=0.0, sway=1.0):
    length, lh, rh = _stance(rect, gap, offset)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    cx = (lh[0] + rh[0]) / 2
    cy = (lh[1] + rh[1]) / 2 - length * 0.45
    r = max(8, int(rect.height * 0.035))
    zone = int(rect.height * 0.12)
    pygame.draw.circle(surface, colors.good, (int(cx), int(cy)), zone, 3)
    _dot(surface, colors, (cx + sway * zone * 0.35 * math.sin(t * 1.3), cy + sway * zone * 0.3 * math.sin(t * 0.9 + 1)), r)


def feet_together(surface, rect, t, colors):
    stand(surface, rect, t, colors, gap=0.09)


def semi_tandem(surface, rect, t, colors):
    stand(surface, rect, t, colors, gap=0.07, offset=0.5)


def tandem_stance(surface, rect, t, colors):
    length = rect.height * 0.42
    cx = rect.centerx
    _foot(surface, colors.left, (cx, rect.bottom - rect.height * 0.05), length)
    _foot(surface, colors.right, (cx, rect.bottom - rect.height * 0.07 - length), length)
    _dot(surface, colors, (cx + 6 * math.sin(t * 1.4), rect.centery + 6 * math.sin(t)), max(8, int(rect.height * 0.035)))


def single_leg(surface, rect, t, colors):
    length, lh, rh = _stance(rect, 0.22)
    _foot(surface, colors.left, lh, length, filled=True)
    lift = (math.sin(t * 1.2) + 1) / 2
    c = tuple(int(v * (1 - 0.6 * lift) + b * 0.6 * lift) for v, b in zip(colors.right, colors.background, strict=True))
    _foot(surface, c, rh, length)
    _dot(surface, colors, (lh[0], lh[1] - length * 0.45), max(8, int(rect.height * 0.035)))


def _mm_to_px(rect, points_mm, margin_px):
    """A function mapping mat mm to pixels that fits ``points_mm`` into ``rect`` (forward up)."""
    xs = [p[0] for p in points_mm]
    ys = [p[1] for p in points_mm]
    w, h = max(1.0, max(xs) - min(xs)), max(1.0, max(ys) - min(ys))
    scale = min((rect.width - 2 * margin_px) / w, (rect.height - 2 * margin_px) / h)
    mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def px(x, y):
        return (rect.centerx + (x - mx) * scale, rect.centery - (y - my) * scale)
    return px, scale


def lean(surface, rect, t, colors, layout=None, px_per_mm=None):
    """Limits of stability: the drill's eight targets around the feet, as the live screen draws them;
    the dot leans out to each in turn (the lit one filled, reached ones ticked) and comes back to
    the middle circle between them."""
    if not layout or not layout.get("targets") or not layout.get("feet"):
        stand(surface, rect, t, colors)
        return
    sizes = marks.MarkSizes.for_display(px_per_mm or DEFAULT_PX_PER_MM)
    feet, targets = layout["feet"], layout["targets"]
    cx_mm, cy_mm = layout["centre_mm"]
    angles = [math.degrees(math.atan2(f["axis"][1], f["axis"][0])) for f in feet]
    outline = [p for f, a in zip(feet, angles, strict=True) for p in _foot_outline(f["heel_mm"], f["length_mm"], a, False)]
    to_px, scale = _mm_to_px(rect, outline, 3)
    for f, a in zip(feet, angles, strict=True):
        color = colors.left if f.get("side") == "left" else colors.right
        _foot(surface, color, to_px(*f["heel_mm"]), f["length_mm"] * scale, a)
    period = 3.0  # seconds per target: out, hold, back
    k = int(t / period) % len(targets)
    phase = (t % period) / period
    out = math.sin(math.pi * min(1.0, phase / 0.8))  # out and back; then a moment in the middle
    middle = out < 0.15
    if middle:
        marks.draw_zone_circle(surface, colors, to_px(cx_mm, cy_mm), max(4, int(15.0 * scale)), sizes)
    for i, tg in enumerate(targets):
        state = "done" if i < k else ("active" if i == k and not middle else "next")
        marks.draw_target(surface, colors, to_px(tg["x_mm"], tg["y_mm"]), max(3, int(tg["radius_mm"] * scale)), state, sizes)
    tg = targets[k]
    dot = to_px(cx_mm + out * (tg["x_mm"] - cx_mm), cy_mm + out * (tg["y_mm"] - cy_mm))
    marks.draw_dot(surface, colors, dot, sizes)
    if not middle and math.dist(dot, to_px(tg["x_mm"], tg["y_mm"])) < tg["radius_mm"] * scale + sizes.dot:
        # as on the live map: the lit target's ring stays over the dot on it
        marks.draw_target(surface, colors, to_px(tg["x_mm"], tg["y_mm"]), max(3, int(tg["radius_mm"] * scale)), "next", sizes)


def _shift(surface, rect, t, colors, axis):
    length, lh, rh = _stance(rect, 0.22)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    cx, cy = (lh[0] + rh[0]) / 2, lh[1] - length * 0.45
    amp = rect.width * 0.16 if axis == "ml" else length * 0.35
    s = math.sin(2 * math.pi * t / 2.0)
    if axis == "ml":
        _arrow(surface, colors.muted, (cx - amp * 0.3, cy - length * 0.55), (cx - amp, cy - length * 0.55), 4)
        _arrow(surface, colors.muted, (cx + amp * 0.3, cy - length * 0.55), (cx + amp, cy - length * 0.55), 4)
        pos = (cx + amp * s, cy)
    else:
        _arrow(surface, colors.muted, (lh[0] - length * 0.4, cy - amp * 0.2), (lh[0] - length * 0.4, cy - amp), 4)
        _arrow(surface, colors.muted, (lh[0] - length * 0.4, cy + amp * 0.2), (lh[0] - length * 0.4, cy + amp), 4)
        pos = (cx, cy - amp * s)
    _dot(surface, colors, pos, max(8, int(rect.height * 0.035)))


def sway_lr(surface, rect, t, colors):
    _shift(surface, rect, t, colors, "ml")


def sway_ap(surface, rect, t, colors):
    _shift(surface, rect, t, colors, "ap")


def rock(surface, rect, t, colors):
    """Heel-toe rocking: the dot rides from the heels to the toes and back."""
    length, lh, rh = _stance(rect, 0.22)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    cx = (lh[0] + rh[0]) / 2
    s = (math.sin(2 * math.pi * t / 3.0) + 1) / 2
    y = lh[1] - length * (0.12 + 0.76 * s)
    pygame.draw.line(surface, colors.target, (cx - 30, lh[1] - length * 0.12), (cx + 30, lh[1] - length * 0.12), 4)
    pygame.draw.line(surface, colors.target, (cx - 30, lh[1] - length * 0.88), (cx + 30, lh[1] - length * 0.88), 4)
    _dot(surface, colors, (cx, y), max(8, int(rect.height * 0.035)))


def tandem_walk(surface, rect, t, colors):
    """Heel-to-toe steps appear one after the other along a line."""
    length = rect.height * 0.2
    cx = rect.centerx
    n = 4
    shown = int(t / 0.8) % (n + 2)
    pygame.draw.line(surface, colors.muted, (cx, rect.bottom), (cx, rect.top), 2)
    for i in range(min(shown, n)):
        color = colors.left if i % 2 == 0 else colors.right
        _foot(surface, color, (cx, rect.bottom - 6 - i * length * 1.02), length * 0.98, filled=i == shown - 1)


def symmetry(surface, rect, t, colors, layout=None, px_per_mm=None):
    """Equal (or the prescribed) weight on both feet: the live screen's bar with its green band under
    the feet, the marker swaying and settling in the band, the dot moving between the feet with it."""
    ppm = px_per_mm or DEFAULT_PX_PER_MM
    share = (layout or {}).get("share") or {}
    target, tol = share.get("target_pct", 50.0), share.get("tolerance_pct", 3.5)
    bar_h = max(12, min(int(10.0 * ppm), int(rect.height * 0.1)))
    bar = pygame.Rect(rect.left + rect.width // 20, rect.bottom - bar_h - bar_h // 4 - 2, rect.width * 9 // 10, bar_h)
    feet = pygame.Rect(rect.left, rect.top, rect.width, bar.top - bar_h // 2 - rect.top)
    length, lh, rh = _stance(feet, 0.3)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    # Off to one side, then back into the band and held there (repeats every 8 s).
    left = target + 3.0 * max(tol, 1.0) * math.sin(t * 1.5) * math.exp(-0.5 * (t % 8))
    draw_lr_bar_shapes(surface, colors, lr_bar(bar, left, target, tol, ppm), max(2, int(0.5 * ppm)))
    cy = lh[1] - length * 0.45
    x = lh[0] + (rh[0] - lh[0]) * (1.0 - left / 100.0)
    marks.draw_dot(surface, colors, (x, cy), marks.MarkSizes.for_display(ppm))


def walk(surface, rect, t, colors):
    """Walking to a beat: footprints left, right, left... in time with a pulsing beat mark."""
    length = rect.height * 0.22
    cx = rect.centerx
    k = int(t / 0.55)
    for i in range(4):
        j = k - 3 + i
        side = j % 2
        x = cx + (-1 if side == 0 else 1) * length * 0.35
        y = rect.bottom - 10 - i * length * 0.95
        color = colors.left if side == 0 else colors.right
        _foot(surface, color, (x, y), length * 0.85, filled=(i == 3))
    beat = 1.0 - (t % 0.55) / 0.55
    pygame.draw.circle(surface, colors.target, (rect.right - 30, rect.top + 30), int(10 + 12 * beat))


PICTURES = {
    "stand": stand,
    "feet_together": feet_together,
    "semi_tandem": semi_tandem,
    "tandem_stance": tandem_stance,
    "single_leg": single_leg,
    "lean": lean,
    "sway_lr": sway_lr,
    "sway_ap": sway_ap,
    "rock": rock,
    "tandem_walk": tandem_walk,
    "symmetry": symmetry,
    "walk": walk,
}


def draw_picture(key: str, surface, rect, t, colors, layout=None, px_per_mm=None) -> None:
    picture = PICTURES.get(key, stand)
    if picture in (lean, symmetry):
        picture(surface, rect, t, colors, layout, px_per_mm)
    else:
        picture(surface, rect, t, colors)


# A moment of each animation that shows what to do (the dot out, the foot lifted, the steps laid
# out), for a still picture: the home-exercise sheet prints one frame.
STILL_T = {"single_leg": math.pi / 2.4, "lean": 1.2, "sway_lr": 0.5, "sway_ap": 0.5, "rock": 0.75,
           "tandem_walk": 3.3, "symmetry": 7.9, "walk": 1.9}


def print_colors(colors):
    """``colors`` for paper: a white ground, dark lines, and a darker yellow that shows on white."""
    from dataclasses import replace

    return replace(colors, background=(255, 255, 255), panel=(242, 242, 242), text=(0, 0, 0), muted=(90, 90, 90),
                   target=(200, 150, 0), good=(0, 140, 100))


def still_png(key: str, colors, size=(420, 420), layout=None, px_per_mm=None) -> bytes:
    """One frame of picture ``key`` on a plain surface (no display needed), as PNG bytes."""
    import io

    surface = pygame.Surface(size)
    surface.fill(colors.background)
    margin = size[0] // 16
    draw_picture(key, surface, surface.get_rect().inflate(-2 * margin, -2 * margin), STILL_T.get(key, 0.0), colors,
                 layout, px_per_mm)
    buf = io.BytesIO()
    pygame.image.save(surface, buf, "still.png")
    return buf.getvalue()
