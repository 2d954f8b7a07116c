"""counts -> kPa for every live frame (public wrapper of ``calibration._apply``).

    to_kpa = model.converter()        # or CountsToKpa(model)
    kpa = to_kpa(raw_frame.counts)    # float32, the frame's shape

The curve is tabulated once per model (``TABLE_SIZE`` points from 0 to the
largest normalised count the ADC can produce) so a frame costs one multiply,
one table look-up and one interpolation per sensel. The table reproduces the
curve to better than 0.05 % of full scale (tested). The compiled kernel runs
when built; otherwise, or with ``GAITKIOSK_PURE=1``, the numpy reference
(calibration/apply_reference.py) with one warning; ``IMPLEMENTATION`` says which.
"""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np

from calibration import apply_reference
from calibration.errors import WrongDeviceError

TABLE_SIZE = 8192


def _compiled():
    if os.environ.get("GAITKIOSK_PURE") == "1":
        return None
    try:
        return importlib.import_module("calibration._apply")
    except ImportError as exc:
        warnings.warn(
            f"calibration._apply is not built ({exc}); using the numpy reference, which is correct but "
            "slower. Build it with: python setup.py build_ext --inplace",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


_module = _compiled()
IMPLEMENTATION = "compiled" if _module is not None else "reference"


def neighbours(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fill_idx, nb_ptr, nb_idx): each masked sensel's live 8-neighbours (flat indices, int32).

    1-D sensors (insoles) have no neighbours: their masked sensors read 0.
    """
    flat_mask = mask.ravel() != 0
    fill = np.flatnonzero(flat_mask).astype(np.int32)
    ptr = [0]
    idx: list[int] = []
    if mask.ndim == 2:
        rows, cols = mask.shape
        for s in fill:
            r, c = divmod(int(s), cols)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < rows and 0 <= cc < cols and not flat_mask[rr * cols + cc]:
                        idx.append(rr * cols + cc)
            ptr.append(len(idx))
    else:
        ptr.extend([0] * len(fill))
    return fill, np.asarray(ptr, dtype=np.int32), np.asarray(idx, dtype=np.int32)


class CountsToKpa:
    """A prepared counts -> kPa converter for one :class:`~calibration.model.CalibrationModel`."""

    def __init__(self, model, implementation: str | None = None):
        if implementation not in (None, "compiled", "reference"):
            raise ValueError(f"implementation must be 'compiled' or 'reference', got {implementation!r}")
        if implementation == "compiled":
            module = importlib.import_module("calibration._apply")
        elif implementation == "reference":
            module = apply_reference
        else:
            module = _module or apply_reference
        self.implementation = "reference" if module is apply_reference else "compiled"
        self.device_serial = model.device_serial
        self.shape = model.shape
        live = model.mask == 0
        gain = np.where(live, model.gain, np.float32(1.0)).astype(np.float32)
        self.offset = np.ascontiguousarray(model.offset, dtype=np.float32).ravel()
        self.inv_gain = np.ascontiguousarray(np.where(live, 1.0 / gain, 0.0), dtype=np.float32).ravel()
        self.floor = np.ascontiguousarray(np.where(live, model.floor(), np.inf), dtype=np.float32).ravel()
        # the largest n any live sensel can reach: full-scale counts over its gain
        n_top = float(model.max_counts / max(float(gain[live].min(initial=1.0)), 1e-3)) * 1.01
        self.n_top = n_top
        grid = np.linspace(0.0, n_top, TABLE_SIZE)
        self.table = np.ascontiguousarray(model.scale * model.curve(grid), dtype=np.float32)
        self.inv_step = (TABLE_SIZE - 1) / n_top
        self.fill_idx, self.nb_ptr, self.nb_idx = neighbours(model.mask)
        self._run = module.Kernel(self.offset, self.inv_gain, self.floor, self.table, self.inv_step,
                                  self.fill_idx, self.nb_ptr, self.nb_idx).run

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """kPa (float32, the sensor's shape) of one frame of uint16 counts."""
        if (counts.__class__ is not np.ndarray or counts.dtype != np.uint16 or counts.shape != self.shape
                or not counts.flags.c_contiguous):
            counts = self._coerce(counts)
        out = np.empty(self.shape, dtype=np.float32)
        self._run(counts.reshape(-1), out.reshape(-1))
        return out

    def _coerce(self, counts) -> np.ndarray:
        c = np.asarray(counts)
        if c.shape != self.shape:
            raise WrongDeviceError(
                f"a frame of shape {c.shape} does not fit the calibration of {self.device_serial} "
                f"({self.shape}); calibrate this device")
        if c.dtype != np.uint16:
            if not np.issubdtype(c.dtype, np.integer):
                raise TypeError(f"counts must be integers (uint16), got {c.dtype}")
            c = np.clip(c, 0, 65535).astype(np.uint16)
        return np.ascontiguousarray(c)

    def many(self, counts: np.ndarray) -> np.ndarray:
        """kPa of a stack of frames (T, *shape)."""
        counts = np.asarray(counts)
        out = np.empty(counts.shape, dtype=np.float32)
        for k in range(counts.shape[0]):
            out[k] = self(counts[k])
        return out
