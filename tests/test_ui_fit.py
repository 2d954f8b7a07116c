"""Every string of every patient screen can be read whole, in every state, at 800 x 480 and 1280 x 800.

The states are ``gaitkiosk.gallery.states()``: each screen with what the
running kiosk would hand it (real drill runs, results in the patient's words,
the visit's messages), including long numbers, counts of one, stopped drills,
waits and failures. ``ui.text.TextLog`` records each string drawn and says
what cannot be read: letters outside their room or off the screen, lines of
a paragraph that did not fit, text smaller than the theme's smallest size,
strings on top of each other, and text under a band drawn later.
"""

from __future__ import annotations

import pygame
import pytest
import ui_support

from gaitkiosk.gallery import SIZES, show, states
from ui.text import TextLog, blit_paragraph, blit_text

dummy_video = ui_support.dummy_video


def problems(state, size, diagonal):
    with TextLog() as log:
        app, screen = show(state, size, diagonal)
    return screen, log, log.problems(min_px=app.text_px("small"))


@pytest.mark.parametrize("size_label", sorted(SIZES))
def test_every_string_of_every_screen_fits_in_every_state(dummy_video, size_label):
    size, diagonal = SIZES[size_label]
    found = {}
    screens = set()
    for state in states():
        screen, log, bad = problems(state, size, diagonal)
        assert log.drawn, f"{state.name}: nothing was drawn"
        screens.add(screen.name)
        if bad:
            found[state.name] = bad
    assert not found, "\n".join(f"{name}: {p}" for name, ps in found.items() for p in ps)
    from ui import screens as all_screens

    names = {getattr(all_screens, n).name for n in all_screens.__all__ if n != "route"}
    assert screens == names  # every screen has states


def test_the_log_reports_cut_text(dummy_video):
    """The checker itself: each way a string can be cut is reported, and whole text is not."""
    from ui.text import Fonts

    surface = pygame.Surface((400, 200))
    fonts = Fonts()
    with TextLog() as log:
        blit_text(surface, fonts, "fits", 20, (255, 255, 255), (10, 10), room=pygame.Rect(0, 0, 200, 50))
        blit_paragraph(surface, fonts, "a short one", 20, (255, 255, 255), pygame.Rect(10, 60, 300, 40))
    assert log.texts() == ["fits", "a short one"] and log.problems(min_px=12) == []
    with TextLog() as log:
        blit_text(surface, fonts, "much too wide for its room", 20, (255, 255, 255), (10, 10),
                  room=pygame.Rect(0, 0, 100, 50))
        blit_text(surface, fonts, "off the edge", 20, (255, 255, 255), (380, 10))
        blit_paragraph(surface, fonts, "You stopped before the end. That is fine: it still counts as practice.", 20,
                       (255, 255, 255), pygame.Rect(10, 60, 380, 30))
        blit_text(surface, fonts, "tiny", 8, (255, 255, 255), (10, 150))
        blit_text(surface, fonts, "on top", 20, (255, 255, 255), (300, 150))
        blit_text(surface, fonts, "of it", 20, (255, 255, 255), (310, 155))
    found = log.problems(min_px=12)
    assert any("'much too wide for its room': outside its room" in p for p in found)
    assert any("'off the edge': off the screen" in p for p in found)
    assert any("practice.': 1 of 2 lines did not fit" in p for p in found), found
    assert any("'tiny': 8 px" in p for p in found)
    assert any("'on top' and 'of it' overlap" in p for p in found)


# The two cuts of issue 10 (item 7), as the screens were handed them: each failed before the fix.
STOPPED_RESULT = {"index": 0, "count": 7, "title": "Stand still", "status": "stopped", "score": 100.0, "stars": 5,
                  "previous_score": 100.0, "compare": {"text": "A little less steady than last time.", "direction": -1},
                  "lines": ["You stood still for 7 seconds.", "The dot stayed in the circle almost all the time.",
                            "You stopped before the end. That is fine: it still counts as practice."], "last": False}


def test_a_stopped_result_shows_its_last_sentence_whole(dummy_video):
    from ui.screens import ResultScreen

    with TextLog() as log:
        app = ui_support.make_app((800, 480), 7.0)
        app.reset(ResultScreen(app, STOPPED_RESULT))
        app.step(0.03, [])
    assert log.problems(min_px=app.text_px("small")) == []
    assert any("practice." in t for t in log.texts())


@pytest.mark.parametrize("progress", ["2 good steps of 3", "12 good steps of 40"])
def test_a_count_without_a_ring_fits_the_column(dummy_video, progress):
    """A real visit's heel-to-toe walk has no time limit on the ring: the count alone, inside the column."""
    from test_ui_screens import snapshot

    from ui.screens import LiveDrillScreen

    snap = snapshot(1, name="tandem_walk", title="Heel-to-toe walk", remaining_s=None, duration_s=None,
                    progress=progress, cue="Put each heel right against your other toes.")
    with TextLog() as log:
        app = ui_support.make_app((800, 480), 7.0, feed=ui_support.FakeFeed(snap))
        screen = app.reset(LiveDrillScreen(app, {"title": "Heel-to-toe walk"}))
        app.step(0.03, [])
    assert log.problems(min_px=app.text_px("small")) == []
    (count,) = [d for d in log.drawn if d.text == progress]
    assert screen.col.contains(count.ink), (count.ink, screen.col)


def test_the_countdown_is_one_number_and_nothing_covers_the_panel(dummy_video):
    """Issue 10 item 9: "Get ready: 2" in the panel while a band over the ring said "Get ready... 1"."""
    import math
    import re

    countdowns = [s for s in states() if s.snapshot is not None and getattr(s.snapshot, "drill", None)
                  and s.snapshot.drill["phase"] == "countdown" and s.snapshot.drill["countdown_s"] is not None]
    assert len(countdowns) >= 7  # every drill counts down
    for state in countdowns:
        for size, diagonal in SIZES.values():
            screen, log, bad = problems(state, size, diagonal)
            assert bad == [] and not [c for c in log.items if not hasattr(c, "text")], state.name  # no band
            # numbers other than counts ("Target 1 of 8") and the left/right bar ("Left 53 %")
            numbers = [t for t in log.texts() if re.search(r"\d", t) and not re.search(r" of \d+$| %$", t)]
            want = max(1, math.ceil(state.snapshot.drill["countdown_s"] - 1e-9))
            assert numbers == [f"Get ready: {want}"], (state.name, numbers)
