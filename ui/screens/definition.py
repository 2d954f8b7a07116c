"""A number's definition over a staff screen: the session review's "one tap from its definition".

The row (gaitkiosk/review_words.py) carries its value, unit, sensor, calibration state and the
docs/metrics.md entry of its field; :func:`definition_words` says them in a paragraph that fits
the panel (the construction's paragraph word by word, as much as there is room for, the
meaning before the definition if even that is too long), :func:`draw_definition` draws the panel.
"""

from __future__ import annotations

import pygame

from ui.screens.common import margin
from ui.text import blit_paragraph, blit_text, fit_size, paragraph_height


def definition_words(app, r: dict, room: pygame.Rect, size: int) -> str:
    """The definition of row ``r`` in words, trimmed to fit ``room`` at ``size`` px."""
    d = r.get("definition") or {}
    value = f"{r['text']} {r['unit']}".strip() if r["text"] != "n/a" else "n/a"
    parts = [f"{value} · from the {r['sensor']} · calibration: {r['calibration']}."]
    if r.get("why_null"):
        parts.append(f"Not available: {r['why_null']}.")
    # "(below)" points down the document, which is not on the screen; its paragraph follows here
    definition = d.get("definition", "not documented").replace(" (below)", "").replace("below; ", "")
    parts.append(f"Definition: {definition}" + (f" ({d['unit']})" if d.get("unit") else "") + ".")
    if d.get("meaning"):
        parts.append(f"Meaning: {d['meaning']}.")
    source = f"({d.get('section', 'docs/metrics.md')})"

    def fits(words: str) -> bool:
        return paragraph_height(len(app.fonts.wrap(words, size, room.width)), size) <= room.height

    while len(parts) > 2 and not fits(" ".join(parts + [source])):
        parts.pop()  # the meaning goes before the definition does
    more = (d.get("more") or "").split()
    lo, hi = 0, len(more)  # the most words of the construction's paragraph that fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        tail = " ".join(more[:mid]) + ("" if mid == len(more) else " …")
        if fits(" ".join(parts + [tail, source])):
            lo = mid
        else:
            hi = mid - 1
    tail = [" ".join(more[:lo]) + ("" if lo == len(more) else " …")] if lo else []
    return " ".join(parts + tail + [source])


def draw_definition(surface, app, r: dict, box: pygame.Rect, close_button) -> None:
    """The panel in ``box``: the row's whole label, Close, and its definition in words."""
    c = app.theme.colors
    small = app.text_px("small")
    pygame.draw.rect(surface, c.panel, box, border_radius=10)
    pygame.draw.rect(surface, c.muted, box, width=2, border_radius=10)
    m = margin(app)
    close_button.draw(surface, app)
    inner = pygame.Rect(box.left + m, box.top + m // 2, box.width - 2 * m, box.height - m)
    title_room = pygame.Rect(inner.left, inner.top, close_button.rect.left - m - inner.left, app.target_px)
    size = fit_size(app.fonts, r["label"], app.text_px("body"), title_room.width, small)
    blit_text(surface, app.fonts, r["label"], size, c.text, (title_room.left, title_room.centery), "midleft",
              room=title_room)
    text = pygame.Rect(inner.left, close_button.rect.bottom + m // 2, inner.width,
                       inner.bottom - close_button.rect.bottom - m // 2)
    blit_paragraph(surface, app.fonts, definition_words(app, r, text, small), small, c.text, text)
