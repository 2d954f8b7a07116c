"""Per-frame analysis of a pressure insole (public wrapper).

``InsoleAnalyzer(sensors_mm, area_mm2)`` is built once per insole from its
sensor layout: ``sensors_mm`` (N, 2) sensor centres in the insole's own frame
(DESIGN 3: origin at the heel centre, y toward the toes, x to the patient's
right) and ``area_mm2`` one area for all sensors or one per sensor.
``.analyze(frame)`` takes a float32 C-contiguous (N,) kPa array and returns an
:class:`InsoleResult`: force (N = sum(kPa * mm^2) * 1e-3, float64 sums), COP in
the insole frame (None under ``min_force_n``), peak pressure, and
rearfoot/midfoot/forefoot loads.

Regions: a sensor belongs to the region its centre falls in along y, as a
fraction of the insole length from the heel end: rearfoot [0, 0.27), midfoot
[0.27, 0.55), forefoot [0.55, 1] (the same cut-offs as the mat, DESIGN 4.2).
By default the heel end is the rearmost sensor centre and the length the span
of sensor centres in y; pass ``heel_y_mm`` and ``length_mm`` when the insole's
outline is known (e.g. heel edge at -40 mm, length 260 mm).

NaN, infinite and negative values count as 0 and are counted in the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels.errors import FrameError, ParameterError
from kernels.frame import REGION_CUTS


@dataclass(slots=True)
class InsoleResult:
    """One insole frame. Treat as read-only."""

    force_n: float
    cop_mm: tuple[float, float] | None  # insole frame; None when force_n < min_force_n
    regions_n: tuple[float, float, float]  # (rearfoot, midfoot, forefoot) N
    peak_kpa: float
    invalid_sensors: int  # NaN or infinite values, treated as 0
    negative_sensors: int  # negative values, treated as 0


@dataclass(frozen=True, slots=True)
class InsoleGeometry:
    """The validated layout an insole kernel works from (float64, C-contiguous)."""

    x_mm: np.ndarray  # (N,)
    y_mm: np.ndarray  # (N,)
    area_mm2: np.ndarray  # (N,)
    region: np.ndarray  # (N,) int32: 0 rearfoot, 1 midfoot, 2 forefoot
    threshold_kpa: float
    min_force_n: float

    @property
    def n(self) -> int:
        return self.x_mm.size


def insole_geometry(sensors_mm, area_mm2, threshold_kpa=0.0, min_force_n=10.0,
                    heel_y_mm=None, length_mm=None) -> InsoleGeometry:
    """Validate an insole layout and assign each sensor its region."""
    pos = np.asarray(sensors_mm, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] < 1:
        raise ParameterError(f"sensors_mm must be an (N, 2) array of x, y in mm, got shape {pos.shape}")
    if not np.isfinite(pos).all():
        raise ParameterError("sensors_mm holds NaN or infinite positions; fix the insole layout file")
    n = pos.shape[0]
    area = np.asarray(area_mm2, dtype=np.float64)
    if area.ndim == 0:
        area = np.full(n, float(area))
    if area.shape != (n,):
        raise ParameterError(f"area_mm2 must be one number or {n} numbers (one per sensor), got shape {area.shape}")
    if not (np.isfinite(area).all() and (area > 0).all()):
        raise ParameterError("every sensor area must be a positive number of mm^2")
    if not (math.isfinite(threshold_kpa) and threshold_kpa >= 0):
        raise ParameterError(f"threshold_kpa must be >= 0, got {threshold_kpa!r}")
    if not (math.isfinite(min_force_n) and min_force_n >= 0):
        raise ParameterError(f"min_force_n must be >= 0, got {min_force_n!r}")
    y = pos[:, 1]
    heel = float(y.min()) if heel_y_mm is None else float(heel_y_mm)
    length = float(y.max()) - heel if length_mm is None else float(length_mm)
    if not (math.isfinite(length) and length > 0):
        raise ParameterError(
            "cannot place regions: the sensors span no length in y; pass length_mm (and heel_y_mm)"
        )
    frac = (y - heel) / length
    region = np.where(frac < REGION_CUTS[0], 0, np.where(frac < REGION_CUTS[1], 1, 2)).astype(np.int32)
    return InsoleGeometry(np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(y), area, region,
                          float(threshold_kpa), float(min_force_n))


def check_insole_frame(frame: object, n: int) -> np.ndarray:
    """Return ``frame`` if it is a float32 C-contiguous (n,) array, else raise FrameError."""
    if not isinstance(frame, np.ndarray):
        raise FrameError(f"an insole frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.float32:
        raise FrameError(f"an insole frame must be float32 kPa, got dtype {frame.dtype}; "
                         "convert once in calibration (frame.astype(np.float32))")
    if frame.shape != (n,):
        raise FrameError(f"an insole frame must have shape ({n},) for this insole layout, got {frame.shape}")
    if not frame.flags.c_contiguous:
        raise FrameError("an insole frame must be contiguous; use np.ascontiguousarray(frame)")
    return frame


class InsoleAnalyzer:
    """Force, COP and region loads of one insole, frame by frame (stateless)."""

    def __init__(self, sensors_mm, area_mm2, *, threshold_kpa: float = 0.0,
                 min_force_n: float = 10.0, heel_y_mm: float | None = None,
                 length_mm: float | None = None, implementation: str | None = None):
        self.geometry = insole_geometry(sensors_mm, area_mm2, threshold_kpa, min_force_n,
                                        heel_y_mm, length_mm)
        from kernels import _backend

        module = _backend.frame_module(implementation)
        self.implementation = "compiled" if module.__name__.endswith("_frame") else "reference"
        self._kernel = module.InsoleKernel(self.geometry)
        self.analyze = self._kernel.analyze  # no extra Python frame per sample

    def analyze(self, frame: np.ndarray) -> InsoleResult:  # replaced per instance in __init__
        """Analyse one float32 (N,) kPa frame; see the module docstring."""
        return self._kernel.analyze(frame)

    @property
    def regions(self) -> np.ndarray:
        """Region of each sensor (0 rearfoot, 1 midfoot, 2 forefoot)."""
        return self.geometry.region.copy()
