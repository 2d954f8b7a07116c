"""A long list on the touchscreen: rows of one height, scrolled by drag and fling or page by page.

Made for thousands of rows (a clinic's 5,000 patients) at the display's frame rate: a frame
draws only the rows in view, and each row's picture (its text, rendered once) is kept in a
small cache by the row's key, so scrolling blits surfaces instead of laying out text. A finger
that goes down and up without moving more than :data:`TAP_MM` is a tap on that row; one that
moves drags the list, and lifting it while moving lets the list run on (a fling) and slow down.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable

import pygame

from ui import text as textmod
from ui.widgets import DOWN, MOVE, UP, pointer

TAP_MM = 3.0  # a finger moving less than this between down and up taps; more drags
FLING_DECAY = 4.0  # 1/s: the fling's speed falls to 1/e in a quarter second
FLING_MIN = 30.0  # px/s: slower than this the list stops
CACHE_ROWS = 256  # row pictures kept (a few screens' worth)


class Row:
    """A row's picture and the strings on it (local pixels), for the text-fit check (ui.text.TextLog)."""

    def __init__(self, size: tuple[int, int]):
        self.surface = pygame.Surface(size, pygame.SRCALPHA)
        self.texts: list[tuple[str, int, pygame.Rect]] = []

    def text(self, fonts, text: str, size_px: int, color, pos, anchor: str = "topleft") -> pygame.Rect:
        surf = fonts.render(text, size_px, color)
        rect = surf.get_rect(**{anchor: pos})
        self.surface.blit(surf, rect)
        box = surf.get_bounding_rect()
        if text.strip() and box.width:
            self.texts.append((text, size_px, box.move(rect.topleft)))
        return rect


class ScrollList:
    """``count`` rows of ``row_h`` pixels inside ``rect``; ``render(i, size) -> Surface`` draws row ``i``
    (a :class:`Row`, made once per row key until it falls out of the cache), ``key(i)`` names its picture."""

    def __init__(self, rect: pygame.Rect, row_h: int, render: Callable[[int, tuple[int, int]], Row],
                 key: Callable[[int], Hashable], tap_px: int):
        self.rect = pygame.Rect(rect)
        self.row_h = max(1, int(row_h))
        self.render = render
        self.key = key
        self.tap_px = tap_px
        self.count = 0
        self.offset = 0.0  # pixels scrolled from the top
        self.velocity = 0.0  # px/s of a fling
        self.clock = 0.0  # time advanced by update(): when the finger's moves happened
        self._down: tuple[float, float] | None = None  # (y, offset) where the finger went down
        self._moved = False
        self._track: list[tuple[float, float]] = []  # (clock, y) of the last moves, for the fling's speed
        self._cache: OrderedDict[Hashable, Row] = OrderedDict()
        self.rendered = 0  # row pictures made (benchmarks: a scroll should reuse most)

    def set_count(self, count: int) -> None:
        self.count = count
        self.offset = min(self.offset, self.max_offset)

    def forget(self) -> None:
        """Drop the row pictures (the rows' contents changed)."""
        self._cache.clear()

    @property
    def max_offset(self) -> float:
        return float(max(0, self.count * self.row_h - self.rect.height))

    def _clamp(self) -> None:
        if self.offset < 0 or self.offset > self.max_offset:
            self.velocity = 0.0
        self.offset = max(0.0, min(self.max_offset, self.offset))

    def page(self, direction: int) -> None:
        """One screenful down (+1) or up (-1), keeping a row of the last one in view."""
        self.velocity = 0.0
        self.offset += direction * max(self.row_h, self.rect.height - self.row_h)
        self._clamp()

    def visible(self) -> range:
        first = int(self.offset // self.row_h)
        last = min(self.count, math.ceil((self.offset + self.rect.height) / self.row_h))
        return range(first, last)

    def row_at(self, y: int) -> int | None:
        i = int((y - self.rect.top + self.offset) // self.row_h)
        return i if 0 <= i < self.count else None

    def handle(self, event, size) -> int | None:
        """The row tapped, if this event ends a tap; drags and flings are taken here."""
        p = pointer(event, size)
        if p is None:
            return None
        kind, (x, y) = p
        if kind == DOWN and self.rect.collidepoint(x, y):
            self._down, self._moved, self.velocity = (y, self.offset), False, 0.0
            self._track = [(self.clock, y)]
        elif kind == MOVE and self._down is not None:
            y0, off0 = self._down
            self._moved = self._moved or abs(y - y0) > self.tap_px
            if self._moved:
                self.offset = off0 - (y - y0)
                self._clamp()
            self._track = [*self._track[-4:], (self.clock, y)]
        elif kind == UP and self._down is not None:
            down, self._down = self._down, None
            if not self._moved and abs(y - down[0]) <= self.tap_px:
                return self.row_at(y)
            track = [(t, ty) for t, ty in self._track if t >= self.clock - 0.1]
            if len(track) >= 2 and track[-1][0] > track[0][0]:
                self.velocity = -(track[-1][1] - track[0][1]) / (track[-1][0] - track[0][0])
        return None

    def update(self, dt: float) -> None:
        self.clock += dt
        if self.velocity and self._down is None:
            self.offset += self.velocity * dt
            self.velocity *= math.exp(-FLING_DECAY * dt)
            if abs(self.velocity) < FLING_MIN:
                self.velocity = 0.0
            self._clamp()

    def picture(self, i: int) -> Row:
        key = self.key(i)
        surf = self._cache.get(key)
        if surf is None:
            surf = self._cache[key] = self.render(i, (self.rect.width, self.row_h))
            self.rendered += 1
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return surf

    def draw(self, surface) -> None:
        clip = surface.get_clip()
        surface.set_clip(self.rect)
        for i in self.visible():
            row = self.picture(i)
            at = (self.rect.left, self.rect.top + i * self.row_h - int(self.offset))
            surface.blit(row.surface, at)
            if textmod._LOGS:  # a fit check is on: the row's strings as drawn, if the row is wholly in view
                box = pygame.Rect(at, row.surface.get_size())
                for text, size, ink in row.texts if self.rect.contains(box) else ():
                    room = ink.move(at)
                    cut = "" if box.contains(room) else f"outside its row (letters at {tuple(room)}, row {tuple(box)})"
                    textmod._note(textmod.Drawn(text, size, room, box, cut))
        surface.set_clip(clip)
