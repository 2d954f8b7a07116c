"""Both feet as a pressure heat map at the mat's true geometry.

The mat frame ``frame[r, c]`` has row 0 at the rear (DESIGN 3); the patient
faces the screen, so rows are flipped to draw forward as up, and column 0
(the patient's left) is on the screen's left: the picture is what the
patient would see looking down at their feet. Sensels keep their physical
aspect (row and column pitch may differ): the map is scaled uniformly to fit
its box and centred.

Colour: a :class:`ui.pressure.PressureScale` (viridis; loads under its floor
are the background, so the feet stand out as shapes, not only as colours).
The frame is interpolated before it is coloured (``ui.pressure``): the feet
are smooth shapes, not squares. A lone loaded sensel with no loaded
neighbour (a stuck sensor) is left out of the picture. Everything else drawn
on top is in mat millimetres (the centre of pressure and its trail, targets
and zones, the base of support), with line widths in millimetres on the
glass (``ui.marks``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pygame

from ui import marks
from ui.heat import HeatIndexer
from ui.heat import _module as _heat  # its trail_points too (None: not built, or GAITKIOSK_PURE=1)
from ui.pressure import PressureScale, Upsampler, steps_per_sensel

# The patient screens' scale: brighter low loads (see ui.pressure). A therapist's plot may pass its own.
PATIENT_SCALE = PressureScale()
DEFAULT_PX_PER_MM = 5.25  # the 7-inch 800 x 480 panel, when the caller does not say


def trail_points_reference(view: MatView, trail) -> list[tuple[int, int]]:
    """The specification of ``ui._heat.trail_points``."""
    return marks.thin_out(view.trail_px(trail), marks.trail_min_px(view.marks))


def _loaded_box(idx: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), inclusive, of the non-zero (loaded) samples of x-major indices, or None."""
    cols = np.flatnonzero(idx.any(axis=1))
    if not len(cols):
        return None
    rows = np.flatnonzero(idx[cols[0]:cols[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


class MatView:
    """Draws one mat's frames into a box, and maps mat mm <-> screen pixels.

    ``px_per_mm``: pixels per millimetre of glass, for the marks' widths (``ui.marks``).
    ``smooth=False`` draws each sensel as a square (what the kPa grid really is).
    """

    def __init__(self, rows: int, cols: int, pitch_mm: tuple[float, float], box: pygame.Rect,
                 background=(12, 14, 20), max_kpa: float | None = None, floor_kpa: float | None = None,
                 despeckle: bool = True, scale: PressureScale | None = None, px_per_mm: float | None = None,
                 smooth: bool = True):
        self.rows, self.cols = int(rows), int(cols)
        self.pitch = (float(pitch_mm[0]), float(pitch_mm[1]))  # (row, column) mm
        self.size_mm = (self.cols * self.pitch[1], self.rows * self.pitch[0])  # (x extent, y extent)
        fit = min(box.width / self.size_mm[0], box.height / self.size_mm[1])
        w, h = int(self.size_mm[0] * fit), int(self.size_mm[1] * fit)
        k_r = steps_per_sensel(h / self.rows) if smooth else 1
        k_c = steps_per_sensel(w / self.cols) if smooth else 1
        self._up = self._step = None
        if smooth and (k_r > 1 or k_c > 1):
            # The interpolated samples lie a whole number of pixels apart (``_step``, about what
            # steps_per_sensel asks for): smoothscale then puts every sample on a pixel, and scaling
            # a part of the samples paints exactly that part of the whole picture. A new frame
            # repaints only where the feet were or are (set_frame), not the whole map.
            m_r, m_c = max(1, round(h / (self.rows * k_r))), max(1, round(w / (self.cols * k_c)))
            samples = (h // m_r + 1, w // m_c + 1)
            self._up = Upsampler(self.rows, self.cols, k_r, k_c, shape=samples)
            self._step = (m_r, m_c)
            w, h = (samples[1] - 1) * m_c, (samples[0] - 1) * m_r  # at most a step smaller than the fit
            fit = min(w / self.size_mm[0], h / self.size_mm[1])
        self.px_per_mm = fit
        self.rect = pygame.Rect(0, 0, w, h)
        self.rect.center = box.center
        scale = scale or PATIENT_SCALE
        if max_kpa is not None or floor_kpa is not None:
            scale = PressureScale(max_kpa if max_kpa is not None else scale.max_kpa,
                                  floor_kpa if floor_kpa is not None else scale.floor_kpa, scale.gamma, scale.low)
        self.scale = scale
        self.max_kpa, self.floor_kpa = scale.max_kpa, scale.floor_kpa
        lut = scale.lut.copy()
        lut[0] = background[:3]  # index 0 is "unloaded": the background colour
        self._lut = lut
        self.marks = marks.MarkSizes.for_display(px_per_mm or DEFAULT_PX_PER_MM)
        small = self._up.shape if self._up is not None else (self.rows, self.cols)
        # Indices go into an 8-bit surface whose palette is the colour table: SDL colours it in C.
        self._indexed = pygame.Surface((small[1], small[0]), depth=8)
        self._indexed.set_palette([tuple(int(v) for v in rgb) for rgb in lut])
        self._small = pygame.Surface((small[1], small[0]), depth=32)
        self._scaled = pygame.Surface(self.rect.size, depth=32)
        self._have_frame = False
        self._feet: tuple[int, int, int, int] | None = None  # samples (x0, y0, x1, y1) loaded in the last frame
        self.painted: pygame.Rect | None = None  # the part of the picture the last set_frame painted (map px)
        self.background = background
        # A loaded sensel with no loaded neighbour is not a foot (a stuck sensor, a speck of
        # noise): the patient's picture leaves it out. Analysis and recordings are untouched.
        self.despeckle = despeckle
        self._indexer = HeatIndexer(self.rows, self.cols, scale, self._up, despeckle)

    # -- geometry -----------------------------------------------------------------------
    def to_px(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        """Mat mm (x right, y forward) to a screen pixel (y forward is up)."""
        return (int(self.rect.left + x_mm * self.px_per_mm),
                int(self.rect.bottom - y_mm * self.px_per_mm))

    def trail_px(self, trail) -> list[tuple[int, int]]:
        """A COP trail (mat mm, oldest first) as screen pixels, a point that lands on the pixel of
        the point before it left out (``marks.thin_out`` would drop it anyway: same drawing).

        One numpy pass instead of a ``to_px`` call per point: the trail is 200 points and the live
        screen draws it 60 times a second; quiet sway moves a few pixels in 2 s, so most points
        share a pixel. (bench/bench_kiosk_cpu.py: a third of the drill screen's draw time.)
        """
        # fromiter over the flattened points: twice as fast as asarray on a tuple of tuples
        xy = np.fromiter(itertools.chain.from_iterable(trail), np.float64, count=2 * len(trail)).reshape(-1, 2)
        px = np.empty((len(xy), 2), np.int64)
        px[:, 0] = self.rect.left + xy[:, 0] * self.px_per_mm  # truncated toward zero, as int() in to_px
        px[:, 1] = self.rect.bottom - xy[:, 1] * self.px_per_mm
        moved = np.ones(len(px), bool)
        moved[1:] = np.any(px[1:] != px[:-1], axis=1)
        return [(x, y) for x, y in px[moved].tolist()]

    def trail_points(self, trail) -> list[tuple[int, int]]:
        """The trail as ``marks.draw_trail`` draws it (``trail_px`` thinned by ``marks.thin_out``): one
        compiled pass over the points (``ui._heat.trail_points``), the reference when it is not built."""
        if _heat is None:
            return trail_points_reference(self, trail)
        return _heat.trail_points(trail, float(self.rect.left), float(self.rect.bottom), float(self.px_per_mm),
                                  marks.trail_min_px(self.marks))

    def to_mm(self, px: int, py: int) -> tuple[float, float]:
        return ((px - self.rect.left) / self.px_per_mm, (self.rect.bottom - py) / self.px_per_mm)

    def length_px(self, mm: float) -> int:
        return max(1, int(round(mm * self.px_per_mm)))

    # -- data (called from update, never from draw) --------------------------------------
    def set_frame(self, kpa: np.ndarray | None) -> None:
        """Colour a new frame (float kPa, (rows, cols)) into the map's surface."""
        if kpa is None:
            self._have_frame = False
            return
        if kpa.shape != (self.rows, self.cols):
            raise ValueError(f"frame shape {kpa.shape} does not fit a {self.rows} x {self.cols} mat view")
        # forward up, specks out, smoothed, coloured: ui.heat (compiled)
        idx = self._indexer.xmajor(kpa)
        feet = _loaded_box(idx)
        pygame.surfarray.blit_array(self._indexed, idx)
        self._small.blit(self._indexed, (0, 0))
        if self._up is None:
            pygame.transform.scale(self._small, self.rect.size, self._scaled)
            self.painted = self._scaled.get_rect()
        else:
            self.painted = self._smooth(feet if self._have_frame else (0, 0) + self._small.get_size())
        self._feet = feet
        self._have_frame = True

    def _smooth(self, changed) -> pygame.Rect | None:
        """smoothscale the part of the picture that ``changed`` (samples x0, y0, x1, y1, or None) and
        the last frame's feet touch: a pixel depends on the samples either side of it only. The part
        of the picture painted (map pixels), or None."""
        parts = [b for b in (changed, self._feet) if b is not None]
        if not parts:
            return None  # no load then, none now: the picture is the background it was
        sw, sh = self._small.get_size()
        x0, y0 = max(0, min(b[0] for b in parts) - 1), max(0, min(b[1] for b in parts) - 1)
        x1, y1 = min(sw - 1, max(b[2] for b in parts) + 1), min(sh - 1, max(b[3] for b in parts) + 1)
        m_r, m_c = self._step
        if x1 <= x0 or y1 <= y0:
            return None
        out = pygame.Rect(x0 * m_c, y0 * m_r, (x1 - x0) * m_c, (y1 - y0) * m_r)
        pygame.transform.smoothscale(self._small.subsurface((x0, y0, x1 - x0 + 1, y1 - y0 + 1)), out.size,
                                     self._scaled.subsurface(out))
        return out

    # -- drawing -----------------------------------------------------------------------
    def draw(self, surface, colors, cop_mm=None, trail=(), targets=(), zone=None, base_of_support=None) -> None:
        """The map, then zone, base of support, targets, trail and the COP dot.

        ``targets``: iterables of dicts {x_mm, y_mm, radius_mm, state} where state is
        'next', 'active', 'done' or 'missed'. ``zone``: {x_mm, y_mm, radius_mm} or
        {x0_mm, y0_mm, x1_mm, y1_mm} (a band). ``base_of_support``: (M, 2) polygon.
        """
        if self._have_frame:
            surface.blit(self._scaled, self.rect)
        else:
            pygame.draw.rect(surface, self.background, self.rect)
        pygame.draw.rect(surface, colors.muted, self.rect, width=2)
        if base_of_support is not None and len(base_of_support) >= 3:
            pygame.draw.polygon(surface, colors.muted, [self.to_px(*p) for p in base_of_support], width=2)
        if zone:
            self._draw_zone(surface, colors, zone)
        for t in targets or ():
            marks.draw_target(surface, colors, self.to_px(t["x_mm"], t["y_mm"]), self.length_px(t.get("radius_mm", 15.0)),
                              t.get("state", "next"), self.marks)
        if len(trail) >= 2:
            marks.draw_trail(surface, colors, self.trail_points(trail), self.marks)
        if cop_mm is not None:
            p = self.to_px(*cop_mm)
            marks.draw_dot(surface, colors, p, self.marks)
            for t in targets or ():
                c, r = self.to_px(t["x_mm"], t["y_mm"]), self.length_px(t.get("radius_mm", 15.0))
                if t.get("state") == "active" and math.dist(p, c) < r + self.marks.dot:
                    # the dot is on the lit target: its ring over the dot keeps it in sight
                    marks.draw_target(surface, colors, c, r, "next", self.marks)

    def _draw_zone(self, surface, colors, zone) -> None:
        if "radius_mm" in zone:
            marks.draw_zone_circle(surface, colors, self.to_px(zone["x_mm"], zone["y_mm"]),
                                   self.length_px(zone["radius_mm"]), self.marks)
        else:
            (x0, y0), (x1, y1) = self.to_px(zone["x0_mm"], zone["y1_mm"]), self.to_px(zone["x1_mm"], zone["y0_mm"])
            marks.draw_zone_rect(surface, colors, pygame.Rect(x0, y0, max(2, x1 - x0), max(2, y1 - y0)), self.marks)


class InsoleView:
    """Two insoles side by side: each sensor a disc coloured by its pressure."""

    def __init__(self, box: pygame.Rect, max_kpa: float = 300.0, floor_kpa: float = 5.0, scale: PressureScale | None = None):
        self.box = box
        self.scale = scale or PressureScale(max_kpa, floor_kpa, PATIENT_SCALE.gamma, PATIENT_SCALE.low)
        self.max_kpa, self.floor_kpa = self.scale.max_kpa, self.scale.floor_kpa
        self.layout: dict[str, np.ndarray] = {}
        self.values: dict[str, np.ndarray] = {}

    def set_layout(self, side: str, sensors_mm: np.ndarray) -> None:
        self.layout[side] = np.asarray(sensors_mm, dtype=float)

    def set_frame(self, side: str, kpa: np.ndarray | None) -> None:
        if kpa is not None:
            self.values[side] = np.asarray(kpa, dtype=float)

    def draw(self, surface, colors, box: pygame.Rect | None = None) -> None:
        """Each insole as a foot outline (heel down, toes up) with its sensors as discs, in ``box``
        (default: the view's own box)."""
        from ui.pictures import _foot

        box = box or self.box
        half = box.width // 2
        for i, side in enumerate(("left", "right")):
            pos = self.layout.get(side)
            if pos is None or len(pos) == 0:
                continue
            area = pygame.Rect(box.left + i * half, box.top, half, box.height).inflate(-16, -16)
            xs, ys = pos[:, 0], pos[:, 1]
            # The outline runs a little past the outermost sensors (heel pad, toe tips).
            y0, y1 = float(ys.min()) - 30.0, float(ys.max()) + 30.0
            length_mm = y1 - y0
            scale = min(area.height / length_mm, area.width / max(float(xs.max() - xs.min()) + 80.0, 1.0))
            cx, mx = area.centerx, float((xs.max() + xs.min()) / 2)
            heel = (cx, area.centery + length_mm * scale / 2)
            _foot(surface, colors.left if side == "left" else colors.right, heel, length_mm * scale, width=3)
            # Discs no larger than half the distance to the nearest other sensor: they never overlap.
            d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
            np.fill_diagonal(d, np.inf)
            r = max(4, int(min(12.0, 0.45 * float(d.min())) * scale))
            vals = self.values.get(side)
            for k, (x, y) in enumerate(pos):
                p = (int(cx + (x - mx) * scale), int(heel[1] - (y - y0) * scale))
                v = 0.0 if vals is None or k >= len(vals) else vals[k]
                if v < self.floor_kpa:
                    pygame.draw.circle(surface, colors.muted, p, r, 2)
                else:
                    pygame.draw.circle(surface, self.scale.color(v), p, r)
