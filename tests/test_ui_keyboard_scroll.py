"""The on-screen keyboard (ui/keyboard.py) and the long-list scroller (ui/scroll.py) on their own."""

from __future__ import annotations

import pygame
import pytest
import ui_support
from ui_support import make_app

from ui.app import tap_events
from ui.keyboard import Keyboard
from ui.scroll import Row, ScrollList

dummy_video = ui_support.dummy_video


@pytest.mark.parametrize("size,diagonal", [((800, 480), 7.0), ((1280, 800), 10.1)])
def test_every_key_is_a_whole_touch_target_and_they_do_not_overlap(dummy_video, size, diagonal):
    app = make_app(size, diagonal)
    rect = pygame.Rect(0, size[1] - 4 * app.target_px, size[0], 4 * app.target_px)
    for layer in ("letters", "symbols"):
        kb = Keyboard(rect, app.target_px)
        kb.layer = layer
        kb._build()
        keys = kb.buttons.buttons
        pitch = rect.width // 10
        assert all(b.rect.width + 2 >= min(pitch, app.target_px) and b.rect.height + 2 >= app.target_px for b in keys)
        assert all(rect.contains(b.rect) for b in keys)
        assert not any(a.rect.colliderect(b.rect) for i, a in enumerate(keys) for b in keys[i + 1:])


def test_typing_capitals_shift_symbols_and_delete(dummy_video):
    app = make_app()
    kb = Keyboard(pygame.Rect(0, 160, 800, 320), app.target_px, max_len=12)

    def press(*ids):
        done = None
        for key in ids:
            for event in tap_events(kb.buttons.get(key).rect.center, app.size):
                done = kb.handle(event, app.size) or done
        return done

    press("space")  # no leading space
    press("char:a", "char:n", "char:n", "space", "space", "char:o", "char:'", "char:b")
    assert kb.text == "Ann O'b"  # a capital at the start and after a space; one space only
    press("shift", "char:r")
    assert kb.text == "Ann O'bR" and not kb.shift
    press("del", "layer", "char:7")
    assert kb.text == "Ann O'b7" and kb.buttons.get("char:7").label == "7"
    press("char:1", "char:2", "char:3", "char:4", "char:5")
    assert kb.text == "Ann O'b71234"  # at most max_len
    assert press("done") == "done"


def test_the_list_draws_only_the_rows_in_view_and_keeps_their_pictures(dummy_video):
    app = make_app()
    made = []

    def render(i, size):
        made.append(i)
        row = Row(size)
        row.text(app.fonts, f"row {i}", app.text_px("small"), (255, 255, 255), (0, 0))
        return row

    lst = ScrollList(pygame.Rect(0, 100, 400, 300), 60, render, lambda i: i, 10)
    lst.set_count(5000)
    lst.draw(app.surface)
    assert made == [0, 1, 2, 3, 4]
    lst.draw(app.surface)
    assert made == [0, 1, 2, 3, 4]  # the second frame blits what it has
    lst.offset = 30
    lst.draw(app.surface)
    assert made == [0, 1, 2, 3, 4, 5]  # half a row scrolled: one more row in view
    lst.page(1)
    assert lst.visible()[0] == (30 + 240) // 60
    lst.offset = 10 ** 9
    lst.page(1)
    assert lst.offset == lst.max_offset == 5000 * 60 - 300


def test_a_tap_picks_a_row_and_a_drag_does_not(dummy_video):
    app = make_app()
    lst = ScrollList(pygame.Rect(0, 100, 400, 300), 60, lambda i, s: Row(s), lambda i: i, 10)
    lst.set_count(50)
    taps = [lst.handle(e, app.size) for e in tap_events((50, 100 + 2 * 60 + 5), app.size)]
    assert taps == [None, 2]
    got = []
    for kind, y in ((pygame.FINGERDOWN, 390), (pygame.FINGERMOTION, 300), (pygame.FINGERUP, 200)):
        lst.update(0.02)
        got.append(lst.handle(pygame.event.Event(kind, touch_id=0, finger_id=0, x=50 / 800, y=y / 480, dx=0.0,
                                                 dy=0.0, pressure=1.0), app.size))
    assert got == [None, None, None] and lst.offset == 90 and lst.velocity > 0
