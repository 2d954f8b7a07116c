"""Fonts, rendered-text caching, and a record of every string drawn.

Rendering text is the most expensive thing a patient screen does each frame,
and almost every string repeats from one frame to the next, so rendered
surfaces are cached by (text, size, colour). The cache is bounded (live
numbers change every frame and must not grow it without limit).

Every string a screen shows goes through :func:`blit_text` or
:func:`blit_paragraph`, each given the room it must fit in. While a
:class:`TextLog` is open they note what they drew and whether any of it
cannot be read: letters outside their room or off the screen, lines of a
paragraph that did not fit, text under the smallest size, and text that a
band drawn later covers (:func:`note_cover`). Tests draw every screen in every
state with a log open and ask it what was cut (``tests/test_ui_fit.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pygame

# A humanist sans with clear 1/l/I and 0/O; DejaVu ships with Raspberry Pi OS
# and Debian. pygame's bundled font is the fallback everywhere else.
PREFERRED = ("dejavusans", "notosans", "liberationsans", "freesans")


class Fonts:
    def __init__(self, cache_size: int = 512, wrap_cache_size: int = 256):
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
        # Wrapped lines by (text, size, width): a live screen wraps the same cue every frame, and
        # measuring it word by word was a tenth of the drill screen's CPU (bench/bench_kiosk_cpu.py).
        self._wraps: OrderedDict = OrderedDict()
        self.wrap_cache_size = wrap_cache_size  # 0: no cache

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
        """Split ``text`` into lines no wider than ``width_px``: at spaces, and a word wider than a
        whole line (a device path in a line for staff) where it must."""
        key = (text, size_px, width_px)
        lines = self._wraps.get(key)
        if lines is None:
            lines = self._wrap(text, size_px, width_px)
            if self.wrap_cache_size:
                self._wraps[key] = lines
                if len(self._wraps) > self.wrap_cache_size:
                    self._wraps.popitem(last=False)
        else:
            self._wraps.move_to_end(key)
        return list(lines)  # the caller's own list: the cached one stays as it was

    def _wrap(self, text: str, size_px: int, width_px: int) -> list[str]:
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
                while font.size(line)[0] > width_px and len(line) > 1:
                    cut = _fitting_prefix(font, line, width_px)
                    lines.append(line[:cut])
                    line = line[cut:]
            lines.append(line)
        return lines


def _fitting_prefix(font, text: str, width_px: int) -> int:
    """How many leading characters of ``text`` fit in ``width_px`` (at least one)."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.size(text[:mid])[0] <= width_px:
            lo = mid
        else:
            hi = mid - 1
    return lo


def fit_size(fonts: Fonts, text: str, size_px: int, width_px: int, min_px: int = 12) -> int:
    """The largest size <= ``size_px`` at which ``text`` fits in ``width_px`` on one line."""
    while size_px > min_px and fonts.font(size_px).size(text)[0] > width_px:
        size_px -= 2
    return size_px


def wrap_size(fonts: Fonts, text: str, size_px: int, min_px: int, width_px: int, height_px: int,
              line_gap: float = 1.25) -> int:
    """The largest size from ``size_px`` down to ``min_px`` at which ``text``, wrapped to ``width_px``,
    fits ``height_px`` as :func:`blit_paragraph` lays it out (``min_px`` when none does)."""
    while size_px > min_px and not paragraph_fits(fonts, text, size_px, width_px, height_px, line_gap):
        size_px -= 2
    return max(size_px, min_px)


def paragraph_fits(fonts: Fonts, text: str, size_px: int, width_px: int, height_px: int,
                   line_gap: float = 1.25) -> bool:
    lines = fonts.wrap(text, size_px, width_px)
    widest = max((fonts.font(size_px).size(line)[0] for line in lines), default=0)
    return widest <= width_px and paragraph_height(len(lines), size_px, line_gap) <= height_px


def paragraph_height(lines: int, size_px: int, line_gap: float = 1.25) -> int:
    """The height :func:`blit_paragraph` needs for ``lines`` lines (the last one without its gap)."""
    return 0 if lines <= 0 else int(size_px * line_gap) * (lines - 1) + size_px


def blit_text(surface, fonts: Fonts, text: str, size_px: int, color, pos, anchor: str = "topleft",
              room: pygame.Rect | None = None) -> pygame.Rect:
    """Draw one line; ``room`` is where it must fit (the screen if None), for the :class:`TextLog`."""
    surf = fonts.render(text, size_px, color)
    rect = surf.get_rect(**{anchor: pos})
    surface.blit(surf, rect)
    if _LOGS and text.strip():
        _note_text(surface, text, size_px, surf, rect, room)
    return rect


def blit_paragraph(surface, fonts: Fonts, text: str, size_px: int, color, rect: pygame.Rect,
                   align: str = "left", line_gap: float = 1.25) -> int:
    """Draw wrapped text inside ``rect`` from its top; return the y below the last line.

    Lines that do not fit above ``rect.bottom`` are not drawn (an open :class:`TextLog` says so).
    """
    y = rect.top
    step = int(size_px * line_gap)
    lines = fonts.wrap(text, size_px, rect.width)
    # Room for each line: the rect's width; its height is what the dropped-lines check is for.
    across = pygame.Rect(rect.left, -(1 << 20), rect.width, 1 << 21)
    for i, line in enumerate(lines):
        if y + size_px > rect.bottom:
            if _LOGS:
                rest = " ".join(lines[i:]).strip()
                if rest:
                    _note(Drawn(rest, size_px, pygame.Rect(rect.left, y, 0, 0), rect,
                                f"{len(lines) - i} of {len(lines)} lines did not fit"))
            break
        if line:
            anchor, x = {"left": ("topleft", rect.left), "center": ("midtop", rect.centerx)}[align]
            blit_text(surface, fonts, line, size_px, color, (x, y), anchor, room=across)
        y += step
    return y


# -- the record of what was drawn ---------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """One string as drawn: ``ink`` the pixels its letters cover, ``room`` where it had to fit,
    ``cut`` why some of it cannot be read ("" when it all can)."""

    text: str
    size_px: int
    ink: pygame.Rect
    room: pygame.Rect | None
    cut: str = ""


@dataclass(frozen=True)
class Cover:
    """An opaque band drawn over the screen (a banner): what was drawn before under it is hidden."""

    what: str
    rect: pygame.Rect


class TextLog:
    """Everything drawn while it is open (``with TextLog() as log:``), in drawing order.

    Only the thread that draws should open one: it is a plain list, for tests and the gallery.
    """

    def __init__(self):
        self.items: list[Drawn | Cover] = []

    def __enter__(self) -> TextLog:
        _LOGS.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _LOGS.remove(self)

    def clear(self) -> None:
        self.items.clear()

    @property
    def drawn(self) -> list[Drawn]:
        return [d for d in self.items if isinstance(d, Drawn)]

    def texts(self) -> list[str]:
        return [d.text for d in self.drawn]

    def problems(self, min_px: int = 0) -> list[str]:
        """Every way a string cannot be read, one line each (empty: all is readable)."""
        out = [f"{d.text!r}: {d.cut}" for d in self.drawn if d.cut]
        out += [f"{d.text!r}: {d.size_px} px, under the smallest text size ({min_px} px)"
                for d in self.drawn if d.size_px < min_px]
        drawn = [d for d in self.drawn if d.ink.width and d.ink.height]
        for i, a in enumerate(drawn):
            for b in drawn[i + 1:]:
                if a.ink.colliderect(b.ink):
                    out.append(f"{a.text!r} and {b.text!r} overlap")
        for k, cover in enumerate(self.items):
            if isinstance(cover, Cover):
                for d in self.items[:k]:
                    if isinstance(d, Drawn) and d.ink.colliderect(cover.rect):
                        out.append(f"{d.text!r} is covered by {cover.what}")
        return out


_LOGS: list[TextLog] = []


def new_frame() -> None:
    """The screen is drawn afresh (a gallery state redrawn once its plots are done): open
    :class:`TextLog` s keep only what the new frame draws."""
    for log in _LOGS:
        log.clear()


def text_logged() -> bool:
    """A :class:`TextLog` is open: a screen that keeps unchanged parts from frame to frame draws them
    all again, so that the log sees every string of the frame."""
    return bool(_LOGS)


def note_cover(what: str, rect: pygame.Rect) -> None:
    """Tell an open :class:`TextLog` that an opaque band now covers ``rect``."""
    for log in _LOGS:
        log.items.append(Cover(what, pygame.Rect(rect)))


def _note(item) -> None:
    for log in _LOGS:
        log.items.append(item)


def _note_text(surface, text: str, size_px: int, surf, rect: pygame.Rect, room) -> None:
    box = surf.get_bounding_rect()
    ink = box.move(rect.topleft) if box.width and box.height else pygame.Rect(rect.topleft, (0, 0))
    screen = surface.get_rect()
    cut = ""
    if not screen.contains(ink):
        cut = f"off the screen (letters at {tuple(ink)}, screen {screen.size})"
    elif room is not None and not pygame.Rect(room).contains(ink):
        cut = f"outside its room (letters at {tuple(ink)}, room {tuple(room)})"
    _note(Drawn(text, size_px, ink, None if room is None else pygame.Rect(room), cut))
