"""The session review's plots: pure functions ``draw(fig, ...)`` for :mod:`ui.plots` (matplotlib
Agg, on the renderer thread, never the UI thread).

- :func:`cop_plot`: the COP path with the 95 % prediction ellipse and its axes. The ellipse is the
  STORED report's (semi-axes ``sway.ellipse95_axes_mm``, angle ``sway.ellipse95_angle_deg``),
  centred on the mean of the plotted COP; nothing of it is recomputed.
- :func:`mat_pressure_plot`: the mat's peak or mean pressure image (smooth: bicubic), in the live
  screen's colours (``ui.pressure.PressureScale``, viridis) with a colour bar labelled in kPa, and
  each step's gait line over its footprint.
- :func:`insole_pressure_plot`: the same for two insoles: each sensor a disc in its colour, and
  each step's gait line in the insole's frame.

Colours come in as a dict (``background``, ``text``, ``muted``, ``left``, ``right``, ``accent``,
``target``) of 0..1 RGB tuples, so a plot matches the staff screens' theme.
"""

from __future__ import annotations

import math

import numpy as np

from ui.pressure import PressureScale

MAX_PATH_POINTS = 2000  # a longer COP path is thinned for drawing (its shape at screen size is the same)


def review_scale(peak_kpa: float) -> PressureScale:
    """The review's kPa scale: the live screen's colours, linear in kPa (gamma 1), up to the trial's
    peak rounded up to 50 kPa (at least 100)."""
    top = max(100.0, 50.0 * math.ceil(float(peak_kpa) / 50.0))
    return PressureScale(max_kpa=top, floor_kpa=10.0, gamma=1.0)


def _style(ax, colors: dict) -> None:
    ax.set_facecolor(colors["background"])
    for spine in ax.spines.values():
        spine.set_color(colors["muted"])
    ax.tick_params(colors=colors["text"], labelsize=9)
    ax.xaxis.label.set_color(colors["text"])
    ax.yaxis.label.set_color(colors["text"])


def cop_plot(fig, cop_mm: np.ndarray, axes_mm, angle_deg, colors: dict) -> None:
    """COP path (mat mm) with the stored 95 % ellipse (semi-axes ``axes_mm`` = [a, b], ``angle_deg``
    from +x; None: a circle) and its two axes, centred on the path's mean."""
    from matplotlib.patches import Ellipse

    fig.patch.set_facecolor(colors["background"])
    # Margins in pixels for the tick labels and axis titles (a layout engine costs ~35 ms a plot).
    w, h = fig.get_size_inches() * fig.dpi
    ax = fig.add_axes((72 / w, 46 / h, 1 - 80 / w, 1 - 56 / h))
    _style(ax, colors)
    path = np.asarray(cop_mm, dtype=np.float64)
    path = path[np.all(np.isfinite(path), axis=1)]
    if len(path) > MAX_PATH_POINTS:
        path = path[:: int(math.ceil(len(path) / MAX_PATH_POINTS))]
    centre = path.mean(axis=0) if len(path) else np.zeros(2)
    ax.plot(path[:, 0], path[:, 1], color=colors["accent"], lw=0.8, alpha=0.9)
    reach = float(np.abs(path - centre).max()) if len(path) else 1.0
    if axes_mm is not None:
        a, b = float(axes_mm[0]), float(axes_mm[1])
        angle = float(angle_deg) if angle_deg is not None else 0.0
        ax.add_patch(Ellipse(tuple(centre), 2 * a, 2 * b, angle=angle, fill=False, lw=2.0, color=colors["target"],
                             label="95 % ellipse"))
        turn = math.radians(angle)
        for length, extra, style in ((a, 0.0, "-"), (b, 90.0, "--")):
            dx = length * math.cos(turn + math.radians(extra))
            dy = length * math.sin(turn + math.radians(extra))
            ax.plot([centre[0] - dx, centre[0] + dx], [centre[1] - dy, centre[1] + dy], style,
                    color=colors["target"], lw=1.2)
        reach = max(reach, a)
    lim = 1.1 * max(reach, 1.0)
    ax.set_xlim(centre[0] - lim, centre[0] + lim)
    ax.set_ylim(centre[1] - lim, centre[1] + lim)
    ax.set_aspect("equal", adjustable="box", anchor="C")
    ax.set_xlabel("side to side (mm)")
    ax.set_ylabel("front to back (mm)")
    from matplotlib.ticker import MaxNLocator

    for axis in (ax.xaxis, ax.yaxis):  # whole millimetres: short tick labels beside the axis title
        axis.set_major_locator(MaxNLocator(5, integer=True))


def _colormap(scale: PressureScale, background):
    from matplotlib.colors import ListedColormap

    return ListedColormap(scale.lut[1:] / 255.0).with_extremes(under=background, bad=background)


def _colorbar(fig, mappable, ax, scale: PressureScale, colors: dict):
    ticks = [scale.floor_kpa] + [v for v in (50, 100, 150, 200, 300, 400, 600, 800) if scale.floor_kpa < v <= scale.max_kpa]
    bar = fig.colorbar(mappable, ax=ax, ticks=ticks, fraction=0.08, pad=0.03, extend="neither")
    bar.ax.set_yticklabels([f"{v:.0f} kPa" for v in ticks])
    bar.ax.tick_params(colors=colors["text"], labelsize=9)
    bar.outline.set_edgecolor(colors["muted"])
    return bar


def mat_pressure_plot(fig, image_kpa: np.ndarray, pitch_mm, lines: list, feet: list, colors: dict,
                      title: str) -> None:
    """One pressure image of the mat (kPa, (rows, cols), row 0 at the rear) cropped to the loaded
    sensels, with ``lines`` ((k, 2) mm paths) coloured by ``feet`` ('left'/'right')."""
    fig.patch.set_facecolor(colors["background"])
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    _style(ax, colors)
    img = np.asarray(image_kpa, np.float32)
    scale = review_scale(float(img.max()) if img.size else 0.0)
    row_mm, col_mm = float(pitch_mm[0]), float(pitch_mm[1])
    # the crop: the feet, not a sensel that flickered above the floor once in a minute
    loaded = np.argwhere(img >= max(scale.floor_kpa, 0.1 * float(img.max()) if img.size else 0.0))
    if len(loaded):
        (r0, c0), (r1, c1) = loaded.min(axis=0), loaded.max(axis=0)
    else:
        r0, c0, r1, c1 = 0, 0, img.shape[0] - 1, img.shape[1] - 1
    pad = 3
    r0, c0 = max(0, r0 - pad), max(0, c0 - pad)
    r1, c1 = min(img.shape[0] - 1, r1 + pad), min(img.shape[1] - 1, c1 + pad)
    # Unloaded sensels are the background through the colour map's "under" colour, not a mask:
    # matplotlib grows a masked area when it interpolates, which would eat the feet's edges.
    crop = img[r0:r1 + 1, c0:c1 + 1]
    extent = (c0 * col_mm, (c1 + 1) * col_mm, r0 * row_mm, (r1 + 1) * row_mm)
    shown = ax.imshow(crop, origin="lower", extent=extent, cmap=_colormap(scale, colors["background"]),
                      vmin=scale.floor_kpa, vmax=scale.max_kpa, interpolation="bicubic")
    for path, foot in zip(lines, feet, strict=False):
        if len(path) > 1:
            ax.plot(path[:, 0], path[:, 1], color=colors.get(foot, colors["text"]), lw=2.0)
            ax.plot(path[0, 0], path[0, 1], "o", color=colors.get(foot, colors["text"]), ms=4)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("side to side (mm)")
    ax.set_title(title, color=colors["text"], fontsize=11)
    _colorbar(fig, shown, ax, scale, colors)


def insole_pressure_plot(fig, values: dict, sensors: dict, lines: dict, colors: dict, title: str) -> None:
    """Both insoles: ``values[side]`` kPa per sensor at ``sensors[side]`` (mm, insole frame: heel
    at the origin, toes up), ``lines[side]`` the steps' COP paths in that frame."""
    fig.patch.set_facecolor(colors["background"])
    fig.set_layout_engine("constrained")
    peak = max((float(np.max(v)) for v in values.values() if len(v)), default=0.0)
    scale = review_scale(peak)
    cmap = _colormap(scale, colors["background"])
    axes = fig.subplots(1, 2)
    shown = None
    for ax, side in zip(axes, ("left", "right"), strict=True):
        _style(ax, colors)
        ax.set_title(f"{side} insole", color=colors[side], fontsize=10)
        if side not in values:
            ax.set_axis_off()
            continue
        pos = np.asarray(sensors[side], float)
        v = np.ma.masked_less(np.asarray(values[side], float), scale.floor_kpa)
        shown = ax.scatter(pos[:, 0], pos[:, 1], c=v, s=180, cmap=cmap, vmin=scale.floor_kpa, vmax=scale.max_kpa,
                           edgecolors=colors["muted"], plotnonfinite=True)
        for path in lines.get(side, ()):
            if len(path) > 1:
                ax.plot(path[:, 0], path[:, 1], color=colors[side], lw=1.2, alpha=0.8)
        ax.set_aspect("equal")
        ax.set_xlim(pos[:, 0].min() - 30, pos[:, 0].max() + 30)
        ax.set_ylim(pos[:, 1].min() - 30, pos[:, 1].max() + 30)
        ax.set_xticks([])
    fig.suptitle(title, color=colors["text"], fontsize=11)
    if shown is not None:
        _colorbar(fig, shown, list(axes), scale, colors)


def pressure_plot(fig, mat, insoles, steps, mode, colors, parameters) -> None:
    """The review's pressure tab: the trial's peak or mean image and its steps' gait lines, computed
    here, on the renderer thread, from the frames the worker loaded (gaitkiosk/staff_rooms/review.py)."""
    from kernels.cop_path import gait_lines, insole_gait_lines, peak_and_mean

    label = "Peak pressure" if mode == "peak" else "Mean pressure while loaded"
    if mat is not None:
        peak, mean = peak_and_mean(mat["counts"], mat["to_kpa"], mat["threshold_kpa"])
        lines = gait_lines(mat["counts"], mat["t"], mat["pitch_mm"], steps, mat["threshold_kpa"], mat["to_kpa"],
                           parameters.get("contact_on_n", 30.0), parameters.get("contact_off_n", 20.0)) if steps else []
        mat_pressure_plot(fig, peak if mode == "peak" else mean, mat["pitch_mm"], lines,
                                       [s.get("foot") for s in steps], colors, label)
        return
    values, sensors, lines = {}, {}, {}
    for side, s in insoles["sides"].items():
        peak, mean = peak_and_mean(s["kpa"], None, 0.0)
        values[side] = peak if mode == "peak" else mean
        sensors[side] = s["sensors_mm"]
        lines[side] = insole_gait_lines(s["kpa"], s["t"], s["sensors_mm"], steps, side, s.get("area_mm2"))
    insole_pressure_plot(fig, values, sensors, lines, colors, label)
