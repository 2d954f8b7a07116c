"""``gaitkiosk run --simulate`` in a REAL X window (Xvfb), driven with real mouse clicks.

``test_run_window.py`` runs the window path under SDL's dummy driver; here SDL
talks to an X server, as on a unit that starts X and the kiosk on its 7-inch
800 x 480 touchscreen (fullscreen, the default ``[ui]``). The test:

* starts ``Xvfb`` itself on a free display number (``-displayfd``), sets
  ``DISPLAY`` for the kiosk only, and stops the server at the end;
* checks the X window the kiosk opened (name, size, place) and takes
  screenshots of the X screen with ``xwd -root`` (read here: the XWD format
  is a plain header, a colour map and the pixels);
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

import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from store import open_store

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xwd": "x11-apps", "xwininfo": "x11-utils"}
_missing = [f"{tool} (apt-get install {pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
# CI (GAITKIOSK_NEED_X=1, set by .ci/run after installing them) fails instead: never skipped there.
_NEED_X = os.environ.get("GAITKIOSK_NEED_X") == "1"
pytestmark = pytest.mark.skipif(bool(_missing) and not _NEED_X, reason="no X server tools here: "
                                + ", ".join(_missing) + "; .ci/run installs them")

SIZE = (800, 480)  # the official 7-inch touchscreen: the kiosk's [ui] size
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
    if _missing:
        pytest.fail("GAITKIOSK_NEED_X=1 but missing: " + ", ".join(_missing))
    read_fd, write_fd = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{screen[0]}x{screen[1]}x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,), stdout=log, stderr=log)
    os.close(write_fd)
    try:
        number = b""
        with os.fdopen(read_fd, "rb") as r:  # Xvfb writes the number once it accepts clients
            while not number.endswith(b"\n"):
                chunk = r.read(1)
                if not chunk:
                    break
                number += chunk
        assert number.strip(), f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text(errors='replace')}"
        display = ":" + number.decode().strip()
        yield display, fullscreen, screen == SIZE and fullscreen
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _x(display: str, *argv: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True, timeout=20).stdout


def window_geometry(display: str, name: str) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the mapped top-level window called ``name``, or None."""
    env = {**os.environ, "DISPLAY": display}
    out = subprocess.run(["xwininfo", "-name", name], env=env, capture_output=True, text=True, timeout=20)
    if out.returncode != 0 or "IsViewable" not in out.stdout:
        return None
    fields = dict(line.strip().split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    return tuple(int(fields[k]) for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"))


def read_xwd(data: bytes) -> np.ndarray:
    """An XWD file (ZPixmap, true or direct colour, 24 or 32 bits a pixel) as an (H, W, 3) RGB array.

    X11 XWDFileHeader: 25 big-endian CARD32 (header_size, file_version, pixmap_format,
    pixmap_depth, width, height, xoffset, byte_order, bitmap_unit, bitmap_bit_order,
    bitmap_pad, bits_per_pixel, bytes_per_line, visual_class, red/green/blue masks,
    bits_per_rgb, colormap_entries, ncolors, window size, place, border), then the
    window name up to header_size, then ncolors 12-byte XWDColor entries, then the rows.
    """
    h = struct.unpack(">25I", data[:100])
    header_size, pixmap_format, width, height = h[0], h[2], h[4], h[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = h[7], h[11], h[12], h[19]
    masks = h[14:17]
    assert pixmap_format == 2, "xwd wrote a non-ZPixmap image"
    assert masks == (0xFF0000, 0xFF00, 0xFF), f"unexpected colour masks {masks}"
    n = bits_per_pixel // 8
    offset = header_size + 12 * ncolors
    rows = np.frombuffer(data, np.uint8, count=bytes_per_line * height, offset=offset).reshape(height, bytes_per_line)
    px = rows[:, : width * n].reshape(height, width, n)
    # LSBFirst: blue, green, red(, pad) in memory; MSBFirst: (pad,) red, green, blue.
    return np.ascontiguousarray(px[..., 2::-1] if byte_order == 0 else px[..., n - 3:])


class Screen:
    """The X screen, seen through the kiosk window at ``origin``: what a camera and a finger see."""

    def __init__(self, display: str, origin: tuple[int, int]):
        self.display, self.origin = display, origin

    def grab(self) -> np.ndarray:
        """The window's pixels, cut from a screenshot of the whole X screen (``xwd -root``)."""
        env = {**os.environ, "DISPLAY": self.display}
        data = subprocess.run(["xwd", "-root", "-silent"], env=env, check=True, capture_output=True, timeout=20).stdout
        x, y = self.origin
        return read_xwd(data)[y:y + SIZE[1], x:x + SIZE[0]].copy()

    def click(self, pos: tuple[int, int]) -> None:
        """Move the pointer to ``pos`` in the window and press and release button 1."""
        x, y = self.origin[0] + pos[0], self.origin[1] + pos[1]
        _x(self.display, "xdotool", "mousemove", str(x), str(y), "click", "1")
    time.sleep(0.15)  # a patient's finger, not a machine gun: one frame sees the press and the release


def save_png(rgb: np.ndarray, path: Path) -> None:
    import pygame

    pygame.image.save(pygame.surfarray.make_surface(rgb.transpose(1, 0, 2).copy()), str(path))


# -- what the screens should look like, drawn by the UI's own code offscreen --------------------------------
class Reference:
    def __init__(self):
        import pygame

        from gaitkiosk.config import load_config
        from ui.app import App
        from ui.theme import load_theme

        pygame.font.init()
        ui = load_config(None)["ui"]
        self.surface = pygame.Surface(SIZE)
        self.theme = load_theme(None, ui["min_target_mm"])
        self.app = App(self.surface, self.theme, diagonal_in=ui["diagonal_in"])

    def screen(self, cls, *args):
        s = cls(self.app, *args)
        s.layout(SIZE)
        return s

    def draw(self, screen) -> np.ndarray:
        import pygame

        self.surface.fill(self.theme.colors.background)
        screen.draw(self.surface)
        return pygame.surfarray.array3d(self.surface).transpose(1, 0, 2).copy()


def same_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.all(a == b, axis=2)))


def fill_fraction(shot: np.ndarray, rect, colour) -> float:
    """The share of ``rect``'s pixels in exactly ``colour`` (a button's fill; its label is the rest)."""
    area = shot[rect.top:rect.bottom, rect.left:rect.right]
    return float(np.mean(np.all(area == np.asarray(colour, np.uint8), axis=2)))


def wait_for(what: str, check, proc, timeout: float = 15.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        assert proc.poll() is None, f"the kiosk exited while waiting for {what}: {proc.communicate()}"
        last = check()
        if last is not None and last is not False:
            return last
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# -- the test --------------------------------------------------------------------------------------------
def test_kiosk_in_a_real_x_window_driven_by_mouse_clicks(tmp_path, xserver):
    from ui.screens import AttractScreen, CheckInScreen, LiveDrillScreen, ProgramScreen

    display, fullscreen, covers_screen = xserver
    data = tmp_path / "data"
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[ui]\nwidth = {SIZE[0]}\nheight = {SIZE[1]}\nfullscreen = {str(fullscreen).lower()}\n"
                      "sound = false\n")
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("WAYLAND_DISPLAY", None)
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
