"""Online sway accumulators for live feedback (public wrapper).

``SwayAccumulator(rate_hz)``: ``add(x_mm, y_mm)`` per COP sample in O(1) time
and memory, ``summary(ellipse_k=None)`` for the running path length, mean
velocities, ranges, RMS distance and (given the Chew scale from
:func:`kernels.sway.prediction_ellipse_k`) the 95 % prediction-ellipse area.
Definitions are those of the whole-recording sway set (``docs/metrics.md``)
and agree with :func:`kernels.sway.sway_metrics` to rounding; see
:mod:`kernels.online_reference` for the arithmetic.

The compiled ``kernels._online`` is used when built; otherwise (or with
``GAITKIOSK_PURE=1``) the pure-Python reference, with a warning when the
extension is missing. ``IMPLEMENTATION`` says which one runs.
"""

from __future__ import annotations

from kernels import _backend, online_reference
from kernels.sway import prediction_ellipse_k

_compiled = _backend.compiled("_online")  # None when forced pure or not built (warns once)
if _compiled is not None:
    SwayAccumulator = _compiled.SwayAccumulator
    IMPLEMENTATION = "compiled"
else:
    SwayAccumulator = online_reference.SwayAccumulator
    IMPLEMENTATION = "reference"

__all__ = ["SwayAccumulator", "IMPLEMENTATION", "prediction_ellipse_k"]
