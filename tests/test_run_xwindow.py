"""``gaitkiosk run --simulate`` in a REAL X window (Xvfb), driven with real mouse clicks.

``test_run_window.py`` runs the window path under SDL's dummy driver; here SDL
talks to an X server, as on a unit that starts X and the kiosk on its 7-inch
800 x 480 touchscreen (fullscreen, the default ``[ui]``). The test:

* starts ``Xvfb`` itself on a free display number (``-displayfd``), sets
  ``DISPLAY`` for the kiosk only, and stops the server at the end;
* checks the X window the kiosk opened (name, size, place) and takes
  screenshots of the X screen with ``xwd -root`` (tests/x_support.py reads
  them: the XWD format is a plain header, a colour map and the pixels);
* compares them with the same screens drawn offscreen by the UI's own code
  (the animation differs from frame to frame, the rest must match), so a
  blank, shifted, clipped or wrongly sized window fails;
* clicks like a patient with ``xdotool`` (X's XTEST: real button events through
  the server): start, the code 1 2 3 4 on the keypad, OK, Start, Start; the
  positions come from the screens' own layout code, not from numbers here;
* lets the first drill run on the virtual patient, then sends SIGTERM (what
  systemd sends) and checks the clean exit and what the database kept.

Needs the Debian packages ``xvfb``, ``xdotool``, ``x11-apps`` (xwd) and
``x11-utils`` (xwininfo); ``.ci/run`` installs them and sets ``GAITKIOSK_NEED_X=1``,
so in CI a missing tool is a failure. On a developer machine without them the
test is skipped with the reason.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest
from x_support import (
    SIZE,
    Reference,
    Screen,
    fill_fraction,
    kiosk_env,
    needs,
    same_fraction,
    save_png,
    ui_config,
    wait_for,
    window_geometry,
    xvfb,
)

from store import open_store

pytestmark = needs()

# A unit: X on the touchscreen itself, the kiosk fullscreen (the default [ui]). A desktop: a bigger
# screen and ``[ui] fullscreen = false``, the kiosk in a window somewhere on it.
# A mismatch: fullscreen asked for, but the screen is not the kiosk's size (a desktop running
# `make demo` with the default config): the kiosk opens a window rather than a cut-off picture.
SETUPS = {"unit": (SIZE, True), "desktop": ((1280, 800), False), "mismatch": ((1024, 768), True)}
CODE = "1234"  # the demo patient, seeded by --simulate


# -- the X server ----------------------------------------------------------------------------------
@pytest.fixture(params=sorted(SETUPS))
def xserver(request, tmp_path):
    """(display, fullscreen asked for, whether the kiosk should cover the screen): an Xvfb on a display
    number the server picked itself (no clash with others)."""
    screen, fullscreen = SETUPS[request.param]
    with xvfb(tmp_path, screen) as display:
        yield display, fullscreen, screen == SIZE and fullscreen


# -- the test --------------------------------------------------------------------------------------------
def test_kiosk_in_a_real_x_window_driven_by_mouse_clicks(tmp_path, xserver):
    from ui.screens import AttractScreen, CheckInScreen, LiveDrillScreen, ProgramScreen

    display, fullscreen, covers_screen = xserver
    data = tmp_path / "data"
    config = tmp_path / "kiosk.toml"
    config.write_text(ui_config(*SIZE, fullscreen))
    env = kiosk_env(display)
    ref = Reference()
    colors = ref.theme.colors
    # --countdown 1: the drill is running, not getting ready, when the screenshot is taken.
    proc = subprocess.Popen([sys.executable, "-m", "gaitkiosk", "run", "--config", str(config), "--simulate",
                             "--countdown", "1", "--data-dir", str(data)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The window: the kiosk's name and size; on a unit it covers the whole screen.
        x, y, w, h = wait_for("the kiosk's X window", lambda: window_geometry(display, "gaitkiosk"), proc, 30.0)
        assert (w, h) == SIZE
        if covers_screen:
            assert (x, y) == (0, 0)
        screen = Screen(display, (x, y))

        # The start screen, as the UI draws it (the standing picture and the button's pulse move).
        attract = ref.draw(ref.screen(AttractScreen))

        def attract_shown():
            shot = screen.grab()
            return shot if same_fraction(shot, attract) > 0.95 else None

        shot = wait_for("the start screen in the window", attract_shown, proc)
        save_png(shot, tmp_path / "x-attract.png")
        colours, counts = np.unique(shot.reshape(-1, 3), axis=0, return_counts=True)
        assert len(colours) > 20, "a flat window is not the kiosk"
        assert tuple(colours[counts.argmax()]) == colors.background
        assert np.all(shot == np.asarray(colors.accent, np.uint8), axis=2).sum() > 0.1 * SIZE[0] * SIZE[1]

        screen.click((SIZE[0] // 2, SIZE[1] * 3 // 4))  # "Touch here to start"

        checkin = ref.screen(CheckInScreen)
        empty = ref.draw(checkin)
        wait_for("the keypad", lambda: same_fraction(screen.grab(), empty) > 0.97, proc)
        for digit in CODE:
            screen.click(checkin.keypad.buttons.get(f"key:{digit}").rect.center)
        checkin.keypad.code = CODE
        typed = ref.draw(checkin)
        # The code the clicks typed is on the screen, digit for digit where the UI puts it.
        wait_for("1 2 3 4 in the code box", lambda: same_fraction(screen.grab(), typed) > 0.97, proc)
        screen.click(checkin.keypad.buttons.get("key:ok").rect.center)

        program = ref.screen(ProgramScreen, [])
        go = program.buttons.get("go").rect
        wait_for("today's program", lambda: fill_fraction(screen.grab(), go, colors.accent) > 0.5, proc)
        shown = screen.grab()
        screen.click(go.center)  # Start: the instruction screen has its Start at the same place
        wait_for("the instruction", lambda: same_fraction(screen.grab(), shown) < 0.9, proc)
        screen.click(go.center)

        live = ref.screen(LiveDrillScreen, {"index": 0, "count": 1, "title": ""})
        stop = live.buttons.get("stop").rect
        pause = live.buttons.get("pause").rect

        def drilling():
            shot = screen.grab()
            return fill_fraction(shot, stop, colors.stop) > 0.5 and fill_fraction(shot, pause, colors.warn) > 0.5

        wait_for("the live drill with Pause and Stop", drilling, proc)

        def mat_frames_stored():
            # Read beside the running kiosk, through SQLite only (docs/store.md): its chunks commit each second.
            with open_store(data) as st:
                patient = st.patients.by_code(CODE)
                return sum(r.frames for s in st.sessions.list(patient_id=patient.id)
                           for r in st.recordings.for_session(s.session.id) if r.kind == "mat") > 50

        # The virtual patient stands on the mat: wait until its frames are recorded, not for 2.5 s.
        wait_for("50 mat frames stored", mat_frames_stored, proc, timeout=60)
        save_png(screen.grab(), tmp_path / "x-drill.png")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert window_geometry(display, "gaitkiosk") is None  # the window went with it

    with open_store(data, kiosk=True) as st:  # the kiosk lock was released
        patient = st.patients.by_code(CODE)
        sessions = st.sessions.list(patient_id=patient.id)
        assert len(sessions) == 1
        session = st.sessions.get(sessions[0].session.id)
        assert session.status == "incomplete"
        assert "shut down" in session.status_reason
        trials = st.trials.for_session(session.id)
        assert len(trials) == 1
        assert trials[0].status == "incomplete", trials[0]
        recordings = st.recordings.for_trial(trials[0].id)
        assert sorted(r.kind for r in recordings) == ["insole_left", "insole_right", "mat"]
        # The trial's writer was stopped and flushed before the session closed: its recordings are
        # closed by it, with every frame received, and the trial says so (not cut off by the exit).
        assert all(r.status == "complete" for r in recordings), recordings
        assert trials[0].recording == "complete" and "shut down" in trials[0].status_reason
        assert trials[0].results["recording"]["frames"] == sum(r.frames for r in recordings)
        mat = [r for r in recordings if r.kind == "mat"]
        assert mat and mat[0].frames > 50  # at least half a second of the mat at 100 Hz
        assert st.recordings.read(mat[0].id).counts.shape[0] == mat[0].frames
