"""UI frame time and device-to-screen latency while a live drill runs.

The whole kiosk runs as in a clinic, on the virtual patient: a 48 x 48 mat
and two 16-sensor insoles at 100 Hz through sim:// serial ports and reader
threads, the analysis thread (kPa, kernels, the drill, its autopilot), and
the UI under SDL's dummy video driver. For each display size the live drill
screen is stepped at 60 frames per second for a few seconds and we record:

* **frame time**: one ``App.step`` (events, update, draw), median and p95 (aim < 8 ms);
* **latency**: from the host time of the newest mat frame on screen (the
  sample time on the device, mapped to the host clock by the reader) to the
  end of the draw that shows it (aim < 50 ms); it includes the USB model,
  the reader, the analysis thread and waiting for the next UI frame.

Baselines, measured in the same run: drawing the heat map the obvious way
(one ``pygame.draw.rect`` per loaded sensel), and as square sensels through a
colour look-up table blitted and scaled once (``MatView(smooth=False)``),
against the smooth map the patient sees (the frame interpolated, coloured
through an 8-bit palette and scaled smoothly; ui/heatmap.py, ui/pressure.py).

    python bench/bench_ui.py          (or: make bench)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

SIZES = [((800, 480), 7.0), ((1280, 800), 10.1)]
SECONDS = 4.0
FPS = 60.0


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _wait(app, pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step(0.01, [])
        if pred():
            return
        time.sleep(0.01)
    raise RuntimeError(f"bench: timed out on screen {app.top.name}")


def live_drill(size, diagonal, data_dir) -> dict:
    import pygame

    from gaitkiosk.config import default_config
    from gaitkiosk.demo_seed import seed_demo
    from gaitkiosk.runtime import Runtime
    from ui import screens
    from ui.app import App, Intent
    from ui.theme import load_theme

    config = default_config()
    seed_demo(data_dir, config, "1234")
    pygame.display.init()
    surface = pygame.display.set_mode(size)
    app = App(surface, load_theme(), diagonal_in=diagonal, router=screens.route)
    app.reset(screens.AttractScreen(app))
    rt = Runtime(config, data_dir, simulate=True, countdown_s=0.5).start(app)
    try:
        app.post(Intent("checkin", {"code": "1234"}))
        _wait(app, lambda: app.top.name == "program")
        app.post(Intent("start_drill", {"index": 0}))
        _wait(app, lambda: app.top.name == "instruction")
        app.post(Intent("begin_drill", {"index": 0}))
        _wait(app, lambda: app.top.name == "drill" and app.top.view.get("phase") == "running")
        screen = app.top
        frame_ms, latency_ms = [], []
        app.frame_times.clear()
        end = time.monotonic() + SECONDS
        last = time.monotonic()
        frames_before = rt.stats["mat_frames"]
        analysis_before = rt.stats["analysis_s"]
        while time.monotonic() < end:
            t0 = time.monotonic()
            app.step(t0 - last, [])
            pygame.display.flip()
            shown = time.monotonic()
            last = t0
            frame_ms.append(app.frame_times[-1] * 1e3)
            if screen.frame_t is not None:
                latency_ms.append((shown - screen.frame_t) * 1e3)
            time.sleep(max(0.0, 1.0 / FPS - (time.monotonic() - t0)))
        mat_frames = rt.stats["mat_frames"] - frames_before
        analysis_ms = (rt.stats["analysis_s"] - analysis_before) / max(1, mat_frames) * 1e3
        app.post(Intent("stop_drill"))
        _wait(app, lambda: app.top.name == "result")
    finally:
        rt.close()
        pygame.display.quit()
    return {
        "size": f"{size[0]}x{size[1]}", "frames": len(frame_ms),
        "frame_ms_median": statistics.median(frame_ms), "frame_ms_p95": _pct(frame_ms, 0.95),
        "latency_ms_median": statistics.median(latency_ms), "latency_ms_p95": _pct(latency_ms, 0.95),
        "mat_frames_per_s": mat_frames / SECONDS, "analysis_ms_per_mat_frame": analysis_ms,
        "max_mat_gap_ms": rt.stats["max_mat_gap_s"] * 1e3,
    }


def heatmap_baseline(size) -> dict:
    """ui.heatmap.MatView, smooth and square, against one draw.rect per loaded sensel."""
    import numpy as np
    import pygame

    from ui.heatmap import PATIENT_SCALE, MatView
    from ui.theme import Colors

    pygame.display.init()
    surface = pygame.Surface(size)
    colors = Colors()
    box = pygame.Rect(0, 0, min(size[1], int(size[0] * 0.56)), size[1])
    smooth = MatView(48, 48, (8.47, 8.47), box)
    square = MatView(48, 48, (8.47, 8.47), box, smooth=False)
    rng = np.random.default_rng(1)
    frames = [np.clip(rng.gamma(0.6, 60.0, (48, 48)).astype(np.float32) * (rng.random((48, 48)) < 0.35), 0, 400)
              for _ in range(20)]
    lut = [tuple(int(v) for v in c) for c in PATIENT_SCALE.lut]
    cell_w, cell_h = smooth.rect.width / 48, smooth.rect.height / 48
    n = 200

    def per_frame(view):
        t0 = time.perf_counter()
        for i in range(n):
            view.set_frame(frames[i % 20])
            view.draw(surface, colors)
        return (time.perf_counter() - t0) / n * 1e3

    smooth_ms, square_ms = per_frame(smooth), per_frame(square)
    t0 = time.perf_counter()
    for i in range(n):
        f = frames[i % 20]
        pygame.draw.rect(surface, colors.background, smooth.rect)
        idx = PATIENT_SCALE.indices(f)
        rows, cols = np.nonzero(idx)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            pygame.draw.rect(surface, lut[idx[r, c]], pygame.Rect(smooth.rect.left + c * cell_w,
                                                                  smooth.rect.bottom - (r + 1) * cell_h, cell_w + 1, cell_h + 1))
    naive = (time.perf_counter() - t0) / n * 1e3
    return {"size": f"{size[0]}x{size[1]}", "heatmap_ms": smooth_ms, "square_heatmap_ms": square_ms,
            "naive_heatmap_ms": naive, "speedup": naive / smooth_ms, "smooth_cost": smooth_ms / square_ms}


def main() -> dict:
    out = {"live": [], "heatmap": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (size, diag) in enumerate(SIZES):
            out["live"].append(live_drill(size, diag, Path(tmp) / f"d{i}"))
    for size, _ in SIZES:
        out["heatmap"].append(heatmap_baseline(size))
    print(f"{'display':<10} {'frames':>6} {'frame ms med':>13} {'p95':>6} {'latency ms med':>15} {'p95':>6} "
          f"{'mat Hz':>7} {'analysis ms/frame':>18} {'max mat gap ms':>15}")
    for r in out["live"]:
        print(f"{r['size']:<10} {r['frames']:>6} {r['frame_ms_median']:>13.2f} {r['frame_ms_p95']:>6.2f} "
              f"{r['latency_ms_median']:>15.1f} {r['latency_ms_p95']:>6.1f} {r['mat_frames_per_s']:>7.1f} "
              f"{r['analysis_ms_per_mat_frame']:>18.3f} {r['max_mat_gap_ms']:>15.1f}")
    print(f"\n{'display':<10} {'smooth map ms':>14} {'square map ms':>14} {'per-sensel rects ms':>20} "
          f"{'rects/smooth':>13} {'smooth/square':>14}")
    for r in out["heatmap"]:
        print(f"{r['size']:<10} {r['heatmap_ms']:>14.3f} {r['square_heatmap_ms']:>14.3f} {r['naive_heatmap_ms']:>20.3f} "
              f"{r['speedup']:>12.1f}x {r['smooth_cost']:>13.1f}x")
    return out


if __name__ == "__main__":
    main()
