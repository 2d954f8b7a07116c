"""The staff screens' plot renderer (ui/plots.py): matplotlib draws on its own thread, the UI
thread only picks finished surfaces up and never waits for one."""

from __future__ import annotations

import threading

import pygame
import ui_support

from ui.plots import Plots

dummy_video = ui_support.dummy_video


def red_box(fig, x0, x1):
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.axvspan(x0, x1, color=(1.0, 0.0, 0.0))


def test_a_plot_is_drawn_off_the_ui_thread_and_cached(dummy_video):
    plots = Plots()
    gate = threading.Event()
    threads = []

    def gated(fig, x0, x1):
        threads.append(threading.current_thread().name)
        assert gate.wait(30)
        red_box(fig, x0, x1)

    assert plots.get("box", gated, (0.5, 1.0), (200, 100)) is None  # asked: being drawn
    for _ in range(5):  # the UI keeps asking each frame; it never blocks while the plot is drawn
        assert plots.get("box", gated, (0.5, 1.0), (200, 100)) is None
    gate.set()
    assert plots.wait()
    surface = plots.get("box", gated, (0.5, 1.0), (200, 100))
    assert isinstance(surface, pygame.Surface) and surface.get_size() == (200, 100)
    assert surface.get_at((150, 50))[:3] == (255, 0, 0) and surface.get_at((50, 50))[:3] == (255, 255, 255)
    assert threads == ["plots"]  # drawn once, on the renderer's thread
    assert plots.get("box", gated, (0.5, 1.0), (200, 100)) is surface  # the cache


def test_a_plot_that_fails_is_reported_not_retried_and_the_others_still_draw(dummy_video):
    plots = Plots(keep=2)

    def broken(fig):
        raise ValueError("no frames in this trial")

    assert plots.get("bad", broken, (), (100, 100)) is None
    assert plots.wait()
    assert plots.get("bad", broken, (), (100, 100)) is None
    assert plots.failed("bad", (100, 100)) == "ValueError: no frames in this trial"
    assert plots.pending() == 0  # not asked again
    for i in range(3):
        plots.get(i, red_box, (0.0, 0.5), (60, 40))
    assert plots.wait()
    assert [plots.get(i, red_box, (0.0, 0.5), (60, 40)) is not None for i in (1, 2)] == [True, True]
    assert plots.get(0, red_box, (0.0, 0.5), (60, 40)) is None  # the oldest left the cache of 2
