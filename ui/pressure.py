"""The pressure colour scale, the smooth pressure image and its legend.

Every pressure picture (the live mat, the insoles, the therapist's plots) colours kPa through one
:class:`PressureScale`, so a legend drawn from the same scale is true by construction.

Colour: viridis (van der Walt & Smith 2015): perceptually uniform (CIE L* climbs in equal steps)
and readable with every common colour-vision deficiency and in grey. Its darkest quarter is left
out (``low``): a lightly loaded sensel in dark purple is nearly invisible on the screen's
near-black background (contrast < 2.5:1), and the foot's outline is what a patient reads first.
The lowest load shown is at least 3:1 against the background (WCAG 2.1's minimum for graphics,
tested). A ``gamma`` below 1 spreads the low loads over more of the scale (a standing patient
loads the forefoot at a fraction of the heel's peak); the patient screens use 0.6, a therapist's
plot may use 1 (linear in kPa). Loads under ``floor_kpa`` are "unloaded": the background.

Smooth image: the commercial pressure systems draw an interpolated pressure field rather than
square sensels. :class:`Upsampler` interpolates the kPa frame (Keys' cubic convolution, a = -0.5:
Keys 1981, "Cubic convolution interpolation for digital image processing") to a few samples per
sensel, one axis after the other, so the floor becomes a smooth outline; the coloured
image is then scaled the rest of the way with ``smoothscale``. Interpolating kPa (not colours)
keeps every drawn colour on the scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pygame

from ui.text import blit_text
from ui.theme import viridis_lut

LEVELS = 4096  # kPa steps from 0 to the scale's maximum (0.07 kPa at 300 kPa)


@dataclass(frozen=True)
class PressureScale:
    """kPa -> a place on the colour bar (0..1) -> a colour; 0 kPa to ``max_kpa``."""

    max_kpa: float = 300.0
    floor_kpa: float = 10.0
    gamma: float = 0.6
    low: float = 0.3  # where on viridis the lowest load starts (0 = its darkest end)
    lut: np.ndarray = field(init=False, repr=False, compare=False)
    _table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not (self.max_kpa > self.floor_kpa >= 0 and self.gamma > 0 and 0 <= self.low < 1):
            raise ValueError(f"pressure scale needs max_kpa > floor_kpa >= 0, gamma > 0, 0 <= low < 1: {self}")
        # Index 0 is "unloaded" (the caller's background); 1..255 run up the visible part of viridis.
        lut = np.zeros((256, 3), np.uint8)
        lut[1:] = np.array(viridis_lut(255, self.low, 1.0), np.uint8)
        object.__setattr__(self, "lut", lut)
        # kPa quantised to LEVELS steps over 0..max_kpa, then one table look-up gives the index:
        # far faster per frame than evaluating the power law on every pixel (``table``: ui.heat's kernel).
        levels = np.arange(LEVELS + 1, dtype=np.float64) * (self.max_kpa / LEVELS)
        table = (self.fraction(levels) * 254.0 + 1.5).astype(np.uint8)
        table[levels < self.floor_kpa] = 0
        object.__setattr__(self, "_table", table)

    @property
    def table(self) -> np.ndarray:
        """Colour index of each quantised load (``LEVELS`` + 1 steps from 0 to ``max_kpa``)."""
        return self._table

    def fraction(self, kpa):
        """Place on the colour bar, 0 (the floor) .. 1 (``max_kpa`` and above)."""
        x = (np.asarray(kpa, np.float64) - self.floor_kpa) / (self.max_kpa - self.floor_kpa)
        return np.clip(x, 0.0, 1.0) ** self.gamma

    def kpa_at(self, fraction: float) -> float:
        """The load at a place on the colour bar (the inverse of :meth:`fraction`)."""
        return self.floor_kpa + (self.max_kpa - self.floor_kpa) * float(fraction) ** (1.0 / self.gamma)

    def indices(self, kpa: np.ndarray) -> np.ndarray:
        """uint8 indices into :attr:`lut`: 0 below the floor, 1..255 up the scale."""
        q = np.asarray(kpa, np.float32) * np.float32(LEVELS / self.max_kpa) + np.float32(0.5)  # nearest level
        np.clip(q, 0, LEVELS, out=q)
        return np.take(self._table, q.astype(np.uint16))

    def color(self, kpa: float, background=(0, 0, 0)) -> tuple[int, int, int]:
        i = int(self.indices(np.array([kpa]))[0])
        return tuple(background[:3]) if i == 0 else tuple(int(v) for v in self.lut[i])


def cubic_taps(n_in: int, n_out: int, a: float = -0.5) -> tuple[np.ndarray, np.ndarray]:
    """The four input samples (indices, edges clamped) and their weights for each of ``n_out``
    output samples spread evenly over ``n_in`` input cells: two (4, n_out) arrays."""
    u = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5  # output centres in input index units
    base = np.floor(u).astype(int)
    t = u - base
    idx, w = [], []
    for o in (-1, 0, 1, 2):
        x = np.abs(t - o)
        w.append(np.where(x <= 1, (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1,
                          np.where(x < 2, a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a, 0.0)))
        idx.append(np.clip(base + o, 0, n_in - 1))
    return np.array(idx, np.intp), np.array(w, np.float32)


class Upsampler:
    """A (rows, cols) frame to (rows * k_r, cols * k_c) (or ``shape``: any number of samples spread
    evenly over the frame) by separable cubic interpolation.

    Four gathers and multiply-adds per axis in numpy: no matrix product, so no BLAS thread
    pool (on the 2-core unit its threads fought the reader and analysis threads, and frames
    took 20-80 ms instead of 1-2).
    """

    def __init__(self, rows: int, cols: int, k_rows: int, k_cols: int, shape: tuple[int, int] | None = None):
        self.shape = tuple(shape) if shape is not None else (rows * k_rows, cols * k_cols)
        self._ri, self._rw = cubic_taps(rows, self.shape[0])
        self._ci, self._cw = cubic_taps(cols, self.shape[1])
        self._rw = self._rw[:, :, None]  # broadcast over columns

    def taps(self, columns: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The row (or column) taps: (4, n_out) input indices and their float32 weights."""
        return (self._ci, self._cw) if columns else (self._ri, self._rw[:, :, 0])

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        f = np.asarray(frame, np.float32)
        ri, rw, ci, cw = self._ri, self._rw, self._ci, self._cw
        tall = f[ri[0]] * rw[0] + f[ri[1]] * rw[1] + f[ri[2]] * rw[2] + f[ri[3]] * rw[3]
        out = tall[:, ci[0]] * cw[0] + tall[:, ci[1]] * cw[1] + tall[:, ci[2]] * cw[2] + tall[:, ci[3]] * cw[3]
        np.maximum(out, 0.0, out=out)  # cubic overshoot below zero load is not a load
        return out


def steps_per_sensel(px_per_sensel: float) -> int:
    """How many interpolated samples per sensel before the final smooth scaling: about one per
    3.5 px on the glass (finer costs time and shows nothing more), at least 2 where a sensel is
    big enough to be seen as a square (3 px), at most 6."""
    least = 2 if px_per_sensel >= 3.0 else 1
    return int(max(least, min(6, round(px_per_sensel / 3.5))))


@dataclass(frozen=True)
class Legend:
    """What :func:`draw_legend` drew: the colour bar, each labelled load's height, the area used."""

    bar: pygame.Rect
    ticks: dict  # kPa -> y (px) of its label and tick mark
    area: pygame.Rect


def draw_legend(surface, ui, rect: pygame.Rect, scale: PressureScale, ticks=None, unit: str = "kPa") -> Legend:
    """A vertical colour bar in ``rect`` (low at the bottom) with its loads written beside it.

    For the therapist screens (the patient screens show no numbers on the map). ``ticks``: the
    loads to label (default: the floor, 50, 100, 200... up to the maximum); each label sits at
    the height of its own colour, and a label that would overlap the one above is left out.
    """
    c = ui.theme.colors
    small = ui.text_px("small")
    label_w = ui.fonts.font(small).size(f"{scale.max_kpa:.0f} {unit}")[0]
    bar = pygame.Rect(rect.left, rect.top + small // 2, max(4, min(rect.width - label_w - small // 2, ui.mm(6))),
                      rect.height - small)
    for y in range(bar.height):
        f = 1.0 - y / max(1, bar.height - 1)
        color = scale.lut[int(f * 254.0 + 1.5)]
        pygame.draw.line(surface, color, (bar.left, bar.top + y), (bar.right - 1, bar.top + y))
    pygame.draw.rect(surface, c.muted, bar.inflate(2, 2), 1)  # around the colours, not on them
    if ticks is None:
        ticks = [scale.floor_kpa] + [v for v in (50, 100, 200, 300, 400, 600, 800) if scale.floor_kpa < v <= scale.max_kpa]
    used = bar.copy()
    shown = {}
    last_y = None
    for kpa in sorted(ticks, reverse=True):
        y = int(bar.bottom - 1 - float(scale.fraction(kpa)) * (bar.height - 1))
        if last_y is not None and abs(y - last_y) < small:
            continue  # labels never overlap: a crowded one is left out
        last_y = y
        shown[kpa] = y
        pygame.draw.line(surface, c.text, (bar.right, y), (bar.right + small // 3, y), 2)
        r = blit_text(surface, ui.fonts, f"{kpa:.0f} {unit}", small, c.text, (bar.right + small // 2, y), "midleft")
        used.union_ip(r)
    return Legend(bar, shown, used)
