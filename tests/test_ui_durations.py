"""Issue 10 item 11: the program screen said "2 min" for a 90 s drill. Lengths are said as people say them."""

from __future__ import annotations

import pytest
import ui_support

from ui.screens.program import duration_words
from ui.text import TextLog

dummy_video = ui_support.dummy_video


@pytest.mark.parametrize("seconds,words", [
    (45, "45 seconds"), (1, "1 second"), (60, "1 minute"), (90, "1½ minutes"), (75, "75 seconds"),
    (119, "119 seconds"), (120, "2 minutes"), (150, "2½ minutes"), (200, "about 3½ minutes"),
    (185, "about 3 minutes"), (0, ""), (None, ""),
])
def test_a_length_is_said_as_people_say_it(seconds, words):
    assert duration_words(seconds) == words


@pytest.mark.parametrize("size_label", ["800x480", "1280x800"])
def test_the_program_screen_says_a_90_second_drill_as_one_and_a_half_minutes(dummy_video, size_label):
    from gaitkiosk.gallery import SIZES, State, show
    from ui.screens import ProgramScreen

    items = [{"title": "Walk to the beat", "seconds": 90.0, "status": "todo"},
             {"title": "Stand still", "seconds": 30.0, "status": "todo"}]
    state = State("program-90s", lambda app: ProgramScreen(app, items, "Hello!", 0))
    with TextLog() as log:
        app, _ = show(state, *SIZES[size_label])
    texts = " | ".join(log.texts())
    assert "1½ minutes" in texts and "30 seconds" in texts, texts
    assert "2 min" not in texts
    font = app.fonts.font(app.text_px("small"))
    assert font.metrics("½")[0] is not None  # the font has the glyph: no empty box on the glass
    assert not log.problems(min_px=app.text_px("small"))
