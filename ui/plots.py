"""Plots for the staff screens: matplotlib's Agg renderer on a thread of its own, into pygame surfaces.

The patient screens draw everything directly in pygame; a therapist's plots
(COP path with its ellipse, pressure images with a kPa scale, trends) are
matplotlib figures. Drawing one takes tens to hundreds of milliseconds, far
more than a frame (16 ms), so the UI thread never draws them: a screen asks
:meth:`Plots.get` for a plot by key each frame and gets the finished surface,
or None while the renderer thread draws it (the screen shows "drawing..."
meanwhile and stays responsive). Finished plots are kept in a small LRU cache,
so coming back to a screen shows its plots at once.

A plot is a function ``draw(fig, *args)`` on a fresh :class:`matplotlib.figure.Figure`
of the requested pixel size (no pyplot: no global state, safe off the main
thread). matplotlib is imported lazily, on the renderer thread, the first time
a plot is asked for: the kiosk's start and the patient screens never pay for it.
The pixels come out as RGBA bytes (``buffer_rgba()``); the pygame surface is
made on the UI thread (``pygame.image.frombuffer``), the only thread that
touches pygame.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

DPI = 100.0


def render_rgba(draw: Callable, args: tuple, size: tuple[int, int], style: dict | None = None) -> bytes:
    """Draw one figure of ``size`` pixels with matplotlib's Agg renderer; its RGBA bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = size
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI)
    if style:
        fig.patch.set_facecolor(style.get("background", "white"))
    FigureCanvasAgg(fig)
    draw(fig, *args)
    fig.canvas.draw()
    return bytes(fig.canvas.buffer_rgba())


class Plots:
    """Renders plots off the UI thread and keeps the last ``keep`` of them.

    ``get(key, draw, args, size)`` is called from the UI thread each frame; it never blocks.
    """

    def __init__(self, keep: int = 24, style: dict | None = None):
        self.keep = keep
        self.style = style
        self._done: OrderedDict[Hashable, object] = OrderedDict()  # key -> pygame.Surface (UI thread only)
        self._ready: queue.SimpleQueue = queue.SimpleQueue()  # (key, size, rgba bytes | exception) from the thread
        self._asked: set = set()  # keys queued or being drawn
        self._failed: dict = {}  # key -> the error in words (shown instead of the plot)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._warmed = False

    def get(self, key: Hashable, draw: Callable, args: tuple, size: tuple[int, int]):
        """The finished surface for ``key`` at ``size``, or None (being drawn; asked for now if new)."""
        self._collect()
        full = (key, tuple(size))
        if full in self._done:
            self._done.move_to_end(full)
            return self._done[full]
        if full not in self._asked and full not in self._failed:
            self._asked.add(full)
            self._jobs.put((full, draw, args, tuple(size)))
            self._start()
        return None

    def warm(self) -> None:
        """Import matplotlib on the renderer thread now (about a second on this machine, several on
        a Pi), so that the first plot a therapist opens does not wait for it: the staff home asks."""
        if not self._warmed:
            self._warmed = True
            self._jobs.put(None)
            self._start()

    def failed(self, key: Hashable, size: tuple[int, int]) -> str | None:
        """Why the plot could not be drawn (its error), or None."""
        return self._failed.get((key, tuple(size)))

    def pending(self) -> int:
        self._collect()
        return len(self._asked)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="plots", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=30.0)
            except queue.Empty:
                return  # nothing asked for a while: the thread ends, the next get starts another
            if job is None:  # warm(): matplotlib imported and its fonts loaded, by a tiny figure with text
                try:
                    render_rgba(lambda fig: fig.text(0.5, 0.5, "0 kPa"), (), (16, 16), self.style)
                except Exception:  # noqa: BLE001 - only a head start: a real plot reports its own error
                    log.exception("warming the plot renderer failed")
                continue
            full, draw, args, size = job
            try:
                self._ready.put((full, size, render_rgba(draw, args, size, self.style)))
            except Exception as exc:  # noqa: BLE001 - a bad plot is shown as its error, the kiosk goes on
                log.exception("drawing plot %r failed", full[0])
                self._ready.put((full, size, exc))

    def _collect(self) -> None:
        import pygame

        while True:
            try:
                full, size, out = self._ready.get_nowait()
            except queue.Empty:
                return
            self._asked.discard(full)
            if isinstance(out, Exception):
                self._failed[full] = f"{type(out).__name__}: {out}"
                continue
            # frombuffer shares the bytes; copy() gives the surface its own pixels, in the display's format.
            self._done[full] = pygame.image.frombuffer(out, size, "RGBA").copy()
            while len(self._done) > self.keep:
                self._done.popitem(last=False)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until nothing is being drawn (tests, screenshots, benchmarks): True if all done."""
        import time

        end = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > end:
                return False
            time.sleep(0.005)
        return True


def plots_of(app) -> Plots:
    """The app's one plot renderer (made on first use: patient-only kiosks never start it)."""
    plots = getattr(app, "plots", None)
    if plots is None:
        plots = app.plots = Plots()
    return plots
