"""What is drawn over a pressure map: the COP dot and its trail, targets, zones.

Shared by the live screen (``ui.heatmap.MatView``) and the instruction pictures (``ui.pictures``),
so that a picture shows exactly what the drill will show. Places and target radii are the drill's
(mat millimetres, converted by the caller); line widths and the dot are millimetres on the glass
(:class:`MarkSizes`), so they read from a metre away on any panel.

Every mark is two-tone: a light core inside a black edge. The map under it runs from dark blue to
bright yellow, and no single colour stands out on all of it; a light core stands out on the dark
part and the black edge on the light part (the test checks 3:1 or better everywhere on the scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

TRAIL_MM = 1.6  # the COP trail's light core
EDGE_MM = 0.6  # the black edge around every mark
DOT_MM = 3.0  # the COP dot's radius
RING_MM = 1.0  # a target or zone ring


@dataclass(frozen=True)
class MarkSizes:
    """Mark sizes in pixels for one display (``px_per_mm``: pixels per millimetre of glass)."""

    trail: int
    edge: int
    dot: int
    ring: int

    @classmethod
    def for_display(cls, px_per_mm: float) -> MarkSizes:
        def px(mm):
            return max(1, int(round(mm * px_per_mm)))
        return cls(trail=max(3, px(TRAIL_MM)), edge=max(2, px(EDGE_MM)), dot=max(6, px(DOT_MM)), ring=max(3, px(RING_MM)))


def _polyline(surface, color, pts, width: int) -> None:
    """A thick polyline with round joints (pygame's thick lines leave notches at the corners)."""
    pygame.draw.lines(surface, color, False, pts, width)
    r = width // 2
    if r >= 2:
        for p in pts:
            pygame.draw.circle(surface, color, p, r)


def thin_out(pts, min_px: float) -> list:
    """Points at least ``min_px`` apart (the last one always kept): fewer, cleaner segments."""
    out = []
    for p in pts:
        if not out or math.hypot(p[0] - out[-1][0], p[1] - out[-1][1]) >= min_px:
            out.append(p)
    if pts and out[-1] != pts[-1]:
        out.append(pts[-1])
    return out


def trail_min_px(sizes: MarkSizes) -> float:
    """How far apart the trail's points are drawn (closer ones are left out: cleaner segments)."""
    return max(2.0, sizes.trail / 2)


def draw_trail(surface, colors, pts, sizes: MarkSizes) -> None:
    """Where the COP has just been: a light line with a black edge (screen points, oldest first)."""
    pts = thin_out([(int(x), int(y)) for x, y in pts], trail_min_px(sizes))
    if len(pts) < 2:
        return
    _polyline(surface, colors.dark_text, pts, sizes.trail + 2 * sizes.edge)
    _polyline(surface, colors.text, pts, sizes.trail)


def draw_dot(surface, colors, p, sizes: MarkSizes) -> None:
    """The patient's dot (where their weight is): accent fill, a light ring, a black edge."""
    p = (int(p[0]), int(p[1]))
    pygame.draw.circle(surface, colors.dark_text, p, sizes.dot + sizes.edge)
    pygame.draw.circle(surface, colors.text, p, sizes.dot)
    pygame.draw.circle(surface, colors.accent, p, max(2, sizes.dot - sizes.edge))


def _ring(surface, color, edge_color, c, r: int, sizes: MarkSizes) -> None:
    """A ring whose outer edge is exactly radius ``r``: black, colour, black from the outside in."""
    ring = max(1, min(sizes.ring, r // 3))
    edge = max(1, min(sizes.edge, r // 4))
    pygame.draw.circle(surface, edge_color, c, r, min(r, ring + 2 * edge))
    pygame.draw.circle(surface, color, c, r - edge, min(r - edge, ring))


def draw_target(surface, colors, c, r: int, state: str, sizes: MarkSizes) -> None:
    """A target of radius ``r`` px at ``c``: 'active' filled with a hole (lean here now), 'flash' filled
    (a beat), 'next' a ring, 'done' a ring with a tick, 'missed' a grey ring. Nothing is drawn outside radius ``r``, so two targets
    whose areas keep a gap keep it on the screen. Shapes, not only colours, tell the states apart."""
    c = (int(c[0]), int(c[1]))
    r = max(3, int(r))
    if state in ("active", "flash"):
        pygame.draw.circle(surface, colors.dark_text, c, r)
        pygame.draw.circle(surface, colors.target, c, r - max(1, min(sizes.edge, r // 4)))
        if state == "active":
            pygame.draw.circle(surface, colors.dark_text, c, max(2, r // 3))
    elif state == "done":
        _ring(surface, colors.good, colors.dark_text, c, r, sizes)
        w = max(2, min(sizes.ring, r // 3))
        tick = [(c[0] - r // 2, c[1]), (c[0] - r // 8, c[1] + r // 2), (c[0] + r // 2, c[1] - r // 2)]
        _polyline(surface, colors.dark_text, tick, w + 2)
        _polyline(surface, colors.good, tick, w)
    elif state == "missed":
        _ring(surface, colors.muted, colors.dark_text, c, r, sizes)
    else:
        _ring(surface, colors.target, colors.dark_text, c, r, sizes)


def draw_zone_circle(surface, colors, c, r: int, sizes: MarkSizes) -> None:
    """The zone to stay in: a green ring."""
    _ring(surface, colors.good, colors.dark_text, (int(c[0]), int(c[1])), max(3, int(r)), sizes)


def draw_zone_rect(surface, colors, rect: pygame.Rect, sizes: MarkSizes) -> None:
    """A band to stay in: a green outline with a black edge on both sides."""
    w = sizes.ring
    e = sizes.edge
    pygame.draw.rect(surface, colors.dark_text, rect.inflate(2 * e, 2 * e), w + 2 * e)
    pygame.draw.rect(surface, colors.good, rect, w)
