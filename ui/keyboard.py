"""An on-screen keyboard for the few words staff type on the kiosk (a patient's name, a note).

Our own widget (like the keypad in ``ui/widgets.py``): letters in the QWERTY order, a second
layer of digits and punctuation ("123" / "ABC"), the apostrophe and hyphen of names beside Space, Shift (the next letter upper case; the first
letter of the text and of each word after a space is upper case by itself, as names are),
Delete, Space and Done. Ten keys' widths to a row, each at least the theme's smallest touch target wide
and high when the screen allows it (15 mm: 10 keys fill the 7-inch panel's width).
"""

from __future__ import annotations

import pygame

from ui.widgets import Button, ButtonSet

LETTERS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
SYMBOLS = ("1234567890", "@#&()/:;!", "+=*%_,.")
# the last row, in key widths of ten to a row: (key, label, width)
BOTTOM = (("layer", None, 1.5), ("char:'", "'", 1), ("space", "Space", 4), ("char:-", "-", 1), ("done", "Done", 2.5))


class Keyboard:
    """Keys inside ``rect`` (four rows); :attr:`text` is what was typed; ``handle`` returns "done"."""

    def __init__(self, rect: pygame.Rect, min_px: int, max_len: int = 200, text: str = ""):
        self.rect = pygame.Rect(rect)
        self.min_px = min_px
        self.max_len = max_len
        self.text = text
        self.shift = False
        self.layer = "letters"
        self._build()

    def _build(self) -> None:
        rows = LETTERS if self.layer == "letters" else SYMBOLS
        pitch = self.rect.width // 10
        h = max(self.min_px, self.rect.height // 4) if self.rect.height >= 4 * self.min_px else self.rect.height // 4
        gap = 2
        keys = []

        def key(kid, label, col, row, width=1, style="normal"):
            r = pygame.Rect(self.rect.left + int(col * pitch), self.rect.top + row * h, int(width * pitch) - gap, h - gap)
            keys.append(Button(kid, label, r, style))

        for r, chars in enumerate(rows):
            start = (0, 0.5, 1.5)[r]  # the second row half a key in; the third after Shift
            for c, ch in enumerate(chars):
                key(f"char:{ch}", self._label(ch), start + c, r)
        key("shift", "Shift", 0, 2, 1.5, "primary" if self.shift else "quiet")
        key("del", "Delete", 8.5, 2, 1.5, "quiet")
        col = 0
        for kid, label, width in BOTTOM:
            label = label or ("123" if self.layer == "letters" else "ABC")
            key(kid, label, col, 3, width, "primary" if kid == "done" else "quiet" if kid == "layer" else "normal")
            col += width
        self.buttons = ButtonSet(keys)

    def _upper(self) -> bool:
        return self.shift or not self.text or self.text.endswith(" ")

    def _label(self, ch: str) -> str:
        return ch.upper() if self.layer == "letters" and self._upper() else ch

    def handle(self, event, size) -> str | None:
        hit = self.buttons.handle(event, size)
        if hit is None:
            return None
        if hit == "done":
            return "done"
        if hit == "del":
            self.text = self.text[:-1]
        elif hit == "shift":
            self.shift = not self.shift
        elif hit == "layer":
            self.layer = "symbols" if self.layer == "letters" else "letters"
        elif len(self.text) < self.max_len:
            ch = " " if hit == "space" else hit.split(":", 1)[1]
            if self.layer == "letters" and self._upper():
                ch = ch.upper()
            if hit != "space" or (self.text and not self.text.endswith(" ")):
                self.text += ch
            self.shift = False
        self._build()
        return None

    def draw(self, surface, ui) -> None:
        self.buttons.get("del").enabled = bool(self.text)
        self.buttons.draw(surface, ui)
