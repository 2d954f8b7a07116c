"""Animated pictures of what to do, drawn from shapes (no image files).

Each picture is a function ``(surface, rect, t, colors)`` drawing one frame
at animation time ``t`` (s) seen from above, forward up, like the heat map
the patient will see during the drill: foot outlines, a dot for where the
weight is, arrows for where to move it. ``PICTURES`` maps a key (a drill's
``picture``) to its function; an unknown key draws the plain standing feet.
"""

from __future__ import annotations

import math

import pygame


def _foot(surface, color, heel, length, angle_deg=90.0, filled=False, width=3):
    """A foot outline: heel at ``heel`` (px), pointing ``angle_deg`` (90 = up)."""
    a = math.radians(angle_deg)
    ux, uy = math.cos(a), -math.sin(a)  # screen y down
    px, py = -uy, ux
    w = length * 0.38
    pts = []
    for f, half in ((0.0, 0.28), (0.15, 0.42), (0.45, 0.36), (0.7, 0.5), (0.9, 0.44), (1.0, 0.25)):
        pts.append((heel[0] + ux * length * f + px * w * half, heel[1] + uy * length * f + py * w * half))
    for f, half in ((1.0, 0.25), (0.9, 0.44), (0.7, 0.5), (0.45, 0.2), (0.15, 0.42), (0.0, 0.28)):
        pts.append((heel[0] + ux * length * f - px * w * half, heel[1] + uy * length * f - py * w * half))
    pygame.draw.polygon(surface, color, pts, 0 if filled else width)


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


def lean(surface, rect, t, colors):
    """Limits of stability: the dot travels out to one of eight targets and back."""
    length, lh, rh = _stance(rect, 0.22)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    cx, cy = (lh[0] + rh[0]) / 2, lh[1] - length * 0.45
    rad = rect.height * 0.3
    k = int(t / 2.0) % 8
    phase = (t % 2.0) / 2.0
    out = math.sin(math.pi * phase)
    for i in range(8):
        a = math.radians(90 - 45 * i)
        p = (cx + rad * math.cos(a), cy - rad * math.sin(a))
        pygame.draw.circle(surface, colors.target, (int(p[0]), int(p[1])), max(8, int(rect.height * 0.045)), 0 if i == k else 3)
    a = math.radians(90 - 45 * k)
    _dot(surface, colors, (cx + out * rad * math.cos(a), cy - out * rad * math.sin(a)), max(8, int(rect.height * 0.035)))


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


def symmetry(surface, rect, t, colors):
    """Equal weight on both feet: two columns of equal height."""
    length, lh, rh = _stance(rect, 0.3)
    _foot(surface, colors.left, lh, length)
    _foot(surface, colors.right, rh, length)
    s = 0.5 + 0.15 * math.sin(t * 1.5) * math.exp(-0.15 * (t % 8))
    bar = pygame.Rect(rect.left + rect.width * 0.1, rect.top + 8, rect.width * 0.8, max(12, rect.height * 0.07))
    pygame.draw.rect(surface, colors.panel, bar, border_radius=6)
    pygame.draw.line(surface, colors.target, (bar.centerx, bar.top - 6), (bar.centerx, bar.bottom + 6), 4)
    x = bar.left + bar.width * (1 - s)
    pygame.draw.rect(surface, colors.accent, pygame.Rect(x - 6, bar.top - 6, 12, bar.height + 12), border_radius=6)


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


def draw_picture(key: str, surface, rect, t, colors) -> None:
    PICTURES.get(key, stand)(surface, rect, t, colors)
