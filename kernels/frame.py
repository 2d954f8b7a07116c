"""Per-frame analysis of a pressure mat (public wrapper).

``FrameAnalyzer(rows, cols, pitch_mm=(row_pitch, col_pitch), threshold_kpa=10)``
is built once per mat; ``.analyze(frame)`` is called for every frame (a
float32, C-contiguous ``(rows, cols)`` array of kPa) and returns a
:class:`FrameResult`: total force and centre of pressure, and up to two
:class:`FootResult` (side, force, COP, contact area, peak pressure,
rearfoot/midfoot/forefoot loads, heel point, long axis, a stable ``track_id``).

Conventions (DESIGN 3): row 0 is the rearmost row, column 0 the leftmost; the
centre of sensel ``[r, c]`` is ``x = (c + 0.5) * col_pitch``,
``y = (r + 0.5) * row_pitch``; x runs to the patient's right, y forward; force
N = sum(kPa * mm^2) * 1e-3, summed in float64.

The analyzer keeps state between frames (foot tracks, left/right identity,
each foot's stance footprint); call :meth:`FrameAnalyzer.reset` between
patients or trials. The algorithm is written out step by step in
:mod:`kernels.reference` (the specification and pure-Python fallback) and
for therapists and technicians in ``docs/frame-analysis.md``;
``kernels._frame`` is the compiled twin with the same results.
``kernels.IMPLEMENTATION`` says which one runs. Results are the C-backed
types of the compiled kernel when it is built, else the dataclasses of
:mod:`kernels.results`; both have the same attributes and ``as_dict()``.

Bad values: NaN, infinite and negative pressures are treated as 0 and counted
in ``FrameResult.invalid_sensels`` / ``negative_sensels`` (never turned into a
number). A frame of the wrong type, dtype, shape or layout raises
:class:`~kernels.errors.FrameError` from :func:`check_frame`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels import results
from kernels.errors import FrameError, ParameterError
from kernels.results import FOOT_FIELDS, FRAME_FIELDS, LEFT, RIGHT  # noqa: F401 (re-exported)

#: Region cut-offs along the footprint's long axis from the heel (DESIGN 4.2,
#: the automask cut-offs of Novel/pressuRe): rearfoot [0, 0.27), midfoot
#: [0.27, 0.55), forefoot [0.55, 1].
REGION_CUTS = (0.27, 0.55)
REGION_NAMES = ("rearfoot", "midfoot", "forefoot")


@dataclass(frozen=True, slots=True)
class FrameParams:
    """Geometry and segmentation parameters (defaults suit an adult on an 5-10 mm mat).

    threshold_kpa: sensels below it count as unloaded (noise floor).
    min_force_n: total force below which a frame has no COP (DESIGN 3 contact threshold).
    min_foot_force_n: a new foot needs at least this force; an existing foot is followed
        down to its last sensel.
    fragment_gap_mm: blobs this close (nearest sensel centres less one pitch) may be
        parts of one foot (toes, heel, arch band and forefoot are often apart).
    max_foot_length_mm / max_foot_width_mm: the largest foot: nearby blobs that together fit
        in it (along / across their principal axis) are one foot (toes, heel and forefoot
        are often apart); a blob longer (rows) or wider (columns) than this is split at
        the valley of its row/column sensel count; a part of a foot that grows past it
        (a heel landing just in front of the other foot in tandem walking) is released.
    valley_ratio: the valley must hold at most this share of the smaller peak.
    side_min_dx_mm: two feet are told left/right by x only when their footprint centres
        are at least this far apart sideways (not in tandem stance).
    min_region_length_mm: shorter stance footprints get no region split.
    full_footprint_mm: a stance footprint this long is a whole foot: nothing wholly in
        front of its toes joins it (tandem: the next heel), and its side may be read from
        its arch.
    arch_offset_mm: a foot whose side nothing else tells (walking over a short mat: one
        footfall at a time) gets it from its stance footprint if the midfoot's loaded band
        lies at least this far lateral of the long axis.
    """

    rows: int
    cols: int
    row_pitch_mm: float
    col_pitch_mm: float
    threshold_kpa: float = 10.0
    min_force_n: float = 10.0
    min_foot_force_n: float = 10.0
    fragment_gap_mm: float = 120.0
    max_foot_length_mm: float = 340.0
    max_foot_width_mm: float = 160.0
    valley_ratio: float = 0.5
    side_min_dx_mm: float = 50.0
    min_region_length_mm: float = 100.0
    full_footprint_mm: float = 180.0
    arch_offset_mm: float = 10.0

    def __post_init__(self) -> None:
        for name in ("rows", "cols"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        if self.rows * self.cols > 1 << 24:
            raise ParameterError(f"a {self.rows} x {self.cols} mat is too large (max 16M sensels)")
        for name in ("row_pitch_mm", "col_pitch_mm", "threshold_kpa"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value > 0):
                raise ParameterError(f"{name} must be a positive number, got {value!r}")
        for name in ("min_force_n", "min_foot_force_n", "fragment_gap_mm", "max_foot_length_mm", "max_foot_width_mm",
                     "side_min_dx_mm", "min_region_length_mm", "full_footprint_mm", "arch_offset_mm"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
                raise ParameterError(f"{name} must be a number >= 0, got {value!r}")
        if not (0 < self.valley_ratio < 1):
            raise ParameterError(f"valley_ratio must be between 0 and 1, got {self.valley_ratio!r}")


def check_frame(frame: object, rows: int, cols: int) -> np.ndarray:
    """Return ``frame`` if it is a float32 C-contiguous (rows, cols) array, else raise FrameError.

    No conversion is done on purpose: a silent copy per frame would hide a
    wrong calibration output and cost time in the live loop.
    """
    if not isinstance(frame, np.ndarray):
        raise FrameError(
            f"a mat frame must be a numpy array, got {type(frame).__name__}; "
            "pass the calibrated kPa array (float32, shape (rows, cols))"
        )
    if frame.dtype != np.float32:
        raise FrameError(
            f"a mat frame must be float32 kPa, got dtype {frame.dtype}; "
            "convert once in calibration (frame.astype(np.float32))"
        )
    if frame.shape != (rows, cols):
        raise FrameError(
            f"a mat frame must have shape ({rows}, {cols}) for this analyzer, got {frame.shape}; "
            "build the FrameAnalyzer with the mat's own rows and columns"
        )
    if not frame.flags.c_contiguous:
        raise FrameError(
            "a mat frame must be C-contiguous (row-major); use np.ascontiguousarray(frame) "
            "where the frame is produced"
        )
    return frame


class FrameAnalyzer:
    """Per-frame mat analysis with foot segmentation and left/right tracking.

    Parameters are those of :class:`FrameParams` (``pitch_mm`` is
    ``(row_pitch, col_pitch)`` in mm). ``implementation`` forces
    ``"compiled"`` or ``"reference"``; by default the compiled kernel runs when
    built (see ``kernels.IMPLEMENTATION``).
    """

    def __init__(self, rows: int, cols: int, pitch_mm: tuple[float, float] = (8.47, 8.47),
                 threshold_kpa: float = 10.0, *, implementation: str | None = None, **params):
        try:
            row_pitch, col_pitch = pitch_mm
        except (TypeError, ValueError):
            raise ParameterError(
                f"pitch_mm must be (row_pitch, col_pitch) in mm, got {pitch_mm!r}"
            ) from None
        try:
            self.params = FrameParams(rows, cols, row_pitch, col_pitch, threshold_kpa, **params)
        except TypeError as exc:  # an unknown keyword
            raise ParameterError(f"FrameAnalyzer: {exc}") from None
        from kernels import _backend

        module = _backend.frame_module(implementation)
        self.implementation = "compiled" if module.__name__.endswith("_frame") else "reference"
        self._kernel = module.FrameKernel(self.params)
        # Bind the kernel's method directly: the live loop calls this 100+ times a
        # second and an extra Python frame would be a sizeable share of the cost.
        self.analyze = self._kernel.analyze

    def analyze(self, frame: np.ndarray) -> FrameResult:  # replaced per instance in __init__
        """Analyse one float32 C-contiguous (rows, cols) kPa frame; see the module docstring."""
        return self._kernel.analyze(frame)

    def reset(self) -> None:
        """Forget all tracks and side memory (new patient, new trial)."""
        self._kernel.reset()

    def foot_labels(self) -> np.ndarray:
        """A copy of the last frame's sensel -> ``track_id`` map (int32, 0 = no foot)."""
        return self._kernel.foot_labels()

    def footprint(self, track_id: int) -> np.ndarray | None:
        """A bool copy of the stance footprint of a foot on the mat, or None if it has left."""
        return self._kernel.footprint(track_id)

    @property
    def rows(self) -> int:
        return self.params.rows

    @property
    def cols(self) -> int:
        return self.params.cols


# The result types: the compiled kernel's C-backed twins when it is built (same
# attributes; far cheaper to create at 100+ frames a second), else the dataclasses.
# Bound here, after everything kernels._frame imports from this module exists.
FootResult = results.FootResult
FrameResult = results.FrameResult


def _use_compiled_results() -> None:
    global FootResult, FrameResult
    from kernels import _backend

    module = _backend.compiled("_frame")
    if module is not None:
        FootResult, FrameResult = module.FootResult, module.FrameResult


_use_compiled_results()
