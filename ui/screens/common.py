"""Layout helpers shared by the patient screens."""

from __future__ import annotations

import pygame

from ui.text import blit_paragraph, blit_text, fit_size, note_cover


def margin(app) -> int:
    return app.mm(4)


def header(surface, app, title: str, subtitle: str | None = None, beside: bool = False, right: int | None = None,
           clear_below: int = 0) -> int:
    """Title at the top left and an optional smaller line under it (``beside``: to its right on the
    same baseline when both fit on one line, which leaves more room below); returns the y below.
    ``right``: the x the header must stay left of (buttons beside it) above ``clear_below``."""
    c = app.theme.colors
    m = margin(app)
    room = pygame.Rect(m, 0, (app.size[0] - m if right is None else right) - m, app.size[1])
    size = fit_size(app.fonts, title, app.text_px("title"), room.width, app.text_px("body"))
    small = app.text_px("small")
    side = beside and subtitle and \
        app.fonts.font(size).size(title)[0] + 2 * m + app.fonts.font(small).size(subtitle)[0] <= room.width
    r = blit_text(surface, app.fonts, title, size, c.text, (m, m), room=room)
    y = r.bottom + m // 2
    if side:
        baseline = r.top + app.fonts.font(size).get_ascent()
        blit_text(surface, app.fonts, subtitle, small, c.muted, (room.right, baseline - app.fonts.font(small).get_ascent()),
                  "topright", room=room)
    elif subtitle:
        if y >= clear_below:
            room = pygame.Rect(m, 0, app.size[0] - 2 * m, app.size[1])
        r = blit_text(surface, app.fonts, subtitle, small, c.muted, (m, y), room=room)
        y = r.bottom + m // 2
    return y


def paragraph(surface, app, text: str, rect: pygame.Rect, kind: str = "body", color=None, align="left") -> int:
    return blit_paragraph(surface, app.fonts, text, app.text_px(kind), color or app.theme.colors.text, rect, align)


def fit_paragraph(surface, app, text: str, rect: pygame.Rect, max_lines: int, color=None) -> int:
    """Body text that never overflows: shrinks toward the small size to fit ``max_lines``."""
    size, small = app.text_px("body"), app.text_px("small")
    while size > small and len(app.fonts.wrap(text, size, rect.width)) > max_lines:
        size -= 2
    box = pygame.Rect(rect.left, rect.top, rect.width, int(size * 1.25 * max_lines) + 2)
    return blit_paragraph(surface, app.fonts, text, size, color or app.theme.colors.text, box)


def fit_in_rect(surface, app, text: str, rect: pygame.Rect, color=None) -> int:
    """Body text shrunk (never below the small size) until it fits inside ``rect``."""
    size, small = app.text_px("body"), app.text_px("small")
    while size > small and len(app.fonts.wrap(text, size, rect.width)) * int(size * 1.25) > rect.height:
        size = max(small, size - 2)  # an odd gap (body 34, small 25) must not step under the small size
    return blit_paragraph(surface, app.fonts, text, size, color or app.theme.colors.text, rect)


def banner(surface, app, text: str, style: str = "stop") -> pygame.Rect:
    """A full-width message band across the middle of the screen (alerts, 'paused')."""
    c = app.theme.colors
    fill, fg = {"stop": (c.stop, c.dark_text), "warn": (c.warn, c.dark_text)}.get(style, (c.panel, c.text))
    w, h = app.size
    size = app.text_px("body")
    lines = app.fonts.wrap(text, size, w - 4 * margin(app))
    band_h = len(lines) * int(size * 1.3) + 2 * margin(app)
    rect = pygame.Rect(0, 0, w, band_h)
    rect.center = (w // 2, h // 2 - app.target_px // 2)
    pygame.draw.rect(surface, fill, rect)
    note_cover(f"the band {text!r}", rect)
    y = rect.top + margin(app)
    for line in lines:
        blit_text(surface, app.fonts, line, size, fg, (w // 2, y), "midtop", room=rect)
        y += int(size * 1.3)
    return rect


def button_row(app, ids_labels_styles, bottom: int | None = None, right: int | None = None, width_mm: float = 42.0):
    """Buttons in a row, right-aligned at the bottom of the screen."""
    from ui.widgets import Button

    m = margin(app)
    h = app.target_px
    w = max(app.mm(width_mm), h)
    right = app.size[0] - m if right is None else right
    y = (app.size[1] - m if bottom is None else bottom) - h
    out = []
    for bid, label, style in reversed(ids_labels_styles):
        out.append(Button(bid, label, pygame.Rect(right - w, y, w, h), style))
        right -= w + m
    return list(reversed(out))
