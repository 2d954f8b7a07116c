"""Theme, sizes and widgets of the patient screens (pygame under the dummy video driver)."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
import ui_support
from ui_support import make_app

from gaitkiosk.errors import ConfigError
from ui.app import tap_events
from ui.heatmap import MatView
from ui.theme import Colors, Metrics, contrast_ratio, load_theme, viridis_lut
from ui.widgets import Button, ButtonSet, Keypad, pointer

dummy_video = ui_support.dummy_video  # the fixture (SDL dummy video driver for these tests only)


def test_text_colours_have_high_contrast_on_the_background():
    c = Colors()
    for name in ("text", "muted", "accent", "good", "warn", "target"):
        assert contrast_ratio(getattr(c, name), c.background) >= 7.0, name  # WCAG AAA
    # dark text on the light fills of primary / warning buttons
    for fill in (c.accent, c.warn, c.target, c.good):
        assert contrast_ratio(c.dark_text, fill) >= 7.0
    assert contrast_ratio(c.dark_text, c.stop) >= 4.5  # the Stop button's label (WCAG AA)
    assert contrast_ratio(c.button_text, c.button) >= 7.0


def test_metrics_turn_millimetres_into_pixels_from_the_panel_size():
    m7 = Metrics(800, 480, 7.0)  # 133 ppi
    assert m7.px_per_mm == pytest.approx(933.0 / (7 * 25.4), rel=1e-3)
    assert m7.mm(15) == round(15 * m7.px_per_mm)
    m10 = Metrics(1280, 800, 10.1)
    assert m10.mm(15) > m7.mm(15)


def test_viridis_table_runs_dark_to_light():
    lut = viridis_lut()
    assert len(lut) == 256 and lut[0] == (68, 1, 84) and lut[-1] == (253, 231, 37)
    lum = [0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in lut]
    assert all(b >= a - 1e-9 for a, b in zip(lum, lum[1:], strict=False))  # monotone: readable in grey


def test_theme_file_overrides_and_refuses_bad_values(tmp_path):
    good = tmp_path / "t.toml"
    good.write_text('[colors]\naccent = "#E69F00"\n[type]\nbody_mm = 7\n')
    t = load_theme(good)
    assert t.colors.accent == (230, 159, 0) and t.type.body_mm == 7.0
    for text, word in (('[colors]\naccent = "blue"\n', "accent"), ("[colours]\n", "colours"),
                       ("[type]\nsmall_mm = 2\n", "small_mm"), ('[colors]\nnope = "#000000"\n', "nope")):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=word):
            load_theme(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_theme(tmp_path / "missing.toml")


def test_pointer_reads_touch_and_mouse_and_ignores_synthetic_mouse(dummy_video):
    size = (800, 480)
    down, up = tap_events((400, 240), size, touch=True)
    assert pointer(down, size) == ("down", (400, 240))
    assert pointer(up, size) == ("up", (400, 240))
    m = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=1, touch=False)
    assert pointer(m, size) == ("down", (10, 20))
    synthetic = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=1, touch=True)
    assert pointer(synthetic, size) is None  # SDL's copy of a touch: one tap is one press
    right = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=3, touch=False)
    assert pointer(right, size) is None


@pytest.mark.parametrize("touch", [True, False])
def test_button_acts_on_release_inside_and_cancels_when_the_finger_slides_off(dummy_video, touch):
    size = (800, 480)
    bs = ButtonSet([Button("ok", "OK", pygame.Rect(100, 100, 100, 100))])
    down, up = tap_events((150, 150), size, touch)
    assert bs.handle(down, size) is None and bs.get("ok").pressed
    assert bs.handle(up, size) == "ok"
    down, _ = tap_events((150, 150), size, touch)
    _, up_outside = tap_events((400, 400), size, touch)
    bs.handle(down, size)
    assert bs.handle(up_outside, size) is None


def test_on_press_buttons_act_on_touch_down(dummy_video):
    size = (800, 480)
    bs = ButtonSet([Button("stop", "Stop", pygame.Rect(0, 0, 100, 100), "stop", on_press=True)])
    down, _ = tap_events((50, 50), size)
    assert bs.handle(down, size) == "stop"


def test_disabled_button_does_not_act(dummy_video):
    size = (800, 480)
    b = Button("ok", "OK", pygame.Rect(0, 0, 100, 100), enabled=False)
    bs = ButtonSet([b])
    for e in tap_events((50, 50), size):
        assert bs.handle(e, size) is None


@pytest.mark.parametrize("touch", [True, False])
def test_keypad_types_deletes_and_limits_length(dummy_video, touch):
    size = (800, 480)
    kp = Keypad(pygame.Rect(400, 0, 400, 480), 79, max_len=4)

    def press(key):
        out = None
        for e in tap_events(kp.buttons.get(f"key:{key}").rect.center, size, touch):
            out = kp.handle(e, size) or out
        return out

    assert press("ok") is None  # nothing typed: OK does nothing
    for k in "12345":
        press(k)
    assert kp.code == "1234"  # the fifth digit is refused
    press("del")
    assert kp.code == "123"
    assert press("ok") == "ok"


@pytest.mark.parametrize("size,diag", [((800, 480), 7.0), ((1280, 800), 10.1), ((1024, 600), 7.0)])
def test_keypad_keys_are_at_least_15_mm(dummy_video, size, diag):
    app = make_app(size, diag)
    from ui.screens import CheckInScreen

    s = app.push(CheckInScreen(app))
    for b in s.keypad.buttons.buttons + s.buttons.buttons:
        assert min(b.rect.size) >= app.target_px, b.id
        assert min(b.rect.size) / app.metrics.px_per_mm >= 15.0 - 0.5


def test_heat_map_draws_forward_up_and_left_on_the_left(dummy_video):
    surface = pygame.Surface((480, 480))
    colors = Colors()
    view = MatView(48, 48, (8.47, 8.47), pygame.Rect(0, 0, 480, 480), background=colors.background)
    frame = np.zeros((48, 48), np.float32)
    frame[0:4, 0:4] = 250.0  # rear-left corner of the mat
    view.set_frame(frame)
    view.draw(surface, colors)
    r = view.rect
    rear_left = surface.get_at((r.left + 10, r.bottom - 10))[:3]
    front_left = surface.get_at((r.left + 10, r.top + 10))[:3]
    rear_right = surface.get_at((r.right - 10, r.bottom - 10))[:3]
    assert rear_left != colors.background  # loaded: coloured
    assert front_left == colors.background and rear_right == colors.background
    # mm <-> px round trip, y forward is up
    x, y = view.to_px(100.0, 50.0)
    assert view.to_mm(x, y) == pytest.approx((100.0, 50.0), abs=1.0 / view.px_per_mm + 1e-6)
    assert view.to_px(0, 100)[1] < view.to_px(0, 0)[1]


def test_heat_map_keeps_the_mat_aspect(dummy_video):
    view = MatView(96, 48, (8.47, 8.47), pygame.Rect(0, 0, 600, 400))
    assert view.rect.height == 400 and abs(view.rect.width - 200) <= 1  # 2:1 long mat, not stretched
    with pytest.raises(ValueError, match="does not fit"):
        view.set_frame(np.zeros((48, 48), np.float32))


def test_sound_without_audio_is_silent_not_fatal(monkeypatch):
    from ui.sound import Sound, tone_samples

    monkeypatch.setenv("SDL_AUDIODRIVER", "nonexistent-driver")
    s = Sound(enabled=True)
    s.play("alarm")  # an alias of "alert"
    assert s.played[-1] == "alert"
    assert Sound(enabled=False).enabled is False
    samples = tone_samples([(440, 0.1)], 8000)
    assert samples.dtype == np.int16 and len(samples) == 800 and abs(int(samples[0])) < 100  # faded in


def test_heat_map_leaves_out_a_lone_stuck_sensel_but_not_a_foot(dummy_video):
    surface = pygame.Surface((480, 480))
    colors = Colors()
    view = MatView(48, 48, (8.47, 8.47), pygame.Rect(0, 0, 480, 480), background=colors.background)
    frame = np.zeros((48, 48), np.float32)
    frame[20, 2] = 800.0  # a hot sensel alone near the edge
    frame[10:30, 30:38] = 100.0  # a foot
    view.set_frame(frame)
    view.draw(surface, colors)
    cell = view.rect.width / 48
    def px(r, c):
        return surface.get_at((int(view.rect.left + (c + 0.5) * cell), int(view.rect.bottom - (r + 0.5) * cell)))[:3]
    assert px(20, 2) == colors.background
    assert px(20, 34) != colors.background
    raw = MatView(48, 48, (8.47, 8.47), pygame.Rect(0, 0, 480, 480), background=colors.background, despeckle=False)
    raw.set_frame(frame)
    raw.draw(surface, colors)
    assert px(20, 2) != colors.background


def test_no_sound_card_is_said_once_in_one_log_line(monkeypatch, capfd, caplog):
    """Issue 10 item 12: ALSA's "ALSA lib ..." lines filled stderr when no sound device opened."""
    import logging
    import subprocess
    import sys

    from ui.sound import Sound

    # An ALSA device that exists on no machine (card 7): ALSA complains and SDL's mixer fails.
    monkeypatch.setenv("SDL_AUDIODRIVER", "alsa")
    monkeypatch.setenv("AUDIODEV", "hw:7,0")
    raw = subprocess.run([sys.executable, "-c", "import pygame\ntry:\n    pygame.mixer.init()\nexcept pygame.error:\n"
                          "    pass"], capture_output=True, text=True, timeout=60)
    assert "ALSA lib" in raw.stderr  # what happened before: the mixer alone prints ALSA's lines
    with caplog.at_level(logging.INFO, logger="ui.sound"):
        s = Sound(enabled=True, speech=False)
        s.play("alarm")
    err = capfd.readouterr().err
    assert not s.enabled and "ALSA lib" not in err
    said = [r for r in caplog.records if r.name == "ui.sound"]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert "sound off: no sound device could be opened" in said[0].getMessage() and "card" in said[0].getMessage()


def test_a_paragraph_is_wrapped_once_and_then_taken_from_the_cache(dummy_video):
    """Issue 16 "CPU budget": the live drill screen wrapped the same cue 60 times a second, measuring
    it word by word (a tenth of its CPU, bench/bench_kiosk_cpu.py). The lines are now kept by (text,
    size, width); they are the same lines, and a caller that changes its list changes no cache."""
    from ui.text import Fonts

    class CountingFonts(Fonts):  # real fonts; only the look-ups of a font are counted
        looked_up = 0

        def font(self, size_px):
            self.looked_up += 1
            return super().font(size_px)

    cue = "Stand still with your weight on both feet and keep the dot in the circle until the time is up."
    fresh = Fonts(wrap_cache_size=0).wrap(cue, 24, 300)
    fonts = CountingFonts()
    first = fonts.wrap(cue, 24, 300)
    measured = fonts.looked_up
    first.append("changed by the caller")
    second = fonts.wrap(cue, 24, 300)
    assert measured >= 1 and fonts.looked_up == measured  # the second wrap measured nothing
    assert first[:-1] == second == fresh and len(fresh) > 1
    assert fonts.wrap(cue, 24, 200) != second  # another width is wrapped afresh
