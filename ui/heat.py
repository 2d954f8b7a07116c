"""A mat frame (kPa) to the live heat map's colour indices: forward up, specks left out, smoothed,
coloured (public wrapper of the compiled ``ui._heat``).

The live screen does this for every frame it shows, 60 times a second. The numpy reference
(:func:`indices_reference`, the specification) makes about twenty temporary arrays a frame and was a
third of the drill screen's CPU (bench/bench_kiosk_cpu.py); the compiled kernel does the same
float32 arithmetic in the same order in one pass, so its indices are the reference's exactly
(tests/test_ui_heat.py). When it is not built, or with ``GAITKIOSK_PURE=1``, the reference runs.
"""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np

from ui.pressure import LEVELS, PressureScale, Upsampler, cubic_taps


def _compiled():
    if os.environ.get("GAITKIOSK_PURE") == "1":
        return None
    try:
        return importlib.import_module("ui._heat")
    except ImportError as exc:
        warnings.warn(f"ui._heat is not built ({exc}); the heat map uses the numpy reference, which is "
                      "correct but slower. Build it with: python setup.py build_ext --inplace", RuntimeWarning,
                      stacklevel=2)
        return None


_module = _compiled()
IMPLEMENTATION = "compiled" if _module is not None else "reference"


def neighbours(mask: np.ndarray) -> np.ndarray:
    """How many of each cell's 8 neighbours are set."""
    p = np.pad(mask.astype(np.uint8), 1)
    r, c = mask.shape
    return sum(p[1 + dr:1 + dr + r, 1 + dc:1 + dc + c] for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)


def indices_reference(kpa: np.ndarray, scale: PressureScale, up: Upsampler | None, despeckle: bool) -> np.ndarray:
    """The specification: colour indices (out rows, out cols) of a (rows, cols) kPa frame whose row 0
    is at the rear. Rows flipped (forward up); a loaded sensel with no loaded neighbour set to 0 (a
    stuck sensor is not a foot); interpolated by ``up``; quantised to :attr:`PressureScale.lut` indices."""
    kpa = np.asarray(kpa, np.float32)[::-1]
    if despeckle:
        loaded = kpa >= scale.floor_kpa
        lone = loaded & (neighbours(loaded) == 0)
        if lone.any():
            kpa = np.where(lone, 0.0, kpa)
    if up is not None:
        kpa = up(kpa)
    return scale.indices(kpa)


def _faint(scale: PressureScale, rw: np.ndarray, cw: np.ndarray) -> tuple[float, float]:
    """Loads so faint that they cannot be coloured: (after the rows' pass, before it). Four inputs of
    an output under the first, weighted by any output's column weights, stay below the first load the
    colour table colours (with room for float32 rounding); four rows under the second make a row
    whose values are all under the first. Such outputs are index 0 without being computed."""
    coloured = np.flatnonzero(scale.table)
    if not len(coloured):
        return float("inf"), float("inf")  # nothing is ever coloured
    first = (coloured[0] - 0.5) / np.float32(LEVELS / scale.max_kpa)  # the smallest kPa that rounds to it
    faint = first / float(np.abs(np.asarray(cw, np.float64)).sum(axis=0).max()) * (1.0 - 1e-4)
    return float(faint), float(faint / float(np.abs(np.asarray(rw, np.float64)).sum(axis=0).max()) * (1.0 - 1e-4))


class HeatIndexer:
    """Colour indices of one mat's frames for one picture size; ``implementation`` says which face runs."""

    def __init__(self, rows: int, cols: int, scale: PressureScale, up: Upsampler | None, despeckle: bool = True,
                 implementation: str | None = None):
        if implementation not in (None, "compiled", "reference"):
            raise ValueError(f"implementation must be 'compiled' or 'reference', got {implementation!r}")
        module = importlib.import_module("ui._heat") if implementation == "compiled" else \
            None if implementation == "reference" else _module
        self.rows, self.cols, self.scale, self.up, self.despeckle = rows, cols, scale, up, despeckle
        self.shape = up.shape if up is not None else (rows, cols)
        self.implementation = "compiled" if module is not None else "reference"
        self._kernel = None
        if module is not None:
            if up is not None:
                ri, rw = up.taps()
                ci, cw = up.taps(columns=True)
            else:  # no interpolation: each output sample is its sensel (weights 0, 1, 0, 0: exact)
                ri, rw = cubic_taps(rows, rows)
                ci, cw = cubic_taps(cols, cols)
                ri[:], rw[:] = np.arange(rows), np.array([[0.0], [1.0], [0.0], [0.0]], np.float32)
                ci[:], cw[:] = np.arange(cols), np.array([[0.0], [1.0], [0.0], [0.0]], np.float32)
            self._kernel = module.Kernel(
                np.ascontiguousarray(ri, np.intp), np.ascontiguousarray(rw, np.float32),
                np.ascontiguousarray(ci, np.intp), np.ascontiguousarray(cw, np.float32),
                np.ascontiguousarray(scale.table, np.uint8), float(np.float32(scale.floor_kpa)),
                float(np.float32(LEVELS / scale.max_kpa)), LEVELS, despeckle,
                np.zeros((rows, cols), np.float32), np.zeros((rows, cols), np.uint8),
                np.zeros((self.shape[0], cols), np.float32), *_faint(scale, rw, cw), np.zeros(rows, np.uint8))
            self._out = np.zeros((self.shape[1], self.shape[0]), np.uint8)

    def xmajor(self, kpa: np.ndarray) -> np.ndarray:
        """The indices of one frame, x-major ((out cols, out rows), as ``pygame.surfarray`` takes them).
        The compiled face returns the same buffer each time: use it before the next call."""
        if self._kernel is None:
            return indices_reference(kpa, self.scale, self.up, self.despeckle).T
        self._kernel.run(np.ascontiguousarray(kpa, np.float32), self._out)
        return self._out
