"""Both feet as a pressure heat map at the mat's true geometry.

The mat frame ``frame[r, c]`` has row 0 at the rear (DESIGN 3); the patient
faces the screen, so rows are flipped to draw forward as up, and column 0
(the patient's left) is on the screen's left: the picture is what the
patient would see looking down at their feet. Sensels keep their physical
aspect (row and column pitch may differ): the map is scaled uniformly to fit
its box and centred.

Colour: viridis from 0 to ``max_kpa``; unloaded sensels (below
``floor_kpa``) are the background, so the feet stand out as shapes, not only
as colours; a lone loaded sensel with no loaded neighbour (a stuck sensor) is
left out of the picture. Everything else drawn on top is in mat millimetres: the centre
of pressure and its trail, targets and zones, the base of support.
"""

from __future__ import annotations

import numpy as np
import pygame

from ui.theme import viridis_lut


def _neighbours(mask: np.ndarray) -> np.ndarray:
    """How many of each cell's 8 neighbours are set."""
    p = np.pad(mask.astype(np.uint8), 1)
    r, c = mask.shape
    return sum(p[1 + dr:1 + dr + r, 1 + dc:1 + dc + c] for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)


class MatView:
    """Draws one mat's frames into a box, and maps mat mm <-> screen pixels."""

    def __init__(self, rows: int, cols: int, pitch_mm: tuple[float, float], box: pygame.Rect,
                 background=(12, 14, 20), max_kpa: float = 300.0, floor_kpa: float = 10.0, despeckle: bool = True):
        self.rows, self.cols = int(rows), int(cols)
        self.pitch = (float(pitch_mm[0]), float(pitch_mm[1]))  # (row, column) mm
        self.size_mm = (self.cols * self.pitch[1], self.rows * self.pitch[0])  # (x extent, y extent)
        scale = min(box.width / self.size_mm[0], box.height / self.size_mm[1])
        self.px_per_mm = scale
        w, h = int(self.size_mm[0] * scale), int(self.size_mm[1] * scale)
        self.rect = pygame.Rect(0, 0, w, h)
        self.rect.center = box.center
        self.max_kpa, self.floor_kpa = float(max_kpa), float(floor_kpa)
        lut = np.array(viridis_lut(), dtype=np.uint8)
        lut[0] = background  # index 0 is "unloaded": the background colour
        self._lut = lut
        self._small = pygame.Surface((self.cols, self.rows))
        self._scaled = pygame.Surface(self.rect.size)
        self._have_frame = False
        self.background = background
        # A loaded sensel with no loaded neighbour is not a foot (a stuck sensor, a speck of
        # noise): the patient's picture leaves it out. Analysis and recordings are untouched.
        self.despeckle = despeckle

    # -- geometry -----------------------------------------------------------------------
    def to_px(self, x_mm: float, y_mm: float) -> tuple[int, int]:
        """Mat mm (x right, y forward) to a screen pixel (y forward is up)."""
        return (int(self.rect.left + x_mm * self.px_per_mm),
                int(self.rect.bottom - y_mm * self.px_per_mm))

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
        # 1..255 for loaded sensels, 0 below the floor.
        idx = np.clip(kpa * (254.0 / self.max_kpa) + 1.0, 1.0, 255.0).astype(np.uint8)
        loaded = kpa >= self.floor_kpa
        idx[~loaded] = 0
        if self.despeckle:
            idx[loaded & (_neighbours(loaded) == 0)] = 0
        rgb = self._lut[idx[::-1].T]  # (cols, rows, 3): surfarray is x-major; rows flipped: forward up
        pygame.surfarray.blit_array(self._small, rgb)
        pygame.transform.scale(self._small, self.rect.size, self._scaled)
        self._have_frame = True

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
            self._draw_target(surface, colors, t)
        if len(trail) >= 2:
            pts = [self.to_px(x, y) for x, y in trail]
            pygame.draw.lines(surface, colors.text, False, pts, 2)
        if cop_mm is not None:
            p = self.to_px(*cop_mm)
            r = max(8, self.length_px(9))
            pygame.draw.circle(surface, colors.background, p, r + 3)
            pygame.draw.circle(surface, colors.accent, p, r)

    def _draw_zone(self, surface, colors, zone) -> None:
        if "radius_mm" in zone:
            c = self.to_px(zone["x_mm"], zone["y_mm"])
            pygame.draw.circle(surface, colors.good, c, self.length_px(zone["radius_mm"]), 3)
        else:
            (x0, y0), (x1, y1) = self.to_px(zone["x0_mm"], zone["y1_mm"]), self.to_px(zone["x1_mm"], zone["y0_mm"])
            pygame.draw.rect(surface, colors.good, pygame.Rect(x0, y0, max(2, x1 - x0), max(2, y1 - y0)), 3)

    def _draw_target(self, surface, colors, t) -> None:
        c = self.to_px(t["x_mm"], t["y_mm"])
        r = self.length_px(t.get("radius_mm", 15.0))
        state = t.get("state", "next")
        if state == "active":
            pygame.draw.circle(surface, colors.target, c, r)
            pygame.draw.circle(surface, colors.dark_text, c, max(3, r // 3))
        elif state == "done":
            pygame.draw.circle(surface, colors.good, c, r, 4)
            # a tick, so "done" does not rely on colour alone
            pygame.draw.lines(surface, colors.good, False,
                              [(c[0] - r // 2, c[1]), (c[0] - r // 8, c[1] + r // 2), (c[0] + r // 2, c[1] - r // 2)], 4)
        elif state == "missed":
            pygame.draw.circle(surface, colors.muted, c, r, 2)
        else:
            pygame.draw.circle(surface, colors.target, c, r, 3)


class InsoleView:
    """Two insoles side by side: each sensor a disc coloured by its pressure."""

    def __init__(self, box: pygame.Rect, max_kpa: float = 300.0, floor_kpa: float = 5.0):
        self.box = box
        self.max_kpa, self.floor_kpa = max_kpa, floor_kpa
        self._lut = np.array(viridis_lut(), dtype=np.uint8)
        self.layout: dict[str, np.ndarray] = {}
        self.values: dict[str, np.ndarray] = {}

    def set_layout(self, side: str, sensors_mm: np.ndarray) -> None:
        self.layout[side] = np.asarray(sensors_mm, dtype=float)

    def set_frame(self, side: str, kpa: np.ndarray | None) -> None:
        if kpa is not None:
            self.values[side] = np.asarray(kpa, dtype=float)

    def draw(self, surface, colors) -> None:
        """Each insole as a foot outline (heel down, toes up) with its sensors as discs."""
        from ui.pictures import _foot

        half = self.box.width // 2
        for i, side in enumerate(("left", "right")):
            pos = self.layout.get(side)
            if pos is None or len(pos) == 0:
                continue
            area = pygame.Rect(self.box.left + i * half, self.box.top, half, self.box.height).inflate(-16, -16)
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
                    color = tuple(int(a) for a in self._lut[int(min(255, v / self.max_kpa * 255))])
                    pygame.draw.circle(surface, color, p, r)
