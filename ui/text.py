"""Fonts and rendered-text caching.

Rendering text is the most expensive thing a patient screen does each frame,
and almost every string repeats from one frame to the next, so rendered
surfaces are cached by (text, size, colour). The cache is bounded (live
numbers change every frame and must not grow it without limit).
"""

from __future__ import annotations

from collections import OrderedDict

import pygame

# A humanist sans with clear 1/l/I and 0/O; DejaVu ships with Raspberry Pi OS
# and Debian. pygame's bundled font is the fallback everywhere else.
PREFERRED = ("dejavusans", "notosans", "liberationsans", "freesans")


class Fonts:
    def __init__(self, cache_size: int = 512):
        if not pygame.font.get_init():
            pygame.font.init()
        self._path = None
        for name in PREFERRED:
            path = pygame.font.match_font(name, bold=True)
            if path:
                self._path = path
                break
        self._fonts: dict[int, pygame.font.Font] = {}
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size

    def font(self, size_px: int) -> pygame.font.Font:
        f = self._fonts.get(size_px)
        if f is None:
            f = self._fonts[size_px] = pygame.font.Font(self._path, size_px)
        return f

    def render(self, text: str, size_px: int, color) -> pygame.Surface:
        key = (text, size_px, tuple(color))
        surf = self._cache.get(key)
        if surf is not None:
            self._cache.move_to_end(key)
            return surf
        surf = self.font(size_px).render(text, True, color)
        self._cache[key] = surf
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return surf

    def wrap(self, text: str, size_px: int, width_px: int) -> list[str]:
        """Split ``text`` into lines no wider than ``width_px`` (words kept whole)."""
        font = self.font(size_px)
        lines: list[str] = []
        for paragraph in text.split("\n"):
            words = paragraph.split()
            line = ""
            for word in words:
                trial = f"{line} {word}".strip()
                if line and font.size(trial)[0] > width_px:
                    lines.append(line)
                    line = word
                else:
                    line = trial
            lines.append(line)
        return lines


def fit_size(fonts: Fonts, text: str, size_px: int, width_px: int, min_px: int = 12) -> int:
    """The largest size <= ``size_px`` at which ``text`` fits in ``width_px`` on one line."""
    while size_px > min_px and fonts.font(size_px).size(text)[0] > width_px:
        size_px -= 2
    return size_px


def blit_text(surface, fonts: Fonts, text: str, size_px: int, color, pos, anchor: str = "topleft") -> pygame.Rect:
    surf = fonts.render(text, size_px, color)
    rect = surf.get_rect(**{anchor: pos})
    surface.blit(surf, rect)
    return rect


def blit_paragraph(surface, fonts: Fonts, text: str, size_px: int, color, rect: pygame.Rect,
                   align: str = "left", line_gap: float = 1.25) -> int:
    """Draw wrapped text inside ``rect`` from its top; return the y below the last line."""
    y = rect.top
    step = int(size_px * line_gap)
    for line in fonts.wrap(text, size_px, rect.width):
        if y + size_px > rect.bottom:
            break
        if line:
            anchor, x = {"left": ("topleft", rect.left), "center": ("midtop", rect.centerx)}[align]
            blit_text(surface, fonts, line, size_px, color, (x, y), anchor)
        y += step
    return y
