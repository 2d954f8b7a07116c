"""Helpers for the tests that run the kiosk in a REAL X window (Xvfb) and click it with xdotool.

* :func:`xvfb` starts an X server on a display number it picks itself (``-displayfd``: no clash
  with other tests running beside) and stops it at the end;
* :class:`Screen` is what a camera and a finger see: screenshots of the X screen (``xwd -root``,
  read by :func:`read_xwd`) cut to the kiosk window, and mouse clicks (XTEST, through the server);
* :class:`Reference` draws a screen offscreen with the UI's own code, to compare the window with
  (:func:`same_fraction`) and to take click positions from (never numbers in a test);
* :func:`wait_for` waits for an event (a picture, a database row), with the kiosk alive meanwhile.

Needs the Debian packages named in :data:`X_TOOLS`; ``.ci/run`` installs them and sets
``GAITKIOSK_NEED_X=1``, so in CI a missing tool is a failure (:func:`needs` skips only elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

X_TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xwd": "x11-apps", "xwininfo": "x11-utils"}
# CI (GAITKIOSK_NEED_X=1, set by .ci/run after installing them) fails instead: never skipped there.
NEED_X = os.environ.get("GAITKIOSK_NEED_X") == "1"
SIZE = (800, 480)  # the official 7-inch touchscreen: the kiosk's [ui] size


def missing(tools: dict[str, str] = X_TOOLS) -> list[str]:
    """The tools of ``tools`` (command -> Debian package) not on this machine, with what installs them."""
    return [f"{tool} (apt-get install {pkg})" for tool, pkg in tools.items() if shutil.which(tool) is None]


def needs(tools: dict[str, str] = X_TOOLS) -> pytest.MarkDecorator:
    """A test module's ``pytestmark``: skipped (with the reason) where ``tools`` are missing, unless CI."""
    gone = missing(tools)
    return pytest.mark.skipif(bool(gone) and not NEED_X, reason="no X server tools here: " + ", ".join(gone)
                              + "; .ci/run installs them")


def require(tools: dict[str, str] = X_TOOLS) -> None:
    """Fail (CI: GAITKIOSK_NEED_X=1) when ``tools`` are missing; :func:`needs` skipped the test elsewhere."""
    gone = missing(tools)
    if gone:
        pytest.fail("GAITKIOSK_NEED_X=1 but missing: " + ", ".join(gone))


# -- the X server ----------------------------------------------------------------------------------
@contextlib.contextmanager
def xvfb(log_dir: Path, screen: tuple[int, int] = SIZE):
    """An Xvfb of ``screen`` pixels; yields its display (":N"). Its log goes to ``log_dir/xvfb.log``."""
    require()
    read_fd, write_fd = os.pipe()
    log_path = log_dir / "xvfb.log"
    log = open(log_path, "wb")
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
        assert number.strip(), f"Xvfb did not start: {log_path.read_text(errors='replace')}"
        yield ":" + number.decode().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def kiosk_env(display: str) -> dict:
    """The environment of a kiosk process on ``display`` (SDL's X11 driver, no sound card)."""
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("WAYLAND_DISPLAY", None)
    return env


def ui_config(width: int, height: int, fullscreen: bool) -> str:
    """The ``[ui]`` section of the kiosk's config in these tests."""
    return f"[ui]\nwidth = {width}\nheight = {height}\nfullscreen = {str(fullscreen).lower()}\nsound = false\n"


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
        """Move the pointer to ``pos`` in the window and press and release button 1.

        X delivers the press and the release to the kiosk in order, so a screen handles both
        alike whether one frame or two sees them: no pause is needed between clicks."""
        x, y = self.origin[0] + pos[0], self.origin[1] + pos[1]
        _x(self.display, "xdotool", "mousemove", str(x), str(y), "click", "1")


def save_png(rgb: np.ndarray, path: Path) -> None:
    import pygame

    pygame.image.save(pygame.surfarray.make_surface(rgb.transpose(1, 0, 2).copy()), str(path))


# -- what the screens should look like, drawn by the UI's own code offscreen --------------------------------
class Reference:
    def __init__(self, config: dict | None = None):
        import pygame

        from gaitkiosk.config import load_config
        from ui.app import App
        from ui.theme import load_theme

        pygame.font.init()
        ui = (config or load_config(None))["ui"]
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
    """The share of pixels that are exactly alike in two pictures of one size."""
    return float(np.mean(np.all(a == b, axis=2)))


def fill_fraction(shot: np.ndarray, rect, colour) -> float:
    """The share of ``rect``'s pixels in exactly ``colour`` (a button's fill; its label is the rest)."""
    area = shot[rect.top:rect.bottom, rect.left:rect.right]
    return float(np.mean(np.all(area == np.asarray(colour, np.uint8), axis=2)))


def wait_for(what: str, check, proc, timeout: float = 15.0, log: Path | None = None):
    """``check()``'s first answer that is not None or False; fails after ``timeout`` s or if ``proc`` ends
    (saying what it wrote: its pipes, or the file ``log`` it writes to)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            said = log.read_text(errors="replace")[-4000:] if log else proc.communicate()
            pytest.fail(f"the kiosk exited ({proc.returncode}) while waiting for {what}: {said}")
        last = check()
        if last is not None and last is not False:
            return last
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")
